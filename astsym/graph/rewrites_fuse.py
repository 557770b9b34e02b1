"""The ``fuse`` pass: maximal groups of elementwise nodes become one ``FusedElemwise``.

A group grows from a root node backwards through elementwise producers whose only users
are in the group and whose output has the root's shape, so nothing computed inside a group
is needed outside it and the group is one pass over its output. Only ops whose scalar
meaning a compiled kernel reproduces exactly (float arithmetic and the vector math library)
are fused.

    >>> import astsym.tensor as T
    >>> from astsym.graph.fg import FunctionGraph
    >>> x = T.fvector("x")
    >>> fg = FunctionGraph([x], [T.exp(-x * 2) * T.tanh(x)])
    >>> fuse(fg)
    1
    >>> [node.op.name for node in fg.toposort()]
    ['fused{negative,multiply,exp,tanh,multiply}']
"""

from __future__ import annotations

import numpy as np

from .basic import Apply
from .fg import FunctionGraph
from .ops.elemwise import Cast, Elemwise
from .ops.fused import FusedElemwise

#: Elementwise ops a kernel computes exactly as NumPy does on floats.
FUSIBLE = {
    "add", "subtract", "multiply", "true_divide", "negative", "square", "abs", "exp", "log",
    "log1p", "expm1", "tanh", "sqrt", "sigmoid", "softplus", "erf", "less", "greater",
    "less_equal", "greater_equal", "where",
}  # fmt: skip
_FLOATS = ("float32", "float64")


def fusible(node) -> bool:
    op = node.op
    if not isinstance(op, Elemwise) or len(node.outputs) != 1:
        return False
    if isinstance(op, Cast):
        return op.dtype in _FLOATS and node.inputs[0].dtype in _FLOATS
    out = node.outputs[0].dtype
    ins = [i.dtype for i in node.inputs]
    if op.name in ("less", "greater", "less_equal", "greater_equal"):
        return all(d in _FLOATS for d in ins)
    if op.name == "power":  # x ** 2 (specialized to x * x when fused)
        exponent = getattr(node.inputs[1], "data", None)
        return out in _FLOATS and exponent is not None and np.ndim(exponent) == 0 and exponent == 2
    if op.name == "where":
        return out in _FLOATS and ins[0] == "bool"
    return op.name in FUSIBLE and out in _FLOATS and all(d in _FLOATS for d in ins)


def fuse(fg: FunctionGraph) -> int:
    """Replace each group of two or more fusible nodes; the number of groups made."""
    made = 0
    clients = fg.clients()
    outputs = {id(o) for o in fg.outputs}
    done: set[int] = set()
    for root in reversed(fg.toposort()):
        if id(root) in done or not fusible(root):
            continue
        group = _grow(root, clients, outputs)
        done.update(id(n) for n in group)
        if len(group) < 2:
            continue
        fused = _build(root, group)
        fg.replace(root.outputs[0], fused)
        made += 1
    return made


def _grow(root: Apply, clients: dict, outputs: set) -> list[Apply]:
    shape = root.outputs[0].type.shape
    group, members = [root], {id(root)}
    frontier = [root]
    while frontier:
        node = frontier.pop()
        for var in node.inputs:
            producer = var.owner
            if producer is None or id(producer) in members or not fusible(producer):
                continue
            if var.type.shape != shape or id(var) in outputs:
                continue
            if not all(id(user) in members for user, _ in clients.get(id(var), [])):
                continue
            group.append(producer)
            members.add(id(producer))
            frontier.append(producer)
    return group


def _build(root: Apply, group: list[Apply]):
    """The fused node's output, computing ``root``'s output from the group's inputs."""
    members = {id(n) for n in group}
    order = [n for n in _topo(root, members)]
    inputs: list = []
    index: dict[int, int] = {}  # id(var) -> ref
    steps = []
    for node in order:
        refs = []
        for var in node.inputs:
            if var.owner is not None and id(var.owner) in members:
                refs.append(index[id(var)])
                continue
            if id(var) not in index:
                inputs.append(var)
                index[id(var)] = -len(inputs)
            refs.append(index[id(var)])
        steps.append((node.op, tuple(refs), node.outputs[0].dtype))
        index[id(node.outputs[0])] = len(steps) - 1
    out = FusedElemwise(tuple(steps), len(inputs))(*inputs)
    out.owner.span = root.span
    return out


def _topo(root: Apply, members: set[int]) -> list[Apply]:
    order, seen = [], set()

    def visit(node):
        if id(node) in seen:
            return
        seen.add(id(node))
        for var in node.inputs:
            if var.owner is not None and id(var.owner) in members:
                visit(var.owner)
        order.append(node)

    visit(root)
    return order
