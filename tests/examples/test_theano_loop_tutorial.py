"""Theano's "Loop" tutorial page (scan) and the scan library reference, snippet by snippet.

Each test keeps the user code as the page writes it (Python 3 ``print``), with only the
imports changed, and checks what the page shows. Where the page prints astsym's result and
then NumPy's, the two printed blocks must be the same text; the values are also compared
with the page's output (NumPy 2 prints arrays more tightly than the page's NumPy did).
"""

import numpy
import numpy as np
import pytest

import astsym as theano
import astsym.tensor as T


def printed_twice(capsys) -> str:
    """The text printed by ``print(theano_result); print(numpy_result)``: both halves equal."""
    lines = capsys.readouterr().out.splitlines()
    half = len(lines) // 2
    assert len(lines) == 2 * half and half > 0, lines
    first, second = "\n".join(lines[:half]), "\n".join(lines[half:])
    assert first == second, f"astsym printed\n{first}\nbut NumPy printed\n{second}"
    return first


def assert_values(actual, expected, dtype="float64"):
    assert isinstance(actual, np.ndarray), type(actual)
    assert actual.dtype == dtype, actual.dtype
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    np.testing.assert_allclose(actual, expected, rtol=1e-7, atol=1e-8)


# -- the tutorial page "Loop" ----------------------------------------------------------------


def test_tanh_of_x_dot_w_plus_b_elementwise(capsys):
    # defining the tensor variables
    X = T.matrix("X")
    W = T.matrix("W")
    b_sym = T.vector("b_sym")

    results, updates = theano.scan(lambda v: T.tanh(T.dot(v, W) + b_sym), sequences=X)
    compute_elementwise = theano.function(inputs=[X, W, b_sym], outputs=results)

    # test values
    x = np.eye(2, dtype=theano.config.floatX)
    w = np.ones((2, 2), dtype=theano.config.floatX)
    b = np.ones((2), dtype=theano.config.floatX)
    b[1] = 2

    print(compute_elementwise(x, w, b))

    # comparison with numpy
    print(np.tanh(x.dot(w) + b))

    printed_twice(capsys)
    assert updates == {}
    expected = [[0.96402758, 0.99505475], [0.96402758, 0.99505475]]
    assert_values(compute_elementwise(x, w, b), expected)


def test_sequence_with_a_recurrent_state_and_a_reversed_sequence(capsys):
    """x(t) = tanh(x(t - 1).dot(W) + y(t).dot(U) + p(T - t).dot(V))."""
    # define tensor variables
    X = T.vector("X")
    W = T.matrix("W")
    b_sym = T.vector("b_sym")  # noqa: F841 - on the page, unused
    U = T.matrix("U")
    Y = T.matrix("Y")
    V = T.matrix("V")
    P = T.matrix("P")

    results, updates = theano.scan(
        lambda y, p, x_tm1: T.tanh(T.dot(x_tm1, W) + T.dot(y, U) + T.dot(p, V)),
        sequences=[Y, P[::-1]],
        outputs_info=[X],
    )
    compute_seq = theano.function(inputs=[X, W, Y, U, P, V], outputs=results)

    # test values
    x = np.zeros((2), dtype=theano.config.floatX)
    x[1] = 1
    w = np.ones((2, 2), dtype=theano.config.floatX)
    y = np.ones((5, 2), dtype=theano.config.floatX)
    y[0, :] = -3
    u = np.ones((2, 2), dtype=theano.config.floatX)
    p = np.ones((5, 2), dtype=theano.config.floatX)
    p[0, :] = 3
    v = np.ones((2, 2), dtype=theano.config.floatX)

    print(compute_seq(x, w, y, u, p, v))

    # comparison with numpy
    x_res = np.zeros((5, 2), dtype=theano.config.floatX)
    x_res[0] = np.tanh(x.dot(w) + y[0].dot(u) + p[4].dot(v))
    for i in range(1, 5):
        x_res[i] = np.tanh(x_res[i - 1].dot(w) + y[i].dot(u) + p[4 - i].dot(v))
    print(x_res)

    printed_twice(capsys)
    column = [-0.99505475, 0.96471973, 0.99998585, 0.99998771, 1.0]
    assert_values(compute_seq(x, w, y, u, p, v), np.stack([column, column], axis=1))


def test_norms_of_lines(capsys):
    # define tensor variable
    X = T.matrix("X")
    results, updates = theano.scan(lambda x_i: T.sqrt((x_i**2).sum()), sequences=[X])
    compute_norm_lines = theano.function(inputs=[X], outputs=results)

    # test value
    x = np.diag(np.arange(1, 6, dtype=theano.config.floatX), 1)
    print(compute_norm_lines(x))

    # comparison with numpy
    print(np.sqrt((x**2).sum(1)))

    printed_twice(capsys)
    assert_values(compute_norm_lines(x), [1, 2, 3, 4, 5, 0])


def test_norms_of_columns(capsys):
    # define tensor variable
    X = T.matrix("X")
    results, updates = theano.scan(lambda x_i: T.sqrt((x_i**2).sum()), sequences=[X.T])
    compute_norm_cols = theano.function(inputs=[X], outputs=results)

    # test value
    x = np.diag(np.arange(1, 6, dtype=theano.config.floatX), 1)
    print(compute_norm_cols(x))

    # comparison with numpy
    print(np.sqrt((x**2).sum(0)))

    printed_twice(capsys)
    assert_values(compute_norm_cols(x), [0, 1, 2, 3, 4, 5])


def test_trace(capsys):
    floatX = "float32"

    # define tensor variable
    X = T.matrix("X")
    results, updates = theano.scan(
        lambda i, j, t_f: T.cast(X[i, j] + t_f, floatX),
        sequences=[T.arange(X.shape[0]), T.arange(X.shape[1])],
        outputs_info=np.asarray(0.0, dtype=floatX),
    )
    result = results[-1]
    compute_trace = theano.function(inputs=[X], outputs=result)

    # test value
    x = np.eye(5, dtype=theano.config.floatX)
    x[0] = np.arange(5, dtype=theano.config.floatX)
    print(compute_trace(x))

    # comparison with numpy
    print(np.diagonal(x).sum())

    assert printed_twice(capsys) == "4.0"
    assert_values(compute_trace(x), 4.0, "float32")
    # the trace of a non-square matrix: the shorter arange decides the number of steps
    assert compute_trace(np.arange(12.0).reshape(3, 4)) == 0 + 5 + 10


def test_two_taps_on_the_output(capsys):
    """x(t) = x(t - 2).dot(U) + x(t - 1).dot(V) + tanh(x(t - 1).dot(W) + b)."""
    # define tensor variables
    X = T.matrix("X")
    W = T.matrix("W")
    b_sym = T.vector("b_sym")
    U = T.matrix("U")
    V = T.matrix("V")
    n_sym = T.iscalar("n_sym")

    results, updates = theano.scan(
        lambda x_tm2, x_tm1: T.dot(x_tm2, U) + T.dot(x_tm1, V) + T.tanh(T.dot(x_tm1, W) + b_sym),
        n_steps=n_sym,
        outputs_info=[dict(initial=X, taps=[-2, -1])],
    )
    compute_seq2 = theano.function(inputs=[X, U, V, W, b_sym, n_sym], outputs=results)

    # test values
    x = np.zeros(
        (2, 2), dtype=theano.config.floatX
    )  # the initial value must be able to return x[-2]
    x[1, 1] = 1
    w = 0.5 * np.ones((2, 2), dtype=theano.config.floatX)
    u = 0.5 * (np.ones((2, 2), dtype=theano.config.floatX) - np.eye(2, dtype=theano.config.floatX))
    v = 0.5 * np.ones((2, 2), dtype=theano.config.floatX)
    n = 10
    b = np.ones((2), dtype=theano.config.floatX)

    print(compute_seq2(x, u, v, w, b, n))

    # comparison with numpy
    x_res = np.zeros((10, 2))
    x_res[0] = x[0].dot(u) + x[1].dot(v) + np.tanh(x[1].dot(w) + b)
    x_res[1] = x[1].dot(u) + x_res[0].dot(v) + np.tanh(x_res[0].dot(w) + b)
    x_res[2] = x_res[0].dot(u) + x_res[1].dot(v) + np.tanh(x_res[1].dot(w) + b)
    for i in range(2, 10):
        x_res[i] = x_res[i - 2].dot(u) + x_res[i - 1].dot(v) + np.tanh(x_res[i - 1].dot(w) + b)
    print(x_res)

    printed_twice(capsys)
    shown = [
        [1.40514825, 1.40514825],
        [2.88898899, 2.38898899],
        [4.34018291, 4.34018291],
        [6.53463142, 6.78463142],
        [9.82972243, 9.82972243],
        [14.22203814, 14.09703814],
        [20.07439936, 20.07439936],
        [28.12291843, 28.18541843],
        [39.1913681, 39.1913681],
        [54.28407732, 54.25282732],
    ]
    assert_values(compute_seq2(x, u, v, w, b, n), shown)
    assert_values(compute_seq2(x, u, v, w, b, 3), shown[:3])


def test_jacobian_of_tanh_v_dot_a(capsys):
    # define tensor variables
    v = T.vector()
    A = T.matrix()
    y = T.tanh(T.dot(v, A))
    results, updates = theano.scan(lambda i: T.grad(y[i], v), sequences=[T.arange(y.shape[0])])
    compute_jac_t = theano.function(
        [A, v], results, allow_input_downcast=True
    )  # shape (d_out, d_in)

    # test values
    x = np.eye(5, dtype=theano.config.floatX)[0]
    w = np.eye(5, 3, dtype=theano.config.floatX)
    w[2] = np.ones((3), dtype=theano.config.floatX)
    print(compute_jac_t(w, x))

    # compare with numpy
    print(((1 - np.tanh(x.dot(w)) ** 2) * w).T)

    printed_twice(capsys)
    shown = [
        [0.41997434, 0.0, 0.41997434, 0.0, 0.0],
        [0.0, 1.0, 1.0, 0.0, 0.0],
        [0.0, 0.0, 1.0, 0.0, 0.0],
    ]
    assert_values(compute_jac_t(w, x), shown)


def test_accumulate_number_of_loops_during_a_scan():
    # define shared variables
    k = theano.shared(0)
    n_sym = T.iscalar("n_sym")

    results, updates = theano.scan(lambda: {k: (k + 1)}, n_steps=n_sym)
    accumulator = theano.function([n_sym], [], updates=updates, allow_input_downcast=True)

    assert k.get_value() == 0
    assert accumulator(5) == []
    assert k.get_value() == 5
    accumulator(0)
    assert k.get_value() == 5
    accumulator(2)
    assert k.get_value() == 7


def test_binomial_noise_drawn_outside_the_step_is_redrawn_at_every_step():
    """Theano's page shows a different binomial ``d`` on every row: the step's graph reads
    ``d``'s generator, which scan advances once per step (and returns in ``updates``); the
    page's note says to pass ``d`` as a non-sequence to keep one draw for the whole loop."""
    # define tensor variables
    X = T.matrix("X")
    W = T.matrix("W")
    b_sym = T.vector("b_sym")

    # define shared random stream
    trng = T.shared_randomstreams.RandomStreams(1234)
    d = trng.binomial(size=W[1].shape)

    results, updates = theano.scan(lambda v: T.tanh(T.dot(v, W) + b_sym) * d, sequences=X)
    compute_with_bnoise = theano.function(
        inputs=[X, W, b_sym], outputs=results, updates=updates, allow_input_downcast=True
    )
    x = np.eye(10, 2, dtype=theano.config.floatX)
    w = np.ones((2, 2), dtype=theano.config.floatX)
    b = np.ones((2), dtype=theano.config.floatX)

    print(compute_with_bnoise(x, w, b))

    out = compute_with_bnoise(x, w, b)
    noise = out / np.tanh(x.dot(w) + b)
    assert set(np.unique(noise)) <= {0.0, 1.0}, "each row is tanh(...) times a 0/1 draw"
    assert len({tuple(row) for row in noise}) > 1, (
        "scan used one binomial draw for all 10 steps: a random variable read inside the "
        "step must be redrawn at every step (its generator's default update becomes a "
        f"per-step update of the scan), as Theano's output shows; scan returned updates={updates}"
    )


def test_binomial_noise_passed_as_a_non_sequence_is_drawn_once_per_call():
    X = T.matrix("X")
    W = T.matrix("W")
    b_sym = T.vector("b_sym")
    trng = T.shared_randomstreams.RandomStreams(1234)
    d = trng.binomial(size=W[1].shape)

    results, updates = theano.scan(
        lambda v, d: T.tanh(T.dot(v, W) + b_sym) * d, sequences=X, non_sequences=d
    )
    compute_with_bnoise = theano.function(
        inputs=[X, W, b_sym], outputs=results, updates=updates, allow_input_downcast=True
    )
    x = np.eye(10, 2, dtype=theano.config.floatX)
    w = np.ones((2, 2), dtype=theano.config.floatX)
    b = np.ones((2), dtype=theano.config.floatX)
    calls = [compute_with_bnoise(x, w, b) / np.tanh(x.dot(w) + b) for _ in range(8)]
    for noise in calls:
        assert set(np.unique(noise)) <= {0.0, 1.0}
        assert len({tuple(row) for row in noise}) == 1, "one draw for every step of a call"
    assert len({tuple(noise[0]) for noise in calls}) > 1, "a new draw at every call"


def test_power_a_k(capsys):
    theano.config.warn.subtensor_merge_bug = False

    k = T.iscalar("k")
    A = T.vector("A")

    def inner_fct(prior_result, B):
        return prior_result * B

    # Symbolic description of the result
    result, updates = theano.scan(
        fn=inner_fct, outputs_info=T.ones_like(A), non_sequences=A, n_steps=k
    )

    # Scan has provided us with A ** 1 through A ** k.  Keep only the last
    # value. Scan notices this and does not waste memory saving them.
    final_result = result[-1]

    power = theano.function(inputs=[A, k], outputs=final_result, updates=updates)

    print(power(range(10), 2))

    assert_values(power(range(10), 2), [0.0, 1.0, 4.0, 9.0, 16.0, 25.0, 36.0, 49.0, 64.0, 81.0])
    assert capsys.readouterr().out == str(np.arange(10.0) ** 2) + "\n"


def test_calculating_a_polynomial(capsys):
    coefficients = theano.tensor.vector("coefficients")
    x = T.scalar("x")
    max_coefficients_supported = 10000

    # Generate the components of the polynomial
    full_range = theano.tensor.arange(max_coefficients_supported)
    components, updates = theano.scan(
        fn=lambda coeff, power, free_var: coeff * (free_var**power),
        outputs_info=None,
        sequences=[coefficients, full_range],
        non_sequences=x,
    )

    polynomial = components.sum()
    calculate_polynomial = theano.function(inputs=[coefficients, x], outputs=polynomial)

    test_coeff = numpy.asarray([1, 0, 2], dtype=numpy.float32)
    print(calculate_polynomial(test_coeff, 3))

    assert capsys.readouterr().out == "19.0\n"
    assert_values(calculate_polynomial(test_coeff, 3), 19.0)
    # the shortest sequence decides the number of steps
    assert calculate_polynomial(numpy.ones(7, numpy.float32), 2) == 2**7 - 1


def test_exercise_reduction_done_by_scan(capsys):
    """The exercise: the polynomial with the sum accumulated by scan itself."""
    coefficients = T.vector("coefficients")
    x = T.scalar("x")
    max_coefficients_supported = 10000

    # Generate the components of the polynomial
    full_range = T.arange(max_coefficients_supported)

    outputs_info = T.as_tensor_variable(numpy.asarray(0, "float64"))

    components, updates = theano.scan(
        fn=lambda coeff, power, prior_value, free_var: prior_value + (coeff * (free_var**power)),
        sequences=[coefficients, full_range],
        outputs_info=outputs_info,
        non_sequences=x,
    )

    polynomial = components[-1]
    calculate_polynomial = theano.function(
        inputs=[coefficients, x], outputs=polynomial, updates=updates
    )

    test_coeff = numpy.asarray([1, 0, 2], dtype=numpy.float32)
    print(calculate_polynomial(test_coeff, 3))

    assert capsys.readouterr().out == "19.0\n"
    assert_values(calculate_polynomial(test_coeff, 3), 19.0)
    assert_values(components.eval({coefficients: test_coeff, x: 3.0}), [1.0, 1.0, 19.0])


# -- the library reference "scan -- Looping in Theano" ----------------------------------------


def test_library_power_a_k(capsys):
    k = T.iscalar("k")
    A = T.vector("A")

    # Symbolic description of the result
    result, updates = theano.scan(
        fn=lambda prior_result, A: prior_result * A,
        outputs_info=T.ones_like(A),
        non_sequences=A,
        n_steps=k,
    )

    # We only care about A**k, but scan has provided us with A**1 through A**k.
    # Discard the values that we don't care about. Scan is smart enough to
    # notice this and not waste memory saving them.
    final_result = result[-1]

    # compiled function that returns A**k
    power = theano.function(inputs=[A, k], outputs=final_result, updates=updates)

    print(power(range(10), 2))
    print(power(range(10), 4))

    expected = [np.arange(10.0) ** 2, np.arange(10.0) ** 4]
    assert capsys.readouterr().out == "".join(f"{e}\n" for e in expected)
    assert_values(power(range(10), 4), expected[1])


def test_library_polynomial(capsys):
    coefficients = theano.tensor.vector("coefficients")
    x = T.scalar("x")

    max_coefficients_supported = 10000

    # Generate the components of the polynomial
    components, updates = theano.scan(
        fn=lambda coefficient, power, free_variable: coefficient * (free_variable**power),
        outputs_info=None,
        sequences=[coefficients, theano.tensor.arange(max_coefficients_supported)],
        non_sequences=x,
    )
    # Sum them up
    polynomial = components.sum()

    # Compile a function
    calculate_polynomial = theano.function(inputs=[coefficients, x], outputs=polynomial)

    # Test
    test_coefficients = numpy.asarray([1, 0, 2], dtype=numpy.float32)
    test_value = 3
    print(calculate_polynomial(test_coefficients, test_value))
    print(1.0 * (3**0) + 0.0 * (3**1) + 2.0 * (3**2))

    assert printed_twice(capsys) == "19.0"


def test_library_accumulation_into_a_scalar_ditching_lambda(capsys):
    up_to = T.iscalar("up_to")

    # define a named function, rather than using lambda
    def accumulate_by_adding(arange_val, sum_to_date):
        return sum_to_date + arange_val

    seq = T.arange(up_to)

    # An unauthorized implicit downcast from the dtype of 'seq', to that of
    # 'T.as_tensor_variable(0)' which is of dtype 'int8' by default would occur
    # if this instruction were to be used instead of the next one:
    # outputs_info = T.as_tensor_variable(0)

    outputs_info = T.as_tensor_variable(np.asarray(0, seq.dtype))
    scan_result, scan_updates = theano.scan(
        fn=accumulate_by_adding, outputs_info=outputs_info, sequences=seq
    )
    triangular_sequence = theano.function(inputs=[up_to], outputs=scan_result)

    # test
    some_num = 15
    print(triangular_sequence(some_num))
    print([n * (n + 1) // 2 for n in range(some_num)])

    triangle = [n * (n + 1) // 2 for n in range(some_num)]
    assert capsys.readouterr().out.splitlines()[-1] == str(triangle)
    result = triangular_sequence(some_num)
    assert result.dtype == seq.dtype
    np.testing.assert_array_equal(result, triangle)
    assert triangular_sequence(0).shape == (0,)


def test_library_another_simple_example_set_value_at_position():
    location = T.imatrix("location")
    values = T.vector("values")
    output_model = T.matrix("output_model")

    def set_value_at_position(a_location, a_value, output_model):
        zeros = T.zeros_like(output_model)
        zeros_subtensor = zeros[a_location[0], a_location[1]]
        return T.set_subtensor(zeros_subtensor, a_value)

    result, updates = theano.scan(
        fn=set_value_at_position,
        outputs_info=None,
        sequences=[location, values],
        non_sequences=output_model,
    )

    assign_values_at_positions = theano.function(
        inputs=[location, values, output_model], outputs=result
    )

    # test
    test_locations = numpy.asarray([[1, 1], [2, 3]], dtype=numpy.int32)
    test_values = numpy.asarray([42, 50], dtype=numpy.float32)
    test_output_model = numpy.zeros((5, 5), dtype=numpy.float32)
    print(assign_values_at_positions(test_locations, test_values, test_output_model))

    expected = np.zeros((2, 5, 5))
    expected[0, 1, 1], expected[1, 2, 3] = 42, 50
    assert_values(
        assign_values_at_positions(test_locations, test_values, test_output_model), expected
    )


def test_library_rnn_with_several_taps():
    """x(n) = tanh(W x(n-1) + W_in_1 u(n) + W_in_2 u(n-4) + W_feedback y(n-1)),
    y(n) = W_out x(n-3); the page leaves the weights to the reader."""
    W, W_in_1, W_in_2, W_feedback, W_out = T.matrices("W", "W_in_1", "W_in_2", "W_fb", "W_out")

    def oneStep(u_tm4, u_t, x_tm3, x_tm1, y_tm1, W, W_in_1, W_in_2, W_feedback, W_out):
        x_t = T.tanh(
            theano.dot(x_tm1, W)
            + theano.dot(u_t, W_in_1)
            + theano.dot(u_tm4, W_in_2)
            + theano.dot(y_tm1, W_feedback)
        )
        y_t = theano.dot(x_tm3, W_out)

        return [x_t, y_t]

    u = T.matrix()  # it is a sequence of vectors
    x0 = T.matrix()  # initial state of x has to be a matrix, since
    # it has to cover x[-3]
    y0 = T.vector()  # y0 is just a vector since scan has only to provide
    # y[-1]

    ([x_vals, y_vals], updates) = theano.scan(
        fn=oneStep,
        sequences=dict(input=u, taps=[-4, -0]),
        outputs_info=[dict(initial=x0, taps=[-3, -1]), y0],
        non_sequences=[W, W_in_1, W_in_2, W_feedback, W_out],
    )
    # for second input y, scan adds -1 in output_taps by default

    f = theano.function([u, x0, y0, W, W_in_1, W_in_2, W_feedback, W_out], [x_vals, y_vals])
    rng = np.random.default_rng(0)
    uvals = rng.normal(size=(9, 2))  # the page's uvals = [0..8]: u[-4] is uvals[0]
    x0v, y0v = rng.normal(size=(3, 4)), rng.normal(size=3)
    weights = [rng.normal(size=s) for s in [(4, 4), (2, 4), (2, 4), (3, 4), (4, 3)]]
    xs, ys = f(uvals, x0v, y0v, *weights)

    w, w_in_1, w_in_2, w_fb, w_out = weights
    x_hist, y_prev, want_x, want_y = list(x0v), y0v, [], []
    for n in range(4, 9):
        x_t = np.tanh(x_hist[-1] @ w + uvals[n] @ w_in_1 + uvals[n - 4] @ w_in_2 + y_prev @ w_fb)
        y_t = x_hist[-3] @ w_out
        x_hist.append(x_t)
        want_x.append(x_t)
        want_y.append(y_t)
        y_prev = y_t
    assert_values(xs, want_x)
    assert_values(ys, want_y)


def test_library_gibbs_sampling_with_shared_variables_and_random_streams():
    rng = np.random.default_rng(0)
    W_values = rng.uniform(-1, 1, (6, 4))
    bvis_values, bhid_values = np.zeros(6), np.zeros(4)

    W = theano.shared(W_values)  # we assume that ``W_values`` contains the
    # initial values of your weight matrix

    bvis = theano.shared(bvis_values)
    bhid = theano.shared(bhid_values)

    trng = T.shared_randomstreams.RandomStreams(1234)

    def OneStep(vsample):
        hmean = T.nnet.sigmoid(theano.dot(vsample, W) + bhid)
        hsample = trng.binomial(size=hmean.shape, n=1, p=hmean)
        vmean = T.nnet.sigmoid(theano.dot(hsample, W.T) + bvis)
        return trng.binomial(size=vsample.shape, n=1, p=vmean, dtype=theano.config.floatX)

    sample = theano.tensor.vector()

    values, updates = theano.scan(OneStep, outputs_info=sample, n_steps=10)

    try:
        gibbs10 = theano.function([sample], values[-1], updates=updates)
    except theano.AstsymError as err:
        pytest.fail(
            "random draws made inside a scan step cannot be compiled: their generators' "
            "default updates are built from the step's placeholders and scan does not turn "
            f"them into per-step updates of its own (Theano does); got: {err}"
        )
    draws = [gibbs10(np.ones(6)) for _ in range(5)]
    for draw in draws:
        assert draw.shape == (6,) and set(np.unique(draw)) <= {0.0, 1.0}
    assert len(updates) == 2, "both generators advance with the chain"


def test_library_updates_dictionary_used_afterwards():
    a = theano.shared(1)
    values, updates = theano.scan(lambda: {a: a + 1}, n_steps=10)

    b = a + 1
    c = updates[a] + 1
    f = theano.function([], [b, c], updates=updates)

    # the page prints ``a.value``; astsym (as Theano after 0.x) reads it with get_value()
    assert [int(v) for v in f()] == [2, 12]
    assert a.get_value() == 11
    assert [int(v) for v in f()] == [12, 22]
    assert a.get_value() == 21

    a.set_value(1)
    g = theano.function([], [b, c])  # without the updates, a stays 1
    for _ in range(2):
        assert [int(v) for v in g()] == [2, 12]
        assert a.get_value() == 1


def test_library_conditional_ending_of_scan():
    def power_of_2(previous_power, max_value):
        return previous_power * 2, theano.scan_module.until(previous_power * 2 > max_value)

    max_value = T.scalar()
    values, _ = theano.scan(
        power_of_2, outputs_info=T.constant(1.0), non_sequences=max_value, n_steps=1024
    )

    f = theano.function([max_value], values)

    print(f(45))

    assert_values(f(45), [2, 4, 8, 16, 32, 64])
    assert_values(f(0.5), [2])  # the condition holds after the first step
    never = [2.0**k if k < 1024 else np.inf for k in range(1, 1025)]
    assert_values(f(np.inf), never)  # the condition never holds: n_steps bounds the loop


def test_library_until_is_also_astsym_until():
    assert theano.scan_module.until is theano.until
