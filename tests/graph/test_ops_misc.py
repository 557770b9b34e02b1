"""Scans, sorting and the nnet functions against NumPy formulas (``py`` backend)."""

import numpy as np
import pytest
from _structural_helpers import assert_same, normal, raises_code, run, seeds, shapes
from hypothesis import given
from hypothesis import strategies as st

import astsym.tensor as T

static_modes = pytest.mark.parametrize("static", [False, True], ids=["dynamic", "static"])
SCAN_DTYPES = ["float64", "float32", "int8", "int32", "uint8", "uint16", "bool"]


def _small_ints(shape, dtype, seed):
    """Values with many ties (and zeros), in a range every dtype holds."""
    values = np.random.default_rng(seed).integers(
        0 if dtype.startswith(("u", "b")) else -2, 3, shape
    )
    return values.astype(dtype)


def _axes(data, ndim):
    return data.draw(st.none() | st.integers(-ndim, ndim - 1)) if ndim else None


# -- cumsum / cumprod -------------------------------------------------------------------


@static_modes
@given(shapes(0, 3), st.sampled_from(SCAN_DTYPES), st.data(), seeds())
def test_cumsum_cumprod_match_numpy(static, shape, dtype, data, seed):
    x = _small_ints(shape, dtype, seed)
    axis = _axes(data, len(shape))
    assert_same(run(lambda v: T.cumsum(v, axis), x, static=static), np.cumsum(x, axis))
    assert_same(run(lambda v: T.cumprod(v, axis), x, static=static), np.cumprod(x, axis))
    assert_same(run(lambda v: v.cumsum(axis), x, static=static), np.cumsum(x, axis))
    assert_same(run(lambda v: v.cumprod(axis), x, static=static), np.cumprod(x, axis))


@pytest.mark.parametrize("axis", [None, 0, 1, 2, -1, -3])
def test_cumsum_each_axis_of_floats(axis):
    x = normal((2, 3, 4), 0)
    assert_same(run(lambda v: T.cumsum(v, axis), x), np.cumsum(x, axis), rtol=1e-12)
    assert_same(run(lambda v: T.cumprod(v, axis), x), np.cumprod(x, axis), rtol=1e-12)


def test_cum_bad_axis():
    with raises_code("AS204"):
        T.cumsum(T.matrix("x"), 2)


# -- sort / argsort ---------------------------------------------------------------------


@static_modes
@given(shapes(1, 3, 0, 5), st.sampled_from(SCAN_DTYPES), st.data(), seeds())
def test_sort_and_stable_argsort_match_numpy(static, shape, dtype, data, seed):
    """With many ties, argsort equal to NumPy's stable one means it is stable too."""
    x = _small_ints(shape, dtype, seed)
    axis = _axes(data, len(shape))
    expected_order = np.argsort(x, axis=axis, kind="stable")
    assert_same(run(lambda v: T.sort(v, axis), x, static=static), np.sort(x, axis=axis))
    assert_same(run(lambda v: T.argsort(v, axis), x, static=static), expected_order)
    assert_same(run(lambda v: v.argsort(axis), x, static=static), expected_order)


@pytest.mark.parametrize("axis", [-1, 0, 1, None])
def test_sort_floats_each_axis(axis):
    x = normal((3, 5), 1)
    x[0, :2] = x[1, 3]  # ties
    assert_same(run(lambda v: v.sort(axis), x), np.sort(x, axis=axis))
    assert_same(run(lambda v: T.argsort(v, axis), x), np.argsort(x, axis=axis, kind="stable"))


def test_argsort_keeps_the_order_of_equal_keys():
    x = np.array([2.0, 1.0, 2.0, 1.0, 2.0])
    assert_same(run(T.argsort, x), np.array([1, 3, 0, 2, 4]))


# -- nnet ---------------------------------------------------------------------------------


def _np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@static_modes
@given(shapes(1, 3, 1, 5), st.sampled_from(["float64", "float32"]), st.data(), seeds())
def test_softmax_matches_numpy_and_sums_to_one(static, shape, dtype, data, seed):
    x = normal(shape, seed, dtype, scale=5.0)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    out = run(lambda v: T.nnet.softmax(v, axis=axis), x, static=static)
    tol = 1e-5 if dtype == "float32" else 1e-12
    assert_same(out, _np_softmax(x, axis), rtol=tol, atol=tol)
    np.testing.assert_allclose(out.sum(axis=axis), 1.0, rtol=tol)
    assert np.all(out >= 0)


@given(shapes(2, 2, 1, 5), seeds())
def test_softmax_of_large_inputs_is_stable(shape, seed):
    """Shifting by a constant changes nothing, even where exp would overflow."""
    x = normal(shape, seed)
    for shift in (1000.0, -1000.0):
        out = run(T.nnet.softmax, x + shift)
        assert np.all(np.isfinite(out))
        assert_same(out, _np_softmax(x), rtol=1e-9, atol=1e-12)


def test_softmax_rows_by_default():
    x = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    out = run(T.nnet.softmax, x)
    assert_same(out, np.exp(x) / np.exp(x).sum(axis=1, keepdims=True), rtol=1e-12)
    assert_same(out[1], np.full(3, 1 / 3), rtol=1e-12)


@given(shapes(1, 3, 1, 5), st.data(), seeds())
def test_log_softmax_matches_numpy(shape, data, seed):
    x = normal(shape, seed, scale=5.0)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    out = run(lambda v: T.nnet.log_softmax(v, axis=axis), x)
    assert_same(out, np.log(_np_softmax(x, axis)), rtol=1e-10, atol=1e-12)


def test_log_softmax_is_finite_where_the_log_of_softmax_is_not():
    x = np.array([[0.0, 1000.0], [-800.0, 0.0]])
    out = run(T.nnet.log_softmax, x)
    assert_same(out, np.array([[-1000.0, 0.0], [-800.0, 0.0]]), rtol=1e-12)


@pytest.mark.parametrize("alpha", [0, 0.1, 0.5])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@given(shape=shapes(0, 3), seed=seeds())
def test_relu_matches_numpy(alpha, dtype, shape, seed):
    x = normal(shape, seed, dtype)
    expected = np.where(x > 0, x, x * np.asarray(alpha, dtype=dtype)).astype(dtype)
    out = run(lambda v: T.nnet.relu(v, alpha), x)
    assert_same(out, expected, rtol=1e-6)
    if alpha == 0:
        assert_same(run(T.nnet.relu, x), np.maximum(x, 0))


@given(shapes(0, 2, 1, 5), seeds())
def test_binary_crossentropy_matches_formula(shape, seed):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.01, 0.99, shape)
    t = rng.uniform(0.0, 1.0, shape)
    expected = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    assert_same(run(T.nnet.binary_crossentropy, p, t), np.asarray(expected), rtol=1e-12)


@given(shapes(0, 2, 1, 5), seeds())
def test_sigmoid_binary_crossentropy_matches_formula(shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape) * 4
    t = rng.uniform(0.0, 1.0, shape)
    p = 1 / (1 + np.exp(-x))
    expected = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    out = run(T.nnet.sigmoid_binary_crossentropy, x, t)
    assert_same(out, np.asarray(expected), rtol=1e-9, atol=1e-12)


def test_sigmoid_binary_crossentropy_is_stable_for_large_logits():
    x = np.array([-1000.0, -40.0, 40.0, 1000.0])
    t = np.array([1.0, 0.0, 1.0, 0.0])
    out = run(T.nnet.sigmoid_binary_crossentropy, x, t)
    assert_same(out, np.logaddexp(0, x) - t * x, rtol=1e-12)
    tiny = np.log1p(np.exp(-40.0))  # 4e-18: kept, or lost to rounding next to 40 - 40
    assert_same(out, np.array([1000.0, tiny, tiny, 1000.0]), rtol=1e-12, atol=1e-15)


@given(st.integers(1, 5), st.integers(2, 5), seeds())
def test_categorical_crossentropy_one_hot_and_int_targets(rows, classes, seed):
    rng = np.random.default_rng(seed)
    coding = _np_softmax(rng.normal(size=(rows, classes)))
    labels = rng.integers(0, classes, rows)
    expected = -np.log(coding[np.arange(rows), labels])
    one_hot = np.eye(classes)[labels]
    cce = T.nnet.categorical_crossentropy
    assert_same(run(cce, coding, one_hot), expected, rtol=1e-12)
    assert_same(run(cce, coding, labels), expected, rtol=1e-12)
    assert_same(run(cce, coding, labels.astype("int32")), expected, rtol=1e-12)
    soft = _np_softmax(rng.normal(size=(rows, classes)))
    assert_same(run(cce, coding, soft), -(soft * np.log(coding)).sum(axis=1), rtol=1e-12)


def test_categorical_crossentropy_bad_targets():
    with raises_code("AS203"):
        T.nnet.categorical_crossentropy(T.dmatrix("p"), T.dvector("t"))  # floats, not classes
    with raises_code("AS203"):
        T.nnet.categorical_crossentropy(T.dmatrix("p"), T.ltensor3("t"))
