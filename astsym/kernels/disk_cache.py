"""The on-disk cache of compiled kernels and graphs: a new process loads machine code
instead of compiling it again.

Generated source is written once to a module file ``<cache_dir>/numba/k_<hash>.py`` (the
hash covers the source, the Numba options, the astsym and Numba versions and the kernel
library's own source), whose function is decorated with ``numba.njit(..., cache=True)``; Numba
keeps the machine code beside it in ``__pycache__`` and reuses it while the file is unchanged,
so a file is never rewritten. The functions the source calls are bound from ``REGISTRY``,
filled before the module is imported.

Two processes may compile the same entry at once: the module file is written to a temporary
name and renamed into place (the same content either way), and Numba writes its own files
the same way. The folder is kept under ``config.cache_max_mb``: after a new entry, the
least recently used entries go. If the folder cannot be written, kernels are compiled in
memory as before: the cache never fails a function.

    >>> info()["entries"] >= 0
    True
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import warnings
from pathlib import Path

import numba

from astsym.config import config

#: per cache key, the names the module binds (functions and intrinsics the source calls)
REGISTRY: dict[str, dict] = {}
_LIBRARY = ("vecmath.py", "numba_reduce.py", "numba_render.py", "numba_graph.py")
_warned = False


def folder(cache_dir: str | None = None) -> Path:
    return Path(cache_dir or config.cache_dir) / "numba"


def cached_njit(source: str, fname: str, names: dict, **options):
    """``numba.njit(**options)`` of function ``fname`` defined by ``source``, stored on disk;
    None when the cache folder cannot be used (the caller compiles in memory)."""
    key = _key(source, fname, options)
    REGISTRY[key] = names
    try:
        path = _write(key, source, fname, names, options)
        module = _import(key, path)
    except OSError as err:
        _warn_once(err)
        return None
    return getattr(module, fname)


def info(cache_dir: str | None = None) -> dict:
    """The cache folder, its entries, their total size in bytes and the size bound."""
    root = folder(cache_dir)
    entries = sorted(root.glob("k_*.py")) if root.is_dir() else []
    return {
        "folder": str(root),
        "entries": len(entries),
        "bytes": sum(_entry_bytes(p) for p in entries),
        "bound_bytes": int(config.cache_max_mb * 2**20),
    }


def clear(cache_dir: str | None = None) -> tuple[int, int]:
    """Remove every entry (only files the cache wrote); (entries removed, bytes freed)."""
    root = folder(cache_dir)
    if not root.is_dir():
        return 0, 0
    count = freed = 0
    for path in root.glob("k_*.py"):
        freed += _entry_bytes(path)
        _remove(path)
        count += 1
    return count, freed


# -- the parts -----------------------------------------------------------------------------


def _key(source: str, fname: str, options: dict) -> str:
    from astsym import __version__

    digest = hashlib.sha256()
    for part in (source, fname, repr(sorted(options.items())), __version__, numba.__version__):
        digest.update(part.encode() + b"\0")
    digest.update(_library_hash().encode())
    return digest.hexdigest()[:32]


_library: list[str] = []


def _library_hash() -> str:
    """A hash of the kernel library's source: cached code built on an older one is stale."""
    if not _library:
        here = Path(__file__).parent
        text = b"".join((here / name).read_bytes() for name in _LIBRARY)
        _library.append(hashlib.sha256(text).hexdigest())
    return _library[0]


def _write(key: str, source: str, fname: str, names: dict, options: dict) -> Path:
    root = folder()
    path = root / f"k_{key}.py"
    if path.exists():
        _touch(path)  # recently used: kept when the folder is trimmed
        return path
    root.mkdir(parents=True, exist_ok=True)
    header = [
        "# written by astsym's kernel cache: do not edit (a changed file is compiled again)",
        "import numpy as np",
        "import numba",
        "from numba import prange",
        "from astsym.kernels.disk_cache import REGISTRY",
        f"_names = REGISTRY[{key!r}]",
        *[f"{alias} = _names[{alias!r}]" for alias in sorted(names)],
        "",
    ]
    flags = "".join(f"{k}={v!r}, " for k, v in sorted(options.items()))
    footer = f"\n{fname} = numba.njit({flags}cache=True)({fname})\n"
    temporary = root / f".k_{key}.{os.getpid()}.tmp"
    temporary.write_text("\n".join(header) + source + footer)
    os.replace(temporary, path)  # atomic: a reader sees no file or the whole file
    _touch(path)
    _trim(root)
    return path


def _import(key: str, path: Path):
    name = f"astsym_cached_{key}"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[name] = module
    return module


def _touch(path: Path) -> None:
    """Mark an entry used now, on a file of its own: Numba's cached code is valid only while
    the module file keeps its time stamp."""
    path.with_suffix(".used").touch()


def _last_used(path: Path) -> float:
    try:
        return path.with_suffix(".used").stat().st_mtime
    except OSError:
        return 0.0


def _trim(root: Path) -> None:
    """Drop least recently used entries while the folder is over its bound."""
    bound = config.cache_max_mb * 2**20
    entries = [(_last_used(p), p) for p in root.glob("k_*.py")]
    total = sum(_entry_bytes(p) for _, p in entries)
    for _, path in sorted(entries):
        if total <= 0.9 * bound:
            break
        total -= _entry_bytes(path)
        _remove(path)


def _numba_files(path: Path) -> list[Path]:
    cache = path.parent / "__pycache__"
    return list(cache.glob(f"{path.stem}.*")) if cache.is_dir() else []


def _entry_bytes(path: Path) -> int:
    try:
        return path.stat().st_size + sum(f.stat().st_size for f in _numba_files(path))
    except OSError:  # removed by another process meanwhile
        return 0


def _remove(path: Path) -> None:
    for item in [path, path.with_suffix(".used"), *_numba_files(path)]:
        try:
            item.unlink()
        except OSError:
            pass


def _warn_once(err: OSError) -> None:
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(
            f"astsym: the kernel cache folder cannot be used ({err}); compiling in memory",
            stacklevel=3,
        )
