"""The rewrite engine: rules are data, grouped in named sets, applied to a FunctionGraph.

A rule is a pattern (an op, or the op class it matches) and a function that returns the replacement
outputs for a matched node, or None to leave it. The engine, not the rule, copies the matched
node's source span onto the nodes the rule builds, and records which rule fired where.

    >>> from astsym.graph.ops import math as m
    >>> @rule(m.sqrt, group="example")
    ... def sqrt_of_square(node):          # sqrt(square(x)) -> abs(x)
    ...     x = node.inputs[0]
    ...     if x.owner is None or x.owner.op is not m.square:
    ...         return None
    ...     return [m.abs(x.owner.inputs[0])]
    >>> _ = GROUPS.pop("example")          # (the example does not join the pipeline)

Every rule knows its group and where it is defined; ``RewriteLog`` records each firing with
the span of the node it rewrote, which ``astsym.printing.rewrites`` lists by user line.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import NamedTuple

from .basic import Apply, Constant
from .fg import FunctionGraph
from .source import fixed_span


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: object  # an Op (matched by equality) or an Op class (matched by isinstance)
    fn: Callable[[Apply], list | None]
    where: str  # file:line of the rule's definition, for explaining rewrites
    group: str = ""  # the named set it was registered in

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
        made = Rule(fn.__name__, pattern, fn, f"{src}:{line}", group)
        GROUPS[group] = GROUPS.get(group, RuleSet()) + made
        return made

    return register


class Firing(NamedTuple):
    """One firing: which rule (of which group) rewrote a node of which op (its name), built
    on which user line (``span``, a ``SourceSpan`` or None)."""

    rule: str
    op: str
    span: object
    group: str


@dataclass
class RewriteLog:
    """Which rule fired on which node (and so which user line), in order.

    >>> import astsym.tensor as T
    >>> x = T.dvector("x")
    >>> fg = FunctionGraph([x], [-(-x)])
    >>> log = RewriteLog()
    >>> _ = rewrite(fg, GROUPS["canonicalize"], log)
    >>> [(e.group, e.rule, e.op) for e in log.entries]
    [('canonicalize', 'double_negation', 'negative')]
    """

    entries: list[Firing] = field(default_factory=list)

    def record(self, rule: Rule, node: Apply) -> None:
        self.entries.append(Firing(rule.name, _label(node.op), node.span, rule.group))

    def record_pass(self, group: str, name: str, node: Apply, op=None) -> None:
        """A firing of a pass that is not a rule (fusion, inplace): ``node`` is the node it
        replaced, ``op`` (default ``node.op``) the op it names."""
        self.entries.append(Firing(name, _label(node.op if op is None else op), node.span, group))


def _label(op) -> str:
    """An op's short name (``fused{exp,add}``), without its parameters."""
    return getattr(op, "name", None) or str(op)


#: The graph ``rewrite`` is working on, so that a rule can ask who uses a variable.
_graph: ContextVar[FunctionGraph | None] = ContextVar("astsym_rewritten_graph", default=None)


def used_only_by(var, node: Apply) -> bool:
    """Whether ``node`` is the only user of ``var`` in the graph being rewritten (and ``var``
    is not one of its outputs): a rule that pays only when it removes ``var``'s computation
    asks this first. False outside ``rewrite``, where the users are unknown."""
    fg = _graph.get()
    if fg is None or any(out is var for out in fg.outputs):
        return False
    users = fg.clients().get(id(var), [])
    return bool(users) and all(user is node for user, _ in users)


def rewrite(
    fg: FunctionGraph, rules: RuleSet, log: RewriteLog | None = None, max_passes: int = 50
) -> FunctionGraph:
    """Apply ``rules`` to every node until none fires (or ``max_passes``)."""
    token = _graph.set(fg)
    try:
        _rewrite(fg, rules, log, max_passes)
    finally:
        _graph.reset(token)
    return fg


def _rewrite(fg: FunctionGraph, rules: RuleSet, log: RewriteLog | None, max_passes: int) -> None:
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
