"""The ``astsym`` command: a thin shell over the static analyzer and the code registry.

::

    astsym check [PATH ...] [--format text|json|github|sarif] [--strict-dims]
                 [--config PYPROJECT] [--output FILE]
    astsym explain [CODE]
    astsym cache info|clear [--cache-dir DIR]

``check`` exits 0 when nothing is reported, 1 when any diagnostic is reported (a warning
or note too: ``--strict-dims`` warnings are asked for, so they fail the check), and 2 for a
usage error (bad arguments, a missing path, a bad config) or an internal error. An internal
error prints one line; ``ASTSYM_DEBUG=1`` shows its traceback.

>>> main(["explain", "as201"])  # doctest: +ELLIPSIS
AS201 broadcast-mismatch
...
0
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

from astsym.parse import analyze, report
from astsym.parse.project import ProjectError, discover, load_settings
from astsym.typecheck.codes import CODES, Code, lookup

OK, FOUND, USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit:  # argparse's --help (0) and usage errors (2)
        return int(exit.code or 0)
    if not hasattr(args, "run"):
        parser.print_help(sys.stderr)
        return USAGE
    try:
        return args.run(args)
    except ProjectError as err:
        return _fail(str(err))
    except Exception as err:
        if os.environ.get("ASTSYM_DEBUG") == "1":
            raise
        return _fail(f"internal error: {type(err).__name__}: {err}")


def _fail(message: str) -> int:
    print(f"astsym: {message}", file=sys.stderr)
    return USAGE


def build_parser() -> argparse.ArgumentParser:
    """The parser; each subcommand adds itself (``_add_check``, ``_add_explain``)."""
    parser = argparse.ArgumentParser(
        prog="astsym", description="astsym: a symbolic tensor compiler for Python."
    )
    parser.add_argument("--version", action="version", version=f"astsym {report.version()}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    _add_check(commands)
    _add_explain(commands)
    _add_cache(commands)
    return parser


# -- check -------------------------------------------------------------------------------


def _add_check(commands) -> None:
    check = commands.add_parser(
        "check",
        help="check files statically for shape and type errors",
        description="Check @symbolic functions for shape and type errors without running "
        "them. Settings come from [tool.astsym] in the nearest pyproject.toml.",
        epilog="Exit status: 0 nothing reported; 1 diagnostics reported (warnings and notes "
        "included); 2 usage error (bad arguments, missing path, bad config) or internal error.",
    )
    check.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="default: .")
    check.add_argument("--format", choices=list(report.RENDERERS), default="text")
    check.add_argument(
        "--strict-dims",
        action="store_true",
        help="warn where two different dim names meet (n vs m)",
    )
    check.add_argument("--config", metavar="PYPROJECT", help="read settings from this file")
    check.add_argument("--output", metavar="FILE", help="write the report here, not to stdout")
    check.set_defaults(run=run_check)


def run_check(args: argparse.Namespace) -> int:
    """``astsym check``: find the files, analyze them, report."""
    settings = load_settings(args.paths, args.config)
    files = discover(args.paths, settings)
    results = analyze.check_files(
        files,
        strict_dims=bool(args.strict_dims or settings.strict_dims),
        disabled=settings.disable,
    )
    text = report.render(results, args.format)
    if args.output is None:
        sys.stdout.write(text)
    else:
        _write(args.output, text)
    return FOUND if any(results.values()) else OK


def _write(path: str, text: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as err:
        raise ProjectError(f"{path}: cannot write the report: {err.strerror or err}") from None


# -- explain -----------------------------------------------------------------------------


def _add_explain(commands) -> None:
    explain = commands.add_parser(
        "explain",
        help="explain a diagnostic code",
        description="Explain a code (AS201, as201 or broadcast-mismatch); list all without one.",
    )
    explain.add_argument("code", nargs="?", metavar="CODE")
    explain.set_defaults(run=run_explain)


def run_explain(args: argparse.Namespace) -> int:
    """``astsym explain``: one registry entry in full, or the list of codes."""
    if args.code is None:
        print(_code_list())
        return OK
    entry = lookup(args.code)
    if entry is None:
        return _fail(f"unknown code {args.code!r}; the codes are:\n{_code_list()}")
    print(explanation(entry))
    return OK


def explanation(entry: Code) -> str:
    """The text ``astsym explain`` prints for one code."""
    wrap = textwrap.fill
    parts = [
        f"{entry.code} {entry.name}",
        wrap(entry.summary, 88),
        wrap(entry.explanation, 88) if entry.explanation else "",
        "Example:\n" + textwrap.indent(entry.example, "    "),
        wrap(f"Fix: {entry.fix}", 88, subsequent_indent="     ") if entry.fix else "",
    ]
    return "\n\n".join(p for p in parts if p)


def _code_list() -> str:
    return "\n".join(f"  {c.code}  {c.name:<28} {c.summary}" for c in CODES.values())


# -- cache -------------------------------------------------------------------------------


def _add_cache(commands) -> None:
    cache = commands.add_parser(
        "cache",
        help="show or clear the compiled-kernel cache",
        description="The folder where compiled kernels and graphs are kept between runs "
        "(config.cache_dir, ASTSYM_CACHE_DIR), trimmed to config.cache_max_mb.",
    )
    cache.add_argument("action", choices=["info", "clear"])
    cache.add_argument("--cache-dir", metavar="DIR", help="this folder, not config.cache_dir")
    cache.set_defaults(run=run_cache)


def run_cache(args: argparse.Namespace) -> int:
    """``astsym cache info|clear``."""
    from astsym.kernels import disk_cache

    if args.action == "clear":
        count, freed = disk_cache.clear(args.cache_dir)
        print(f"removed {count} entr{'y' if count == 1 else 'ies'}, {_size(freed)}")
        return OK
    state = disk_cache.info(args.cache_dir)
    print(f"folder:  {state['folder']}")
    print(f"entries: {state['entries']}")
    print(f"size:    {_size(state['bytes'])} of {_size(state['bound_bytes'])}")
    return OK


def _size(count: int) -> str:
    return f"{count / 2**20:.1f} MB" if count >= 2**20 else f"{count / 2**10:.1f} KB"
