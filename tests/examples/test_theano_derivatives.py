"""Theano's tutorial page "Derivatives in Theano", snippet by snippet, with only the imports
changed: computing gradients, the logistic function's derivative, the Jacobian and the
Hessian (by ``scan`` and by ``theano.gradient``), the R- and L-operators, and Hessian times
a vector. Each test checks the values the page shows.

The page also prints ``pp(gy)`` before and after optimization. Before, astsym prints its own
forms (``alloc`` where Theano writes ``fill``); after, the same ``(2.0 * x)`` as Theano.
"""

import numpy
import numpy as np

import astsym as theano
import astsym.tensor as T
from astsym import pp


def assert_array(actual, expected):
    """``actual`` is the float64 ndarray the page shows."""
    assert isinstance(actual, np.ndarray), type(actual)
    assert actual.dtype == np.float64, actual.dtype
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    np.testing.assert_allclose(actual, expected, rtol=1e-7)


# -- Computing Gradients -----------------------------------------------------------------------


def test_computing_gradients():
    x = T.dscalar("x")
    y = x**2
    gy = T.grad(y, x)
    printed = pp(gy)  # print out the gradient prior to optimization
    f = theano.function([x], gy)

    assert isinstance(printed, str) and "x" in printed
    assert pp(f.maker.fgraph.outputs[0]) == "(2.0 * x)"  # as the tutorial shows
    assert_array(f(4), 8.0)
    assert numpy.allclose(f(94.2), 188.4)


def test_gradient_of_the_logistic_function():
    x = T.dmatrix("x")
    s = T.sum(1 / (1 + T.exp(-x)))
    gs = T.grad(s, x)
    dlogistic = theano.function([x], gs)

    assert_array(dlogistic([[0, 1], [-1, -2]]), [[0.25, 0.19661193], [0.19661193, 0.10499359]])


# -- Computing the Jacobian --------------------------------------------------------------------


def test_jacobian_with_scan():
    x = T.dvector("x")
    y = x**2
    J, updates = theano.scan(
        lambda i, y, x: T.grad(y[i], x), sequences=T.arange(y.shape[0]), non_sequences=[y, x]
    )
    f = theano.function([x], J, updates=updates)

    assert_array(f([4, 4]), [[8.0, 0.0], [0.0, 8.0]])


def test_jacobian_macro():
    x = T.dvector("x")
    y = x**2
    J = theano.gradient.jacobian(y, x)
    f = theano.function([x], J)

    assert_array(f([4, 4]), [[8.0, 0.0], [0.0, 8.0]])


# -- Computing the Hessian ---------------------------------------------------------------------


def test_hessian_with_scan():
    x = T.dvector("x")
    y = x**2
    cost = y.sum()
    gy = T.grad(cost, x)
    H, updates = theano.scan(
        lambda i, gy, x: T.grad(gy[i], x), sequences=T.arange(gy.shape[0]), non_sequences=[gy, x]
    )
    f = theano.function([x], H, updates=updates)

    assert_array(f([4, 4]), [[2.0, 0.0], [0.0, 2.0]])


def test_hessian_macro():
    x = T.dvector("x")
    y = x**2
    cost = y.sum()
    H = theano.gradient.hessian(cost, x)
    f = theano.function([x], H)

    assert_array(f([4, 4]), [[2.0, 0.0], [0.0, 2.0]])


# -- Jacobian times a Vector -------------------------------------------------------------------


def test_r_operator():
    W = T.dmatrix("W")
    V = T.dmatrix("V")
    x = T.dvector("x")
    y = T.dot(x, W)
    JV = T.Rop(y, W, V)
    f = theano.function([W, V, x], JV)

    assert_array(f([[1, 1], [1, 1]], [[2, 2], [2, 2]], [0, 1]), [2.0, 2.0])


def test_l_operator():
    W = T.dmatrix("W")
    v = T.dvector("v")
    x = T.dvector("x")
    y = T.dot(x, W)
    VJ = T.Lop(y, W, v)
    f = theano.function([v, x], VJ)

    assert_array(f([2, 2], [0, 1]), [[0.0, 0.0], [2.0, 2.0]])


def test_operators_from_the_gradient_module():
    W = T.dmatrix("W")
    V = T.dmatrix("V")
    v = T.dvector("v")
    x = T.dvector("x")
    y = T.dot(x, W)
    f = theano.function([W, V, v, x], [theano.gradient.Rop(y, W, V), theano.gradient.Lop(y, W, v)])

    JV, VJ = f([[1, 1], [1, 1]], [[2, 2], [2, 2]], [2, 2], [0, 1])
    assert_array(JV, [2.0, 2.0])
    assert_array(VJ, [[0.0, 0.0], [2.0, 2.0]])


# -- Hessian times a Vector --------------------------------------------------------------------


def test_hessian_times_a_vector():
    x = T.dvector("x")
    v = T.dvector("v")
    y = T.sum(x**2)
    gy = T.grad(y, x)
    vH = T.grad(T.sum(gy * v), x)
    f = theano.function([x, v], vH)

    assert_array(f([4, 4], [2, 2]), [4.0, 4.0])


def test_hessian_times_a_vector_with_the_r_operator():
    x = T.dvector("x")
    v = T.dvector("v")
    y = T.sum(x**2)
    gy = T.grad(y, x)
    Hv = T.Rop(gy, x, v)
    f = theano.function([x, v], Hv)

    assert_array(f([4, 4], [2, 2]), [4.0, 4.0])
