"""The row pass (``graph/rewrites_rowpass.py``, ``kernels/numba_rowpass.py``): ``X @ w``, the
row-wise work after it, sums over rows and ``X.T @ g`` in one read of X. Results equal the
``py`` backend's (which runs the ops one by one), op by op and compiled whole, and errors
still name the user's line."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import astsym
import astsym.tensor as T
from astsym.graph.fg import FunctionGraph
from astsym.graph.ops.rowpass import RowPass
from astsym.graph.rewrite import GROUPS, rewrite
from astsym.typecheck import GraphRuntimeError


def _row_passes(f) -> list:
    return [n for n in f.fgraph.toposort() if isinstance(n.op, RowPass)]


def _logistic_step(dtype: str, d: int, lr=0.1):
    x, y = T.matrix("x", dtype=dtype), T.vector("y", dtype=dtype)
    w = astsym.shared(np.zeros(d, dtype), name="w")
    b = astsym.shared(np.asarray(0, dtype), name="b")
    p = 1 / (1 + T.exp(-(T.dot(x, w) + b)))
    cost = -T.mean(y * T.log(p) + (1 - y) * T.log(1 - p))
    gw, gb = astsym.grad(cost, [w, b])
    lr = np.asarray(lr, dtype)
    return [x, y], cost, [(w, w - lr * gw), (b, b - lr * gb)], (w, b)


def _data(n, d, dtype, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(dtype)
    Y = (rng.random(n) > 0.5).astype(dtype)
    return X, Y


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [1, 5, 64, 67, 9000])
def test_a_logistic_regression_step_reads_x_once_and_trains_as_py(dtype, n):
    X, Y = _data(n, 7, dtype)
    runs = {}
    for mode in ("py", "cpu"):
        inputs, cost, updates, (w, b) = _logistic_step(dtype, 7)
        f = astsym.function(inputs, cost, updates=updates, mode=mode)
        costs = [f(X, Y) for _ in range(4)]  # op by op, then compiled whole
        runs[mode] = (costs, w.get_value(), b.get_value(), f)
    f = runs["cpu"][3]
    assert len(_row_passes(f)) == 1
    assert f.program.fallback is None and f.program.compiled is not None
    assert not [n for n in f.fgraph.toposort() if n.op.name == "matmul"]
    tol = 2e-5 if dtype == "float32" else 1e-12
    for got, want in zip(runs["cpu"][:3], runs["py"][:3]):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=tol, atol=tol)
    assert runs["cpu"][1].dtype == np.dtype(dtype)


def test_the_rewrite_is_logged_at_the_users_line():
    inputs, cost, updates, _ = _logistic_step("float32", 3)
    f = astsym.function(inputs, cost, updates=updates, mode="cpu")
    firings = [e for e in f.rewrites if e.rule == "fuse_row_pass"]
    assert len(firings) == 1 and firings[0].group == "fuse"
    assert firings[0].span is not None and firings[0].span.file.endswith("test_row_pass.py")


_G = {  # the row-wise gradient g as a function of z = X @ w and a per-row vector y
    "tanh": lambda z, y, s: T.tanh(z) - y,
    "scaled": lambda z, y, s: z * s,
    "squared_error": lambda z, y, s: 2 * (z - y) / s,
    "independent": lambda z, y, s: y * s,
}


@settings(deadline=None, max_examples=25)
@given(
    n=st.integers(0, 300),
    d=st.integers(1, 40),
    dtype=st.sampled_from(["float32", "float64"]),
    kind=st.sampled_from(sorted(_G)),
    keep_rows=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_row_passes_equal_py(n, d, dtype, kind, keep_rows, seed):
    X, Y = _data(n, d, dtype, seed)
    w0 = np.random.default_rng(seed + 1).standard_normal(d).astype(dtype)
    x, y, w = T.matrix("x", dtype=dtype), T.vector("y", dtype=dtype), T.vector("w", dtype=dtype)
    s = T.scalar("s", dtype=dtype)
    z = T.dot(x, w)
    g = _G[kind](z, y, s)
    outputs = [T.dot(x.T, g), (g * y).sum(), T.sqr(z).sum()]
    if keep_rows:
        outputs.append(T.tanh(z) + 1)  # a row value used outside the pass
    values = (X, Y, w0, np.asarray(1.5, dtype))
    kwargs = {"on_unused_input": "ignore"}
    want = astsym.function([x, y, w, s], outputs, mode="py", **kwargs)(*values)
    f = astsym.function([x, y, w, s], outputs, mode="cpu", **kwargs)
    assert len(_row_passes(f)) == 1
    tol = 1e-4 if dtype == "float32" else 1e-10
    for _ in range(2):  # op by op, then compiled whole
        got = f(*values)
        for a, b in zip(got, want):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol * max(1, n))


def test_a_matrix_that_is_a_view_with_strides():
    X, Y = _data(50, 12, "float64")
    x, y, w = T.dmatrix("x"), T.dvector("y"), T.dvector("w")
    g = T.tanh(T.dot(x, w)) * y
    outputs = [T.dot(x.T, g), g.sum()]
    w0 = np.linspace(-1, 1, 6)
    view = X[:, ::2]
    want = astsym.function([x, y, w], outputs, mode="py")(view, Y, w0)
    f = astsym.function([x, y, w], outputs, mode="cpu")
    for _ in range(2):
        for a, b in zip(f(view, Y, w0), want):
            np.testing.assert_allclose(a, b, rtol=1e-12)
    assert len(_row_passes(f)) == 1


def test_g_that_needs_all_rows_first_is_left_to_blas():
    x, w = T.dmatrix("x"), T.dvector("w")
    z = T.dot(x, w)
    g = z - z.mean()  # the mean needs every row's z before any g
    outputs = [T.dot(x.T, g)]
    f = astsym.function([x, w], outputs, mode="cpu")
    assert not _row_passes(f)
    X = np.random.default_rng(0).standard_normal((30, 4))
    w0 = np.arange(4.0)
    np.testing.assert_allclose(f(X, w0)[0], X.T @ (X @ w0 - (X @ w0).mean()), rtol=1e-12)


def test_a_product_with_another_matrix_is_left_alone():
    x, v, w = T.dmatrix("x"), T.dmatrix("v"), T.dvector("w")
    g = T.tanh(T.dot(v, w))
    f = astsym.function([x, v, w], T.dot(x.T, g), mode="cpu")
    assert not _row_passes(f)


@pytest.mark.parametrize("compiled", [False, True])
def test_rows_that_differ_from_the_matrix_are_an_error_at_the_users_line(compiled):
    x, y, w = T.dmatrix("x"), T.dvector("y"), T.dvector("w")
    g = T.tanh(T.dot(x, w)) - y
    f = astsym.function([x, y, w], T.dot(x.T, g), mode="cpu")
    assert _row_passes(f)
    X, w0 = np.ones((6, 3)), np.ones(3)
    if compiled:
        f(X, np.ones(6), w0)
        f(X, np.ones(6), w0)
        assert f.program.compiled is not None
    with pytest.raises(GraphRuntimeError, match="test_row_pass.py") as err:
        f(X, np.ones(5), w0)
    assert "(6" in str(err.value) and "5" in str(err.value)
    with pytest.raises(GraphRuntimeError, match="matmul"):
        f(X, np.ones(6), np.ones(4))


def test_the_op_reference_and_kernel_agree_directly():
    from astsym.graph.ops import math as m
    from astsym.kernels import numba_rowpass

    X, w, y = T.fmatrix("X"), T.fvector("w"), T.fvector("y")
    steps = ((m.tanh, (-1,), "float32"), (m.subtract, (0, -3), "float32"))
    op = RowPass(steps, 3, (("xt", 1), ("sum", 0, True, "float32"), ("rows", 1)))
    node = op(X, w, y)[0].owner
    rng = np.random.default_rng(3)
    values = [rng.standard_normal((10000, 9)).astype("float32"),
              rng.standard_normal(9).astype("float32"),
              rng.standard_normal(10000).astype("float32")]  # fmt: skip
    kernel = numba_rowpass.build(op, node)
    for got, want in zip(kernel(*values), op.reference(node, values)):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_a_column_product_becomes_a_matrix_vector_product():
    a, v = T.dmatrix("a"), T.dvector("v")
    fg = FunctionGraph([a, v], [T.dot(a, v.dimshuffle(0, "x")).dimshuffle(0)])
    rewrite(fg, GROUPS["specialize"])
    (node,) = fg.toposort()
    assert node.op.name == "matmul" and [id(i) for i in node.inputs] == [id(i) for i in fg.inputs]
    fg = FunctionGraph([a, v], [T.dot(v.dimshuffle("x", 0), a).dimshuffle(1)])
    rewrite(fg, GROUPS["specialize"])
    (node,) = fg.toposort()
    assert node.op.name == "matmul" and [id(i) for i in node.inputs] == [
        id(i) for i in fg.inputs[::-1]
    ]


def test_a_cast_step_runs_in_the_numpy_reference_too():
    from astsym.graph.ops.elemwise import Cast

    X, w = T.fmatrix("X"), T.fvector("w")
    op = RowPass(((Cast("float64"), (-1,), "float64"),), 2, (("sum", 0, False, "float64"),))
    node = op(X, w).owner
    values = [np.ones((3, 2), np.float32), np.full(2, 0.5, np.float32)]
    (total,) = op.reference(node, values)
    assert total.dtype == np.float64 and total == 3.0
