"""The rewrite engine: rules are data, grouped in named sets, applied to a FunctionGraph.

A rule is a pattern (an op, or the op class it matches) and a function that returns the replacement
outputs for a matched node, or None to leave it. The engine, not the rule, copies the matched
node's source span onto the nodes the rule builds, and records which rule fired where.

    >>> @rule(Shape, group="canonicalize")
    ... def shape_of_known(node):          # shape(x) -> make_vector(shape_i(x, 0), ...)
    ...     ...
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field

from .basic import Apply, Constant
from .fg import FunctionGraph
from .source import fixed_span


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: object  # an Op (matched by equality) or an Op class (matched by isinstance)
    fn: Callable[[Apply], list | None]
    where: str  # file:line of the rule's definition, for explaining rewrites

    def __add__(self, other) -> RuleSet:
        return RuleSet((self,)) + other


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...] = ()

    def __add__(self, other) -> RuleSet:
        more = other.rules if isinstance(other, RuleSet) else (other,)
        return RuleSet(self.rules + more)

    def candidates(self, op) -> list[Rule]:
        """The rules whose pattern can match a node of ``op``, in definition order."""
        by_op, by_class = self._index()
        found = [r for r in by_class if isinstance(op, r.pattern)]
        try:
            found += by_op.get(op, [])
        except TypeError:  # an op with unhashable parameters matches class patterns only
            pass
        return sorted(found, key=self.rules.index) if len(found) > 1 else found

    def _index(self):
        cached = self.__dict__.get("_cache")
        if cached is None:
            by_op: dict = {}
            for r in self.rules:
                if not isinstance(r.pattern, type):
                    by_op.setdefault(r.pattern, []).append(r)
            by_class = [r for r in self.rules if isinstance(r.pattern, type)]
            cached = (by_op, by_class)
            object.__setattr__(self, "_cache", cached)
        return cached


GROUPS: dict[str, RuleSet] = {}


def rule(pattern, group: str) -> Callable:
    """Register a rewrite rule for nodes whose op is an instance of ``pattern``."""

    def register(fn):
        src = inspect.getsourcefile(fn) or "?"
        line = inspect.getsourcelines(fn)[1]
        made = Rule(fn.__name__, pattern, fn, f"{src}:{line}")
        GROUPS[group] = GROUPS.get(group, RuleSet()) + made
        return made

    return register


@dataclass
class RewriteLog:
    """Which rule fired on which node (and so which user line)."""

    entries: list[tuple[str, str, object]] = field(default_factory=list)

    def record(self, rule: Rule, node: Apply) -> None:
        self.entries.append((rule.name, str(node.op), node.span))


def rewrite(
    fg: FunctionGraph, rules: RuleSet, log: RewriteLog | None = None, max_passes: int = 50
) -> FunctionGraph:
    """Apply ``rules`` to every node until none fires (or ``max_passes``)."""
    for _ in range(max_passes):
        changed = False
        replaced: set[int] = set()
        for node in fg.toposort():
            if id(node) in replaced:
                continue
            for r in rules.candidates(node.op):
                if _apply(fg, r, node, log):
                    replaced.add(id(node))
                    changed = True
                    break
        if not changed:
            break
    return fg


def _apply(fg: FunctionGraph, r: Rule, node: Apply, log: RewriteLog | None) -> bool:
    with fixed_span(node._span):
        new = r.fn(node)
    if new is None or not all(_fits(old, out) for old, out in zip(node.outputs, new)):
        return False
    for old, out in zip(node.outputs, new):
        if out is not old:
            fg.replace(old, out)
    if log is not None:
        log.record(r, node)
    return True


def _fits(old, new) -> bool:
    """A replacement must keep the dtype, rank and broadcastable dims of what it replaces."""
    a, b = old.type, new.type
    return (getattr(a, "dtype", None), getattr(a, "broadcastable", None)) == (
        getattr(b, "dtype", None),
        getattr(b, "broadcastable", None),
    )


def merge(fg: FunctionGraph) -> FunctionGraph:
    """Merge nodes that apply equal ops to the same inputs, and equal constants."""
    seen: dict[tuple, Apply] = {}
    consts: dict[tuple, Constant] = {}
    for node in fg.toposort():
        for i, inp in enumerate(node.inputs):
            if isinstance(inp, Constant) and getattr(inp.data, "size", 2) <= 16:
                key = (inp.type, inp.data.tobytes())
                node.inputs[i] = consts.setdefault(key, inp)
        key = (node.op, tuple(id(i) for i in node.inputs))
        try:
            twin = seen.setdefault(key, node)
        except TypeError:  # an op with unhashable parameters is never merged
            continue
        if twin is not node:
            for old, new in zip(node.outputs, twin.outputs):
                fg.replace(old, new)
    return fg
