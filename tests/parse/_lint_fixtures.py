"""The linter's fixture corpus (``tests/fixtures/lint``) and its inline expectations, shared
by the fixture, snapshot and robustness tests.

    >>> sorted(expectations_in("x = a + b  # E: AS201, AS202\\ny = 1  # W: AS214\\n"))
    [(1, 'AS201', 'error'), (1, 'AS202', 'error'), (2, 'AS214', 'warning')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from astsym.typecheck import Diagnostic

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "lint"
SNAPSHOTS = FIXTURES / "snapshots"
NEVER_RUN = FIXTURES / "never_run"

#: ``# E: AS201`` / ``# E: AS201, AS202`` (errors), ``# W: AS214`` (warnings)
_EXPECT = re.compile(r"#\s*([EW]):\s*(AS\d{3}(?:\s*,\s*AS\d{3})*)")
_SEVERITY = {"E": "error", "W": "warning"}
#: a fixture holding this line is checked with ``strict_dims=True``
STRICT_DIMS = "# lint: strict-dims"

Expectation = tuple[int, str, str]  # (line, code, severity)


def expectations_in(source: str) -> set[Expectation]:
    """The (line, code, severity) triples a source's inline comments expect."""
    out = set()
    for number, line in enumerate(source.splitlines(), 1):
        for letter, codes in _EXPECT.findall(line):
            out |= {(number, code.strip(), _SEVERITY[letter]) for code in codes.split(",")}
    return out


def found(diagnostics: list[Diagnostic]) -> set[Expectation]:
    """What the linter reported, in the same terms (at the line where each span starts)."""
    return {(d.span.line if d.span else 0, d.code, d.severity) for d in diagnostics}


def relative(path: Path) -> str:
    """``path`` as the linter is given it: relative to the repository root (the tests run
    from there, so rendered spans are the same on every machine)."""
    return path.relative_to(REPO).as_posix()


@dataclass(frozen=True)
class Case:
    """One fixture file, checked together with the files of its group (itself, or every file
    of its package folder)."""

    name: str  # relative to FIXTURES: "ok_grad.py", "pkg/model.py"
    group: tuple[str, ...]  # the paths checked together, relative to the repository root

    @property
    def path(self) -> str:
        return relative(FIXTURES / self.name)

    @property
    def strict_dims(self) -> bool:
        return any(STRICT_DIMS in (REPO / p).read_text() for p in self.group)

    def expected(self) -> set[Expectation]:
        return expectations_in((REPO / self.path).read_text())


def cases() -> list[Case]:
    """Every fixture: each top-level file alone, and each file of a package folder (one with
    an ``__init__.py``) within its package. ``never_run/`` and ``snapshots/`` are not
    fixtures of this kind."""
    out = [Case(p.name, (relative(p),)) for p in sorted(FIXTURES.glob("*.py"))]
    for folder in sorted(p for p in FIXTURES.iterdir() if (p / "__init__.py").is_file()):
        files = sorted(folder.rglob("*.py"))
        group = tuple(relative(f) for f in files)
        out += [Case(f.relative_to(FIXTURES).as_posix(), group) for f in files]
    return out
