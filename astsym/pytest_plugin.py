"""The pytest plugin: static checks as test items, readable graph errors, one run per backend.

Registered through the ``pytest11`` entry point, so installing astsym enables it; it is inert
unless asked for:

- ``pytest --astsym-check`` adds an ``astsym-check`` item (marked ``astsym_check``) for every
  Python file pytest visits. All visited files are analyzed together, once per session, by
  ``astsym.parse.analyze.check_files``; an item fails with its file's rendered diagnostics.
  ``--astsym-strict-dims`` (or the ini option ``astsym_strict_dims``) reports different dim
  names as warnings, as ``astsym check --strict-dims`` does.
- A test that fails with an ``AstsymError`` gets a report section ``astsym graph error``
  (the user's line, the op, the operand types and the graph around the failing node), and
  its traceback is cut to the user's frames. ``--tb=long``, ``--tb=native``, ``--full-trace``
  or the ini option ``astsym_full_traceback`` keep pytest's full traceback.
- The ``astsym_backend`` fixture runs a test once per backend (``py``, ``cpu``, ``gpu``),
  skipping those that cannot run here; ``@pytest.mark.astsym_backends("py", "gpu")``
  restricts the list::

      def test_double(astsym_backend):
          x = T.dvector("x")
          f = astsym.function([x], x * 2, mode=astsym_backend)
          assert f([1.0]).tolist() == [2.0]
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from astsym.runtime.mode import BACKENDS, backend_status
from astsym.typecheck import AstsymError

if TYPE_CHECKING:  # imported when --astsym-check is given, so a plain run never reads it
    from astsym.parse.project import Settings

CHECK_ITEM = "astsym-check"
CHECK_MARKER = "astsym_check"
BACKENDS_MARKER = "astsym_backends"
SECTION = "astsym graph error"
#: How far around the failing node the graph printout of a graph error goes.
GRAPH_DEPTH = 3


# -- configuration ------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("astsym", "astsym static checks and graph errors")
    group.addoption(
        "--astsym-check",
        action="store_true",
        help="add an astsym-check item (static shape check) for every Python file collected",
    )
    group.addoption(
        "--astsym-strict-dims",
        action="store_true",
        help="astsym-check: report different dim names used together (as warnings)",
    )
    parser.addini(
        "astsym_strict_dims", "astsym-check: as --astsym-strict-dims", type="bool", default=False
    )
    parser.addini(
        "astsym_full_traceback",
        "keep the full traceback into astsym for tests failing with a graph error",
        type="bool",
        default=False,
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{CHECK_MARKER}: the astsym static check of a file (added by --astsym-check)"
    )
    config.addinivalue_line(
        "markers",
        f"{BACKENDS_MARKER}(*names): run the astsym_backend fixture only on these backends "
        f"(of {', '.join(BACKENDS)})",
    )
    if config.getoption("astsym_check"):
        config.stash[_CHECKS] = _CheckSession(project_settings(config.rootpath))


def project_settings(root: Path) -> Settings:
    """The ``[tool.astsym]`` settings (``astsym.parse.project.Settings``) of the nearest
    ``pyproject.toml`` at or above pytest's root folder, as ``astsym check`` reads them; a
    bad table stops the run as a usage error."""
    from astsym.parse import project

    try:
        folder, table = project.find_config(root)
        return project.settings_from(table, folder, folder / "pyproject.toml" if folder else None)
    except project.ConfigError as err:
        raise pytest.UsageError(str(err)) from None


def check_settings(config: pytest.Config) -> dict:
    """The keyword arguments of ``check_files`` for this session: ``[tool.astsym]``, with
    strict dims also turned on by ``--astsym-strict-dims`` or the ini ``astsym_strict_dims``."""
    settings = config.stash[_CHECKS].settings
    strict = config.getoption("astsym_strict_dims") or config.getini("astsym_strict_dims")
    return {"strict_dims": bool(strict or settings.strict_dims), "disabled": settings.disable}


def _selected(path: Path, settings: Settings) -> bool:
    """Whether ``[tool.astsym]`` include/exclude let ``astsym check`` read the file: its
    name or root-relative path is included, and neither it nor a folder above is excluded."""
    try:
        rel = path.relative_to(settings.root).as_posix() if settings.root else path.name
    except ValueError:
        rel = path.name
    parts = rel.split("/")
    above = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    return settings.includes(rel) and not any(settings.excludes(p) for p in above)


# -- --astsym-check -----------------------------------------------------------------------


class CheckFailed(Exception):
    """A file has diagnostics; the message is their rendering (shown without a traceback)."""


@dataclass
class _CheckSession:
    """The files visited during collection and, once the first check item runs, their
    diagnostics, found by one analysis of all of them (so imports between them resolve)."""

    settings: Settings
    paths: dict[Path, str] = field(default_factory=dict)  # absolute path -> display name
    results: dict | None = None
    unreadable: dict[str, str] = field(default_factory=dict)  # display name -> why
    failure: Exception | None = None  # the analyzer's crash, reported by every item

    def diagnostics(self, path: Path, config: pytest.Config) -> list:
        if self.results is None and self.failure is None:
            try:
                self.results = self._analyze(check_settings(config))
            except Exception as crash:
                self.failure = crash
        shown = self.paths[path]
        if self.failure is not None:
            raise RuntimeError("the astsym analyzer failed") from self.failure
        if shown in self.unreadable:
            raise CheckFailed(f"{shown}: cannot read the file: {self.unreadable[shown]}")
        return self.results.get(shown, [])

    def _analyze(self, settings: dict) -> dict:
        from astsym.parse.analyze import check_files

        sources = {}
        for path, shown in self.paths.items():
            try:
                sources[shown] = path.read_text(encoding="utf-8", errors="replace")
            except OSError as err:
                self.unreadable[shown] = str(err)
        return check_files(sources, **settings)


_CHECKS = pytest.StashKey[_CheckSession]()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix != ".py" or _CHECKS not in parent.config.stash:
        return None
    checks = parent.config.stash[_CHECKS]
    if not _selected(file_path, checks.settings):
        return None
    checks.paths.setdefault(file_path, _display_path(file_path, parent.config))
    return CheckFile.from_parent(parent, path=file_path)


def _display_path(path: Path, config: pytest.Config) -> str:
    """The path as diagnostics name it: relative to where pytest was started, if inside."""
    try:
        return str(path.relative_to(config.invocation_params.dir))
    except ValueError:
        return str(path)


class CheckFile(pytest.File):
    """A Python file under ``--astsym-check``: one check item."""

    def collect(self):
        yield CheckItem.from_parent(self, name=CHECK_ITEM)


class CheckItem(pytest.Item):
    """Fails when the static analyzer finds errors or warnings in the file."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.add_marker(CHECK_MARKER)

    def runtest(self) -> None:
        diagnostics = self.config.stash[_CHECKS].diagnostics(self.path, self.config)
        if any(d.severity in ("error", "warning") for d in diagnostics):
            raise CheckFailed("\n".join(d.render() for d in diagnostics))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, CheckFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, None, f"{CHECK_ITEM} {self.path.name}"


# -- graph errors in test reports -----------------------------------------------------------


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if call.excinfo is None or not report.failed:
        return
    err = find_astsym_error(call.excinfo.value)
    if err is None:
        return
    report.sections.append((SECTION, graph_error_report(err)))
    if not _wants_full_traceback(item.config):
        short = short_repr(call.excinfo, item.config)
        if short is not None:
            report.longrepr = short


def find_astsym_error(exc: BaseException | None) -> AstsymError | None:
    """``exc``, or the first exception it was raised from or while handling, that is an
    ``AstsymError``."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, AstsymError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return None


def graph_error_report(err: AstsymError) -> str:
    """The ``astsym graph error`` section: the diagnostic (user's line, carets, help), the
    op, the operand types and the graph around the failing node."""
    lines = [err.diagnostic.render(), ""]
    if err.op is not None:
        lines.append(f"op: {err.op}")
    if err.operands:
        lines.append("operand types: " + ", ".join(_type_of(v) for v in err.operands))
    graph = err.node if err.node is not None else list(err.operands)
    if graph:
        lines += [f"graph (depth {GRAPH_DEPTH}):", _print_graph(graph).rstrip("\n")]
    return "\n".join(lines).rstrip("\n")


def _type_of(var) -> str:
    short = getattr(var.type, "short", None)
    return short() if callable(short) else str(var.type)


def _print_graph(graph) -> str:
    from astsym.printing import debugprint

    out = io.StringIO()
    try:
        debugprint(graph, file=out, depth=GRAPH_DEPTH, print_type=True)
    except Exception as failure:  # a report must never hide the test's own error
        return f"(cannot print the graph: {type(failure).__name__}: {failure})"
    return out.getvalue()


def _wants_full_traceback(config: pytest.Config) -> bool:
    return (
        config.getoption("tbstyle", "auto") in ("long", "native")
        or config.getoption("fulltrace", False)
        or config.getini("astsym_full_traceback")
    )


def short_repr(excinfo: pytest.ExceptionInfo, config: pytest.Config):
    """The failure shown with only the user's frames (the test's own line last) and the
    error's message, or None when no frame of the traceback is the user's."""
    short = pytest.ExceptionInfo.from_exc_info((excinfo.type, excinfo.value, excinfo.tb))
    short.traceback = short.traceback.filter(_is_user_frame)
    if len(short.traceback) == 0:
        return None
    try:
        abspath = Path(os.getcwd()) != config.invocation_params.dir
    except OSError:
        abspath = True
    return short.getrepr(
        style="line" if config.getoption("tbstyle", "auto") == "line" else "short",
        chain=False,
        abspath=abspath,
        showlocals=config.getoption("showlocals", False),
    )


def _internal_dirs() -> tuple[str, ...]:
    import _pytest
    import pluggy

    import astsym

    return tuple(str(Path(m.__file__).parent) + os.sep for m in (astsym, _pytest, pluggy))


def _is_user_frame(entry) -> bool:
    """Whether a traceback entry is the user's code: not astsym, pytest or pluggy, and not
    the code astsym generates from a ``@symbolic`` function (``<astsym converted f>``)."""
    filename = entry.frame.code.raw.co_filename
    return not filename.startswith("<astsym") and not filename.startswith(_internal_dirs())


# -- the astsym_backend fixture -------------------------------------------------------------


@pytest.fixture
def astsym_backend(request: pytest.FixtureRequest) -> str:
    """The name of an astsym backend (``'py'``, ``'cpu'``, ``'gpu'``), usable as ``mode=``.

    A test using it runs once per backend (see the ``astsym_backends`` marker); a backend
    that cannot run here is skipped with the reason.
    """
    return getattr(request, "param", "py")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "astsym_backend" not in metafunc.fixturenames or _parametrized_by_user(metafunc):
        return
    names = _marked_backends(metafunc)
    params = [pytest.param(name, id=name, marks=_skip_mark(name)) for name in names]
    metafunc.parametrize("astsym_backend", params, indirect=True)


def _marked_backends(metafunc: pytest.Metafunc) -> list[str]:
    marker = metafunc.definition.get_closest_marker(BACKENDS_MARKER)
    if marker is None:
        return list(BACKENDS)
    where = f"@pytest.mark.{BACKENDS_MARKER} on {metafunc.definition.nodeid}"
    if not marker.args or marker.kwargs:
        pytest.fail(f"{where}: name the backends, e.g. ('py', 'gpu')", pytrace=False)
    unknown = [name for name in marker.args if name not in BACKENDS]
    if unknown:
        known = ", ".join(repr(name) for name in BACKENDS)
        pytest.fail(f"{where}: unknown backend {unknown[0]!r}; use {known}", pytrace=False)
    return list(dict.fromkeys(marker.args))


def _skip_mark(name: str) -> tuple:
    reason = backend_status(name)
    return () if reason is None else (pytest.mark.skip(reason=f"{name} backend: {reason}"),)


def _parametrized_by_user(metafunc: pytest.Metafunc) -> bool:
    """Whether the test parametrizes ``astsym_backend`` itself (then the plugin does not)."""
    for marker in metafunc.definition.iter_markers("parametrize"):
        names = marker.args[0] if marker.args else marker.kwargs.get("argnames", ())
        if isinstance(names, str):
            names = [n.strip() for n in names.split(",")]
        if "astsym_backend" in names:
            return True
    return False
