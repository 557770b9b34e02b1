"""Shape ops: symbolic shapes (``x.shape``), reshape, flatten, specify_shape.

>>> import astsym.tensor as T
>>> T.matrix("x").reshape((-1,)).type
TensorType(float64, vector)
"""

from __future__ import annotations

import numpy as np

from astsym.typecheck import RuleError, codes
from astsym.typecheck.dtypes import INTEGERS
from astsym.typecheck.rules import (
    normalize_axis,
    reshape_shape,
)

from ..basic import Apply, Constant
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


def normalize_shape_arg(shape) -> tuple:
    if isinstance(shape, (int, np.integer)) or (hasattr(shape, "ndim") and shape.ndim == 0):
        return (shape,)
    if hasattr(shape, "ndim") and shape.ndim == 1:
        entries = vector_entries(shape) or []
        return tuple(shape[i] for i in range(len(entries)))
    return tuple(shape)
