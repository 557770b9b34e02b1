"""Snapshots of the linter's rendered diagnostics (``Diagnostic.render()``: the headline,
the source line with carets under the span, then ``help:`` notes), as ruff keeps its
snapshots: one text file per fixture in ``tests/fixtures/lint/snapshots/``.

Files are checked by their paths relative to the repository root (the tests run from there),
so the snapshots read the same on every machine.

When a change to the output is intended, rewrite the snapshots and review the diff::

    ASTSYM_UPDATE_SNAPSHOTS=1 python -m pytest tests/parse/test_lint_render.py
    git diff tests/fixtures/lint/snapshots
"""

from __future__ import annotations

import os

import pytest
from _lint_fixtures import REPO, SNAPSHOTS, Case, cases

from astsym.parse.analyze import check_files

#: Fixtures whose rendered output is pinned (one per kind of output: an error with and
#: without help notes, a syntax error, an annotation span, a warning, a call into another
#: file of a package).
SNAPSHOTTED = [
    "broadcast_static_mismatch.py",
    "matmul_inner_dim.py",
    "syntax_error.py",
    "invalid_annotation_float_dim.py",
    "unsupported_continue_in_loop.py",
    "dtype_loss_int_shared.py",
    "return_type_mismatch.py",
    "symbolic_call_dim_conflict.py",
    "strict_distinct_dim_names.py",
    "pkg/model.py",
]
UPDATE = os.environ.get("ASTSYM_UPDATE_SNAPSHOTS") == "1"
CASES = {case.name: case for case in cases()}


def snapshot_path(name: str):
    return SNAPSHOTS / (name.removesuffix(".py").replace("/", "__") + ".txt")


def rendered(case: Case) -> str:
    results = check_files(list(case.group), strict_dims=case.strict_dims)
    return "".join(d.render() + "\n\n" for d in results[case.path])


@pytest.mark.parametrize("name", SNAPSHOTTED)
def test_rendered_output(name: str, monkeypatch) -> None:
    monkeypatch.chdir(REPO)
    text = rendered(CASES[name])
    path = snapshot_path(name)
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return
    assert path.is_file(), f"no snapshot {path.name}: run with ASTSYM_UPDATE_SNAPSHOTS=1"
    assert text == path.read_text()


def test_rendered_output_names_the_relative_path(monkeypatch) -> None:
    monkeypatch.chdir(REPO)
    text = rendered(CASES["broadcast_static_mismatch.py"])
    assert text.startswith("tests/fixtures/lint/broadcast_static_mismatch.py:7:12: error[AS201]")
    assert "^" in text and str(REPO) not in text


def test_no_stale_snapshots() -> None:
    """Every snapshot file belongs to a fixture in SNAPSHOTTED (a renamed or dropped fixture
    leaves none behind)."""
    wanted = {snapshot_path(name).name for name in SNAPSHOTTED}
    assert {p.name for p in SNAPSHOTS.glob("*.txt")} <= wanted
