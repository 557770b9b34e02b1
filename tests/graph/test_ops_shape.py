"""Shape ops against NumPy: reshape, flatten, dimshuffle and friends, joins, repeat, tile,
array creation, symbolic shapes and specify_shape (``py`` backend)."""

import numpy as np
import pytest
from _structural_helpers import (
    assert_same,
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
from astsym.typecheck import GraphRuntimeError, GraphTypeError

static_modes = pytest.mark.parametrize("static", [False, True], ids=["dynamic", "static"])

# -- reshape and flatten ------------------------------------------------------------------


@st.composite
def regroupings(draw):
    """A shape and another shape with as many elements, maybe with one -1."""
    shape = draw(shapes(0, 4, 1, 4))
    dims = list(draw(st.permutations(shape)))
    while len(dims) > 1 and draw(st.booleans()):
        i = draw(st.integers(0, len(dims) - 2))
        dims[i : i + 2] = [dims[i] * dims[i + 1]]
    if dims and draw(st.booleans()):
        dims[draw(st.integers(0, len(dims) - 1))] = -1
    return shape, tuple(dims)


@static_modes
@given(regroupings(), seeds())
def test_reshape_matches_numpy(static, case, seed):
    shape, new = case
    x = normal(shape, seed)
    assert_same(run(lambda v: v.reshape(new), x, static=static), x.reshape(new))


@given(regroupings(), seeds())
def test_reshape_to_a_symbolic_shape_vector(case, seed):
    shape, new = case
    x = normal(shape, seed)
    v, s = sym(x), T.lvector("s")
    f = compile_py([v, s], [v.reshape(s, ndim=len(new)), v.reshape(s, ndim=len(new)).shape])
    out, out_shape = f(x, np.array(new, dtype="int64"))
    assert_same(out, x.reshape(new))
    assert_same(out_shape, np.array(x.reshape(new).shape, dtype="int64"))


@given(shapes(2, 4, 1, 4), seeds())
def test_reshape_with_symbolic_sizes_and_minus_one(shape, seed):
    """``x.reshape((x.shape[0], -1))``; the -1 dim's symbolic size is right too."""
    x = normal(shape, seed)
    expected = x.reshape(shape[0], -1)
    out, out_shape = run(
        lambda v: [v.reshape((v.shape[0], -1)), v.reshape((v.shape[0], -1)).shape], x
    )
    assert_same(out, expected)
    assert_same(out_shape, np.array(expected.shape, dtype="int64"))


def test_reshape_static_size_mismatch():
    with raises_code("AS205", "cannot reshape [2, 3] (6 elements) into (4, 2)"):
        TensorType("float64", shape=(2, 3))("x").reshape((4, 2))
    with raises_code("AS205"):
        T.matrix("x").reshape((-1, -1))


def test_reshape_runtime_size_mismatch():
    x = T.dmatrix("x")
    f = compile_py([x], x.reshape((4, 2)))
    with pytest.raises(GraphRuntimeError) as info:
        f(np.zeros((2, 3)))
    assert info.value.diagnostic.code == "AS205"


@static_modes
@given(shapes(1, 4, 1, 4), st.data())
def test_flatten_matches_numpy(static, shape, data):
    ndim = data.draw(st.integers(1, len(shape)))
    x = normal(shape, 0)
    expected = x.reshape(shape[: ndim - 1] + (-1,))
    out, out_shape = run(lambda v: [v.flatten(ndim), v.flatten(ndim).shape], x, static=static)
    assert_same(out, expected)
    assert_same(out_shape, np.array(expected.shape, dtype="int64"))


def test_flatten_bad_ndim():
    with raises_code("AS204"):
        T.matrix("x").flatten(3)
    with raises_code("AS204"):
        T.matrix("x").flatten(0)


# -- dimshuffle, transpose, swapaxes, squeeze, expand_dims --------------------------------


@st.composite
def dimshuffles(draw):
    """A shape with some size-1 dims and a valid dimshuffle pattern for it."""
    shape = draw(shapes(0, 4, 1, 3))
    droppable = [i for i, d in enumerate(shape) if d == 1]
    dropped = set(draw(st.lists(st.sampled_from(droppable), unique=True))) if droppable else set()
    kept = list(draw(st.permutations([i for i in range(len(shape)) if i not in dropped])))
    for _ in range(draw(st.integers(0, 2))):
        kept.insert(draw(st.integers(0, len(kept))), "x")
    return shape, tuple(kept)


def _numpy_dimshuffle(x, order):
    kept = [o for o in order if o != "x"]
    dropped = tuple(i for i in range(x.ndim) if i not in kept)
    remaining = [i for i in range(x.ndim) if i not in dropped]
    y = np.squeeze(x, axis=dropped).transpose([remaining.index(o) for o in kept])
    return np.expand_dims(y, tuple(i for i, o in enumerate(order) if o == "x"))


@static_modes
@given(dimshuffles(), seeds())
def test_dimshuffle_matches_numpy(static, case, seed):
    shape, order = case
    x = normal(shape, seed)
    out = run(lambda v: v.dimshuffle(*order), x, static=static)
    assert_same(out, _numpy_dimshuffle(x, order))


def test_dimshuffle_broadcastable_pattern():
    x = T.matrix("x")
    assert x.dimshuffle(1, "x", 0).broadcastable == (False, True, False)
    row = T.row("r")
    assert row.dimshuffle(1).broadcastable == (False,)


def test_dimshuffle_cannot_drop_a_dim_that_is_not_broadcastable():
    with raises_code("AS211", "drops dim 0", "not 1"):
        T.matrix("x").dimshuffle(1)
    with raises_code("AS211"):
        TensorType("float64", shape=(3, 1))("x").dimshuffle(1)


def test_dimshuffle_bad_patterns():
    with raises_code("AS204"):
        T.matrix("x").dimshuffle(0, 0)
    with raises_code("AS204"):
        T.matrix("x").dimshuffle(0, 2)


@static_modes
@given(shapes(0, 4), st.data(), seeds())
def test_transpose_matches_numpy(static, shape, data, seed):
    x = normal(shape, seed)
    axes = data.draw(st.none() | st.permutations(range(len(shape))).map(tuple))
    expected = np.transpose(x, axes)
    assert_same(run(lambda v: T.transpose(v, axes), x, static=static), expected)
    if axes is None:
        assert_same(run(lambda v: v.T, x, static=static), expected)
    else:
        assert_same(run(lambda v: v.transpose(*axes), x, static=static), expected)


@given(shapes(1, 4), st.data(), seeds())
def test_swapaxes_matches_numpy(shape, data, seed):
    x = normal(shape, seed)
    a = data.draw(st.integers(-len(shape), len(shape) - 1))
    b = data.draw(st.integers(-len(shape), len(shape) - 1))
    assert_same(run(lambda v: v.swapaxes(a, b), x), np.swapaxes(x, a, b))


@static_modes
@given(shapes(0, 3), st.data(), seeds())
def test_expand_dims_matches_numpy(static, shape, data, seed):
    x = normal(shape, seed)
    count = data.draw(st.integers(1, 2))
    out_ndim = len(shape) + count
    axes = data.draw(st.lists(st.integers(-out_ndim, out_ndim - 1), min_size=count, max_size=count))
    if len({a % out_ndim for a in axes}) != len(axes):
        with raises_code("AS204"):
            T.expand_dims(sym(x), tuple(axes))
        return
    axes = tuple(axes) if len(axes) > 1 else axes[0]
    out = run(lambda v: T.expand_dims(v, axes), x, static=static)
    assert_same(out, np.expand_dims(x, axes))
    assert all(out.shape[a] == 1 for a in np.atleast_1d(axes))


@given(shapes(0, 4, 1, 2), seeds())
def test_squeeze_drops_every_broadcastable_dim(shape, seed):
    x = normal(shape, seed)
    assert_same(run(T.squeeze, x), np.squeeze(x))  # size-1 dims of sym(x) are broadcastable


@given(shapes(1, 4, 1, 2), st.data(), seeds())
def test_squeeze_named_axes_of_unknown_size(shape, data, seed):
    """Squeezing an axis whose size is not static checks it at run time."""
    x = normal(shape, seed)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    v = TensorType("float64", shape=(None,) * len(shape))("v")
    f = compile_py([v], T.squeeze(v, axis))
    if shape[axis] == 1:
        assert_same(f(x), np.squeeze(x, axis))
    else:
        with pytest.raises(GraphRuntimeError) as info:
            f(x)
        assert info.value.diagnostic.code == "AS303"


# -- concatenate, join, stack --------------------------------------------------------------

JOIN_DTYPES = ["bool", "int8", "uint8", "int32", "int64", "float32", "float64"]


def _values(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 3, size=shape).astype(dtype)


@static_modes
@given(
    shapes(1, 3),
    st.lists(st.tuples(st.sampled_from(JOIN_DTYPES), st.integers(1, 3)), min_size=2, max_size=3),
    st.data(),
)
def test_concatenate_matches_numpy(static, shape, operands, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    arrays = []
    for i, (dtype, size) in enumerate(operands):
        s = list(shape)
        s[axis] = size
        arrays.append(_values(tuple(s), dtype, i))
    expected = np.concatenate(arrays, axis=axis)
    assert_same(run(lambda *vs: T.concatenate(vs, axis=axis), *arrays, static=static), expected)
    assert_same(run(lambda *vs: T.join(axis, *vs), *arrays, static=static), expected)
    out_shape = run(lambda *vs: T.concatenate(vs, axis=axis).shape, *arrays, static=static)
    assert_same(out_shape, np.array(expected.shape, dtype="int64"))


@static_modes
@given(
    shapes(0, 3),
    st.lists(st.sampled_from(JOIN_DTYPES), min_size=1, max_size=3),
    st.data(),
)
def test_stack_matches_numpy(static, shape, dtypes, data):
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    arrays = [_values(shape, dtype, i) for i, dtype in enumerate(dtypes)]
    expected = np.stack(arrays, axis=axis)
    assert_same(run(lambda *vs: T.stack(vs, axis=axis), *arrays, static=static), expected)


def test_concatenate_errors():
    a, b = TensorType("float64", shape=(2, 3))("a"), TensorType("float64", shape=(2, 4))("b")
    with raises_code("AS211", "differ in dim 1 (3 vs 4)"):
        T.concatenate([a, b], axis=0)
    with raises_code("AS203"):
        T.concatenate([a, T.vector("v")])
    with raises_code("AS204"):
        T.concatenate([a, a], axis=2)
    x, y = T.dmatrix("x"), T.dmatrix("y")
    f = compile_py([x, y], T.concatenate([x, y], axis=0))
    with pytest.raises(GraphRuntimeError) as info:
        f(np.zeros((2, 3)), np.zeros((2, 4)))
    assert info.value.diagnostic.code == "AS211"


# -- repeat and tile ------------------------------------------------------------------------


@static_modes
@given(shapes(0, 3), st.integers(0, 3), st.data(), seeds())
def test_repeat_scalar_count_matches_numpy(static, shape, count, data, seed):
    x = normal(shape, seed)
    axis = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1)) if shape else None
    expected = np.repeat(x, count, axis=axis)
    assert_same(run(lambda v: T.repeat(v, count, axis=axis), x, static=static), expected)
    n = np.int64(count)
    assert_same(run(lambda v, c: v.repeat(c, axis=axis), x, n, static=static), expected)


@static_modes
@given(shapes(1, 3), st.data(), seeds())
def test_repeat_per_element_counts_match_numpy(static, shape, data, seed):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    counts = np.array(
        data.draw(st.lists(st.integers(0, 3), min_size=shape[axis], max_size=shape[axis])),
        dtype="int64",
    )
    x = normal(shape, seed)
    expected = np.repeat(x, counts, axis=axis)
    assert_same(run(lambda v: T.repeat(v, counts, axis=axis), x, static=static), expected)
    assert_same(run(lambda v, c: T.repeat(v, c, axis=axis), x, counts, static=static), expected)


@static_modes
@given(shapes(0, 3), st.lists(st.integers(1, 3), min_size=1, max_size=4), seeds())
def test_tile_matches_numpy(static, shape, reps, seed):
    x = normal(shape, seed)
    assert_same(run(lambda v: T.tile(v, tuple(reps)), x, static=static), np.tile(x, reps))
    assert_same(run(lambda v: T.tile(v, reps[0]), x, static=static), np.tile(x, reps[0]))


# -- creating arrays ------------------------------------------------------------------------


@given(shapes(0, 3), shapes(0, 2), seeds())
def test_alloc_broadcasts_like_numpy(value_shape, lead, seed):
    value = normal(value_shape, seed)
    target = tuple(lead) + tuple(d if d != 1 else 3 for d in value_shape)
    expected = np.broadcast_to(value, target)
    out = run(lambda v: T.alloc(v, *target), value)
    assert_same(out, expected)
    out.flat[:1] = 42.0  # a new, writable array: does not alias the value
    assert value.size == 0 or not np.any(value == 42.0)


def test_alloc_with_symbolic_sizes_and_mismatch():
    v, n = T.dvector("v"), T.lscalar("n")
    f = compile_py([v, n], T.alloc(v, n, 3))
    assert_same(f(np.arange(3.0), 2), np.broadcast_to(np.arange(3.0), (2, 3)))
    with raises_code("AS201"):
        T.alloc(TensorType("float64", shape=(4,))("w"), 2, 3)
    with raises_code("AS203"):
        T.alloc(T.dmatrix("m"), 3)


@pytest.mark.parametrize("dtype", ["float64", "float32", "int8", "uint16", "bool"])
@given(shape=shapes(0, 3, 0, 3))
def test_zeros_ones_full_like_numpy(dtype, shape):
    assert_same(run(lambda: T.zeros(shape, dtype=dtype)), np.zeros(shape, dtype))
    assert_same(run(lambda: T.ones(shape, dtype=dtype)), np.ones(shape, dtype))
    assert_same(run(lambda: T.full(shape, 1, dtype=dtype)), np.full(shape, 1, dtype))
    x = np.ones(shape, dtype="int32")
    assert_same(run(lambda v: T.zeros_like(v, dtype=dtype), x), np.zeros_like(x, dtype))
    assert_same(run(lambda v: T.ones_like(v, dtype=dtype), x), np.ones_like(x, dtype))
    assert_same(run(T.zeros_like, x), np.zeros_like(x))
    assert_same(run(T.ones_like, x), np.ones_like(x))


def test_creation_with_symbolic_sizes():
    x = T.dtensor3("x")
    value = normal((2, 3, 4), 0)
    outs = [
        T.zeros((x.shape[0], 3), dtype="int32"),
        T.ones(x.shape[2]),
        T.full((x.shape[1], x.shape[0]), 2.5),
        T.zeros(x.shape),
        T.fill(x, 3.0),
        T.eye(x.shape[0], x.shape[2], 1),
        T.eye(x.shape[1], dtype="int8"),
        T.identity_like(x[0]),
    ]
    got = compile_py([x], outs)(value)
    expected = [
        np.zeros((2, 3), "int32"),
        np.ones(4),
        np.full((3, 2), 2.5),
        np.zeros((2, 3, 4)),
        np.full((2, 3, 4), 3.0),
        np.eye(2, 4, 1),
        np.eye(3, dtype="int8"),
        np.eye(3, 4),
    ]
    for g, e in zip(got, expected):
        assert_same(g, e)


@given(st.integers(0, 4), st.integers(0, 4), st.integers(-4, 4))
def test_eye_matches_numpy(n, m, k):
    assert_same(run(lambda: T.eye(n, m, k)), np.eye(n, m, k))
    assert T.eye(n, m, k).type.shape == (n, m)


@given(st.integers(-5, 8), st.integers(-5, 8), st.integers(-3, 3).filter(bool))
def test_arange_matches_numpy(start, stop, step):
    expected = np.arange(start, stop, step)
    static = T.arange(start, stop, step)
    assert static.type.shape == expected.shape
    assert_same(run(lambda: static), expected)
    a, b, c = T.lscalar("a"), T.lscalar("b"), T.lscalar("c")
    f = compile_py([a, b, c], T.arange(a, b, c))
    assert_same(f(start, stop, step), expected)


def test_arange_dtypes_and_float_bounds():
    assert_same(run(lambda: T.arange(5)), np.arange(5))
    assert_same(run(lambda: T.arange(0, 2, 0.5)), np.arange(0, 2, 0.5))
    assert_same(run(lambda: T.arange(1, 7, 2, dtype="int8")), np.arange(1, 7, 2, dtype="int8"))
    stop = T.dscalar("stop")
    assert_same(compile_py([stop], T.arange(stop))(2.5), np.arange(2.5))
    with raises_code("AS212"):
        T.arange(0, 5, 0)


# -- symbolic shapes, size, specify_shape ----------------------------------------------------


@static_modes
@given(shapes(0, 4, 0, 4), st.data())
def test_shape_and_size_values(static, shape, data):
    x = np.zeros(shape)
    assert_same(run(lambda v: v.shape, x, static=static), np.array(shape, dtype="int64"))
    assert_same(run(lambda v: v.size, x, static=static), np.int64(x.size))
    if shape:
        i = data.draw(st.integers(-len(shape), len(shape) - 1))
        assert_same(run(lambda v: v.shape[i], x, static=static), np.int64(shape[i]))
        assert_same(run(lambda v: T.shape_i(v, i), x, static=static), np.int64(shape[i]))


@given(shapes(2, 3, 1, 4), seeds())
def test_shapes_of_computed_values(shape, seed):
    """The shape of a result is known without computing it, and is right."""
    x = normal(shape, seed)
    builds = [
        lambda v: v.T,
        lambda v: v[1:],
        lambda v: v[::-1, 0],
        lambda v: T.concatenate([v, v], axis=1),
        lambda v: T.repeat(v, 2, axis=0),
        lambda v: T.tile(v, (2, 1)),
        lambda v: v.flatten(),
        lambda v: v.reshape((-1, shape[-1])),
        lambda v: T.dot(v.flatten(2), v.flatten(2).T),
        lambda v: v.sum(axis=0),
    ]
    for build in builds:
        expected = np.array(run(build, x).shape, dtype="int64")
        assert_same(run(lambda v: build(v).shape, x), expected)
        assert_same(run(lambda v: build(v).size, x), np.int64(np.prod(expected)))


def test_specify_shape():
    x = T.dmatrix("x")
    y = T.specify_shape(x, (2, None))
    assert y.type.shape == (2, None)
    f = compile_py([x], y * 2)
    assert_same(f(np.ones((2, 5))), np.full((2, 5), 2.0))
    with pytest.raises(GraphRuntimeError) as info:
        f(np.ones((3, 5)))
    assert info.value.diagnostic.code == "AS303"
    assert "(3, 5)" in info.value.diagnostic.message
    with raises_code("AS211"):
        T.specify_shape(TensorType("float64", shape=(4, None))("z"), (2, None))
    with raises_code("AS203"):
        T.specify_shape(x, (2,))


def test_specify_shape_makes_static_errors_visible():
    x = T.specify_shape(T.dmatrix("x"), (2, 3))
    with pytest.raises(GraphTypeError) as info:
        x + TensorType("float64", shape=(2, 4))("y")
    assert info.value.diagnostic.code == "AS201"
