"""Values given to a compiled function: each bad one is refused with a clear error that names
the input and its position, and changes nothing (Theano's input filtering rules)."""

from __future__ import annotations

import numpy as np
import pytest

import astsym.tensor as T
from astsym import In, function, shared
from astsym.typecheck import InputError


def _refused(f, *args, code="AS301", **kwargs) -> str:
    with pytest.raises(InputError) as info:
        f(*args, **kwargs)
    assert info.value.diagnostic.code == code
    return info.value.diagnostic.message


# -- rank and static shape -------------------------------------------------------------------


def test_wrong_rank_names_input_and_position():
    x = T.dscalar("x")
    v = T.dvector("v")
    f = function([x, v], x * v)
    message = _refused(f, 1.0, np.zeros((2, 2)))
    assert "input 1 'v'" in message
    assert "rank 1" in message and "rank 2" in message


def test_scalar_given_for_vector_is_refused():
    v = T.dvector("v")
    message = _refused(function([v], v), 3.0)
    assert "input 0 'v'" in message


def test_broadcastable_dim_must_have_size_one():
    r = T.drow("r")
    f = function([r], r * 2)
    message = _refused(f, np.zeros((2, 3)))
    assert "input 0 'r'" in message
    assert "broadcastable" in message
    np.testing.assert_array_equal(f(np.ones((1, 3))), [[2.0, 2.0, 2.0]])


def test_static_size_is_checked():
    x = T.TensorType("float64", shape=(None, 3))("x")
    f = function([x], x.sum())
    message = _refused(f, np.zeros((2, 4)))
    assert "dim 1" in message
    assert f(np.ones((2, 3))) == 6.0


# -- dtypes ----------------------------------------------------------------------------------


def test_float64_array_into_float32_input_is_refused():
    v = T.fvector("v")
    f = function([v], v * 2)
    message = _refused(f, np.array([0.1, 0.2]), code="AS302")
    assert "input 0 'v'" in message
    assert "float64" in message


def test_allow_input_downcast_rounds():
    v = T.fvector("v")
    f = function([v], v, allow_input_downcast=True)
    out = f(np.array([0.1, 1.5]))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.array([0.1, 1.5], dtype=np.float32))


def test_in_allow_downcast_overrides_the_function_setting():
    v = T.fvector("v")
    f = function([In(v, allow_downcast=True)], v * 1, allow_input_downcast=False)
    assert f(np.array([0.1])).dtype == np.float32
    g = function([In(v, allow_downcast=False)], v * 1, allow_input_downcast=True)
    _refused(g, np.array([0.1]), code="AS302")


def test_safe_upcast_of_arrays_is_accepted():
    v = T.dvector("v")
    out = function([v], v * 1)(np.array([1, 2], dtype=np.int32))
    assert out.dtype == np.float64
    out = function([v], v * 1)(np.array([0.5], dtype=np.float32))
    assert out.dtype == np.float64 and out[0] == 0.5


def test_python_float_into_float32_input_is_accepted():
    x = T.fscalar("x")
    out = function([x], x)(0.1)
    assert out.dtype == np.float32
    assert out == np.float32(0.1)


def test_python_int_out_of_range_for_int8_is_refused():
    b = T.bscalar("b")
    f = function([b], b * 1)
    message = _refused(f, 300, code="AS302")
    assert "input 0 'b'" in message and "300" in message
    assert f(100) == 100


def test_python_float_with_fraction_into_int_is_refused():
    i = T.iscalar("i")
    f = function([i], i * 1)
    _refused(f, 2.5, code="AS302")
    assert f(2.0) == 2


def test_exact_python_lists_are_accepted():
    v = T.ivector("v")
    out = function([v], v * 1)([1, 2, 3])
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, [1, 2, 3])
    m = T.fmatrix("m")
    out = function([m], m * 1)([[1.5, 2.0], [3.0, 4.25]])
    assert out.dtype == np.float32


def test_inexact_python_lists_are_refused():
    v = T.ivector("v")
    _refused(function([v], v * 1), [1, 2.5], code="AS302")
    b = T.bvector("b")
    _refused(function([b], b * 1), [1, 1000], code="AS302")


@pytest.mark.parametrize(
    "bad",
    ["abc", None, {"a": 1}, np.array([object(), object()]), [1, "a"], {1, 2}],
    ids=["str", "None", "dict", "object_array", "mixed_list", "set"],
)
def test_non_numeric_values_are_refused(bad):
    v = T.dvector("v")
    message = _refused(function([v], v * 2), bad)
    assert "input 0 'v'" in message


def test_float32_scalars_with_python_floats():
    x, y, z = T.fscalars("x", "y", "z")
    out = function([x, y, z], x * y + z)(2.0, 3.0, 0.5)
    assert out.dtype == np.float32
    assert out == 6.5


def test_numpy_scalars():
    x = T.dscalar("x")
    assert function([x], x * 2)(np.float32(1.5)) == 3.0
    f = T.fscalar("f")
    _refused(function([f], f * 2), np.float64(1.5), code="AS302")


# -- naming and state ------------------------------------------------------------------------


def test_error_names_the_function_when_named():
    x = T.dvector("x")
    f = function([x], x, name="my_fn")
    message = _refused(f, "nope")
    assert "'my_fn'" in message


def test_unnamed_input_is_named_by_position():
    x = T.dvector()
    message = _refused(function([x], x * 1), np.zeros((1, 1)))
    assert "input 0 " in message


def test_error_headline_points_at_the_call():
    v = T.dvector("v")
    f = function([v], v)
    with pytest.raises(InputError) as info:
        f(np.zeros((1, 1)))
    assert info.value.diagnostic.span.file == __file__
    assert str(info.value).startswith(f"{__file__}:")


def test_failed_call_leaves_shared_variables_unchanged():
    w = shared(np.zeros(2), name="w")
    count = shared(0, name="count")
    x = T.dvector("x")
    f = function([x], w.sum(), updates=[(w, w + x), (count, count + 1)])
    for bad in [np.zeros(3, dtype=np.complex128), "x", np.zeros((2, 2))]:
        with pytest.raises(InputError):
            f(bad)
    np.testing.assert_array_equal(w.get_value(), [0.0, 0.0])
    assert count.get_value() == 0
    f([1.0, 1.0])
    assert count.get_value() == 1


def test_bad_default_is_refused_when_compiling_naming_input():
    x = T.dscalar("x")
    y = T.dvector("y")
    with pytest.raises(InputError) as info:
        function([x, In(y, value="oops")], x * y)
    assert "input 1 'y'" in str(info.value)


def test_default_is_stored_converted_and_readable_by_name():
    x = T.dscalar("x")
    y = T.dvector("y")
    f = function([x, In(y, value=[1, 2])], x * y)
    assert f["y"].dtype == np.float64
    np.testing.assert_array_equal(f(2.0), [2.0, 4.0])
    with pytest.raises(KeyError, match="has no default"):
        f["x"]
    with pytest.raises(KeyError, match="no input named"):
        f["z"]


def test_trust_input_skips_checks():
    v = T.fvector("v")
    checked = function([v], v)
    trusting = function([v], v, trust_input=True)
    wrong_rank = np.zeros((2, 2), dtype=np.float32)
    _refused(checked, wrong_rank)
    out = trusting(wrong_rank)  # no filtering: the value goes through as it is
    assert out.shape == (2, 2)
    good = np.array([1.0, 2.0], dtype=np.float32)
    np.testing.assert_array_equal(trusting(good), good)
