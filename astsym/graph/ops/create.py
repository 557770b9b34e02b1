"""Creating arrays: arange, eye, zeros/ones (and their ``_like`` forms), fill, copies.

>>> import astsym.tensor as T
>>> T.zeros((2, 3)).type
TensorType(float64, shape=(2, 3))
"""

from __future__ import annotations

import numpy as np

from astsym.typecheck import RuleError, codes
from astsym.typecheck.dtypes import as_dtype, promote

from ..basic import Apply
from ..convert import as_tensor_variable, constant
from ..op import Op
from ..type import TensorType
from .elemwise import cast
from .shape import _int_scalar, normalize_shape_arg, shape_tuple, static_value


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


class ARange(Op):
    """``numpy.arange(start, stop, step)`` with scalar inputs."""

    props = ("dtype",)
    no_grad_reason = "the values depend on the bounds in steps"

    def __init__(self, dtype: str) -> None:
        self.dtype = dtype

    def make_node(self, start, stop, step):
        inputs = [as_tensor_variable(v) for v in (start, stop, step)]
        if any(v.ndim for v in inputs):
            raise RuleError(codes.RANK, "arange bounds must be scalars")
        values = [static_value(v) if v.dtype.startswith(("int", "uint")) else None for v in inputs]
        length = None
        if all(v is not None for v in values):
            if values[2] == 0:
                raise RuleError(codes.BAD_ARGUMENT, "arange step cannot be zero")
            length = len(range(*values))
        return Apply(self, inputs, [TensorType(self.dtype, shape=(length,))])

    def perform(self, node, inputs):
        start, stop, step = (v.item() for v in inputs)
        if step == 0:
            raise RuleError(codes.RUNTIME, "arange step cannot be zero")
        return [np.arange(start, stop, step, dtype=self.dtype)]

    def grad(self, node, output_grads):
        return [None, None, None]

    def infer_shape(self, node, input_shapes):
        raise NotImplementedError("symbolic arange length")


def arange(start, stop=None, step=1, dtype=None):
    """``numpy.arange``; bounds may be symbolic scalars."""
    if stop is None:
        start, stop = 0, start
    values = [v if hasattr(v, "owner") else _bound(v) for v in (start, stop, step)]
    if dtype is None:
        dtype = promote(*[as_tensor_variable(v).dtype for v in values])
    return ARange(as_dtype(dtype))(*values)


def _bound(value):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return constant(int(value), dtype="int64")
    return as_tensor_variable(value)


class Eye(Op):
    """``numpy.eye(n, m, k)`` with scalar inputs."""

    props = ("dtype",)
    no_grad_reason = "the values are constant"

    def __init__(self, dtype: str) -> None:
        self.dtype = dtype

    def make_node(self, n, m, k):
        n, m, k = (_int_scalar(v) for v in (n, m, k))
        return Apply(
            self, [n, m, k], [TensorType(self.dtype, shape=(static_value(n), static_value(m)))]
        )

    def perform(self, node, inputs):
        n, m, k = (int(v) for v in inputs)
        return [np.eye(n, m, k, dtype=self.dtype)]

    def grad(self, node, output_grads):
        return [None, None, None]

    def infer_shape(self, node, input_shapes):
        return [(node.inputs[0], node.inputs[1])]


def eye(n, m=None, k=0, dtype=None):
    """``numpy.eye``: ones on the ``k``-th diagonal."""
    return Eye(as_dtype(dtype or "floatX"))(n, n if m is None else m, k)


def identity_like(x, dtype=None):
    """An identity matrix of the shape of the matrix ``x``."""
    x = as_tensor_variable(x)
    if x.ndim != 2:
        raise RuleError(codes.RANK, f"identity_like takes a matrix, got {x.type.short()}")
    rows, cols = shape_tuple(x)
    return eye(rows, cols, 0, dtype or x.dtype)


def zeros(shape, dtype=None):
    """``numpy.zeros``; ``shape`` may hold symbolic sizes."""
    dtype = as_dtype(dtype or "floatX")
    return alloc(constant(0, dtype=dtype), *normalize_shape_arg(shape))


def ones(shape, dtype=None):
    """``numpy.ones``; ``shape`` may hold symbolic sizes."""
    dtype = as_dtype(dtype or "floatX")
    return alloc(constant(1, dtype=dtype), *normalize_shape_arg(shape))


def full(shape, fill_value, dtype=None):
    """``numpy.full``."""
    value = as_tensor_variable(fill_value)
    return alloc(cast(value, dtype) if dtype else value, *normalize_shape_arg(shape))


def zeros_like(x, dtype=None):
    """Zeros of the shape (and dtype) of ``x``."""
    x = as_tensor_variable(x)
    return alloc(constant(0, dtype=dtype or x.dtype), *shape_tuple(x))


def ones_like(x, dtype=None):
    """Ones of the shape (and dtype) of ``x``."""
    x = as_tensor_variable(x)
    return alloc(constant(1, dtype=dtype or x.dtype), *shape_tuple(x))


def fill(model, value):
    """Theano's ``fill``: ``value`` broadcast to the shape of ``model``."""
    model = as_tensor_variable(model)
    return alloc(value, *shape_tuple(model))


class TensorCopy(Op):
    """A copy of its input (``x.copy()``); keeps outputs from aliasing inputs."""

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type])

    def perform(self, node, inputs):
        return [np.array(inputs[0])]

    def grad(self, node, output_grads):
        return [output_grads[0]]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]


def tensor_copy(x):
    return TensorCopy()(x)
