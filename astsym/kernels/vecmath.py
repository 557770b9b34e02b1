"""Vector math library: scalar float32/float64 functions that LLVM vectorizes inside a Numba loop.

A Numba loop that calls ``math.exp``/``tanh``/``log`` makes one libm call per element, which
stops LLVM's loop vectorizer (llvmlite ships no SVML), so a fused loop runs 5-6x slower than
NumPy's SIMD ufuncs. The functions here are the same mathematics written as straight-line
arithmetic that LLVM can turn into packed (ymm/zmm) instructions:

- **range reduction** ``x = k ln2 + r`` with ``k`` rounded by the 1.5 * 2**mantissa "shifter"
  trick, and ``r`` computed with a two-part ln 2 through ``llvm.fma`` (``_fma``), so no
  fast-math reassociation can undo the cancellation;
- **a fitted polynomial** on the reduced range (Chebyshev interpolants computed in long
  double by ``fit_polynomial``; ``derive_coefficients`` reproduces every table) evaluated by
  Horner's rule with FMAs;
- **exponent arithmetic by bit casts** (``_bits`` / ``_from_bits``: an LLVM ``bitcast``
  between float32<->int32 and float64<->int64) for ``2**k`` and for splitting ``x = 2**k m``;
  ``2**k`` is applied as two factors so subnormal results round once and ``k = 128``/``1024``
  overflows to ``inf`` exactly where the true result does;
- **branch-free special cases**: every ``a if c else b`` chooses between two values already
  computed, which LLVM lowers to ``select``; clamps are written ``hi if x > hi else x`` so a
  NaN falls through and propagates.

Everything is ``@njit(inline="always", error_model="numpy")``: inlined at the Numba IR level
into the caller's loop, with no per-element division check. No fast-math flag is used: the
algorithms do not need reassociation, and flags that assume no NaN/inf would break the
special cases. ``prefer_wide_vectors()`` (call it in a kernel's loop body) asks LLVM for
512-bit vectors on CPUs whose tuning otherwise prefers 256 bits.

``pow(x, y)`` is ``exp(y log|x|)`` plus C99/NumPy's special cases; ``pow64`` carries
``log|x|`` and ``y log|x|`` in double-double (exact to ~2**-63 relative), ``pow32`` evaluates
it with the float64 ``log`` and ``exp``; ``y == 2`` is ``x * x``, exactly as NumPy's square.
``sigmoid`` is ``e / (1 + e)`` or ``1 / (1 + e)`` with ``e = exp(-|x|)``, ``softplus`` is
``max(x, 0) + log1p(exp(-|x|))``, ``tanh`` and ``erf`` switch (by ``select``) between an odd
polynomial near 0 and an ``expm1``/``erfc``-based form.

Measured accuracy against a correctly rounded reference (``benchmarks/vecmath_accuracy.py``)
is within 2 ulp for float32 exp/log/tanh, 3 ulp for the rest, 3 ulp for float64; special
values (NaN, +-inf, +-0, subnormals, overflow and underflow thresholds) match NumPy.

>>> import numba
>>> exp = FUNCTIONS["exp", "float32"]
>>> @numba.njit(error_model="numpy")
... def kernel(x, out):
...     for i in range(x.size):
...         out[i] = exp(x[i]) + x[i]  # exp is inlined; the loop is vectorized
>>> x = np.array([0.0, 1.0], np.float32)
>>> out = np.empty_like(x)
>>> kernel(x, out)
>>> out.tolist()
[1.0, 3.7182817459106445]
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import NamedTuple

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

# -- bit casts, conversions and fused multiply-add -----------------------------------------------


@intrinsic
def _bits(typingctx, x):
    """The IEEE bits of a float32 (as int32) or float64 (as int64): an LLVM ``bitcast``."""
    if x not in (types.float32, types.float64):
        return None
    width = x.bitwidth

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(width))

    return getattr(types, f"int{width}")(x), codegen


def _resize(builder, value, bits: int, width: int):
    """An LLVM integer of ``bits`` bits truncated or sign-extended to ``width`` bits."""
    if bits > width:
        return builder.trunc(value, ir.IntType(width))
    return builder.sext(value, ir.IntType(width)) if bits < width else value


@intrinsic
def _from_bits(typingctx, i, like):
    """The float of ``like``'s type whose bits are the low bits of the integer ``i``."""
    if not isinstance(i, types.Integer) or like not in (types.float32, types.float64):
        return None

    def codegen(context, builder, signature, args):
        value = _resize(builder, args[0], i.bitwidth, like.bitwidth)
        return builder.bitcast(value, context.get_value_type(like))

    return like(i, like), codegen


@intrinsic
def _wrap(typingctx, i, like):
    """``i`` as an integer of ``like``'s float width, wrapping. Numba computes int32 + int32 in
    int64; wrapping back tells LLVM that 32-bit lanes suffice for float32."""
    if not isinstance(i, types.Integer) or like not in (types.float32, types.float64):
        return None

    def codegen(context, builder, signature, args):
        return _resize(builder, args[0], i.bitwidth, like.bitwidth)

    return getattr(types, f"int{like.bitwidth}")(i, like), codegen


@intrinsic
def _to_float(typingctx, i, like):
    """The integer ``i`` converted (``sitofp``) to ``like``'s float type through an integer of
    the float's width (as ``_wrap``: keeps float32 lanes in 32-bit integers)."""
    if not isinstance(i, types.Integer) or like not in (types.float32, types.float64):
        return None

    def codegen(context, builder, signature, args):
        value = _resize(builder, args[0], i.bitwidth, like.bitwidth)
        return builder.sitofp(value, context.get_value_type(like))

    return like(i, like), codegen


@intrinsic
def _fma(typingctx, a, b, c):
    """``a * b + c`` with one rounding (``llvm.fma``): never reassociated or split."""
    if a not in (types.float32, types.float64) or not a == b == c:
        return None

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return a(a, b, c), codegen


@intrinsic
def _trunc(typingctx, x):
    """``x`` rounded toward zero, as a float (``llvm.trunc``: ``vroundps`` when vectorized)."""
    if x not in (types.float32, types.float64):
        return None

    def codegen(context, builder, signature, args):
        fnty = ir.FunctionType(args[0].type, [args[0].type])
        fn = builder.module.declare_intrinsic(f"llvm.trunc.f{x.bitwidth}", fnty=fnty)
        return builder.call(fn, args)

    return x(x), codegen


@intrinsic
def prefer_wide_vectors(typingctx):
    """Mark the enclosing compiled function ``"prefer-vector-width"="512"``.

    LLVM's tuning for recent Intel cores prefers 256-bit vectors; a transcendental-heavy loop
    runs about 2x faster in zmm registers. Call it anywhere in the loop body (it emits no
    code); on CPUs without AVX-512 it changes nothing.

    >>> @numba.njit(error_model="numpy")
    ... def kernel(x, out):
    ...     for i in range(x.size):
    ...         prefer_wide_vectors()
    ...         out[i] = exp32(x[i])
    """

    def codegen(context, builder, signature, args):
        # llvmlite only accepts the attribute names it knows; a key-value string attribute,
        # put into its set directly, is printed verbatim into the ``define`` line, which is
        # what LLVM reads. Should llvmlite's representation change, this is a no-op.
        try:
            set.add(builder.function.attributes, '"prefer-vector-width"="512"')
        except TypeError:  # pragma: no cover - not a set any more
            pass
        return context.get_dummy_value()

    return types.none(), codegen


# -- constants ---------------------------------------------------------------------------------


class _Consts(NamedTuple):
    """Every constant of the algorithms for one dtype (a Numba compile-time constant)."""

    one: float
    half: float
    two: float
    three: float
    zero: float
    inf: float
    nan: float
    # IEEE layout
    mbits: int  # explicit mantissa bits (23, 52)
    bias: int  # exponent bias (127, 1023)
    emax: int  # largest exponent of a finite power of two
    mask: int  # mantissa mask
    min_normal: float
    subnormal_scale: float  # 2**mbits: lifts a subnormal into the normal range
    sqrt_half_bits: int  # bits of sqrt(1/2): log's mantissa lands in [sqrt(1/2), sqrt(2))
    log_shift: int  # bits(1.0) - sqrt_half_bits
    # exp: x = k ln2 + r
    log2e: float
    shifter: float  # 1.5 * 2**mbits: adding it rounds to an integer
    shifter_bits: int
    ln2_hi: float  # ln 2 = ln2_hi + ln2_lo, used with fma
    ln2_lo: float
    ln2_hi_short: float  # ln 2 to few bits, so that k * ln2_hi_short is exact
    ln2_lo_short: float
    exp_hi: float  # above: overflow to inf
    exp_lo: float  # below: underflow to 0
    expm1_lo: float  # below: expm1 rounds to -1
    tiny: float  # below (in magnitude): expm1(x) and log1p(x) round to x
    exp_q: tuple  # exp(r) = 1 + r + r**2 q(r), |r| <= ln2 / 2
    log_p: tuple  # log1p(f) = 2 atanh(s) = 2 s + s**3 p(s**2)
    tanh_thr: float  # below: odd polynomial; above: expm1 form
    tanh_max: float  # above: tanh rounds to 1
    tanh_p: tuple  # tanh(x) = x + x**3 p(x**2)
    erf_thr: float  # below: odd polynomial; above: 1 - exp(-x**2) erfcx(x)
    erf_max: float  # above: erf rounds to 1
    erf_k: float  # erfcx is fitted in t = (x - k) / (x + k) - center
    erf_center: float
    erf_small: tuple  # erf(x) = x + x e(x**2)
    erf_large: tuple  # erfcx(x) = h(t)
    pow_p0_lo: float  # pow's log: p(z) = (pow_p[0] + pow_p0_lo) + z pow_p[1:](z) (float64)
    pow_p: tuple


def _table(dtype, *values: float) -> tuple:
    return tuple(dtype(v) for v in values)


_f32, _i32 = np.float32, np.int32
_C32 = _Consts(
    one=_f32(1), half=_f32(0.5), two=_f32(2), three=_f32(3), zero=_f32(0),
    inf=_f32(np.inf), nan=_f32(np.nan),
    mbits=_i32(23), bias=_i32(127), emax=_i32(127), mask=_i32(0x007FFFFF),
    min_normal=_f32(2.0**-126), subnormal_scale=_f32(2.0**23),
    sqrt_half_bits=_i32(0x3F3504F3), log_shift=_i32(0x3F800000 - 0x3F3504F3),
    log2e=_f32(1.4426950408889634), shifter=_f32(1.5 * 2**23), shifter_bits=_i32(0x4B400000),
    ln2_hi=_f32(0.6931472), ln2_lo=_f32(-1.9046542e-09),
    ln2_hi_short=_f32(float.fromhex("0x1.62e4p-1")), ln2_lo_short=_f32(1.4286068e-06),
    exp_hi=_f32(89.0), exp_lo=_f32(-104.0), expm1_lo=_f32(-30.0), tiny=_f32(2.0**-26),
    exp_q=_table(_f32, 0.5, 0.16666576266288757, 0.041666556149721146, 0.008363177999854088,
                 0.0013926181709393859),
    log_p=_table(_f32, 0.6666668653488159, 0.3998875617980957, 0.2958110272884369),
    tanh_thr=_f32(0.625), tanh_max=_f32(10.0),
    tanh_p=_table(_f32, -0.3333333432674408, 0.13333304226398468, -0.053959257900714874,
                  0.02176891826093197, -0.008343945257365704, 0.002292744815349579),
    erf_thr=_f32(1.0), erf_max=_f32(3.95), erf_k=_f32(2.0),
    erf_center=_f32((1.95 / 5.95 - 1 / 3) / 2),
    erf_small=_table(_f32, 0.12837916612625122, -0.3761262595653534, 0.11283594369888306,
                     -0.02685421146452427, 0.005189087241888046, -0.000801686430349946,
                     7.875874871388078e-05),
    erf_large=_table(_f32, 0.256594181060791, -0.4285416603088379, 0.24232205748558044,
                     -0.07900990545749664, 0.003634331515058875, 0.0068280636332929134,
                     -0.0008196926792152226),
    pow_p0_lo=_f32(0.0), pow_p=(),
)  # fmt: skip

_f64, _i64 = np.float64, np.int64
_C64 = _Consts(
    one=_f64(1), half=_f64(0.5), two=_f64(2), three=_f64(3), zero=_f64(0),
    inf=_f64(np.inf), nan=_f64(np.nan),
    mbits=_i64(52), bias=_i64(1023), emax=_i64(1023), mask=_i64(0x000FFFFFFFFFFFFF),
    min_normal=_f64(2.0**-1022), subnormal_scale=_f64(2.0**52),
    sqrt_half_bits=_i64(0x3FE6A09E667F3BCD),
    log_shift=_i64(0x3FF0000000000000 - 0x3FE6A09E667F3BCD),
    log2e=_f64(1.4426950408889634), shifter=_f64(1.5 * 2**52),
    shifter_bits=_i64(0x4338000000000000),
    ln2_hi=_f64(0.6931471805599453), ln2_lo=_f64(2.3201926491189795e-17),
    ln2_hi_short=_f64(float.fromhex("0x1.62e42feep-1")),
    ln2_lo_short=_f64(1.9082149293851713e-10),
    exp_hi=_f64(710.0), exp_lo=_f64(-746.0), expm1_lo=_f64(-60.0), tiny=_f64(2.0**-55),
    exp_q=_table(_f64, 0.5000000000000001, 0.16666666666666666, 0.04166666666662408,
                 0.008333333333330575, 0.0013888888917231849, 0.00019841269861531192,
                 2.480152127371625e-05, 2.7557270127290636e-06, 2.7620097084682444e-07,
                 2.5099777179343393e-08),
    log_p=_table(_f64, 0.666666666666667, 0.399999999998987, 0.2857142862633328,
                 0.22222211077414436, 0.18182893244750958, 0.15331586328590416,
                 0.14618104832420648),
    tanh_thr=_f64(0.625), tanh_max=_f64(20.0),
    tanh_p=_table(_f64, -0.3333333333333333, 0.1333333333333304, -0.05396825396789362,
                  0.02186948851891094, -0.008863235102108636, 0.003592121746201229,
                  -0.0014557754237454427, 0.0005896608827733334, -0.0002375917053952,
                  9.257364365858133e-05, -3.120409704660992e-05, 6.486642148839697e-06),
    erf_thr=_f64(1.25), erf_max=_f64(5.95), erf_k=_f64(3.0),
    erf_center=_f64((2.95 / 8.95 - 1.75 / 4.25) / 2),
    erf_small=_table(_f64, 0.1283791670955126, -0.3761263890318373, 0.11283791670954298,
                     -0.026866170644990646, 0.0052239776242098525, -0.000854832695913159,
                     0.00012055330813018166, -1.4925600753429477e-05, 1.6461322718901785e-06,
                     -1.6356914129085715e-07, 1.4736019771977143e-08, -1.1895980912054857e-09,
                     7.954015790226285e-11, -3.278581692404297e-12),
    erf_large=_table(_f64, 0.19282717756893955, -0.3471914625260837, 0.26484579508518,
                     -0.1623089012088493, 0.07678201747527558, -0.025417290784174266,
                     0.004037193332149625, 0.0009061598053479094, -0.0006087932102421336,
                     1.787282921405545e-05, 6.89382691573974e-05, -8.666835112251477e-06,
                     -8.885774211572822e-06, 1.2863744623386831e-06, 1.266443892145764e-06),
    # pow's log polynomial: its constant term 0.6666666666666666 + 3.67544536472586e-17 is
    # split so that the cubic term of log(m) is exact to ~2**-66
    pow_p0_lo=_f64(3.67544536472586e-17),
    pow_p=_table(_f64, 0.6666666666666666, 0.4000000000000007, 0.28571428571399066,
                 0.22222222226637148, 0.18181817958153693, 0.1538460796835448,
                 0.13334685818410594, 0.11702805287943747, 0.11787075942254818),
)  # fmt: skip


# -- the algorithms, generic over the dtype's constants ----------------------------------------

_inline = numba.njit(inline="always", error_model="numpy")


@_inline
def _horner(t, coefs):
    r = coefs[len(coefs) - 1]
    for i in range(len(coefs) - 2, -1, -1):  # a constant trip count: LLVM unrolls it
        r = _fma(r, t, coefs[i])
    return r


@_inline
def _clamp(x, lo, hi):
    x = hi if x > hi else x  # a NaN compares false and passes through both
    return lo if x < lo else x


@_inline
def _pow2(n, like, c):
    """``2**n`` for ``-emax < n <= emax``."""
    return _from_bits((n + c.bias) << c.mbits, like)


@_inline
def _scale(p, n, c):
    """``p * 2**n`` as two exact-or-once-rounded products, for ``|n| <= 2 emax + 2``."""
    half_n = n >> 1
    return p * _pow2(half_n, p, c) * _pow2(n - half_n, p, c)


@_inline
def _exp_reduce(x, c):
    """``(expm1(r), k)`` with ``x = k ln2 + r``, ``|r| <= ln2 / 2``."""
    t = _fma(x, c.log2e, c.shifter)  # k + shifter, rounded to an integer
    kf = t - c.shifter
    r = _fma(kf, -c.ln2_hi, x)
    r = _fma(kf, -c.ln2_lo, r)
    return _fma(r * r, _horner(r, c.exp_q), r), _bits(t) - c.shifter_bits


@_inline
def _exp(x, c):
    pm1, k = _exp_reduce(_clamp(x, c.exp_lo, c.exp_hi), c)
    return _scale(c.one + pm1, k, c)


@_inline
def _expm1(x, c):
    pm1, k = _exp_reduce(_clamp(x, c.expm1_lo, c.exp_hi), c)
    capped = k if k < c.emax else c.emax
    s = _pow2(capped, x, c)
    # 2**k (1 + pm1) - 1 rounded once; the factor 2 covers k = emax + 1 (overflow)
    r = _fma(s, pm1, s - c.one) * _pow2(k - capped, x, c)
    return x if abs(x) < c.tiny else r  # keeps -0.0 and subnormals


@_inline
def _log_split(x, c):
    """``(m - 1, k)`` with ``x = 2**k m``, ``sqrt(1/2) <= m < sqrt(2)``, for finite ``x > 0``."""
    sub = x < c.min_normal
    xs = x * c.subnormal_scale if sub else x
    bits = _wrap(_bits(xs) + c.log_shift, x)  # carries into the exponent when m >= sqrt(2)
    k = (bits >> c.mbits) - c.bias - (c.mbits if sub else 0)
    m = _from_bits((bits & c.mask) + c.sqrt_half_bits, x)
    return m - c.one, k


@_inline
def _log_core(f, kf, correction, c):
    """``k ln2 + log1p(f) + correction``, ``log1p(f) = 2 atanh(s)``, ``s = f / (2 + f)``."""
    s = f / (c.two + f)
    z = s * s
    r = z * _horner(z, c.log_p)
    hfsq = c.half * f * f
    small = s * (hfsq + r) + (kf * c.ln2_lo_short + correction)
    return kf * c.ln2_hi_short - ((hfsq - small) - f)


@_inline
def _log(x, c):
    f, k = _log_split(x, c)
    r = _log_core(f, _to_float(k, x), c.zero, c)
    r = -c.inf if x == c.zero else r
    r = c.nan if x < c.zero else r
    return r if x < c.inf else x  # +inf and NaN


@_inline
def _log1p(x, c):
    u = c.one + x
    f, k = _log_split(u, c)
    # log(1 + x) = log(u) + lost / u to first order, lost = 1 + x - u exactly (Fast2Sum)
    lost = (x - (u - c.one)) if x < c.one else (c.one - (u - x))
    r = _log_core(f, _to_float(k, x), lost / u, c)
    r = x if abs(x) < c.tiny else r
    r = -c.inf if x == -c.one else r
    r = c.nan if x < -c.one else r
    return r if x < c.inf else x


@_inline
def _tanh(x, c):
    u = x * x
    small = _fma(x, u * _horner(u, c.tanh_p), x)
    a = abs(x)
    pm1, k = _exp_reduce(c.two * (c.tanh_max if a > c.tanh_max else a), c)
    s = _pow2(k, x, c)
    e = _fma(s, pm1, s - c.one)  # expm1(2 |x|)
    big = e / (e + c.two)
    big = -big if x < c.zero else big
    r = small if a < c.tanh_thr else big
    return x if a < c.tiny else r  # keeps -0.0


@_inline
def _sigmoid(x, c):
    e = _exp(-abs(x), c)
    return (e if x < c.zero else c.one) / (c.one + e)


@_inline
def _softplus(x, c):
    return (x if x > c.zero else c.zero) + _log1p(_exp(-abs(x), c), c)


@_inline
def _erf(x, c):
    small = _fma(x, _horner(x * x, c.erf_small), x)
    a = abs(x)
    a = c.erf_max if a > c.erf_max else a
    t = (a - c.erf_k) / (a + c.erf_k)
    erfc = _exp(-(a * a), c) * _horner(t - c.erf_center, c.erf_large)
    big = c.one - erfc
    big = -big if x < c.zero else big
    return small if abs(x) < c.erf_thr else big


@_inline
def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


@_inline
def _log_dd(ax, c):
    """``log(ax)`` as ``hi + lo``, exact to about 2**-66 relative (float64 only)."""
    f, k = _log_split(ax, c)
    kf = _to_float(k, ax)
    d = c.two + f
    d_lo = f - (d - c.two)
    s = f / d  # s + s_lo = f / (2 + f)
    s_lo = (_fma(-s, d, f) - s * d_lo) / d
    z = s * s
    s3 = s * z  # s3 + s3_lo = (s + s_lo)**3
    s3_lo = _fma(s, z, -s3) + s * _fma(s, s, -z) + c.three * z * s_lo
    v = z * _horner(z, c.pow_p[1:])
    p = c.pow_p[0] + v  # p + p_lo = (2 atanh(s) - 2 s) / s**3
    p_lo = (c.pow_p[0] - p) + v + c.pow_p0_lo
    cube = s3 * p
    cube_lo = _fma(s3, p, -cube) + (s3 * p_lo + s3_lo * p)
    hi = c.two * s + cube
    lo = (c.two * s - hi) + cube + (c.two * s_lo + cube_lo)
    hi, err = _two_sum(kf * c.ln2_hi_short, hi)
    lo = err + lo + kf * c.ln2_lo_short
    total = hi + lo
    lo = lo - (total - hi)
    finite = (ax > c.zero) & (ax < c.inf)
    total = -c.inf if ax == c.zero else total
    return (total if ax < c.inf else ax), (lo if finite else c.zero)


@_inline
def _pow_signs(x, y, magnitude, c):
    """``|x|**y`` -> ``x**y`` with the special cases of C99 ``pow`` (which NumPy follows)."""
    is_int = _trunc(y) == y
    half_y = y * c.half
    odd = is_int & (_trunc(half_y) != half_y)
    r = -magnitude if (_bits(x) < 0) & odd else magnitude  # x's sign (-0.0 too) for odd y
    r = c.nan if (x < c.zero) & (x > -c.inf) & (not is_int) else r
    r = c.one if (abs(x) == c.one) & (abs(y) == c.inf) else r
    r = x * x if y == c.two else r  # correctly rounded, as NumPy's square
    return c.one if (x == c.one) | (y == c.zero) else r


@_inline
def _pow(x, y, c):
    """``x**y`` in float64: ``y log|x|`` in double-double, so the result is within 1 ulp."""
    ax = abs(x)
    hi, lo = _log_dd(ax, c)
    w = y * hi
    w_lo = _fma(y, hi, -w) + y * lo  # y log|x| = w + w_lo
    w_lo = w_lo if abs(w) < -c.exp_lo else c.zero  # beyond, w is clamped (and may be inf)
    w = _clamp(w, c.exp_lo, c.exp_hi)
    t = _fma(w, c.log2e, c.shifter)
    kf = t - c.shifter
    r = _fma(kf, -c.ln2_hi_short, w)  # exact: k ln2_hi_short has 43 bits, |r| < ln2 / 2
    r_lo = w_lo - kf * c.ln2_lo_short
    r_all = r + r_lo
    # 1 + r + r_lo + r_all**2 q(r_all) with one final rounding
    p = c.one + r
    p_lo = ((c.one - p) + r) + (r_lo + r_all * r_all * _horner(r_all, c.exp_q))
    return _pow_signs(x, y, _scale(p + p_lo, _bits(t) - c.shifter_bits, c), c)


@_inline
def _pow_single(x, y, c):
    """``x**y`` for float32 values held in float64: float64's own log and exp leave an error
    of about 2**-45, far below half a float32 ulp."""
    ax = abs(x)
    f, k = _log_split(ax, c)
    log_ax = _log_core(f, _to_float(k, ax), c.zero, c)
    log_ax = -c.inf if ax == c.zero else log_ax
    log_ax = log_ax if ax < c.inf else ax
    return _pow_signs(x, y, _exp(y * log_ax, c), c)


# -- the public functions ----------------------------------------------------------------------


@_inline
def exp32(x):
    """``e**x`` in float32: ``exp32(1.0) == np.float32(2.7182817)``."""
    return _exp(np.float32(x), _C32)


@_inline
def exp64(x):
    """``e**x`` in float64: ``exp64(709.8) == inf``, ``exp64(-745.2) == 0.0``."""
    return _exp(np.float64(x), _C64)


@_inline
def expm1_32(x):
    """``e**x - 1`` in float32, exact for tiny ``x``: ``expm1_32(1e-10) == np.float32(1e-10)``."""
    return _expm1(np.float32(x), _C32)


@_inline
def expm1_64(x):
    """``e**x - 1`` in float64: ``expm1_64(1e-10) == 1.00000000005e-10``."""
    return _expm1(np.float64(x), _C64)


@_inline
def log32(x):
    """Natural log in float32: ``log32(0.0) == -inf``, ``log32(-1.0)`` is NaN."""
    return _log(np.float32(x), _C32)


@_inline
def log64(x):
    """Natural log in float64: ``log64(5e-324) == -744.4400719213812``."""
    return _log(np.float64(x), _C64)


@_inline
def log1p32(x):
    """``log(1 + x)`` in float32: ``log1p32(-1.0) == -inf``."""
    return _log1p(np.float32(x), _C32)


@_inline
def log1p64(x):
    """``log(1 + x)`` in float64: ``log1p64(1e-20) == 1e-20``."""
    return _log1p(np.float64(x), _C64)


@_inline
def tanh32(x):
    """Hyperbolic tangent in float32: ``tanh32(-0.0)`` is ``-0.0``, ``tanh32(inf) == 1``."""
    return _tanh(np.float32(x), _C32)


@_inline
def tanh64(x):
    """Hyperbolic tangent in float64: ``tanh64(0.5) == 0.46211715726000974``."""
    return _tanh(np.float64(x), _C64)


@_inline
def sigmoid32(x):
    """``1 / (1 + e**-x)`` in float32: ``sigmoid32(-100.0)`` is ``3.78e-44``, not 0."""
    return _sigmoid(np.float32(x), _C32)


@_inline
def sigmoid64(x):
    """``1 / (1 + e**-x)`` in float64: ``sigmoid64(0.0) == 0.5``."""
    return _sigmoid(np.float64(x), _C64)


@_inline
def softplus32(x):
    """``log(1 + e**x)`` in float32 (``np.logaddexp(0, x)``): ``softplus32(100.0) == 100``."""
    return _softplus(np.float32(x), _C32)


@_inline
def softplus64(x):
    """``log(1 + e**x)`` in float64: ``softplus64(-800.0) == 0.0``."""
    return _softplus(np.float64(x), _C64)


@_inline
def erf32(x):
    """The error function in float32: ``erf32(inf) == 1``, ``erf32(-0.0)`` is ``-0.0``."""
    return _erf(np.float32(x), _C32)


@_inline
def erf64(x):
    """The error function in float64: ``erf64(1.0) == 0.8427007929497149``."""
    return _erf(np.float64(x), _C64)


@_inline
def pow32(x, y):
    """``x**y`` in float32 (computed in float64), NumPy's special cases: ``pow32(-8.0, 1/3)``
    is NaN, ``pow32(-2.0, 3.0) == -8``, ``pow32(0.0, -1.0) == inf``."""
    return np.float32(_pow_single(np.float64(x), np.float64(y), _C64))


@_inline
def pow64(x, y):
    """``x**y`` in float64 with NumPy's special cases: ``pow64(nan, 0.0) == 1``."""
    return _pow(np.float64(x), np.float64(y), _C64)


#: (name, dtype) -> scalar function, for the kernel generators.
FUNCTIONS: dict[tuple[str, str], Callable] = {
    ("exp", "float32"): exp32,
    ("exp", "float64"): exp64,
    ("expm1", "float32"): expm1_32,
    ("expm1", "float64"): expm1_64,
    ("log", "float32"): log32,
    ("log", "float64"): log64,
    ("log1p", "float32"): log1p32,
    ("log1p", "float64"): log1p64,
    ("tanh", "float32"): tanh32,
    ("tanh", "float64"): tanh64,
    ("sigmoid", "float32"): sigmoid32,
    ("sigmoid", "float64"): sigmoid64,
    ("softplus", "float32"): softplus32,
    ("softplus", "float64"): softplus64,
    ("erf", "float32"): erf32,
    ("erf", "float64"): erf64,
    ("pow", "float32"): pow32,
    ("pow", "float64"): pow64,
}

#: Functions of two arguments; the others take one.
BINARY = frozenset({"pow"})


@functools.cache
def array_kernel(name: str, dtype: str, wide: bool = False) -> Callable:
    """A compiled loop ``kernel(x, out)`` (``kernel(x, y, out)`` for ``pow``) applying the
    function to every element of 1-d arrays, for tests and benchmarks; ``wide`` adds
    ``prefer_wide_vectors()``. Compiled on first call.

    >>> x = np.array([0.0, 1.0], np.float32)
    >>> out = np.empty_like(x)
    >>> array_kernel("exp", "float32")(x, out)
    >>> out.tolist()
    [1.0, 2.7182817459106445]
    """
    fn = FUNCTIONS[name, dtype]
    if name in BINARY:

        def binary(x, y, out):
            for i in range(out.size):
                if wide:
                    prefer_wide_vectors()
                out[i] = fn(x[i], y[i])

        return numba.njit(error_model="numpy")(binary)

    def unary(x, out):
        for i in range(out.size):
            if wide:
                prefer_wide_vectors()
            out[i] = fn(x[i])

    return numba.njit(error_model="numpy")(unary)


_LIBM = re.compile(
    r"^_*(exp|exp2|expm1|log|log2|log10|log1p|pow|tanh|sinh|cosh|erf|erfc|fma|trunc|floor)"
    r"[fl]?(_finite)?$"
)


def assembly_report(asm: str) -> dict:
    """What the generated code of a loop does per element: the widest packed float registers
    used, the count of packed FMAs, and any libm function it calls (by name).

    >>> assembly_report("vfmadd213ps %zmm1, %zmm2, %zmm3\\n movabsq $expf, %rax")
    {'packed': 1, 'packed_fma': 1, 'widest': 'zmm', 'libm_calls': ['expf']}
    """
    packed = re.findall(r"^\s*(v\w+p[sd])\s+[^\n]*%([xyz]mm)", asm, re.MULTILINE)
    symbols = re.findall(r"(?:movabsq\s+\$|call\w*\s+)([A-Za-z_][\w.]*)", asm)
    widths = {reg for _, reg in packed}
    widest = next((reg for reg in ("zmm", "ymm", "xmm") if reg in widths), None)
    return {
        "packed": len(packed),
        "packed_fma": sum(op.startswith("vfm") for op, _ in packed),
        "widest": widest,
        "libm_calls": sorted({name for name in symbols if _LIBM.match(name)}),
    }


def reference(name: str, x: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
    """NumPy's value of the function, computed in long double and rounded to ``x.dtype``: the
    correctly rounded result except in rare double-rounding ties (where long double is the
    80-bit format; float32 needs only float64-or-better).

    >>> reference("sigmoid", np.array([-100.0], np.float32)).tolist()  # a subnormal, not 0
    [3.783505853677006e-44]
    >>> reference("erf", np.array([0.5])).tolist()
    [0.5204998778130465]
    """
    xl = np.asarray(x).astype(_LD)
    with np.errstate(all="ignore"):
        if name == "pow":
            value = np.power(xl, np.asarray(y).astype(_LD))
        elif name == "sigmoid":
            e = np.exp(-np.abs(xl))
            value = np.where(xl < 0, e, 1) / (1 + e)
        elif name == "softplus":
            value = np.maximum(xl, 0) + np.log1p(np.exp(-np.abs(xl)))
        elif name == "erf":
            value = _erf_longdouble(xl)
        else:
            value = getattr(np, name)(xl)
        return value.astype(np.asarray(x).dtype)


# -- where the coefficients come from ---------------------------------------------------------
#
# Each table is the Chebyshev interpolant (near-minimax) of its target, evaluated in long
# double from a series without cancellation, converted to monomials in ``t - center`` and
# rounded to the dtype. ``derive_coefficients`` reproduces the tables above; a test checks it.

_LD = np.longdouble


def fit_polynomial(fn, lo: float, hi: float, degree: int, center: float = 0.0) -> np.ndarray:
    """Long-double coefficients (lowest power first, in ``t - center``) of the polynomial that
    interpolates ``fn`` at the ``degree + 1`` Chebyshev nodes of ``[lo, hi]``.

    >>> fit_polynomial(lambda t: 1 + 2 * t * t, -1.0, 1.0, 2).astype(float).round(12).tolist()
    [1.0, 0.0, 2.0]
    """
    n = degree + 1
    pi = np.arccos(_LD(-1))
    angles = pi * (np.arange(n, dtype=_LD) + _LD(0.5)) / n
    lo, hi = _LD(lo), _LD(hi)
    mid, half = (hi + lo) / 2, (hi - lo) / 2
    values = fn(mid + half * np.cos(angles))
    cheb = np.array([2 * np.sum(values * np.cos(j * angles)) / n for j in range(n)])
    cheb[0] /= 2
    # T_j(u) with u = a + b (t - center), expanded by T_{j+1} = 2 u T_j - T_{j-1}
    a, b = (_LD(center) - mid) / half, 1 / half
    t_prev, t_cur = np.zeros(n, _LD), np.zeros(n, _LD)
    t_prev[0], t_cur[0], t_cur[1:2] = 1, a, b
    out = cheb[0] * t_prev
    for j in range(1, n):
        out = out + cheb[j] * t_cur
        shifted = np.concatenate((np.zeros(1, _LD), t_cur[:-1]))
        t_prev, t_cur = t_cur, 2 * (a * t_cur + b * shifted) - t_prev
    return out


def _series(x, first, ratio, count: int):
    """``sum_n term_n`` with ``term_0 = first`` and ``term_{n+1} = term_n * ratio(n, x)``."""
    term, total = np.full_like(x, first), np.zeros_like(x)
    for n in range(count):
        total = total + term
        term = term * ratio(n, x)
    return total


def _exp_q(r):  # (expm1(r) - r) / r**2 = sum r**n / (n + 2)!
    return _series(r, _LD(0.5), lambda n, r: r / (n + 3), 30)


def _log_p(z):  # (2 atanh(s) - 2 s) / s**3 = sum 2 z**n / (2 n + 3), z = s**2
    return _series(z, _LD(1), lambda n, z: z * (2 * n + 3) / (2 * n + 5), 40) * 2 / 3


def _tanh_p(u):  # (tanh(x) - x) / x**3 = (sinh x - x cosh x) / (x**3 cosh x), u = x**2
    return -_series(
        u, _LD(1) / 3, lambda n, u: u * (n + 2) / ((n + 1) * (2 * n + 4) * (2 * n + 5)), 30
    ) / np.cosh(np.sqrt(u))


def _erf_small(u):  # erf(x) / x - 1 = 2/sqrt(pi) sum (-u)**n / (n! (2n + 1)) - 1, u = x**2
    terms = _series(u, _LD(1), lambda n, u: -u * (2 * n + 1) / ((n + 1) * (2 * n + 3)), 60)
    return 2 / np.sqrt(np.arccos(_LD(-1))) * terms - 1


def _erfc_cf(x, terms: int = 1500):
    """erfc(x) for x >= 0.5 from its continued fraction, in long double."""
    f = np.array(x, _LD)
    for k in range(terms, 0, -1):
        f = x + _LD(k) / 2 / f
    return np.exp(-x * x) / (np.sqrt(np.arccos(_LD(-1))) * f)


def _erf_large(k):  # erfcx(x) = exp(x**2) erfc(x) as a function of t = (x - k) / (x + k)
    def target(t):
        x = _LD(k) * (1 + t) / (1 - t)
        return _erfc_cf(x) * np.exp(x * x)

    return target


#: dtype -> table name -> (target, lo, hi, degree, center); the erf_large range is in t.
_FITS = {
    "float32": {
        "exp_q": (_exp_q, -0.3466, 0.3466, 4, 0.0),
        "log_p": (_log_p, 0.0, 0.02947, 2, 0.0),
        "tanh_p": (_tanh_p, 0.0, 0.625**2, 5, 0.0),
        "erf_small": (_erf_small, 0.0, 1.0, 6, 0.0),
        "erf_large": (_erf_large(2.0), -1 / 3, 1.95 / 5.95, 6, (1.95 / 5.95 - 1 / 3) / 2),
    },
    "float64": {
        "exp_q": (_exp_q, -0.3466, 0.3466, 9, 0.0),
        "log_p": (_log_p, 0.0, 0.02947, 6, 0.0),
        "tanh_p": (_tanh_p, 0.0, 0.625**2, 11, 0.0),
        "erf_small": (_erf_small, 0.0, 1.25**2, 13, 0.0),
        "erf_large": (
            _erf_large(3.0),
            -1.75 / 4.25,
            2.95 / 8.95,
            14,
            (2.95 / 8.95 - 1.75 / 4.25) / 2,
        ),
        "pow_p": (_log_p, 0.0, 0.02947, 8, 0.0),
    },
}


def derive_coefficients(dtype: str) -> dict[str, np.ndarray]:
    """Every polynomial table for ``dtype`` ("float32"/"float64"), in long double.

    >>> c = derive_coefficients("float32")
    >>> float(c["exp_q"][0])  # exp(r) = 1 + r + r**2 (1/2 + ...)
    0.5
    """
    return {name: fit_polynomial(*spec) for name, spec in _FITS[dtype].items()}


def _erf_longdouble(x: np.ndarray) -> np.ndarray:
    """erf in long double: the positive series ``e**-x2 sum 2**n x**(2n+1) / (2n+1)!!`` below
    2, ``1 - erfc`` from the continued fraction above."""
    a = np.abs(x)
    small = np.where(a < 2, a, 0)
    series = _series(small, _LD(1), lambda n, u: 2 * u * u / (2 * n + 3), 80) * small
    series *= 2 / np.sqrt(np.arccos(_LD(-1))) * np.exp(-small * small)
    large = np.where(a < 2, 2, a)
    value = np.where(a < 2, series, 1 - _erfc_cf(large, 200))
    return np.where(np.isnan(x), x, np.copysign(value, x))
