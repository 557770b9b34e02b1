"""Scope analysis for control-flow conversion: which names a block assigns, where given
statements occur, and whether a block ends with ``return``."""

import textwrap

import libcst as cst
import pytest

from astsym.parse.scope import assigned_names, ends_with_return, find


def block(source: str) -> list:
    return list(cst.parse_module(textwrap.dedent(source)).body)


@pytest.mark.parametrize(
    ("source", "names"),
    [
        ("a = 1\nb = a\n", ["a", "b"]),
        ("a = b = 1\n", ["a", "b"]),
        ("a, (b, [c, *d]) = x\n", ["a", "b", "c", "d"]),
        ("a += 1\n", ["a"]),
        ("a: int = 1\n", ["a"]),
        ("a: int\n", []),  # an annotation alone assigns nothing
        ("for i, j in x:\n    s = i\n", ["i", "j", "s"]),
        ("while c:\n    c = c - 1\n", ["c"]),
        ("if c:\n    a = 1\nelse:\n    b = 2\n", ["a", "b"]),
        ("if c:\n    a = 1\nelif d:\n    b = 2\n", ["a", "b"]),
        ("y = (n := 3) + 1\n", ["y", "n"]),
        ("with open(p) as fh:\n    t = fh\n", ["fh", "t"]),
        ("x.attr = 1\nx[0] = 2\n", []),  # assignments into objects, not names
        ("b = 1\na = 2\nb = 3\na += 1\n", ["b", "a"]),  # first assignment order, no repeats
    ],
)
def test_assigned_names(source, names):
    assert assigned_names(block(source)) == names


def test_nested_scopes_are_not_looked_into_but_their_names_are_assigned():
    source = """
        def helper(u):
            inner = u
        class K:
            attr = 1
        f = lambda v: v
        ys = [z for z in range(3)]
        gs = {k: k for k in range(3)}
        """
    assert assigned_names(block(source)) == ["helper", "K", "f", "ys", "gs"]


def test_find_returns_statements_of_the_given_kinds_in_order():
    source = """
        a = 1
        if c:
            return a
        for x in xs:
            return x
        return None
        """
    found = find(block(source), (cst.Return,))
    assert len(found) == 3
    assert [cst.Module([]).code_for_node(r) for r in found] == [
        "return a",
        "return x",
        "return None",
    ]


def test_find_skips_nested_functions_and_lambdas():
    source = """
        def helper():
            return 1
        f = lambda: (yield)
        """
    assert find(block(source), (cst.Return, cst.Yield)) == []


def test_find_with_loops_as_scopes_skips_breaks_of_inner_loops():
    source = """
        for i in a:
            break
        while c:
            break
        if d:
            break
        """
    assert len(find(block(source), (cst.Break,))) == 3
    assert len(find(block(source), (cst.Break,), loops_are_scopes=True)) == 1


def test_find_several_kinds():
    source = """
        for i in a:
            if i:
                continue
            break
        """
    kinds = [type(n).__name__ for n in find(block(source), (cst.Break, cst.Continue))]
    assert kinds == ["Continue", "Break"]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("return 1\n", True),
        ("a = 1\nreturn a\n", True),
        ("a = 1; return a\n", True),
        ("return\n", True),
        ("a = 1\n", False),
        ("return 1\na = 1\n", False),
        ("if c:\n    return 1\nelse:\n    return 2\n", False),  # only a simple last line
        ("for x in y:\n    return x\n", False),
    ],
)
def test_ends_with_return(source, expected):
    assert ends_with_return(block(source)) is expected


def test_an_empty_block_does_not_end_with_return():
    assert ends_with_return([]) is False
