"""Products: ``matmul`` and ``tensordot`` ops; ``dot``, ``outer``, ``batched_dot`` on top.

>>> import astsym.tensor as T
>>> (T.matrix("a") @ T.vector("v")).type
TensorType(float64, vector)
"""

from __future__ import annotations

import numpy as np

from astsym.typecheck import RuleError, codes
from astsym.typecheck.dtypes import promote
from astsym.typecheck.rules import matmul_shape, tensordot_axes, tensordot_shape

from ..basic import Apply
from ..convert import as_tensor_variable
from ..op import Op
from ..type import TensorType
from .dimshuffle import expand_dims, squeeze_axes, swapaxes, transpose
from .elemwise import cast


def _operands(a, b):
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    dtype = promote(a.dtype, b.dtype)
    if dtype == "bool":
        dtype = "bool"
    return cast(a, dtype), cast(b, dtype), dtype


class MatMul(Op):
    """``numpy.matmul`` (``a @ b``): batched matrix products with broadcast batch dims."""

    def make_node(self, a, b):
        a, b, dtype = _operands(a, b)
        out = matmul_shape(a.type.shape, b.type.shape, (a.dtype, b.dtype))
        return Apply(self, [a, b], [TensorType(dtype, shape=out)])

    def perform(self, node, inputs):
        a, b = inputs
        try:
            return [np.asarray(np.matmul(a, b))]
        except ValueError as err:
            raise RuleError(codes.MATMUL, f"matmul of {a.shape} and {b.shape}: {err}") from None

    def grad(self, node, output_grads):
        from .reduce import sum_to

        a, b = node.inputs
        (gz,) = output_grads
        a2 = expand_dims(a, 0) if a.ndim == 1 else a
        b2 = expand_dims(b, -1) if b.ndim == 1 else b
        if a.ndim == 1:
            gz = expand_dims(gz, gz.ndim - 1 if b.ndim > 1 else gz.ndim)
        if b.ndim == 1:
            gz = expand_dims(gz, gz.ndim)
        ga = sum_to(matmul(gz, swapaxes(b2, -1, -2)), a2)
        gb = sum_to(matmul(swapaxes(a2, -1, -2), gz), b2)
        ga = squeeze_axes(ga, [0]) if a.ndim == 1 else ga
        gb = squeeze_axes(gb, [gb.ndim - 1]) if b.ndim == 1 else gb
        return [ga, gb]

    def infer_shape(self, node, input_shapes):
        a, b = node.inputs
        sa, ta = _as_matrix_dims(input_shapes[0], a.type.shape, front=True)
        sb, tb = _as_matrix_dims(input_shapes[1], b.type.shape, front=False)
        n = max(len(sa), len(sb)) - 2
        pad = lambda dims: (1,) * (n + 2 - len(dims)) + tuple(dims)  # noqa: E731
        sa, ta, sb, tb = pad(sa), pad(ta), pad(sb), pad(tb)
        batch = tuple(x if t != 1 else y for x, t, y in zip(sa[:n], ta[:n], sb[:n]))
        rows = (sa[-2],) if a.ndim > 1 else ()
        cols = (sb[-1],) if b.ndim > 1 else ()
        return [batch + rows + cols]


def _as_matrix_dims(dims, static, front: bool):
    """Symbolic and static dims of a matmul operand, 1-D promoted as numpy.matmul does."""
    if len(dims) != 1:
        return tuple(dims), tuple(static)
    if front:
        return (1,) + tuple(dims), (1,) + tuple(static)
    return tuple(dims) + (1,), tuple(static) + (1,)


def matmul(a, b):
    """``a @ b`` as ``numpy.matmul``."""
    return MatMul()(a, b)


class TensorDot(Op):
    """``numpy.tensordot`` with constant ``axes``."""

    props = ("axes",)

    def __init__(self, axes) -> None:
        self.axes = axes

    def make_node(self, a, b):
        a, b, dtype = _operands(a, b)
        out = tensordot_shape(a.type.shape, b.type.shape, self.axes)
        return Apply(self, [a, b], [TensorType(dtype, shape=out)])

    def perform(self, node, inputs):
        a, b = inputs
        try:
            return [np.asarray(np.tensordot(a, b, axes=self.axes))]
        except ValueError as err:
            raise RuleError(codes.MATMUL, f"tensordot of {a.shape} and {b.shape}: {err}") from None

    def grad(self, node, output_grads):
        a, b = node.inputs
        (gz,) = output_grads
        xa, xb = tensordot_axes(self.axes, a.ndim, b.ndim)
        fa = [i for i in range(a.ndim) if i not in xa]
        fb = [i for i in range(b.ndim) if i not in xb]
        out_b = list(range(len(fa), len(fa) + len(fb)))
        out_a = list(range(len(fa)))
        ga = tensordot(gz, b, (out_b, fb))  # dims: fa..., then b's xb axes ascending
        gb = tensordot(a, gz, (fa, out_a))  # dims: a's xa axes ascending, then fb...
        return [_reorder(ga, fa, xa, xb), _reorder_b(gb, fb, xa, xb)]

    def infer_shape(self, node, input_shapes):
        sa, sb = input_shapes
        a, b = node.inputs
        xa, xb = tensordot_axes(self.axes, a.ndim, b.ndim)
        return [
            tuple(d for i, d in enumerate(sa) if i not in xa)
            + tuple(d for i, d in enumerate(sb) if i not in xb)
        ]


def _reorder(ga, fa, xa, xb):
    """Put ga's dims (fa..., b's contracted axes ascending) into a's order."""
    source = list(fa) + [xa[xb.index(j)] for j in sorted(xb)]
    return transpose(ga, [source.index(i) for i in range(len(source))])


def _reorder_b(gb, fb, xa, xb):
    """Put gb's dims (a's contracted axes ascending, fb...) into b's order."""
    source = [xb[xa.index(i)] for i in sorted(xa)] + list(fb)
    return transpose(gb, [source.index(i) for i in range(len(source))])


def tensordot(a, b, axes=2):
    """``numpy.tensordot``: contract ``axes`` (an int, or two sequences of axes)."""
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    xa, xb = tensordot_axes(axes, a.ndim, b.ndim)
    return TensorDot((xa, xb))(a, b)


def dot(a, b):
    """``numpy.dot``: scalars multiply, otherwise a's last dim against b's second-last."""
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if b.ndim <= 2:
        return matmul(a, b)
    return tensordot(a, b, ([a.ndim - 1], [b.ndim - 2]))


def outer(x, y):
    """``numpy.outer``: operands are flattened."""
    from .shape import flatten

    x, y = flatten(as_tensor_variable(x), 1), flatten(as_tensor_variable(y), 1)
    return expand_dims(x, 1) * expand_dims(y, 0)


def batched_dot(a, b):
    """Theano's ``batched_dot``: a product per leading index (matmul for 3-D operands)."""
    from .reduce import sum_

    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim == 2 and b.ndim == 2:
        return sum_(a * b, axis=1)
    if a.ndim == 2 and b.ndim == 3:
        return squeeze_axes(matmul(expand_dims(a, 1), b), [1])
    if a.ndim == 3 and b.ndim == 2:
        return squeeze_axes(matmul(a, expand_dims(b, 2)), [2])
    if a.ndim == 3 and b.ndim == 3:
        return matmul(a, b)
    raise RuleError(
        codes.RANK,
        f"batched_dot takes 2-D or 3-D operands, got {a.type.short()} and {b.type.short()}",
    )
