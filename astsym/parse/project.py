"""Which files ``astsym check`` reads, and its settings from ``[tool.astsym]``.

::

    [tool.astsym]
    include = ["*.py"]            # file-name or root-relative glob patterns
    exclude = ["tests/fixtures"]  # added to DEFAULT_EXCLUDE
    disable = ["AS206", "defined-in-one-branch"]
    strict-dims = true

A pattern without ``/`` matches a file or folder name anywhere (``build``, ``*_pb2.py``); one
with ``/`` matches the path relative to the project root, where ``*`` also crosses folders
(``src/gen/*``); an excluded folder is not entered.

>>> settings = Settings(exclude=("legacy",))
>>> settings.excludes("pkg/legacy"), settings.excludes("pkg/model.py")
(True, False)
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath

from astsym.typecheck.codes import CODES, lookup

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

DEFAULT_EXCLUDE = (
    ".git",
    ".venv",
    "venv",
    "__pycache__",
    "build",
    "dist",
    "node_modules",
    ".tox",
    ".eggs",
)


class ProjectError(Exception):
    """A usage error: a bad setting or path (``astsym check`` exits 2 with the message)."""


class ConfigError(ProjectError):
    """``[tool.astsym]`` cannot be read or holds an unknown key or a value of a wrong type."""


class MissingPathError(ProjectError):
    """A path given on the command line does not exist."""


@dataclass(frozen=True)
class Settings:
    """What ``[tool.astsym]`` says, checked; ``disable`` holds codes (``"AS201"``)."""

    root: Path | None = None
    config_file: Path | None = None
    include: tuple[str, ...] = ("*.py",)
    exclude: tuple[str, ...] = ()
    disable: frozenset[str] = field(default_factory=frozenset)
    strict_dims: bool = False

    def includes(self, rel: str) -> bool:
        return any(_matches(rel, pattern) for pattern in self.include)

    def excludes(self, rel: str) -> bool:
        return any(_matches(rel, pattern) for pattern in DEFAULT_EXCLUDE + self.exclude)


def _matches(rel: str, pattern: str) -> bool:
    pattern = pattern.strip().removeprefix("./").rstrip("/")
    if "/" not in pattern:
        return fnmatchcase(PurePosixPath(rel).name, pattern)
    return fnmatchcase(rel, pattern.lstrip("/"))


def find_config(start: Path) -> tuple[Path | None, dict]:
    """The nearest ``pyproject.toml`` at or above ``start`` (a folder): its folder and its
    ``[tool.astsym]`` table (``{}`` when it has none); ``(None, {})`` when there is none."""
    start = Path(start).resolve()
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return folder, read_table(candidate)
    return None, {}


def read_table(path: Path) -> dict:
    """The ``[tool.astsym]`` table of one ``pyproject.toml``."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as err:
        raise ConfigError(f"{path}: cannot read: {err.strerror or err}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: invalid TOML: {err}") from None
    table = data.get("tool", {}).get("astsym", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.astsym] must be a table")
    return table


def load_settings(paths: list[str], config: str | None = None) -> Settings:
    """Settings from ``config`` when given, else from the ``pyproject.toml`` nearest to the
    folder that holds all of ``paths`` (as black finds its project root)."""
    if config is not None:
        file = Path(config)
        if not file.is_file():
            raise ConfigError(f"{config}: no such config file")
        return settings_from(read_table(file), file.resolve().parent, file)
    root, table = find_config(_common_folder(paths))
    return settings_from(table, root, root / "pyproject.toml" if root else None)


def _common_folder(paths: list[str]) -> Path:
    folders = [p if p.is_dir() else p.parent for p in (Path(x).resolve() for x in paths)]
    return Path(os.path.commonpath(folders)) if folders else Path.cwd()


def settings_from(table: dict, root: Path | None, file: Path | None = None) -> Settings:
    """Check a ``[tool.astsym]`` table; any problem is a ``ConfigError`` naming the key."""
    where = f"{file or 'pyproject.toml'}: [tool.astsym]"
    unknown = sorted(set(table) - set(_KEYS))
    if unknown:
        known = ", ".join(_KEYS)
        raise ConfigError(f"{where} unknown key {unknown[0]!r} (known keys: {known})")
    values = {_FIELDS.get(key, key): _KEYS[key](table[key], f"{where} {key}") for key in table}
    return Settings(root=root, config_file=file, **values)


def _patterns(value, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings (glob patterns)")
    return tuple(value)


def _codes(value, where: str) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of codes such as 'AS201'")
    found = [(v, lookup(v)) for v in value]
    bad = [v for v, code in found if code is None]
    if bad:
        raise ConfigError(f"{where}: unknown code {bad[0]!r} (known: {', '.join(CODES)})")
    return frozenset(code.code for _, code in found)


def _flag(value, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where} must be true or false, not {value!r}")
    return value


#: Each key of ``[tool.astsym]``: its checker, and the Settings field it fills.
_KEYS = {"include": _patterns, "exclude": _patterns, "disable": _codes, "strict-dims": _flag}
_FIELDS = {"strict-dims": "strict_dims"}


def discover(paths: list[str], settings: Settings) -> list[str]:
    """The files to check, each once, in the order given: a given file always (even when
    excluded), a given folder's included, not excluded files sorted by path."""
    found: dict[str, None] = {}
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found.update(dict.fromkeys(sorted(_walk(path, settings), key=_parts)))
        elif path.exists():
            found[os.path.normpath(given)] = None
        else:
            raise MissingPathError(f"{given}: no such file or folder")
    return list(found)


def _walk(folder: Path, settings: Settings):
    base = _base(folder, settings.root)
    for here, dirs, files in os.walk(folder):
        here_rel = _rel(Path(here), base)
        dirs[:] = sorted(d for d in dirs if not settings.excludes(_join(here_rel, d)))
        for name in sorted(files):
            rel = _join(here_rel, name)
            if settings.includes(rel) and not settings.excludes(rel):
                yield os.path.normpath(os.path.join(here, name))


def _parts(path: str) -> tuple[str, ...]:
    return Path(path).parts


def _base(folder: Path, root: Path | None) -> Path:
    """Patterns are relative to the project root, or to the walked folder outside it."""
    resolved = folder.resolve()
    if root is not None and resolved.is_relative_to(root):
        return root
    return resolved


def _rel(path: Path, base: Path) -> str:
    rel = path.resolve().relative_to(base).as_posix()
    return "" if rel == "." else rel


def _join(rel: str, name: str) -> str:
    return f"{rel}/{name}" if rel else name
