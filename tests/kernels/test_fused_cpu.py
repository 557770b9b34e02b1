"""The ``cpu`` backend's fused elementwise kernels agree with the ``py`` backend (the oracle)
on random data, broadcasting included, and keep its errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import astsym
import astsym.tensor as T
from astsym.graph.fg import FunctionGraph
from astsym.graph.ops.fused import FusedElemwise
from astsym.graph.rewrites_fuse import fuse
from astsym.typecheck import GraphRuntimeError


def _chain(x, row, s):
    return T.exp(-x * s + row) * T.tanh(x) + x**2 / (1 + abs(x)) - T.sigmoid(row) * T.log1p(x * x)


def test_a_chain_becomes_one_fused_node_per_shape():
    x, row, s = T.fmatrix("x"), T.frow("row"), T.fscalar("s")
    fg = FunctionGraph([x, row, s], [_chain(x, row, s)])
    assert fuse(fg) == 2  # sigmoid(row) is computed once per row, apart from the matrix
    sizes = sorted(len(node.op.steps) for node in fg.toposort())
    assert [type(node.op) for node in fg.toposort()] == [FusedElemwise] * 2
    assert sizes == [1, 15]


def test_a_value_used_outside_the_group_is_not_swallowed():
    x = T.fvector("x")
    inner = T.exp(x) * 2
    fg = FunctionGraph([x], [inner + 1, inner])
    fuse(fg)
    out = astsym.function([x], [inner + 1, inner], mode="cpu")(np.arange(3, dtype=np.float32))
    assert np.allclose(out[0], out[1] + 1)


floats = st.floats(-30, 30, width=32)


@settings(deadline=None, max_examples=25)
@given(
    x=hnp.arrays(np.float32, hnp.array_shapes(min_dims=2, max_dims=2, max_side=7), elements=floats),
    s=floats,
    data=st.data(),
)
def test_cpu_equals_py_on_random_data(x, s, data):
    row = data.draw(hnp.arrays(np.float32, (1, x.shape[1]), elements=floats))
    tx, trow, ts = T.fmatrix("x"), T.frow("row"), T.fscalar("s")
    expr = _chain(tx, trow, ts)
    args = (x, row, np.float32(s))
    want = astsym.function([tx, trow, ts], expr, mode="py")(*args)
    got = astsym.function([tx, trow, ts], expr, mode="cpu")(*args)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=3e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_special_values_follow_numpy(dtype):
    x = T.vector("x", dtype=dtype)
    expr = T.exp(x) * 2 + T.log(x) - T.tanh(x)
    values = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 1e-40, 1e30], dtype)
    want = astsym.function([x], expr, mode="py")(values)
    got = astsym.function([x], expr, mode="cpu")(values)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    ok = ~np.isnan(want)
    np.testing.assert_allclose(got[ok], want[ok], rtol=1e-6)


def test_a_size_mismatch_is_still_a_located_error():
    x, y = T.fvector("x"), T.fvector("y")
    f = astsym.function([x, y], T.exp(x) * y + 1, mode="cpu")
    with pytest.raises(GraphRuntimeError, match="not marked broadcastable"):
        f(np.ones(3, np.float32), np.ones(4, np.float32))


def test_the_tutorial_logistic_regression_trains_the_same_on_both_backends():
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((50, 4)), (rng.random(50) > 0.5).astype(float)
    results = []
    for mode in ("py", "cpu"):
        x, y = T.dmatrix("x"), T.dvector("y")
        w = astsym.shared(np.zeros(4), name="w")
        p = 1 / (1 + T.exp(-T.dot(x, w)))
        cost = (-y * T.log(p) - (1 - y) * T.log(1 - p)).mean()
        train = astsym.function(
            [x, y], cost, updates=[(w, w - 0.5 * astsym.grad(cost, w))], mode=mode
        )
        costs = [train(X, Y) for _ in range(20)]
        results.append((np.array(costs), w.get_value()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)


def _address(array) -> int:
    return array.__array_interface__["data"][0]


def test_a_large_output_is_reused_only_when_nothing_refers_to_it():
    x = T.dvector("x")
    f = astsym.function([x], T.exp(x) * 2 + 1, mode="cpu")
    value = np.linspace(0, 1, 300_000)
    first = f(value)
    kept = first.copy()
    second = f(value + 1)  # ``first`` is held: a new buffer
    assert _address(second) != _address(first)
    np.testing.assert_array_equal(first, kept)
    view = second[10:20]
    third = f(value)
    assert _address(third) not in (_address(first), _address(second))  # a view holds second
    np.testing.assert_allclose(view, (np.exp(value + 1) * 2 + 1)[10:20])
    address = _address(third)
    del third
    fourth = f(value)  # nothing refers to the third output any more: its memory is reused
    assert _address(fourth) == address
    np.testing.assert_allclose(fourth, np.exp(value) * 2 + 1)


def test_a_shared_variable_updated_by_a_kernel_is_never_overwritten_by_the_next_call():
    w = astsym.shared(np.ones(300_000), name="w")
    step = astsym.function([], [], updates=[(w, T.tanh(w) * 2)], mode="cpu")
    history = []
    for _ in range(3):
        history.append(w.get_value(borrow=True))
        step()
    expected = np.ones(300_000)
    for value in history:
        np.testing.assert_array_equal(value, expected)
        expected = np.tanh(expected) * 2
