"""``@symbolic`` end to end: each construct is written once as a plain Python function, run
eagerly on NumPy values, and compared with the same function traced, compiled and run by
``symbolic(body)``; hypothesis draws the shapes and values. Then the contract's other
promises: laziness, shared-variable updates (applied after the outputs, atomically), input
dtypes, cache keys, errors located in this file, and check/source/explain/trace.

One compiled version exists per dtype/rank signature, so the drawn shapes vary freely
without recompiling; ``max_examples`` stays small because every example runs a graph.
"""

# ruff: noqa: F821 - dim names in annotations (f32["n"]) are not forward references

import importlib.util
import inspect
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from astsym import f32, f64, grad, i64, shared, symbolic
from astsym.graph.type import TensorType
from astsym.graph.walk import toposort
from astsym.parse.convert import convert_function
from astsym.typecheck import Diagnostic, GraphRuntimeError, GraphTypeError, InputError

FEW = settings(max_examples=10, deadline=None)
HERE = __file__


def floats(low=-10.0, high=10.0):
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def vectors(min_side=1, max_side=6, elements=None):
    return hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=1, max_dims=1, min_side=min_side, max_side=max_side),
        elements=elements or floats(),
    )


def arrays(min_dims=1, max_dims=2, elements=None):
    return hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=5),
        elements=elements or floats(),
    )


def matrices():
    return hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=5),
        elements=floats(-2.0, 2.0),
    )


def same(actual, expected, rtol=1e-9, atol=1e-12):
    """The symbolic result equals the eager one (tuples compared item by item)."""
    if isinstance(expected, tuple):
        assert isinstance(actual, tuple) and len(actual) == len(expected)
        for a, e in zip(actual, expected):
            same(a, e, rtol, atol)
        return
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=rtol, atol=atol)


def line_of(fn, marker: str) -> int:
    """The line of this file where ``fn``'s source contains ``marker``."""
    lines, start = inspect.getsourcelines(fn)
    hits = [start + i for i, text in enumerate(lines) if marker in text]
    assert len(hits) == 1, f"marker {marker!r} found {len(hits)} times in {fn.__name__}"
    return hits[0]


# == if ======================================================================================
def python_if(x, k):
    if k > 0:
        y = x * 2
    else:
        y = x - 1
    return y


sym_python_if = symbolic(python_if)


@FEW
@given(x=arrays(), k=st.integers(-2, 2))
def test_if_on_a_static_int_is_python(x, k):
    same(sym_python_if(x, k), python_if(x, k))
    assert "-> python" in sym_python_if.explain()


def scalar_if(x):
    if x.sum() > 0:
        y = x * 2
        z = x.max()
    else:
        y = -x
        z = x.min()
    return y, z


sym_scalar_if = symbolic(scalar_if)


@FEW
@given(x=arrays())
def test_if_on_a_symbolic_scalar_is_ifelse(x):
    same(sym_scalar_if(x), scalar_if(x))
    assert "-> ifelse" in sym_scalar_if.explain()
    assert len(sym_scalar_if._compiled) <= 2  # one per rank drawn, whatever the shapes


def array_if(x):
    if x > 1:
        y = x - 1
        z = x * 2
    else:
        y = -x
        z = x + 0.5
    return y, z


sym_array_if = symbolic(array_if)


@FEW
@given(x=arrays())
def test_if_on_a_symbolic_array_is_an_elementwise_switch(x):
    # NumPy cannot run `if array:`, so the eager reference applies the body per element
    expected = np.vectorize(array_if)(x)
    same(sym_array_if(x), tuple(expected))
    assert "-> switch" in sym_array_if.explain()


def elif_chain(x):
    if x > 2:
        y = x - 2
    elif x < -2:
        y = x * x
    elif x < 0:
        y = -x
    else:
        y = x + 10
    return y


sym_elif_chain = symbolic(elif_chain)


@FEW
@given(x=arrays(), s=floats())
def test_elif_chain_on_arrays_and_on_scalars(x, s):
    same(sym_elif_chain(x), np.vectorize(elif_chain)(x))
    same(sym_elif_chain(np.float64(s)), elif_chain(np.float64(s)))


def both_return(x):
    if x.mean() > 0.5:
        return x * 2
    else:
        return 1 - x


sym_both_return = symbolic(both_return)


@FEW
@given(x=arrays())
def test_if_with_a_return_in_both_branches(x):
    same(sym_both_return(x), both_return(x))


def conditional_expression(x):
    y = x * 2 if x.sum() > 0 else -x
    z = x if x > 1 else x * 0
    return y, z


sym_conditional_expression = symbolic(conditional_expression)


@FEW
@given(x=arrays())
def test_conditional_expressions_on_a_scalar_and_on_an_array(x):
    y, z = sym_conditional_expression(x)
    same(y, x * 2 if x.sum() > 0 else -x)
    same(z, np.where(x > 1, x, 0.0))


# == for =====================================================================================
def scan_rows(xs):
    h = xs[0] * 0.0
    total = xs.sum() * 0.0
    for x in xs:
        h = np.tanh(0.5 * h + x)
        total = total + x.sum()
    return h, total


sym_scan_rows = symbolic(scan_rows)


@FEW
@given(xs=matrices())
def test_for_over_a_tensor_is_a_scan_with_carried_state(xs):
    same(sym_scan_rows(xs), scan_rows(xs))
    assert "-> scan" in sym_scan_rows.explain()


def range_loop(n, x):
    acc = x
    for i in range(n):
        acc = acc * 0.5 + i
    return acc


def symbolic_range_loop(n: i64[()], x):
    return range_loop(n, x)


sym_symbolic_range = symbolic(symbolic_range_loop)
sym_python_range = symbolic(range_loop)


@FEW
@given(n=st.integers(0, 6), x=arrays())
def test_for_over_range_of_a_symbolic_n_is_a_scan(n, x):
    same(sym_symbolic_range(n, x), range_loop(n, x))
    assert len(sym_symbolic_range._compiled) <= 2  # n is not part of the key: rank of x is


@FEW
@given(n=st.integers(0, 4), x=arrays(max_dims=1))
def test_for_over_range_of_a_python_int_is_unrolled(n, x):
    same(sym_python_range(n, x), range_loop(n, x))
    assert "-> unrolled" in sym_python_range.explain()


def test_a_symbolic_range_traces_once_for_every_n():
    f = symbolic(symbolic_range_loop)
    for n in (0, 1, 5):
        same(f(n, np.ones(2)), range_loop(n, np.ones(2)))
    assert len(f._compiled) == 1


def running_until(xs, limit):
    s = xs[0].sum() * 0.0
    for x in xs:
        s = s + x.sum()
        if s > limit:
            break
    return s


sym_running_until = symbolic(running_until)


@FEW
@given(xs=matrices(), limit=floats(-3.0, 3.0))
def test_if_break_at_the_end_of_a_symbolic_for_is_until(xs, limit):
    same(sym_running_until(xs, limit), running_until(xs, limit))


# == while ===================================================================================
def newton_sqrt(a):
    x = a
    while abs(x * x - a) > 1e-12 * a:
        x = 0.5 * (x + a / x)
    return x


sym_newton_sqrt = symbolic(newton_sqrt)


@FEW
@given(a=st.floats(1e-3, 1e4))
def test_while_on_a_symbolic_condition_newton(a):
    result = sym_newton_sqrt(np.float64(a))
    same(result, newton_sqrt(np.float64(a)))
    np.testing.assert_allclose(result, np.sqrt(a), rtol=1e-12)
    assert "-> scan" in sym_newton_sqrt.explain()


def collatz_steps(n: i64[()]):
    count = 0
    while n > 1:
        if n % 2 > 0:
            n = 3 * n + 1
        else:
            n = n // 2
        count = count + 1
    return count


sym_collatz_steps = symbolic(collatz_steps)


@FEW
@given(n=st.integers(1, 200))
def test_while_with_a_symbolic_if_inside_collatz(n):
    assert int(sym_collatz_steps(n)) == collatz_steps(n)
    explained = sym_collatz_steps.explain()
    assert "`while` -> scan" in explained and "`if` -> ifelse" in explained


def test_collatz_known_values_and_zero_iterations():
    assert int(sym_collatz_steps(27)) == 111
    assert int(sym_collatz_steps(1)) == 0  # the condition is tested before the first step


def python_while(x, k):
    while k > 0:
        x = x * 2 + k
        k = k - 1
    return x


sym_python_while = symbolic(python_while)


@FEW
@given(x=arrays(), k=st.integers(0, 4))
def test_while_on_a_python_condition_is_python(x, k):
    same(sym_python_while(x, k), python_while(x, k))
    assert "`while` -> python" in sym_python_while.explain()


def test_a_symbolic_while_past_max_iters_is_a_runtime_error():
    f = symbolic(max_iters=5)(newton_sqrt)
    with pytest.raises(GraphRuntimeError, match="max_iters=5"):
        f(np.float64(1e6))
    np.testing.assert_allclose(f(np.float64(1.0)), 1.0)


def test_the_max_iters_error_points_at_the_while():
    f = symbolic(max_iters=5)(newton_sqrt)
    with pytest.raises(GraphRuntimeError) as info:
        f(np.float64(1e6))
    assert info.value.diagnostic.span.line == line_of(newton_sqrt, "while abs(")


def halve_until_small(x):
    n = x * 0
    while x > 1:
        x = x / 2
        n = n + 1
        if n >= 3:
            break
    return x, n


def test_if_break_at_the_end_of_a_symbolic_while():
    f = symbolic(halve_until_small)
    same(f(np.float64(3.0)), halve_until_small(np.float64(3.0)))  # the condition ends it
    same(f(np.float64(100.0)), halve_until_small(np.float64(100.0)))  # the break ends it


# == calls, closures, defaults ==============================================================
def sign_scale(v):
    if v.sum() > 0:
        r = v * 2
    else:
        r = -v
    return r


def calls_a_helper(x):
    return sign_scale(x) + sign_scale(x - 1)


sym_calls_a_helper = symbolic(calls_a_helper)


@FEW
@given(x=arrays())
def test_a_plain_helper_with_a_symbolic_if_is_converted_too(x):
    same(sym_calls_a_helper(x), calls_a_helper(x))


def nested_helper(x):
    def flip_if_positive(v):
        if v.sum() > 0:
            v = -v
        return v

    return flip_if_positive(x) + flip_if_positive(x - 1)


def test_a_nested_helper_with_a_symbolic_if_is_converted_too():
    x = np.array([0.5, 1.0])
    same(symbolic(nested_helper)(x), nested_helper(x))


def make_multiplier(k):
    def multiply(v):
        return v * k

    return multiply


triple = make_multiplier(3.0)


def calls_a_closure(x):
    return triple(x) + 1


def test_a_helper_that_is_a_closure_keeps_its_closure():
    x = np.array([1.0, 2.0])
    same(symbolic(calls_a_closure)(x), calls_a_closure(x))


def with_defaults(x, offset=3.0, k=2):
    return x * k + offset


def test_default_arguments():
    f = symbolic(with_defaults)
    x = np.array([1.0, 2.0])
    same(f(x), with_defaults(x))
    same(f(x, 0.5), with_defaults(x, 0.5))
    same(f(x, offset=1.0, k=3), with_defaults(x, offset=1.0, k=3))
    assert len(f._compiled) == 2  # k=2 and k=3 are static; offset is symbolic


def make_scaler(scale, shift):
    def scaler(x):
        y = x * scale
        return y + shift

    return scaler


def test_closure_variables_are_read():
    scaler = make_scaler(3.0, np.float64(1.5))
    x = np.array([1.0, -2.0])
    same(symbolic(scaler)(x), scaler(x))


def make_accumulator():
    total = shared(np.float64(0.0), name="closure_total")

    def accumulate(x):
        nonlocal total
        total = total + x.sum()
        return total

    return total, accumulate


def test_a_closed_over_shared_variable_rebound_through_nonlocal_is_updated():
    total, accumulate = make_accumulator()
    f = symbolic(accumulate)
    same(f(np.array([1.0, 2.0])), 3.0)
    f(np.array([0.5]))
    assert float(total.get_value()) == 3.5


# == cache keys: unannotated and static parameters =========================================
def double(x):
    return x * 2


def test_unannotated_parameters_take_dtype_and_rank_of_the_call():
    f = symbolic(double)
    assert f(np.ones(3)).dtype == np.float64
    f(np.ones(7))  # another shape, same signature: no retrace
    assert len(f._compiled) == 1
    assert f(np.ones(3, np.float32)).dtype == np.float32
    assert len(f._compiled) == 2
    assert f(np.arange(3)).dtype == np.int64
    assert len(f._compiled) == 3
    same(f(np.ones((2, 2))), np.full((2, 2), 2.0))
    assert len(f._compiled) == 4
    f(np.float64(2.5))
    f(2.5)  # a Python float: floatX scalar, the same signature as a float64 0-d array
    assert len(f._compiled) == 5


def test_string_annotations_are_evaluated():
    spec = importlib.util.spec_from_file_location(
        "_future_annotations", Path(HERE).with_name("_future_annotations.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    count_up = module.count_up
    assert isinstance(count_up.__annotations__["n"], str)  # what the test is about
    f = symbolic(count_up)
    result = f(3, np.zeros(2, np.float32))
    same(result, np.full(2, 3.0))
    f(4, np.zeros(2, np.float32))
    assert len(f._compiled) == 1
    with pytest.raises(InputError):
        f(3, np.zeros(2))  # float64 into f32 is refused


def by_mode(x, mode, scale):
    if mode == "double":
        y = x * 2
    elif mode == "negate":
        y = -x
    else:
        y = x
    return y * scale[0] + scale[1]


def test_static_arguments_are_in_the_cache_key():
    f = symbolic(by_mode)
    x = np.arange(3.0)
    for mode in ("double", "negate", "other", "double"):
        for scale in ((1, 0), (2, 1)):
            same(f(x, mode, scale), by_mode(x, mode, scale))
    assert len(f._compiled) == 6


def test_an_argument_that_is_neither_array_nor_static_is_refused_by_name():
    f = symbolic(double)
    with pytest.raises(TypeError, match="'x'"):
        f(object())


# == laziness ===============================================================================
def lazy_reshape(x, c):
    if c > 0:
        y = x.reshape((7, -1)).sum()
    else:
        y = x.sum()
    return y


sym_lazy_reshape = symbolic(lazy_reshape)


@FEW
@given(x=vectors(max_side=13).filter(lambda v: v.size % 7 != 0), c=floats(-5.0, -0.1))
def test_the_untaken_branch_of_a_symbolic_if_does_not_run(x, c):
    same(sym_lazy_reshape(x, c), x.sum())


def test_the_lazy_branch_would_fail_if_taken():
    with pytest.raises(GraphRuntimeError) as info:
        sym_lazy_reshape(np.arange(5.0), 1.0)
    assert info.value.diagnostic.code == "AS205"
    assert info.value.diagnostic.span.line == line_of(lazy_reshape, "reshape((7, -1))")


# == shared state ============================================================================
w = shared(np.ones(3), name="w")
steps = shared(np.int64(0), name="steps")


@pytest.fixture
def fresh_shared():
    w.set_value(np.ones(3))
    steps.set_value(np.int64(0))


# A shared variable read and rebound in a @symbolic function is a local that starts at its
# stored value (DESIGN.md); linters see a local read before assignment (F823).
def sgd_step(g):
    before = w.sum()  # noqa: F823
    w -= 0.1 * g
    steps = steps + 1  # noqa: F823, F841
    return before, w


sym_sgd_step = symbolic(sgd_step)


def test_shared_updates_from_augmented_assignment_and_rebinding(fresh_shared):
    g = np.array([1.0, 2.0, 3.0])
    before, after = sym_sgd_step(g)
    same(before, 3.0)  # the output read the stored value before the update
    same(after, 1 - 0.1 * g)
    same(w.get_value(), 1 - 0.1 * g)  # applied once, after the outputs
    assert int(steps.get_value()) == 1
    sym_sgd_step(g)
    same(w.get_value(), 1 - 0.2 * g)
    assert int(steps.get_value()) == 2


def test_a_function_that_only_reads_a_shared_variable_has_no_update(fresh_shared):
    def read_only(x):
        return x * w

    f = symbolic(read_only)
    same(f(np.full(3, 2.0)), np.full(3, 2.0))
    assert f._last.updates == []


def assign_step(g):
    w.assign(w * 0.5 + g)
    return w.sum()


def test_assign_method_updates_and_later_reads_see_the_new_value(fresh_shared):
    f = symbolic(assign_step)
    same(f(np.zeros(3)), 1.5)
    same(w.get_value(), np.full(3, 0.5))


def global_step(g):
    global w
    w -= g
    return w


def test_a_global_declaration_of_a_shared_variable_is_allowed(fresh_shared):
    same(symbolic(global_step)(np.ones(3)), np.zeros(3))
    same(w.get_value(), np.zeros(3))


def risky_step(g, h):
    w -= g  # noqa: F823, F841 - fails at run time when g is not of length 3
    steps = steps + 1  # noqa: F823, F841
    return g + h  # fails at run time when g and h differ in length


sym_risky_step = symbolic(risky_step)


@pytest.mark.parametrize(
    ("g", "h", "marker"),
    [
        (np.ones(3), np.ones(4), "return g + h"),  # an output fails
        (np.ones(4), np.ones(4), "w -= g"),  # an update fails
    ],
)
def test_a_call_that_fails_at_run_time_changes_no_shared_variable(fresh_shared, g, h, marker):
    with pytest.raises(GraphRuntimeError) as info:
        sym_risky_step(g, h)
    same(w.get_value(), np.ones(3))
    assert int(steps.get_value()) == 0
    assert info.value.diagnostic.span.file == HERE
    assert info.value.diagnostic.span.line == line_of(risky_step, marker)
    sym_risky_step(np.ones(3), np.ones(3))  # and the next good call updates both
    same(w.get_value(), np.zeros(3))
    assert int(steps.get_value()) == 1


# == input dtypes ============================================================================
def twice_f64(x: f64["n"]):
    return x * 2


def twice_f32(x: f32["n"]):
    return x * 2


def test_float32_data_into_an_f64_parameter_is_converted():
    result = symbolic(twice_f64)(np.array([1.5, 2.0], np.float32))
    assert result.dtype == np.float64
    same(result, [3.0, 4.0])


def test_float64_data_into_an_f32_parameter_is_refused_naming_it():
    f = symbolic(twice_f32)
    with pytest.raises(InputError) as info:
        f(np.array([1.0, 2.0]))
    assert info.value.diagnostic.code == "AS302"
    assert "'x'" in info.value.diagnostic.message
    assert "float64" in info.value.diagnostic.message


def test_the_downcast_refusal_names_the_decorator_option():
    with pytest.raises(InputError) as info:
        symbolic(twice_f32)(np.array([1.0, 2.0]))
    assert "allow_input_downcast" in str(info.value)


def test_allow_input_downcast_accepts_float64_into_f32():
    f = symbolic(allow_input_downcast=True)(twice_f32)
    result = f(np.array([1.0, 2.0]))
    assert result.dtype == np.float32
    same(result, [2.0, 4.0])


def test_python_scalars_fit_any_parameter_of_their_kind():
    def scale(x: f32[()]):
        return x * 2

    f = symbolic(scale)
    assert f(1.5).dtype == np.float32 and float(f(1.5)) == 3.0
    assert float(f(2)) == 4.0


# == errors name this file and line ==========================================================
def broadcast_error(x: f32["n", 3], y: f32[4]):
    z = x + y  # AS201 here
    return z


def test_decorating_never_raises_and_the_first_call_raises_the_shape_error():
    f = symbolic(broadcast_error)  # no error yet
    with pytest.raises(GraphTypeError) as info:
        f(np.ones((2, 3), np.float32), np.ones(4, np.float32))
    d = info.value.diagnostic
    assert d.code == "AS201"
    assert (d.span.file, d.span.line) == (HERE, line_of(broadcast_error, "# AS201 here"))
    message = str(info.value)
    assert f"{HERE}:{d.span.line}:" in message
    assert "f32[n, 3]" in message and "f32[4]" in message


def one_branch_then_used(x):
    if x.sum() > 0:
        y = x * 2
    z = y + 1  # y used here
    return z


def test_a_variable_assigned_in_one_branch_and_used_after_is_an_error():
    with pytest.raises(NameError) as info:
        symbolic(one_branch_then_used)(np.ones(2))
    message = str(info.value)
    assert "'y'" in message and "only one branch" in message
    assert f"line {line_of(one_branch_then_used, 'if x.sum() > 0')}" in message


def test_the_one_branch_error_names_this_file():
    with pytest.raises(NameError) as info:
        symbolic(one_branch_then_used)(np.ones(2))
    assert HERE in str(info.value)


def one_branch_then_returned(x):
    if x.sum() > 0:
        y = x * 2
    return y


def test_returning_a_variable_assigned_in_one_branch_is_the_same_error():
    with pytest.raises(NameError, match="'y'.*only one branch"):
        symbolic(one_branch_then_returned)(np.ones(2))


def carried_rank_change(xs):
    h = xs[0]
    for x in xs:  # AS209 here
        h = (h + x).sum()
    return h


def carried_dtype_change(xs):
    h = xs.sum() * 0
    for x in xs:  # AS209 here
        h = h + x.sum() > 0
    return h


@pytest.mark.parametrize(
    ("body", "change"),
    [(carried_rank_change, "f64[?] to f64[()]"), (carried_dtype_change, "f64[()] to bool[()]")],
)
def test_a_loop_carried_variable_that_changes_type_is_as209(body, change):
    with pytest.raises(GraphTypeError) as info:
        symbolic(body)(np.ones((3, 2)))
    d = info.value.diagnostic
    assert d.code == "AS209"
    assert "'h'" in d.message and change in d.message
    assert (d.span.file, d.span.line) == (HERE, line_of(body, "# AS209 here"))
    assert f"{HERE}:{d.span.line}:" in str(info.value)


def continue_in_loop(xs):
    s = xs[0] * 0
    for x in xs:
        if x.sum() < 0:
            continue  # AS102 here
        s = s + x
    return s


def test_continue_in_a_symbolic_loop_says_what_to_write_instead():
    with pytest.raises(GraphTypeError) as info:
        symbolic(continue_in_loop)(np.ones((3, 2)))
    d = info.value.diagnostic
    assert d.code == "AS102"
    assert d.span.file == HERE and f"{HERE}:{d.span.line}:" in str(info.value)
    assert "continue" in d.message
    assert any("if c: break" in note for note in d.notes)


def test_continue_error_points_at_the_continue_statement():
    with pytest.raises(GraphTypeError) as info:
        symbolic(continue_in_loop)(np.ones((3, 2)))
    assert info.value.diagnostic.span.line == line_of(continue_in_loop, "# AS102 here")


def compare_equal(x):
    if x == 0:
        y = x + 1
    else:
        y = x - 1
    return y


def test_equality_in_a_condition_compares_values():
    f = symbolic(compare_equal)
    same(f(np.float64(0.0)), compare_equal(np.float64(0.0)))


# == check, source, explain, trace ===========================================================
def correct(x: f32["n", 3], y: f32[3]):
    return (x + y).sum()


def test_check_returns_the_diagnostics_without_running():
    (d,) = symbolic(broadcast_error).check()
    assert isinstance(d, Diagnostic)
    assert d.code == "AS201"
    assert (d.span.file, d.span.line) == (HERE, line_of(broadcast_error, "# AS201 here"))
    assert symbolic(correct).check() == []


def test_check_of_an_unannotated_function_finds_nothing_to_check():
    assert symbolic(double).check() == []


def test_source_is_the_converted_code():
    f = symbolic(scalar_if)
    expected = convert_function(textwrap.dedent(inspect.getsource(scalar_if))).code
    assert f.source() == expected
    assert "__ag.if_stmt(" in f.source() and "return __ag.ret((y, z)" in f.source()


def explained(x, k):
    if k > 0:
        x = x + 1
    if x.sum() > 0:
        x = x * 2
    for row in x:
        x = x + row.sum()
    while x.sum() > 100:
        x = x / 2
    return x


def test_explain_says_what_each_statement_became():
    f = symbolic(explained)
    assert "not reached" in f.explain()  # before any trace
    f(np.ones((2, 2)), 1)
    lines = f.explain().splitlines()
    assert len(lines) == 4
    expected = [
        (line_of(explained, "if k > 0"), "`if` -> python"),
        (line_of(explained, "if x.sum() > 0"), "`if` -> ifelse"),
        (line_of(explained, "for row in x"), "`for` -> scan"),
        (line_of(explained, "while x.sum()"), "`while` -> scan"),
    ]
    for line, what in expected:
        assert any(text.startswith(f"line {line}: {what}") for text in lines), (line, lines)


def test_explain_lists_a_guarded_statement_with_its_reason():
    def one_return(x, k):
        if k > 0:
            return x
        return -x

    f = symbolic(one_return)
    f(np.ones(2), 1)
    assert "left as Python: a return in only one branch" in f.explain()


def test_explain_of_a_loop_with_until_has_no_dead_if():
    sym_running_until(np.ones((2, 2)), 1.0)
    assert "not reached" not in sym_running_until.explain()


def helper_then_python_if(x, k):
    y = sign_scale(x)
    if k > 0:
        y = y + 1
    return y


def test_explain_is_not_confused_by_a_converted_helper():
    f = symbolic(helper_then_python_if)
    same(f(np.ones(2), 1), helper_then_python_if(np.ones(2), 1))
    assert "`if` -> python" in f.explain()


def test_explain_lists_statements_in_source_order():
    sym_elif_chain(np.ones(2))
    lines = [int(t.split(":")[0].split()[1]) for t in sym_elif_chain.explain().splitlines()]
    assert lines == sorted(lines)


def test_trace_returns_the_graph_for_types_or_examples():
    f = symbolic(correct)
    traced = f.trace(f32["n", 3], f32[3])
    assert [v.type.dtype for v in traced.inputs] == ["float32", "float32"]
    assert [v.ndim for v in traced.inputs] == [2, 1]
    (out,) = traced.outputs
    assert out.ndim == 0 and out.dtype == "float32"
    assert traced.updates == []
    by_type = symbolic(double).trace(TensorType("float64", shape=(None, None)))
    assert by_type.inputs[0].ndim == 2
    by_example = symbolic(double).trace(np.ones(3, np.float32))
    assert by_example.outputs[0].dtype == "float32"


def test_trace_shows_shared_updates(fresh_shared):
    traced = sym_sgd_step.trace(np.ones(3))
    assert {shared_var.name for shared_var, _ in traced.updates} == {"w", "steps"}
    assert len(traced.outputs) == 2 and traced.structure == "tuple"


# == composition =============================================================================
sym_twice_f32 = symbolic(twice_f32)


def uses_a_symbolic_function(x: f32["n"]):
    cost = sym_twice_f32(x * x).sum()
    return cost, grad(cost, x)


def test_a_symbolic_function_called_on_symbolic_values_inlines_and_grad_works_through_it():
    x = np.array([1.0, -2.0, 0.5], np.float32)
    cost, g = symbolic(uses_a_symbolic_function)(x)
    np.testing.assert_allclose(cost, 2 * (x * x).sum(), rtol=1e-6)
    np.testing.assert_allclose(g, 4 * x, rtol=1e-6)


def _grows_a_list(xs):
    outs = []
    h = xs[0]
    for x in xs:
        h = h * 0.5 + x
        outs.append(h)
    return h


def _grows_a_list_in_python(x):
    outs = []
    for i in range(3):
        outs.append(x * i)
    return outs[0] + outs[2]


def test_growing_a_list_in_a_symbolic_loop_is_a_located_error():
    f = symbolic(_grows_a_list)
    with pytest.raises(GraphTypeError) as info:
        f(np.ones((3, 2)))
    diag = info.value.diagnostic
    assert diag.code == "AS102" and "'outs' grows" in diag.message
    assert diag.span.file == __file__
    assert any("assign the value each step" in note for note in diag.notes)


def test_growing_a_list_in_a_python_loop_is_plain_python():
    same(symbolic(_grows_a_list_in_python)(np.ones(2)), np.full(2, 2.0))


def test_an_inlined_symbolic_function_keeps_its_shared_updates():
    count = shared(np.float64(0), name="count")

    @symbolic
    def tick(x):
        count.assign(count + 1)
        return x * 2

    @symbolic
    def outer_fn(x: f64["n"]):  # noqa: F821 - "n" is a dim name
        return tick(x) + 1

    same(outer_fn(np.ones(2)), np.full(2, 3.0))
    same(outer_fn(np.ones(2)), np.full(2, 3.0))
    assert count.get_value() == 2.0


def _smooth(x, n):
    y = x[0] * 0
    for t in range(1, n):
        y = y + x[t - 1] * 0.5 + x[t] * 0.25 + x[t + 1] * 0.25
    return y


def _wraps_around(x, n):
    y = x[0] * 0
    for t in range(n):
        y = y + x[t - 1]  # at t = 0 this reads the last item, as Python does
    return y


sym_smooth = symbolic(_smooth)
sym_wraps_around = symbolic(_wraps_around)


@settings(max_examples=10)
@given(length=st.integers(3, 12), data=st.data())
def test_loops_reading_neighbours_match_python(length, data):
    n = data.draw(st.integers(1, length - 1))
    x = np.random.default_rng(length).normal(size=length)
    same(sym_smooth(x, np.int64(n)), _smooth(x, n))
    same(sym_wraps_around(x, np.int64(n)), _wraps_around(x, n))
    same(sym_smooth(x, n), _smooth(x, n))  # a Python n: unrolled


def test_a_read_past_the_end_fails_as_in_python():
    x = np.arange(5.0)
    with pytest.raises(IndexError):
        _smooth(x, 5)
    with pytest.raises(GraphRuntimeError):
        sym_smooth(x, np.int64(5))


def test_the_neighbour_reads_use_scan_taps():
    traced = sym_smooth.trace(np.zeros(6), np.int64(3))
    scans = [n for n in toposort(traced.outputs) if n.op.name.startswith("scan")]
    assert [n.op.info.seq_taps for n in scans] == [((0,), (-1, 0, 1))]
