"""The specialize rules: each fires where it should (and only there), and the compiled
values are NumPy's."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import astsym as theano
import astsym.tensor as T
from astsym.graph.ops import MatMul, TensorDot
from astsym.graph.rewrite import GROUPS
from astsym.runtime.mode import Mode

PY = Mode("py")


def _ops(f) -> list[str]:
    return [n.op.name for n in f.maker.fgraph.toposort()]


def _fired(f) -> list[str]:
    return [e.rule for e in f.rewrites if e.group == "specialize"]


# exponent, the ops of the specialized graph, the rule, values the power is defined on
POWERS = [
    (2, ["square"], "square_from_power", "any"),
    (0.5, ["sqrt"], "sqrt_from_power", "positive"),
    (-1, ["true_divide"], "reciprocal_from_power", "nonzero"),
    (-0.5, ["sqrt", "true_divide"], "reciprocal_sqrt_from_power", "positive"),
    (3, ["square", "multiply"], "cube_from_power", "any"),
]
DOMAINS = {
    "any": np.array([-3.5, -1.0, 0.0, 0.25, 2.0, 7.0]),
    "positive": np.array([1e-6, 0.25, 1.0, 2.0, 9.0, 1e6]),
    "nonzero": np.array([-3.5, -1.0, 0.25, 2.0, 7.0, 1e-300]),
}


@pytest.mark.parametrize("exponent, ops, name, domain", POWERS, ids=[p[2] for p in POWERS])
def test_each_power_rule_fires_and_keeps_numpy_values(exponent, ops, name, domain):
    x = T.dvector("x")
    f = theano.function([x], x**exponent, mode=PY)
    assert _ops(f) == ops
    assert _fired(f) == [name]
    values = DOMAINS[domain]
    np.testing.assert_allclose(f(values), np.power(values, exponent), rtol=1e-15)


@pytest.mark.parametrize("exponent, ops, name, domain", POWERS, ids=[p[2] for p in POWERS])
def test_without_specialize_the_power_stays(exponent, ops, name, domain):
    x = T.dvector("x")
    f = theano.function([x], x**exponent, mode=PY.excluding("specialize"))
    assert _ops(f) == ["power"]
    assert _fired(f) == []


@pytest.mark.parametrize("exponent, ops, name, domain", POWERS, ids=[p[2] for p in POWERS])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_power_rules_agree_with_numpy_on_float32_values(exponent, ops, name, domain, data):
    elements = {
        "any": st.floats(-1e3, 1e3, width=32),
        "positive": st.floats(2.0**-60, 2.0**60, width=32),
        "nonzero": st.floats(2.0**-60, 2.0**60, width=32).flatmap(
            lambda v: st.sampled_from([v, -v])
        ),
    }[domain]
    values = data.draw(hnp.arrays(np.float32, st.integers(0, 6), elements=elements))
    x = T.fvector("x")
    f = theano.function([x], x**exponent, mode=PY)
    assert _fired(f) == [name]
    got = f(values)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, np.power(values, np.float32(exponent)), rtol=3e-7)


@pytest.mark.parametrize("exponent", [2, 3])
@given(values=hnp.arrays(np.int8, st.integers(0, 6)))
def test_integer_square_and_cube_wrap_as_numpy_does(exponent, values):
    x = T.vector("x", dtype="int8")
    f = theano.function([x], x**exponent, mode=PY)
    assert "power" not in _ops(f)
    got = f(values)
    assert got.dtype == np.int8
    np.testing.assert_array_equal(got, np.power(values, np.int8(exponent)))


def test_an_integer_square_root_computes_in_float64_as_numpy_does():
    x = T.vector("x", dtype="int8")
    f = theano.function([x], x**0.5, mode=PY)
    assert _fired(f) == ["sqrt_from_power"]
    values = np.array([0, 1, 4, 100], np.int8)
    got = f(values)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, np.power(values, 0.5))


def test_an_integer_to_the_minus_one_is_left_alone():
    """NumPy refuses integers to negative integer powers; 1 / x would silently give floats."""
    x = T.ivector("x")
    f = theano.function([x], x**-1, mode=PY)
    assert _ops(f) == ["power"]


def test_other_exponents_and_variable_exponents_are_left_alone():
    x, y = T.dvectors("x", "y")
    f = theano.function([x, y], [x**2.5, x**y, x ** T.constant(np.array([2.0, 2.0]))], mode=PY)
    assert _fired(f) == []
    assert _ops(f).count("power") == 3


def test_specialized_powers_fuse_on_the_cpu_backend():
    x = T.fvector("x")
    f = theano.function([x], (x**2 + x**0.5) * 3, mode="cpu")
    assert [e.rule for e in f.rewrites if e.group == "specialize"] == [
        "square_from_power",
        "sqrt_from_power",
    ]
    values = np.array([0.5, 2.0, 9.0], np.float32)
    np.testing.assert_allclose(f(values), (values**2 + values**0.5) * 3, rtol=1e-6)


# -- a scalar factor out of a product ---------------------------------------------------------


def _products(f, op_class) -> list:
    return [n for n in f.maker.fgraph.toposort() if isinstance(n.op, op_class)]


SCALED = {
    "dot(s*A, B)": lambda s, a, b: T.dot(s * a, b),
    "dot(A*s, B)": lambda s, a, b: T.dot(a * s, b),
    "dot(A, s*B)": lambda s, a, b: T.dot(a, s * b),
    "(s*A) @ B": lambda s, a, b: (s * a) @ b,
}


@pytest.mark.parametrize("build", list(SCALED.values()), ids=list(SCALED))
def test_a_scalar_factor_leaves_the_matrix_product(build):
    s, a, b = T.dscalar("s"), T.dmatrix("a"), T.dmatrix("b")
    f = theano.function([s, a, b], build(s, a, b), mode=PY)
    (product,) = _products(f, MatMul)
    assert all(i.owner is None for i in product.inputs), "the product still takes s * A"
    assert _ops(f) == ["matmul", "multiply"]
    assert _fired(f) == ["scalar_out_of_matmul"]
    rng = np.random.default_rng(1)
    av, bv = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
    np.testing.assert_allclose(f(2.5, av, bv), 2.5 * (av @ bv), rtol=1e-13)


@settings(max_examples=30, deadline=None)
@given(
    s=st.floats(-1e3, 1e3),
    shapes=st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)),
    seed=st.integers(0, 2**16),
)
def test_the_scalar_rule_agrees_with_numpy(s, shapes, seed):
    n, k, m = shapes
    sv, a, b = T.dscalar("s"), T.dmatrix("a"), T.dmatrix("b")
    f = theano.function([sv, a, b], [T.dot(sv * a, b), T.dot(a, b * sv)], mode=PY)
    assert _fired(f) == ["scalar_out_of_matmul"] * 2
    rng = np.random.default_rng(seed)
    av, bv = rng.normal(size=(n, k)), rng.normal(size=(k, m))
    left, right = f(s, av, bv)
    np.testing.assert_allclose(left, (s * av) @ bv, rtol=1e-12, atol=1e-12 * abs(s))
    np.testing.assert_allclose(right, av @ (bv * s), rtol=1e-12, atol=1e-12 * abs(s))


def test_a_broadcastable_matrix_counts_as_a_scalar():
    s = T.TensorType("float64", shape=(1, 1))("s")
    a, v = T.dmatrix("a"), T.dvector("v")
    f = theano.function([s, a, v], T.dot(s * a, v), mode=PY)  # matrix @ vector: a vector
    assert _fired(f) == ["scalar_out_of_matmul"]
    assert f.maker.fgraph.outputs[0].type == T.dvector().type
    av, vv = np.arange(6.0).reshape(2, 3), np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(f(np.array([[3.0]]), av, vv), (3.0 * av) @ vv)


def test_a_scaled_operand_used_elsewhere_stays():
    """s * A is computed anyway: moving s out would add a pass, not save one."""
    s, a, b = T.dscalar("s"), T.dmatrix("a"), T.dmatrix("b")
    scaled = s * a
    f = theano.function([s, a, b], [T.dot(scaled, b), scaled.sum()], mode=PY)
    assert _fired(f) == []
    av, bv = np.ones((2, 2)), np.ones((2, 2))
    np.testing.assert_allclose(f(2.0, av, bv)[0], 2.0 * (av @ bv))


def test_a_factor_that_is_not_a_scalar_stays():
    a, b, c = T.dmatrices("a", "b", "c")
    f = theano.function([a, b, c], T.dot(a * c, b), mode=PY)
    assert _fired(f) == []


def test_a_scalar_of_a_wider_dtype_stays():
    """float64 s * float32 A is a float64 product: moving s out would change its dtype."""
    s, a, b = T.dscalar("s"), T.fmatrix("a"), T.fmatrix("b")
    f = theano.function([s, a, b], T.dot(s * a, b), mode=PY)
    assert _fired(f) == []


def test_a_scalar_factor_leaves_a_tensordot():
    s, a, b = T.dscalar("s"), T.dtensor3("a"), T.dmatrix("b")
    out = T.tensordot(s * a, b, axes=[[2], [0]])
    f = theano.function([s, a, b], out, mode=PY)
    (product,) = _products(f, TensorDot)
    assert all(i.owner is None for i in product.inputs)
    assert _fired(f) == ["scalar_out_of_tensordot"]
    rng = np.random.default_rng(2)
    av, bv = rng.normal(size=(2, 3, 4)), rng.normal(size=(4, 5))
    np.testing.assert_allclose(f(-1.5, av, bv), np.tensordot(-1.5 * av, bv, axes=[[2], [0]]))


def test_every_specialize_rule_states_its_algebra():
    rules = GROUPS["specialize"].rules
    assert len(rules) >= 7
    for r in rules:
        assert r.group == "specialize"
        assert "->" in (r.fn.__doc__ or ""), f"{r.name} does not state its algebra"
