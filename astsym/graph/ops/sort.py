"""Scans along an axis and ordering: cumsum, cumprod, sort, argsort.

>>> import astsym.tensor as T
>>> T.cumsum(T.vector("v")).type
TensorType(float64, vector)
"""

from __future__ import annotations

import numpy as np

from astsym.typecheck.dtypes import sum_dtype
from astsym.typecheck.rules import normalize_axis

from ..basic import Apply
from ..convert import as_tensor_variable
from ..op import Op
from ..type import TensorType
from .shape import flatten


class CumOp(Op):
    """``numpy.cumsum`` / ``numpy.cumprod`` along one axis."""

    props = ("mode", "axis")

    def __init__(self, mode: str, axis: int) -> None:
        self.mode, self.axis = mode, axis

    @property
    def name(self) -> str:
        return "cum" + self.mode

    def make_node(self, x):
        x = as_tensor_variable(x)
        normalize_axis(self.axis, x.ndim)
        return Apply(self, [x], [TensorType(sum_dtype(x.dtype), shape=x.type.shape)])

    def perform(self, node, inputs):
        fn = np.cumsum if self.mode == "sum" else np.cumprod
        return [np.asarray(fn(inputs[0], axis=self.axis), dtype=node.outputs[0].dtype)]

    def grad(self, node, output_grads):
        (x,), (out,), (gz,) = node.inputs, node.outputs, output_grads
        reverse = (slice(None),) * normalize_axis(self.axis, x.ndim) + (slice(None, None, -1),)
        if self.mode == "sum":
            return [cumsum(gz[reverse], self.axis)[reverse]]
        # d out_j / d x_i = out_j / x_i for j >= i (x without zeros, as Theano)
        return [cumsum((gz * out)[reverse], self.axis)[reverse] / x]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]


def _cum(mode):
    def cum(x, axis=None):
        x = as_tensor_variable(x)
        if axis is None:
            x, axis = flatten(x, 1), 0
        return CumOp(mode, normalize_axis(axis, x.ndim))(x)

    cum.__name__ = "cum" + mode
    cum.__doc__ = f"``numpy.cum{mode}``; with ``axis=None`` the input is flattened first."
    return cum


cumsum = _cum("sum")
cumprod = _cum("prod")


class Sort(Op):
    """``numpy.sort`` (``argsort=False``) or ``numpy.argsort`` along one axis (stable)."""

    props = ("axis", "argsort")

    def __init__(self, axis: int, argsort: bool) -> None:
        self.axis, self.argsort = axis, argsort
        self.no_grad_reason = "an index is piecewise constant" if argsort else None

    @property
    def name(self) -> str:
        return "argsort" if self.argsort else "sort"

    def make_node(self, x):
        x = as_tensor_variable(x)
        normalize_axis(self.axis, x.ndim)
        dtype = "int64" if self.argsort else x.dtype
        return Apply(self, [x], [TensorType(dtype, shape=x.type.shape)])

    def perform(self, node, inputs):
        fn = np.argsort if self.argsort else np.sort
        return [np.asarray(fn(inputs[0], axis=self.axis, kind="stable"))]

    def grad(self, node, output_grads):
        from .subtensor import IncSubtensor

        if self.argsort:
            return [None]
        (x,), (gz,) = node.inputs, output_grads
        order = argsort(x, self.axis)
        # out = take_along_axis(x, order): scatter gz back to where each value came from
        index = _along_axis_index(x, order, self.axis)
        spec = ("array",) * x.ndim
        from .create import zeros_like

        return [IncSubtensor(spec, False)(zeros_like(x), gz, *index)]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]


def _along_axis_index(x, order, axis):
    """Index arrays selecting ``x[..., order, ...]`` along ``axis`` (take_along_axis)."""
    from .create import arange
    from .dimshuffle import expand_dims
    from .shape import shape_i

    axis = normalize_axis(axis, x.ndim)
    index = []
    for i in range(x.ndim):
        if i == axis:
            index.append(order)
            continue
        r = arange(shape_i(x, i))
        index.append(expand_dims(r, [j for j in range(x.ndim) if j != i]))
    return index


def sort(x, axis=-1):
    """``numpy.sort`` (stable); ``axis=None`` sorts the flattened array."""
    x = as_tensor_variable(x)
    if axis is None:
        x, axis = flatten(x, 1), 0
    return Sort(normalize_axis(axis, x.ndim), False)(x)


def argsort(x, axis=-1):
    """``numpy.argsort`` (stable); ``axis=None`` sorts the flattened array."""
    x = as_tensor_variable(x)
    if axis is None:
        x, axis = flatten(x, 1), 0
    return Sort(normalize_axis(axis, x.ndim), True)(x)
