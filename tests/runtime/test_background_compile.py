"""``config.compile_in_background``: a ``cpu`` function's calls run on NumPy (what ``py``
computes) while a daemon thread compiles its whole graph, then switch to the compiled graph;
shared updates stay atomic across the switch, and a failed compile falls back op by op."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import astsym
import astsym.tensor as T
from astsym.config import Config, config
from astsym.graph.ops.fused import KERNELS
from astsym.ifelse import ifelse
from astsym.kernels import numba_graph, numba_render
from astsym.runtime.background import BackgroundCompile, reference_program
from astsym.typecheck import GraphRuntimeError

rng = np.random.default_rng(0)


@pytest.fixture
def background():
    old = config.compile_in_background
    config.compile_in_background = True
    try:
        yield
    finally:
        config.compile_in_background = old


@pytest.fixture
def gate(monkeypatch):
    """Background compiles wait until ``gate.set()``: calls before it surely run on NumPy."""
    event = threading.Event()
    compile_ = BackgroundCompile._compile

    def gated(self, *args):
        event.wait(60)
        compile_(self, *args)

    monkeypatch.setattr(BackgroundCompile, "_compile", gated)
    yield event
    event.set()


def _counting(program) -> list:
    """Count the calls that run the NumPy program of a background-compiled ``program``."""
    count = [0]
    run = program.reference.run

    def counted(storage):
        count[0] += 1
        run(storage)

    program.reference.run = counted
    return count


def _both(inputs, outputs, **kwargs):
    return (
        astsym.function(inputs, outputs, mode="cpu", **kwargs),
        astsym.function(inputs, outputs, mode="py", **kwargs),
    )


def _equal(got, want, exact: bool) -> None:
    got, want = (got, want) if isinstance(got, list) else ([got], [want])
    for a, b in zip(got, want):
        assert isinstance(a, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
        if exact:
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _kernels_graph():
    """Fused elementwise groups (one with a cast), reductions, a softmax, dots, views."""
    x, w = T.fmatrix("x"), T.fmatrix("w")
    h = T.tanh(T.dot(x, w) + 1)
    outputs = [
        h,
        T.nnet.softmax(h * 2),
        h.sum(axis=0),
        (h**2).mean(),
        T.exp(T.cast(h * 2, "float64")) + 1.0,
        h.T[0],
    ]
    values = [rng.standard_normal(shape).astype(np.float32) for shape in ((6, 4), (4, 3))]
    return [x, w], outputs, values


def test_calls_before_and_after_the_switch_equal_py(background, gate):
    inputs, outputs, values = _kernels_graph()
    f, g = _both(inputs, outputs)
    count = _counting(f.program)
    want = g(*values)
    kernels = len(numba_render._CACHE)
    for _ in range(2):  # the compile waits for the gate: these run on NumPy
        _equal(f(*values), want, exact=True)
    assert count[0] == 2 and f.program.compiled is None and f.program.compiling
    assert len(numba_render._CACHE) == kernels, "a call on NumPy compiled a kernel"
    gate.set()
    assert f.program.wait_compiled(timeout=120), f.program.fallback
    assert not f.program.compiling
    for _ in range(2):
        _equal(f(*values), want, exact=False)
    assert count[0] == 2, "a call after the switch ran on NumPy"
    assert f._short is not None  # the short call path of the compiled graph


def test_the_numpy_program_holds_no_kernel(background):
    inputs, outputs, _ = _kernels_graph()
    f = astsym.function(inputs, outputs, mode="cpu")
    kinds = {type(node.op).__name__ for node in f.fgraph.toposort()}
    assert "FusedElemwise" in kinds and "FusedSoftmax" in kinds
    unfused = {type(node.op).__name__ for node, _, _ in f.program.reference.steps}
    assert not unfused & {"FusedElemwise", "FusedReduce", "FusedSoftmax"}
    f, _, _ = _training_step("cpu")  # other kernel ops run their NumPy reference
    for node, _, _ in f.program.reference.steps:
        if type(node.op).__name__ in KERNELS:
            assert node.op._kernels[id(node)][1] is None


def test_a_kernel_op_with_no_numpy_form_compiles_in_the_foreground(background, monkeypatch):
    monkeypatch.setitem(KERNELS, "MatMul", None)  # as if matmul ran only as a kernel
    x, w = T.fmatrix("x"), T.fvector("w")
    f, g = _both([x, w], T.tanh(T.dot(x, w)))
    assert f.program.background is None and f.program.reference is None
    values = [rng.standard_normal((5, 3)).astype(np.float32), np.ones(3, np.float32)]
    for _ in range(2):
        _equal(f(*values), g(*values), exact=False)
    assert f.program.compiled is not None  # on call 2, as without the setting


def test_scan_and_ifelse_run_on_numpy_then_compiled(background, gate):
    xs, h0, c = T.fmatrix("xs"), T.fvector("h0"), T.fscalar("c")
    hs, _ = astsym.scan(lambda x_t, h: T.tanh(h * 0.5 + x_t * 2), sequences=xs, outputs_info=h0)
    out = ifelse(c > 0, hs.sum(), (hs**2).mean())
    f, g = _both([xs, h0, c], [hs, out])
    values = [
        rng.standard_normal((5, 3)).astype(np.float32),
        np.zeros(3, np.float32),
        np.float32(1),
    ]
    for c_value in (1, -1):
        values[2] = np.float32(c_value)
        _equal(f(*values), g(*values), exact=False)
    assert f.program.compiled is None
    gate.set()
    f.program.wait_compiled(timeout=120)
    for c_value in (1, -1):
        values[2] = np.float32(c_value)
        _equal(f(*values), g(*values), exact=False)


def _training_step(mode):
    x, y = T.fmatrix("x"), T.fvector("y")
    w = astsym.shared(np.zeros(4, np.float32), name="w")
    b = astsym.shared(np.float32(0), name="b")
    p = T.nnet.sigmoid(T.dot(x, w) + b)
    cost = -T.mean(y * T.log(p) + (1 - y) * T.log(1 - p))
    gw, gb = astsym.grad(cost, [w, b])
    lr = np.float32(0.5)
    f = astsym.function([x, y], cost, updates=[(w, w - lr * gw), (b, b - lr * gb)], mode=mode)
    return f, w, b


def test_shared_updates_stay_atomic_and_correct_across_the_switch(background, gate):
    f, w, b = _training_step("cpu")
    g, wg, bg = _training_step("py")
    X = rng.standard_normal((50, 4)).astype(np.float32)
    Y = (X[:, 0] > 0).astype(np.float32)
    for step in range(8):
        if step == 3:
            gate.set()
            assert f.program.wait_compiled(timeout=120), f.program.fallback
        if step in (2, 5):  # a failing call (rows of x and y differ) changes nothing
            before = w.get_value(), b.get_value()
            with pytest.raises(GraphRuntimeError):
                f(X, Y[:10])
            np.testing.assert_array_equal(w.get_value(), before[0])
            assert b.get_value() == before[1]
        np.testing.assert_allclose(f(X, Y), g(X, Y), rtol=1e-5)
        np.testing.assert_allclose(w.get_value(), wg.get_value(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(b.get_value(), bg.get_value(), rtol=1e-5, atol=1e-6)
    assert f.program.compiled is not None


def test_a_failed_background_compile_falls_back_op_by_op(background, monkeypatch, capfd):
    def broken(self, parallel):
        raise RuntimeError("no machine code today")

    monkeypatch.setattr(numba_graph.Rendered, "build", broken)
    inputs, outputs, values = _kernels_graph()
    f, g = _both(inputs, outputs)
    want = g(*values)
    _equal(f(*values), want, exact=True)
    assert not f.program.wait_compiled(timeout=120)
    assert "no machine code today" in f.program.fallback
    assert f.program.rendered is None and f.program.compiled is None
    for _ in range(2):  # op by op with fused kernels, as after a failure in the foreground
        _equal(f(*values), want, exact=False)
    assert "Traceback" not in capfd.readouterr().err


def test_two_functions_compile_in_background_at_once(background):
    x = T.fvector("x")
    fs = [astsym.function([x], T.exp(x * k) + T.log1p(x * x) * k, mode="cpu") for k in (2, 3)]
    x_value = rng.random(20).astype(np.float32)
    firsts = [f(x_value) for f in fs]  # both compiles start here, one right after the other
    for f, first in zip(fs, firsts):
        assert f.program.wait_compiled(timeout=120), f.program.fallback
        np.testing.assert_allclose(f(x_value), first, rtol=1e-6)


def test_the_compile_thread_is_a_daemon_and_exit_does_not_wait_for_it(tmp_path):
    script = (
        "import numpy as np, astsym, astsym.tensor as T\n"
        "x = T.fvector('x')\n"
        "f = astsym.function([x], T.tanh(T.exp(x) * 3 + x) .sum())\n"
        "print(f(np.ones(10, np.float32)), f.program.background.thread.daemon)\n"
    )
    env = {"ASTSYM_FLAGS": "compile_in_background=true", "ASTSYM_CACHE_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,  # a hang guard, not a timing assertion
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == "True"
    assert "Traceback" not in done.stderr


def test_off_by_default_and_the_foreground_path_is_unchanged():
    assert Config(environ={}).compile_in_background is False
    assert config.compile_in_background is False
    x = T.fvector("x")
    f = astsym.function([x], T.exp(x) * 2, mode="cpu")
    assert f.program.background is None and f.program.reference is None
    value = rng.random(5).astype(np.float32)
    f(value)
    assert f.program.compiled is None and f.program.calls == 1  # call 1: op by op
    f(value)
    assert f.program.compiled is not None  # call 2 (compile_after): compiled in the call
    assert f.program.wait_compiled() is True and not f.program.compiling


def test_the_setting_is_read_when_the_function_is_built(background):
    x = T.fvector("x")
    f = astsym.function([x], T.exp(x), mode="cpu")
    config.compile_in_background = False
    g = astsym.function([x], T.exp(x), mode="cpu")
    config.compile_in_background = True
    assert f.program.background is not None and g.program.background is None
    assert astsym.function([x], T.exp(x), mode="py").program.__class__.__name__ == "Program"


def test_wait_before_the_first_call_returns_at_once(background):
    x = T.fvector("x")
    f = astsym.function([x], T.exp(x), mode="cpu")
    assert f.program.wait_compiled(timeout=0) is False
    assert not f.program.compiling


@pytest.mark.parametrize(
    "flags, expected",
    [("compile_in_background=true", True), ("compile_in_background=0", False), ("", False)],
)
def test_the_flag_is_read_from_astsym_flags(flags, expected):
    assert Config(environ={"ASTSYM_FLAGS": flags}).compile_in_background is expected


@pytest.mark.parametrize("value", ["maybe", "2", ""])
def test_a_bad_flag_value_is_refused_naming_the_setting(value):
    with pytest.raises(ValueError, match="config.compile_in_background must be True or False"):
        Config(environ={"ASTSYM_FLAGS": f"compile_in_background={value}"})


def test_a_bad_runtime_value_is_refused_and_the_old_one_kept():
    with pytest.raises(ValueError, match="compile_in_background"):
        config.compile_in_background = 2
    assert config.compile_in_background is False


def test_reference_program_of_a_graph_without_kernels_is_the_graph_itself():
    x = T.dvector("x")
    f = astsym.function([x], T.exp(x) * 2, mode="py")
    assert [n.op.name for n, _, _ in reference_program(f.fgraph).steps] == ["exp", "multiply"]
