"""The ``cpu`` backend compiles a function's whole graph into one Numba function (scan loops
included) and calls it through a short path; results equal the ``py`` backend's, and errors
are still reported at the user's line."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import astsym
import astsym.tensor as T
from astsym.typecheck import GraphRuntimeError, InputError

finite = st.floats(-3, 3, width=32)


def _both(inputs, outputs, *values, **kwargs):
    """The cpu function's second call (its first runs op by op, ``config.compile_after``),
    compiled whole, and the py backend's result."""
    f = astsym.function(inputs, outputs, mode="cpu", **kwargs)
    first = f(*values)
    got = f(*values)
    assert f.program.fallback is None, f.program.fallback
    assert f.program.compiled is not None, "the graph was not compiled whole"
    want = astsym.function(inputs, outputs, mode="py", **kwargs)(*values)
    _close(first, want, rtol=1e-5)
    return f, got, want


def _close(got, want, rtol=1e-5):
    got, want = (got, want) if isinstance(got, list) else ([got], [want])
    for a, b in zip(got, want):
        assert isinstance(a, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)


@settings(deadline=None, max_examples=20)
@given(
    x=hnp.arrays(np.float32, hnp.array_shapes(min_dims=2, max_dims=2, max_side=6), elements=finite),
    data=st.data(),
)
def test_a_graph_of_kernels_views_and_dots_equals_py(x, data):
    w = data.draw(hnp.arrays(np.float32, (x.shape[1], 3), elements=finite))
    tx, tw = T.fmatrix("x"), T.fmatrix("w")
    h = T.tanh(T.dot(tx, tw) + 1)
    outputs = [
        h,
        T.nnet.softmax(h * 2),
        h.sum(axis=0),
        (h**2).mean(),
        h.T[0],
        h[1:, -1] if x.shape[0] > 1 else h[0],
        h.dimshuffle("x", 1, 0),
    ]
    _, got, want = _both([tx, tw], outputs, x, w)
    _close(got, want)


def test_scalars_only_give_scalars():
    w, x, b = T.fscalars("w", "x", "b")
    f, got, want = _both([w, x, b], [w * x + b, T.exp(w) > x], *np.float32([2, 3, 1]))
    _close(got, want)
    assert got[1].dtype == np.bool_


def _rnn(xs, h0, W, U, b):
    hs, _ = astsym.scan(
        lambda x_t, h: T.tanh(T.dot(W, h) + T.dot(U, x_t) + b), sequences=xs, outputs_info=h0
    )
    return hs


def test_an_rnn_scan_is_a_compiled_loop_equal_to_py():
    rng = np.random.default_rng(0)
    W, U, b = (
        astsym.shared(v, name=n)
        for v, n in zip(
            [rng.standard_normal((8, 8)) * 0.3, rng.standard_normal((8, 3)), np.zeros(8)], "WUb"
        )
    )
    xs, h0 = T.dmatrix("xs"), T.dvector("h0")
    hs = _rnn(xs, h0, W, U, b)
    X, H = rng.standard_normal((50, 3)), np.zeros(8)
    f, got, want = _both([xs, h0], [hs, hs[-1].sum()], X, H)
    _close(got, want, rtol=1e-12)
    cost = hs[-1].sum()
    grads = astsym.grad(cost, [W, U])
    g, got, want = _both([xs, h0], grads, X, H)
    _close(got, want, rtol=1e-10)


@pytest.mark.parametrize("backwards", [False, True])
def test_scan_taps_until_and_direction_equal_py(backwards):
    seq, a0 = T.dvector("seq"), T.dvector("a0")

    def step(s_prev, s_next, a2, a1):
        value = a1 + a2 * 0.5 + s_prev * s_next
        return value, astsym.scan_module.until(value > 50)

    out, _ = astsym.scan(
        step,
        sequences=[{"input": seq, "taps": [-1, 1]}],
        outputs_info=[{"initial": a0, "taps": [-2, -1]}],
        go_backwards=backwards,
    )
    _, got, want = _both([seq, a0], out, np.linspace(0, 3, 40), np.array([1.0, 2.0]))
    _close(got, want, rtol=1e-12)


def test_a_polynomial_by_scan_over_coefficients():
    coef, x = T.dvector("coef"), T.dscalar("x")
    terms, _ = astsym.scan(
        lambda c, p, x: c * x**p, sequences=[coef, T.arange(1000)], non_sequences=x
    )
    _, got, want = _both([coef, x], terms.sum(), np.linspace(-1, 1, 1000), np.float64(0.9))
    _close(got, want, rtol=1e-12)


def test_a_size_mismatch_is_still_reported_at_the_users_line():
    x, y = T.fvectors("x", "y")
    f = astsym.function([x, y], T.exp(x) * y, mode="cpu")
    f(np.ones(3, np.float32), np.ones(3, np.float32))
    with pytest.raises(GraphRuntimeError, match="not marked broadcastable") as err:
        f(np.ones(3, np.float32), np.ones(4, np.float32))
    assert "test_compiled_graph.py" in str(err.value)


def test_an_index_out_of_range_is_reported_and_not_read():
    x = T.dvector("x")
    f = astsym.function([x], x[5] * 2, mode="cpu")
    assert f(np.arange(6.0)) == 10.0
    with pytest.raises(GraphRuntimeError, match="index"):
        f(np.arange(3.0))


def test_an_op_without_a_compiled_form_runs_op_by_op_and_says_why():
    x = T.dvector("x")
    f = astsym.function([x], T.sort(x) * 2, mode="cpu")
    np.testing.assert_array_equal(f(np.array([3.0, 1.0])), [2.0, 6.0])
    assert "sort" in f.program.fallback


def test_the_short_path_checks_inputs_and_falls_back_to_the_full_one():
    x, y = T.fvectors("x", "y")
    f = astsym.function([x, y], x * y + 1, mode="cpu")
    a = np.arange(3, dtype=np.float32)
    f(a, a)
    assert f._short is None  # the first call runs op by op (config.compile_after)
    f(a, a)
    assert f._short is not None
    np.testing.assert_array_equal(f([1, 2, 3], a), [1, 3, 7])  # a list: converted
    np.testing.assert_array_equal(f(x=a, y=a), a * a + 1)  # keywords
    with pytest.raises(InputError, match="input 0 'x'"):
        f(np.ones((2, 2), np.float32), a)
    with pytest.raises(InputError, match="would lose precision"):
        f(np.ones(3), a)


def test_the_short_path_commits_updates_and_never_returns_an_input():
    w = astsym.shared(np.zeros(3), name="w")
    x = T.dvector("x")
    f = astsym.function([x], [x, w + x], updates=[(w, w + x)], mode="cpu")
    value = np.ones(3)
    for step in range(1, 4):
        same, total = f(value)
        assert not np.shares_memory(same, value)
        np.testing.assert_array_equal(total, np.full(3, step))
        np.testing.assert_array_equal(w.get_value(), np.full(3, step))


def test_trust_input_skips_the_checks():
    x = T.dscalar("x")
    f = astsym.function([x], x * 2, mode="cpu", trust_input=True)
    assert f(np.float64(2.0)) == 4.0
    assert f(np.float64(3.0)) == 6.0
