"""Theano's own tutorial pages, snippet by snippet, with only the imports changed.

Pages: "Baby Steps - Algebra", "More Examples" (logistic function, several outputs, default
values with ``In``, shared variables, ``givens``, copying functions, random numbers, the
logistic-regression example), "Broadcasting" and "Shape Information". Each test keeps the
user code as the tutorial writes it (Python 3 ``print``) and checks the values the tutorial
shows; NumPy 2 prints arrays more tightly than the tutorial's NumPy did, so values are
compared, not their printed form.
"""

import numpy
import numpy as np
import pytest

import astsym as theano
import astsym.tensor as T
from astsym import In, function, pp, shared
from astsym.sandbox.rng_mrg import MRG_RandomStreams
from astsym.tensor.shared_randomstreams import RandomStreams


def assert_array(actual, expected, dtype="float64"):
    """``actual`` is the ndarray the tutorial shows: same dtype, shape and values."""
    assert isinstance(actual, np.ndarray)
    assert actual.dtype == dtype
    expected = np.asarray(expected)
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=1e-7)


# -- Baby Steps - Algebra ----------------------------------------------------------------------


def test_adding_two_scalars():
    x = T.dscalar("x")
    y = T.dscalar("y")
    z = x + y
    f = function([x, y], z)

    assert_array(f(2, 3), 5.0)
    assert numpy.allclose(f(16.3, 12.1), 28.4)


def test_adding_two_scalars_types_and_pp():
    x = T.dscalar("x")
    y = T.dscalar("y")
    assert isinstance(x, T.TensorVariable)
    assert str(x.type) == "TensorType(float64, scalar)"
    assert str(T.dscalar) == "TensorType(float64, scalar)"
    assert x.type is T.dscalar

    z = x + y
    assert pp(z) == "(x + y)"


def test_adding_two_scalars_with_eval():
    x = T.dscalar("x")
    y = T.dscalar("y")
    z = x + y
    assert numpy.allclose(z.eval({x: 16.3, y: 12.1}), 28.4)


def test_adding_two_matrices():
    x = T.dmatrix("x")
    y = T.dmatrix("y")
    z = x + y
    f = function([x, y], z)

    expected = [[11.0, 22.0], [33.0, 44.0]]
    assert_array(f([[1, 2], [3, 4]], [[10, 20], [30, 40]]), expected)
    assert_array(f(numpy.array([[1, 2], [3, 4]]), numpy.array([[10, 20], [30, 40]])), expected)


@pytest.mark.parametrize(
    "prefix, dtype",
    [
        ("b", "int8"),
        ("w", "int16"),
        ("i", "int32"),
        ("l", "int64"),
        ("f", "float32"),
        ("d", "float64"),
        ("c", "complex64"),
    ],
)
def test_the_available_types(prefix, dtype):
    kinds = ["scalar", "vector", "matrix", "row", "col"] + [f"tensor{n}" for n in range(3, 8)]
    for kind, ndim in zip(kinds, [0, 1, 2, 2, 2, 3, 4, 5, 6, 7]):
        v = getattr(T, prefix + kind)()
        assert (v.type.dtype, v.ndim) == (dtype, ndim)


def test_algebra_exercise(capsys):
    a = theano.tensor.vector()  # declare variable
    out = a + a**10  # build symbolic expression
    f = theano.function([a], out)  # compile function
    print(f([0, 1, 2]))

    assert capsys.readouterr().out.split() == ["[", "0.", "2.", "1026.]"]
    assert_array(f([0, 1, 2]), [0.0, 2.0, 1026.0])


def test_algebra_exercise_solution(capsys):
    a = theano.tensor.vector()  # declare variable
    b = theano.tensor.vector()  # declare variable
    out = a**2 + b**2 + 2 * a * b  # build symbolic expression
    f = theano.function([a, b], out)  # compile function
    print(f([1, 2], [4, 5]))  # prints [ 25.  49.]

    assert capsys.readouterr().out.split() == ["[25.", "49.]"]


# -- More Examples -----------------------------------------------------------------------------


def test_logistic_function():
    x = T.dmatrix("x")
    s = 1 / (1 + T.exp(-x))
    logistic = theano.function([x], s)

    expected = [[0.5, 0.73105858], [0.26894142, 0.11920292]]
    np.testing.assert_allclose(logistic([[0, 1], [-1, -2]]), expected, rtol=1e-7)

    s2 = (1 + T.tanh(x / 2)) / 2
    logistic2 = theano.function([x], s2)
    np.testing.assert_allclose(logistic2([[0, 1], [-1, -2]]), expected, rtol=1e-7)


def test_computing_more_than_one_thing_at_the_same_time():
    a, b = T.dmatrices("a", "b")
    diff = a - b
    abs_diff = abs(diff)
    diff_squared = diff**2
    f = theano.function([a, b], [diff, abs_diff, diff_squared])

    out = f([[1, 1], [1, 1]], [[0, 1], [2, 3]])
    assert isinstance(out, list) and len(out) == 3
    assert_array(out[0], [[1.0, 0.0], [-1.0, -2.0]])
    assert_array(out[1], [[1.0, 0.0], [1.0, 2.0]])
    assert_array(out[2], [[1.0, 0.0], [1.0, 4.0]])


def test_setting_a_default_value_for_an_argument():
    x, y = T.dscalars("x", "y")
    z = x + y
    f = function([x, In(y, value=1)], z)

    assert_array(f(33), 34.0)
    assert_array(f(33, 2), 35.0)


def test_default_values_by_position_and_by_name():
    x, y, w = T.dscalars("x", "y", "w")
    z = (x + y) * w
    f = function([x, In(y, value=1), In(w, value=2, name="w_by_name")], z)

    assert_array(f(33), 68.0)
    assert_array(f(33, 2), 70.0)
    assert_array(f(33, 0, 1), 33.0)
    assert_array(f(33, w_by_name=1), 34.0)
    assert_array(f(33, w_by_name=1, y=0), 33.0)


def test_using_shared_variables(capsys):
    state = shared(0)
    inc = T.iscalar("inc")
    accumulator = function([inc], state, updates=[(state, state + inc)])

    print(state.get_value())
    assert_array(accumulator(1), 0, "int64")
    print(state.get_value())
    assert_array(accumulator(300), 1, "int64")
    print(state.get_value())
    assert capsys.readouterr().out.split() == ["0", "1", "301"]

    state.set_value(-1)
    assert_array(accumulator(3), -1, "int64")
    print(state.get_value())
    assert capsys.readouterr().out == "2\n"

    decrementor = function([inc], state, updates=[(state, state - inc)])
    assert_array(decrementor(2), 2, "int64")
    print(state.get_value())
    assert capsys.readouterr().out == "0\n"

    fn_of_state = state * 2 + inc
    # The type of foo must match the shared variable we are replacing
    # with the ``givens``
    foo = T.scalar(dtype=state.dtype)
    skip_shared = function([inc, foo], fn_of_state, givens=[(state, foo)])
    assert_array(skip_shared(1, 3), 7, "int64")  # we're using 3 for the state, not state.value
    print(state.get_value())  # old state still there, but we didn't use it
    assert capsys.readouterr().out == "0\n"


def test_copying_functions(capsys):
    state = theano.shared(0)
    inc = T.iscalar("inc")
    accumulator = theano.function([inc], state, updates=[(state, state + inc)])
    assert_array(accumulator(10), 0, "int64")
    print(state.get_value())
    assert capsys.readouterr().out == "10\n"

    new_state = theano.shared(0)
    new_accumulator = accumulator.copy(swap={state: new_state})
    # Theano 0.9 shows [array(0)] here: its copies returned a list; astsym returns what the
    # original returns
    assert_array(new_accumulator(100), 0, "int64")
    print(new_state.get_value())
    print(state.get_value())
    assert capsys.readouterr().out == "100\n10\n"

    null_accumulator = accumulator.copy(delete_updates=True)
    assert_array(null_accumulator(9000), 10, "int64")  # Theano 0.9: [array(10)]
    print(state.get_value())
    assert capsys.readouterr().out == "10\n"


def test_random_numbers_brief_example():
    srng = RandomStreams(seed=234)
    rv_u = srng.uniform((2, 2))
    rv_n = srng.normal((2, 2))
    f = function([], rv_u)
    g = function([], rv_n, no_default_updates=True)  # Not updating rv_n.rng
    nearly_zeros = function([], rv_u + rv_u - 2 * rv_u)

    f_val0 = f()
    f_val1 = f()  # different numbers from f_val0
    assert f_val0.shape == (2, 2) and np.all((f_val0 >= 0) & (f_val0 < 1))
    assert not np.allclose(f_val0, f_val1)

    g_val0 = g()  # different numbers from f_val0 and f_val1
    g_val1 = g()  # same numbers as g_val0!
    np.testing.assert_array_equal(g_val0, g_val1)
    assert not np.allclose(g_val0, f_val0)

    np.testing.assert_allclose(nearly_zeros(), np.zeros((2, 2)), atol=1e-12)


def test_random_numbers_seeding_and_sharing_streams():
    srng = RandomStreams(seed=234)
    rv_u = srng.uniform((2, 2))
    f = function([], rv_u)
    nearly_zeros = function([], rv_u + rv_u - 2 * rv_u)

    rng_val = rv_u.rng.get_value(borrow=True)  # Get the rng for rv_u
    rng_val.seed(89234)  # seeds the generator
    rv_u.rng.set_value(rng_val, borrow=True)  # Assign back seeded rng
    srng.seed(902340)  # seeds rv_u and rv_n with different seeds each

    state_after_v0 = rv_u.rng.get_value().get_state()
    np.testing.assert_allclose(nearly_zeros(), [[0.0, 0.0], [0.0, 0.0]])  # affects rv_u's rng
    v1 = f()
    rng = rv_u.rng.get_value(borrow=True)
    rng.set_state(state_after_v0)
    rv_u.rng.set_value(rng, borrow=True)
    v2 = f()  # v2 != v1
    v3 = f()  # v3 == v1
    assert not np.allclose(v1, v2)
    np.testing.assert_array_equal(v3, v1)


def test_copying_random_state_between_graphs():
    class Graph:
        def __init__(self, seed=123):
            self.rng = RandomStreams(seed)
            self.y = self.rng.uniform(size=(1,))

    g1 = Graph(seed=123)
    f1 = theano.function([], g1.y)

    g2 = Graph(seed=987)
    f2 = theano.function([], g2.y)

    # By default, the two functions are out of sync.
    np.testing.assert_allclose(f1(), [0.72803009])
    np.testing.assert_allclose(f2(), [0.55056769])

    def copy_random_state(g1, g2):
        if isinstance(g1.rng, MRG_RandomStreams):
            g2.rng.rstate = g1.rng.rstate
        for su1, su2 in zip(g1.rng.state_updates, g2.rng.state_updates):
            su2[0].set_value(su1[0].get_value())

    # We now copy the state of the theano random number generators.
    copy_random_state(g1, g2)
    np.testing.assert_allclose(f1(), [0.59044123])
    np.testing.assert_allclose(f2(), [0.59044123])


@pytest.mark.slow
def test_a_real_example_logistic_regression(capsys):
    rng = numpy.random

    N = 400  # training sample size
    feats = 784  # number of input variables

    # generate a dataset: D = (input_values, target_class)
    D = (rng.randn(N, feats), rng.randint(size=N, low=0, high=2))
    training_steps = 10000

    # Declare Theano symbolic variables
    x = T.dmatrix("x")
    y = T.dvector("y")

    # initialize the weight vector w randomly
    #
    # this and the following bias variable b
    # are shared so they keep their values
    # between training iterations (updates)
    w = theano.shared(rng.randn(feats), name="w")

    # initialize the bias term
    b = theano.shared(0.0, name="b")

    print("Initial model:")
    print(w.get_value())
    print(b.get_value())

    # Construct Theano expression graph
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))  # Probability that target = 1
    prediction = p_1 > 0.5  # The prediction thresholded
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)  # Cross-entropy loss function
    cost = xent.mean() + 0.01 * (w**2).sum()  # The cost to minimize
    gw, gb = T.grad(cost, [w, b])  # Compute the gradient of the cost
    # w.r.t weight vector w and
    # bias term b
    # (we shall return to this in a
    # following section of this tutorial)

    # Compile
    train = theano.function(
        inputs=[x, y],
        outputs=[prediction, xent],
        updates=((w, w - 0.1 * gw), (b, b - 0.1 * gb)),
    )
    predict = theano.function(inputs=[x], outputs=prediction)

    # Train
    for i in range(training_steps):  # noqa: B007
        pred, err = train(D[0], D[1])

    print("Final model:")
    print(w.get_value())
    print(b.get_value())
    print("target values for D:")
    print(D[1])
    print("prediction on D:")
    print(predict(D[0]))

    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Initial model:" and "Final model:" in lines
    assert np.all(np.isfinite(w.get_value())) and np.isfinite(b.get_value())
    # 400 points in 784 dimensions are separable: the trained model fits them all
    np.testing.assert_array_equal(predict(D[0]), D[1])


# -- Broadcasting ------------------------------------------------------------------------------


def test_broadcasting_a_row():
    r = T.row()
    assert r.broadcastable == (True, False)
    mtr = T.matrix()
    assert mtr.broadcastable == (False, False)
    f_row = theano.function([r, mtr], [r + mtr])
    R = np.arange(3).reshape(1, 3)
    np.testing.assert_array_equal(R, [[0, 1, 2]])
    M = np.arange(9).reshape(3, 3)
    np.testing.assert_array_equal(M, [[0, 1, 2], [3, 4, 5], [6, 7, 8]])

    out = f_row(R, M)
    assert isinstance(out, list) and len(out) == 1
    assert_array(out[0], [[0.0, 2.0, 4.0], [3.0, 5.0, 7.0], [6.0, 8.0, 10.0]])


def test_broadcasting_a_col():
    mtr = T.matrix()
    c = T.col()
    assert c.broadcastable == (False, True)
    f_col = theano.function([c, mtr], [c + mtr])
    C = np.arange(3).reshape(3, 1)
    np.testing.assert_array_equal(C, [[0], [1], [2]])
    M = np.arange(9).reshape(3, 3)

    out = f_col(C, M)
    assert isinstance(out, list) and len(out) == 1
    assert_array(out[0], [[0.0, 1.0, 2.0], [4.0, 5.0, 6.0], [8.0, 9.0, 10.0]])


# -- Shape Information -------------------------------------------------------------------------


def test_shape_without_computing_the_values(capsys):
    x = theano.tensor.matrix("x")
    f = theano.function([x], (x**2).shape)
    theano.printing.debugprint(f)

    # MakeVector of Shape_i{0}, Shape_i{1} of x: no multiplication or power is left
    text = capsys.readouterr().out
    assert text.splitlines()[0].startswith("makevector")
    assert text.count("shapei") == 2
    assert not any(op in text for op in ("pow", "power", "square", "multiply"))
    assert_array(f(np.ones((5, 4))), [5, 4], "int64")


def test_shape_inference_problem_with_join(capsys):
    x = theano.tensor.matrix("x")
    y = theano.tensor.matrix("y")
    z = theano.tensor.join(0, x, y)
    xv = numpy.random.rand(5, 4)
    yv = numpy.random.rand(3, 3)

    f = theano.function([x, y], z.shape)
    theano.printing.debugprint(f)
    text = capsys.readouterr().out
    assert "join" not in text and text.count("shapei") == 3 and "add" in text
    np.testing.assert_array_equal(f(xv, yv), [8, 4])  # DOES NOT RAISE AN ERROR AS SHOULD BE.

    f = theano.function([x, y], z)  # Do not take the shape.
    theano.printing.debugprint(f)
    assert "join" in capsys.readouterr().out
    with pytest.raises(Exception, match="join"):
        f(xv, yv)  # Raise a dimensions mismatch error.


def test_shape_inference_problem_is_caught_in_fast_compile():
    x = theano.tensor.matrix("x")
    y = theano.tensor.matrix("y")
    z = theano.tensor.join(0, x, y)
    f = theano.function([x, y], z.shape, mode="FAST_COMPILE")
    with pytest.raises(Exception, match="join"):
        f(numpy.random.rand(5, 4), numpy.random.rand(3, 3))


def test_specifying_exact_shape(capsys):
    x = theano.tensor.matrix()
    x_specify_shape = theano.tensor.specify_shape(x, (2, 2))
    f = theano.function([x], (x_specify_shape**2).shape)
    theano.printing.debugprint(f)

    # the whole function is the constant [2, 2]
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("TensorConstant{")
    assert_array(f(np.ones((2, 2))), [2, 2], "int64")
