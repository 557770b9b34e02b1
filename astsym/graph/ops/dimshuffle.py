"""Rearranging dims: dimshuffle, transpose, swapaxes, expand_dims, squeeze.

>>> import astsym.tensor as T
>>> x = T.matrix("x")
>>> x.dimshuffle(1, "x", 0).broadcastable
(False, True, False)
"""

from __future__ import annotations

import numpy as np

from astsym.typecheck import RuleError, codes
from astsym.typecheck.rules import (
    dimshuffle_shape,
    normalize_axes,
    normalize_axis,
)

from ..basic import Apply
from ..convert import as_tensor_variable
from ..op import Op
from ..type import TensorType
from .shape import specify_shape


class DimShuffle(Op):
    """Theano's dimshuffle: permute dims, insert broadcastable dims ('x'), drop size-1 dims."""

    props = ("input_ndim", "new_order")

    def __init__(self, input_ndim: int, new_order) -> None:
        self.input_ndim = input_ndim
        self.new_order = tuple(o if o == "x" else int(o) for o in new_order)
        self.kept = [i for i in self.new_order if i != "x"]
        self.dropped = [i for i in range(input_ndim) if i not in self.kept]

    def make_node(self, x):
        x = as_tensor_variable(x)
        if x.ndim != self.input_ndim:
            raise RuleError(
                codes.RANK, f"dimshuffle for rank {self.input_ndim} got {x.type.short()}"
            )
        out = dimshuffle_shape(x.type.shape, self.new_order)
        return Apply(self, [x], [TensorType(x.dtype, shape=out)])

    def perform(self, node, inputs):
        (x,) = inputs
        y = np.transpose(x, self.kept + self.dropped)
        return [y.reshape(tuple(1 if o == "x" else x.shape[o] for o in self.new_order))]

    def grad(self, node, output_grads):
        (gz,) = output_grads
        gz = squeeze_axes(gz, [i for i, o in enumerate(self.new_order) if o == "x"])
        inverse = [0] * self.input_ndim
        for pos, axis in enumerate(self.kept):
            inverse[axis] = pos
        order = ["x" if i in self.dropped else inverse[i] for i in range(self.input_ndim)]
        remap = {axis: rank for rank, axis in enumerate(sorted(set(inverse[a] for a in self.kept)))}
        order = [o if o == "x" else remap[o] for o in order]
        return [gz.dimshuffle(order)]

    def infer_shape(self, node, input_shapes):
        (shp,) = input_shapes
        return [tuple(1 if o == "x" else shp[o] for o in self.new_order)]

    def __str__(self) -> str:
        return "DimShuffle{" + ",".join(str(o) for o in self.new_order) + "}"


def dimshuffle(x, pattern):
    x = as_tensor_variable(x)
    pattern = tuple(pattern)
    if pattern == tuple(range(x.ndim)):
        return x
    return DimShuffle(x.ndim, pattern)(x)


def squeeze_axes(x, axes):
    """Drop the given axes, which must be broadcastable."""
    return dimshuffle(x, [i for i in range(x.ndim) if i not in set(axes)])


def transpose(x, axes=None):
    """Reverse (or permute by ``axes``) the dims, as ``numpy.transpose``."""
    x = as_tensor_variable(x)
    axes = tuple(reversed(range(x.ndim))) if axes is None else normalize_axes(axes, x.ndim)
    if len(axes) != x.ndim:
        raise RuleError(codes.AXIS, f"transpose axes {axes} do not match rank {x.ndim}")
    return dimshuffle(x, axes)


def swapaxes(x, axis1: int, axis2: int):
    x = as_tensor_variable(x)
    order = list(range(x.ndim))
    a, b = normalize_axis(axis1, x.ndim), normalize_axis(axis2, x.ndim)
    order[a], order[b] = order[b], order[a]
    return dimshuffle(x, order)


def expand_dims(x, axis):
    """Insert size-1 dims at ``axis`` (an int or a tuple), as ``numpy.expand_dims``."""
    x = as_tensor_variable(x)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    ndim = x.ndim + len(axes)
    axes = normalize_axes(axes, ndim)
    rest = iter(range(x.ndim))
    return dimshuffle(x, ["x" if i in axes else next(rest) for i in range(ndim)])


def squeeze(x, axis=None):
    """Drop size-1 dims: every broadcastable dim, or the given axes (checked at run time)."""
    x = as_tensor_variable(x)
    if axis is None:
        return squeeze_axes(x, [i for i, b in enumerate(x.broadcastable) if b])
    axes = normalize_axes(axis, x.ndim)
    if any(not x.broadcastable[a] for a in axes):
        x = specify_shape(x, tuple(1 if i in axes else None for i in range(x.ndim)))
    return squeeze_axes(x, axes)
