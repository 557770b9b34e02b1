"""Walking graphs: ancestors, inputs, topological order, cloning with replacements.

>>> import astsym.tensor as T
>>> x = T.scalar("x"); y = x * 2 + 1
>>> sorted(str(v) for v in graph_inputs([y]))   # constants have no owner either
['1.0', '2.0', 'x']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .basic import Apply, Constant, Variable
from .source import fixed_span


def ancestors(outputs: Iterable[Variable], blockers: Iterable[Variable] = ()) -> list[Variable]:
    """Every variable the outputs depend on (outputs included), stopping at ``blockers``."""
    blocked = {id(b) for b in blockers}
    seen: dict[int, Variable] = {}
    stack = list(outputs)
    while stack:
        var = stack.pop()
        if id(var) in seen:
            continue
        seen[id(var)] = var
        if var.owner is not None and id(var) not in blocked:
            stack.extend(var.owner.inputs)
    return list(seen.values())


def graph_inputs(outputs: Iterable[Variable], blockers: Iterable[Variable] = ()) -> list[Variable]:
    """The variables without an owner (or blocked) that the outputs depend on."""
    blocked = {id(b) for b in blockers}
    return [v for v in ancestors(outputs, blockers) if v.owner is None or id(v) in blocked]


def toposort(outputs: Sequence[Variable], blockers: Iterable[Variable] = ()) -> list[Apply]:
    """The Apply nodes computing ``outputs``, each after the nodes it depends on."""
    blocked = {id(b) for b in blockers}
    order: list[Apply] = []
    done: set[int] = set()
    for out in outputs:
        stack: list[tuple[Apply, int]] = []
        if out.owner is not None and id(out) not in blocked and id(out.owner) not in done:
            stack.append((out.owner, 0))
        while stack:
            node, i = stack.pop()
            if id(node) in done:
                continue
            pending = None
            for j in range(i, len(node.inputs)):
                inp = node.inputs[j]
                if inp.owner is not None and id(inp) not in blocked and id(inp.owner) not in done:
                    pending = j
                    break
            if pending is None:
                done.add(id(node))
                order.append(node)
            else:
                stack.append((node, pending + 1))
                stack.append((node.inputs[pending].owner, 0))
    return order


def clone_replace(
    outputs: Sequence[Variable], replace: dict | None = None, keep: Iterable[Variable] = ()
) -> list[Variable]:
    """Copies of ``outputs`` with the variables in ``replace`` substituted.

    Nodes whose inputs keep their types are copied as they are; otherwise the op builds the
    node anew (so a replacement of a more specific type propagates its static shape).
    Variables in ``keep`` and all inputs without an owner are shared, not copied.
    """
    memo: dict[int, Variable] = {id(k): v for k, v in (replace or {}).items()}
    for k in keep:
        memo.setdefault(id(k), k)
    for node in toposort(outputs, blockers=[k for k in (replace or {})]):
        if all(id(o) in memo for o in node.outputs):
            continue
        new_inputs = [memo.get(id(i), i) for i in node.inputs]
        if all(a is b for a, b in zip(new_inputs, node.inputs)):
            continue
        memo.update(zip(map(id, node.outputs), _rebuild(node, new_inputs).outputs))
    return [memo.get(id(o), o) for o in outputs]


def _rebuild(node: Apply, new_inputs: list[Variable]) -> Apply:
    if all(a.type == b.type for a, b in zip(new_inputs, node.inputs)):
        new = node.clone_with_new_inputs(new_inputs)
    else:
        with fixed_span(node._span):
            new = node.op.make_node(*new_inputs)
    for old, out in zip(node.outputs, new.outputs):
        out.name = old.name
    return new


def clone_graph(
    inputs: Sequence[Variable], outputs: Sequence[Variable], copy_inputs: bool = True
) -> tuple[list[Variable], list[Variable], dict]:
    """A full copy of the graph from ``inputs`` to ``outputs``; shared variables and
    constants are kept. Returns the new inputs, new outputs and the old-to-new map."""
    memo: dict[int, Variable] = {}
    new_inputs = []
    for inp in inputs:
        new = inp.clone() if copy_inputs and not _is_kept(inp) else inp
        memo[id(inp)] = new
        new_inputs.append(new)
    for node in toposort(outputs, blockers=inputs):
        new_node = node.clone_with_new_inputs([memo.get(id(i), i) for i in node.inputs])
        memo.update(zip(map(id, node.outputs), new_node.outputs))
    equiv = {id(k): v for k, v in memo.items()}
    return new_inputs, [memo.get(id(o), o) for o in outputs], equiv


def _is_kept(var: Variable) -> bool:
    from .shared import SharedVariable

    return isinstance(var, (Constant, SharedVariable))
