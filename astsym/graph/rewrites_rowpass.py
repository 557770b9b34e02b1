"""The ``fuse_row_pass`` pass: ``X @ w``, the elementwise work that follows it row by row,
the sums of that work over the rows and ``X.T @ g`` become one ``RowPass``
(``graph/ops/rowpass.py``), so X is read once instead of twice.

This is the shape of a linear model's training step: ``z = X @ w``, a loss per row, its
gradient ``g`` per row, then ``X.T @ g`` for the gradient of ``w``. It runs after the fuse
passes, so the row-wise work is already in ``FusedElemwise`` / ``FusedReduce`` nodes:

- the *row nodes* are the fused elementwise nodes between ``z`` and ``g`` (and those that
  use only ``z``, row nodes and outside values), each computing one value per row;
- the sums over the rows of row values (fused or plain sums over axis 0) are taken in;
- every other input of those nodes (a scalar, or a vector with a value per row) must not
  depend on ``z``: the pass computes everything of a row at once.

A row value still used elsewhere becomes an output of the pass (a vector of one value per
row: small next to X).

    >>> import astsym.tensor as T
    >>> from astsym.graph.fg import FunctionGraph
    >>> from astsym.graph.rewrites_fuse import fuse_all
    >>> X, w, y = T.fmatrix("X"), T.fvector("w"), T.fvector("y")
    >>> g = T.tanh(T.dot(X, w)) - y
    >>> fg = FunctionGraph([X, w, y], [T.dot(X.T, g), g.sum()])
    >>> _ = fuse_all(fg)
    >>> fuse_row_pass(fg)
    1
    >>> [node.op.name for node in fg.toposort()]
    ['rowpass{tanh,subtract->xt,sum}']
"""

from __future__ import annotations

from .ops import Alloc, DimShuffle, MatMul, ShapeI
from .ops.fused import FusedElemwise, FusedReduce
from .ops.reduce import Reduce
from .ops.rowpass import RowPass

_FLOATS = ("float32", "float64")


def fuse_row_pass(fg, log=None) -> int:
    """Replace each ``X.T @ g`` whose ``g`` can be computed in the pass of an ``X @ w``;
    the number of passes made."""
    made = 0
    while (found := _find(fg)) is not None:
        _replace(fg, *found, log)
        made += 1
    return made


def _find(fg):
    """``(product, transposed product, plan)`` for the first pair that can share a pass."""
    clients = fg.clients()
    outputs = {id(o) for o in fg.outputs}
    for node in fg.toposort():
        X = _transposed_matvec(node)
        if X is None:
            continue
        for user, _ in clients.get(id(X), []):
            if _is_matvec(user) and user.inputs[0] is X:
                plan = _Plan.make(fg, user, node, clients, outputs)
                if plan is not None:
                    return user, node, plan
    return None


def _is_matvec(node) -> bool:
    if not isinstance(node.op, MatMul):
        return False
    a, b = node.inputs
    dtype = a.dtype
    return (
        a.ndim == 2
        and b.ndim == 1
        and dtype in _FLOATS
        and b.dtype == dtype
        and node.outputs[0].dtype == dtype
    )


def _transposed_matvec(node):
    """X when ``node`` is ``X.T @ g`` for a vector g of X's dtype, else None."""
    if not _is_matvec(node):
        return None
    t = node.inputs[0].owner
    if t is None or not isinstance(t.op, DimShuffle) or t.op.new_order != (1, 0):
        return None
    return t.inputs[0]


class _Plan:
    """The nodes a pass takes in: row nodes in schedule order and the sums over rows."""

    def __init__(self, rows: list, sums: list) -> None:
        self.rows, self.sums = rows, sums

    @classmethod
    def make(cls, fg, product, transposed, clients, outputs):
        """The plan for ``product`` (X @ w) and ``transposed`` (X.T @ g), or None when g
        depends on the product through something a row cannot compute."""
        z, g = product.outputs[0], transposed.inputs[1]
        below = _descendants(z, clients)
        order = [n for n in fg.toposort() if id(n) in below]
        computable, known = set(), {id(z)}
        for node in order:
            if _rowwise(node) and _inputs_ok(node, known, below):
                computable.add(id(node))
                known.add(id(node.outputs[0]))
        if g.owner is not None and id(g.owner) in below and id(g) not in known:
            return None
        needed = _ancestors_within(g, computable)
        rows, known = [], {id(z)}
        for node in order:  # what g needs, and row nodes that only feed sums over rows
            users = [u for u, _ in clients.get(id(node.outputs[0]), [])]
            feeds_sums = users and all(_row_sum(u) for u in users)
            if id(node) in needed or (
                id(node) in computable
                and feeds_sums
                and id(node.outputs[0]) not in outputs
                and _inputs_ok(node, known, below)
            ):
                rows.append(node)
                known.add(id(node.outputs[0]))
        taken = {id(n) for n in rows}
        sums = [
            n for n in order if id(n) not in taken and _row_sum(n) and _inputs_ok(n, known, below)
        ]
        return cls(rows, sums)


def _descendants(var, clients) -> set[int]:
    """The ids of the nodes that use ``var``, directly or not."""
    seen: set[int] = set()
    frontier = [var]
    while frontier:
        for user, _ in clients.get(id(frontier.pop()), []):
            if id(user) not in seen:
                seen.add(id(user))
                frontier.extend(user.outputs)
    return seen


def _ancestors_within(var, members: set[int]) -> set[int]:
    """The ids of the nodes in ``members`` that ``var`` is computed from (its own too)."""
    found: set[int] = set()
    frontier = [var]
    while frontier:
        owner = frontier.pop().owner
        if owner is not None and id(owner) in members and id(owner) not in found:
            found.add(id(owner))
            frontier.extend(owner.inputs)
    return found


def _rowwise(node) -> bool:
    return (
        node is not None
        and isinstance(node.op, FusedElemwise)
        and node.op.inplace < 0
        and node.outputs[0].ndim == 1
    )


def _row_sum(node) -> bool:
    """A sum over the rows of one vector value: ``FusedReduce`` or plain ``Reduce``."""
    op = node.op
    red = op.reduce if isinstance(op, FusedReduce) else op if isinstance(op, Reduce) else None
    if red is None or red.kind != "sum" or red.axes != (0,):
        return False
    if isinstance(op, Reduce) and node.inputs[0].dtype not in _FLOATS:
        return False
    return node.outputs[0].dtype in _FLOATS and all(v.ndim <= 1 for v in node.inputs)


def _inputs_ok(node, known: set[int], below: set[int]) -> bool:
    """Each input is a row value of the pass, or a scalar / per-row vector that does not
    depend on the product (so it exists before the pass runs)."""
    for var in node.inputs:
        if id(var) in known:
            continue
        if var.ndim > 1 or (var.owner is not None and id(var.owner) in below):
            return False
    return True


def _replace(fg, product, transposed, plan: _Plan, log) -> None:
    X, w = product.inputs
    z, g = product.outputs[0], transposed.inputs[1]
    inputs = [X, w]
    refs = {id(z): -1}  # (w used as a row value gets an input of its own)
    steps: list = []

    clients = fg.clients()
    graph_outputs = {id(o) for o in fg.outputs}
    inside = {id(n) for n in plan.rows + plan.sums} | {id(transposed)}

    def ref(var) -> int:
        if id(var) in refs:
            return refs[id(var)]
        users = clients.get(id(var), [])
        if (
            _rowwise(var.owner)
            and id(var) not in graph_outputs
            and all(id(u) in inside for u, _ in users)
        ):  # a row-wise value only the pass uses (1 - y): computed in the pass
            refs[id(var)] = inline(var.owner)
        else:
            inputs.append(var)
            refs[id(var)] = -len(inputs)
        return refs[id(var)]

    def inline(node) -> int:
        """Append a fused node's steps; the ref of its value."""
        args = [ref(v) for v in node.inputs]
        if not node.op.steps:
            return args[0]
        base = len(steps)
        for op, step_refs, dtype in node.op.steps:
            moved = tuple(base + r if r >= 0 else args[-1 - r] for r in step_refs)
            steps.append((op, moved, dtype))
        return len(steps) - 1

    for node in plan.rows:
        refs[id(node.outputs[0])] = inline(node)
    outs: list = [("xt", ref(g))]
    replaced = [transposed.outputs[0]]
    for node in plan.sums:
        value = inline(node) if isinstance(node.op, FusedReduce) else ref(node.inputs[0])
        red = node.op.reduce if isinstance(node.op, FusedReduce) else node.op
        outs.append(("sum", value, red.keepdims, node.outputs[0].dtype))
        replaced.append(node.outputs[0])
    for var in [z] + [n.outputs[0] for n in plan.rows]:
        users = clients.get(id(var), [])
        if id(var) in graph_outputs or any(id(u) not in inside for u, _ in users):
            outs.append(("rows", refs[id(var)]))
            replaced.append(var)
    new = RowPass(tuple(steps), len(inputs), tuple(outs))(*_unfilled(inputs))
    new = new if isinstance(new, list) else [new]
    new[0].owner.span = product.span
    for old, value in zip(replaced, new):
        fg.replace(old, value)
    if log is not None:
        log.record_pass("fuse", "fuse_row_pass", transposed, new[0].owner.op)


def _unfilled(inputs: list) -> list:
    """Each per-row input that is ``alloc(s, n)`` of one value ``s``, where n is the row
    count of X or of another per-row input (which the pass checks), becomes ``s``: the pass
    broadcasts it and the filled vector is never written (the gradient of a mean is one)."""
    X, out = inputs[0], list(inputs)
    checked = [  # per-row inputs that stay vectors, whose lengths the pass checks
        v
        for v in inputs[2:]
        if v.ndim == 1 and v.type.shape[0] != 1 and not (v.owner and isinstance(v.owner.op, Alloc))
    ]
    for k, var in enumerate(inputs[2:], start=2):
        owner = var.owner
        if owner is None or not isinstance(owner.op, Alloc) or var.ndim != 1:
            continue
        value, n = owner.inputs
        if any(d != 1 for d in value.type.shape) or value.dtype != var.dtype:
            continue
        counted = n.owner is not None and isinstance(n.owner.op, ShapeI) and n.owner.op.i == 0
        source = n.owner.inputs[0] if counted else None
        if source is X or any(source is v for v in checked):
            out[k] = value
    return out
