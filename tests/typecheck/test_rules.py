"""The ops' shape rules against the shapes NumPy really produces; diagnostics and codes.

Every rule is fed random int shapes and compared with the NumPy function on empty arrays of
those shapes: same result shape, and a ``RuleError`` exactly when NumPy raises.
"""

import dataclasses
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from astsym.typecheck import (
    CODES,
    AstsymError,
    Diagnostic,
    GraphRuntimeError,
    GraphTypeError,
    InputError,
    RuleError,
    SourceSpan,
    codes,
)
from astsym.typecheck.diagnostics import error
from astsym.typecheck.rules import (
    concat_shape,
    dimshuffle_shape,
    dot_shape,
    matmul_shape,
    normalize_axes,
    normalize_axis,
    reduce_shape,
    reshape_shape,
    tensordot_shape,
)
from astsym.typecheck.shapes import format_shape

sides = st.sampled_from([0, 1, 2, 2, 3, 4])


def shapes(min_rank=0, max_rank=4):
    return st.lists(sides, min_size=min_rank, max_size=max_rank).map(tuple)


def numpy_shape(fn, *args, **kwargs):
    """The shape of ``fn``'s result, or None when NumPy refuses."""
    try:
        return np.shape(fn(*args, **kwargs))
    except (ValueError, IndexError, TypeError):
        return None


def rule_result(rule, *args, **kwargs):
    try:
        return rule(*args, **kwargs), None
    except RuleError as err:
        return None, err


def empty(shape):
    return np.zeros(shape)  # zeros, not np.empty: garbage values could overflow


# -- matmul / dot / tensordot -----------------------------------------------------------


@given(shapes(0, 4), shapes(0, 4))
def test_matmul_shape_matches_numpy(a, b):
    expected = numpy_shape(np.matmul, empty(a), empty(b))
    got, err = rule_result(matmul_shape, a, b)
    if expected is not None:
        assert got == expected
        return
    assert err is not None, f"numpy refuses matmul of {a} and {b}, the rule gives {got}"
    if not a or not b:
        assert err.code == codes.RANK
        return
    inner_a = a[-1]
    inner_b = b[0] if len(b) == 1 else b[-2]
    if inner_a != inner_b:
        assert err.code == codes.MATMUL
        assert format_shape(a) in err.message and format_shape(b) in err.message
        assert f"dim {inner_a} vs {inner_b}" in err.message
    else:
        assert err.code == codes.BROADCAST


def test_matmul_shape_symbolic():
    assert matmul_shape(("n", 3), (3, "m")) == ("n", "m")
    assert matmul_shape(("b", "n", "k"), ("k",)) == ("b", "n")
    assert matmul_shape(("k",), ("b", "k", 2)) == ("b", 2)
    assert matmul_shape((None, "k"), ("j", 5)) == (None, 5)  # k vs j: not known to differ
    with pytest.raises(RuleError) as info:
        matmul_shape(("n", 3), (4, "m"))
    assert info.value.code == codes.MATMUL
    assert "[n, 3] and [4, m]" in info.value.message


@given(shapes(0, 4), shapes(0, 4))
def test_dot_shape_matches_numpy(a, b):
    expected = numpy_shape(np.dot, empty(a), empty(b))
    got, err = rule_result(dot_shape, a, b)
    if expected is not None:
        assert got == expected
    else:
        assert err is not None and err.code == codes.MATMUL
        assert format_shape(a) in err.message and format_shape(b) in err.message


@st.composite
def tensordot_cases(draw):
    a = draw(shapes(0, 4))
    b = draw(shapes(0, 4))
    if draw(st.booleans()):
        return a, b, draw(st.integers(0, min(len(a), len(b))))
    n = draw(st.integers(0, min(len(a), len(b))))
    xa = draw(st.permutations(range(len(a))))[:n]
    xb = draw(st.permutations(range(len(b))))[:n]
    negate = draw(st.booleans())
    xa = [i - len(a) if negate else i for i in xa]
    return a, b, (list(xa), list(xb))


@given(tensordot_cases())
def test_tensordot_shape_matches_numpy(case):
    a, b, axes = case
    expected = numpy_shape(np.tensordot, empty(a), empty(b), axes=axes)
    got, err = rule_result(tensordot_shape, a, b, axes)
    if expected is not None:
        assert got == expected
    else:
        assert err is not None and err.code == codes.MATMUL


@pytest.mark.parametrize(
    ("axes", "code"),
    [(3, codes.AXIS), (-1, codes.AXIS), (([0], [0, 1]), codes.AXIS), (([2], [0]), codes.AXIS)],
)
def test_tensordot_bad_axes(axes, code):
    with pytest.raises(RuleError) as info:
        tensordot_shape((2, 3), (3, 2), axes)
    assert info.value.code == code


# -- reshape ----------------------------------------------------------------------------


@st.composite
def reshape_cases(draw):
    shape = draw(shapes(0, 4))
    if draw(st.booleans()):
        new = list(draw(st.permutations(shape)))  # same size: valid
    else:
        new = draw(st.lists(sides, max_size=4))
    if new and draw(st.booleans()):
        new[draw(st.integers(0, len(new) - 1))] = -1
    return shape, tuple(new)


@given(reshape_cases())
def test_reshape_shape_matches_numpy(case):
    shape, new = case
    expected = numpy_shape(np.reshape, empty(shape), new)
    got, err = rule_result(reshape_shape, shape, new)
    if expected is not None:
        assert got == expected
    else:
        assert err is not None and err.code == codes.RESHAPE


@pytest.mark.parametrize(
    ("shape", "new", "expected"),
    [
        (("n", 3), (-1,), (None,)),
        (("n", 3), (3, -1), (3, None)),
        (("n", 3), (None, 3), (None, 3)),
        ((2, 3), (None, 2), (None, 2)),  # a size known only at run time is not checked
        ((2, 3), (3, -1), (3, 2)),
    ],
)
def test_reshape_shape_symbolic(shape, new, expected):
    assert reshape_shape(shape, new) == expected


@pytest.mark.parametrize("new", [(4, 2), (-1, -1), (2, -2), (0, -1), (4, -1)])
def test_reshape_shape_errors(new):
    with pytest.raises(RuleError) as info:
        reshape_shape((2, 3), new)
    assert info.value.code == codes.RESHAPE


def test_reshape_error_message_counts_elements():
    with pytest.raises(RuleError) as info:
        reshape_shape((2, 3), (4, 2))
    assert info.value.message == "cannot reshape [2, 3] (6 elements) into (4, 2)"


# -- concatenate, reductions, dimshuffle ------------------------------------------------


@st.composite
def concat_cases(draw):
    base = draw(shapes(0, 3))
    count = draw(st.integers(1, 3))
    operands = []
    for _ in range(count):
        if draw(st.booleans()):
            operands.append(draw(shapes(0, 3)))
        else:
            shape = list(base)
            if shape:
                shape[draw(st.integers(0, len(shape) - 1))] = draw(sides)
            operands.append(tuple(shape))
    return operands, draw(st.integers(-3, 3))


@given(concat_cases())
def test_concat_shape_matches_numpy(case):
    operands, axis = case
    expected = numpy_shape(np.concatenate, [empty(s) for s in operands], axis=axis)
    got, err = rule_result(concat_shape, operands, axis)
    if expected is not None:
        assert got == expected
        return
    assert err is not None
    ranks = {len(s) for s in operands}
    if ranks == {0} or len(ranks) > 1:
        assert err.code == codes.RANK
    elif not -len(operands[0]) <= axis < len(operands[0]):
        assert err.code == codes.AXIS
    else:
        assert err.code == codes.SHAPE


def test_concat_shape_symbolic_and_messages():
    assert concat_shape([("n", 3), ("m", 3)], 0) == (None, 3)
    assert concat_shape([("n", 3), (2, 3)], 1) == (2, 6)  # n unifies with 2
    assert concat_shape([(2, None), (2, 4)], 0) == (4, 4)
    with pytest.raises(RuleError) as info:
        concat_shape([(2, 3), (2, 4)], 0)
    assert info.value.code == codes.SHAPE
    assert "[2, 3] and [2, 4] differ in dim 1 (3 vs 4)" in info.value.message
    with pytest.raises(RuleError) as info:
        concat_shape([], 0)
    assert info.value.code == codes.SHAPE


axis_args = st.one_of(
    st.none(),
    st.integers(-5, 4),
    st.lists(st.integers(-5, 4), max_size=3).map(tuple),
)


@given(shapes(1, 4), axis_args, st.booleans())
def test_reduce_shape_matches_numpy(shape, axis, keepdims):
    expected = numpy_shape(np.sum, empty(shape), axis=axis, keepdims=keepdims)
    got, err = rule_result(reduce_shape, shape, axis, keepdims)
    if expected is not None:
        assert got == expected
    else:
        assert err is not None and err.code == codes.AXIS


def test_reduce_shape_of_a_scalar():
    assert reduce_shape((), None) == ()
    assert reduce_shape((), None, keepdims=True) == ()
    assert reduce_shape(("n", 3), 0, keepdims=True) == (1, 3)
    assert reduce_shape(("n", 3), -1) == ("n",)


@given(shapes(0, 4), st.integers(-5, 5))
def test_normalize_axis_matches_numpy(shape, axis):
    ndim = len(shape)
    try:
        expected = np.lib.array_utils.normalize_axis_index(axis, ndim)
    except np.exceptions.AxisError:
        expected = None
    got, err = rule_result(normalize_axis, axis, ndim)
    if expected is None:
        assert err is not None and err.code == codes.AXIS
        assert f"axis {axis}" in err.message
    else:
        assert got == expected


def test_normalize_axes_refuses_repeats():
    assert normalize_axes(None, 3) == (0, 1, 2)
    assert normalize_axes((-1, 0), 3) == (2, 0)
    with pytest.raises(RuleError) as info:
        normalize_axes((1, -2), 3)
    assert info.value.code == codes.AXIS


@st.composite
def dimshuffle_cases(draw):
    shape = draw(shapes(0, 4))
    kept = draw(st.permutations(range(len(shape))))
    kept = kept[: draw(st.integers(0, len(kept)))]
    order = list(kept)
    for _ in range(draw(st.integers(0, 2))):
        order.insert(draw(st.integers(0, len(order))), "x")
    return shape, tuple(order)


def _numpy_dimshuffle(shape, order):
    x = empty(shape)
    kept = [o for o in order if o != "x"]
    dropped = tuple(i for i in range(len(shape)) if i not in kept)
    try:
        x = np.squeeze(x, axis=dropped)
    except ValueError:
        return None
    remaining = [i for i in range(len(shape)) if i not in dropped]
    x = np.transpose(x, [remaining.index(o) for o in kept])
    return np.expand_dims(x, tuple(i for i, o in enumerate(order) if o == "x")).shape


@given(dimshuffle_cases())
def test_dimshuffle_shape_matches_numpy(case):
    shape, order = case
    expected = _numpy_dimshuffle(shape, order)
    got, err = rule_result(dimshuffle_shape, shape, order)
    if expected is not None:
        assert got == expected
    else:
        assert err is not None and err.code == codes.SHAPE
        assert "not 1" in err.message


@pytest.mark.parametrize(("order", "code"), [((0, 0), codes.AXIS), ((2,), codes.AXIS)])
def test_dimshuffle_shape_bad_orders(order, code):
    with pytest.raises(RuleError) as info:
        dimshuffle_shape((1, 1), order)
    assert info.value.code == code


def test_dimshuffle_shape_symbolic():
    assert dimshuffle_shape(("n", 1, 3), (2, "x", 0)) == (3, 1, "n")
    with pytest.raises(RuleError) as info:
        dimshuffle_shape(("n", 3), (1,))
    assert info.value.code == codes.SHAPE
    assert "drops dim 0 of [n, 3], which is n, not 1" in info.value.message


# -- SourceSpan and Diagnostic ----------------------------------------------------------


def test_source_span_str_and_frozen():
    span = SourceSpan("model.py", 12, 9, 12, 14)
    assert str(span) == "model.py:12:9"
    assert span == SourceSpan("model.py", 12, 9, 12, 14)
    assert hash(span) == hash(SourceSpan("model.py", 12, 9, 12, 14))
    with pytest.raises(dataclasses.FrozenInstanceError):
        span.line = 3


def test_headline_format():
    d = Diagnostic(
        "AS201",
        "error",
        "cannot broadcast f32[n, 3] with f32[4]: dim 3 vs 4",
        SourceSpan("model.py", 12, 9, 12, 14),
    )
    assert d.headline() == (
        "model.py:12:9: error[AS201] cannot broadcast f32[n, 3] with f32[4]: dim 3 vs 4"
    )
    assert d.name == "broadcast-mismatch"
    assert Diagnostic("AS202", "warning", "m").headline() == "warning[AS202] m"


def test_render_excerpt_and_carets_from_a_real_file(tmp_path):
    path = tmp_path / "model.py"
    path.write_text("import astsym\n\ny = x_f32 + bias_f32\nprint(y)\n")
    span = SourceSpan(str(path), 3, 5, 3, 21)
    d = error("AS201", "cannot broadcast", span, ("dims broadcast when equal or 1",))
    assert d.render().splitlines() == [
        f"{path}:3:5: error[AS201] cannot broadcast",
        "   3 | y = x_f32 + bias_f32",
        "           " + "^" * 16,
        "  help: dims broadcast when equal or 1",
    ]


@pytest.mark.parametrize(
    ("end_line", "end_col"),
    [(None, None), (4, 3), (3, 5)],  # no end, a span over two lines, an empty span
)
def test_render_single_caret_when_width_unknown(tmp_path, end_line, end_col):
    path = tmp_path / "two.py"
    path.write_text("a = 1\nb = 2\nc = a\n")
    d = error("AS203", "msg", SourceSpan(str(path), 3, 5, end_line, end_col))
    assert d.render().splitlines()[1:] == ["   3 | c = a", "           ^"]


def test_render_notes_and_related_spans(tmp_path):
    path = tmp_path / "rel.py"
    path.write_text("w = shared(0)\n")
    related = ((SourceSpan("other.py", 7, 2), "defined here"),)
    d = Diagnostic(
        "AS305", "error", "bad update", SourceSpan(str(path), 1, 1, 1, 2), ("a", "b"), related
    )
    lines = d.render().splitlines()
    assert lines[1:] == [
        "   1 | w = shared(0)",
        "       ^",
        "  note: other.py:7:2: defined here",
        "  help: a",
        "  help: b",
    ]


def test_render_without_a_readable_file():
    d = error("AS201", "m", SourceSpan("/no/such/file.py", 1, 1, 1, 3), ("n",))
    assert d.render() == "/no/such/file.py:1:1: error[AS201] m\n  help: n"
    assert error("AS201", "m").render() == "error[AS201] m"


def test_exceptions_wrap_a_diagnostic():
    d = error("AS201", "m", None, ("note",))
    for cls, base in [
        (GraphTypeError, TypeError),
        (InputError, TypeError),
        (GraphRuntimeError, RuntimeError),
    ]:
        exc = cls(d)
        assert isinstance(exc, AstsymError) and isinstance(exc, base)
        assert exc.diagnostic is d
        assert str(exc) == d.render()
    err = RuleError("AS205", "bad reshape", ["try -1"])
    assert (err.code, err.message, err.notes, str(err)) == (
        "AS205",
        "bad reshape",
        ("try -1",),
        "bad reshape",
    )


# -- the codes registry ------------------------------------------------------------------

KEBAB = re.compile(r"^[a-z]+(-[a-z]+)*$")


@pytest.mark.parametrize("key", sorted(CODES))
def test_code_entry_is_complete(key):
    entry = CODES[key]
    assert entry.code == key
    assert re.fullmatch(r"AS[1-9]\d\d", key)
    assert KEBAB.match(entry.name), entry.name
    assert entry.summary.strip() and entry.summary.endswith(".")
    assert entry.example.strip()


def test_code_names_are_unique_and_constants_are_registered():
    names = [c.name for c in CODES.values()]
    assert len(set(names)) == len(names)
    constants = {
        v for k, v in vars(codes).items() if k.isupper() and isinstance(v, str) and k != "CODES"
    }
    assert constants == set(CODES)


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("AS201", "broadcast-mismatch"),
        ("AS202", "matmul-inner-dim-mismatch"),
        ("AS203", "rank-mismatch"),
        ("AS204", "axis-out-of-range"),
        ("AS205", "reshape-size-mismatch"),
        ("AS206", "dtype-loss"),
        ("AS211", "shape-mismatch"),
        ("AS213", "index-out-of-range"),
    ],
)
def test_codes_used_by_the_shape_rules(code, name):
    assert CODES[code].name == name
