"""The ``fuse`` passes: maximal groups of elementwise nodes become one ``FusedElemwise``; a
group whose only user is a reduction or a softmax is folded into it (``FusedReduce``,
``FusedSoftmax``), so the group's values are never stored; and ``make_inplace`` lets a
group write into a dead intermediate's buffer.

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
from .ops import math as m
from .ops.dimshuffle import expand_dims, squeeze_axes
from .ops.elemwise import Cast, Elemwise
from .ops.fused import FusedElemwise, FusedReduce, FusedSoftmax
from .ops.reduce import Reduce

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
    if op.name == "power":  # vector math pow on operands converted to the float result
        return out in _FLOATS and all(d in _FLOATS or np.dtype(d).kind in "iu" for d in ins)
    if op.name == "where":
        return out in _FLOATS and ins[0] == "bool" and all(d in _FLOATS for d in ins[1:])
    return op.name in FUSIBLE and out in _FLOATS and all(d in _FLOATS for d in ins)


def fuse_all(fg: FunctionGraph, log=None, duplicate: bool = False) -> int:
    """Every fusion pass in order; the number of fused nodes made. ``duplicate`` (the gpu
    backend, where a kernel launch costs more than computing a few values twice): an
    elementwise node that several groups use is computed inside each of them."""
    made = fuse_softmax(fg, log) + fuse(fg, log, duplicate)
    return made + fuse_reductions(fg, log, duplicate)


#: with ``duplicate``, a group grows through shared producers up to this many steps
MAX_DUPLICATED_GROUP = 32


def fuse(fg: FunctionGraph, log=None, duplicate: bool = False) -> int:
    """Replace each maximal group of fusible nodes (one node is a group too, so it runs as a
    kernel); the number of groups made. With ``duplicate``, a group also takes in producers
    that other nodes use, which keep their own copy (so no kernel is launched for a value
    every user of which recomputes it)."""
    made = 0
    clients = fg.clients()
    outputs = {id(o) for o in fg.outputs}
    done: set[int] = set()
    live = None  # with ``duplicate``: the nodes still in the graph, after the last group
    for root in reversed(fg.toposort()):
        if id(root) in done or not fusible(root):
            continue
        if duplicate:
            live = live or {id(node) for node in fg.toposort()}
            if id(root) not in live:
                continue  # every user took in its own copy: nothing needs this one
            live = None
        group = _grow(root, clients, outputs, duplicate)
        done.update(id(n) for n in group if not duplicate or _private(n, group, clients))
        fused = _build(root, group)
        fg.replace(root.outputs[0], fused)
        _record(log, "fuse_elemwise", root, fused)
        made += 1
    return made


def _private(node, group, clients) -> bool:
    """Whether every user of ``node`` is in ``group`` (it needs no group of its own)."""
    members = {id(n) for n in group}
    return all(id(user) in members for user, _ in clients.get(id(node.outputs[0]), []))


def fuse_softmax(fg: FunctionGraph, log=None) -> int:
    """exp(z - max(z, -1)) / sum(exp(z - max(z, -1)), -1), both keeping dims -> a
    ``FusedSoftmax`` of z, when no part of it is used elsewhere."""
    made = 0
    clients = fg.clients()
    outputs = {id(o) for o in fg.outputs}
    for node in fg.toposort():
        z = _softmax_input(node, clients, outputs)
        if z is not None:
            _replace(fg, node, FusedSoftmax((), 1)(z), log, "fuse_softmax")
            made += 1
    return made


def fuse_reductions(fg: FunctionGraph, log=None, duplicate: bool = False) -> int:
    """Each float sum/prod/max/min becomes a ``FusedReduce``, with the elementwise group that
    only it uses folded in; a ``FusedSoftmax`` takes in its group likewise. Reductions of the
    same value that differ only in ``keepdims`` are computed once."""
    made = 0
    clients = fg.clients()
    outputs = {id(o) for o in fg.outputs}
    computed: dict[tuple, object] = {}
    for node in fg.toposort():
        op = node.op
        if isinstance(op, FusedSoftmax) and not op.steps:
            steps, inputs = _producer_group(node.inputs[0], clients, outputs, duplicate)
            if steps:
                out = FusedSoftmax(steps, len(inputs))(*inputs)
                _replace(fg, node, out, log, "fuse_softmax_input")
                made += 1
            continue
        if not _reducible(node):
            continue
        x = node.inputs[0]
        key = (id(x), op.kind, op.axes, op.dtype)
        if key in computed:
            twin = computed[key]
            out = expand_dims(twin, op.axes) if op.keepdims else squeeze_axes(twin, op.axes)
            _replace(fg, node, out, log, "merge_keepdims")
            continue
        steps, inputs = _producer_group(x, clients, outputs, duplicate)
        out = FusedReduce(steps, len(inputs), op)(*inputs)
        computed[key] = out
        _replace(fg, node, out, log, "fuse_reduction")
        made += 1
    return made


def make_inplace(fg: FunctionGraph, log=None) -> int:
    """A ``FusedElemwise`` writes its output into an input's buffer when that input is a
    fused kernel's fresh result of the output's type that nothing else uses (a dead
    intermediate); the number of groups changed."""
    made = 0
    clients = fg.clients()
    outputs = {id(o) for o in fg.outputs}
    fused_kinds = (FusedElemwise, FusedReduce, FusedSoftmax)
    for node in fg.toposort():
        op, out = node.op, node.outputs[0]
        if not isinstance(op, FusedElemwise) or op.inplace >= 0:
            continue
        for k, var in enumerate(node.inputs):
            if (
                var.owner is not None
                and isinstance(var.owner.op, fused_kinds)
                and id(var) not in outputs
                and len(clients.get(id(var), [])) == 1
                and var.type == out.type
            ):
                new = FusedElemwise(op.steps, op.nin, inplace=k)(*node.inputs)
                _replace(fg, node, new, log, "inplace_elemwise", group="inplace")
                made += 1
                break
    return made


def _softmax_input(node, clients, outputs):
    """z when ``node`` divides exp(z - max(z)) by its sum over the last axis, else None."""
    if node.op is not m.true_divide or node.outputs[0].dtype not in _FLOATS:
        return None
    e, total = node.inputs
    last = (e.ndim - 1,)
    if not _is_reduce(total, "sum", last, e) or e.owner is None or e.owner.op is not m.exp:
        return None
    shifted = e.owner.inputs[0]
    if shifted.owner is None or shifted.owner.op is not m.subtract:
        return None
    z, peak = shifted.owner.inputs
    if not _is_reduce(peak, "max", last, z) or z.type != e.type:
        return None
    private = [(total, 1), (e, 2), (shifted, 1), (peak, 1)]
    if any(id(v) in outputs or len(clients.get(id(v), [])) != n for v, n in private):
        return None
    return z


def _is_reduce(var, kind: str, axes: tuple, of) -> bool:
    owner = var.owner
    return (
        owner is not None
        and isinstance(owner.op, Reduce)
        and owner.op.kind == kind
        and owner.op.axes == axes
        and owner.op.keepdims
        and owner.op.dtype is None
        and owner.inputs[0] is of
    )


def _reducible(node) -> bool:
    op = node.op
    return (
        isinstance(op, Reduce)
        and op.kind in ("sum", "prod", "max", "min")
        and bool(op.axes)
        and node.inputs[0].dtype in _FLOATS
        and node.outputs[0].dtype in _FLOATS
    )


def _producer_group(var, clients, outputs, duplicate=False) -> tuple[tuple, list]:
    """The steps and inputs of the ``FusedElemwise`` computing ``var`` when only one node
    uses it (with ``duplicate``: any number), else no steps and ``var`` itself."""
    owner = var.owner
    if (
        owner is not None
        and isinstance(owner.op, FusedElemwise)
        and (
            (id(var) not in outputs and len(clients.get(id(var), [])) == 1)
            or (duplicate and len(owner.op.steps) <= MAX_DUPLICATED_GROUP)
        )
    ):
        return owner.op.steps, list(owner.inputs)
    return (), [var]


def _replace(fg, node, out, log, name: str, group: str = "fuse") -> None:
    out.owner.span = node.span
    fg.replace(node.outputs[0], out)
    _record(log, name, node, out, group)


def _record(log, name: str, node, out, group: str = "fuse") -> None:
    if log is not None:
        log.record_pass(group, name, node, out.owner.op)


def _grow(root: Apply, clients: dict, outputs: set, duplicate: bool = False) -> list[Apply]:
    shape = root.outputs[0].type.shape
    group, members = [root], {id(root)}
    frontier = [root]
    while frontier:
        node = frontier.pop()
        for var in node.inputs:
            producer = var.owner
            if producer is None or id(producer) in members or not fusible(producer):
                continue
            if var.type.shape != shape or (id(var) in outputs and not duplicate):
                continue
            shared = not all(id(user) in members for user, _ in clients.get(id(var), []))
            if shared and (not duplicate or len(group) >= MAX_DUPLICATED_GROUP):
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
