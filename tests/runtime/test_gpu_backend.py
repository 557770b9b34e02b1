"""The ``gpu`` backend on the host stand-in for CuPy (``tests/gpu_host``): device arrays
that refuse implicit conversion, kernels compiled from the generated CUDA C by the host
compiler, and counters of copies between host and device and of kernel launches.

What is checked here is the backend's logic: values agree with the ``py`` backend (the
oracle); shared state stays on the device and is updated only by whole calls; a training
step copies nothing between host and device; ``ifelse`` reads its condition once and runs
one branch; ``scan`` writes into device buffers with no copy per step; errors name the
user's line. The same differential tests as the other backends run on a real GPU (marker
``gpu``), or on this stand-in with ``ASTSYM_TEST_GPU=host``.
"""

import inspect
import shutil

import numpy as np
import pytest

import astsym
import astsym.tensor as T
from astsym import symbolic
from astsym.config import config
from astsym.graph.printing import debugprint
from astsym.ifelse import ifelse
from astsym.runtime.device import use_array_module
from astsym.typecheck import GraphRuntimeError, InputError

cp = pytest.importorskip("gpu_host.cupy_on_host")

pytestmark = pytest.mark.skipif(
    shutil.which("g++") is None, reason="the host stand-in for CuPy compiles kernels with g++"
)

RNG = np.random.default_rng(7)


@pytest.fixture(autouse=True)
def host_gpu():
    saved = config.gpu_outputs
    config.gpu_outputs = "cupy"  # the default, whatever the environment says
    with use_array_module(cp):
        yield cp
    config.gpu_outputs = saved


def _line() -> int:
    return inspect.currentframe().f_back.f_lineno


def _both(inputs, outputs, values, **kwargs):
    """The outputs on ``gpu`` (as NumPy) and on ``py``."""
    gpu = astsym.function(inputs, outputs, mode="gpu", return_numpy=True, **kwargs)(*values)
    ref = astsym.function(inputs, outputs, mode="py", **kwargs)(*values)
    return gpu, ref


def _close(actual, expected, dtype="float32"):
    rtol = 2e-5 if dtype == "float32" else 1e-10
    for a, e in zip(
        actual if isinstance(actual, list) else [actual],
        expected if isinstance(expected, list) else [expected],
    ):
        assert isinstance(a, np.ndarray)
        assert a.dtype == e.dtype and a.shape == e.shape
        np.testing.assert_allclose(a, e, rtol=rtol, atol=rtol)


# -- elementwise groups ----------------------------------------------------------------------


def test_an_elementwise_chain_is_one_kernel_named_after_the_function():
    x = T.fvector("x")
    f = astsym.function([x], T.exp(-x * x) * T.tanh(x) + 0.5 * x, mode="gpu", name="chain")
    data = RNG.normal(size=1000).astype(np.float32)
    cp.LAUNCHES.reset()
    out = f(cp.asarray(data))
    assert isinstance(out, cp.ndarray)
    expected = np.exp(-data * data) * np.tanh(data) + np.float32(0.5) * data
    np.testing.assert_allclose(out.get(), expected, rtol=1e-5, atol=1e-6)
    assert sum(cp.LAUNCHES.values()) == 1
    assert f.program.kernel_names == ["chain_fusedelemwise_1"]


def test_numpy_inputs_are_copied_in_and_return_numpy_copies_out():
    x = T.dmatrix("x")
    f = astsym.function([x], (x * 2).sum(axis=1), mode="gpu")
    g = astsym.function([x], (x * 2).sum(axis=1), mode="gpu", return_numpy=True)
    data = RNG.normal(size=(3, 4))
    out = f(data)
    assert isinstance(out, cp.ndarray)
    np.testing.assert_allclose(out.get(), (data * 2).sum(axis=1))
    assert isinstance(g(data), np.ndarray)


def test_scalars_stay_on_the_host_and_outputs_are_device_arrays():
    w, x, b = T.fscalars("w", "x", "b")
    f = astsym.function([w, x, b], w * x + b, mode="gpu")
    cp.TRANSFERS.reset()
    out = f(np.float32(2), np.float32(3), np.float32(1))
    assert isinstance(out, cp.ndarray) and out.dtype == np.float32
    assert float(out.get()) == 7.0


# -- shared variables and updates -------------------------------------------------------------


def _logistic_step(mode, w, b):
    x, y = T.fmatrix("x"), T.fvector("y")
    p = T.nnet.sigmoid(T.dot(x, w) + b)
    cost = T.nnet.binary_crossentropy(p, y).mean() + 0.01 * (w**2).sum()
    gw, gb = astsym.grad(cost, [w, b])
    updates = [(w, w - 0.1 * gw), (b, b - 0.1 * gb)]
    return astsym.function([x, y], cost, updates=updates, mode=mode)


def test_a_training_step_keeps_its_state_on_the_device_and_copies_nothing():
    X = RNG.normal(size=(256, 10)).astype(np.float32)
    Y = (RNG.random(256) > 0.5).astype(np.float32)
    start = RNG.normal(size=10).astype(np.float32)
    w, b = astsym.shared(start.copy(), name="w"), astsym.shared(np.float32(0.0), name="b")
    w_py, b_py = astsym.shared(start.copy()), astsym.shared(np.float32(0.0))
    step, ref = _logistic_step("gpu", w, b), _logistic_step("py", w_py, b_py)
    Xd, Yd = cp.asarray(X), cp.asarray(Y)
    step(Xd, Yd)
    assert isinstance(w.get_value(borrow=True, return_internal_type=True), cp.ndarray)
    cp.TRANSFERS.reset()
    costs = [step(Xd, Yd) for _ in range(3)]
    assert cp.TRANSFERS.h2d == 0 and cp.TRANSFERS.d2h == 0
    ref_costs = [ref(X, Y) for _ in range(4)][1:]
    _close([c.get() for c in costs], ref_costs)
    assert isinstance(w.get_value(), np.ndarray)
    _close(w.get_value(), w_py.get_value())
    _close(b.get_value(), b_py.get_value())


def test_set_value_takes_numpy_and_device_arrays_and_get_value_copies():
    w = astsym.shared(np.zeros(3, np.float32), name="w")
    f = astsym.function([], (w * 2).sum(), mode="gpu", return_numpy=True)
    assert f() == 0
    w.set_value(cp.asarray(np.ones(3, np.float32)))
    assert isinstance(w.get_value(borrow=True, return_internal_type=True), cp.ndarray)
    assert f() == 6
    w.set_value(np.full(3, 2, np.float32))
    assert f() == 12
    internal = w.get_value(borrow=True, return_internal_type=True)
    assert isinstance(internal, cp.ndarray)  # moved to the device by the call
    copy = w.get_value(return_internal_type=True)
    assert isinstance(copy, cp.ndarray) and copy is not internal
    with pytest.raises(InputError, match="set_value of shared variable 'w'"):
        w.set_value(cp.asarray(np.ones((2, 2), np.float32)))
    assert w.get_value().tolist() == [2, 2, 2]


def test_shared_from_a_device_array():
    v = astsym.shared(cp.asarray(np.arange(3.0)), name="v")
    assert v.type.dtype == "float64" and v.ndim == 1
    f = astsym.function([], v + 1, mode="gpu", return_numpy=True)
    np.testing.assert_allclose(f(), [1.0, 2.0, 3.0])


def test_a_failed_call_updates_nothing():
    w = astsym.shared(np.ones(3), name="w")
    n = astsym.shared(np.zeros((), "int64"), name="n")
    i = T.lscalar("i")
    out = w[i] * 2
    f = astsym.function([i], out, updates=[(w, w * 3), (n, n + 1)], mode="gpu")
    f(1)
    with pytest.raises(GraphRuntimeError, match="index"):
        f(5)
    np.testing.assert_allclose(w.get_value(), [3.0, 3.0, 3.0])
    assert int(n.get_value()) == 1


# -- errors ------------------------------------------------------------------------------------


def test_a_runtime_error_names_the_users_line():
    x, y = T.dvector("x"), T.dvector("y")
    line = _line() + 1
    z = x + y
    f = astsym.function([x, y], z, mode="gpu")
    with pytest.raises(GraphRuntimeError) as info:
        f(np.ones(3), np.ones(4))
    assert f"line {line}" in str(info.value) or f":{line}" in str(info.value)


def test_device_inputs_are_validated_without_leaving_the_device():
    x = T.fvector("x")
    f = astsym.function([x], x * 2, mode="gpu")
    with pytest.raises(InputError, match="input 0 'x'"):
        f(cp.asarray(np.ones(3)))  # float64 would lose precision
    with pytest.raises(InputError, match="rank"):
        f(cp.asarray(np.ones((2, 2), np.float32)))
    cp.TRANSFERS.reset()
    f(cp.asarray(np.ones(3, np.float32)))
    assert cp.TRANSFERS.d2h == 0


# -- control flow ------------------------------------------------------------------------------


def test_ifelse_reads_its_condition_once_and_runs_one_branch():
    x = T.fvector("x")
    out = ifelse(T.gt(x.sum(), 0), T.exp(x) * 2, T.tanh(x) - 1)
    f = astsym.function([x], out, mode="gpu")
    pos = cp.asarray(np.arange(1, 5, dtype=np.float32))
    f(pos)
    cp.TRANSFERS.reset()
    cp.LAUNCHES.reset()
    result = f(pos)
    assert cp.TRANSFERS.d2h == 1  # the condition
    np.testing.assert_allclose(
        result.get(), np.exp(np.arange(1, 5, dtype=np.float32)) * 2, rtol=1e-6
    )
    launched = sum(cp.LAUNCHES.values())
    neg = cp.asarray(-np.arange(1, 5, dtype=np.float32))
    np.testing.assert_allclose(
        f(neg).get(), np.tanh(-np.arange(1, 5, dtype=np.float32)) - 1, rtol=1e-6
    )
    assert launched == 3  # the sum, the comparison, the then branch (never the else)


def _rnn(mode, n_steps, W, U, b):
    x = T.fmatrix("x")
    h0 = T.fvector("h0")
    hs, _ = astsym.scan(
        lambda x_t, h: T.tanh(T.dot(x_t, W) + T.dot(h, U) + b),
        sequences=x,
        outputs_info=h0,
    )
    cost = hs[-1].sum() + (hs**2).mean()
    grads = astsym.grad(cost, [W, U, b])
    return astsym.function([x, h0], [hs[-1]] + grads, mode=mode)


@pytest.mark.parametrize("n_steps", [5, 20])
def test_scan_forward_and_bptt_match_py_with_no_copy_per_step(n_steps):
    hidden = 8
    values = [RNG.normal(size=s).astype(np.float32) * 0.3 for s in [(hidden, hidden)] * 2]
    W, U = (astsym.shared(v) for v in values)
    b = astsym.shared(np.zeros(hidden, np.float32))
    f_gpu, f_py = _rnn("gpu", n_steps, W, U, b), _rnn("py", n_steps, W, U, b)
    xs = RNG.normal(size=(n_steps, hidden)).astype(np.float32)
    h0 = np.zeros(hidden, np.float32)
    f_gpu(xs, h0)
    cp.TRANSFERS.reset()
    out = f_gpu(cp.asarray(xs), cp.asarray(h0))
    copies = cp.TRANSFERS.d2h + cp.TRANSFERS.h2d
    assert copies <= 4, f"{copies} copies between host and device for {n_steps} steps"
    _close([o.get() for o in out], f_py(xs, h0))


def test_scan_until_stops_on_the_device_condition():
    total = T.dscalar("total")

    def step(s):
        new = s * 2
        return new, astsym.scan_module.until(new > 100)

    values, _ = astsym.scan(step, outputs_info=total, n_steps=50)
    gpu, ref = _both([total], values, [np.float64(3)])
    _close(gpu, ref, "float64")
    assert len(gpu) == 6


# -- every kind of op ---------------------------------------------------------------------------

M = T.dmatrix("m")
V = T.dvector("v")
I = T.lvector("i")
MAT = RNG.normal(size=(4, 5))
VEC = RNG.normal(size=5)
IDX = np.array([0, 2, 2, 3])

CASES = {
    "transpose": ([M], lambda: M.T * 1.5, [MAT]),
    "dimshuffle": ([V], lambda: V.dimshuffle("x", 0) + M, [VEC, MAT]),
    "reshape": ([M], lambda: M.reshape((5, 4)) + 1, [MAT]),
    "flatten_shape": ([M], lambda: T.cast(M.shape[0] * M.shape[1], "float64") * M, [MAT]),
    "subtensor": ([M], lambda: M[1:3, ::2] * 2, [MAT]),
    "advanced_subtensor": ([M, I], lambda: M[I] + 0, [MAT, IDX]),
    "set_subtensor": ([M], lambda: T.set_subtensor(M[1:3, 0], 7.0), [MAT]),
    "inc_subtensor": ([M], lambda: T.inc_subtensor(M[:, 1], 1.0), [MAT]),
    "advanced_inc": ([M, I], lambda: T.inc_subtensor(M[I], 1.0), [MAT, IDX]),
    "join": ([M], lambda: T.concatenate([M, M * 2], axis=1), [MAT]),
    "zeros": ([M], lambda: T.zeros_like(M) + T.ones((4, 5)), [MAT]),
    "argmax": ([M], lambda: M.argmax(axis=1), [MAT]),
    "cumsum": ([M], lambda: T.cumsum(M, axis=0), [MAT]),
    "matmul": ([M], lambda: T.dot(M, M.T), [MAT]),
    "tensordot": ([M], lambda: T.tensordot(M, M, axes=[[0], [0]]), [MAT]),
    "softmax": ([M], lambda: T.nnet.softmax(M * 2 + 1), [MAT]),
    "sum_axis": ([M], lambda: T.exp(M).sum(axis=0), [MAT]),
    "max": ([M], lambda: M.max(axis=1, keepdims=True), [MAT]),
    "mean": ([M], lambda: (M**2).mean(), [MAT]),
    "prod": ([M], lambda: M.prod(axis=0), [MAT]),
    "any": ([M], lambda: T.any(T.gt(M, 1), axis=1), [MAT]),
    "sort": ([V], lambda: T.sort(V) * 2, [VEC]),
    "argsort": ([V], lambda: T.argsort(V), [VEC]),
    "repeat": ([V], lambda: T.repeat(V, 3) * 1.0, [VEC]),
    "repeat_each": ([V, I], lambda: T.repeat(V[:4], I), [VEC, IDX]),
    "tile": ([M], lambda: T.tile(M, (2, 1)) + 0, [MAT]),
    "eye": ([M], lambda: T.eye(4, 5) + M, [MAT]),
    "arange": ([V], lambda: T.arange(V.shape[0]) * V, [VEC]),
    "switch": ([M], lambda: T.switch(T.gt(M, 0), M, -M), [MAT]),
    "integer_ops": ([I], lambda: (I * 3) // 2 % 5, [IDX]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_kind_of_op_matches_py(name):
    inputs, build, values = CASES[name]
    if name == "dimshuffle":
        inputs = [V, M]
    out = build()
    gpu, ref = _both(inputs, out, values, on_unused_input="ignore")
    _close(gpu, ref, ref.dtype.name if ref.dtype.kind == "f" else "float64")


def test_printed_graph_says_where_each_node_runs():
    srng = astsym.tensor.shared_randomstreams.RandomStreams(seed=1)
    x = T.dvector("x")
    f = astsym.function([x], T.exp(x) + srng.normal((3,)), mode="gpu")
    assert f(np.zeros(3)).shape == (3,)
    text = debugprint(f, file="str")
    assert "[on the host]" in text and "[on the device]" in text


def test_symbolic_functions_run_on_the_gpu():
    @symbolic(device="gpu")
    def scale(x):
        return (x * 2).sum()

    out = scale(np.arange(4.0))
    assert isinstance(out, cp.ndarray) and float(out.get()) == 12.0

    @symbolic(device="gpu", return_numpy=True)
    def scale_np(x):
        return x * 2

    assert isinstance(scale_np(cp.asarray(np.arange(4.0))), np.ndarray)


def test_outputs_never_share_memory_with_inputs_or_each_other():
    x = T.dvector("x")
    y = T.exp(x)
    w = astsym.shared(np.zeros(3), name="w")
    f = astsym.function([x], [x, y, y, x.T], updates=[(w, y)], mode="gpu")
    data = cp.asarray(np.arange(3.0))
    a, b, c, d = f(data)
    assert a is not data and b is not c
    assert not cp.may_share_memory(a, data) and not cp.may_share_memory(d, data)
    assert w.get_value(borrow=True, return_internal_type=True) is not b


def test_config_gpu_outputs_numpy_makes_theano_code_run_unchanged():
    saved = config.gpu_outputs
    config.gpu_outputs = "numpy"
    try:
        x = T.dvector("x")
        f = astsym.function([x], x * 2, mode="gpu")
        assert isinstance(f(np.arange(3.0)), np.ndarray)
        g = astsym.function([x], x * 2, mode="gpu", return_numpy=False)
        assert isinstance(g(np.arange(3.0)), cp.ndarray)
    finally:
        config.gpu_outputs = saved
    with pytest.raises(ValueError, match="gpu_outputs"):
        config.gpu_outputs = "torch"


def test_cpu_functions_take_device_arrays_and_shared_values_on_the_device():
    w = astsym.shared(np.ones(3), name="w")
    x = T.dvector("x")
    on_gpu = astsym.function([x], (w * x).sum(), updates=[(w, w * 2)], mode="gpu")
    on_cpu = astsym.function([x], (w * x).sum(), updates=[(w, w + 1)], mode="cpu")
    on_gpu(np.ones(3))  # w now lives on the device, as [2, 2, 2]
    assert float(on_cpu(cp.asarray(np.arange(3.0)))) == 6.0
    assert isinstance(w.get_value(borrow=True), np.ndarray)  # the cpu update is a host array
    np.testing.assert_allclose(w.get_value(), [3.0, 3.0, 3.0])
    assert float(on_gpu(np.ones(3)).get()) == 9.0


def test_scan_steps_with_a_host_op_store_into_device_buffers():
    srng = astsym.tensor.shared_randomstreams.RandomStreams(seed=3)
    h0 = T.dvector("h0")
    hs, updates = astsym.scan(lambda h: h + srng.uniform(h.shape), outputs_info=h0, n_steps=4)
    f = astsym.function([h0], hs, updates=updates, mode="gpu")
    out = f(np.zeros(3))
    assert isinstance(out, cp.ndarray) and out.shape == (4, 3)
    steps = np.diff(np.vstack([np.zeros(3), out.get()]), axis=0)
    assert ((steps >= 0) & (steps < 1)).all()


def test_a_value_several_groups_use_is_computed_in_each_of_them():
    from astsym.graph.fg import FunctionGraph
    from astsym.graph.rewrites_fuse import fuse_all

    x = T.dvector("x")
    y = T.exp(x) * 3
    outs = [(y * 2).sum(), y + 1, T.tanh(y)]
    fg = FunctionGraph([x], outs)
    fuse_all(fg, duplicate=True)
    names = [n.op.name for n in fg.toposort()]
    assert names.count("fused{exp,multiply,multiply}->sum{axis=(0,)}") == 1, names
    assert len(names) == 3, names  # no group of its own for exp(x) * 3
    f = astsym.function([x], outs, mode="gpu", return_numpy=True)
    data = np.linspace(-1, 1, 5)
    cp.LAUNCHES.reset()
    got = f(data)
    assert sum(cp.LAUNCHES.values()) == 3
    _close(got, astsym.function([x], outs, mode="py")(data), "float64")


def test_a_fill_is_a_scalar_argument_checked_against_the_shape():
    x = T.dvector("x")
    n = T.lscalar("n")
    f = astsym.function([x, n], T.exp(x) * T.alloc(2.0, n), mode="gpu", return_numpy=True)
    assert "alloc" not in [node.op.name for node in f.maker.fgraph.toposort()]
    cp.LAUNCHES.reset()
    np.testing.assert_allclose(f(np.zeros(3), 3), [2.0, 2.0, 2.0])
    assert sum(cp.LAUNCHES.values()) == 1
    with pytest.raises(GraphRuntimeError, match="filled array"):
        f(np.zeros(3), 4)


def test_the_logistic_step_is_seven_kernels_and_two_products():
    w, b = astsym.shared(np.zeros(10, np.float32)), astsym.shared(np.float32(0.0))
    step = _logistic_step("gpu", w, b)
    X = cp.asarray(RNG.normal(size=(64, 10)).astype(np.float32))
    Y = cp.asarray(np.ones(64, np.float32))
    step(X, Y)
    cp.LAUNCHES.reset()
    step(X, Y)
    assert sum(cp.LAUNCHES.values()) == 7  # and two cuBLAS products (not kernels here)


def test_scan_steps_write_their_outputs_into_the_buffer_rows(monkeypatch):
    W = astsym.shared(RNG.normal(size=(4, 4)) * 0.3)
    x = T.dmatrix("x")
    h0 = T.dvector("h0")
    hs, _ = astsym.scan(lambda x_t, h: T.tanh(x_t + T.dot(h, W)), sequences=x, outputs_info=h0)
    f = astsym.function([x, h0], hs, mode="gpu", return_numpy=True)
    xs, start = RNG.normal(size=(12, 4)), np.zeros(4)
    stores = []
    original = cp.ndarray.__setitem__

    def counted(self, key, value):
        stores.append(key)
        original(self, key, value)

    monkeypatch.setattr(cp.ndarray, "__setitem__", counted)
    out = f(xs, start)
    assert len(stores) <= 2, stores  # the initial state, not a copy per step
    _close(out, astsym.function([x, h0], hs, mode="py")(xs, start), "float64")


def test_softmax_of_empty_rows_fails_as_on_py():
    m = T.dmatrix("m")
    f = astsym.function([m], T.nnet.softmax(m * 2), mode="gpu")
    with pytest.raises(GraphRuntimeError):
        f(np.zeros((3, 0)))
    assert f(np.zeros((0, 3))).shape == (0, 3)
