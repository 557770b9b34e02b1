"""The rewrite pipeline a mode runs before linking: one short list of passes.

    merge -> scan maps -> stabilize + canonicalize -> specialize (+ canonicalize)
          -> fold (+ canonicalize) -> merge -> fuse (+ row passes) -> inplace

Each pass runs when the mode's groups (``Mode.groups``) hold its group, and applies the
rules of the groups it names that the mode holds; ``fuse`` and ``inplace`` build kernels and
run with the compiled linkers (``cpu``, ``gpu``) only, as do ``scan maps`` (the ``scan``
rules, with ``specialize``: a scan that is a map becomes its elementwise body, which py
keeps as a scan, the oracle); row passes (a CPU kernel) run with ``cpu`` only. Every firing is recorded in ``log``.

    >>> import astsym.tensor as T
    >>> from astsym.graph.fg import FunctionGraph
    >>> from astsym.graph.rewrite import RewriteLog
    >>> x = T.dvector("x")
    >>> log = RewriteLog()
    >>> fg = optimize(FunctionGraph([x], [T.log(T.sigmoid(x))]), Mode("py"), log)
    >>> [f"{e.group}/{e.rule}" for e in log.entries]
    ['stabilize/log_of_sigmoid']
"""

from __future__ import annotations

from astsym.graph import (  # noqa: F401  (importing a rule module registers its group)
    rewrites_canonical,
    rewrites_specialize,
    rewrites_stabilize,
)
from astsym.graph.fg import FunctionGraph
from astsym.graph.ops import Shape, ShapeI
from astsym.graph.rewrite import GROUPS, RewriteLog, RuleSet, merge, rewrite
from astsym.graph.rewrites_fill import drop_fills
from astsym.graph.rewrites_fuse import fuse_all, make_inplace
from astsym.graph.rewrites_rowpass import fuse_row_pass
from astsym.graph.scan import rewrite_map  # noqa: F401 (registers the ``scan`` group)
from astsym.graph.scan.op import Scan
from astsym.graph.scan.rewrites import optimize_scan_outputs

from .mode import Mode

#: The rule passes in order: (the groups that turn a pass on, the groups it applies).
RULE_PASSES = (
    (("stabilize", "canonicalize", "shape"), ("stabilize", "canonicalize", "shape")),
    (("specialize",), ("specialize", "canonicalize", "shape")),
    (("fold",), ("fold", "canonicalize", "shape")),
)


def optimize(fg: FunctionGraph, mode: Mode, log: RewriteLog | None = None) -> FunctionGraph:
    """Rewrite ``fg`` in place with the passes ``mode`` runs; returns ``fg``."""
    groups = mode.groups
    if "merge" in groups:
        merge(fg)
    compiled = mode.linker in ("cpu", "gpu")
    if compiled and "specialize" in groups:  # maps (py keeps them scans: oracle)
        rewrite(fg, GROUPS["scan"], log)
    for gates, applied in RULE_PASSES:
        if groups.intersection(gates):
            rewrite(fg, rules(g for g in applied if g in groups), log)
    if "merge" in groups:
        merge(fg)
    if compiled and groups.intersection(("fuse", "inplace")):
        if mode.linker == "cpu":
            from astsym.kernels import cpu  # noqa: F401 (registers the kernel builders)

        if "specialize" in groups:  # (py keeps its scans as built: the oracle)
            optimize_scan_outputs(fg, log)
        optimize_scan_bodies(fg, mode, log)
        if "fuse" in groups:
            fuse_all(fg, log, duplicate=mode.linker == "gpu")
            if mode.linker == "gpu" and drop_fills(fg, log):  # a fill costs a launch
                merge(fg)  # (the checks of one fill's dims, made once per user)
            if mode.linker == "cpu":
                fuse_row_pass(fg, log)
        if "inplace" in groups:
            make_inplace(fg, log)
    return fg


def optimize_scan_bodies(fg: FunctionGraph, mode: Mode, log: RewriteLog | None) -> None:
    """Each ``Scan`` gets a copy of its inner graph optimized by the same passes (its steps
    then run fused kernels, or compile into the loop); the original op, which other
    functions may share, is left alone."""
    for node in fg.toposort():
        op = node.op
        if not isinstance(op, Scan):
            continue
        inner = FunctionGraph(op.inner.inputs, op.inner.outputs)
        optimize(inner, mode, log)
        new = Scan(inner, op.info)(*node.inputs)
        new = new if isinstance(new, list) else [new]
        new[0].owner.span = node.span
        for old, out in zip(node.outputs, new):
            fg.replace(old, out)


def rules(groups) -> RuleSet:
    """The rules of the named ``groups`` (``Mode``'s names): ``canonicalize`` without the
    shape-inference rules, which make up ``shape``."""
    out = RuleSet()
    for group in groups:
        if group in ("canonicalize", "shape"):
            wanted = group == "shape"
            picked = [r for r in GROUPS["canonicalize"].rules if _infers_shape(r) == wanted]
            out = out + RuleSet(tuple(picked))
        else:
            out = out + GROUPS.get(group, RuleSet())
    return out


def _infers_shape(r) -> bool:
    return r.pattern in (Shape, ShapeI)
