"""Reductions against NumPy: every reduction in the registry and the compositions (mean, var,
std, logsumexp), over every dtype, with axis None / int / negative / tuple and keepdims."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from helpers import (
    DTYPES,
    KINDS,
    Domain,
    arrays,
    assert_allclose_dtype,
    backend_params,
    compile_and_run,
    dtypes,
    shapes,
    tolerance,
    variable_for,
)
from hypothesis import given
from hypothesis import strategies as st

from astsym.graph import ops
from astsym.graph.ops import REDUCTIONS
from astsym.graph.type import TensorType
from astsym.typecheck import GraphRuntimeError, GraphTypeError

BACKENDS = backend_params()


def _logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x)))`` in float64, with NumPy's dtype for that composition."""
    wide = np.asarray(x, dtype=np.float64)
    top = np.max(wide, axis=axis, keepdims=True)
    top = np.where(np.isinf(top), 0, top)
    out = np.log(np.sum(np.exp(wide - top), axis=axis, keepdims=True)) + top
    if not keepdims:
        out = np.squeeze(out, axis=tuple(range(wide.ndim)) if axis is None else axis)
    return out.astype(np.exp(np.ones((), x.dtype)).dtype)


@dataclass(frozen=True)
class Spec:
    """A reduction under test: the astsym function, the NumPy reference, the operand kinds,
    the values drawn, and whether it takes a single axis only."""

    fn: Callable
    ref: Callable
    kinds: str = "biufc"
    domain: Callable[[str], Domain] = lambda dtype: Domain()
    single_axis: bool = False
    has_ddof: bool = False
    magnitude_power: int = 1  # how the result's size grows with the values' (var: squared)
    composite: bool = False  # built from other ops: its errors name those


SPECIAL = Domain(special=True)


def _prod_domain(dtype: str) -> Domain:
    return Domain(0.9, 1.1) if KINDS[dtype] in "fc" else Domain(-2, 2)


SPECS = {
    "sum": Spec(ops.sum, np.sum),
    "prod": Spec(ops.prod, np.prod, domain=_prod_domain),
    "max": Spec(ops.max, np.max, domain=lambda d: SPECIAL),
    "min": Spec(ops.min, np.min, domain=lambda d: SPECIAL),
    "all": Spec(ops.all, np.all, domain=lambda d: SPECIAL),
    "any": Spec(ops.any, np.any, domain=lambda d: SPECIAL),
    "argmax": Spec(ops.argmax, np.argmax, domain=lambda d: SPECIAL, single_axis=True),
    "argmin": Spec(ops.argmin, np.argmin, domain=lambda d: SPECIAL, single_axis=True),
    "mean": Spec(ops.mean, np.mean),
    "var": Spec(
        ops.var, np.var, domain=lambda d: Domain(-10, 10), has_ddof=True, magnitude_power=2
    ),
    "std": Spec(ops.std, np.std, domain=lambda d: Domain(-10, 10), has_ddof=True),
    "logsumexp": Spec(
        ops.logsumexp, _logsumexp, kinds="biuf", domain=lambda d: Domain(-10, 10), composite=True
    ),
}
NAMES = sorted(SPECS)


def test_every_registered_reduction_is_tested():
    assert set(REDUCTIONS) <= set(SPECS), "add the new reduction to SPECS"
    for name in REDUCTIONS:
        assert getattr(ops, name).__name__ == name


def reference(name: str, value: np.ndarray, axis, keepdims: bool, **kwargs) -> np.ndarray:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # mean of empty, ddof >= size
        return np.asarray(SPECS[name].ref(value, axis=axis, keepdims=keepdims, **kwargs))


@st.composite
def axis_args(draw, ndim: int, single: bool = False):
    """None, an int (maybe negative) or, unless ``single``, a tuple of distinct axes."""
    forms = ["none"] + (["int"] if ndim else []) + ([] if single else ["tuple"])
    form = draw(st.sampled_from(forms))
    if form == "none":
        return None
    if form == "int":
        return draw(st.integers(-ndim, ndim - 1))
    axes = draw(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim)) if ndim else []
    return tuple(a - ndim if draw(st.booleans()) else a for a in axes)


def _tolerances(name: str, value: np.ndarray, out_dtype) -> tuple[float, float]:
    """The dtype's tolerance, the absolute one scaled by the number and size of the terms."""
    rtol, atol = tolerance(out_dtype)
    finite = np.abs(value[np.isfinite(value)]) if value.dtype.kind in "fc" else np.abs(value)
    magnitude = max(1.0, float(finite.max()) if finite.size else 1.0)
    return rtol, atol + rtol * max(1, value.size) * magnitude ** SPECS[name].magnitude_power


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
def test_reduction_matches_numpy(name, backend, data):
    spec = SPECS[name]
    dtype = data.draw(dtypes(spec.kinds), label="dtype")
    value = data.draw(arrays(dtype, data.draw(shapes()), spec.domain(dtype)), label="x")
    axis = data.draw(axis_args(value.ndim, spec.single_axis), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    kwargs = {"ddof": data.draw(st.sampled_from([0, 1]))} if spec.has_ddof else {}
    pattern = tuple(d == 1 and data.draw(st.booleans()) for d in value.shape)
    x = variable_for(value, "x", pattern)
    out = spec.fn(x, axis=axis, keepdims=keepdims, **kwargs)
    try:
        expected = reference(name, value, axis, keepdims, **kwargs)
    except ValueError:  # an empty reduction with no identity
        with pytest.raises(GraphRuntimeError) as info:
            compile_and_run([x], out, [value], backend)
        assert info.value.diagnostic.code == "AS303"
        assert spec.composite or name in info.value.diagnostic.message
        return
    assert out.dtype == expected.dtype.name
    assert out.ndim == expected.ndim
    result = compile_and_run([x], out, [value], backend)
    rtol, atol = _tolerances(name, value, expected.dtype)
    assert_allclose_dtype(result, expected, rtol, atol, err_msg=f"{name} axis={axis} {kwargs}")


@pytest.mark.parametrize("name", NAMES)
def test_result_dtype_is_numpys_for_every_dtype(name):
    spec = SPECS[name]
    for dtype in DTYPES:
        if KINDS[dtype] not in spec.kinds:
            continue
        x = TensorType(dtype, shape=(None, None))("x")
        for axis in (None, 0, (0, 1)) if not spec.single_axis else (None, 1):
            expected = reference(name, np.ones((2, 3), dtype), axis, False)
            assert spec.fn(x, axis=axis).dtype == expected.dtype.name, f"{name}({dtype})"


@pytest.mark.parametrize(
    ("name", "dtype", "expected"),
    [
        ("sum", "int8", "int64"),
        ("sum", "uint8", "uint64"),
        ("sum", "bool", "int64"),
        ("sum", "float16", "float16"),
        ("prod", "int16", "int64"),
        ("mean", "int8", "float64"),
        ("mean", "bool", "float64"),
        ("mean", "float32", "float32"),
        ("var", "int32", "float64"),
        ("std", "float32", "float32"),
        ("max", "int8", "int8"),
        ("argmax", "float32", "int64"),
        ("all", "float32", "bool"),
    ],
)
def test_result_dtype_examples(name, dtype, expected):
    assert SPECS[name].fn(TensorType(dtype, shape=(None,))("x")).dtype == expected


@pytest.mark.parametrize("backend", BACKENDS)
def test_dtype_argument(backend):
    x = TensorType("int8", shape=(None,))("x")
    value = np.array([100, 100, 100], np.int8)
    for out, expected in [
        (ops.sum(x, dtype="int8"), np.sum(value, dtype=np.int8)),  # wraps, as NumPy's
        (ops.sum(x, dtype="float32"), np.sum(value, dtype=np.float32)),
        (ops.mean(x, dtype="float32"), np.mean(value, dtype=np.float32)),
    ]:
        assert_allclose_dtype(compile_and_run([x], out, [value], backend), expected)


# -- empty operands --------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_reductions_with_an_identity_over_nothing(backend):
    x = TensorType("float64", shape=(None,))("x")
    i = TensorType("int32", shape=(None,))("i")
    empty = np.zeros(0)
    outs = [ops.sum(x), ops.prod(x), ops.all(x), ops.any(x), ops.sum(i), ops.prod(i)]
    results = compile_and_run([x, i], outs, [empty, np.zeros(0, np.int32)], backend)
    expected = [np.float64(0), np.float64(1), np.True_, np.False_, np.int64(0), np.int64(1)]
    for result, want in zip(results, expected):
        assert_allclose_dtype(result, want)
    mean = compile_and_run([x], ops.mean(x), [empty], backend)
    assert mean.dtype == np.float64 and np.isnan(mean)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ["max", "min", "argmax", "argmin"])
def test_reduction_without_identity_over_nothing_is_a_clear_error(name, backend):
    x = TensorType("float64", shape=(None, None))("x")
    value = np.zeros((0, 3))
    fine = compile_and_run([x], SPECS[name].fn(x, axis=1), [value], backend)  # reduces size 3
    assert fine.shape == (0,)
    with pytest.raises(GraphRuntimeError) as info:
        compile_and_run([x], SPECS[name].fn(x, axis=0), [value], backend)
    assert info.value.diagnostic.code == "AS303"
    assert name in info.value.diagnostic.message and "(0, 3)" in str(info.value)


# -- axes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("axis", [2, -3, (0, 2), (0, -3), (1, -1)])
def test_axis_out_of_range_or_repeated_is_as204(name, axis):
    x = TensorType("float64", shape=(None, 3))("x")
    with pytest.raises(GraphTypeError) as info:
        SPECS[name].fn(x, axis=axis)
    assert info.value.diagnostic.code == "AS204"
    assert name in info.value.diagnostic.message


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_arg_reduction_takes_one_axis(name):
    with pytest.raises(GraphTypeError) as info:
        SPECS[name].fn(TensorType("float64", shape=(None, 3))("x"), axis=(0, 1))
    assert info.value.diagnostic.code == "AS204"


@pytest.mark.parametrize("name", NAMES)
def test_keepdims_static_shape(name):
    x = TensorType("float64", shape=(None, 3, 4))("x")
    axis = 1 if SPECS[name].single_axis else (0, -1)
    kept = SPECS[name].fn(x, axis=axis, keepdims=True)
    dropped = SPECS[name].fn(x, axis=axis)
    if SPECS[name].single_axis:
        assert kept.type.shape == (None, 1, 4) and dropped.type.shape == (None, 4)
    else:
        assert kept.type.shape == (1, 3, 1) and dropped.type.shape == (3,)


@pytest.mark.parametrize("backend", BACKENDS)
def test_var_ddof_and_theano_corrected(backend):
    x = TensorType("float64", shape=(None,))("x")
    value = np.array([1.0, 2.0, 4.0, 8.0])
    outs = [ops.var(x, ddof=1), ops.var(x, corrected=True), ops.std(x, ddof=1)]
    results = compile_and_run([x], outs, [value], backend)
    for result, want in zip(results, [np.var(value, ddof=1)] * 2 + [np.std(value, ddof=1)]):
        assert_allclose_dtype(result, np.float64(want))


@pytest.mark.parametrize("backend", BACKENDS)
def test_logsumexp_does_not_overflow(backend):
    x = TensorType("float32", shape=(None,))("x")
    value = np.array([1000.0, 1000.0, -math.inf], np.float32)
    result = compile_and_run([x], ops.logsumexp(x), [value], backend)
    assert_allclose_dtype(result, np.float32(1000 + math.log(2)))
    everything_minus_inf = np.full(2, -math.inf, np.float32)
    result = compile_and_run([x], ops.logsumexp(x), [everything_minus_inf], backend)
    assert_allclose_dtype(result, np.float32(-math.inf))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("size", "ddof"), [(0, 1), (1, 2), (1, 1), (2, 5)])
def test_var_with_ddof_at_least_the_count_divides_by_zero(size, ddof, backend):
    """NumPy divides by ``max(n - ddof, 0)``: NaN or inf, never a negative count."""
    x = TensorType("float64", shape=(None,))("x")
    value = np.arange(float(size))
    result = compile_and_run([x], ops.var(x, ddof=ddof), [value], backend)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert_allclose_dtype(result, np.var(value, ddof=ddof))
    assert not np.isfinite(result)
