"""Errors while a graph is built: each is a GraphTypeError wrapping a Diagnostic with a code,
a message naming the operand types, and the span of the line in this file that built it."""

from __future__ import annotations

from pathlib import Path

import pytest

import astsym.tensor as T
from astsym.graph.type import TensorType
from astsym.typecheck import GraphTypeError

HERE = str(Path(__file__).resolve())


def _where(tag: str, expression: str) -> tuple[int, int]:
    """(line, 1-based column) of ``expression`` on the line of this file tagged ``# @tag``."""
    lines = Path(HERE).read_text().splitlines()
    for number, text in enumerate(lines, 1):
        if text.rstrip().endswith(f"# @{tag}"):
            return number, text.index(expression) + 1
    raise LookupError(tag)


def test_vector_plus_matrix_is_fine():
    out = T.vector() + T.matrix()
    assert out.ndim == 2


def test_broadcast_mismatch_is_as201_at_this_line():
    a = TensorType("float32", shape=("n", 3))("a")
    b = TensorType("float32", shape=(4,))("b")
    with pytest.raises(GraphTypeError) as info:
        a + b  # @broadcast
    diag = info.value.diagnostic
    assert diag.code == "AS201" and diag.name == "broadcast-mismatch"
    assert "f32[n, 3]" in diag.message and "f32[4]" in diag.message
    assert "dim 3 vs 4" in diag.message
    line, col = _where("broadcast", "a + b")
    assert (diag.span.file, diag.span.line, diag.span.col) == (HERE, line, col)
    assert str(info.value).startswith(f"{HERE}:{line}:{col}: error[AS201]")
    assert isinstance(info.value, TypeError)


def test_rendered_error_shows_source_and_carets():
    a = TensorType("float32", shape=(2,))("a")
    with pytest.raises(GraphTypeError) as info:
        a * TensorType("float32", shape=(5,))("b")  # @render
    text = str(info.value)
    assert "a * TensorType" in text
    assert "^" in text.splitlines()[2]


def test_op_name_is_not_repeated():
    a = TensorType("float64", shape=(2, 3))()
    b = TensorType("float64", shape=(4, 5))()
    with pytest.raises(GraphTypeError) as info:
        a @ b
    assert info.value.diagnostic.message.count("matmul") == 1


def test_matmul_inner_dim_is_as202():
    a = TensorType("float64", shape=("n", 3))("a")
    b = TensorType("float64", shape=(4, "m"))("b")
    with pytest.raises(GraphTypeError) as info:
        T.dot(a, b)  # @matmul
    diag = info.value.diagnostic
    assert diag.code == "AS202"
    assert "3 vs 4" in diag.message
    assert (diag.span.line, diag.span.col) == _where("matmul", "T.dot")


def test_unknown_inner_dims_are_not_an_error():
    out = T.dmatrix() @ T.dmatrix()
    assert out.ndim == 2


@pytest.mark.parametrize("axis", [2, -3, (0, 5)])
def test_reduction_axis_out_of_range_is_as204(axis):
    x = T.dmatrix("x")
    with pytest.raises(GraphTypeError) as info:
        x.sum(axis=axis)
    assert info.value.diagnostic.code == "AS204"
    assert "rank 2" in info.value.diagnostic.message


def test_reshape_size_mismatch_is_as205():
    x = TensorType("float32", shape=(2, 3))("x")
    with pytest.raises(GraphTypeError) as info:
        x.reshape((4, 2))  # @reshape
    diag = info.value.diagnostic
    assert diag.code == "AS205"
    assert "6" in diag.message and "(4, 2)" in diag.message
    assert diag.span.line == _where("reshape", "x.reshape")[0]


def test_reshape_of_unknown_size_is_checked_at_run_time_only():
    assert T.dmatrix().reshape((2, 3, 4)).ndim == 3


def test_bool_of_a_variable_is_a_type_error():
    x = T.dscalar("x")
    with pytest.raises(TypeError, match="ifelse|switch"):
        bool(x > 0)
    with pytest.raises(TypeError, match="truth value"):
        if x:
            pass


def test_len_of_a_variable_is_a_type_error():
    with pytest.raises(TypeError, match=r"shape\[0\]"):
        len(T.dvector("v"))


def test_iterating_over_unknown_length_raises():
    with pytest.raises(TypeError, match="scan"):
        list(T.dvector("v"))
    with pytest.raises(TypeError, match="iterate"):
        for _ in T.dscalar("s"):
            pass


def test_iterating_over_a_static_length_unpacks():
    first, second = TensorType("float64", shape=(2, 3))("x")
    assert first.ndim == second.ndim == 1


def test_equality_is_identity_and_variables_hash():
    x, y = T.dvector("x"), T.dvector("y")
    assert (x == y) is False
    assert (x == x) is True
    assert (x != y) is True
    assert {x: 1, y: 2}[x] == 1
    assert len({x, y, x}) == 2
    assert T.eq(x, y).dtype == "bool"  # elementwise equality is T.eq
