"""Joining and repeating: concatenate/join, stack, repeat, tile.

>>> import astsym.tensor as T
>>> T.stack([T.vector("a"), T.vector("b")]).ndim
2
"""

from __future__ import annotations

import numpy as np

from astsym.typecheck import RuleError, codes
from astsym.typecheck.dtypes import promote
from astsym.typecheck.rules import (
    concat_shape,
    normalize_axis,
)

from ..basic import Apply, Constant, Variable
from ..convert import as_tensor_variable
from ..op import Op
from ..type import TensorType
from .dimshuffle import expand_dims
from .elemwise import cast
from .shape import flatten, reshape, shape_i, shape_tuple, static_value


class Join(Op):
    """``concatenate`` along a constant axis; operands are promoted to a common dtype."""

    props = ("axis",)

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def make_node(self, *tensors):
        tensors = [as_tensor_variable(t) for t in tensors]
        out_shape = concat_shape(
            [t.type.shape for t in tensors], self.axis, [t.dtype for t in tensors]
        )
        dtype = promote(*[t.dtype for t in tensors])
        tensors = [cast(t, dtype) for t in tensors]
        return Apply(self, tensors, [TensorType(dtype, shape=out_shape)])

    def perform(self, node, inputs):
        try:
            return [np.concatenate(inputs, axis=self.axis)]
        except ValueError as err:
            shapes = ", ".join(str(v.shape) for v in inputs)
            raise RuleError(codes.SHAPE, f"cannot concatenate {shapes}: {err}") from None

    def grad(self, node, output_grads):
        (gz,) = output_grads
        axis = normalize_axis(self.axis, gz.ndim)
        grads, start = [], 0
        for t in node.inputs:
            stop = start + shape_i(t, axis)
            index = (slice(None),) * axis + (slice(start, stop),)
            grads.append(gz[index])
            start = stop
        return grads

    def infer_shape(self, node, input_shapes):
        axis = normalize_axis(self.axis, node.outputs[0].ndim)
        dims = list(input_shapes[0])
        for shp in input_shapes[1:]:
            dims[axis] = dims[axis] + shp[axis]
        return [tuple(dims)]


def concatenate(tensors, axis: int = 0):
    """``numpy.concatenate``."""
    tensors = list(tensors)
    if len(tensors) == 1:
        return as_tensor_variable(tensors[0])
    return Join(int(axis))(*tensors)


def join(axis: int, *tensors):
    """Theano's ``join(axis, *tensors)``."""
    if isinstance(axis, Variable):
        axis = static_value(axis)
        if axis is None:
            raise RuleError(codes.BAD_ARGUMENT, "join needs a constant int axis")
    return concatenate(tensors, axis)


def stack(tensors, axis: int = 0):
    """``numpy.stack``: join along a new axis."""
    tensors = [as_tensor_variable(t) for t in tensors]
    if not tensors:
        raise RuleError(codes.SHAPE, "stack needs at least one operand")
    return Join(int(axis))(*[expand_dims(t, axis) for t in tensors])


class Repeat(Op):
    """``numpy.repeat(x, repeats, axis)``; ``repeats`` an int scalar or vector input."""

    props = ("axis",)

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def make_node(self, x, repeats):
        x, repeats = as_tensor_variable(x), cast(as_tensor_variable(repeats), "int64")
        if repeats.ndim > 1:
            raise RuleError(codes.RANK, "repeats must be an int scalar or vector")
        axis = normalize_axis(self.axis, x.ndim)
        dims = list(x.type.shape)
        count, dim = static_value(repeats) if repeats.ndim == 0 else None, dims[axis]
        dims[axis] = count * dim if isinstance(count, int) and isinstance(dim, int) else None
        if isinstance(repeats, Constant) and repeats.ndim == 1:
            dims[axis] = int(repeats.data.sum())
        return Apply(self, [x, repeats], [TensorType(x.dtype, shape=tuple(dims))])

    def perform(self, node, inputs):
        x, repeats = inputs
        return [np.repeat(x, repeats, axis=self.axis)]

    def grad(self, node, output_grads):
        from .reduce import sum as sum_

        x, repeats = node.inputs
        axis = normalize_axis(self.axis, x.ndim)
        if repeats.ndim == 1:  # scatter-add each output slice back to the element it copies
            from .create import arange, zeros_like
            from .subtensor import IncSubtensor

            source = repeat(arange(shape_i(x, axis)), repeats, 0)
            spec = (("slice", False, False, False),) * axis + ("array",)
            return [IncSubtensor(spec, False)(zeros_like(x), output_grads[0], source), None]
        dims = shape_tuple(x)
        split = dims[:axis] + (dims[axis], repeats) + dims[axis + 1 :]
        return [sum_(reshape(output_grads[0], split), axis=axis + 1), None]

    def infer_shape(self, node, input_shapes):
        from .reduce import sum as sum_

        x, repeats = node.inputs
        dims = list(input_shapes[0])
        axis = normalize_axis(self.axis, x.ndim)
        dims[axis] = dims[axis] * repeats if repeats.ndim == 0 else sum_(repeats)
        return [tuple(dims)]


def repeat(x, repeats, axis=None):
    """``numpy.repeat``; with ``axis=None`` the input is flattened first."""
    x = as_tensor_variable(x)
    if axis is None:
        x, axis = flatten(x, 1), 0
    return Repeat(int(axis))(x, repeats)


class Tile(Op):
    """``numpy.tile`` with constant repetition counts."""

    props = ("reps",)

    def __init__(self, reps) -> None:
        self.reps = tuple(int(r) for r in reps)

    def make_node(self, x):
        x = as_tensor_variable(x)
        ndim = max(x.ndim, len(self.reps))
        reps = (1,) * (ndim - len(self.reps)) + self.reps
        dims = (1,) * (ndim - x.ndim) + tuple(x.type.shape)
        out = tuple(
            r * d if isinstance(d, int) else (d if r == 1 else None) for r, d in zip(reps, dims)
        )
        return Apply(self, [x], [TensorType(x.dtype, shape=out)])

    def perform(self, node, inputs):
        return [np.tile(inputs[0], self.reps)]

    def grad(self, node, output_grads):
        from .reduce import sum as sum_

        (x,) = node.inputs
        (gz,) = output_grads
        ndim = gz.ndim
        reps = (1,) * (ndim - len(self.reps)) + self.reps
        dims = (1,) * (ndim - x.ndim) + shape_tuple(x)
        split = tuple(v for r, d in zip(reps, dims) for v in (r, d))
        g = sum_(reshape(gz, split), axis=tuple(range(0, 2 * ndim, 2)))
        return [reshape(g, shape_tuple(x)) if ndim != x.ndim else g]

    def infer_shape(self, node, input_shapes):
        x = node.inputs[0]
        ndim = node.outputs[0].ndim
        reps = (1,) * (ndim - len(self.reps)) + self.reps
        dims = (1,) * (ndim - x.ndim) + tuple(input_shapes[0])
        return [tuple(r * d for r, d in zip(reps, dims))]


def tile(x, reps):
    reps = (reps,) if isinstance(reps, int) else tuple(reps)
    return Tile(reps)(x)
