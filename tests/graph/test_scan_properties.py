"""scan against plain NumPy loops, and backpropagation through time against finite
differences.

Forward: hypothesis draws the number of steps (0 and 1 always among them), the state
shapes and the values; every result is compared with a Python loop over NumPy arrays.
Backward: gradients through scans (taps, go_backwards, until, truncate_gradient, initial
states, non-sequences, unlisted outer variables and shared variables) are compared with
central differences of an independent NumPy implementation and with ``verify_grad``.
Everything runs on the ``py`` backend in float64.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from helpers import numeric_grad
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import astsym as theano
import astsym.tensor as T
from astsym.gradient import hessian, jacobian, verify_grad
from astsym.graph.type import TensorType


def compile_py(inputs, outputs, **kwargs):
    return theano.function(inputs, outputs, mode="py", on_unused_input="ignore", **kwargs)


def values(shape, bound: float = 1.0):
    return hnp.arrays(np.float64, shape, elements=st.floats(-bound, bound, allow_subnormal=False))


def assert_close(actual, expected, what: str = "", tol: float = 1e-12) -> None:
    actual, expected = np.asarray(actual), np.asarray(expected, dtype=np.float64)
    assert actual.dtype == np.float64, f"{what}: dtype {actual.dtype}"
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, want {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol, err_msg=what)


def assert_empty_rows(actual, n_cols) -> None:
    """A 0-step output of a non-recurrent step: no rows. Its other dims are unknowable
    without running the step, so only its rank and size are checked."""
    assert actual.ndim == 2 and actual.shape[0] == 0 and actual.size == 0, actual.shape


DIMS = st.integers(1, 3)

# -- (a) a sequence, a tap -1 state and non-sequences: h = tanh(W h + U x_t + b) --------------


def np_rnn(x, h0, W, U, b):
    h, out = h0, []
    for x_t in x:
        h = np.tanh(W @ h + U @ x_t + b)
        out.append(h)
    return np.reshape(out, (len(x), len(h0)))


@functools.cache
def rnn_graph():
    x, h0, W, U, b = T.dmatrix("x"), T.dvector("h0"), T.dmatrix("W"), T.dmatrix("U"), T.dvector("b")
    hs, updates = theano.scan(
        lambda x_t, h, W, U, b: T.tanh(T.dot(W, h) + T.dot(U, x_t) + b),
        sequences=x,
        outputs_info=h0,
        non_sequences=[W, U, b],
    )
    assert updates == {}
    return [x, h0, W, U, b], hs


@functools.cache
def rnn_fn():
    inputs, hs = rnn_graph()
    n_steps = T.iscalar("n_steps")
    hs_n, _ = theano.scan(
        lambda x_t, h, W, U, b: T.tanh(T.dot(W, h) + T.dot(U, x_t) + b),
        sequences=inputs[0],
        outputs_info=inputs[1],
        non_sequences=inputs[2:],
        n_steps=n_steps,
    )
    return compile_py(inputs, hs), compile_py(inputs + [n_steps], hs_n)


@st.composite
def rnn_points(draw, max_len: int = 6):
    n, d, k = draw(st.integers(0, max_len)), draw(DIMS), draw(DIMS)
    shapes = [(n, k), (d,), (d, d), (d, k), (d,)]
    return [draw(values(s)) for s in shapes]


def rnn_example(n: int, d: int = 2, k: int = 3, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, s) for s in [(n, k), (d,), (d, d), (d, k), (d,)]]


@given(rnn_points(), st.data())
@example(rnn_example(0), None)
@example(rnn_example(1), None)
def test_recurrence_with_sequence_state_and_non_sequences(point, data):
    whole, with_n_steps = rnn_fn()
    assert_close(whole(*point), np_rnn(*point), "all steps")
    n = len(point[0])
    steps = data.draw(st.integers(0, n)) if data is not None else n
    prefix = [point[0][:steps]] + point[1:]
    assert_close(with_n_steps(*point, steps), np_rnn(*prefix), f"n_steps={steps}")


@functools.cache
def elementwise_fn(rank: int):
    x = TensorType("float64", shape=(None,) * (rank + 1))("x")
    h0, w = (TensorType("float64", shape=(None,) * rank)(name) for name in ("h0", "w"))
    out, _ = theano.scan(
        lambda x_t, h, w: T.tanh(h * w + x_t), sequences=x, outputs_info=h0, non_sequences=w
    )
    return compile_py([x, h0, w], out)


@given(
    st.integers(0, 4), hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3), st.data()
)
@example(0, (2, 0), None)
@example(1, (), None)
def test_recurrence_over_states_of_any_shape(length, shape, data):
    if data is None:
        x, h0, w = np.ones((length, *shape)), np.full(shape, 0.5), np.full(shape, -1.0)
    else:
        x, h0, w = (data.draw(values(s)) for s in [(length, *shape), shape, shape])
    h, want = h0, []
    for x_t in x:
        h = np.tanh(h * w + x_t)
        want.append(h)
    assert_close(elementwise_fn(len(shape))(x, h0, w), np.reshape(want, (length, *shape)))


# -- (b) taps [-2, -1] on the output and [-1, 0, 1] on the sequence ---------------------------


def np_taps(x, init, w):
    hist = list(init[-2:])
    for t in range(max(len(x) - 2, 0)):
        hist.append(np.tanh(hist[-2] * w - 0.5 * hist[-1] + x[t] * x[t + 2]) + x[t + 1])
    return np.reshape(hist[2:], (max(len(x) - 2, 0), init.shape[1]))


def taps_scan(x, init, w):
    out, updates = theano.scan(
        lambda x_m1, x_0, x_p1, h_m2, h_m1, w: T.tanh(h_m2 * w - 0.5 * h_m1 + x_m1 * x_p1) + x_0,
        sequences=dict(input=x, taps=[-1, 0, 1]),
        outputs_info=dict(initial=init, taps=[-2, -1]),
        non_sequences=w,
    )
    assert updates == {}
    return out


@functools.cache
def taps_fn():
    x, init, w = T.dmatrix("x"), T.dmatrix("init"), T.dvector("w")
    return compile_py([x, init, w], taps_scan(x, init, w))


@st.composite
def taps_points(draw):
    length, rows, d = draw(st.integers(2, 8)), draw(st.integers(2, 4)), draw(DIMS)
    return [draw(values((length, d))), draw(values((rows, d))), draw(values((d,)))]


@given(taps_points())
@example([np.ones((2, 2)), np.ones((2, 2)), np.ones(2)])  # 0 steps
@example([np.ones((3, 1)), np.ones((4, 1)), np.ones(1)])  # 1 step, extra rows of init unused
def test_output_taps_and_sequence_taps(point):
    assert_close(taps_fn()(*point), np_taps(*point))


def theano_tap_reads(length, taps, go_backwards, n_steps=None):
    """Per step, the index of the sequence item each tap reads, by Theano's rule: the taps
    are cut as if tap 0 were among them, and go_backwards walks the cut slices backwards
    (a tap keeps its direction in the sequence's own time)."""
    lo, hi = min(min(taps), 0), max(max(taps), 0)
    available = max(length - (hi - lo), 0)
    n = available if n_steps is None else n_steps
    order = range(available - 1, available - 1 - n, -1) if go_backwards else range(n)
    return [[t + k - lo for k in taps] for t in order]


TAP_CASES = [
    ([-1, 0, 1], False),
    ([0, 2], False),
    ([-2, 1], False),
    ([0], True),
    ([-1], False),  # Theano's own test: taps=[-1] on arange(5) gives inp[:-1]
    ([-2, -1], False),  # Theano's own test: [1, 2, 3, 4, 5] gives [1, 2, 3]
    ([1], False),
    ([1, 2], False),
    ([0, 1], True),
    ([-1, 0, 1], True),
]


@pytest.mark.parametrize(
    "taps, go_backwards",
    TAP_CASES,
    ids=[f"taps={t}" + ("-backwards" if b else "") for t, b in TAP_CASES],
)
def test_sequence_taps_read_where_theano_reads(taps, go_backwards):
    x = T.dvector("x")
    out, _ = theano.scan(
        lambda *items: T.stack(list(items)),
        sequences=dict(input=x, taps=taps),
        go_backwards=go_backwards,
    )
    f = compile_py([x], out)
    wrong = []
    for length in range(0, 7):
        want = theano_tap_reads(length, taps, go_backwards)
        got = f(np.arange(float(length)))
        if got.tolist() != want:
            wrong.append(f"arange({length}): read {got.tolist()}, Theano reads {want}")
        elif want:
            assert got.shape == (len(want), len(taps))
    assert not wrong, (
        f"sequence taps={taps} go_backwards={go_backwards}: "
        + "; ".join(wrong)
        + " (Theano cuts the taps as if tap 0 were among them, and backwards a tap keeps "
        "its direction in the sequence's own time)"
    )


def test_an_int_for_taps_is_a_one_tap_list():
    """Theano's tests write ``dict(input=u, taps=-2)`` and ``dict(initial=x0, taps=-2)``."""
    u, x0 = T.dvector("u"), T.dvector("x0")
    results = []
    for seq_taps, out_taps in [(-2, -2), ([-2], [-2])]:
        out, _ = theano.scan(
            lambda u_t, x_tm2: u_t + 0.5 * x_tm2,
            sequences=dict(input=u, taps=seq_taps),
            outputs_info=dict(initial=x0, taps=out_taps),
            n_steps=2,
        )
        results.append(compile_py([u, x0], out)(np.arange(4.0), np.array([10.0, 20.0])))
    assert_close(results[0], results[1])


# -- (c) go_backwards ------------------------------------------------------------------------


def np_backwards(x, h0, c, n_steps):
    h, out = h0, []
    for x_t in x[::-1][:n_steps]:
        h = np.tanh(h * c + x_t) + 0.5 * x_t
        out.append(h)
    return np.reshape(out, (n_steps, len(h0)))


@functools.cache
def backwards_fn():
    x, h0, c, n = T.dmatrix("x"), T.dvector("h0"), T.dvector("c"), T.iscalar("n")
    out, _ = theano.scan(
        lambda x_t, h, c: T.tanh(h * c + x_t) + 0.5 * x_t,
        sequences=x,
        outputs_info=h0,
        non_sequences=c,
        n_steps=n,
        go_backwards=True,
    )
    return compile_py([x, h0, c, n], out)


@given(st.integers(0, 6), DIMS, st.data())
@example(0, 2, None)
@example(1, 2, None)
def test_go_backwards(length, d, data):
    if data is None:
        x, h0, c = np.ones((length, d)), np.full(d, 0.5), np.full(d, -0.5)
        n_steps = length
    else:
        x, h0, c = (data.draw(values(s)) for s in [(length, d), (d,), (d,)])
        n_steps = data.draw(st.integers(0, length))
    assert_close(backwards_fn()(x, h0, c, n_steps), np_backwards(x, h0, c, n_steps))


# -- (d) map, reduce, foldl, foldr -------------------------------------------------------------


@functools.cache
def views_fn():
    x, init, w = T.dmatrix("x"), T.dvector("init"), T.dvector("w")
    mapped, u1 = theano.map(lambda x_t, w: x_t * w + 1.0, sequences=x, non_sequences=w)
    reduced, u2 = theano.reduce(
        lambda x_t, acc, w: acc * 0.5 + x_t * w, sequences=x, outputs_info=init, non_sequences=w
    )
    left, u3 = theano.foldl(lambda x_t, acc: acc * 0.5 + x_t, sequences=x, outputs_info=init)
    right, u4 = theano.foldr(lambda x_t, acc: acc * 0.5 + x_t, sequences=x, outputs_info=init)
    assert u1 == u2 == u3 == u4 == {}
    return compile_py([x, init, w], [mapped, reduced, left, right])


@given(st.integers(0, 6), DIMS, st.data())
@example(0, 2, None)
@example(1, 2, None)
def test_map_reduce_foldl_foldr(length, d, data):
    if data is None:
        x, init, w = np.arange(length * d, dtype=float).reshape(length, d), np.ones(d), -np.ones(d)
    else:
        x, init, w = (data.draw(values(s)) for s in [(length, d), (d,), (d,)])
    mapped, reduced, left, right = views_fn()(x, init, w)
    acc_r, acc_l, acc_b = init, init, init
    for x_t, x_back in zip(x, x[::-1]):
        acc_r = acc_r * 0.5 + x_t * w
        acc_l = acc_l * 0.5 + x_t
        acc_b = acc_b * 0.5 + x_back
    if length:
        assert_close(mapped, x * w + 1.0, "map")
    else:
        assert_empty_rows(mapped, d)
    assert_close(reduced, acc_r, "reduce")  # the initial value when there is no step
    assert_close(left, acc_l, "foldl")
    assert_close(right, acc_b, "foldr")


# -- (e) until with a data-dependent stop --------------------------------------------------------


def np_until(x, s0, limit, n_steps):
    s, out = s0, []
    for x_t in x[:n_steps]:
        s = s + x_t * x_t
        out.append(s)
        if s.sum() > limit:
            break
    return np.reshape(out, (len(out), len(s0)))


@functools.cache
def until_fn():
    x, s0, limit, n = T.dmatrix("x"), T.dvector("s0"), T.dscalar("limit"), T.iscalar("n")

    def step(x_t, s, limit):
        new = s + x_t * x_t
        return new, theano.until(new.sum() > limit)

    out, updates = theano.scan(step, sequences=x, outputs_info=s0, non_sequences=limit, n_steps=n)
    assert updates == {}
    return compile_py([x, s0, limit, n], out)


@given(st.integers(0, 6), DIMS, st.floats(-1, 10), st.data())
@example(0, 2, 1.0, None)  # no step at all
@example(4, 2, -1.0, None)  # stops after the first step
@example(4, 2, 1e9, None)  # never stops: the sequence ends first
def test_until_stops_after_the_step_that_meets_the_condition(length, d, limit, data):
    if data is None:
        x, s0, n_steps = np.ones((length, d)), np.zeros(d), length
    else:
        x, s0 = data.draw(values((length, d), 2.0)), data.draw(values((d,)))
        n_steps = data.draw(st.integers(0, length))
    got = until_fn()(x, s0, limit, n_steps)
    want = np_until(x, s0, limit, n_steps)
    assert_close(got, want)
    if data is None and length and limit < 0:
        assert len(got) == 1
    if data is None and limit > 1e8:
        assert len(got) == length


# -- (f) a shared variable updated inside the step ---------------------------------------------


@given(st.lists(st.integers(0, 5), min_size=1, max_size=3), DIMS, st.data())
def test_shared_variable_updated_inside_the_step(lengths, d, data):
    start = data.draw(values((d,)))
    acc = theano.shared(start.copy(), name="acc")
    x = T.dmatrix("x")
    out, updates = theano.scan(lambda x_t: (acc * 2.0 + x_t, {acc: acc + x_t}), sequences=x)
    assert list(updates) == [acc]
    f = compile_py([x], out, updates=updates)
    expected_acc = start.copy()
    for length in lengths:  # the update carries over from call to call
        xv = data.draw(values((length, d)))
        rows = []
        for x_t in xv:
            rows.append(expected_acc * 2.0 + x_t)
            expected_acc = expected_acc + x_t
        got = f(xv)
        if length:
            assert_close(got, rows)
        else:
            assert_empty_rows(got, d)
        assert_close(acc.get_value(), expected_acc, "the shared variable after the call")


# -- BPTT: the RNN ----------------------------------------------------------------------------

RNN_NAMES = ["x", "h0", "W", "U", "b"]


@functools.cache
def rnn_grad_fn():
    inputs, hs = rnn_graph()
    C = T.dmatrix("C")
    return compile_py(inputs + [C], theano.grad((hs * C).sum(), inputs))


@given(rnn_points(max_len=4), st.data())
@example(rnn_example(1), None)
def test_rnn_bptt_against_numpy_finite_differences(point, data):
    n, d = point[0].shape[0], point[1].shape[0]
    C = data.draw(values((n, d))) if data is not None else np.ones((n, d))
    got = rnn_grad_fn()(*point, C)
    expected = numeric_grad(
        lambda *v: float(np.sum(np_rnn(*v) * C)), point, range(len(point)), 1e-6
    )
    for name, g, e in zip(RNN_NAMES, got, expected):
        assert_close(g, e, f"d cost / d {name}", tol=1e-7)


def test_rnn_bptt_verify_grad():
    def rnn(x, h0, W, U, b):
        hs, _ = theano.scan(
            lambda x_t, h, W, U, b: T.tanh(T.dot(W, h) + T.dot(U, x_t) + b),
            sequences=x,
            outputs_info=h0,
            non_sequences=[W, U, b],
        )
        return hs

    verify_grad(rnn, rnn_example(5, d=3, k=2, seed=1), rng=np.random.default_rng(0))


def test_rnn_gradient_of_zero_steps_is_zeros_of_every_shape():
    inputs, hs = rnn_graph()
    f = rnn_grad_fn()
    point = rnn_example(0, d=3, k=2)
    grads = f(*point, np.zeros((0, 3)))
    for name, g, p in zip(RNN_NAMES, grads, point):
        assert_close(g, np.zeros_like(p), f"d cost / d {name} after 0 steps")


# -- BPTT: taps, go_backwards, until -------------------------------------------------------------


def test_gradient_through_output_and_sequence_taps():
    rng = np.random.default_rng(2)
    point = [rng.uniform(-1, 1, (6, 2)), rng.uniform(-1, 1, (3, 2)), rng.uniform(-1, 1, 2)]
    verify_grad(taps_scan, point, rng=np.random.default_rng(0))

    x, init, w = T.dmatrix("x"), T.dmatrix("init"), T.dvector("w")
    C = rng.uniform(-1, 1, (4, 2))
    cost = (taps_scan(x, init, w) * C).sum()
    got = compile_py([x, init, w], theano.grad(cost, [x, init, w]))(*point)
    expected = numeric_grad(lambda *v: float(np.sum(np_taps(*v) * C)), point, range(3), 1e-6)
    for name, g, e in zip(["x", "init", "w"], got, expected):
        assert_close(g, e, f"d cost / d {name}", tol=1e-7)
    assert np.all(got[1][0] == 0), "the first row of a 3-row initial state for taps -2 is unused"
    # 0 steps: every gradient is zeros
    zero = [np.ones((2, 2)), np.ones((3, 2)), np.ones(2)]
    g0 = compile_py([x, init, w], theano.grad(taps_scan(x, init, w).sum(), [x, init, w]))(*zero)
    for name, g, p in zip(["x", "init", "w"], g0, zero):
        assert_close(g, np.zeros_like(p), f"d cost / d {name} after 0 steps")


def test_gradient_through_go_backwards():
    rng = np.random.default_rng(3)
    x, h0, c = rng.uniform(-1, 1, (5, 2)), rng.uniform(-1, 1, 2), rng.uniform(-1, 1, 2)

    def backwards(x, h0, c):
        out, _ = theano.scan(
            lambda x_t, h, c: T.tanh(h * c + x_t) + 0.5 * x_t,
            sequences=x,
            outputs_info=h0,
            non_sequences=c,
            go_backwards=True,
        )
        return out

    verify_grad(backwards, [x, h0, c], rng=np.random.default_rng(0))
    xs, h0s, cs = T.dmatrix("x"), T.dvector("h0"), T.dvector("c")
    C = rng.uniform(-1, 1, (5, 2))
    grads = theano.grad((backwards(xs, h0s, cs) * C).sum(), [xs, h0s, cs])
    got = compile_py([xs, h0s, cs], grads)(x, h0, c)
    expected = numeric_grad(
        lambda *v: float(np.sum(np_backwards(*v, 5) * C)), [x, h0, c], range(3), 1e-6
    )
    for name, g, e in zip(["x", "h0", "c"], got, expected):
        assert_close(g, e, f"d cost / d {name}", tol=1e-7)


def test_gradient_through_an_until_terminated_scan():
    x = np.array([[0.5, 0.2], [0.6, -0.3], [0.9, 0.8], [0.4, 0.1], [0.7, 0.2]])
    s0, limit = np.array([0.1, -0.2]), 1.0
    assert len(np_until(x, s0, limit, 5)) == 3, "the data stops after step 3 (with a margin)"
    xs, s0s, limits, n = T.dmatrix("x"), T.dvector("s0"), T.dscalar("limit"), T.iscalar("n")

    def step(x_t, s, limit):
        new = s + x_t * x_t
        return new, theano.until(new.sum() > limit)

    out, _ = theano.scan(step, sequences=xs, outputs_info=s0s, non_sequences=limits, n_steps=n)
    C = np.array([[1.0, -2.0], [0.5, 1.5], [-1.0, 0.3]])
    cost = (out * C).sum()
    gx, gs0 = compile_py([xs, s0s, limits, n], theano.grad(cost, [xs, s0s]))(x, s0, limit, 5)
    expected = numeric_grad(
        lambda xv, sv: float(np.sum(np_until(xv, sv, limit, 5) * C)), [x, s0], [0, 1], 1e-6
    )
    assert_close(gx, expected[0], "d cost / d x", tol=1e-7)
    assert_close(gs0, expected[1], "d cost / d s0", tol=1e-7)
    assert np.all(gx[3:] == 0), "rows after the stop get no gradient"

    def stopped(xv, sv):
        out, _ = theano.scan(step, sequences=xv, outputs_info=sv, non_sequences=limit)
        return out

    verify_grad(stopped, [x, s0], rng=np.random.default_rng(0))


def test_gradient_of_a_scan_stopped_by_until_after_zero_and_one_steps():
    x, s0, limit, n = T.dmatrix("x"), T.dvector("s0"), T.dscalar("limit"), T.iscalar("n")
    out, _ = theano.scan(
        lambda x_t, s, limit: [s * x_t, theano.until((s * x_t).sum() > limit)],
        sequences=x,
        outputs_info=s0,
        non_sequences=limit,
        n_steps=n,
    )
    f = compile_py([x, s0, limit, n], theano.grad(out.sum(), [x, s0]))
    xv, sv = np.full((4, 2), 2.0), np.array([1.0, 3.0])
    gx, gs = f(xv, sv, -100.0, 4)  # stops after step 1: out = s0 * x[0]
    assert_close(gx, np.vstack([sv, np.zeros((3, 2))]))
    assert_close(gs, xv[0])
    gx, gs = f(xv, sv, -100.0, 0)  # no step
    assert_close(gx, np.zeros((4, 2)))
    assert_close(gs, np.zeros(2))


@pytest.mark.parametrize("view", ["reduce", "foldl", "foldr"])
def test_gradient_through_reduce_foldl_foldr_including_zero_steps(view):
    def folded(x, init, w):
        out, _ = getattr(theano, view)(
            lambda x_t, acc, w: T.tanh(acc * w + x_t),
            sequences=x,
            outputs_info=init,
            non_sequences=w,
        )
        return out

    rng = np.random.default_rng(7)
    point = [rng.uniform(-1, 1, (4, 2)), rng.uniform(-1, 1, 2), rng.uniform(-1, 1, 2)]
    verify_grad(folded, point, rng=np.random.default_rng(0))
    x, init, w = T.dmatrix("x"), T.dvector("init"), T.dvector("w")
    f = compile_py([x, init, w], theano.grad(folded(x, init, w).sum(), [x, init, w]))
    gx, ginit, gw = f(np.zeros((0, 2)), point[1], point[2])  # no step: the result is init
    assert_close(gx, np.zeros((0, 2)), "d / d x")
    assert_close(ginit, np.ones(2), "d / d init")
    assert_close(gw, np.zeros(2), "d / d w")


# -- BPTT: truncate_gradient ---------------------------------------------------------------------


@functools.cache
def linear_recurrence(truncate: int, last_only: bool):
    """h_t = a * h_{t-1} + x_t; the cost is the sum of the last output or of all outputs."""
    x, h0, a = T.dmatrix("x"), T.dvector("h0"), T.dscalar("a")
    out, _ = theano.scan(
        lambda x_t, h, a: a * h + x_t,
        sequences=x,
        outputs_info=h0,
        non_sequences=a,
        truncate_gradient=truncate,
    )
    cost = out[-1].sum() if last_only else out.sum()
    return compile_py([x, h0, a], theano.grad(cost, [x, h0, a]) + [out])


@pytest.mark.parametrize("last_only", [True, False], ids=["last-output", "all-outputs"])
@pytest.mark.parametrize("truncate", [-1, 1, 2, 4, 5, 9])
def test_truncate_gradient_against_the_hand_computed_truncated_gradient(truncate, last_only):
    """Only the last ``truncate`` steps are backpropagated through (all of them for -1)."""
    rng = np.random.default_rng(4)
    n, a = 5, 0.7
    x, h0 = rng.uniform(-1, 1, (n, 2)), rng.uniform(-1, 1, 2)
    gx, gh0, ga, out = linear_recurrence(truncate, last_only)(x, h0, a)
    k = n if truncate < 0 else min(truncate, n)
    window = range(n - k, n)  # the (0-based) steps backpropagated through
    hist = [h0] + list(out)  # hist[t] is the state step t reads
    # d cost / d h_t (the state after step t) inside the window, accumulated backwards
    dh = {}
    for t in reversed(window):
        own = 1.0 if (not last_only or t == n - 1) else 0.0
        dh[t] = own + (a * dh[t + 1] if t + 1 in dh else 0.0)
    want_x = np.zeros((n, 2))
    for t in window:
        want_x[t] = dh[t]
    want_h0 = a * dh[0] * np.ones(2) if 0 in dh else np.zeros(2)
    want_a = sum(float(np.sum(dh[t] * hist[t])) for t in window)
    assert_close(gx, want_x, f"d cost / d x, truncate_gradient={truncate}")
    assert_close(gh0, want_h0, "d cost / d h0")
    assert_close(ga, want_a, "d cost / d a")


# -- BPTT: initial state, non-sequences, unlisted outer variables, shared variables ------------


def test_gradient_into_initial_state_non_sequences_implicit_and_shared_variables():
    rng = np.random.default_rng(5)
    s_value = rng.uniform(-1, 1, 2)
    s = theano.shared(s_value.copy(), name="s")
    x, h0, W, y = T.dmatrix("x"), T.dvector("h0"), T.dmatrix("W"), T.dvector("y")
    out, updates = theano.scan(
        lambda x_t, h, W: T.tanh(T.dot(W, h) + x_t * y + s),  # y and s are not listed
        sequences=x,
        outputs_info=h0,
        non_sequences=W,
    )
    assert updates == {}
    C = rng.uniform(-1, 1, (4, 2))
    wrt = [x, h0, W, y, s]
    f = compile_py([x, h0, W, y], theano.grad((out * C).sum(), wrt))
    point = [rng.uniform(-1, 1, sh) for sh in [(4, 2), (2,), (2, 2), (2,)]]

    def np_cost(xv, h0v, Wv, yv, sv):
        h, total = h0v, 0.0
        for x_t, c_t in zip(xv, C):
            h = np.tanh(Wv @ h + x_t * yv + sv)
            total += float(np.sum(h * c_t))
        return total

    got = f(*point)
    expected = numeric_grad(np_cost, point + [s_value], range(5), 1e-6)
    for name, g, e in zip(["x", "h0", "W", "y (unlisted)", "s (shared)"], got, expected):
        assert_close(g, e, f"d cost / d {name}", tol=1e-7)
    assert np.array_equal(s.get_value(), s_value)


def test_gradient_through_a_shared_variable_updated_inside_the_step():
    acc = theano.shared(np.array([0.2, -0.1]), name="acc")

    def scanned(x, h0):
        out, _ = theano.scan(
            lambda x_t, h: (T.tanh(x_t + h * acc), {acc: acc + x_t}), sequences=x, outputs_info=h0
        )
        return out

    rng = np.random.default_rng(6)
    verify_grad(scanned, [rng.uniform(-1, 1, (4, 2)), rng.uniform(-1, 1, 2)], rng=rng)


# -- jacobian and hessian of a function containing a scan -----------------------------------


def np_scanned(v):
    h = np.ones_like(v)
    for _ in range(3):
        h = np.tanh(h * v[::-1] + v)
    return h


def test_jacobian_and_hessian_of_a_function_containing_a_scan():
    v = T.dvector("v")
    hs, _ = theano.scan(
        lambda h, v: T.tanh(h * v[::-1] + v),
        outputs_info=T.ones_like(v),
        non_sequences=v,
        n_steps=3,
    )
    J = jacobian(hs[-1], v)
    H = hessian(hs[-1].sum(), v)
    point = np.array([0.3, -0.5, 0.8])
    j_val, h_val = compile_py([v], [J, H])(point)

    eps = 1e-6
    want_j = np.stack(
        [(np_scanned(point + e) - np_scanned(point - e)) / (2 * eps) for e in np.eye(3) * eps],
        axis=1,
    )
    assert_close(j_val, want_j, "jacobian", tol=1e-7)

    def total(p):
        return float(np_scanned(p).sum())

    h, want_h = 1e-4, np.zeros((3, 3))
    for i, ei in enumerate(np.eye(3) * h):
        for j, ej in enumerate(np.eye(3) * h):
            four = total(point + ei + ej) - total(point + ei - ej)
            four += total(point - ei - ej) - total(point - ei + ej)
            want_h[i, j] = four / (4 * h * h)
    assert_close(h_val, want_h, "hessian", tol=1e-6)
    assert_close(h_val, h_val.T, "the hessian is symmetric", tol=1e-10)
