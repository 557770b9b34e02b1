"""The static analyzer behind ``astsym check`` (being built; this is its interface)."""

from __future__ import annotations

import ast
from collections.abc import Collection, Sequence

import libcst as cst

from astsym.typecheck import Diagnostic, SourceSpan
from astsym.typecheck.codes import SYNTAX_ERROR
from astsym.typecheck.diagnostics import error


def check_source(
    source: str,
    path: str = "<string>",
    *,
    strict_dims: bool = False,
    disabled: Collection[str] = (),
) -> list[Diagnostic]:
    """The diagnostics of one file's source (never imports or runs it)."""
    return check_files({path: source}, strict_dims=strict_dims, disabled=disabled)[path]


def check_files(
    files: Sequence[str] | dict[str, str],
    *,
    strict_dims: bool = False,
    disabled: Collection[str] = (),
) -> dict[str, list[Diagnostic]]:
    """Diagnostics per file, in the order given. ``files``: paths (read here) or a mapping
    of path to source. Files may import each other's ``@symbolic`` functions."""
    sources = files if isinstance(files, dict) else {p: _read(p) for p in files}
    out = {}
    for path, source in sources.items():
        syntax = syntax_error(source, path)
        out[path] = [syntax] if syntax else []
    return out


def syntax_error(source: str, path: str) -> Diagnostic | None:
    """AS100 at the offending position when ``source`` is not valid Python (parsed only)."""
    try:
        ast.parse(source, filename=path)
    except SyntaxError as err:
        line, col = err.lineno or 1, err.offset or 1
        return error(SYNTAX_ERROR, f"invalid syntax: {err.msg}", SourceSpan(path, line, col))
    except ValueError as err:  # null bytes
        return error(SYNTAX_ERROR, f"invalid source: {err}", SourceSpan(path, 1, 1))
    try:
        cst.parse_module(source)
    except cst.ParserSyntaxError as err:
        span = SourceSpan(path, err.raw_line, err.raw_column + 1)
        return error(SYNTAX_ERROR, f"invalid syntax: {err.message}", span)
    return None


def _read(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read()
