"""``astsym.gradient`` as a whole: the options of ``grad``, sharing of gradient nodes,
gradients of expressions that reuse a variable or broadcast, second derivatives
(``jacobian``, ``hessian``), the R- and L-operators, the gradient-override identities,
``verify_grad`` itself, and gradients that the ``stabilize`` rewrites keep finite.

Per-op gradients against finite differences live in ``test_grad_elemwise.py`` and
``test_grad_structural.py``; this file checks what ``grad`` does with whole graphs.
Everything runs on the ``py`` backend in float64.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers import numeric_grad
from hypothesis import given, settings
from hypothesis import strategies as st

import astsym
import astsym.tensor as T
from astsym.gradient import (
    GradientError,
    Lop,
    Rop,
    disconnected_grad,
    grad_clip,
    grad_scale,
    hessian,
    jacobian,
    verify_grad,
    zero_grad,
)
from astsym.graph.ops import GradOverride
from astsym.graph.walk import toposort
from astsym.tensor.shared_randomstreams import RandomStreams
from astsym.typecheck import GraphTypeError


def compile_py(inputs, outputs):
    return astsym.function(inputs, outputs, mode="py", on_unused_input="ignore")


def sigmoid(z):
    return np.exp(-np.logaddexp(0.0, -z))  # 1 / (1 + exp(-z)) without overflow


def numpy_central_differences(fun, point: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """d fun / d point by central differences, shaped ``fun(point).shape + point.shape``."""
    out = np.asarray(fun(point))
    jac = np.zeros(out.shape + point.shape)
    for index in np.ndindex(point.shape):
        up, down = point.copy(), point.copy()
        up[index] += eps
        down[index] -= eps
        jac[(...,) + index] = (np.asarray(fun(up)) - np.asarray(fun(down))) / (2 * eps)
    return jac


# -- the options of grad ---------------------------------------------------------------------


def test_wrt_a_variable_gives_a_variable_and_a_list_gives_a_list():
    x, y = T.dvector("x"), T.dmatrix("y")
    cost = (x**2).sum() + (y * 3).sum()
    single = astsym.grad(cost, x)
    assert isinstance(single, T.TensorVariable)
    for wrt in ([x], (x, y), [y, x]):
        grads = astsym.grad(cost, wrt)
        assert isinstance(grads, list) and len(grads) == len(wrt)
        assert [g.type for g in grads] == [w.type for w in wrt]
    gy, gx = astsym.grad(cost, [y, x])
    got = compile_py([x, y], [gx, gy, single])(np.array([1.0, -2.0]), np.ones((2, 3)))
    np.testing.assert_array_equal(got[0], [2.0, -4.0])
    np.testing.assert_array_equal(got[1], np.full((2, 3), 3.0))
    np.testing.assert_array_equal(got[2], got[0])


def test_shared_variables_as_wrt():
    w = astsym.shared(np.array([1.0, -2.0, 0.5]), name="w")
    b = astsym.shared(0.25, name="b")
    x = T.dvector("x")
    cost = ((T.dot(x, w) + b) ** 2).sum()
    gw, gb = astsym.grad(cost, [w, b])
    assert gw.type == w.type and gb.type == b.type
    f = compile_py([x], [gw, gb])
    xv = np.array([0.5, 1.0, 2.0])
    residual = xv @ w.get_value() + 0.25
    np.testing.assert_allclose(f(xv)[0], 2 * residual * xv)
    np.testing.assert_allclose(f(xv)[1], 2 * residual)
    w.set_value(np.zeros(3))  # the compiled gradient reads the shared value when called
    np.testing.assert_allclose(f(xv)[0], 2 * 0.25 * xv)


@pytest.mark.parametrize("make", [T.dvector, T.fmatrix], ids=["f64[?]", "f32[?, ?]"])
def test_a_non_scalar_cost_is_refused_naming_its_type(make):
    x = make("x")
    with pytest.raises(GraphTypeError) as info:
        astsym.grad(T.exp(x), x)
    message = str(info.value)
    assert "cost must be a scalar" in message
    assert x.type.short() in message, message


def _cost_with_disconnected_inputs():
    """``a`` is not an ancestor of the cost; ``k`` reaches it only through floor and an
    integer cast; ``x`` is connected."""
    x, a, k = T.dvector("x"), T.fmatrix("a"), T.dvector("k")
    cost = (x**2).sum() + T.cast(T.floor(k), "int64").sum()
    return x, a, k, cost


def test_disconnected_inputs_raise_naming_the_input_and_the_reason():
    x, a, k, cost = _cost_with_disconnected_inputs()
    with pytest.raises(GraphTypeError) as info:
        astsym.grad(cost, [x, a])
    assert "a (f32[?, ?]) is disconnected" in str(info.value)
    assert "does not depend on it" in str(info.value)
    with pytest.raises(GraphTypeError) as info:
        astsym.grad(cost, [x, k])
    assert "k (f64[?]) is disconnected" in str(info.value)
    assert "piecewise-constant" in str(info.value)
    # return_disconnected does not silence 'raise'
    with pytest.raises(GraphTypeError):
        astsym.grad(cost, k, return_disconnected="None")


def test_disconnected_inputs_ignore_gives_zeros_of_the_input_type():
    x, a, k, cost = _cost_with_disconnected_inputs()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 'ignore' is silent
        gx, ga, gk = astsym.grad(cost, [x, a, k], disconnected_inputs="ignore")
    assert ga.type == a.type and gk.type == k.type
    got = compile_py([x, a, k], [gx, ga, gk])(
        np.array([1.0, 3.0]), np.ones((2, 4), "float32"), np.array([0.5, 1.5, 2.5])
    )
    np.testing.assert_array_equal(got[0], [2.0, 6.0])
    assert got[1].dtype == np.float32 and got[1].shape == (2, 4) and not got[1].any()
    assert got[2].shape == (3,) and not got[2].any()


def test_disconnected_inputs_warn_points_at_the_caller():
    x, a, _, cost = _cost_with_disconnected_inputs()
    with pytest.warns(UserWarning, match=r"a \(f32\[\?, \?\]\) is disconnected") as caught:
        ga = astsym.grad(cost, a, disconnected_inputs="warn")
    assert ga.type == a.type
    assert [w.filename for w in caught] == [__file__], [w.filename for w in caught]


@pytest.mark.parametrize("value", ["None", "Disconnected"])
def test_return_disconnected_none(value):
    x, a, k, cost = _cost_with_disconnected_inputs()
    gx, ga, gk = astsym.grad(
        cost, [x, a, k], disconnected_inputs="ignore", return_disconnected=value
    )
    assert ga is None and gk is None
    np.testing.assert_array_equal(compile_py([x], gx)(np.array([2.0])), [4.0])


def test_known_grads_alone_start_backpropagation_from_an_intermediate():
    x = T.dvector("x")
    y = T.sin(x) * 3
    g_y = T.dvector("g_y")
    gx = astsym.grad(None, x, known_grads={y: g_y})
    xv, gv = np.array([0.1, -0.7, 2.0]), np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(compile_py([x, g_y], gx)(xv, gv), 3 * np.cos(xv) * gv)
    # a known gradient given as a NumPy array is converted
    gx = astsym.grad(None, x, known_grads={y: gv})
    np.testing.assert_allclose(compile_py([x], gx)(xv), 3 * np.cos(xv) * gv)


def test_known_grads_with_a_cost_add_up():
    x = T.dvector("x")
    h = T.exp(x)
    cost = (x * 5).sum()  # h is not part of the cost: its gradient comes only from known_grads
    g_h = np.array([2.0, -1.0])
    gx = astsym.grad(cost, x, known_grads={h: g_h})
    xv = np.array([0.3, -0.4])
    np.testing.assert_allclose(compile_py([x], gx)(xv), 5 + np.exp(xv) * g_h)
    # on the cost's own path, the known gradient joins the one coming from the cost
    cost = (h * 2).sum()
    gx = astsym.grad(cost, x, known_grads={h: g_h})
    np.testing.assert_allclose(compile_py([x], gx)(xv), np.exp(xv) * (2 + g_h))


def test_known_grads_of_the_wrong_rank_are_refused():
    x = T.dvector("x")
    with pytest.raises(GraphTypeError, match="known gradient"):
        astsym.grad(None, x, known_grads={x * 2: T.dmatrix("g")})


def test_grad_needs_a_cost_or_known_grads():
    with pytest.raises(ValueError, match="cost or known_grads"):
        astsym.grad(None, T.dvector("x"))


def test_consider_constant_blocks_a_path():
    x = T.dvector("x")
    y = x**2
    cost = (y * x).sum()  # d/dx = 3 x^2, or x^2 with y held constant
    xv = np.array([1.0, -2.0, 3.0])
    full = compile_py([x], astsym.grad(cost, x))(xv)
    held = compile_py([x], astsym.grad(cost, x, consider_constant=[y]))(xv)
    np.testing.assert_allclose(full, 3 * xv**2)
    np.testing.assert_allclose(held, xv**2)
    # the only path blocked: disconnected
    with pytest.raises(GraphTypeError, match="disconnected"):
        astsym.grad(y.sum(), x, consider_constant=[y])


def test_an_intermediate_and_its_input_both_as_wrt():
    """Asking for d cost / d y does not cut the path through y from d cost / d x."""
    x = T.dvector("x")
    y = x * 2
    cost = (y * y).sum()
    gx, gy = astsym.grad(cost, [x, y])
    xv = np.array([1.0, -3.0])
    got = compile_py([x], [gx, gy])(xv)
    np.testing.assert_allclose(got[0], 8 * xv, err_msg="d cost / d x")
    np.testing.assert_allclose(got[1], 4 * xv, err_msg="d cost / d y")


def test_gradient_through_a_random_draw_is_null():
    mu = T.dvector("mu")
    sample = RandomStreams(1).normal((3,), avg=mu)
    cost = (sample**2).sum()
    with pytest.raises(GraphTypeError) as info:
        astsym.grad(cost, mu)
    assert "undefined" in str(info.value) and "normal" in str(info.value)
    assert "null_gradients='return'" in str(info.value)
    assert astsym.grad(cost, mu, null_gradients="return") is None


def test_a_null_gradient_leaves_other_inputs_alone():
    mu, x = T.dvector("mu"), T.dvector("x")
    m2 = mu * 2
    sample = RandomStreams(1).normal((3,), avg=m2)
    cost = (sample + x**2).sum() + mu.sum()
    gmu, gx = astsym.grad(cost, [mu, x], null_gradients="return")
    assert gmu is None, "mu reaches the cost through the draw: its gradient is null"
    assert gx is not None, "x does not pass through the draw: its gradient is defined"
    np.testing.assert_allclose(compile_py([x], gx)(np.array([1.0, 2.0, -1.0])), [2.0, 4.0, -2.0])


@pytest.mark.parametrize("option", ["disconnected_inputs", "return_disconnected", "null_gradients"])
def test_invalid_option_strings_raise_value_error(option):
    x = T.dscalar("x")
    with pytest.raises(ValueError, match=option):
        astsym.grad(x**2, x, **{option: "bogus"})


def test_invalid_option_of_jacobian_raises_value_error():
    x = T.dvector("x")
    with pytest.raises(ValueError, match="disconnected_inputs"):
        jacobian(x**2, x, disconnected_inputs="Raise")


# -- each node's gradient is computed once ----------------------------------------------------


def _nested(x, depth: int):
    """y = x; repeat: y = y * y / (1 + y). Every level uses the previous one three times."""
    y = x
    for _ in range(depth):
        y = y * y / (1 + y)
    return y


def test_gradient_graph_grows_linearly_with_reuse():
    sizes = {}
    for depth in (10, 20):
        x = T.dscalar("x")
        g = astsym.grad(_nested(x, depth), x)
        sizes[depth] = len(toposort([g]))
    # gradients recomputed per use would grow geometrically: 3 uses per level, 10 more levels
    assert sizes[20] <= 2 * sizes[10] + 10, sizes


def test_gradient_of_deep_reuse_matches_finite_differences():
    x = T.dscalar("x")
    g = astsym.grad(_nested(x, 30), x)
    f = compile_py([x], g)
    for x0 in (40.0, 55.5):
        (expected,) = numeric_grad(lambda v: float(_nested(v, 30)), [np.float64(x0)], [0], 1e-4)
        np.testing.assert_allclose(f(x0), expected, rtol=1e-6)


# -- repeated uses and broadcasting, against finite differences --------------------------------

UNARY = {"id": lambda v, lib: v, "sin": lambda v, lib: lib.sin(v), "exp": lambda v, lib: lib.exp(v)}


@st.composite
def expression_plans(draw):
    """A plan for an expression in ``x`` (used 1 to 4 times) and a broadcast operand ``b``:
    leaves in some order, each through sin, exp or nothing, folded with + or *."""
    leaves = ["x"] * draw(st.integers(1, 4)) + ["b"] * draw(st.integers(1, 2))
    leaves = draw(st.permutations(leaves))
    unary = draw(st.lists(st.sampled_from(sorted(UNARY)), min_size=len(leaves), max_size=6))
    binary = draw(st.lists(st.sampled_from("+*"), min_size=len(leaves), max_size=6))
    outer = draw(st.lists(st.sampled_from(["id", "sin"]), min_size=len(leaves), max_size=6))
    return list(zip(leaves, unary, binary, outer))


def evaluate_plan(plan, x, b, lib):
    """The plan's expression in ``lib`` (``astsym.tensor`` or ``numpy``)."""
    acc = None
    for leaf, unary, binary, outer in plan:
        term = UNARY[unary](x if leaf == "x" else b, lib)
        if acc is None:
            acc = term
        else:
            acc = acc + term if binary == "+" else acc * term
        acc = UNARY[outer](acc, lib)
    return acc


@settings(max_examples=40)
@given(
    expression_plans(),
    st.sampled_from(["row", "col"]),
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(0, 2**16),
)
def test_repeated_use_with_broadcasting_matches_finite_differences(plan, kind, rows, cols, seed):
    rng = np.random.default_rng(seed)
    xv = rng.uniform(-1, 1, (rows, cols))
    bv = rng.uniform(-1, 1, cols if kind == "row" else rows)
    pattern = ("x", 0) if kind == "row" else (0, "x")

    # 1. astsym's verify_grad: b enters as a vector and is made broadcastable in the graph
    verify_grad(lambda x, b: evaluate_plan(plan, x, b.dimshuffle(*pattern), T), [xv, bv], rng=seed)

    # 2. an independent check: b typed broadcastable, NumPy forward, NumPy central differences
    b_shape = (1, cols) if kind == "row" else (rows, 1)
    x = T.dmatrix("x")
    b = T.TensorType("float64", shape=b_shape)("b")
    weights = rng.uniform(0.5, 1.5, (rows, cols))
    cost = (evaluate_plan(plan, x, b, T) * weights).sum()
    gx, gb = astsym.grad(cost, [x, b])
    assert gb.type == b.type, f"the gradient of a broadcastable operand is {gb.type}"
    got = compile_py([x, b], [gx, gb])(xv, bv.reshape(b_shape))

    def numpy_cost(xa, ba):
        return float((np.broadcast_to(evaluate_plan(plan, xa, ba, np), xa.shape) * weights).sum())

    expected = numeric_grad(numpy_cost, [xv, bv.reshape(b_shape)], [0, 1], 1e-6)
    for name, g, e in zip("xb", got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-7, err_msg=f"d cost / d {name}")


# -- second order ---------------------------------------------------------------------------


@settings(max_examples=15)
@given(st.integers(1, 5), st.integers(0, 2**16))
def test_hessian_of_a_quadratic_form(n, seed):
    rng = np.random.default_rng(seed)
    A, x = T.dmatrix("A"), T.dvector("x")
    H = hessian(T.dot(x, T.dot(A, x)), x)
    a = rng.normal(size=(n, n))
    got = compile_py([A, x], H)(a, rng.normal(size=n))
    np.testing.assert_allclose(got, a + a.T, rtol=1e-12, atol=1e-12)


def test_hessian_of_the_logistic_loss():
    rng = np.random.default_rng(3)
    X, y, w = T.dmatrix("X"), T.dvector("y"), T.dvector("w")
    loss = T.sum(T.log(1 + T.exp(-y * T.dot(X, w))))
    H = hessian(loss, w)
    xv, wv = rng.normal(size=(7, 3)), rng.normal(size=3)
    yv = rng.choice([-1.0, 1.0], 7)
    s = sigmoid(yv * (xv @ wv))
    expected = xv.T @ np.diag(s * (1 - s)) @ xv
    np.testing.assert_allclose(compile_py([X, y, w], H)(xv, yv, wv), expected, rtol=1e-10)


def test_jacobian_of_an_elementwise_function_is_diagonal():
    x = T.dvector("x")
    J = jacobian(T.tanh(x) * x, x)
    xv = np.array([-1.5, 0.0, 0.3, 2.0])
    got = compile_py([x], J)(xv)
    assert got.shape == (4, 4)
    np.testing.assert_array_equal(got - np.diag(np.diag(got)), 0.0)
    np.testing.assert_allclose(np.diag(got), np.tanh(xv) + xv * (1 - np.tanh(xv) ** 2))


def test_jacobian_of_a_matrix_wrt_a_matrix():
    rng = np.random.default_rng(4)
    A, B = T.dmatrix("A"), T.dmatrix("B")
    av, bv = rng.normal(size=(2, 3)), rng.normal(size=(3, 4))
    J = jacobian(T.dot(A, T.sin(B)) * T.sum(A), B)
    got = compile_py([A, B], J)(av, bv)
    assert got.shape == (2, 4, 3, 4)
    expected = numpy_central_differences(lambda b: (av @ np.sin(b)) * av.sum(), bv)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8)


def test_jacobian_and_hessian_with_a_list_of_wrt():
    rng = np.random.default_rng(5)
    A, x = T.dmatrix("A"), T.dvector("x")
    av, xv = rng.normal(size=(2, 3)), rng.normal(size=3)
    e = T.exp(T.dot(A, x))
    JA, Jx = jacobian(e, [A, x])
    cost = (T.dot(A, x) ** 2).sum() + (x**3).sum()
    HA, Hx = hessian(cost, [A, x])
    got = compile_py([A, x], [JA, Jx, HA, Hx])(av, xv)
    assert [g.shape for g in got] == [(2, 2, 3), (2, 3), (2, 3, 2, 3), (3, 3)]
    np.testing.assert_allclose(got[0], numpy_central_differences(lambda a: np.exp(a @ xv), av))
    np.testing.assert_allclose(got[1], numpy_central_differences(lambda v: np.exp(av @ v), xv))
    # d^2 / dA^2 of sum((A x)^2) is 2 x_j x_l for equal rows; of x: 2 A^T A + 6 diag(x)
    expected_HA = np.einsum("ik,jl->ijkl", np.eye(2), 2 * np.outer(xv, xv))
    np.testing.assert_allclose(got[2], expected_HA, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got[3], 2 * av.T @ av + 6 * np.diag(xv), rtol=1e-10)


# -- R- and L-operators against explicit Jacobians ----------------------------------------------


def _rop_lop_cases():
    """f of (A, x), by name."""
    return {
        "dot": lambda A, v: T.dot(A, v),
        "elementwise": lambda A, v: T.sin(A) * T.exp(v),
        "reduction": lambda A, v: (A**2).sum(axis=0) * v.max(),
        "reshape": lambda A, v: (A * v).reshape((2, 3)).T,
        "scalar": lambda A, v: (T.dot(A, v) ** 3).sum(),
    }


@pytest.mark.parametrize("name", sorted(_rop_lop_cases()))
def test_rop_and_lop_are_jacobian_products(name):
    rng = np.random.default_rng(7)
    fun = _rop_lop_cases()[name]
    av, xv = rng.normal(size=(3, 2)), rng.normal(size=2)
    A, x = T.dmatrix("A"), T.dvector("x")
    f = fun(A, x)
    J_A, J_x = jacobian(f, [A, x])
    f_shape = compile_py([A, x], f)(av, xv).shape
    u = T.TensorType("float64", shape=(None,) * len(f_shape))("u")
    vA, vx = T.dmatrix("vA"), T.dvector("vx")
    outputs = [J_A, J_x, Rop(f, A, vA), Rop(f, [A, x], [vA, vx]), Lop(f, A, u), *Lop(f, [A, x], u)]
    values = [rng.normal(size=s) for s in (av.shape, xv.shape, f_shape)]
    jA, jx, rA, r_both, lA, lA_of_both, lx = compile_py([A, x, vA, vx, u], outputs)(av, xv, *values)
    va, vv, uv = values
    jA, jx = jA.reshape(uv.size, av.size), jx.reshape(uv.size, xv.size)  # rows: f's elements
    close = dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(rA, (jA @ va.ravel()).reshape(f_shape), **close, err_msg="J v")
    both = (jA @ va.ravel() + jx @ vv).reshape(f_shape)
    np.testing.assert_allclose(r_both, both, **close, err_msg="J [vA, vx]")
    np.testing.assert_allclose(lA, (uv.ravel() @ jA).reshape(av.shape), **close, err_msg="u J")
    np.testing.assert_allclose(lA_of_both, lA, **close)
    np.testing.assert_allclose(lx, uv.ravel() @ jx, **close, err_msg="u J_x")


def test_rop_and_lop_with_lists_of_outputs():
    rng = np.random.default_rng(8)
    A, x = T.dmatrix("A"), T.dvector("x")
    f1, f2 = T.dot(A, x), T.tanh(A).sum(axis=1) * x[0]
    vA, vx, u1, u2 = T.dmatrix("vA"), T.dvector("vx"), T.dvector("u1"), T.dvector("u2")
    r1, r2 = Rop([f1, f2], [A, x], [vA, vx])
    lA, lx = Lop([f1, f2], [A, x], [u1, u2])
    jacobians = [J for f in (f1, f2) for J in jacobian(f, [A, x])]
    av, xv = rng.normal(size=(2, 3)), rng.normal(size=3)
    va, vv, uv1, uv2 = (
        rng.normal(size=(2, 3)),
        rng.normal(size=3),
        rng.normal(size=2),
        rng.normal(size=2),
    )
    got = compile_py([A, x, vA, vx, u1, u2], [r1, r2, lA, lx, *jacobians])(av, xv, va, vv, uv1, uv2)
    (r1v, r2v, lAv, lxv), (J1A, J1x, J2A, J2x) = got[:4], [j.reshape(2, -1) for j in got[4:]]
    np.testing.assert_allclose(r1v, J1A @ va.ravel() + J1x @ vv, rtol=1e-10)
    np.testing.assert_allclose(r2v, J2A @ va.ravel() + J2x @ vv, rtol=1e-10)
    np.testing.assert_allclose(lAv.ravel(), uv1 @ J1A + uv2 @ J2A, rtol=1e-10)
    np.testing.assert_allclose(lxv, uv1 @ J1x + uv2 @ J2x, rtol=1e-10)


def test_rop_and_lop_refuse_mismatched_eval_points():
    A, x = T.dmatrix("A"), T.dvector("x")
    with pytest.raises(ValueError, match="eval_points"):
        Rop(T.dot(A, x), [A, x], [T.dmatrix()])
    with pytest.raises(ValueError, match="eval_points"):
        Lop([T.dot(A, x), x * 2], x, [T.dvector()])


# -- gradient overrides ---------------------------------------------------------------------


def _override_cases():
    """(name, f of x, f's value and the gradient of sum(f(x) * w) as NumPy functions)."""
    cases = [
        (
            "disconnected_grad",
            lambda x: disconnected_grad(x) * x,
            lambda x: x * x,
            lambda x, w: x * w,
        ),
        (
            "zero_grad",
            lambda x: zero_grad(x) * x + zero_grad(x),
            lambda x: x * x + x,
            lambda x, w: x * w,
        ),
        (
            "grad_clip",
            lambda x: grad_clip(x, -1.0, 0.5) * 1,
            lambda x: x,
            lambda x, w: np.clip(w, -1, 0.5),
        ),
        (
            "grad_scale",
            lambda x: grad_scale(x, 0.25) ** 2,
            lambda x: x**2,
            lambda x, w: 0.5 * x * w,
        ),
    ]
    return [pytest.param(*case[1:], id=case[0]) for case in cases]


@pytest.mark.parametrize("fun, value, gradient", _override_cases())
def test_gradient_overrides(fun, value, gradient):
    x = T.dvector("x")
    y = fun(x)
    weights = np.array([-3.0, 0.2, 0.75, 2.0])
    g = astsym.grad((y * weights).sum(), x)
    f = astsym.function([x], [y, g])  # the default mode: the whole rewrite pipeline
    xv = np.array([0.5, -1.0, 2.0, 1.5])
    y_got, g_got = f(xv)
    np.testing.assert_allclose(y_got, value(xv), err_msg="the forward value is unchanged")
    np.testing.assert_allclose(g_got, gradient(xv, weights), err_msg="the gradient")
    ops = [node.op for node in f.maker.fgraph.toposort()]
    assert not any(isinstance(op, GradOverride) for op in ops), ops


def test_disconnected_grad_disconnects_and_zero_grad_does_not():
    x = T.dvector("x")
    with pytest.raises(GraphTypeError, match="disconnected"):
        astsym.grad(disconnected_grad(x).sum(), x)
    g = astsym.grad(zero_grad(x).sum(), x)  # connected, zero
    np.testing.assert_array_equal(compile_py([x], g)(np.ones(3)), np.zeros(3))


def test_grad_clip_refuses_an_empty_interval():
    with pytest.raises(ValueError, match="lower_bound"):
        grad_clip(T.dvector("x"), 1.0, -1.0)


# -- verify_grad ------------------------------------------------------------------------------


def test_verify_grad_passes_on_correct_functions_of_several_inputs():
    rng = np.random.default_rng(9)
    verify_grad(
        lambda a, b, c: T.dot(a, T.tanh(b)) * c.sum() + T.exp(c).mean(),
        [rng.normal(size=(2, 3)), rng.normal(size=(3, 4)), rng.normal(size=4)],
        rng=rng,
    )
    verify_grad(lambda a, b: a * b, [np.ones((3, 2)), rng.normal(size=(1, 2))], rng=rng)


def test_verify_grad_names_the_input_with_a_wrong_gradient():
    rng = np.random.default_rng(10)
    point = [rng.normal(size=(2, 2)), rng.normal(size=3), rng.normal(size=2)]

    def fun(a, b, c):  # b's gradient is claimed 10% too large
        return T.dot(a, c) * grad_scale(b, 1.1).sum() + T.sin(c)

    with pytest.raises(GradientError) as info:
        verify_grad(fun, point, rng=rng)
    assert isinstance(info.value, AssertionError)
    assert info.value.arg == 1 and "input 1" in str(info.value)
    assert info.value.analytic == pytest.approx(1.1 * info.value.numeric, rel=1e-4)


def test_verify_grad_honours_the_tolerances():
    x = np.array([0.5, 1.0, -2.0])
    slightly_wrong = lambda v: grad_scale(v, 1.001) ** 2  # noqa: E731
    with pytest.raises(GradientError):
        verify_grad(slightly_wrong, [x], rng=0)
    verify_grad(slightly_wrong, [x], rng=0, rel_tol=1e-2)
    verify_grad(slightly_wrong, [x], rng=0, abs_tol=1e-2)


def test_verify_grad_honours_eps():
    x = np.array([1.0, 2.0])
    verify_grad(lambda v: v**3, [x], rng=0)
    # central differences err by eps^2 f'''/6 = 0.01: a step of 0.1 is too coarse
    with pytest.raises(GradientError):
        verify_grad(lambda v: v**3, [x], rng=0, eps=0.1)
    verify_grad(lambda v: v**3, [x], rng=0, eps=0.1, abs_tol=0.1, rel_tol=0.1)


def test_verify_grad_honours_n_tests_and_rng():
    shape = (2, 3)
    point = [np.ones(shape)]
    for n_tests in (1, 3):
        rng, reference = np.random.default_rng(11), np.random.default_rng(11)
        verify_grad(lambda v: T.sin(v), point, n_tests=n_tests, rng=rng)
        for _ in range(n_tests):  # one random projection per test
            reference.random(shape)
        assert rng.random() == reference.random(), f"n_tests={n_tests} draws {n_tests} times"
    # no test, no check
    verify_grad(lambda v: grad_scale(v, 2.0), point, n_tests=0)
    # the same seed finds the same discrepancy
    errors = []
    for _ in range(2):
        with pytest.raises(GradientError) as info:
            verify_grad(lambda v: grad_scale(v, 2.0) * v, [np.arange(6.0)], rng=12)
        errors.append((info.value.position, info.value.analytic, info.value.numeric))
    assert errors[0] == errors[1]


# -- the article's logistic regression -------------------------------------------------------


def test_article_logistic_regression_gradients():
    rng = np.random.RandomState(13)
    N, feats = 10, 3
    D = (
        rng.randn(N, feats).astype(np.float32),
        rng.randint(size=N, low=0, high=2).astype(np.float32),
    )
    x = T.matrix("x")
    y = T.vector("y")
    w = astsym.shared(rng.randn(feats), name="w")
    b = astsym.shared(0.0, name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w**2).sum()
    gw, gb = T.grad(cost, [w, b])
    gw_value, gb_value = astsym.function([x, y], [gw, gb])(D[0], D[1])

    X, Y, W = D[0].astype(np.float64), D[1].astype(np.float64), w.get_value()
    p = sigmoid(X @ W + 0.0)
    np.testing.assert_allclose(gw_value, X.T @ (p - Y) / N + 0.02 * W, rtol=1e-10)
    np.testing.assert_allclose(gb_value, np.mean(p - Y), rtol=1e-10)
    assert gw_value.dtype == np.float64 and np.ndim(gb_value) == 0


# -- gradients kept finite by the stabilize rewrites -------------------------------------------

Z = np.array([-800.0, -100.0, -30.0, -1.0, 0.0, 1.0, 30.0, 100.0, 800.0])


def test_gradient_of_log_sigmoid_is_finite_everywhere():
    z = T.dvector("z")
    log_sigmoid = T.log(1 / (1 + T.exp(-z)))
    log_one_minus_sigmoid = T.log(1 - 1 / (1 + T.exp(-z)))
    got = compile_py([z], astsym.grad(log_sigmoid.sum(), z))(Z)
    assert np.isfinite(got).all(), got
    np.testing.assert_allclose(got, sigmoid(-Z), rtol=1e-12)  # d/dz log s(z) = 1 - s(z)
    got = compile_py([z], astsym.grad(log_one_minus_sigmoid.sum(), z))(Z)
    assert np.isfinite(got).all(), got
    np.testing.assert_allclose(got, -sigmoid(Z), rtol=1e-12)  # d/dz log(1 - s(z)) = -s(z)


def test_gradient_of_logsumexp_is_softmax_for_huge_inputs():
    x = T.dvector("x")
    xv = np.array([1e4, 1e4 - 1.0, -1e4, 1e4 - 3.0])
    got = compile_py([x], astsym.grad(T.logsumexp(x), x))(xv)
    assert np.isfinite(got).all(), got
    e = np.exp(xv - xv.max())
    np.testing.assert_allclose(got, e / e.sum(), rtol=1e-12)


def test_gradient_of_crossentropy_of_softmax_with_extreme_logits():
    x, y = T.dmatrix("x"), T.ivector("y")
    loss = T.nnet.categorical_crossentropy(T.nnet.softmax(x), y).sum()
    xv = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 3.0], [2.0, 1.0, -1000.0]])
    yv = np.array([1, 0, 2], dtype="int32")
    got = compile_py([x, y], astsym.grad(loss, x))(xv, yv)
    assert np.isfinite(got).all(), got
    e = np.exp(xv - xv.max(axis=1, keepdims=True))
    expected = e / e.sum(axis=1, keepdims=True) - np.eye(3)[yv]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-300)


def test_gradient_of_the_two_norm_at_zero_is_a_zero_subgradient():
    """``norm(x, 2)`` has the subgradient 0 at x = 0 (and x / |x| elsewhere). The raw formula
    ``sqrt((x ** 2).sum())`` differentiates to ``x / sqrt(0) = 0 * inf``: NaN at 0, as in
    Theano; astsym gives the same NaN for the raw formula, so use ``norm``."""
    x, m = T.dvector("x"), T.dmatrix("m")
    g = compile_py([x], astsym.grad(T.norm(x, 2), x))
    zeros = g(np.zeros(3))
    assert not np.isnan(zeros).any(), zeros
    np.testing.assert_array_equal(zeros, np.zeros(3))
    xv = np.array([3.0, -4.0, 0.0])
    np.testing.assert_allclose(g(xv), xv / 5.0)
    rows = compile_py([m], astsym.grad(T.norm(m, 2, axis=1).sum(), m))
    mv = np.array([[0.0, 0.0], [3.0, 4.0]])
    np.testing.assert_allclose(rows(mv), [[0.0, 0.0], [0.6, 0.8]])
