"""The static linter on its fixture corpus (``tests/fixtures/lint``), with the expectations
written inline in each file, as mypy's test data does.

Fixture format:

- One topic per file, named for it. ``ok_*.py`` files are correct code and must give no
  diagnostic at all (a false positive is a bug); the others hold the errors of their topic.
- ``# E: AS201`` on the line where an error's span starts expects that error there;
  ``# E: AS201, AS202`` expects two; ``# W: AS214`` expects a warning. The comparison is
  exact in both directions: a missing and an unexpected diagnostic both fail.
- A file holding the line ``# lint: strict-dims`` is checked with ``strict_dims=True``.
- A folder with an ``__init__.py`` (``pkg/``) is checked as one set of files, so its modules
  import each other (``from .layers import dense``, ``from layers import dense``); each of its
  files is one test case.
- ``never_run/`` (code that must never run) and ``snapshots/`` (rendered output) belong to
  ``test_lint_robustness.py`` and ``test_lint_render.py``.

Every fixture is checked with ``ASTSYM_DEBUG=1``, so a function the analyzer gives up on
fails its case instead of passing silently with nothing reported.

Where the analyzer is wrong today, the fixture keeps the right expectation and its case is a
strict xfail in ``KNOWN_GAPS`` (with a minimal reproducer in the reason): fixing the analyzer
makes the case pass, and strict xfail then fails until the entry is removed.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest
from _lint_fixtures import FIXTURES, REPO, Case, cases, expectations_in, found

from astsym.parse.analyze import check_files
from astsym.typecheck import CODES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10
    import tomli as tomllib

#: fixture -> why the analyzer gets it wrong today (each is a strict xfail).
KNOWN_GAPS = {
    "broadcast_after_while.py": (
        "a value carried through a symbolic `while` loses its static shape (f32[3] comes out "
        "as f32[?]), so `x * y` after the loop with y: f32[4] is not reported"
    ),
    "symbolic_staticmethod_in_class.py": (
        "a @symbolic function in a class body is never checked: module_statement binds a class "
        "to UNKNOWN without looking at its methods"
    ),
    "index_list_out_of_range.py": (
        "x[[0, 5]] on f32[2, 3]: a constant list index past a static dim is not reported"
    ),
    "invalid_argument_astype_dtype.py": (
        "x.astype('float128') (AS212's own example) is not reported: as_dtype raises a plain "
        "TypeError, not a RuleError, so the analyzer takes it as an unknown value"
    ),
    "unsupported_break_not_last.py": (
        "a `break` that is not the final `if c: break` of a symbolic loop is reported at the "
        "`for`, not at the `break` statement as DESIGN.md says (convert._loop_body sets no "
        "offender for it; tracing shares the site, so it points at the `for` too)"
    ),
    "pkg/submodule.py": (
        "`from . import layers` binds UNKNOWN: a from-import of a package only looks in the "
        "package's __init__ names, never at its sibling files, so layers.dense(...) is not "
        "checked"
    ),
}

#: Codes the linter can report: the static ones (AS1xx, AS2xx) and AS305 (a shared
#: variable's update of another type); AS301-AS304 only arise when a compiled function runs.
LINT_CODES = {code for code in CODES if code < "AS300"} | {"AS305"}


def _param(case: Case):
    marks = ()
    if case.name in KNOWN_GAPS:
        marks = pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[case.name])
    return pytest.param(case, id=case.name, marks=marks)


CASES = cases()


@pytest.fixture
def in_repo(monkeypatch):
    """Run from the repository root: fixture paths are relative to it."""
    monkeypatch.chdir(REPO)


def _check(case: Case) -> list:
    results = check_files(list(case.group), strict_dims=case.strict_dims)
    return results[case.path]


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_fixture(case: Case, in_repo, monkeypatch) -> None:
    monkeypatch.setenv("ASTSYM_DEBUG", "1")  # a function the analyzer gives up on raises
    diagnostics = _check(case)
    got, want = found(diagnostics), case.expected()
    shown = "\n".join(d.headline() for d in diagnostics) or "(none)"
    assert not want - got, f"missing: {sorted(want - got)}\nreported:\n{shown}"
    assert not got - want, f"unexpected: {sorted(got - want)}\nreported:\n{shown}"


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_spans_point_into_the_file(case: Case, in_repo) -> None:
    """Whatever is reported is located in the checked file, at a real line and column."""
    lines = (REPO / case.path).read_text().splitlines()
    for d in _check(case):
        assert d.span is not None and d.span.file == case.path, d.headline()
        assert 1 <= d.span.line <= len(lines) and d.span.col >= 1, d.headline()
        assert d.severity in ("error", "warning"), d.headline()


# -- the corpus itself ----------------------------------------------------------------------
def _expectations(case: Case) -> set:
    return expectations_in((REPO / case.path).read_text())


def test_corpus_has_enough_clean_and_erroneous_fixtures() -> None:
    files = [c for c in CASES if not c.name.endswith("__init__.py")]
    clean = [c for c in files if Path(c.name).name.startswith("ok_")]
    assert len(files) >= 45 and len(clean) >= 16, (len(files), len(clean))
    for case in clean:
        assert not _expectations(case), f"{case.name}: an ok_ fixture expects diagnostics"
    for case in files:
        if case not in clean:
            assert _expectations(case), f"{case.name}: not ok_, yet expects nothing"


def test_corpus_covers_every_code_the_linter_reports() -> None:
    """Each code the linter can report is expected by some fixture that passes today."""
    covered = {
        code for case in CASES if case.name not in KNOWN_GAPS for _, code, _ in _expectations(case)
    }
    assert LINT_CODES <= covered, f"no passing fixture expects {sorted(LINT_CODES - covered)}"


def test_known_gaps_name_existing_fixtures() -> None:
    names = {c.name for c in CASES}
    assert set(KNOWN_GAPS) <= names, sorted(set(KNOWN_GAPS) - names)


def test_fixtures_are_neither_linted_nor_collected() -> None:
    """ruff skips tests/fixtures (they hold errors on purpose), and pytest (with
    ``--astsym-check`` too) never visits the lint fixtures."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    excluded = config["tool"]["ruff"]["extend-exclude"]
    lint = FIXTURES.relative_to(REPO).as_posix()
    assert any(lint == e.rstrip("/") or lint.startswith(e.rstrip("/") + "/") for e in excluded)
    conftest = ast.parse((FIXTURES.parent / "conftest.py").read_text())
    ignored = next(
        ast.literal_eval(node.value)
        for node in conftest.body
        if isinstance(node, ast.Assign) and node.targets[0].id == "collect_ignore"
    )
    assert FIXTURES.name in ignored
    assert not [p.name for p in FIXTURES.rglob("test_*.py")]
