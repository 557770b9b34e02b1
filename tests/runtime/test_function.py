"""``astsym.function`` with Theano's semantics: outputs, In defaults, keyword calls, updates
(computed after the outputs, applied atomically), givens, unused inputs, copy, pickling,
modes, and outputs that never alias storage the caller does not own."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

import astsym
import astsym.tensor as T
from astsym import In, Mode, Out, function, shared
from astsym.typecheck import GraphRuntimeError, GraphTypeError, InputError

HERE = str(Path(__file__).resolve())


def _line_of(tag: str) -> int:
    """The line of this file that ends with the comment ``# @tag``."""
    lines = Path(HERE).read_text().splitlines()
    return next(n for n, text in enumerate(lines, 1) if text.rstrip().endswith(f"# @{tag}"))


# -- outputs ---------------------------------------------------------------------------------


def test_single_output_is_an_array():
    x = T.dvector("x")
    out = function([x], x * 2)(np.array([1.0, 2.0]))
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, [2.0, 4.0])


def test_list_and_tuple_outputs_return_a_list():
    x = T.dscalar("x")
    assert function([x], [x + 1, x * 3])(2) == [3.0, 6.0]
    assert isinstance(function([x], (x + 1,))(2), list)


def test_dict_outputs_keep_keys():
    x = T.dscalar("x")
    out = function([x], {"double": x * 2, "square": x**2})(3)
    assert set(out) == {"double", "square"}
    assert out["double"] == 6.0 and out["square"] == 9.0


def test_no_outputs_returns_empty_list():
    x = T.dscalar("x")
    w = shared(0.0, name="w")
    f = function([x], None, updates=[(w, w + x)])
    assert f(2.5) == []
    assert w.get_value() == 2.5
    assert function([x], [], updates=[(w, w + x)])(1) == []


def test_zero_d_outputs_are_zero_d_arrays():
    x = T.dvector("x")
    out = function([x], x.sum())([1.0, 2.0])
    assert type(out) is np.ndarray and out.shape == () and out.dtype == np.float64
    s = T.dscalar("s")
    out = function([s], s * 2)(4)
    assert type(out) is np.ndarray and out.shape == ()


def test_out_wrapper_is_accepted():
    x = T.dscalar("x")
    assert function([x], Out(x * 2, borrow=True))(2) == 4.0


# -- In: defaults and keyword calls ------------------------------------------------------------


def test_in_default_value_used_when_omitted():
    x, y = T.dscalars("x", "y")
    f = function([x, In(y, value=1)], x + y)
    assert f(2) == 3.0
    assert f(2, 5) == 7.0


def test_keyword_call_by_in_name_and_by_variable_name():
    x, y, w = T.dscalars("x", "y", "w")
    f = function([x, In(y, value=1), In(w, value=2, name="w_by_name")], (x + y) * w)
    assert f(33) == 68.0  # Theano tutorial: (33 + 1) * 2
    assert f(33, 2) == 70.0
    assert f(33, 0, 1) == 33.0
    assert f(33, w_by_name=1) == 34.0
    assert f(33, w_by_name=1, y=0) == 33.0
    assert f(x=33) == 68.0


def test_getitem_and_setitem_of_defaults():
    x, y = T.dscalars("x", "y")
    f = function([x, In(y, value=1.0, name="yy")], x + y)
    assert f["yy"] == 1.0
    f["yy"] = 10
    assert f["yy"] == 10.0
    assert f(1) == 11.0
    f["y"] = 4  # the variable's name reaches the same input
    assert f(1) == 5.0


def test_setitem_filters_the_new_default():
    x = T.fscalar("x")
    f = function([In(x, value=1.0, name="x")], x * 2)
    with pytest.raises(InputError):
        f["x"] = "not a number"
    assert f() == 2.0


def test_position_and_keyword_for_same_input_is_an_error():
    x, y = T.dscalars("x", "y")
    f = function([x, y], x + y)
    with pytest.raises(InputError, match=r"input 0 'x'.*twice"):
        f(1, 2, x=3)


def test_missing_input_is_an_error():
    x, y = T.dscalars("x", "y")
    f = function([x, y], x + y)
    with pytest.raises(InputError, match=r"input 1 'y'.*missing"):
        f(1)


def test_too_many_inputs_is_an_error():
    x = T.dscalar("x")
    f = function([x], x)
    with pytest.raises(InputError, match="takes 1 input"):
        f(1, 2)


def test_unknown_keyword_is_an_error():
    x = T.dscalar("x")
    with pytest.raises(InputError, match="'z'"):
        function([x], x)(z=1)


# -- updates ---------------------------------------------------------------------------------


def test_theano_accumulator_returns_old_value():
    state = shared(0)
    inc = T.iscalar("inc")
    accumulator = function([inc], state, updates=[(state, state + inc)])
    assert accumulator(1) == 0
    assert state.get_value() == 1
    assert accumulator(300) == 1
    assert state.get_value() == 301
    state.set_value(-1)
    assert accumulator(3) == -1
    assert state.get_value() == 2


def test_updates_as_dict():
    w = shared(np.zeros(2), name="w")
    x = T.dvector("x")
    f = function([x], w.sum(), updates={w: w + x})
    assert f([1.0, 2.0]) == 0.0
    np.testing.assert_array_equal(w.get_value(), [1.0, 2.0])


def test_all_updates_read_the_old_values():
    a, b = shared(1.0, name="a"), shared(10.0, name="b")
    f = function([], [], updates=[(a, b), (b, a)])  # a swap, as in Theano
    f()
    assert (a.get_value(), b.get_value()) == (10.0, 1.0)


@pytest.mark.parametrize("failure", ["reshape", "broadcast"])
def test_updates_are_atomic_when_one_fails_at_run_time(failure):
    a = shared(np.zeros(3), name="a")
    b = shared(np.zeros(3), name="b")
    n = T.lscalar("n")
    v = T.dvector("v")
    if failure == "reshape":
        bad = b.reshape((n,)) + 1  # @reshape
        op = "reshape"
    else:
        bad = b + v  # @broadcast
        op = "add"
    f = function([n, v], a.sum(), updates=[(a, a + 1), (b, bad)], on_unused_input="ignore")
    f(3, np.ones(3))  # sizes that fit: both updates apply
    np.testing.assert_array_equal(a.get_value(), [1.0] * 3)
    with pytest.raises(GraphRuntimeError) as info:
        f(4, np.ones(4))
    np.testing.assert_array_equal(a.get_value(), [1.0] * 3)
    np.testing.assert_array_equal(b.get_value(), [1.0] * 3)
    diag = info.value.diagnostic
    assert op in diag.message
    assert diag.span is not None
    assert diag.span.file == HERE
    assert diag.span.line == _line_of(failure)


def test_runtime_error_leaves_outputs_unreturned_and_state_unchanged():
    w = shared(np.arange(3.0), name="w")
    x = T.dvector("x")
    f = function([x], (w * x).sum(), updates=[(w, w * x)])
    with pytest.raises(GraphRuntimeError, match="multiply"):
        f(np.ones(5))
    np.testing.assert_array_equal(w.get_value(), [0.0, 1.0, 2.0])


# -- givens ----------------------------------------------------------------------------------


def test_givens_replace_shared_state_theano_tutorial():
    state = shared(0)
    inc = T.iscalar("inc")
    fn_of_state = state * 2 + inc
    foo = T.scalar(dtype=state.dtype)
    skip_shared = function([inc, foo], fn_of_state, givens=[(state, foo)])
    assert skip_shared(1, 3) == 7
    assert state.get_value() == 0


def test_givens_with_shared_data_slice():
    data = shared(np.arange(10.0), name="data")
    index = T.lscalar("index")
    x = T.dvector("x")
    f = function([index], x.sum(), givens={x: data[index * 2 : (index + 1) * 2]})
    assert f(1) == 5.0
    assert f(4) == 17.0


def test_givens_rank_mismatch_is_an_error():
    x = T.dvector("x")
    with pytest.raises(GraphTypeError, match="rank") as info:
        function([x], x * 2, givens=[(x, T.dmatrix("m"))])
    assert info.value.diagnostic.code == "AS203"


# -- which inputs ----------------------------------------------------------------------------


def test_unused_input_raises_by_default():
    x, y = T.dscalars("x", "y")
    with pytest.raises(GraphTypeError, match=r"input 1 \(y\) is not used"):
        function([x, y], x * 2)


def test_unused_input_warn_points_at_the_caller():
    x, y = T.dscalars("x", "y")
    with pytest.warns(UserWarning, match="not used") as record:
        f = function([x, y], x * 2, on_unused_input="warn")
    assert record[0].filename == HERE
    assert f(2, 100) == 4.0


def test_unused_input_ignore():
    x, y = T.dscalars("x", "y")
    assert function([x, y], x * 2, on_unused_input="ignore")(2, 100) == 4.0


def test_bad_on_unused_input_value():
    x = T.dscalar("x")
    with pytest.raises(ValueError, match="on_unused_input"):
        function([x], x, on_unused_input="maybe")


def test_output_depending_on_a_non_input_names_it():
    x = T.dscalar("x")
    hidden = T.dscalar("hidden")
    with pytest.raises(GraphTypeError, match="hidden") as info:
        function([x], x + hidden)
    assert info.value.diagnostic.code == "AS304"


def test_shared_variable_listed_as_input_is_an_error():
    w = shared(1.0, name="w")
    with pytest.raises(GraphTypeError, match=r"\(w\) is a shared variable"):
        function([w], w * 2)


def test_duplicate_input_is_an_error():
    x = T.dscalar("x")
    with pytest.raises(GraphTypeError, match="listed twice"):
        function([x, x], x * 2)


def test_non_variable_input_is_an_error():
    with pytest.raises(GraphTypeError, match="not a symbolic variable"):
        function([np.zeros(3)], None)


# -- bad updates -----------------------------------------------------------------------------


def test_update_of_a_non_shared_variable_is_an_error():
    x = T.dscalar("x")
    with pytest.raises(GraphTypeError, match="x is not one") as info:
        function([x], x, updates=[(x, x + 1)])
    assert info.value.diagnostic.code == "AS305"


def test_duplicate_updates_are_an_error():
    w = shared(0.0, name="w")
    with pytest.raises(GraphTypeError, match="updated twice"):
        function([], [], updates=[(w, w + 1), (w, w + 2)])


def test_float_update_of_int_shared_is_dtype_loss():
    count = shared(np.zeros(3, dtype="int64"), name="count")
    with pytest.raises(GraphTypeError, match="count") as info:
        function([], [], updates=[(count, count + 0.5)])
    assert info.value.diagnostic.code == "AS206"
    assert "i64[?]" in info.value.diagnostic.message
    assert "f64[?]" in info.value.diagnostic.message


def test_rank_changing_update_is_an_error():
    w = shared(np.zeros(3), name="w")
    with pytest.raises(GraphTypeError, match="w"):
        function([], [], updates=[(w, w.sum())])
    with pytest.raises(GraphTypeError, match="w"):
        function([], [], updates=[(w, w.dimshuffle("x", 0))])


def test_update_with_safe_upcast_is_cast():
    w = shared(np.zeros(3), name="w")
    i = T.ivector("i")
    f = function([i], [], updates=[(w, i)])
    f([1, 2, 3])
    value = w.get_value()
    assert value.dtype == np.float64
    np.testing.assert_array_equal(value, [1.0, 2.0, 3.0])


def test_float32_update_with_python_float_stays_float32():
    w = shared(np.ones(2, dtype="float32"), name="w")
    function([], [], updates=[(w, w * 0.5)])()
    assert w.get_value().dtype == np.float32
    np.testing.assert_array_equal(w.get_value(), [0.5, 0.5])


# -- copy ------------------------------------------------------------------------------------


def test_copy_with_swap_theano_tutorial():
    state = shared(0)
    inc = T.iscalar("inc")
    accumulator = function([inc], state, updates=[(state, state + inc)])
    accumulator(10)
    assert state.get_value() == 10
    new_state = shared(0)
    new_accumulator = accumulator.copy(swap={state: new_state})
    assert new_accumulator(100) == 0
    assert new_state.get_value() == 100
    assert state.get_value() == 10
    accumulator(1)  # the original still works on its own state
    assert state.get_value() == 11 and new_state.get_value() == 100


def test_copy_without_swap_shares_the_state():
    state = shared(0)
    inc = T.iscalar("inc")
    accumulator = function([inc], state, updates=[(state, state + inc)])
    accumulator.copy()(5)
    assert state.get_value() == 5


def test_copy_with_delete_updates():
    state = shared(0)
    inc = T.iscalar("inc")
    accumulator = function([inc], state, updates=[(state, state + inc)])
    accumulator(10)
    null_accumulator = accumulator.copy(delete_updates=True)
    assert null_accumulator(9000) == 10
    assert state.get_value() == 10


def test_copy_swap_of_another_type_is_an_error():
    state = shared(0)
    inc = T.iscalar("inc")
    accumulator = function([inc], state, updates=[(state, state + inc)])
    with pytest.raises(GraphTypeError, match="another type"):
        accumulator.copy(swap={state: shared(0.0)})


def test_copy_carries_defaults_and_name():
    x, y = T.dscalars("x", "y")
    f = function([x, In(y, value=1.0)], x + y, name="adder")
    f["y"] = 5
    g = f.copy()
    assert g(1) == 6.0
    assert g.name == "adder"
    g["y"] = 0  # the copy's defaults are its own
    assert f(1) == 6.0 and g(1) == 1.0
    assert f.copy(name="other").name == "other"


# -- pickling --------------------------------------------------------------------------------


def test_pickled_function_updates_the_pickled_shared_variable():
    w = shared(np.zeros(2), name="w")
    x = T.dvector("x")
    f = function([x], w.sum(), updates=[(w, w + x)])
    f2, w2 = pickle.loads(pickle.dumps((f, w)))
    assert f2([1.0, 2.0]) == 0.0
    np.testing.assert_array_equal(w2.get_value(), [1.0, 2.0])
    np.testing.assert_array_equal(w.get_value(), [0.0, 0.0])
    f([5.0, 5.0])
    np.testing.assert_array_equal(w2.get_value(), [1.0, 2.0])


def test_pickled_function_keeps_defaults():
    x, y = T.dscalars("x", "y")
    f = function([x, In(y, value=1.0, name="yy")], x * y)
    f["yy"] = 3
    g = pickle.loads(pickle.dumps(f))
    assert g(2) == 6.0
    assert g(2, yy=4) == 8.0


# -- modes -----------------------------------------------------------------------------------

MODES = [
    None,
    "FAST_RUN",
    "FAST_COMPILE",
    "py",
    Mode(linker="vm"),
    Mode(linker="py", optimizer=None),
]


@pytest.mark.parametrize("mode", MODES, ids=repr)
def test_modes_give_the_same_results(mode):
    rng = np.random.default_rng(0)
    x = T.dmatrix("x")
    w = shared(np.arange(3.0), name="w")
    y = T.exp(x * 1 + 0).dot(w) + (x * 0).sum()
    f = function([x], [y, y.mean()], updates=[(w, w + x.sum(axis=0))], mode=mode)
    data = rng.normal(size=(4, 3))
    out, mean = f(data)
    expected = np.exp(data) @ np.arange(3.0)
    np.testing.assert_allclose(out, expected)
    np.testing.assert_allclose(mean, expected.mean())
    np.testing.assert_allclose(w.get_value(), np.arange(3.0) + data.sum(axis=0))


@pytest.mark.parametrize("mode", ["FAST", "fast_run", "gpu_fast"])
def test_unknown_mode_name_raises(mode):
    x = T.dscalar("x")
    with pytest.raises(ValueError, match="mode"):
        function([x], x, mode=mode)


def test_unknown_linker_or_optimizer_raises():
    with pytest.raises(ValueError, match="linker"):
        Mode(linker="fortran")
    with pytest.raises(ValueError, match="optimizer"):
        Mode(optimizer="o3")


# -- aliasing --------------------------------------------------------------------------------


def test_identity_function_returns_a_copy():
    x = T.dvector("x")
    data = np.arange(3.0)
    out = function([x], x)(data)
    assert not np.may_share_memory(out, data)
    out[0] = 100.0
    assert data[0] == 0.0


def test_mutating_output_does_not_change_shared_variable():
    w = shared(np.zeros(3), name="w")
    out = function([], w)()
    out[:] = 7.0
    np.testing.assert_array_equal(w.get_value(), np.zeros(3))


def test_output_equal_to_an_update_does_not_alias_the_new_state():
    w = shared(np.zeros(2), name="w")
    f = function([], w + 1, updates=[(w, w + 1)])  # merged into one node
    out = f()
    out[0] = 100.0
    np.testing.assert_array_equal(w.get_value(), [1.0, 1.0])


def test_repeated_outputs_are_distinct_arrays():
    x = T.dvector("x")
    first, second = function([x], [x * 2, x * 2])(np.ones(2))
    first[0] = 100.0
    np.testing.assert_array_equal(second, [2.0, 2.0])


def test_constant_output_is_writable_and_fresh():
    f = function([], T.constant(np.arange(3.0)))
    out = f()
    out[0] = 5.0
    np.testing.assert_array_equal(f(), [0.0, 1.0, 2.0])


def test_function_repr_and_maker():
    x = T.dscalar("x")
    f = function([x], x * 2, name="double")
    assert "double" in repr(f)
    assert f.maker.fgraph is f.fgraph
    assert isinstance(f, astsym.Function)
