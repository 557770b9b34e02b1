"""Shared variables: construction from Python and NumPy values, get_value/set_value copy
semantics and validation, static shapes, strictness (Theano's ``shared``)."""

from __future__ import annotations

import numpy as np
import pytest

import astsym
import astsym.tensor as T
from astsym import SharedVariable, function, shared
from astsym.typecheck import InputError

# -- construction ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [0.0, 1, True, 1 + 2j, [1, 2], [[1.5, 2.0]], np.float32(2), np.zeros((2, 3), np.int16)],
    ids=repr,
)
def test_dtype_and_rank_are_numpy_s(value):
    expected = np.asarray(value)
    w = shared(value)
    assert w.dtype == expected.dtype.name
    assert w.ndim == expected.ndim
    assert w.broadcastable == (False,) * expected.ndim
    got = w.get_value()
    assert isinstance(got, np.ndarray)
    np.testing.assert_array_equal(got, expected)


def test_theano_examples_of_dtypes():
    assert shared(0.0).dtype == "float64"
    assert shared(1).dtype == "int64"
    assert shared(np.zeros(3, dtype="float32")).type == T.fvector


def test_name_is_kept():
    w = shared(np.zeros(2), name="weights")
    assert w.name == "weights"
    assert str(w) == "weights"


@pytest.mark.parametrize("value", [object(), "abc", None, {"a": 1}, [1, "a"]], ids=repr)
def test_non_numeric_value_is_a_type_error(value):
    with pytest.raises(TypeError, match="shared"):
        shared(value)


def test_symbolic_value_is_a_type_error():
    with pytest.raises(TypeError, match="symbolic"):
        shared(T.dvector("x"))


def test_type_is_shared_variable():
    w = shared(np.zeros(3))
    assert type(w) is astsym.SharedVariable
    assert T.TensorSharedVariable is SharedVariable
    assert isinstance(w, astsym.Variable)


def test_broadcastable_and_shape_arguments():
    row = shared(np.zeros((1, 3)), broadcastable=(True, False))
    assert row.broadcastable == (True, False)
    assert row.type == T.drow
    fixed = shared(np.zeros((2, 3)), shape=(2, 3))
    assert fixed.static_shape == (2, 3)
    with pytest.raises(InputError, match="broadcastable"):
        shared(np.zeros((2, 3)), broadcastable=(True, False))
    with pytest.raises(InputError):
        shared(np.zeros((2, 3)), shape=(2, 4))


def test_broadcastable_shared_broadcasts_in_graphs():
    bias = shared(np.ones((1, 2)), broadcastable=(True, False), name="bias")
    x = T.dmatrix("x")
    out = function([x], x + bias)(np.zeros((3, 2)))
    np.testing.assert_array_equal(out, np.ones((3, 2)))


# -- get_value / set_value -------------------------------------------------------------------


def test_construction_copies_unless_borrow():
    data = np.zeros(3)
    copied = shared(data)
    borrowed = shared(data, borrow=True)
    data[0] = 5.0
    assert copied.get_value()[0] == 0.0
    assert borrowed.get_value(borrow=True) is data


def test_get_value_returns_a_copy_unless_borrow():
    w = shared(np.zeros(3))
    value = w.get_value()
    value[0] = 1.0
    assert w.get_value()[0] == 0.0
    inner = w.get_value(borrow=True)
    assert inner is w.get_value(borrow=True)
    inner[0] = 2.0
    assert w.get_value()[0] == 2.0


def test_set_value_copies_unless_borrow():
    w = shared(np.zeros(3))
    new = np.ones(3)
    w.set_value(new)
    new[0] = 9.0
    np.testing.assert_array_equal(w.get_value(), np.ones(3))
    w.set_value(new, borrow=True)
    new[1] = 9.0
    np.testing.assert_array_equal(w.get_value(), [9.0, 9.0, 1.0])


def test_set_value_may_change_the_size():
    w = shared(np.zeros(3))
    w.set_value(np.arange(5.0))
    assert w.get_value().shape == (5,)


@pytest.mark.parametrize(
    "bad, code",
    [
        (np.zeros((2, 2)), "AS301"),
        (1.5, "AS301"),
        (np.zeros(3, dtype=np.complex128), "AS302"),
        ("abc", "AS301"),
    ],
    ids=["rank2", "scalar", "complex", "str"],
)
def test_set_value_refuses_bad_values_and_keeps_old(bad, code):
    w = shared(np.arange(3.0), name="weights")
    with pytest.raises(InputError) as info:
        w.set_value(bad)
    assert info.value.diagnostic.code == code
    assert "'weights'" in info.value.diagnostic.message
    np.testing.assert_array_equal(w.get_value(), [0.0, 1.0, 2.0])


@pytest.mark.parametrize(
    "bad",
    [np.zeros(3), np.zeros(3, dtype=np.int64), [1.5], 2**40],
    ids=["float64", "int64", "fraction", "too_big"],
)
def test_set_value_refuses_unsafe_dtype(bad):
    counts = shared(np.array([1, 2, 3], dtype=np.int32), name="counts")
    if np.ndim(bad) == 0:
        counts = shared(np.int32(4), name="counts")
    old = counts.get_value()
    with pytest.raises(InputError, match="'counts'") as info:
        counts.set_value(bad)
    assert info.value.diagnostic.code == "AS302"
    np.testing.assert_array_equal(counts.get_value(), old)
    assert counts.get_value().dtype == np.int32


def test_set_value_accepts_safe_upcasts_and_exact_numbers():
    w = shared(np.zeros(3), name="w")
    w.set_value(np.array([1, 2, 3], dtype=np.int32))
    assert w.get_value().dtype == np.float64
    w.set_value(np.array([0.5, 1, 2], dtype=np.float32))
    np.testing.assert_array_equal(w.get_value(), [0.5, 1.0, 2.0])
    counts = shared(np.zeros(2, dtype=np.int8))
    counts.set_value([3, 4])
    assert counts.get_value().dtype == np.int8
    scalar = shared(np.int32(0))
    scalar.set_value(7.0)
    assert scalar.get_value() == 7 and scalar.get_value().dtype == np.int32
    f32 = shared(np.float32(0))
    f32.set_value(0.1)  # Python floats go into any float type (Theano's rule)
    assert f32.get_value().dtype == np.float32


def test_set_value_keeps_a_broadcastable_dim():
    row = shared(np.zeros((1, 3)), broadcastable=(True, False), name="row")
    with pytest.raises(InputError, match="'row'"):
        row.set_value(np.zeros((2, 3)))
    row.set_value(np.ones((1, 5)))
    assert row.get_value().shape == (1, 5)


def test_strict_refuses_anything_but_an_exact_array():
    w = shared(np.zeros(3), strict=True, name="w")
    with pytest.raises(InputError, match="'w'"):
        w.set_value([1.0, 2.0, 3.0])
    with pytest.raises(InputError, match="'w'"):
        w.set_value(np.zeros(3, dtype=np.float32))
    w.set_value(np.ones(3))
    np.testing.assert_array_equal(w.get_value(), np.ones(3))


def test_allow_downcast_on_shared():
    w = shared(np.zeros(2, dtype=np.float32), allow_downcast=True)
    w.set_value(np.array([0.1, 0.2]))
    assert w.get_value().dtype == np.float32


def test_function_sees_set_value():
    w = shared(np.ones(2), name="w")
    f = function([], w.sum())
    assert f() == 2.0
    w.set_value(np.full(4, 2.0))
    assert f() == 8.0


def test_clone_keeps_type_and_name():
    w = shared(np.arange(3.0), name="w")
    c = w.clone()
    assert c is not w and c.type == w.type and c.name == "w"
    np.testing.assert_array_equal(c.get_value(), w.get_value())


def test_clone_shares_storage_as_in_theano():
    w = shared(np.arange(3.0), name="w")
    c = w.clone()
    c.set_value(np.zeros(3))
    np.testing.assert_array_equal(w.get_value(), np.zeros(3))
