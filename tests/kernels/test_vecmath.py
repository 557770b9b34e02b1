"""The vector math library against correctly rounded references and NumPy's special values.

Each (function, dtype) is compiled once, lazily, as one array loop (``array_kernel``); every
test below goes through those loops, so the module compiles 18 small kernels plus the fused
W1 loop. float64 references need an 80-bit (or wider) long double.
"""

from __future__ import annotations

import math
import zlib

import llvmlite.binding as llvm
import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from astsym.kernels import vecmath as vm

UNARY = ["exp", "expm1", "log", "log1p", "tanh", "sigmoid", "softplus", "erf"]
DTYPES = ["float32", "float64"]
BOUND = {"exp": 2, "log": 2, "tanh": 2}  # float32; everything else (and float64): 3

EXTENDED = np.finfo(np.longdouble).nmant >= 63
needs_extended = pytest.mark.skipif(
    not EXTENDED, reason="long double is not 80-bit here: no float64 reference"
)


#: the dtypes, float64 only where there is a long-double reference
CHECKED_DTYPES = [pytest.param("float32"), pytest.param("float64", marks=needs_extended)]


def bound(name: str, dtype: str) -> int:
    return BOUND.get(name, 3) if dtype == "float32" else 3


def params(names):
    return [pytest.param(n, *d.values, marks=d.marks) for n in names for d in CHECKED_DTYPES]


# -- comparison helpers ---------------------------------------------------------------------


def ulp_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance in representable numbers (+0 and -0 coincide); 0 where both are NaN."""
    ints = np.int32 if a.dtype == np.float32 else np.int64
    top = np.iinfo(ints).max

    def ordered(v):
        bits = v.view(ints).astype(np.int64)
        return np.where(bits < 0, -(bits & top), bits)

    oa, ob = ordered(a), ordered(b)
    same = (oa >= 0) == (ob >= 0)
    apart = np.abs(oa).astype(np.float64) + np.abs(ob).astype(np.float64)
    dist = np.where(same, np.abs(np.where(same, oa - ob, 0)).astype(np.float64), apart)
    return np.where(np.isnan(a) & np.isnan(b), 0, dist)


def run(name: str, dtype: str, *args: np.ndarray) -> np.ndarray:
    args = tuple(np.ascontiguousarray(a, dtype=dtype) for a in args)
    out = np.empty_like(args[0])
    vm.array_kernel(name, dtype)(*args, out)
    return out


def assert_matches_reference(name: str, dtype: str, *args: np.ndarray) -> None:
    """NaN where the reference is NaN, infinities and zeros (with their sign) exactly, and
    every other value within the ulp bound."""
    args = tuple(np.asarray(a, dtype=dtype) for a in args)
    ours, ref = run(name, dtype, *args), vm.reference(name, *args)
    nan_mismatch = np.isnan(ours) != np.isnan(ref)
    exact = np.isinf(ref) | (ref == 0)
    wrong_exact = exact & ((ours != ref) | (np.signbit(ours) != np.signbit(ref)))
    far = ulp_distance(ours, ref) > bound(name, dtype)
    bad = nan_mismatch | wrong_exact | far
    if bad.any():
        i = np.flatnonzero(bad)[:5]
        shown = [tuple(a[j].item() for a in args) + (ours[j].item(), ref[j].item()) for j in i]
        pytest.fail(f"{name} {dtype}: {bad.sum()} bad of {bad.size}; (args, ours, ref): {shown}")


# -- dense samples ----------------------------------------------------------------------------


def dense_sample(name: str, dtype: str, n: int = 200_000) -> np.ndarray:
    """Magnitudes log-uniform over the whole dtype (subnormals included), both signs, and
    clusters around 0, +-1, and the thresholds where the algorithms switch or saturate."""
    rng = np.random.default_rng(zlib.crc32(f"{name} {dtype}".encode()))
    f = np.finfo(dtype)
    low, high = np.log10(float(f.smallest_subnormal)), np.log10(float(f.max))
    mags = 10.0 ** rng.uniform(low, high, n // 2)
    edges = [0.0, 1.0, -1.0, 0.625, 1.0, 1.25, 3.95, 5.95, 9.0, 19.0, 0.3466, 0.7071, 1.4142]
    edges += [88.72, -87.33, -103.97, 709.78, -708.4, -745.13, 20.0, 40.0]
    near = np.array(edges)[rng.integers(0, len(edges), n // 2)]
    near *= 1 + rng.uniform(-1e-3, 1e-3, n // 2) * 10.0 ** rng.integers(-12, 1, n // 2)
    near += rng.uniform(-1e-6, 1e-6, n // 2) * (near == 0)
    x = np.concatenate([mags * rng.choice([-1, 1], n // 2), near])
    if name in ("log", "log1p"):
        x = np.concatenate([np.abs(x), -1 + 10.0 ** rng.uniform(-16, 0, n // 10)])
    with np.errstate(over="ignore"):
        return x.astype(dtype)


SPECIALS = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0]


def special_inputs(dtype: str) -> np.ndarray:
    f = np.finfo(dtype)
    values = SPECIALS + [float(v) for v in (f.tiny, f.smallest_subnormal, f.max, f.eps)]
    values += [-v for v in values[-4:]] + [float(f.tiny) / 3, 1e-30, -1e-30, 1e30, -1e30]
    values += [88.72283, 88.72284, 89.0, -87.33655, -103.97208, -103.97209, -104.0, 709.78,
               709.79, -708.39, -745.13, -745.14, -0.9999999, -1.0000001,
               3.95, 5.95, 20.0]  # fmt: skip
    with np.errstate(over="ignore"):
        return np.array(values).astype(dtype)


# -- tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, dtype", params(UNARY))
def test_dense_sample_within_ulp_bound(name, dtype):
    assert_matches_reference(name, dtype, dense_sample(name, dtype))


@pytest.mark.parametrize("dtype", CHECKED_DTYPES)
def test_pow_dense_sample_within_ulp_bound(dtype):
    rng = np.random.default_rng(7)
    n, top = 100_000, (38 if dtype == "float32" else 307)
    x = 10.0 ** rng.uniform(-top, top, n) * rng.choice([-1, 1], n)
    x[: n // 4] = rng.uniform(0, 3, n // 4)
    y = rng.uniform(-30, 30, n)
    y[n // 4 : n // 2] = np.round(y[n // 4 : n // 2])
    # near the overflow and underflow thresholds of |x|**y
    f = np.finfo(dtype)
    target = rng.uniform(np.log(float(f.smallest_subnormal)), np.log(float(f.max)), n)
    log_x = np.log(np.abs(x[n // 2 :]) + (np.abs(x[n // 2 :]) == 1))
    y[n // 2 :] = target[n // 2 :] / log_x
    with np.errstate(over="ignore"):
        assert_matches_reference("pow", dtype, x.astype(dtype), y.astype(dtype))


NUMPY = {
    "exp": np.exp,
    "expm1": np.expm1,
    "log": np.log,
    "log1p": np.log1p,
    "tanh": np.tanh,
    "softplus": lambda x: np.logaddexp(0, x),
}  # sigmoid and erf have no ufunc: their reference is the long-double one (``1 / (1 + exp(-x))``
# in float32 would underflow to 0 where sigmoid is still a subnormal)


@pytest.mark.parametrize("name, dtype", params(UNARY))
def test_special_values_match_numpy(name, dtype):
    x = special_inputs(dtype)
    ours = run(name, dtype, x)
    with np.errstate(all="ignore"):
        theirs = NUMPY[name](x) if name in NUMPY else vm.reference(name, x)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    exact = np.isinf(theirs) | (theirs == 0) | (np.abs(theirs) == 1)
    np.testing.assert_array_equal(ours[exact], theirs[exact])
    np.testing.assert_array_equal(np.signbit(ours[exact]), np.signbit(theirs[exact]))
    assert_matches_reference(name, dtype, x)


EXACT_CASES = [
    ("exp", -np.inf, 0.0), ("exp", np.inf, np.inf), ("exp", 1000.0, np.inf), ("exp", -1000.0, 0.0),
    ("log", 0.0, -np.inf), ("log", -0.0, -np.inf), ("log", -1.0, np.nan), ("log", np.inf, np.inf),
    ("log", 1.0, 0.0), ("log1p", -1.0, -np.inf), ("log1p", -2.0, np.nan), ("log1p", -0.0, -0.0),
    ("expm1", -0.0, -0.0), ("expm1", -np.inf, -1.0), ("expm1", 1e-30, 1e-30),
    ("tanh", -0.0, -0.0), ("tanh", np.inf, 1.0), ("tanh", -np.inf, -1.0), ("tanh", 30.0, 1.0),
    ("sigmoid", np.inf, 1.0), ("sigmoid", -np.inf, 0.0), ("sigmoid", 0.0, 0.5),
    ("softplus", 1e30, 1e30), ("softplus", np.inf, np.inf), ("softplus", -np.inf, 0.0),
    ("erf", np.inf, 1.0), ("erf", -np.inf, -1.0), ("erf", -0.0, -0.0), ("erf", 10.0, 1.0),
]  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, x, expected", EXACT_CASES)
def test_exact_cases(name, x, expected, dtype):
    value = run(name, dtype, np.array([x]))[0]
    if np.isnan(expected):
        assert np.isnan(value)
    else:
        assert value == expected and np.signbit(value) == np.signbit(expected)
    assert np.isnan(run(name, dtype, np.array([np.nan]))[0])  # NaN in, NaN out


@pytest.mark.parametrize("dtype", CHECKED_DTYPES)
def test_pow_special_cases_match_numpy(dtype):
    f = np.finfo(dtype)
    values = SPECIALS + [3.0, -3.0, 1.5, -1.5, 0.25, 1e10, -1e10, 2.0**60, -(2.0**60)]
    values += [float(f.tiny), float(f.smallest_subnormal), -float(f.smallest_subnormal)]
    x, y = (a.ravel().astype(dtype) for a in np.meshgrid(values, values))
    ours = run("pow", dtype, x, y)
    with np.errstate(all="ignore"):
        theirs = np.power(x, y)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    exact = np.isinf(theirs) | (theirs == 0) | (np.abs(theirs) == 1)
    np.testing.assert_array_equal(ours[exact], theirs[exact])
    np.testing.assert_array_equal(np.signbit(ours[exact]), np.signbit(theirs[exact]))
    assert_matches_reference("pow", dtype, x, y)


def floats(dtype: str):
    return st.floats(width=32 if dtype == "float32" else 64, allow_subnormal=True)


@pytest.mark.parametrize("name, dtype", params(UNARY))
@given(data=st.data())
def test_hypothesis_floats_match_reference(name, dtype, data):
    x = data.draw(hnp.arrays(dtype, st.integers(1, 40), elements=floats(dtype)))
    assert_matches_reference(name, dtype, x)


@pytest.mark.parametrize("dtype", CHECKED_DTYPES)
@given(data=st.data())
def test_hypothesis_pow_matches_reference(dtype, data):
    n = data.draw(st.integers(1, 30))
    x = data.draw(hnp.arrays(dtype, n, elements=floats(dtype)))
    y = data.draw(hnp.arrays(dtype, n, elements=floats(dtype) | st.integers(-40, 40).map(float)))
    assert_matches_reference("pow", dtype, x, y)


# -- the fused loop is vectorized -------------------------------------------------------------

HOST = llvm.get_host_cpu_features()


@numba.njit(parallel=True, error_model="numpy", cache=False)
def w1_fused(x, a, b, out):
    for i in numba.prange(x.size):
        v = x[i]
        out[i] = vm.exp32(-v * a + b) * vm.tanh32(v) + v * v / (np.float32(1) + abs(v))


@pytest.mark.skipif(not HOST.get("avx2"), reason="the CPU has no AVX2: nothing to vectorize to")
def test_fused_w1_loop_is_vectorized_without_libm_calls():
    x = np.linspace(-5, 5, 1001, dtype=np.float32)
    a, b = np.float32(0.5), np.float32(0.25)
    out = np.empty_like(x)
    w1_fused(x, a, b, out)
    expected = np.exp(-x * a + b) * np.tanh(x) + x**2 / (1 + np.abs(x))
    np.testing.assert_allclose(out, expected, rtol=2e-6, atol=1e-7)
    report = vm.assembly_report(w1_fused.inspect_asm(w1_fused.signatures[0]))
    assert report["widest"] in ("ymm", "zmm"), report
    assert report["packed_fma"] > 0, report
    assert report["libm_calls"] == [], report


@pytest.mark.skipif(not HOST.get("avx512f"), reason="the CPU has no AVX-512")
def test_prefer_wide_vectors_gives_zmm():
    kernel = vm.array_kernel("exp", "float32", wide=True)
    kernel(np.zeros(64, np.float32), np.empty(64, np.float32))
    assert vm.assembly_report(kernel.inspect_asm(kernel.signatures[0]))["widest"] == "zmm"


# -- the coefficient tables are what the derivation gives -------------------------------------


@needs_extended
@pytest.mark.parametrize("dtype", DTYPES)
def test_coefficients_match_their_derivation(dtype):
    consts = {"float32": vm._C32, "float64": vm._C64}[dtype]
    derived = vm.derive_coefficients(dtype)
    rtol = 1e-6 if dtype == "float32" else 1e-12
    for name, coefs in derived.items():
        table = np.array(getattr(consts, name), dtype=np.float64)
        np.testing.assert_allclose(table, coefs.astype(np.float64), rtol=rtol, err_msg=name)
    if dtype == "float64":
        p0 = derived["pow_p"][0]
        assert consts.pow_p0_lo == np.float64(p0 - np.longdouble(np.float64(p0)))


@needs_extended
def test_erf_reference_agrees_with_libm():
    x = np.array([-3.0, -0.5, 1e-300, 0.1, 0.9, 1.9, 2.1, 4.0, 6.0])
    expected = np.array([math.erf(v) for v in x])
    assert (ulp_distance(vm.reference("erf", x), expected) <= 1).all()
