"""Control-flow conversion, before and after: each test gives a function's source and the
exact converted code (``convert_function(source).code``), so any change to what the
converter emits shows up here in review."""

import textwrap

import pytest

from astsym.parse.convert import convert_function


def converted(source: str) -> str:
    return convert_function(textwrap.dedent(source)).code


def expect(source: str, after: str) -> None:
    assert converted(source) == textwrap.dedent(after).lstrip("\n")


# -- if --------------------------------------------------------------------------------------
def test_if_else():
    expect(
        """
        def f(x):
            if x > 0:
                y = x
            else:
                y = -x
            return y
        """,
        """
        def f(x):
            y = __ag.outer(__outer, globals(), 'y')
            def __if_true_1(y):
                y = x
                return (y, )
            def __if_false_2(y):
                y = -x
                return (y, )
            (y,) = __ag.if_stmt(x > 0, __if_true_1, __if_false_2, ('y',), __ag.read(locals(), ('y',)), __site[0])
            return __ag.ret(y, __ag.read(locals(), ('y',)))
        """,
    )


def test_if_without_else_passes_the_state_through():
    expect(
        """
        def f(x):
            y = x
            if x > 0:
                y = 2 * x
            return y
        """,
        """
        def f(x):
            y = __ag.outer(__outer, globals(), 'y')
            y = x
            def __if_true_1(y):
                y = 2 * x
                return (y, )
            def __if_false_2(y):
                pass
                return (y, )
            (y,) = __ag.if_stmt(x > 0, __if_true_1, __if_false_2, ('y',), __ag.read(locals(), ('y',)), __site[0])
            return __ag.ret(y, __ag.read(locals(), ('y',)))
        """,
    )


def test_if_elif_else_nests_the_elif_in_the_false_branch():
    expect(
        """
        def f(x):
            if x > 0:
                y = 1
            elif x < 0:
                y = -1
            else:
                y = 0
            return y
        """,
        """
        def f(x):
            y = __ag.outer(__outer, globals(), 'y')
            def __if_true_3(y):
                y = 1
                return (y, )
            def __if_false_4(y):
                def __if_true_1(y):
                    y = -1
                    return (y, )
                def __if_false_2(y):
                    y = 0
                    return (y, )
                (y,) = __ag.if_stmt(x < 0, __if_true_1, __if_false_2, ('y',), __ag.read(locals(), ('y',)), __site[0])
                return (y, )
            (y,) = __ag.if_stmt(x > 0, __if_true_3, __if_false_4, ('y',), __ag.read(locals(), ('y',)), __site[1])
            return __ag.ret(y, __ag.read(locals(), ('y',)))
        """,
    )


def test_if_with_both_branches_returning_becomes_one_return():
    expect(
        """
        def f(x):
            if x > 0:
                return x
            else:
                return -x
        """,
        """
        def f(x):
            def __if_true_2(__ret_1):
                __ret_1 = x
                return (__ret_1, )
            def __if_false_3(__ret_1):
                __ret_1 = -x
                return (__ret_1, )
            (__ret_1,) = __ag.if_stmt(x > 0, __if_true_2, __if_false_3, ('__ret_1',), __ag.read(locals(), ('__ret_1',)), __site[0])
            return __ag.ret(__ret_1, __ag.read(locals(), ()))
        """,
    )


def test_if_with_a_return_in_one_branch_stays_python_behind_a_guard():
    source = """
        def f(x):
            if x > 0:
                return x
            y = -x
            return y
        """
    expect(
        source,
        """
        def f(x):
            y = __ag.outer(__outer, globals(), 'y')
            if __ag.python_cond(x > 0, __site[0]):
                return __ag.ret(x, __ag.read(locals(), ('y',)))
            y = -x
            return __ag.ret(y, __ag.read(locals(), ('y',)))
        """,
    )
    (site,) = convert_function(textwrap.dedent(source)).sites
    assert (site.kind, site.line, site.col) == ("if", 3, 5)
    assert site.note == "a return in only one branch"


def test_conditional_expression():
    expect(
        """
        def f(x):
            y = x if x > 0 else -x
            return y
        """,
        """
        def f(x):
            y = __ag.outer(__outer, globals(), 'y')
            y = __ag.if_exp(x > 0, lambda: x, lambda: -x, __site[0])
            return __ag.ret(y, __ag.read(locals(), ('y',)))
        """,
    )


# -- for -------------------------------------------------------------------------------------
def test_for_over_a_tensor():
    expect(
        """
        def f(xs):
            s = 0.0
            for x in xs:
                s = s + x
            return s
        """,
        """
        def f(xs):
            s = __ag.outer(__outer, globals(), 's')
            x = __ag.outer(__outer, globals(), 'x')
            s = 0.0
            def __for_body_2(__item_1, x, s):
                x = __item_1
                s = s + x
                return (x, s, )
            (x, s) = __ag.for_stmt(xs, __for_body_2, ('x', 's'), __ag.read(locals(), ('x', 's')), None, __site[0], ())
            return __ag.ret(s, __ag.read(locals(), ('s', 'x')))
        """,
    )


def test_for_over_range_calls_the_symbolic_range():
    expect(
        """
        def f(n):
            s = 0
            for i in range(n):
                s = s + i
            return s
        """,
        """
        def f(n):
            s = __ag.outer(__outer, globals(), 's')
            i = __ag.outer(__outer, globals(), 'i')
            s = 0
            def __for_body_2(__item_1, i, s):
                i = __item_1
                s = s + i
                return (i, s, )
            (i, s) = __ag.for_stmt(__ag.range_(n), __for_body_2, ('i', 's'), __ag.read(locals(), ('i', 's')), None, __site[0], ())
            return __ag.ret(s, __ag.read(locals(), ('s', 'i')))
        """,
    )


def test_if_break_at_the_end_of_a_for_becomes_its_until_flag():
    expect(
        """
        def f(xs):
            s = 0.0
            for x in xs:
                s = s + x
                if s > 10:
                    break
            return s
        """,
        """
        def f(xs):
            s = __ag.outer(__outer, globals(), 's')
            x = __ag.outer(__outer, globals(), 'x')
            s = 0.0
            def __for_body_3(__item_2, x, s, __brk_1):
                x = __item_2
                s = s + x
                __brk_1 = s > 10
                return (x, s, __brk_1, )
            (x, s, __brk_1) = __ag.for_stmt(xs, __for_body_3, ('x', 's', '__brk_1'), __ag.read(locals(), ('x', 's', '__brk_1')), '__brk_1', __site[1], ())
            return __ag.ret(s, __ag.read(locals(), ('s', 'x')))
        """,
    )


def test_for_with_continue_stays_python_behind_a_guard():
    source = """
        def f(xs):
            s = 0.0
            for x in xs:
                if x < 0:
                    continue
                s = s + x
            return s
        """
    expect(
        source,
        """
        def f(xs):
            s = __ag.outer(__outer, globals(), 's')
            x = __ag.outer(__outer, globals(), 'x')
            s = 0.0
            for x in __ag.python_iter(xs, __site[1]):
                if __ag.python_cond(x < 0, __site[0]):
                    continue
                s = s + x
            return __ag.ret(s, __ag.read(locals(), ('s', 'x')))
        """,
    )
    sites = convert_function(textwrap.dedent(source)).sites
    assert [(s.kind, s.line) for s in sites] == [("if", 5), ("for", 6)]  # at the continue
    assert "continue" in sites[1].note


def test_for_with_a_break_before_the_end_stays_python_behind_a_guard():
    source = """
        def f(xs):
            s = 0.0
            for x in xs:
                if x < 0:
                    break
                s = s + x
            return s
        """
    conversion = convert_function(textwrap.dedent(source))
    assert "for x in __ag.python_iter(xs, __site[1]):" in conversion.code
    assert conversion.sites[1].note == "a break that is not the last `if c: break`"


def test_for_with_a_return_inside_stays_python_behind_a_guard():
    expect(
        """
        def f(xs):
            for x in xs:
                if x > 0:
                    return x
            return xs[0]
        """,
        """
        def f(xs):
            x = __ag.outer(__outer, globals(), 'x')
            for x in __ag.python_iter(xs, __site[1]):
                if __ag.python_cond(x > 0, __site[0]):
                    return __ag.ret(x, __ag.read(locals(), ('x',)))
            return __ag.ret(xs[0], __ag.read(locals(), ('x',)))
        """,
    )


def test_nested_ifs_inside_a_loop():
    expect(
        """
        def f(xs):
            s = 0.0
            for x in xs:
                if x > 0:
                    if x > 1:
                        s = s + x
                    else:
                        s = s - x
            return s
        """,
        """
        def f(xs):
            s = __ag.outer(__outer, globals(), 's')
            x = __ag.outer(__outer, globals(), 'x')
            s = 0.0
            def __for_body_6(__item_5, x, s):
                x = __item_5
                def __if_true_3(s):
                    def __if_true_1(s):
                        s = s + x
                        return (s, )
                    def __if_false_2(s):
                        s = s - x
                        return (s, )
                    (s,) = __ag.if_stmt(x > 1, __if_true_1, __if_false_2, ('s',), __ag.read(locals(), ('s',)), __site[0])
                    return (s, )
                def __if_false_4(s):
                    pass
                    return (s, )
                (s,) = __ag.if_stmt(x > 0, __if_true_3, __if_false_4, ('s',), __ag.read(locals(), ('s',)), __site[1])
                return (x, s, )
            (x, s) = __ag.for_stmt(xs, __for_body_6, ('x', 's'), __ag.read(locals(), ('x', 's')), None, __site[2], ())
            return __ag.ret(s, __ag.read(locals(), ('s', 'x')))
        """,
    )


# -- while -----------------------------------------------------------------------------------
def test_while():
    expect(
        """
        def f(x):
            n = 0
            while x > 1:
                x = x / 2
                n += 1
            return n
        """,
        """
        def f(x):
            n = __ag.outer(__outer, globals(), 'n')
            n = 0
            def __while_cond_1(x, n):
                return x > 1
            def __while_body_2(x, n):
                x = x / 2
                n += 1
                return (x, n, )
            (x, n) = __ag.while_stmt(__while_cond_1, __while_body_2, ('x', 'n'), __ag.read(locals(), ('x', 'n')), None, __site[0])
            return __ag.ret(n, __ag.read(locals(), ('n',)))
        """,
    )


def test_if_break_at_the_end_of_a_while_becomes_its_until_flag():
    expect(
        """
        def f(x):
            while x > 1:
                x = x / 2
                if x < 3:
                    break
            return x
        """,
        """
        def f(x):
            def __while_cond_2(x, __brk_1):
                return x > 1
            def __while_body_3(x, __brk_1):
                x = x / 2
                __brk_1 = x < 3
                return (x, __brk_1, )
            (x, __brk_1) = __ag.while_stmt(__while_cond_2, __while_body_3, ('x', '__brk_1'), __ag.read(locals(), ('x', '__brk_1')), '__brk_1', __site[1])
            return __ag.ret(x, __ag.read(locals(), ()))
        """,
    )


def test_while_with_continue_stays_python_behind_a_guard():
    expect(
        """
        def f(x):
            while x > 1:
                x = x - 1
                if x > 5:
                    continue
                x = x / 2
            return x
        """,
        """
        def f(x):
            while __ag.python_cond(x > 1, __site[1]):
                x = x - 1
                if __ag.python_cond(x > 5, __site[0]):
                    continue
                x = x / 2
            return __ag.ret(x, __ag.read(locals(), ()))
        """,
    )


# -- the function: shared-variable candidates, returns, calls ------------------------------
def test_assigned_names_get_the_outer_prologue_and_are_recorded_at_return():
    source = """
        def train(x, y):
            cost = ((x @ w - y) ** 2).mean()
            w -= 0.1 * grad(cost, w)
            return cost
        """
    expect(
        source,
        """
        def train(x, y):
            cost = __ag.outer(__outer, globals(), 'cost')
            w = __ag.outer(__outer, globals(), 'w')
            cost = __ag.call(((x @ w - y) ** 2).mean)
            w -= 0.1 * __ag.call(grad, cost, w)
            return __ag.ret(cost, __ag.read(locals(), ('cost', 'w')))
        """,
    )
    conversion = convert_function(textwrap.dedent(source))
    assert conversion.shared_candidates == ["cost", "w"]  # parameters are never candidates


def test_a_function_without_return_gets_one_that_records_the_state():
    expect(
        """
        def step(g):
            w = w - g
        """,
        """
        def step(g):
            w = __ag.outer(__outer, globals(), 'w')
            w = w - g
            return __ag.ret(None, __ag.read(locals(), ('w',)))
        """,
    )


def test_every_return_records_the_state_and_a_bare_tuple_stays_one_argument():
    expect(
        """
        def f(x):
            w = x
            return w, x
        """,
        """
        def f(x):
            w = __ag.outer(__outer, globals(), 'w')
            w = x
            return __ag.ret((w, x), __ag.read(locals(), ('w',)))
        """,
    )


def test_assign_method_becomes_a_rebinding():
    expect(
        """
        def f(g):
            w.assign(w - g)
            return w
        """,
        """
        def f(g):
            w = __ag.outer(__outer, globals(), 'w')
            w = __ag.assign(w, w - g)
            return __ag.ret(w, __ag.read(locals(), ('w',)))
        """,
    )


def test_nested_functions_are_left_for_conversion_when_called():
    expect(
        """
        @symbolic
        def f(x):
            def g(v):
                if v > 0:
                    v = -v
                return v
            return g(x)
        """,
        """
        def f(x):
            g = __ag.outer(__outer, globals(), 'g')
            def g(v):
                if v > 0:
                    v = -v
                return v
            return __ag.ret(__ag.call(g, x), __ag.read(locals(), ('g',)))
        """,
    )


# -- properties of every conversion ----------------------------------------------------------
PROGRAMS = [
    "def f(x):\n    if x > 0:\n        y = 1\n    elif x < 0:\n        y = 2\n    else:\n        y = 3\n    return y\n",
    "def f(xs):\n    for x in xs:\n        for y in x:\n            s = y\n    return s\n",
    "def f(x):\n    while x > 0:\n        while x > 1:\n            x = x - 1\n        x = x - 1\n    return x\n",
    "def f(xs):\n    for x in xs:\n        if x > 0:\n            break\n        if x < 0:\n            break\n    return x\n",
    "def f(x):\n    y = [v for v in x if v > 0]\n    return y if y else x\n",
    "def f(x, *args, k=1, **kw):\n    a, *b = args\n    return a\n",
    "async def g():\n    pass\ndef f(x):\n    return x\n",
]


@pytest.mark.parametrize("source", PROGRAMS)
def test_converted_code_compiles(source):
    code = convert_function(source).code
    compile(code, "<converted>", "exec")


@pytest.mark.parametrize("source", PROGRAMS[:4])
def test_sites_point_at_the_converted_statements(source):
    conversion = convert_function(source)
    lines = source.splitlines()
    for site in conversion.sites:
        text = lines[site.line - 1][site.col - 1 :]
        assert text.startswith((site.kind, "el" + site.kind)), (site, text)


def test_reads_of_x_at_t_plus_k_become_tap_parameters():
    source = """
        def f(x, n):
            y = 0.0
            for t in range(1, n):
                y = y + x[t - 1] + x[t + 2]
            return y
        """
    code = convert_function(textwrap.dedent(source)).code
    assert "def __for_body_2(__item_1, __tap_x_m1, __tap_x_p2, t, y):" in code
    assert "y = y + __tap_x_m1 + __tap_x_p2" in code
    assert "((x, -1), (x, 2), ))" in code


def test_reads_of_an_array_assigned_in_the_loop_stay_indexing():
    source = """
        def f(x, n):
            for t in range(n):
                x = x * 2
                y = x[t - 1]
            return y
        """
    code = convert_function(textwrap.dedent(source)).code
    assert "__tap_" not in code and "x[t - 1]" in code
