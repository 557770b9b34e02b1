"""The rewrite pipeline a mode runs before linking: one short list of passes."""

from __future__ import annotations

from astsym.graph import rewrites_canonical, rewrites_stabilize  # noqa: F401  (rule groups)
from astsym.graph.fg import FunctionGraph
from astsym.graph.rewrite import GROUPS, merge, rewrite
from astsym.graph.rewrites_fuse import fuse

from .mode import Mode


def optimize(fg: FunctionGraph, mode: Mode) -> FunctionGraph:
    if mode.optimizer is None:
        return fg
    merge(fg)
    if mode.optimizer == "fast_run":
        rewrite(fg, GROUPS["stabilize"] + GROUPS["canonicalize"])
        rewrite(fg, GROUPS["fold"] + GROUPS["canonicalize"])
        merge(fg)
    if mode.linker == "cpu":
        from astsym.kernels import numba_elemwise  # noqa: F401 (registers the kernel builder)

        fuse(fg)
    return fg
