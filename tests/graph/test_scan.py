"""scan on the py backend: sequences, taps, recurrent outputs, until, shared updates."""

import numpy as np
import pytest

import astsym as theano
import astsym.tensor as T
from astsym.typecheck import GraphRuntimeError, GraphTypeError


def test_polynomial_from_the_article():
    coefs, powers = T.ivectors("coefs", "powers")
    x = T.iscalar("x")
    result, updates = theano.scan(
        fn=lambda c, p, x: c * x**p, sequences=[coefs, powers], outputs_info=None, non_sequences=x
    )
    assert updates == {}
    f = theano.function([x, coefs, powers], result, allow_input_downcast=True)
    out = f(10, np.array([2, 3, 4, 6, 5]), np.array([0, 1, 2, 3, 4]))
    np.testing.assert_array_equal(out, [2, 30, 400, 6000, 50000])


def test_recurrence_with_two_taps_matches_python():
    init = T.dvector("init")
    out, _ = theano.scan(
        lambda x2, x1: x2 + x1, outputs_info=dict(initial=init, taps=[-2, -1]), n_steps=6
    )
    f = theano.function([init], out)
    np.testing.assert_array_equal(f(np.array([1.0, 1.0])), [2, 3, 5, 8, 13, 21])


def test_sequence_taps_and_go_backwards():
    x = T.dvector("x")
    out, _ = theano.scan(
        lambda prev, cur, nxt: prev + cur + nxt, sequences=dict(input=x, taps=[-1, 0, 1])
    )
    back, _ = theano.scan(lambda v: v * 1.0, sequences=x, go_backwards=True)
    f = theano.function([x], [out, back])
    values = np.arange(6.0)
    fwd, rev = f(values)
    np.testing.assert_array_equal(fwd, values[:-2] + values[1:-1] + values[2:])
    np.testing.assert_array_equal(rev, values[::-1])


def test_power_by_repeated_multiplication_with_symbolic_n_steps():
    A = T.dvector("A")
    k = T.iscalar("k")
    result, updates = theano.scan(
        lambda prior, A: prior * A, outputs_info=T.ones_like(A), non_sequences=A, n_steps=k
    )
    f = theano.function([A, k], result[-1], updates=updates)
    np.testing.assert_array_equal(f(np.arange(5.0), 3), np.arange(5.0) ** 3)


def test_until_stops_after_the_step_that_meets_the_condition():
    start = T.dscalar("start")
    out, _ = theano.scan(
        lambda prev: [prev * 2, theano.until(prev * 2 > 100)], outputs_info=start, n_steps=50
    )
    np.testing.assert_array_equal(theano.function([start], out)(1.0), [2, 4, 8, 16, 32, 64, 128])


def test_shared_updates_inside_the_step():
    acc = theano.shared(0.0, name="acc")
    x = T.dvector("x")
    out, updates = theano.scan(lambda v: (v * 2, {acc: acc + v}), sequences=x)
    f = theano.function([x], out, updates=updates)
    np.testing.assert_array_equal(f(np.array([1.0, 2.0, 3.0])), [2, 4, 6])
    assert acc.get_value() == 6.0
    f(np.array([1.0]))
    assert acc.get_value() == 7.0


def test_implicit_outer_variables_and_shared_reads():
    w = theano.shared(np.float64(3.0), name="w")
    x = T.dvector("x")
    y = T.dscalar("y")
    out, _ = theano.scan(lambda v: v * w + y, sequences=x)
    f = theano.function([x, y], out)
    np.testing.assert_array_equal(f(np.array([1.0, 2.0]), 1.0), [4, 7])


def test_reduce_foldl_foldr_map():
    x = T.dvector("x")
    total, _ = theano.reduce(lambda v, acc: acc + v, sequences=x, outputs_info=T.constant(0.0))
    left, _ = theano.foldl(lambda v, acc: acc * 10 + v, sequences=x, outputs_info=T.constant(0.0))
    right, _ = theano.foldr(lambda v, acc: acc * 10 + v, sequences=x, outputs_info=T.constant(0.0))
    squares, _ = theano.map(lambda v: v * v, sequences=x)
    f = theano.function([x], [total, left, right, squares])
    t, l, r, s = f(np.array([1.0, 2.0, 3.0]))
    assert (t, l, r) == (6.0, 123.0, 321.0)
    np.testing.assert_array_equal(s, [1, 4, 9])


def test_zero_steps_give_empty_outputs():
    x = T.dvector("x")
    out, _ = theano.scan(lambda v: v + 1, sequences=x)
    assert theano.function([x], out)(np.zeros(0)).shape == (0,)


def test_state_dtype_change_is_a_clear_error():
    x = T.fscalar("x")
    with pytest.raises(GraphTypeError) as info:
        theano.scan(lambda prev: prev * np.float64(2), outputs_info=x, n_steps=3, name="double")
    assert info.value.diagnostic.code == "AS209"
    assert "double" in str(info.value) and "float64" in str(info.value)


def test_state_rank_change_is_a_clear_error():
    x = T.dvector("x")
    with pytest.raises(GraphTypeError) as info:
        theano.scan(lambda prev: prev.sum(), outputs_info=x, n_steps=3)
    assert "rank" in str(info.value)


def test_wrong_number_of_outputs():
    x = T.dvector("x")
    with pytest.raises(GraphTypeError):
        theano.scan(lambda prev: [prev, prev], outputs_info=[x], n_steps=2)


def test_too_few_sequence_items_for_n_steps():
    x = T.dvector("x")
    out, _ = theano.scan(lambda v: v, sequences=x, n_steps=5)
    with pytest.raises(GraphRuntimeError):
        theano.function([x], out)(np.zeros(3))
