"""The stabilize rules: values stay finite where the naive formula overflows, both when
compiling and in the gradients grad builds."""

import numpy as np
import pytest

import astsym as theano
import astsym.tensor as T
from astsym.graph.fg import FunctionGraph
from astsym.graph.rewrite import GROUPS, rewrite

Z = np.array([-800.0, -40.0, -1.0, 0.0, 1.0, 40.0, 800.0])


def _ops_after_stabilize(out, inputs):
    fg = FunctionGraph(inputs, [out])
    rewrite(fg, GROUPS["stabilize"] + GROUPS["canonicalize"])
    return [n.op.name for n in fg.toposort()]


def test_formula_becomes_sigmoid():
    z = T.dvector("z")
    assert _ops_after_stabilize(1 / (1 + T.exp(-z)), [z]) == ["sigmoid"]


@pytest.mark.parametrize(
    "build, reference",
    [
        (lambda z: T.log(1 / (1 + T.exp(-z))), lambda z: -np.logaddexp(0, -z)),
        (lambda z: T.log(1 - 1 / (1 + T.exp(-z))), lambda z: -np.logaddexp(0, z)),
        (lambda z: T.log(T.sigmoid(z)), lambda z: -np.logaddexp(0, -z)),
        (
            lambda z: T.log(T.nnet.softmax(z)),
            lambda z: z - z.max() - np.log(np.exp(z - z.max()).sum()),
        ),
    ],
)
def test_compiled_values_are_finite_and_right(build, reference):
    z = T.dvector("z")
    got = theano.function([z], build(z))(Z)
    np.testing.assert_allclose(got, reference(Z), rtol=1e-12)


def test_gradient_of_log_sigmoid_formula_is_finite():
    """The tutorial's cross-entropy: d/dz of log(1 - p) with p rounding to 1."""
    z = T.dvector("z")
    p = 1 / (1 + T.exp(-z))
    cost = (T.log(p) + T.log(1 - p)).sum()
    g = theano.function([z], theano.grad(cost, z))(Z)
    sig = 0.5 * (1 + np.tanh(Z / 2))
    np.testing.assert_allclose(g, (1 - sig) - sig, atol=1e-12)


def test_expm1_and_log1p_keep_small_values():
    x = T.dscalar("x")
    f = theano.function([x], [T.exp(x) - 1, T.log(1 + x)])
    small, tiny = f(1e-12)
    assert small == pytest.approx(1e-12, rel=1e-12)
    assert tiny == pytest.approx(1e-12, rel=1e-12)


def test_grad_keeps_intermediate_wrt_variables():
    """A wrt inside the rewritten region is kept: grad with respect to p itself."""
    z = T.dvector("z")
    p = 1 / (1 + T.exp(-z))
    g = theano.function([z], theano.grad(T.log(p).sum(), p))(np.array([0.0, 1.0]))
    np.testing.assert_allclose(g, 1 / (1 / (1 + np.exp(-np.array([0.0, 1.0])))))
