"""Static shapes and broadcasting against ``numpy.broadcast_shapes``."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from astsym.typecheck import RuleError, broadcast_shapes, format_type
from astsym.typecheck.shapes import (
    broadcastable,
    dims_equal,
    format_shape,
    size_of,
    unify_dims,
)

# Small sides, with 1 (broadcasts) and 0 (empty) over-represented so conflicts are common.
sides = st.sampled_from([0, 1, 1, 2, 3, 4])
int_shapes = st.lists(sides, max_size=4).map(tuple)
shape_lists = st.lists(int_shapes, min_size=1, max_size=4)


def _numpy_broadcast(shapes):
    try:
        return np.broadcast_shapes(*shapes), None
    except ValueError as err:
        return None, err


def _first_conflict(shapes):
    """The first axis (from the left of the aligned shapes) where two dims disagree, and
    those two dims: the first dim that is not 1 and the first that differs from it."""
    ndim = max(len(s) for s in shapes)
    padded = [(1,) * (ndim - len(s)) + tuple(s) for s in shapes]
    for axis in range(ndim):
        seen = None
        for shape in padded:
            d = shape[axis]
            if d == 1:
                continue
            if seen is None:
                seen = d
            elif d != seen:
                return seen, d
    return None


@given(shape_lists)
def test_broadcast_int_shapes_match_numpy(shapes):
    expected, numpy_error = _numpy_broadcast(shapes)
    if numpy_error is None:
        assert broadcast_shapes(shapes) == expected
        return
    with pytest.raises(RuleError) as info:
        broadcast_shapes(shapes)
    assert info.value.code == "AS201"
    a, b = _first_conflict(shapes)
    assert f"dim {a} vs {b}" in info.value.message
    assert info.value.notes, "a broadcast error explains the rule in a help note"


@st.composite
def conflicting_pairs(draw):
    """Two shapes with dims that are neither equal nor 1 on one aligned axis."""
    a = draw(st.lists(sides, min_size=1, max_size=4))
    b = draw(st.lists(sides, min_size=1, max_size=4))
    i = draw(st.integers(1, min(len(a), len(b))))
    a[-i] = draw(st.sampled_from([0, 2, 3]))
    b[-i] = a[-i] + draw(st.sampled_from([2, 3]))
    return tuple(a), tuple(b)


@given(conflicting_pairs())
def test_broadcast_error_names_both_operand_types(pair):
    a, b = pair
    assert _numpy_broadcast([a, b])[1] is not None
    with pytest.raises(RuleError) as info:
        broadcast_shapes([a, b], ["float32", "int8"])
    message = info.value.message
    assert message.startswith(
        f"cannot broadcast {format_type('float32', a)} with {format_type('int8', b)}: "
    )


@given(shape_lists, st.data())
def test_unknown_dims_never_invent_conflicts(shapes, data):
    """Replacing dims by None or a name keeps every static dim of the result and can only
    hide a conflict, never create one."""
    expected, numpy_error = _numpy_broadcast(shapes)
    hidden = [
        tuple(data.draw(st.sampled_from([d, None, "n"])) if d != 1 else d for d in shape)
        for shape in shapes
    ]
    try:
        out = broadcast_shapes(hidden)
    except RuleError:
        assert numpy_error is not None
        return
    if numpy_error is None:
        assert len(out) == len(expected)
        for got, want in zip(out, expected):
            assert got is None or isinstance(got, str) or got == want


@pytest.mark.parametrize(
    ("shapes", "expected"),
    [
        ([("n", 3), (1, 3)], ("n", 3)),
        ([("n",), (3,)], (3,)),  # a name unifies with a static size
        ([(3,), ("n",)], (3,)),
        ([("n",), ("m",)], ("n",)),  # two names are not known to differ: not an error
        ([("n", 1), (1, "m")], ("n", "m")),
        ([(None,), (3,)], (3,)),  # None (unknown, not broadcastable) unifies too
        ([(None,), (1,)], (None,)),
        ([("n",), (None,)], ("n",)),
        ([(None, "n"), (2, 1, 1)], (2, None, "n")),
        ([(), ("n", 2)], ("n", 2)),
        ([], ()),
    ],
)
def test_broadcast_symbolic_dims(shapes, expected):
    assert broadcast_shapes(shapes) == expected


@pytest.mark.parametrize(
    ("shapes", "dims"),
    [
        ([("n", 3), (4,)], "dim 3 vs 4"),
        ([(2, "n"), (5, "n")], "dim 2 vs 5"),
        ([(1, 3), (1, 1), (2, 4)], "dim 3 vs 4"),
    ],
)
def test_broadcast_static_conflict_with_symbolic_dims(shapes, dims):
    with pytest.raises(RuleError) as info:
        broadcast_shapes(shapes, ["float32"] * len(shapes))
    assert info.value.code == "AS201"
    assert dims in info.value.message


def test_broadcast_error_message_in_design_form():
    with pytest.raises(RuleError) as info:
        broadcast_shapes([("n", 3), (4,)], ["float32", "float32"])
    assert info.value.message == "cannot broadcast f32[n, 3] with f32[4]: dim 3 vs 4"


@pytest.mark.parametrize(
    ("a", "b", "equal", "unified"),
    [
        (3, 3, True, 3),
        (3, 4, False, None),
        ("n", "n", True, "n"),
        ("n", "m", None, "n"),
        ("n", 3, None, 3),
        (None, 3, None, 3),
        (None, None, None, None),
        (None, "n", None, "n"),
    ],
)
def test_dims_equal_and_unify(a, b, equal, unified):
    assert dims_equal(a, b) is equal
    assert dims_equal(b, a) is equal
    if equal is False:
        with pytest.raises(ValueError):
            unify_dims(a, b)
    else:
        assert unify_dims(a, b) == unified
        assert unify_dims(b, a) == unified or not isinstance(unified, int)


@pytest.mark.parametrize(
    ("dtype", "shape", "text"),
    [
        ("float32", ("n", 3), "f32[n, 3]"),
        ("float64", (), "f64[()]"),
        ("int8", (None, 1), "i8[?, 1]"),
        ("uint16", (0,), "u16[0]"),
        ("bool", ("batch",), "bool[batch]"),
        ("complex128", (2, 2), "c128[2, 2]"),
    ],
)
def test_format_type(dtype, shape, text):
    assert format_type(dtype, shape) == text


@given(int_shapes)
def test_size_of_and_broadcastable_match_numpy(shape):
    array = np.empty(shape)
    assert size_of(shape) == array.size
    assert broadcastable(shape) == tuple(d == 1 for d in array.shape)
    assert format_shape(shape) == ("[" + ", ".join(map(str, shape)) + "]" if shape else "[()]")


def test_size_of_unknown():
    assert size_of((2, "n")) is None
    assert size_of((None, 0)) is None
    assert size_of(()) == 1
