"""Gradients of elementwise ops and reductions against central differences, and the rules of
``grad`` that they rely on (broadcast dims summed, piecewise-constant ops, disconnected
inputs, scalar costs, exact ``prod`` gradients with zeros)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers import assert_allclose_dtype, backend_params, check_grad, compile_and_run

import astsym
from astsym.graph import ops
from astsym.graph.ops import ELEMWISE, REDUCTIONS, cast
from astsym.graph.type import TensorType
from astsym.typecheck import GraphTypeError, RuleError

BACKENDS = backend_params()
SHAPES = {1: [(3, 4)], 2: [(3, 4), (1, 4)], 3: [(3, 4), (4,), (3, 1)]}


def _uniform(lo, hi):
    def draw(rng, nin):
        return [rng.uniform(lo, hi, shape) for shape in SHAPES[nin]]

    return draw


def _signed(lo, hi):
    """Magnitudes in [lo, hi] with random signs: away from zero."""

    def draw(rng, nin):
        return [rng.uniform(lo, hi, s) * rng.choice([-1.0, 1.0], s) for s in SHAPES[nin]]

    return draw


def _divisor_last(rng, nin):
    x, y = _uniform(-2, 2)(rng, nin)
    return [x, _signed(0.5, 2)(rng, 1)[0][:1]]


def _mod(rng, nin):
    """Quotients away from integers, where ``x % y`` jumps."""
    y = rng.uniform(1, 2, SHAPES[2][1])
    q = rng.integers(-3, 3, SHAPES[2][0]) + rng.uniform(0.2, 0.8, SHAPES[2][0])
    return [q * y, y]


def _power(rng, nin):
    return [rng.uniform(0.5, 2, SHAPES[2][0]), rng.uniform(-2, 2, SHAPES[2][1])]


def _apart(rng, nin):
    """Two operands never within 0.2 of each other (no tie for maximum/minimum)."""
    x = rng.uniform(-2, 2, SHAPES[2][1])
    gap = rng.uniform(0.2, 1, SHAPES[2][0]) * rng.choice([-1.0, 1.0], SHAPES[2][0])
    return [x + gap, x]


def _where(rng, nin):
    cond = rng.uniform(size=SHAPES[3][0]) < 0.5
    return [cond, rng.uniform(-2, 2, SHAPES[3][1]), rng.uniform(-2, 2, SHAPES[3][2])]


def _clip(rng, nin):
    """``x`` below ``lo``, between, or above ``hi``, always at least 0.4 from either bound."""
    centre = rng.choice([-2.0, 0.0, 2.0], SHAPES[3][0])
    x = centre + rng.uniform(-0.3, 0.3, SHAPES[3][0])
    return [x, rng.uniform(-1.3, -0.7, SHAPES[3][1]), rng.uniform(0.7, 1.3, SHAPES[3][2])]


#: How to draw float64 operands inside each op's domain and away from its kinks; ops not
#: listed take values in [-2, 2].
GRAD_VALUES = {
    "log": _uniform(0.5, 3),
    "log2": _uniform(0.5, 3),
    "log10": _uniform(0.5, 3),
    "sqrt": _uniform(0.5, 3),
    "log1p": _uniform(-0.5, 2),
    "arcsin": _uniform(-0.8, 0.8),
    "arccos": _uniform(-0.8, 0.8),
    "arctanh": _uniform(-0.8, 0.8),
    "arccosh": _uniform(1.2, 3),
    "tan": _uniform(-1.2, 1.2),
    "abs": _signed(0.3, 2),
    "arctan2": _signed(0.5, 2),
    "true_divide": _divisor_last,
    "mod": _mod,
    "power": _power,
    "maximum": _apart,
    "minimum": _apart,
    "where": _where,
    "clip": _clip,
}
DIFFERENTIABLE = sorted(name for name, op in ELEMWISE.items() if op.no_grad_reason is None)
PIECEWISE = sorted(name for name, op in ELEMWISE.items() if op.no_grad_reason is not None)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_elementwise_gradient_matches_finite_differences(name, backend):
    op = ELEMWISE[name]
    rng = np.random.default_rng(1234)
    values = GRAD_VALUES.get(name, _uniform(-2, 2))(rng, op.nin)
    check_grad(op, values, backend=backend, seed=7)


# -- reductions ------------------------------------------------------------------------------


def _distinct(rng, shape):
    """Values with no ties (the extremum's gradient is well defined) and away from zero."""
    magnitudes = rng.permutation(np.arange(1, np.prod(shape) + 1)) * 0.25 + 0.5
    return (magnitudes * rng.choice([-1.0, 1.0], magnitudes.shape)).reshape(shape)


REDUCTION_FNS = {
    **{name: getattr(ops, name) for name in REDUCTIONS if REDUCTIONS[name].grad is not None},
    "mean": ops.mean,
    "var": ops.var,
    "std": ops.std,
    "logsumexp": ops.logsumexp,
}
DIFFERENTIABLE_REDUCTIONS = sorted(
    name
    for name in REDUCTION_FNS
    if name not in REDUCTIONS or not isinstance(REDUCTIONS[name].grad, str)
)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 1, -1, (0, 2)])
@pytest.mark.parametrize("name", DIFFERENTIABLE_REDUCTIONS)
def test_reduction_gradient_matches_finite_differences(name, axis, keepdims, backend):
    fn = REDUCTION_FNS[name]
    value = _distinct(np.random.default_rng(5), (2, 3, 2))
    check_grad(lambda x: fn(x, axis=axis, keepdims=keepdims), [value], backend=backend)


def test_every_reduction_is_differentiable_or_says_why():
    for name, red in REDUCTIONS.items():
        assert name in DIFFERENTIABLE_REDUCTIONS or (isinstance(red.grad, str) and red.grad)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ([2.0, 3.0, 4.0], [12.0, 8.0, 6.0]),
        ([2.0, 0.0, 3.0, 4.0], [0.0, 24.0, 0.0, 0.0]),  # one zero: only it gets a gradient
        ([2.0, 0.0, 0.0, 4.0], [0.0, 0.0, 0.0, 0.0]),  # two zeros: none does
        ([0.0], [1.0]),
    ],
)
def test_prod_gradient_with_zeros_is_exact(value, expected, backend):
    x = TensorType("float64", shape=(None,))("x")
    result = compile_and_run([x], astsym.grad(ops.prod(x), x), [np.array(value)], backend)
    np.testing.assert_array_equal(result, np.array(expected))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("keepdims", [False, True])
def test_prod_gradient_with_zeros_along_an_axis(keepdims, backend):
    x = TensorType("float64", shape=(None, None))("x")
    value = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 1.0], [1.0, 2.0, 3.0]])
    weights = np.array([1.0, 10.0, 100.0]).reshape((3, 1) if keepdims else (3,))
    cost = (ops.prod(x, axis=1, keepdims=keepdims) * weights).sum()
    result = compile_and_run([x], astsym.grad(cost, x), [value], backend)
    expected = np.array([[0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [600.0, 300.0, 200.0]])
    np.testing.assert_array_equal(result, expected)


# -- rules of grad ---------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "x_type",
    [
        TensorType("float32", shape=(1, None)),
        TensorType("float32", shape=(None, 1)),
        TensorType("float32", shape=(1, 1)),
        TensorType("float32", shape=()),
        TensorType("float32", shape=(None,)),
    ],
)
def test_gradient_summed_over_broadcast_dims_has_the_variable_type(x_type, backend):
    x, y = x_type("x"), TensorType("float32", shape=(None, None))("y")
    g = astsym.grad((x * y).sum(), x)
    assert g.type == x.type
    y_value = np.arange(12, dtype=np.float32).reshape(3, 4)
    lead = 2 - x.ndim
    x_shape = tuple(1 if d == 1 else y_value.shape[lead + i] for i, d in enumerate(x_type.shape))
    result = compile_and_run([x, y], g, [np.ones(x_shape, np.float32), y_value], backend)
    # d sum(x * y) / dx: y summed over every dim along which x was stretched
    stretched = tuple(range(lead)) + tuple(lead + i for i, d in enumerate(x_shape) if d == 1)
    expected = np.sum(y_value, axis=stretched, keepdims=True).reshape(x_shape)
    assert_allclose_dtype(result, expected)


def _operands_for(name: str):
    """float64 operands where the op takes them, else int64 (the bitwise ops)."""
    op = ELEMWISE[name]
    try:
        op.output_dtype(("float64",) * op.nin)
        dtype = "float64"
    except RuleError:
        dtype = "int64"
    return [TensorType(dtype, shape=(None,))(f"x{i}") for i in range(op.nin)], dtype


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", PIECEWISE)
def test_gradient_of_piecewise_constant_op_is_zero(name, backend):
    """Only piecewise-constant paths: disconnected, an error by default, else zeros."""
    operands, dtype = _operands_for(name)
    out = ELEMWISE[name](*operands)
    cost = (cast(out, "float64") * np.array([1.0, -2.0, 3.0])).sum()
    with pytest.raises(GraphTypeError, match="piecewise-constant"):
        astsym.grad(cost, operands)
    grads = astsym.grad(cost, operands, disconnected_inputs="ignore")
    values = [np.array([0.3, -1.7, 2.5]).astype(dtype) + i for i in range(len(operands))]
    for g, var, result in zip(grads, operands, compile_and_run(operands, grads, values, backend)):
        assert g.ndim == var.ndim
        assert_allclose_dtype(result, np.zeros(3, var.dtype if dtype == "float64" else "float64"))


@pytest.mark.parametrize("backend", BACKENDS)
def test_gradient_of_comparison_inside_a_graph_is_zero(backend):
    x = TensorType("float64", shape=(None,))("x")
    cost = (x * (x > 0) + ops.floor(x)).sum()  # only the first factor carries a gradient
    value = np.array([-1.5, 0.5, 2.25])
    result = compile_and_run([x], astsym.grad(cost, x), [value], backend)
    assert_allclose_dtype(result, (value > 0).astype(np.float64))


@pytest.mark.parametrize("backend", BACKENDS)
def test_disconnected_input_raises_or_gives_zeros(backend):
    x, y = TensorType("float64", shape=(None,))("x"), TensorType("float32", shape=(None, 1))("y")
    cost = (x**2).sum()
    with pytest.raises(GraphTypeError) as info:
        astsym.grad(cost, [x, y])
    assert "does not depend on" in str(info.value) and "y" in info.value.diagnostic.message
    gx, gy = astsym.grad(cost, [x, y], disconnected_inputs="ignore")
    assert gy.type == y.type
    results = compile_and_run([x, y], [gx, gy], [np.array([1.0, 2.0]), np.ones((3, 1), "f4")])
    assert_allclose_dtype(results[0], np.array([2.0, 4.0]))
    assert_allclose_dtype(results[1], np.zeros((3, 1), np.float32))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        astsym.grad(cost, y, disconnected_inputs="warn")
    assert any("does not depend on" in str(w.message) for w in caught)


def test_gradient_of_a_non_scalar_cost_names_its_type():
    x = TensorType("float64", shape=(None, 3))("x")
    with pytest.raises(GraphTypeError) as info:
        astsym.grad(x * 2, x)
    assert info.value.diagnostic.code == "AS203"
    assert "f64[?, 3]" in info.value.diagnostic.message
