"""``drop_fills``: an elementwise node or fused group that reads a filled array
(``alloc(v, *dims)`` of a value ``v`` with no dim of its own, such as the gradient of a
mean) reads ``v`` itself, broadcast, when another operand already has the shape of the
values it computes; a check that the dims agree keeps the error the fill would have raised
(Theano's ``local_elemwise_alloc``).

The gpu backend runs it after fusion, so a fill becomes a scalar argument of the fused
kernel instead of a kernel launch of its own.

    >>> import astsym.tensor as T
    >>> from astsym.graph.fg import FunctionGraph
    >>> x = T.dvector("x")
    >>> fg = FunctionGraph([x], [x * T.alloc(2.0, x.shape[0])])
    >>> drop_fills(fg)
    1
    >>> "alloc" in [node.op.name for node in fg.toposort()]
    False
"""

from __future__ import annotations

from functools import reduce

from .fg import FunctionGraph
from .ops import math as m
from .ops.check import check
from .ops.create import Alloc
from .ops.dimshuffle import expand_dims
from .ops.elemwise import Elemwise
from .ops.fused import FusedElemwise, FusedReduce, FusedSoftmax
from .ops.shape import shape_i

#: the nodes whose inputs are broadcast together elementwise
ELEMENTWISE = (Elemwise, FusedElemwise, FusedReduce, FusedSoftmax)


def drop_fills(fg: FunctionGraph, log=None) -> int:
    """Replace the fills elementwise nodes read by their values; the number of nodes
    changed."""
    made = 0
    for node in fg.toposort():
        if not isinstance(node.op, ELEMENTWISE) or len(node.inputs) < 2:
            continue
        out = node.outputs[0]
        ndim = max(v.ndim for v in node.inputs)  # the rank of the broadcast values
        shaper = next((u for u in node.inputs if _gives_shape(u, ndim)), None)
        if shaper is None:
            continue
        values = [_value_of_fill(var, shaper, ndim) for var in node.inputs]
        inputs = [var if value is None else value for var, value in zip(node.inputs, values)]
        if all(new is old for new, old in zip(inputs, node.inputs)):
            continue
        new = node.op(*inputs)
        if new.type != out.type:
            continue  # the fill made the output's type more specific: keep it
        new.owner.span = node.span
        fg.replace(out, new)
        if log is not None:
            log.record_pass("fuse", "drop_fill", node)
        made += 1
    return made


def _gives_shape(var, ndim: int) -> bool:
    """An operand of the output's rank with no broadcastable dim, not itself a fill."""
    owner = var.owner
    return (
        var.ndim == ndim
        and all(d != 1 for d in var.type.shape)
        and not (owner is not None and isinstance(owner.op, Alloc))
    )


def _value_of_fill(var, shaper, ndim: int):
    """``v``, broadcastable to rank ``ndim`` and checked against ``shaper``'s dims, when
    ``var`` is ``alloc(v, *dims)`` of that rank with ``v`` of size 1; else None."""
    owner = var.owner
    if owner is None or not isinstance(owner.op, Alloc) or var.ndim != ndim:
        return None
    value, *dims = owner.inputs
    if any(d != 1 for d in value.type.shape) or len(dims) != ndim:
        return None
    same = [m.equal(shape_i(shaper, i), dim) for i, dim in enumerate(dims)]
    agreed = reduce(m.logical_and, same) if same else None
    if value.ndim < ndim:
        value = expand_dims(value, tuple(range(ndim - value.ndim)))
    if agreed is None:
        return value
    message = f"a filled array of the shape of {shaper} has another shape"
    return check(value, agreed, message)
