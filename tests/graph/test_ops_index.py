"""Indexing against NumPy: basic and advanced ``x[index]``, ``set_subtensor`` and
``inc_subtensor``, and the errors for bad indices and lossy stores (``py`` backend)."""

import numpy as np
import pytest
from _structural_helpers import (
    advanced_cases,
    assert_same,
    basic_cases,
    compile_py,
    normal,
    raises_code,
    run,
    seeds,
    shapes,
    sym,
)
from hypothesis import given
from hypothesis import strategies as st

import astsym.tensor as T
from astsym.graph.type import TensorType
from astsym.typecheck import GraphRuntimeError

static_modes = pytest.mark.parametrize("static", [False, True], ids=["dynamic", "static"])


def _ints_of(index):
    """Every int in the index (ints and slice bounds), in order."""
    pieces = index if isinstance(index, tuple) else (index,)
    out = []
    for p in pieces:
        if isinstance(p, slice):
            out += [v for v in (p.start, p.stop, p.step) if v is not None]
        elif isinstance(p, int):
            out.append(p)
    return out


def _with_ints(index, ints):
    """``index`` with its ints replaced, in order, by ``ints`` (symbolic scalars)."""
    it = iter(ints)
    pieces = index if isinstance(index, tuple) else (index,)
    out = []
    for p in pieces:
        if isinstance(p, slice):
            out.append(slice(*[None if v is None else next(it) for v in (p.start, p.stop, p.step)]))
        elif isinstance(p, int):
            out.append(next(it))
        else:
            out.append(p)
    return tuple(out) if isinstance(index, tuple) else out[0]


# -- basic indexing ---------------------------------------------------------------------


@static_modes
@given(basic_cases(), seeds())
def test_basic_index_matches_numpy(static, case, seed):
    shape, index = case
    x = normal(shape, seed)
    out = run(lambda v: v[index], x, static=static)
    assert_same(out, x[index])
    assert not np.shares_memory(out, x)


@given(basic_cases(), st.data(), seeds())
def test_symbolic_ints_and_slice_bounds(case, data, seed):
    """Any int of the index (an index or a slice bound) may be a symbolic scalar."""
    shape, index = case
    ints = _ints_of(index)
    symbolic = data.draw(st.lists(st.booleans(), min_size=len(ints), max_size=len(ints)))
    dtypes = data.draw(
        st.lists(
            st.sampled_from(["int64", "int32", "int8"]), min_size=len(ints), max_size=len(ints)
        )
    )
    values = [np.array(i, dtype=d) for i, d, s in zip(ints, dtypes, symbolic) if s]
    x = normal(shape, seed)

    def build(v, *scalars):
        it = iter(scalars)
        return v[_with_ints(index, [next(it) if s else i for i, s in zip(ints, symbolic)])]

    assert_same(run(build, x, *values), x[index])


def test_basic_index_types():
    x = T.matrix("x")
    assert x[1:, 0].type == T.vector("v").type
    assert x[None, 0].broadcastable == (True, False)
    assert TensorType("float64", shape=(5, 3))("y")[1:4, ::-1].type.shape == (3, 3)
    assert TensorType("float64", shape=(5, 3))("y")[::-2, 0].type.shape == (3,)
    assert x[..., 0].ndim == 1 and x[0, ...].ndim == 1 and x[...].ndim == 2


@given(shapes(1, 3, 1, 4), st.data())
def test_static_index_out_of_range_is_as213(shape, data):
    axis = data.draw(st.integers(0, len(shape) - 1))
    d = shape[axis]
    bad = data.draw(st.sampled_from([d, d + 1, -d - 1, -d - 3]))
    index = (slice(None),) * axis + (bad,)
    x = np.zeros(shape)
    with raises_code("AS213", f"index {bad} is out of range for dim {axis}"):
        sym(x, static=True)[index]
    v = TensorType("float64", shape=(None,) * len(shape))("v")
    f = compile_py([v], v[index])  # unknown size: checked at run time
    with pytest.raises(GraphRuntimeError) as info:
        f(x)
    assert info.value.diagnostic.code == "AS213"


def test_too_many_indices_and_bad_index_types():
    with raises_code("AS213", "too many indices"):
        T.matrix("x")[0, 0, 0]
    with raises_code("AS213"):
        T.matrix("x")[np.array([0]), np.array([0]), np.array([0])]
    with raises_code("AS212"):
        T.matrix("x")[T.dvector("f")]
    with raises_code("AS212"):
        T.matrix("x")[1 : T.dscalar("f")]
    with raises_code("AS212"):
        T.matrix("x")[..., 0, ...]
    with raises_code("AS212"):
        TensorType("float64", shape=(3,))("y")[::0]


# -- advanced indexing ------------------------------------------------------------------


@static_modes
@given(advanced_cases(), seeds())
def test_advanced_index_matches_numpy(static, case, seed):
    shape, index = case
    x = normal(shape, seed)
    assert_same(run(lambda v: v[index], x, static=static), x[index])


@given(advanced_cases(), seeds())
def test_advanced_index_arrays_as_inputs(case, seed):
    """Index arrays given at run time (symbolic inputs, int32 or bool)."""
    shape, index = case
    arrays = [p for p in index if isinstance(p, np.ndarray)]
    arrays = [a if a.dtype == bool else a.astype("int32") for a in arrays]
    x = normal(shape, seed)

    def build(v, *idx):
        it = iter(idx)
        return v[tuple(next(it) if isinstance(p, np.ndarray) else p for p in index)]

    assert_same(run(build, x, *arrays), x[index])


def test_mask_of_whole_array_and_take_rows():
    x = np.arange(12.0).reshape(3, 4)
    assert_same(run(lambda v, m: v[m], x, x > 4), x[x > 4])
    assert_same(run(lambda v: v[np.array([2, 0, 2])], x), x[[2, 0, 2]])
    assert_same(run(lambda v: v[:, np.array([[1, 3], [0, 0]])], x), x[:, [[1, 3], [0, 0]]])


def test_advanced_index_out_of_range_at_run_time():
    x = T.dmatrix("x")
    f = compile_py([x], x[np.array([0, 5])])
    with pytest.raises(GraphRuntimeError) as info:
        f(np.zeros((3, 2)))
    assert info.value.diagnostic.code == "AS213"


# -- set_subtensor / inc_subtensor -----------------------------------------------------


def _value_for(part_shape, data, seed):
    """A value to store into a part: its full shape, a trailing piece of it (broadcast),
    or a Python float."""
    how = data.draw(st.sampled_from(["full", "trailing", "python"]))
    if how == "python":
        return 2.5
    if how == "trailing":
        keep = data.draw(st.integers(0, len(part_shape)))
        shape = tuple(
            1 if data.draw(st.booleans()) else d for d in part_shape[len(part_shape) - keep :]
        )
        return normal(shape, seed + 1)
    return normal(part_shape, seed + 1)


def _store(build, x, index, y, static):
    if isinstance(y, float):
        return run(lambda v: build(v[index], y), x, static=static)
    return run(lambda v, w: build(v[index], w), x, y, static=static)


@static_modes
@given(basic_cases(), st.data(), seeds())
def test_set_and_inc_basic_match_numpy(static, case, data, seed):
    shape, index = case
    x = normal(shape, seed)
    y = _value_for(x[index].shape, data, seed)
    expected = x.copy()
    expected[index] = y
    assert_same(_store(T.set_subtensor, x, index, y, static), expected)
    expected = x.copy()
    expected[index] += y
    assert_same(_store(T.inc_subtensor, x, index, y, static), expected)


@static_modes
@given(advanced_cases(), st.data(), seeds())
def test_set_and_inc_advanced_match_numpy(static, case, data, seed):
    """Repeated indices: a set keeps one of the values, an inc adds them all (np.add.at)."""
    shape, index = case
    x = normal(shape, seed)
    y = _value_for(x[index].shape, data, seed)
    expected = x.copy()
    expected[index] = y
    assert_same(_store(T.set_subtensor, x, index, y, static), expected)
    expected = x.copy()
    np.add.at(expected, index, y)
    assert_same(_store(T.inc_subtensor, x, index, y, static), expected)


def test_inc_with_repeated_indices_accumulates():
    idx = np.array([0, 0, 3, 0, 3])
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    out = run(lambda v, w: T.inc_subtensor(v[idx], w), np.zeros(5), y)
    assert_same(out, np.array([7.0, 0.0, 0.0, 8.0, 0.0]))
    out = run(lambda v, i: T.inc_subtensor(v[i], 1.0), np.zeros((4, 2)), np.array([1, 1, 1, 2]))
    assert_same(out, np.array([[0, 0], [3, 3], [1, 1], [0, 0]], dtype=float))


def test_set_subtensor_of_the_whole_array():
    x = np.arange(6.0).reshape(2, 3)
    assert_same(run(lambda v: T.set_subtensor(v[:], 7.0), x), np.full((2, 3), 7.0))
    assert_same(run(lambda v: T.inc_subtensor(v[...], 1.0), x), x + 1)


def test_set_subtensor_leaves_its_input_alone():
    x = np.arange(6.0)
    out = run(lambda v: T.set_subtensor(v[1:3], 0.0), x)
    assert_same(x, np.arange(6.0))
    assert_same(out, np.array([0.0, 0.0, 0.0, 3.0, 4.0, 5.0]))


@pytest.mark.parametrize(
    ("x_dtype", "y_dtype", "ok"),
    [
        ("int64", "float64", False),
        ("int32", "float32", False),
        ("int8", "int64", False),
        ("uint8", "int8", False),
        ("float32", "float64", False),
        ("float64", "float32", True),
        ("float64", "int8", True),
        ("int64", "int8", True),
        ("int16", "bool", True),
        ("complex128", "float64", True),
    ],
)
def test_stored_value_dtype_rules(x_dtype, y_dtype, ok):
    x = np.arange(6).reshape(2, 3).astype(x_dtype)
    y = np.ones(3, dtype=y_dtype)
    if not ok:
        with raises_code("AS206", "losing precision"):
            T.set_subtensor(sym(x)[0], sym(y))
        with raises_code("AS206"):
            T.inc_subtensor(sym(x)[0], sym(y))
        return
    expected = x.copy()
    expected[0] = y
    assert_same(run(lambda v, w: T.set_subtensor(v[0], w), x, y), expected)
    expected[0] = x[0] + y.astype(x_dtype)
    assert_same(run(lambda v, w: T.inc_subtensor(v[0], w), x, y), expected)


def test_python_scalars_stored_must_convert_exactly():
    x = np.zeros((2, 2), dtype="int8")
    with raises_code("AS206", "0.5 does not convert exactly to int8"):
        T.set_subtensor(sym(x)[0], 0.5)
    with raises_code("AS206"):
        T.inc_subtensor(sym(x)[0], 300)
    expected = x.copy()
    expected[0] = 100
    assert_same(run(lambda v: T.set_subtensor(v[0], 100), x), expected)
    assert_same(
        run(lambda v: T.set_subtensor(v[0], 2.0), x.astype("float32")),
        np.array([[2, 2], [0, 0]], "float32"),
    )


def test_stored_value_shape_errors():
    x = TensorType("float64", shape=(3, 4))("x")
    with raises_code("AS201", "dim 4 vs 3"):
        T.set_subtensor(x[0], TensorType("float64", shape=(3,))("y"))
    with raises_code("AS203"):
        T.set_subtensor(x[0], T.dmatrix("m"))
    with raises_code("AS212", "indexed variable"):
        T.set_subtensor(x + 1, 2.0)
    v, w = T.dmatrix("v"), T.dvector("w")
    f = compile_py([v, w], T.set_subtensor(v[0], w))
    with pytest.raises(GraphRuntimeError) as info:
        f(np.zeros((3, 4)), np.zeros(3))
    assert info.value.diagnostic.code == "AS213"
