"""The ``cpu`` pipeline's scan rewrites (``graph/scan/rewrites.py``) and the compiled loop
(``kernels/numba_scan.py``) compute what the ``py`` backend computes: the RNN forward and
backpropagation through time, outputs kept as their last value, sums made as the steps run,
products pushed out of the loop, and random scans (taps, direction, lengths, conditions)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import astsym
import astsym.tensor as T
from astsym.graph.fg import FunctionGraph
from astsym.graph.scan.op import Scan
from astsym.graph.scan.rewrites import optimize_scan_outputs
from astsym.typecheck import GraphRuntimeError


def _fired(f) -> list[str]:
    return [e.rule for e in f.rewrites if e.group == "scan"]


def _cpu_and_py(inputs, outputs, *values):
    """(the cpu function, its first call (op by op), its second (compiled whole), py's)."""
    f = astsym.function(inputs, outputs, mode="cpu")
    first, second = f(*values), f(*values)
    assert f.program.fallback is None, f.program.fallback
    want = astsym.function(inputs, outputs, mode="py")(*values)
    return f, first, second, want


def _close(got, want, rtol):
    got, want = (got, want) if isinstance(got, list) else ([got], [want])
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, a.shape, b.dtype, b.shape)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)


def _scans(f) -> list:
    return [n for n in f.fgraph.toposort() if isinstance(n.op, Scan)]


# -- the RNN of benchmarks W4 and W4b --------------------------------------------------------


def _rnn(dtype, steps=40, hidden=8, inputs=3, seed=0):
    rng = np.random.default_rng(seed)
    W = astsym.shared((rng.standard_normal((hidden, hidden)) * 0.4).astype(dtype), "W")
    U = astsym.shared(rng.standard_normal((hidden, inputs)).astype(dtype), "U")
    b = astsym.shared((rng.standard_normal(hidden) * 0.1).astype(dtype), "b")
    xs, h0 = T.matrix("xs", dtype=dtype), T.vector("h0", dtype=dtype)
    hs, _ = astsym.scan(
        lambda x_t, h: T.tanh(T.dot(W, h) + T.dot(U, x_t) + b), sequences=xs, outputs_info=h0
    )
    values = (rng.standard_normal((steps, inputs)).astype(dtype), np.zeros(hidden, dtype))
    return (W, U, b), (xs, h0), hs, values


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-10), ("float32", 2e-5)])
def test_the_rnn_forward_keeps_only_the_last_state_and_pushes_out_the_input_product(dtype, rtol):
    _, (xs, h0), hs, values = _rnn(dtype)
    f, first, second, want = _cpu_and_py([xs, h0], hs[-1], *values)
    assert _fired(f) == ["scan_pushout_matvec", "scan_save_memory"]
    (scan,) = _scans(f)
    assert scan.op.info.keep == ("last",) and scan.op.info.n_seqs == 2
    _close(first, want, rtol)
    _close(second, want, rtol)


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-9), ("float32", 2e-5)])
def test_the_rnn_gradient_sums_outer_products_by_one_product_and_accumulates(dtype, rtol):
    params, (xs, h0), hs, values = _rnn(dtype)
    grads = astsym.grad(hs[-1].sum(), list(params))
    f, first, second, want = _cpu_and_py([xs, h0], grads, *values)
    fired = _fired(f)
    for name in ("scan_sum_of_outer_products", "scan_sum_to_accumulator", "scan_save_memory"):
        assert name in fired, fired
    backward = [s for s in _scans(f) if s.op.info.name.startswith("grad_of")]
    (node,) = backward
    # no per-step matrix is stored: the outputs are vectors, or kept as their last value
    for out, keep in zip(node.op.inner.outputs, node.op.info.keep):
        assert out.ndim <= 1 or keep != "all"
    _close(first, want, rtol)
    _close(second, want, rtol)


def test_the_rnn_gradient_agrees_with_finite_differences():
    params, (xs, h0), hs, (X, H) = _rnn("float64", steps=12, hidden=4, inputs=2)
    cost = (hs[-1] ** 2).sum() + hs.sum()
    f = astsym.function([xs, h0], [cost, *astsym.grad(cost, list(params))], mode="cpu")
    f(X, H)
    cost_value, *grads = f(X, H)
    assert "scan_sum_of_outer_products" in _fired(f)
    for param, grad in zip(params, grads):
        base, eps = param.get_value(), 1e-6
        numeric = np.zeros_like(base)
        for index in np.ndindex(base.shape):
            for sign in (1, -1):
                moved = base.copy()
                moved[index] += sign * eps
                param.set_value(moved)
                numeric[index] += sign * f(X, H)[0] / (2 * eps)
        param.set_value(base)
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)
    assert np.isclose(f(X, H)[0], cost_value)


def test_a_matrix_too_large_for_the_loops_goes_to_blas_in_the_steps():
    params, (xs, h0), hs, values = _rnn("float64", steps=5, hidden=140, inputs=3)
    _, first, second, want = _cpu_and_py(
        [xs, h0], [hs[-1], *astsym.grad(hs.sum(), params)], *values
    )
    _close(first, want, 1e-9)
    _close(second, want, 1e-9)


def test_vanishing_float32_gradients_are_exact_and_do_not_turn_subnormal_slow():
    # the gradient through 300 steps of a contracting RNN goes below float32's normal range
    params, (xs, h0), hs, values = _rnn("float32", steps=300, hidden=16, inputs=4, seed=1)
    params[0].set_value(params[0].get_value() * 0.3)
    grads = astsym.grad(hs[-1].sum(), list(params))
    _, first, second, want = _cpu_and_py([xs, h0], grads, *values)
    _close(second, want, 2e-5)


def test_gradients_of_scalar_vector_and_matrix_non_sequences():
    rng = np.random.default_rng(3)
    gain = astsym.shared(np.float64(0.7), "gain")
    shift = astsym.shared(rng.standard_normal(4), "shift")
    mix = astsym.shared(rng.standard_normal((4, 4)) * 0.3, "mix")
    xs, h0 = T.dmatrix("xs"), T.dvector("h0")
    hs, _ = astsym.scan(
        lambda x, h: T.tanh(gain * T.dot(mix, h) + x * shift), sequences=xs, outputs_info=h0
    )
    grads = astsym.grad((hs**2).sum(), [gain, shift, mix])
    values = rng.standard_normal((9, 4)), rng.standard_normal(4)
    f, first, second, want = _cpu_and_py([xs, h0], grads, *values)
    assert "scan_sum_to_accumulator" in _fired(f)
    _close(first, want, 1e-10)
    _close(second, want, 1e-10)


# -- keeping the last value ------------------------------------------------------------------


def _accumulate(x_t, total):
    return total + x_t


def test_reduce_keeps_the_last_value_or_the_initial_one_after_no_step():
    xs, start = T.dmatrix("xs"), T.dvector("start")
    total, _ = astsym.reduce(_accumulate, sequences=xs, outputs_info=start)
    f = astsym.function([xs, start], total * 2, mode="cpu")
    assert _scans(f)[0].op.info.keep == ("last_or_initial",)
    X, S = np.arange(12.0).reshape(4, 3), np.ones(3)
    for _ in range(2):
        np.testing.assert_allclose(f(X, S), 2 * (X.sum(0) + S))
    for _ in range(2):  # zero steps: the initial state
        np.testing.assert_allclose(f(X[:0], S), 2 * S)


def test_a_shared_variable_the_step_updates_keeps_no_history():
    total = astsym.shared(np.zeros(3), "total")
    xs = T.dmatrix("xs")
    ys, updates = astsym.scan(lambda x: ((x * x).sum(), {total: total + x}), sequences=xs)
    f = astsym.function([xs], ys.sum(), updates=updates, mode="cpu")
    (node,) = _scans(f)
    assert "last_or_initial" in node.op.info.keep and "all" not in node.op.info.keep
    X, expected = np.arange(12.0).reshape(4, 3), np.zeros(3)
    for rows in (4, 0, 2, 0):  # zero steps leave it as it was
        got = f(X[:rows])
        expected = expected + X[:rows].sum(0)
        np.testing.assert_allclose(got, (X[:rows] ** 2).sum())
        np.testing.assert_allclose(total.get_value(), expected)


def test_the_last_item_of_no_step_is_still_an_error():
    xs, start = T.dvector("xs"), T.dscalar("start")
    hs, _ = astsym.scan(_accumulate, sequences=xs, outputs_info=start)
    f = astsym.function([xs, start], hs[-1], mode="cpu")
    assert _scans(f)[0].op.info.keep == ("last",)
    assert f(np.arange(3.0), 1.0) == 4.0
    for _ in range(2):
        with pytest.raises(GraphRuntimeError):
            f(np.zeros(0), 1.0)
    with pytest.raises(GraphRuntimeError):
        astsym.function([xs, start], hs[-1], mode="py")(np.zeros(0), 1.0)


def test_a_history_used_elsewhere_is_kept_whole():
    xs, start = T.dvector("xs"), T.dscalar("start")
    hs, _ = astsym.scan(_accumulate, sequences=xs, outputs_info=start)
    f, first, second, want = _cpu_and_py([xs, start], [hs[-1], hs[1]], np.arange(4.0), 0.5)
    assert _scans(f)[0].op.info.keep in ((), ("all",))
    _close(second, want, 0)


def test_taps_until_and_direction_with_the_last_value_kept():
    seq, a0 = T.dvector("seq"), T.dvector("a0")

    def step(s_prev, s_next, a2, a1):
        value = a1 + a2 * 0.5 + s_prev * s_next
        return value, astsym.scan_module.until(value > 50)

    for backwards in (False, True):
        out, _ = astsym.scan(
            step,
            sequences=[{"input": seq, "taps": [-1, 1]}],
            outputs_info=[{"initial": a0, "taps": [-2, -1]}],
            go_backwards=backwards,
        )
        f, first, second, want = _cpu_and_py(
            [seq, a0], [out[-1], out.sum()], np.linspace(0, 3, 20), np.array([1.0, 2.0])
        )
        assert "scan_save_memory" not in _fired(f)  # (out.sum() reads every step)
        _close(second, want, 1e-12)
        f, first, second, want = _cpu_and_py(
            [seq, a0], out[-1] * 3, np.linspace(0, 3, 20), np.array([1.0, 2.0])
        )
        assert _scans(f)[0].op.info.keep == ("last",)
        _close(first, want, 1e-12)
        _close(second, want, 1e-12)


def test_an_unused_output_is_not_computed_and_an_unused_state_keeps_no_history():
    xs, h0 = T.dvector("xs"), T.dscalar("h0")
    (hs, ys, zs), _ = astsym.scan(
        lambda x, h: [h + x, x * 2, T.exp(x)], sequences=xs, outputs_info=[h0, None, None]
    )
    f, first, second, want = _cpu_and_py([xs, h0], ys, np.arange(5.0), 1.0)
    (node,) = _scans(f)
    assert len(node.outputs) == 2 and node.op.info.keep == ("last_or_initial", "all")
    _close(second, want, 0)


# -- sums over the steps ---------------------------------------------------------------------


def _running(x, h):  # (a state fed back: not a map, which ``rewrite_map`` lifts whole)
    return h + x, T.exp(x) * h


def test_a_sum_over_the_steps_becomes_an_accumulator_when_the_dims_are_known():
    xs, h0 = T.TensorType("float64", shape=(None, 3))("xs"), T.dvector("h0")
    (_, ys), _ = astsym.scan(_running, sequences=xs, outputs_info=[h0, None])
    X = np.linspace(-1, 1, 21).reshape(7, 3)
    f, first, second, want = _cpu_and_py([xs, h0], ys.sum(axis=0), X, np.ones(3))
    assert _fired(f) == ["scan_sum_to_accumulator", "scan_save_memory"]
    (node,) = _scans(f)
    assert node.op.info.keep == ("last_or_initial", "last_or_initial")
    _close(first, want, 1e-12)
    _close(second, want, 1e-12)


def test_a_sum_of_unknown_dims_is_left_alone():
    xs, h0 = T.dmatrix("xs"), T.dvector("h0")
    (_, ys), _ = astsym.scan(_running, sequences=xs, outputs_info=[h0, None])
    f, _, second, want = _cpu_and_py([xs, h0], ys.sum(axis=0), np.ones((4, 2)), np.ones(2))
    assert "scan_sum_to_accumulator" not in _fired(f)
    _close(second, want, 1e-12)


def test_a_sum_of_outer_products_in_a_user_scan():
    xs, ys = T.dmatrix("xs"), T.dmatrix("ys")
    outer, _ = astsym.scan(
        lambda x, y: T.dot(x.dimshuffle(0, "x"), y.dimshuffle("x", 0)), sequences=[xs, ys]
    )
    X, Y = np.random.default_rng(0).standard_normal((2, 9, 4))
    f, first, second, want = _cpu_and_py([xs, ys], outer.sum(axis=0), X, Y)
    assert _fired(f) == ["scan_sum_of_outer_products"]
    _close(second, want, 1e-12)
    _close(second, X.T @ Y, 1e-12)


def test_zero_steps_of_the_gradient_give_zeros():
    params, (xs, h0), hs, (X, H) = _rnn("float64")
    grads = astsym.grad(hs.sum(), list(params))
    f = astsym.function([xs, h0], grads, mode="cpu")
    py = astsym.function([xs, h0], grads, mode="py")
    for _ in range(2):
        _close(f(X[:0], H), py(X[:0], H), 0)


# -- the rewrite on graphs -------------------------------------------------------------------


def test_the_rewrites_leave_the_users_graph_and_other_functions_alone():
    _, (xs, h0), hs, values = _rnn("float64")
    fg = FunctionGraph([xs, h0], [hs[-1]])
    assert optimize_scan_outputs(fg) == 1
    assert hs.owner.op.info.keep == ()  # the user's node is untouched
    whole = astsym.function([xs, h0], hs, mode="cpu")
    assert whole(*values).shape == (40, 8)


def test_a_nested_scan_is_rewritten_inside_the_outer_step():
    xs = T.dmatrix("xs")

    def row_total(row):
        partial, _ = astsym.scan(_accumulate, sequences=row, outputs_info=T.constant(0.0))
        return partial[-1]

    totals, _ = astsym.scan(row_total, sequences=xs)
    X = np.arange(12.0).reshape(3, 4)
    f, first, second, want = _cpu_and_py([xs], totals, X)
    assert "scan_save_memory" in _fired(f)
    _close(second, X.sum(1), 1e-12)
    _close(second, want, 1e-12)


# -- random scans against py -----------------------------------------------------------------

_USES = ["all", "last", "sum", "none"]


@st.composite
def _scan_cases(draw):
    seq_taps = sorted(draw(st.sets(st.integers(-2, 2), min_size=1, max_size=3)))
    out_taps = sorted(draw(st.sets(st.integers(-3, -1), min_size=1, max_size=2)))
    length = draw(st.integers(max(seq_taps[-1], 0) - min(seq_taps[0], 0), 9))
    available = length - (max(seq_taps[-1], 0) - min(seq_taps[0], 0))
    n_steps = draw(st.one_of(st.none(), st.integers(1, max(available, 1))))
    return dict(
        seq_taps=seq_taps,
        out_taps=out_taps,
        length=length,
        n_steps=n_steps,
        backwards=draw(st.booleans()),
        until=draw(st.booleans()),
        uses=[draw(st.sampled_from(_USES)) for _ in range(3)],
        seed=draw(st.integers(0, 2**16)),
    )


def _build(case):
    xs, init = T.TensorType("float64", shape=(None, 3))("xs"), T.dmatrix("init")
    M = astsym.shared(np.random.default_rng(case["seed"]).standard_normal((2, 3)) * 0.5, "M")
    n_seq, n_out = len(case["seq_taps"]), len(case["out_taps"])

    def step(*args):
        items, states = args[:n_seq], args[n_seq : n_seq + n_out]
        x = sum(items[1:], items[0])
        h = T.tanh(sum(states[1:], states[0]) * 0.5 + T.dot(M, x))
        outer = T.dot(h.dimshuffle(0, "x"), x.dimshuffle("x", 0))
        outs = [h, x * 2, outer]
        if case["until"]:
            return outs, astsym.scan_module.until(h.sum() > 1.5)
        return outs

    taps = case["out_taps"]
    initial = init if taps != [-1] else init[-1]
    (hs, ys, outer), _ = astsym.scan(
        step,
        sequences=[{"input": xs, "taps": case["seq_taps"]}],
        outputs_info=[{"initial": initial, "taps": taps}, None, None],
        n_steps=case["n_steps"],
        go_backwards=case["backwards"],
    )
    results = []
    for history, use in zip((hs, ys, outer), case["uses"]):
        if use == "all":
            results.append(history)
        elif use == "last":
            results.append(history[-1])
        elif use == "sum":
            results.append(history.sum(axis=0))
    return [xs, init], results or [hs[-1]]


@settings(deadline=None, max_examples=30)
@given(case=_scan_cases())
def test_random_scans_equal_py(case):
    inputs, outputs = _build(case)
    rng = np.random.default_rng(case["seed"])
    values = [rng.standard_normal((case["length"], 3)), rng.standard_normal((3, 2))]
    py = astsym.function(inputs, outputs, mode="py")
    cpu = astsym.function(inputs, outputs, mode="cpu")
    try:
        want = py(*values)
    except GraphRuntimeError:  # (the last item of no step): the cpu function fails too
        for _ in range(2):
            with pytest.raises(GraphRuntimeError):
                cpu(*values)
        return
    for _ in range(2):
        _close(cpu(*values), want, 1e-10)
    assert cpu.program.fallback is None, cpu.program.fallback
