"""Shape ops: symbolic shapes, reshape, dimshuffle, join, repeat, tile, alloc.

>>> import astsym.tensor as T
>>> x = T.matrix("x")
>>> x.dimshuffle(1, "x", 0).broadcastable
(False, True, False)
"""

from __future__ import annotations

import numpy as np

from astsym.typecheck import RuleError, codes
from astsym.typecheck.dtypes import INTEGERS, promote
from astsym.typecheck.rules import (
    concat_shape,
    dimshuffle_shape,
    normalize_axes,
    normalize_axis,
    reshape_shape,
)

from ..basic import Apply, Constant, Variable
from ..convert import as_tensor_variable, constant
from ..op import Op
from ..type import TensorType
from .elemwise import cast


def _int_scalar(value):
    """An int64 scalar variable from an int or an integer scalar variable."""
    if isinstance(value, (int, np.integer)):
        return constant(int(value), dtype="int64")
    var = as_tensor_variable(value)
    if var.ndim != 0 or var.dtype not in INTEGERS:
        raise RuleError(
            codes.BAD_ARGUMENT, f"a size must be an integer scalar, got {var.type.short()}"
        )
    return cast(var, "int64")


def static_value(var):
    """The int a scalar variable surely holds (a constant or a known shape), else None."""
    if isinstance(var, (int, np.integer)):
        return int(var)
    if isinstance(var, Constant) and var.ndim == 0:
        return int(var.data)
    owner = var.owner
    if owner is not None and isinstance(owner.op, ShapeI):
        dim = owner.inputs[0].type.shape[owner.op.i]
        return dim if isinstance(dim, int) else None
    if owner is not None and type(owner.op).__name__ == "Cast":
        return static_value(owner.inputs[0])
    return None


def vector_entries(var) -> list | None:
    """Per entry of an int vector variable: the int it surely holds, or None."""
    if isinstance(var, Constant):
        return [int(v) for v in var.data]
    if var.owner is not None and isinstance(var.owner.op, MakeVector):
        return [static_value(v) for v in var.owner.inputs]
    if var.owner is not None and isinstance(var.owner.op, Shape):
        return list(var.owner.inputs[0].type.shape)
    length = var.type.shape[0]
    return [None] * length if isinstance(length, int) else None


class Shape(Op):
    """The shape of a tensor, as an int64 vector."""

    no_grad_reason = "a shape is an integer"

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [TensorType("int64", shape=(x.ndim,))])

    def perform(self, node, inputs):
        return [np.asarray(inputs[0].shape, dtype="int64")]

    def grad(self, node, output_grads):
        return [None]

    def infer_shape(self, node, input_shapes):
        return [(node.inputs[0].ndim,)]


class ShapeI(Op):
    """One dim of a tensor's shape, as an int64 scalar (Theano's ``Shape_i``)."""

    props = ("i",)
    no_grad_reason = "a shape is an integer"

    def __init__(self, i: int) -> None:
        self.i = i

    def make_node(self, x):
        x = as_tensor_variable(x)
        normalize_axis(self.i, x.ndim)
        return Apply(self, [x], [TensorType("int64", shape=())])

    def perform(self, node, inputs):
        return [np.asarray(inputs[0].shape[self.i], dtype="int64")]

    def grad(self, node, output_grads):
        return [None]

    def infer_shape(self, node, input_shapes):
        return [()]


def shape(x):
    """``x.shape``: an int64 vector; a constant only for a constant ``x``, so ``x`` stays an
    input of the graph (Theano's ``function([x], specify_shape(x, (2, 2)).shape)``); the
    ``canonicalize`` and ``fold`` rewrites turn static dims into constants when compiling."""
    x = as_tensor_variable(x)
    if isinstance(x, Constant) and all(isinstance(d, int) for d in x.type.shape):
        return constant(np.asarray(x.type.shape, dtype="int64"))
    return Shape()(x)


def shape_i(x, i: int):
    """``x.shape[i]`` as a scalar: a constant when the dim is static."""
    x = as_tensor_variable(x)
    dim = x.type.shape[normalize_axis(i, x.ndim)] if x.ndim else None
    if isinstance(dim, int):
        return constant(dim, dtype="int64")
    return ShapeI(normalize_axis(i, x.ndim))(x)


def shape_tuple(x) -> tuple:
    """The shape of ``x`` as a tuple of ints (static dims) and int64 scalars."""
    x = as_tensor_variable(x)
    return tuple(d if isinstance(d, int) else shape_i(x, i) for i, d in enumerate(x.type.shape))


def size(x):
    """The number of elements of ``x``, an int64 scalar."""
    from .reduce import prod

    x = as_tensor_variable(x)
    dims = shape_tuple(x)
    if all(isinstance(d, int) for d in dims):
        return constant(int(np.prod(dims, dtype=np.int64)), dtype="int64")
    return prod(shape(x))


class MakeVector(Op):
    """Scalars into a vector: ``stack`` of scalars, used for symbolic shapes."""

    props = ("dtype",)

    def __init__(self, dtype: str = "int64") -> None:
        self.dtype = dtype

    def make_node(self, *scalars):
        scalars = [cast(as_tensor_variable(s), self.dtype) for s in scalars]
        if any(s.ndim != 0 for s in scalars):
            raise RuleError(codes.RANK, "MakeVector takes scalars")
        return Apply(self, scalars, [TensorType(self.dtype, shape=(len(scalars),))])

    def perform(self, node, inputs):
        return [np.asarray(inputs, dtype=self.dtype).reshape(len(inputs))]

    def grad(self, node, output_grads):
        (gz,) = output_grads
        return [gz[i] for i in range(len(node.inputs))]

    def infer_shape(self, node, input_shapes):
        return [(len(node.inputs),)]


def as_shape_vector(shape_value):
    """A tuple of ints / int scalars, or an int vector variable, as an int64 vector."""
    if isinstance(shape_value, (int, np.integer)):
        shape_value = (shape_value,)
    if isinstance(shape_value, (tuple, list)):
        if all(isinstance(d, (int, np.integer)) for d in shape_value):
            return constant(np.asarray(shape_value, dtype="int64").reshape(len(shape_value)))
        return MakeVector("int64")(*[_int_scalar(d) for d in shape_value])
    var = as_tensor_variable(shape_value)
    if var.ndim != 1 or var.dtype not in INTEGERS:
        raise RuleError(
            codes.BAD_ARGUMENT, f"a shape must be an int vector, got {var.type.short()}"
        )
    return cast(var, "int64")


class Reshape(Op):
    """``x.reshape(shape)``, ``-1`` allowed once; ``shape`` is an int64 vector input."""

    props = ("ndim",)

    def __init__(self, ndim: int) -> None:
        self.ndim = ndim

    def make_node(self, x, shp):
        x = as_tensor_variable(x)
        shp = as_shape_vector(shp)
        entries = vector_entries(shp)
        if entries is None or len(entries) != self.ndim:
            entries = [None] * self.ndim
        rule_entries = [-1 if e == -1 else e for e in entries]
        out = reshape_shape(x.type.shape, rule_entries)
        return Apply(self, [x, shp], [TensorType(x.dtype, shape=out)])

    def perform(self, node, inputs):
        x, shp = inputs
        try:
            return [np.reshape(x, tuple(int(d) for d in shp))]
        except ValueError:
            target = tuple(int(d) for d in shp)
            raise RuleError(codes.RESHAPE, f"cannot reshape {x.shape} into {target}") from None

    def grad(self, node, output_grads):
        x, _ = node.inputs
        return [reshape(output_grads[0], shape(x), ndim=x.ndim), None]

    def infer_shape(self, node, input_shapes):
        from .math import maximum, where
        from .reduce import prod

        x, shp = node.inputs
        out = node.outputs[0].type.shape
        entries = vector_entries(shp) or [None] * len(out)

        def left_over():  # what a -1 entry stands for: size(x) // -prod(shp)
            return prod(as_shape_vector(input_shapes[0])) // maximum(-prod(shp), 1)

        dims = []
        for i, d in enumerate(out):
            if isinstance(d, int):
                dims.append(d)
            elif entries[i] == -1:
                dims.append(left_over())
            elif entries[i] is None:  # may be -1 at run time
                dims.append(where(shp[i] < 0, left_over(), shp[i]))
            else:
                dims.append(shp[i])
        return [tuple(dims)]


def reshape(x, newshape, ndim: int | None = None):
    """``numpy.reshape``; ``newshape`` may hold symbolic sizes or be a symbolic vector."""
    x = as_tensor_variable(x)
    shp = as_shape_vector(newshape)
    length = shp.type.shape[0]
    if ndim is None:
        if not isinstance(length, int):
            raise RuleError(codes.BAD_ARGUMENT, "reshape to a symbolic shape needs ndim=")
        ndim = length
    return Reshape(ndim)(x, shp)


def flatten(x, ndim: int = 1):
    """Keep the first ``ndim - 1`` dims and flatten the rest into one."""
    x = as_tensor_variable(x)
    if not 1 <= ndim <= max(x.ndim, 1):
        raise RuleError(codes.AXIS, f"flatten to {ndim} dims is not valid for {x.type.short()}")
    keep = shape_tuple(x)[: ndim - 1]
    return reshape(x, keep + (-1,))


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


class SpecifyShape(Op):
    """Assert the shape (ints, or None for any) and give the type those static sizes."""

    props = ("shape",)

    def __init__(self, shape) -> None:
        self.shape = tuple(None if d is None else int(d) for d in shape)

    def make_node(self, x):
        x = as_tensor_variable(x)
        if len(self.shape) != x.ndim:
            raise RuleError(codes.RANK, f"specify_shape{self.shape} for {x.type.short()}")
        out = []
        for have, want in zip(x.type.shape, self.shape):
            if want is not None and isinstance(have, int) and have != want:
                raise RuleError(codes.SHAPE, f"{x.type.short()} cannot have shape {self.shape}")
            out.append(have if want is None else want)
        return Apply(self, [x], [TensorType(x.dtype, shape=tuple(out))])

    def perform(self, node, inputs):
        (x,) = inputs
        if any(w is not None and w != h for w, h in zip(self.shape, x.shape)):
            raise RuleError(codes.RUNTIME, f"expected shape {self.shape}, got {x.shape}")
        return [x]

    def grad(self, node, output_grads):
        return [output_grads[0]]

    def infer_shape(self, node, input_shapes):
        return [tuple(i if w is None else w for w, i in zip(self.shape, input_shapes[0]))]


def specify_shape(x, shape):
    """``T.specify_shape(x, (2, None))``; shape entries must be ints or None."""
    return SpecifyShape(tuple(shape))(x)


class Join(Op):
    """``concatenate`` along a constant axis; operands are promoted to a common dtype."""

    props = ("axis",)

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def make_node(self, *tensors):
        tensors = [as_tensor_variable(t) for t in tensors]
        out_shape = concat_shape([t.type.shape for t in tensors], self.axis)
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
        if repeats.ndim != 0:
            raise NotImplementedError("the gradient of repeat with per-element counts")
        axis = normalize_axis(self.axis, x.ndim)
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


class Alloc(Op):
    """A new array of the given shape filled by broadcasting ``value`` (zeros, ones, fill)."""

    def make_node(self, value, *dims):
        value = as_tensor_variable(value)
        dims = [_int_scalar(d) for d in dims]
        if len(dims) < value.ndim:
            raise RuleError(codes.RANK, f"alloc of {value.type.short()} into {len(dims)} dims")
        static = [static_value(d) for d in dims]
        for have, want in zip(reversed(value.type.shape), reversed(static)):
            if isinstance(have, int) and have != 1 and want is not None and have != want:
                raise RuleError(
                    codes.BROADCAST, f"cannot broadcast {value.type.short()} to {static}"
                )
        return Apply(self, [value, *dims], [TensorType(value.dtype, shape=tuple(static))])

    def perform(self, node, inputs):
        value, *dims = inputs
        return [np.array(np.broadcast_to(value, tuple(int(d) for d in dims)))]

    def grad(self, node, output_grads):
        from .reduce import sum_to

        value = node.inputs[0]
        return [sum_to(output_grads[0], value)] + [None] * (len(node.inputs) - 1)

    def infer_shape(self, node, input_shapes):
        return [tuple(node.inputs[1:])]


def alloc(value, *shape):
    """``T.alloc(value, *shape)``: ``value`` broadcast into a new array of ``shape``."""
    return Alloc()(value, *shape)


def broadcast_like(x, like):
    """``x`` broadcast to the shape of ``like`` (a new array)."""
    return alloc(x, *shape_tuple(like))


def normalize_shape_arg(shape) -> tuple:
    if isinstance(shape, (int, np.integer)) or (hasattr(shape, "ndim") and shape.ndim == 0):
        return (shape,)
    if hasattr(shape, "ndim") and shape.ndim == 1:
        entries = vector_entries(shape) or []
        return tuple(shape[i] for i in range(len(entries)))
    return tuple(shape)
