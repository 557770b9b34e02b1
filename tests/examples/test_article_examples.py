"""The introductory article's eleven programs (``../shared/article-examples.md``), each run as
the article writes it, with only the imports changed, against the values the article shows.

The same programs live as scripts in ``examples/``; the last test runs them all through
``examples/run_all.py``, the README's main job.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import astsym as theano
from astsym import shared
from astsym import tensor as T
from astsym.ifelse import ifelse

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def seeded_numpy():
    """Seed NumPy's global generator (the article uses ``np.random`` itself); restore it after."""
    saved = np.random.get_state()
    yield np.random.seed
    np.random.set_state(saved)


def test_01_scalars_and_a_compiled_function(capsys):
    x = T.scalar(name="input", dtype="float32")
    w = T.scalar(name="weight", dtype="float32")
    b = T.scalar(name="bias", dtype="float32")
    z = w * x + b
    net_input = theano.function(inputs=[w, x, b], outputs=z)
    print("net_input: %2f" % net_input(2.0, 3.0, 0.5))  # noqa: UP031

    assert capsys.readouterr().out == "net_input: 6.500000\n"
    result = net_input(2.0, 3.0, 0.5)
    assert result.dtype == np.float32 and result.shape == ()
    np.testing.assert_allclose(result, 6.5)


def test_02_types_and_broadcasting():
    x = T.scalar(name="input", dtype="float32")
    data = T.vector(name="data", dtype="float64")
    mytype = T.TensorType("float64", broadcastable=(), name=None, sparse_grad=False)
    assert (x.type.dtype, x.ndim) == ("float32", 0)
    assert (data.type.dtype, data.ndim) == ("float64", 1)
    assert mytype == T.dscalar

    r = T.row()
    assert r.broadcastable == (True, False)
    mtr = T.matrix()
    assert mtr.broadcastable == (False, False)
    f_row = theano.function([r, mtr], [r + mtr])
    R = np.arange(1, 3).reshape(1, 2)
    M = np.arange(1, 7).reshape(3, 2)
    out = f_row(R, M)

    assert isinstance(out, list) and len(out) == 1
    assert out[0].dtype == np.float64
    np.testing.assert_allclose(out[0], [[2.0, 4.0], [4.0, 6.0], [6.0, 8.0]])


@pytest.mark.parametrize("kind", ["scalar", "vector", "row", "col", "matrix", "tensor3", "tensor4"])
def test_02_seven_builtin_kinds(kind):
    ndim = {"scalar": 0, "vector": 1, "row": 2, "col": 2, "matrix": 2, "tensor3": 3, "tensor4": 4}
    v = getattr(T, kind)()
    assert v.ndim == ndim[kind]
    assert v.broadcastable == {"row": (True, False), "col": (False, True)}.get(
        kind, (False,) * v.ndim
    )


def test_02_higher_ranks_through_tensortype():
    tensor5 = T.TensorType("float64", broadcastable=(False,) * 5)
    assert tensor5().ndim == 5


def test_03_shared_from_numpy_values():
    data = np.array([[1, 2], [3, 4]])
    shared_data = theano.shared(data)

    assert isinstance(shared_data, theano.SharedVariable)
    assert issubclass(type(shared_data), theano.Variable)
    np.testing.assert_array_equal(shared_data.get_value(), data)


def test_04_graph_structure():
    x = T.dmatrix("x")
    y = T.dmatrix("y")
    z = x + y

    assert isinstance(z.owner, theano.Apply)
    assert z.owner.op == T.add
    assert str(z.owner.op) == "add"
    assert z.owner.inputs == [x, y]
    assert z.owner.outputs == [z]
    assert x.owner is None
    assert str(x.type) == "TensorType(float64, matrix)"
    assert x.type.dtype == "float64" and x.type.broadcastable == (False, False)


def test_05_several_inputs_and_outputs(capsys):
    x, y = theano.tensor.fscalars("x", "y")
    z1 = x + y
    z2 = x * y
    f = theano.function([x, y], [z1, z2])
    print(f(2, 3))

    assert capsys.readouterr().out == "[array(5., dtype=float32), array(6., dtype=float32)]\n"
    out = f(2, 3)
    assert [o.dtype for o in out] == [np.float32, np.float32]
    np.testing.assert_allclose(out, [5.0, 6.0])


def test_06_automatic_differentiation():
    x = theano.tensor.fscalar("x")
    y = 1 / (1 + theano.tensor.exp(-x))
    dx = theano.grad(y, x)
    f = theano.function([x], dx)

    result = f(3)
    assert result.dtype == np.float32
    np.testing.assert_allclose(result, 0.045176655, rtol=1e-6)


def test_07_outputs_before_updates(capsys):
    w = theano.shared(1)
    x = theano.tensor.iscalar("x")
    f = theano.function([x], w, updates=[[w, w + x]])
    print(f(3))
    print(w.get_value())

    assert capsys.readouterr().out == "1\n4\n"


def test_08_logistic_regression_learns(seeded_numpy):
    seeded_numpy(5)
    rng = np.random
    N, feats = 10, 3
    D = (
        rng.randn(N, feats).astype(np.float32),
        rng.randint(size=N, low=0, high=2).astype(np.float32),
    )
    x = T.matrix("x")
    y = T.vector("y")
    w = theano.shared(rng.randn(feats), name="w")
    b = theano.shared(0.0, name="b")
    w0 = w.get_value()
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w**2).sum()
    gw, gb = T.grad(cost, [w, b])
    prediction = p_1 > 0.5
    train = theano.function(
        inputs=[x, y],
        outputs=[prediction, xent],
        updates=((w, w - 0.1 * gw), (b, b - 0.1 * gb)),
    )
    predict = theano.function(inputs=[x], outputs=prediction)
    errors = []
    for i in range(1000):  # noqa: B007
        pred, err = train(D[0], D[1])
        errors.append(err.mean())

    sampled = errors[::100] + errors[-1:]
    assert all(later < earlier for earlier, later in zip(sampled, sampled[1:]))
    assert errors[-1] < 0.5 * errors[0]
    np.testing.assert_allclose(w.get_value(), _numpy_logistic_regression(D, w0)[0], rtol=1e-6)
    assert np.mean(predict(D[0]) == D[1]) == 1.0


def _numpy_logistic_regression(D, w, steps=1000):
    """The same 1000 gradient steps in NumPy: the reference the compiled training must match."""
    X, Y = D[0].astype(np.float64), D[1].astype(np.float64)
    b = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-X @ w - b))
        gw = X.T @ (p - Y) / len(Y) + 0.02 * w
        w, b = w - 0.1 * gw, b - 0.1 * (p - Y).mean()
    return w, b


def test_09_ifelse_and_switch_agree():
    a, b = T.scalars("a", "b")
    x, y = T.matrices("x", "y")
    z_switch = T.switch(T.lt(a, b), T.mean(x), T.mean(y))
    z_lazy = ifelse(T.lt(a, b), T.mean(x), T.mean(y))
    f_switch = theano.function([a, b, x, y], z_switch, mode=theano.Mode(linker="vm"))
    f_lazyifelse = theano.function([a, b, x, y], z_lazy, mode=theano.Mode(linker="vm"))
    big_mat1 = np.ones((1000, 100))
    big_mat2 = np.ones((1000, 100))

    for val1, val2 in [(0.0, 1.0), (1.0, 0.0)]:
        expected = 1.0
        np.testing.assert_allclose(f_switch(val1, val2, big_mat1, big_mat2), expected)
        np.testing.assert_allclose(f_lazyifelse(val1, val2, big_mat1, big_mat2), expected)
    big_mat2 = np.full((1000, 100), 3.0)
    np.testing.assert_allclose(f_lazyifelse(0.0, 1.0, big_mat1, big_mat2), 1.0)
    np.testing.assert_allclose(f_lazyifelse(1.0, 0.0, big_mat1, big_mat2), 3.0)
    np.testing.assert_allclose(f_switch(1.0, 0.0, big_mat1, big_mat2), 3.0)


def test_09_ifelse_evaluates_only_the_taken_branch():
    a, b = T.scalars("a", "b")
    x, y = T.matrices("x", "y")
    impossible = T.mean(T.reshape(y, (7, 3)))  # fails at run time for a (1000, 100) y
    z_lazy = ifelse(T.lt(a, b), T.mean(x), impossible)
    z_switch = T.switch(T.lt(a, b), T.mean(x), impossible)
    f_lazyifelse = theano.function([a, b, x, y], z_lazy, mode=theano.Mode(linker="vm"))
    f_switch = theano.function([a, b, x, y], z_switch, mode=theano.Mode(linker="vm"))
    big_mat1 = np.ones((1000, 100))
    big_mat2 = np.ones((1000, 100))

    np.testing.assert_allclose(f_lazyifelse(0.0, 1.0, big_mat1, big_mat2), 1.0)
    with pytest.raises(Exception, match="reshape"):
        f_lazyifelse(1.0, 0.0, big_mat1, big_mat2)
    with pytest.raises(Exception, match="reshape"):
        f_switch(0.0, 1.0, big_mat1, big_mat2)  # switch computes both sides


def test_10_scan_polynomial():
    def one_step(coef, power, x):
        return coef * x**power

    coefs = T.ivector()
    powers = T.ivector()
    x = T.iscalar()
    result, updates = theano.scan(
        fn=one_step, sequences=[coefs, powers], outputs_info=None, non_sequences=x
    )
    f_poly = theano.function([x, coefs, powers], result, allow_input_downcast=True)
    terms = f_poly(10, np.array([2, 3, 4, 6, 5]), np.array([0, 1, 2, 3, 4]))
    f_poly = theano.function([x, coefs, powers], result.sum(), allow_input_downcast=True)
    total = f_poly(10, np.array([2, 3, 4, 6, 5]), np.array([0, 1, 2, 3, 4]))

    assert len(updates) == 0
    np.testing.assert_array_equal(terms, [2, 30, 400, 6000, 50000])
    assert total == 56432


def test_11_accumulator(capsys):
    state = shared(0)
    inc = T.iscalar("inc")
    accumulator = theano.function([inc], state, updates=[(state, state + inc)])
    print(state.get_value())
    accumulator(1)
    print(state.get_value())

    assert capsys.readouterr().out == "0\n1\n"
    state.set_value(10)
    np.testing.assert_array_equal(accumulator(5), 10)
    assert state.get_value() == 15


@pytest.mark.slow
def test_run_all_examples(default_backend):
    env = {**os.environ, "ASTSYM_MODE": default_backend}  # the examples' processes too
    if default_backend == "gpu":
        if os.environ.get("ASTSYM_TEST_GPU") == "host":
            pytest.skip("the examples' own processes cannot use the host stand-in for CuPy")
        flags = os.environ.get("ASTSYM_FLAGS", "")
        env["ASTSYM_FLAGS"] = f"{flags},gpu_outputs=numpy" if flags else "gpu_outputs=numpy"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "run_all.py")],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "14 examples, 14 ok, 0 failed" in proc.stdout
    assert "net_input: 6.500000" in proc.stdout
    assert "[    2    30   400  6000 50000]" in proc.stdout
