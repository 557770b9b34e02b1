"""The CUDA C++ scalar vocabulary that the GPU kernels' rendered templates call.

An op's template (``exp({0})``, ``py_mod({0}, {1})``, ``select({0}, {1}, {2})``) names
functions of this vocabulary without prefix; ``cuda_render`` rewrites each call to the
prefixed name (``as_exp``) and converts every argument to one C type first, so each call
picks exactly one of the explicit overloads below (no templates, no std headers: the same
text compiles under NVRTC and, with ``#define __device__``, under a host C++ compiler).
Every function reproduces NumPy's scalar loop for that dtype: NaN-propagating ``max``,
``floor_div``/``py_mod`` with Python's signs and 0 on a zero divisor, integer ``pow`` by
squaring, wrap-around integer arithmetic.

    >>> c_type("int64")
    'long long'
    >>> "as_exp(float x)" in VOCABULARY
    True
"""

from __future__ import annotations

import numpy as np


class Unsupported(Exception):
    """A node with no CUDA form (a dtype such as float16 or complex, an op without a
    template); the runtime then runs it another way."""


#: C type of each supported dtype, spelled as CuPy's kernel parameters spell them.
C_TYPES = {
    "bool": "bool",
    "int8": "signed char",
    "int16": "short",
    "int32": "int",
    "int64": "long long",
    "uint8": "unsigned char",
    "uint16": "unsigned short",
    "uint32": "unsigned int",
    "uint64": "unsigned long long",
    "float32": "float",
    "float64": "double",
}
_FLOATS = {"float": "f", "double": ""}  # C type -> suffix of the C99 math function
_SIGNED = ["signed char", "short", "int", "long long"]
_UNSIGNED = ["unsigned char", "unsigned short", "unsigned int", "unsigned long long"]
_INTS = _SIGNED + _UNSIGNED
_ALL = ["bool", *_INTS, *_FLOATS]


def c_type(dtype: str) -> str:
    """The C type of ``dtype``; Unsupported for float16, complex and the rest."""
    try:
        return C_TYPES[np.dtype(dtype).name]
    except (KeyError, TypeError):
        raise Unsupported(f"no CUDA scalar type for {dtype}") from None


def wrap_type(dtype: str) -> str:
    """The unsigned C type integer arithmetic on ``dtype`` wraps in (no signed overflow, no
    promotion of narrow unsigned types to ``int``)."""
    return "unsigned long long" if np.dtype(dtype).itemsize == 8 else "unsigned int"


def _wide(t: str) -> str:
    return "unsigned long long" if "long long" in t else "unsigned int"


_UNARY_MATH = (
    "exp exp2 log log2 log10 log1p expm1 sqrt sin cos tan asin acos atan sinh cosh tanh "
    "asinh acosh atanh erf erfc floor ceil trunc rint round"
).split()
_WHOLE = ("floor", "ceil", "trunc", "rint", "round")  # identity on integers


def _fn(ret: str, name: str, params: str, body: str) -> str:
    return f"__device__ inline {ret} as_{name}({params}) {{ {body} }}"


def _float_functions(t: str, f: str) -> list[str]:
    nan = "x != x"
    lines = [_fn(t, n, f"{t} x", f"return {n}{f}(x);") for n in _UNARY_MATH]
    lines += [
        _fn(t, "atan2", f"{t} a, {t} b", f"return atan2{f}(a, b);"),
        _fn(t, "pow", f"{t} a, {t} b", f"return pow{f}(a, b);"),
        _fn(t, "abs", f"{t} x", f"return fabs{f}(x);"),
        _fn(t, "max", f"{t} a, {t} b", "return (a >= b || a != a) ? a : b;"),
        _fn(t, "min", f"{t} a, {t} b", "return (a <= b || a != a) ? a : b;"),
        _fn(t, "sign", f"{t} x", f"return x > 0 ? ({t})1 : x < 0 ? ({t})-1 : x == 0 ? ({t})0 : x;"),
        _fn("bool", "isnan", f"{t} x", f"return {nan};"),
        _fn("bool", "isinf", f"{t} x", "return x == x && x - x != x - x;"),
        # NumPy's logaddexp(0, x): no overflow for large x, log(2) at 0
        _fn(
            t,
            "softplus",
            f"{t} x",
            f"if (x == 0) return ({t})0.693147180559945309417232121458176568; "
            f"if (x > 0) return x + log1p{f}(exp{f}(-x)); "
            f"if (x < 0) return log1p{f}(exp{f}(x)); return x;",
        ),
        # NumPy's npy_divmod: fmod, then the quotient and remainder moved to Python's signs
        _fn(
            t,
            "py_mod",
            f"{t} a, {t} b",
            f"{t} m = fmod{f}(a, b); if (b == 0) return m; "
            f"if (m != 0) {{ if ((b < 0) != (m < 0)) m += b; }} else m = copysign{f}(({t})0, b); "
            "return m;",
        ),
        _fn(
            t,
            "floor_div",
            f"{t} a, {t} b",
            f"if (b == 0) return a / b; {t} m = fmod{f}(a, b); {t} d = (a - m) / b; "
            f"if (m != 0 && ((b < 0) != (m < 0))) d -= 1; "
            f"if (d == 0) return copysign{f}(({t})0, a / b); "
            f"{t} q = floor{f}(d); if (d - q > ({t})0.5) q += 1; return q;",
        ),
    ]
    return lines


def _int_functions(t: str) -> list[str]:
    w, signed = _wide(t), t in _SIGNED
    neg = f"({t})(0 - ({w})a)"  # wraps at the most negative value, as NumPy does
    lines = [_fn(t, n, f"{t} x", "return x;") for n in _WHOLE]
    lines += [
        _fn(
            t, "abs", f"{t} x", f"return x < 0 ? ({t})(0 - ({w})x) : x;" if signed else "return x;"
        ),
        _fn(t, "sign", f"{t} x", f"return ({t})((x > 0) - (x < 0));"),
        _fn("bool", "isnan", f"{t} x", "return false;"),
        _fn("bool", "isinf", f"{t} x", "return false;"),
        _fn(t, "invert", f"{t} x", f"return ({t})~x;"),
        _fn(
            t,
            "pow",
            f"{t} a, {t} b",
            ("if (b < 0) return 0; " if signed else "") + f"{w} r = 1, p = ({w})a, e = ({w})b; "
            "while (e) { if (e & 1) r *= p; p *= p; e >>= 1; } "
            f"return ({t})r;",
        ),
    ]
    if signed:
        lines += [
            _fn(
                t,
                "floor_div",
                f"{t} a, {t} b",
                f"if (b == 0) return 0; if (b == -1) return {neg}; "
                f"{t} q = ({t})(a / b); if (a % b != 0 && ((a < 0) != (b < 0))) q -= 1; return q;",
            ),
            _fn(
                t,
                "py_mod",
                f"{t} a, {t} b",
                f"if (b == 0 || b == -1) return 0; {t} r = ({t})(a % b); "
                f"if (r != 0 && ((r < 0) != (b < 0))) r = ({t})(r + b); return r;",
            ),
        ]
    else:
        lines += [
            _fn(t, "floor_div", f"{t} a, {t} b", f"return b == 0 ? ({t})0 : ({t})(a / b);"),
            _fn(t, "py_mod", f"{t} a, {t} b", f"return b == 0 ? ({t})0 : ({t})(a % b);"),
        ]
    return lines


def _bool_functions() -> list[str]:
    t = "bool"
    lines = [_fn(t, n, "bool x", "return x;") for n in (*_WHOLE, "abs", "sign")]
    lines += [
        _fn(t, "isnan", "bool x", "return false;"),
        _fn(t, "isinf", "bool x", "return false;"),
        _fn(t, "invert", "bool x", "return !x;"),
        _fn(t, "pow", "bool a, bool b", "return a || !b;"),
    ]
    return lines


def _any_type_functions(t: str) -> list[str]:
    lines = [
        _fn(t, "select", f"bool c, {t} a, {t} b", "return c ? a : b;"),
        _fn("bool", "logical_and", f"{t} a, {t} b", "return (a != 0) && (b != 0);"),
        _fn("bool", "logical_or", f"{t} a, {t} b", "return (a != 0) || (b != 0);"),
        _fn("bool", "logical_xor", f"{t} a, {t} b", "return (a != 0) != (b != 0);"),
    ]
    if t not in _FLOATS:
        lines += [
            _fn(t, "max", f"{t} a, {t} b", "return a >= b ? a : b;"),
            _fn(t, "min", f"{t} a, {t} b", "return a <= b ? a : b;"),
            _fn(t, "bitwise_and", f"{t} a, {t} b", f"return ({t})(a & b);"),
            _fn(t, "bitwise_or", f"{t} a, {t} b", f"return ({t})(a | b);"),
            _fn(t, "bitwise_xor", f"{t} a, {t} b", f"return ({t})(a ^ b);"),
        ]
    return lines


#: comparison operator -> vocabulary name, for int64 against uint64 (NumPy compares those
#: exactly; C would convert the signed operand to unsigned)
MIXED_COMPARISONS = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge", "==": "eq", "!=": "ne"}


def _mixed_comparisons() -> list[str]:
    s, u = "long long", "unsigned long long"
    lines = []
    for op, name in MIXED_COMPARISONS.items():
        # a negative signed value is below every unsigned one
        below_su = {"<": "true", "<=": "true", ">": "false", ">=": "false"}.get(op)
        below_su = below_su or ("false" if op == "==" else "true")
        below_us = {"<": "false", "<=": "false", ">": "true", ">=": "true"}.get(op)
        below_us = below_us or ("false" if op == "==" else "true")
        lines.append(
            _fn(
                "bool",
                f"cmp_{name}",
                f"{s} a, {u} b",
                f"return a < 0 ? {below_su} : ({u})a {op} b;",
            )
        )
        lines.append(
            _fn(
                "bool",
                f"cmp_{name}",
                f"{u} a, {s} b",
                f"return b < 0 ? {below_us} : a {op} ({u})b;",
            )
        )
    return lines


def _vocabulary() -> str:
    lines = ["#ifndef ASTSYM_CUDA_SCALAR_1", "#define ASTSYM_CUDA_SCALAR_1"]
    for t, f in _FLOATS.items():
        lines += _float_functions(t, f)
    for t in _INTS:
        lines += _int_functions(t)
    lines += _bool_functions()
    for t in _ALL:
        lines += _any_type_functions(t)
    lines += _mixed_comparisons()
    lines.append("#endif")
    return "\n".join(lines) + "\n"


#: The vocabulary, guarded so that several kernels' preambles can be compiled together.
VOCABULARY = _vocabulary()

#: The names a template may call.
NAMES = frozenset(
    line.split("as_", 1)[1].split("(", 1)[0] for line in VOCABULARY.splitlines() if "as_" in line
)

__all__ = ["C_TYPES", "NAMES", "VOCABULARY", "Unsupported", "c_type", "wrap_type"]
