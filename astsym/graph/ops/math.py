"""The elementwise math library: every op with its NumPy reference, template and gradient.

>>> import astsym.tensor as T
>>> x = T.dvector("x")
>>> exp(x).owner.op.template
'exp({0})'
"""

from __future__ import annotations

import math as _math

import numpy as np

from astsym.typecheck.dtypes import upcast_to_float

from .elemwise import NOT_DIFFERENTIABLE, PIECEWISE_CONSTANT, elementwise

LN2, LN10 = _math.log(2.0), _math.log(10.0)
TWO_OVER_SQRT_PI = 2.0 / _math.sqrt(_math.pi)


def _as_float(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    return x.astype(upcast_to_float(x.dtype.name), copy=False)


def _sigmoid(x):
    x = _as_float(x)
    return 1 / (1 + np.exp(-x))


def _softplus(x):
    x = _as_float(x)
    return np.logaddexp(np.zeros((), x.dtype), x)


def _from_math(fn):
    """A NumPy reference for a scalar ``math`` function (computed in float64)."""
    vector = np.vectorize(fn, otypes=[np.float64])

    def impl(x):
        x = _as_float(x)
        if x.dtype.kind == "c":  # the cast below would drop the imaginary part
            raise TypeError(f"{fn.__name__} is not defined for complex operands")
        return vector(x.astype(np.float64)).astype(x.dtype)

    return impl


def _round_half_away(x):
    """Round half away from zero exactly: ``trunc``, then one step where the fraction is at
    least 1/2 (``floor(x + 0.5)`` rounds 0.49999999999999994 up and loses large int64s)."""
    x = np.asarray(x)
    if x.dtype.kind in "biu":
        return np.round(x)  # already whole; bool gives float16, as round_half_to_even
    whole = np.trunc(x)
    return whole + np.where(np.abs(x - whole) >= 0.5, np.sign(x), 0).astype(x.dtype)


# -- unary, floating result ------------------------------------------------------------
exp = elementwise("exp", np.exp, "exp({0})", lambda x, out, gz: [gz * out])
exp2 = elementwise("exp2", np.exp2, "exp2({0})", lambda x, out, gz: [gz * out * LN2])
log = elementwise("log", np.log, "log({0})", lambda x, out, gz: [gz / x])
log2 = elementwise("log2", np.log2, "log2({0})", lambda x, out, gz: [gz / (x * LN2)])
log10 = elementwise("log10", np.log10, "log10({0})", lambda x, out, gz: [gz / (x * LN10)])
log1p = elementwise("log1p", np.log1p, "log1p({0})", lambda x, out, gz: [gz / (1 + x)])
expm1 = elementwise("expm1", np.expm1, "expm1({0})", lambda x, out, gz: [gz * (out + 1)])
sqrt = elementwise("sqrt", np.sqrt, "sqrt({0})", lambda x, out, gz: [gz / (2 * out)])
sin = elementwise("sin", np.sin, "sin({0})", lambda x, out, gz: [gz * cos(x)])
cos = elementwise("cos", np.cos, "cos({0})", lambda x, out, gz: [-gz * sin(x)])
tan = elementwise("tan", np.tan, "tan({0})", lambda x, out, gz: [gz * (1 + out * out)])
arcsin = elementwise("arcsin", np.arcsin, "asin({0})", lambda x, out, gz: [gz / sqrt(1 - x * x)])
arccos = elementwise("arccos", np.arccos, "acos({0})", lambda x, out, gz: [-gz / sqrt(1 - x * x)])
arctan = elementwise("arctan", np.arctan, "atan({0})", lambda x, out, gz: [gz / (1 + x * x)])
sinh = elementwise("sinh", np.sinh, "sinh({0})", lambda x, out, gz: [gz * cosh(x)])
cosh = elementwise("cosh", np.cosh, "cosh({0})", lambda x, out, gz: [gz * sinh(x)])
tanh = elementwise("tanh", np.tanh, "tanh({0})", lambda x, out, gz: [gz * (1 - out * out)])
arcsinh = elementwise(
    "arcsinh", np.arcsinh, "asinh({0})", lambda x, out, gz: [gz / sqrt(x * x + 1)]
)
arccosh = elementwise(
    "arccosh", np.arccosh, "acosh({0})", lambda x, out, gz: [gz / sqrt(x * x - 1)]
)
arctanh = elementwise("arctanh", np.arctanh, "atanh({0})", lambda x, out, gz: [gz / (1 - x * x)])
sigmoid = elementwise(
    "sigmoid",
    _sigmoid,
    "1 / (1 + exp(-{0}))",
    lambda x, out, gz: [gz * out * (1 - out)],
    doc="The logistic function ``1 / (1 + exp(-x))``.",
)
softplus = elementwise(
    "softplus",
    _softplus,
    "softplus({0})",
    lambda x, out, gz: [gz * sigmoid(x)],
    doc="``log(1 + exp(x))``, computed without overflow.",
)
erf = elementwise(
    "erf",
    _from_math(_math.erf),
    "erf({0})",
    lambda x, out, gz: [gz * TWO_OVER_SQRT_PI * exp(-x * x)],
    doc="The error function.",
)
erfc = elementwise(
    "erfc",
    _from_math(_math.erfc),
    "erfc({0})",
    lambda x, out, gz: [-gz * TWO_OVER_SQRT_PI * exp(-x * x)],
    doc="The complementary error function ``1 - erf(x)``.",
)

# -- unary, same kind as the operand ---------------------------------------------------
negative = elementwise("negative", np.negative, "-{0}", lambda x, out, gz: [-gz])
square = elementwise("square", np.square, "{0} * {0}", lambda x, out, gz: [gz * 2 * x])
abs = elementwise("abs", np.abs, "abs({0})", lambda x, out, gz: [gz * sign(x)])
sign = elementwise("sign", np.sign, "sign({0})", PIECEWISE_CONSTANT)
floor = elementwise("floor", np.floor, "floor({0})", PIECEWISE_CONSTANT)
ceil = elementwise("ceil", np.ceil, "ceil({0})", PIECEWISE_CONSTANT)
trunc = elementwise("trunc", np.trunc, "trunc({0})", PIECEWISE_CONSTANT)
round_half_to_even = elementwise(
    "round_half_to_even",
    np.round,
    "rint({0})",
    PIECEWISE_CONSTANT,
    doc="Round to the nearest integer, ties to even (``numpy.round``).",
)
round_half_away_from_zero = elementwise(
    "round_half_away_from_zero",
    _round_half_away,
    "round({0})",
    PIECEWISE_CONSTANT,
    doc="Round to the nearest integer, ties away from zero (C's ``round``).",
)
logical_not = elementwise("logical_not", np.logical_not, "!{0}", PIECEWISE_CONSTANT)
invert = elementwise("invert", np.invert, "invert({0})", PIECEWISE_CONSTANT)
isnan = elementwise("isnan", np.isnan, "isnan({0})", PIECEWISE_CONSTANT)
isinf = elementwise("isinf", np.isinf, "isinf({0})", PIECEWISE_CONSTANT)

# -- binary arithmetic -----------------------------------------------------------------
add = elementwise("add", np.add, "{0} + {1}", lambda x, y, out, gz: [gz, gz], nin=2)
subtract = elementwise("subtract", np.subtract, "{0} - {1}", lambda x, y, out, gz: [gz, -gz], nin=2)
multiply = elementwise(
    "multiply", np.multiply, "{0} * {1}", lambda x, y, out, gz: [gz * y, gz * x], nin=2
)
true_divide = elementwise(
    "true_divide",
    np.true_divide,
    "{0} / {1}",
    lambda x, y, out, gz: [gz / y, -gz * out / y],
    nin=2,
)
floor_divide = elementwise(
    "floor_divide", np.floor_divide, "floor_div({0}, {1})", PIECEWISE_CONSTANT, nin=2
)
mod = elementwise(
    "mod",
    np.mod,
    "py_mod({0}, {1})",
    lambda x, y, out, gz: [gz, -gz * floor_divide(x, y)],
    nin=2,
    doc="Remainder with the sign of the divisor, as Python's and NumPy's ``%``.",
)
power = elementwise(
    "power",
    np.power,
    "pow({0}, {1})",
    lambda x, y, out, gz: [gz * y * x ** (y - 1), gz * out * log(x)],
    nin=2,
)
maximum = elementwise(
    "maximum",
    np.maximum,
    "max({0}, {1})",
    lambda x, y, out, gz: [gz * (x >= y), gz * (x < y)],
    nin=2,
    doc="Elementwise maximum; NaN propagates. At ties the gradient goes to the first operand.",
)
minimum = elementwise(
    "minimum",
    np.minimum,
    "min({0}, {1})",
    lambda x, y, out, gz: [gz * (x <= y), gz * (x > y)],
    nin=2,
    doc="Elementwise minimum; NaN propagates. At ties the gradient goes to the first operand.",
)
arctan2 = elementwise(
    "arctan2",
    np.arctan2,
    "atan2({0}, {1})",
    lambda y, x, out, gz: [gz * x / (x * x + y * y), -gz * y / (x * x + y * y)],
    nin=2,
)

# -- comparisons and logic -------------------------------------------------------------
less = elementwise("less", np.less, "{0} < {1}", PIECEWISE_CONSTANT, nin=2)
greater = elementwise("greater", np.greater, "{0} > {1}", PIECEWISE_CONSTANT, nin=2)
less_equal = elementwise("less_equal", np.less_equal, "{0} <= {1}", PIECEWISE_CONSTANT, nin=2)
greater_equal = elementwise(
    "greater_equal", np.greater_equal, "{0} >= {1}", PIECEWISE_CONSTANT, nin=2
)
equal = elementwise("equal", np.equal, "{0} == {1}", PIECEWISE_CONSTANT, nin=2)
not_equal = elementwise("not_equal", np.not_equal, "{0} != {1}", PIECEWISE_CONSTANT, nin=2)
logical_and = elementwise(
    "logical_and", np.logical_and, "logical_and({0}, {1})", PIECEWISE_CONSTANT, nin=2
)
logical_or = elementwise(
    "logical_or", np.logical_or, "logical_or({0}, {1})", PIECEWISE_CONSTANT, nin=2
)
logical_xor = elementwise(
    "logical_xor", np.logical_xor, "logical_xor({0}, {1})", PIECEWISE_CONSTANT, nin=2
)
bitwise_and = elementwise(
    "bitwise_and", np.bitwise_and, "bitwise_and({0}, {1})", PIECEWISE_CONSTANT, nin=2
)
bitwise_or = elementwise(
    "bitwise_or", np.bitwise_or, "bitwise_or({0}, {1})", PIECEWISE_CONSTANT, nin=2
)
bitwise_xor = elementwise(
    "bitwise_xor", np.bitwise_xor, "bitwise_xor({0}, {1})", PIECEWISE_CONSTANT, nin=2
)

# -- ternary ---------------------------------------------------------------------------
where = elementwise(
    "where",
    np.where,
    "select({0}, {1}, {2})",
    lambda c, a, b, out, gz: [None, where(c, gz, 0), where(c, 0, gz)],
    nin=3,
    doc="``where(cond, a, b)``: a where cond is true, else b; both are computed (Theano's "
    "``switch``). For a lazy choice on a scalar condition use ``ifelse``.",
)
clip = elementwise(
    "clip",
    np.clip,  # NumPy's promotion of the three operands at once (int8, uint8, f16 -> f16)
    "min(max({0}, {1}), {2})",
    lambda x, lo, hi, out, gz: [
        where((x >= lo) & (x <= hi), gz, 0),
        where(x < lo, gz, 0),
        where(x > hi, gz, 0),
    ],
    nin=3,
    doc="``clip(x, lo, hi)``: ``minimum(maximum(x, lo), hi)``.",
)

del NOT_DIFFERENTIABLE  # every op above either has a gradient or is piecewise constant


def round(x, mode: str = "half_to_even"):
    """Round to integers: ``half_to_even`` (NumPy) or ``half_away_from_zero`` (C)."""
    if mode == "half_to_even":
        return round_half_to_even(x)
    if mode == "half_away_from_zero":
        return round_half_away_from_zero(x)
    raise ValueError(f"round mode must be 'half_to_even' or 'half_away_from_zero', got {mode!r}")
