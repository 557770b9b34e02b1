"""The ``specialize`` rules: the same value by a cheaper route (Theano's ``specialize``).

Powers with a small constant exponent become the dedicated op (which fused kernels inline
as a multiply or a square root instead of a call to ``pow``), and a scalar factor is moved
out of a product of tensors, where it costs one pass over the (usually smaller) result
instead of one over an operand. Each rule states its algebra in its docstring.

    >>> import astsym.tensor as T
    >>> from astsym.graph.fg import FunctionGraph
    >>> from astsym.graph.rewrite import GROUPS, rewrite
    >>> x = T.dvector("x")
    >>> fg = rewrite(FunctionGraph([x], [x**2 + x**0.5]), GROUPS["specialize"])
    >>> [node.op.name for node in fg.toposort()]
    ['square', 'sqrt', 'add']

A power computes in its output dtype (NumPy's ``power`` loops are homogeneous), so each
rule applies its replacement to ``x`` cast to that dtype and the value is NumPy's, up to
rounding: ``x ** 3`` and ``x ** -0.5`` round twice where ``pow`` rounds once. One edge
differs as in Theano: ``-inf ** 0.5`` is ``inf`` but ``sqrt(-inf)`` is ``nan``.
"""

from __future__ import annotations

import numpy as np

from .basic import Constant
from .convert import constant
from .ops import DimShuffle, MatMul, TensorDot, cast, squeeze
from .ops import math as m
from .rewrite import rule, used_only_by


def _power_of(node, exponent: float, floats_only: bool = False):
    """``x`` cast to the output dtype when ``node`` is ``x ** exponent`` (the exponent a
    constant holding that one value), else None."""
    base, c = node.inputs
    dtype = node.outputs[0].dtype
    if not isinstance(c, Constant) or np.size(c.data) != 1 or c.dtype.startswith("complex"):
        return None
    if np.asarray(c.data).reshape(()) != exponent:
        return None
    if floats_only and not dtype.startswith("float"):
        return None  # an integer ** -1 is an error in NumPy: leave it to fail as it does
    return cast(base, dtype)


def _one(like):
    return constant(1, dtype=like.dtype)


@rule(m.power, group="specialize")
def square_from_power(node):
    """x ** 2 -> square(x)."""
    x = _power_of(node, 2)
    return None if x is None else [m.square(x)]


@rule(m.power, group="specialize")
def sqrt_from_power(node):
    """x ** 0.5 -> sqrt(x)."""
    x = _power_of(node, 0.5, floats_only=True)
    return None if x is None else [m.sqrt(x)]


@rule(m.power, group="specialize")
def reciprocal_from_power(node):
    """x ** -1 -> 1 / x (floats only)."""
    x = _power_of(node, -1, floats_only=True)
    return None if x is None else [m.true_divide(_one(x), x)]


@rule(m.power, group="specialize")
def reciprocal_sqrt_from_power(node):
    """x ** -0.5 -> 1 / sqrt(x)."""
    x = _power_of(node, -0.5, floats_only=True)
    return None if x is None else [m.true_divide(_one(x), m.sqrt(x))]


@rule(m.power, group="specialize")
def cube_from_power(node):
    """x ** 3 -> x * square(x) (exact for integers, which wrap the same way)."""
    x = _power_of(node, 3)
    return None if x is None else [m.multiply(x, m.square(x))]


def _scalar_factor(var, node):
    """``(s, a)`` when ``var`` is ``s * a`` (either order) with ``s`` one value broadcast
    over ``a`` (``var`` has ``a``'s type) and ``node`` is the only user of ``var``."""
    owner = var.owner
    if owner is None or owner.op is not m.multiply or not used_only_by(var, node):
        return None
    for s, a in (owner.inputs, owner.inputs[::-1]):
        if all(d == 1 for d in s.type.shape) and a.type == var.type:
            return (squeeze(s) if s.ndim else s), a
    return None


def _scalar_out_of_product(node):
    a, b = node.inputs
    found = _scalar_factor(a, node)
    if found is not None:
        s, a = found
    else:
        found = _scalar_factor(b, node)
        if found is None:
            return None
        s, b = found
    return [m.multiply(s, node.op(a, b))]


@rule(MatMul, group="specialize")
def scalar_out_of_matmul(node):
    """(s * A) @ B -> s * (A @ B); A @ (s * B) -> s * (A @ B), for a scalar s (ndim 0 or
    every dim broadcastable) when nothing else uses s * A: one pass over the product
    instead of one over the operand, and the multiply can fuse with what follows."""
    return _scalar_out_of_product(node)


@rule(TensorDot, group="specialize")
def scalar_out_of_tensordot(node):
    """tensordot(s * A, B) -> s * tensordot(A, B), and likewise for B, for a scalar s when
    nothing else uses s * A (tensordot is linear in each operand)."""
    return _scalar_out_of_product(node)


@rule(DimShuffle, group="specialize")
def matvec_from_column(node):
    """(A @ v[:, None])[:, 0] -> A @ v and (v[None, :] @ B)[0] -> v @ B: a matrix-vector
    product instead of a matrix product with one column, as the gradient of a product with
    a vector builds it (BLAS and the compiled row passes take the vector form)."""
    op, (y,) = node.op, node.inputs
    product = y.owner
    if y.ndim != 2 or product is None or not isinstance(product.op, MatMul):
        return None
    if not used_only_by(y, node):
        return None
    a, b = product.inputs
    if op.new_order == (0,) and a.ndim == 2 and _column_of(b, (0, "x")) is not None:
        return [MatMul()(a, _column_of(b, (0, "x")))]
    if op.new_order == (1,) and b.ndim == 2 and _column_of(a, ("x", 0)) is not None:
        return [MatMul()(_column_of(a, ("x", 0)), b)]
    return None


def _column_of(var, order: tuple):
    """v when ``var`` is the vector v with an axis inserted as ``order`` says, else None."""
    owner = var.owner
    if owner is None or not isinstance(owner.op, DimShuffle) or owner.op.new_order != order:
        return None
    return owner.inputs[0]
