"""The on-disk cache of compiled kernels and graphs: a new process loads machine code
instead of compiling it again.

Generated source is written once to a module file ``<cache_dir>/numba/k_<hash>.py`` whose
function is decorated with ``numba.njit(..., cache=True)``; Numba keeps the machine code
beside it in ``__pycache__`` and reuses it while the file keeps its time stamp, so a file is
never rewritten. The functions the source calls are bound from ``REGISTRY``, filled before
the module is imported. The hash covers the source, the Numba options, the astsym and Numba
versions, and what each name stands for: a kernel compiled by this cache by its own hash (a
graph calling another kernel under the same name is another entry), a library function by
its place in ``astsym.kernels``, whose source is hashed too (Numba does not notice when a
called function changes). A name standing for anything else is compiled in memory.

Two processes may compile the same entry at once: the module file is written to a
temporary name and linked into place (the first one stays), Numba writes its own files
the same way, and its index of compiled signatures is updated under a file lock, so it
never points at another signature's code. The folder is kept under ``config.cache_max_mb``:
after a new entry, the least recently used entries go. If the folder cannot be used,
kernels are compiled in memory as before, and a damaged entry is compiled again: the cache
never fails a function. Its files are imported as code (as Numba's own cache unpickles
its files): the folder must be the user's own.

    >>> info()["entries"] >= 0
    True
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import os
import sys
import threading
import warnings
from pathlib import Path

import numba

from astsym.config import config

try:
    import fcntl
except ImportError:  # Windows: Numba's index may lose an entry to a race, then recompiles
    fcntl = None

#: per cache key, the names the module binds (functions and intrinsics the source calls)
REGISTRY: dict[str, dict] = {}
_PREFIX = "astsym_cached_"  # the module name of an entry: the prefix, then its key
_library: list[str] = []
_warned = False


def folder(cache_dir: str | None = None) -> Path:
    """The folder of compiled entries under ``cache_dir`` (default ``config.cache_dir``)."""
    return Path(cache_dir or config.cache_dir) / "numba"


def cached_njit(source: str, fname: str, names: dict, identity: str = "", **options):
    """``numba.njit(**options)`` of function ``fname`` defined by ``source``, stored on disk;
    None when it cannot be (the caller compiles in memory). ``identity``, hashed into the
    key, may say more about the names than the cache can tell from them.

        >>> f = cached_njit("def kernel(x):\\n    return x + 1\\n", "kernel", {})
        >>> f(1)
        2
    """
    key = _key(source, fname, names, options, identity)
    if key is None:
        return None
    REGISTRY[key] = names
    try:
        return _import(key, _write(key, source, fname, names, options), fname)
    except Exception as err:  # an unwritable folder, Numba finding no place for its files
        _warn_once(err)
        return None


def info(cache_dir: str | None = None) -> dict:
    """The cache folder, its entries, their total size in bytes and the size bound."""
    root = folder(cache_dir)
    return {
        "folder": str(root),
        "entries": len(_modules(root)),
        "bytes": sum(_size(p) for p in _files(root)),
        "bound_bytes": int(config.cache_max_mb * 2**20),
    }


def clear(cache_dir: str | None = None) -> tuple[int, int]:
    """Remove every entry (module files, their use marks, Numba's files), leaving the lock
    file and whatever the cache did not write; (entries removed, bytes freed)."""
    root = folder(cache_dir)
    count, files = len(_modules(root)), _files(root)
    freed = sum(_size(p) for p in files)
    for path in files:
        _unlink(path)
    return count, freed


# -- the key -------------------------------------------------------------------------------


def _astsym_version() -> str:
    """The installed astsym's version (the kernel library's hash covers a source checkout)."""
    try:
        return importlib.metadata.version("astsym")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _key(source: str, fname: str, names: dict, options: dict, identity: str = "") -> str | None:
    bound = [_identity(value) for _, value in sorted(names.items())]
    if None in bound:
        return None
    parts = [source, fname, identity, repr(sorted(options.items()))]
    parts += [_astsym_version(), numba.__version__]
    parts += [f"{alias}={what}" for alias, what in zip(sorted(names), bound)]
    digest = hashlib.sha256(_library_hash().encode())
    for part in parts:
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()[:32]


def _identity(value) -> str | None:
    """What a name stands for, the same in every process: an entry's module (named by its
    hash) or a place in the kernel library; None for anything else."""
    function = getattr(value, "py_func", value)  # a dispatcher's Python function
    module = getattr(function, "__module__", None) or ""
    if module.startswith(_PREFIX) or module.startswith("astsym.kernels."):
        return f"{module}.{getattr(function, '__qualname__', '?')}"
    return None


def _library_hash() -> str:
    """A hash of the kernel library's source: code built on an older one is stale."""
    if not _library:
        files = sorted(Path(__file__).parent.glob("*.py"))
        _library.append(hashlib.sha256(b"".join(p.read_bytes() for p in files)).hexdigest())
    return _library[0]


# -- writing and loading -------------------------------------------------------------------


def _write(key: str, source: str, fname: str, names: dict, options: dict) -> Path:
    root = folder()
    path = root / f"k_{key}.py"
    if path.exists():
        _touch(path)  # recently used: kept when the folder is trimmed
        return path
    root.mkdir(parents=True, exist_ok=True)
    _touch(path)  # before the module appears, so another process's trim keeps it
    temporary = root / f".k_{key}.{os.getpid()}.{threading.get_ident()}.tmp"  # per thread
    temporary.write_text(_module_text(key, source, fname, names, options))
    _place(temporary, path)
    _trim(root, keep=path.stem)
    return path


def _module_text(key: str, source: str, fname: str, names: dict, options: dict) -> str:
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
    return "\n".join(header) + source + f"\n{fname} = numba.njit({flags}cache=True)({fname})\n"


def _place(temporary: Path, path: Path) -> None:
    """Move a complete file into place unless another process was first: its time stamp,
    which Numba's index records, must not change once a process has read it."""
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    except OSError:  # a file system without hard links
        if not path.exists():
            os.replace(temporary, path)
    with contextlib.suppress(OSError):
        temporary.unlink()


def _import(key: str, path: Path, fname: str):
    """The function ``fname`` of the entry's module, imported once a process."""
    name = _PREFIX + key
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _guard(getattr(module, fname), path.parent)
        sys.modules[name] = module  # Numba imports it by name when it loads cached code
    return getattr(module, fname)


def _guard(function, root: Path) -> None:
    """Make Numba's cache of ``function`` safe to share: a damaged entry is compiled again,
    a failed save only goes uncached, and saves take the folder's lock (Numba picks the
    data file's number from its index, so two processes saving two signatures at once
    could otherwise both take number 1). Numba's ``_cache`` is private: skipped if absent."""
    cache = getattr(function, "_cache", None)
    if cache is None or not hasattr(cache, "save_overload"):
        return
    load, save = cache.load_overload, cache.save_overload

    def load_overload(sig, target_context):
        try:
            return load(sig, target_context)
        except Exception:  # compiled instead; a fresh index lets it be saved again
            with contextlib.suppress(Exception), _locked(root / ".lock"):
                cache.flush()
            return None

    def save_overload(sig, data):
        with contextlib.suppress(Exception), _locked(root / ".lock"):
            save(sig, data)

    cache.load_overload, cache.save_overload = load_overload, save_overload


@contextlib.contextmanager
def _locked(path: Path):
    if fcntl is None:
        yield
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# -- the folder's bound --------------------------------------------------------------------


def _touch(path: Path) -> None:
    """Mark an entry used now, in a file of its own: Numba's cached code is valid only while
    the module file keeps its time stamp."""
    path.with_suffix(".used").touch()


def _trim(root: Path, keep: str) -> None:
    """Drop least recently used entries (Numba files left by a removed module first) while
    the folder is over its bound, down to 90% of it; never ``keep``, the entry just written,
    nor another process's file not yet in place."""
    bound = config.cache_max_mb * 2**20
    entries: dict[str, list[Path]] = {}
    for path in _files(root):
        if path.name.startswith("k_"):
            entries.setdefault(path.name.split(".")[0], []).append(path)
    total = sum(_size(p) for files in entries.values() for p in files)
    if total <= bound:
        return
    for stem in sorted(entries, key=lambda s: _last_used(root / f"{s}.py")):
        if total <= 0.9 * bound:
            break
        if stem != keep:
            total -= sum(_size(p) for p in entries[stem])
            for path in entries[stem]:
                _unlink(path)


def _last_used(path: Path) -> float:
    try:
        return path.with_suffix(".used").stat().st_mtime
    except OSError:
        return 0.0


def _modules(root: Path) -> list[Path]:
    return sorted(root.glob("k_*.py")) if root.is_dir() else []


def _files(root: Path) -> list[Path]:
    """Every file the cache wrote: module files, their use marks and Numba's files."""
    if not root.is_dir():
        return []
    files = [*root.glob("k_*.py"), *root.glob("k_*.used"), *root.glob(".k_*.tmp")]
    return files + list((root / "__pycache__").glob("k_*"))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # removed by another process meanwhile
        return 0


def _unlink(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def _warn_once(err: Exception) -> None:
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(
            f"astsym: the kernel cache folder cannot be used ({err}); compiling in memory",
            stacklevel=3,
        )
