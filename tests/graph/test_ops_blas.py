"""Products against NumPy: dot, matmul and ``@``, tensordot, outer, batched_dot, and the
inner-dim errors (``py`` backend)."""

import runpy

import numpy as np
import pytest
from _structural_helpers import (
    assert_same,
    compile_py,
    normal,
    raises_code,
    run,
    seeds,
    sym,
)
from hypothesis import given
from hypothesis import strategies as st

import astsym.tensor as T
from astsym.graph.type import TensorType
from astsym.typecheck import GraphRuntimeError, GraphTypeError

static_modes = pytest.mark.parametrize("static", [False, True], ids=["dynamic", "static"])
PRODUCT_DTYPES = ["float64", "float32", "int32", "int8", "uint8", "bool"]
sizes = st.integers(1, 4)


def _operand(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype.startswith(("int", "uint")):
        return rng.integers(0, 4, size=shape).astype(dtype)
    return rng.normal(size=shape).astype(dtype)


def _close(got, expected):
    tol = 1e-5 if got.dtype == np.float32 else 1e-10
    assert_same(got, expected, rtol=tol, atol=tol)


@st.composite
def dot_shapes(draw):
    """Shapes of ranks 0..3 whose ``numpy.dot`` is defined."""
    ra, rb = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    a = [draw(sizes) for _ in range(ra)]
    b = [draw(sizes) for _ in range(rb)]
    if ra and rb:
        b[-2 if rb >= 2 else 0] = a[-1]
    return tuple(a), tuple(b)


@static_modes
@given(dot_shapes(), st.sampled_from(PRODUCT_DTYPES), st.sampled_from(PRODUCT_DTYPES), seeds())
def test_dot_matches_numpy(static, case, da, db, seed):
    a, b = _operand(case[0], da, seed), _operand(case[1], db, seed + 1)
    _close(run(T.dot, a, b, static=static), np.asarray(np.dot(a, b)))


@pytest.mark.parametrize("ra", range(4))
@pytest.mark.parametrize("rb", range(4))
def test_dot_every_rank_combination(ra, rb):
    a = normal([(), (4,), (3, 4), (2, 3, 4)][ra], 0)
    b = normal([(), (4,), (4, 5), (2, 4, 5)][rb], 1)
    _close(run(T.dot, a, b), np.asarray(np.dot(a, b)))
    _close(run(lambda u, v: u.dot(v), a, b, static=True), np.asarray(np.dot(a, b)))


@st.composite
def matmul_shapes(draw):
    """Shapes for ``numpy.matmul``: 1-D operands and broadcast batch dims (size 1)."""
    n, k, m = draw(sizes), draw(sizes), draw(sizes)
    batch = [draw(sizes) for _ in range(draw(st.integers(0, 2)))]

    def operand(core):
        if len(core) == 1:  # a vector (batch dims would make it a matrix)
            return core
        lead = batch[len(batch) - draw(st.integers(0, len(batch))) :]
        return tuple(1 if draw(st.booleans()) else d for d in lead) + tuple(core)

    a = operand((k,)) if draw(st.booleans()) else operand((n, k))
    b = operand((k,)) if draw(st.booleans()) else operand((k, m))
    return a, b


@static_modes
@given(matmul_shapes(), st.sampled_from(PRODUCT_DTYPES), st.sampled_from(PRODUCT_DTYPES), seeds())
def test_matmul_matches_numpy(static, case, da, db, seed):
    a, b = _operand(case[0], da, seed), _operand(case[1], db, seed + 1)
    expected = np.asarray(np.matmul(a, b))
    _close(run(T.matmul, a, b, static=static), expected)
    _close(run(lambda u, v: u @ v, a, b, static=static), expected)


def test_matmul_operator_with_constants():
    a = normal((2, 3), 0)
    b = normal((3,), 1)
    _close(run(lambda u: u @ b, a), a @ b)
    _close(run(lambda v: a @ v, b), a @ b)
    assert (T.matrix("a") @ T.vector("v")).type == T.vector("r").type


def test_matmul_refuses_scalars():
    with raises_code("AS203"):
        T.matmul(T.dscalar("s"), T.dvector("v"))


@st.composite
def tensordot_cases(draw):
    ra, rb = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    a = [draw(sizes) for _ in range(ra)]
    b = [draw(sizes) for _ in range(rb)]
    n = draw(st.integers(0, min(ra, rb)))
    if draw(st.booleans()):
        for i in range(n):
            b[i] = a[ra - n + i]
        return tuple(a), tuple(b), n
    xa = list(draw(st.permutations(range(ra))))[:n]
    xb = list(draw(st.permutations(range(rb))))[:n]
    for i, j in zip(xa, xb):
        b[j] = a[i]
    xa = [i - ra if draw(st.booleans()) else i for i in xa]
    return tuple(a), tuple(b), (xa, xb)


@static_modes
@given(tensordot_cases(), seeds())
def test_tensordot_matches_numpy(static, case, seed):
    sa, sb, axes = case
    a, b = normal(sa, seed), normal(sb, seed + 1)
    expected = np.asarray(np.tensordot(a, b, axes=axes))
    _close(run(lambda u, v: T.tensordot(u, v, axes), a, b, static=static), expected)


def test_tensordot_default_axes():
    a, b = normal((2, 3, 4), 0), normal((3, 4, 5), 1)
    _close(run(T.tensordot, a, b), np.tensordot(a, b))


@given(st.lists(sizes, max_size=2), st.lists(sizes, max_size=2), seeds())
def test_outer_matches_numpy(sa, sb, seed):
    a, b = normal(tuple(sa), seed), normal(tuple(sb), seed + 1)
    _close(run(T.outer, a, b), np.outer(a, b))


@pytest.mark.parametrize(
    ("sa", "sb", "spec"),
    [
        ((3, 2, 4), (3, 4, 5), "bij,bjk->bik"),
        ((3, 2, 4), (3, 4), "bij,bj->bi"),
        ((3, 4), (3, 4, 5), "bj,bjk->bk"),
        ((3, 4), (3, 4), "bj,bj->b"),
    ],
)
@given(seed=seeds())
def test_batched_dot_matches_einsum(sa, sb, spec, seed):
    a, b = normal(sa, seed), normal(sb, seed + 1)
    _close(run(T.batched_dot, a, b), np.einsum(spec, a, b))


def test_batched_dot_ranks():
    with raises_code("AS203"):
        T.batched_dot(T.dtensor4("a"), T.dtensor3("b"))


# -- inner-dim errors -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "sa", "sb"),
    [
        (T.dot, (None, 3), (4, None)),
        (T.dot, (2, 3), (4,)),
        (T.matmul, (2, 3), (4, 5)),
        (T.matmul, ("n", 3), (4, "m")),
        (lambda a, b: a @ b, (5, 2, 3), (5, 4, 2)),
        (lambda a, b: T.tensordot(a, b, [[1], [0]]), (2, 3), (4, 2)),
        (T.dot, (2, 3), (5, 4, 2)),
    ],
)
def test_inner_dim_mismatch_names_both_shapes(build, sa, sb):
    a, b = TensorType("float64", shape=sa)("a"), TensorType("float64", shape=sb)("b")
    fmt = lambda s: "[" + ", ".join("?" if d is None else str(d) for d in s) + "]"  # noqa: E731
    with raises_code("AS202", fmt(sa), fmt(sb)):
        build(a, b)


def test_inner_dim_mismatch_at_run_time():
    a, b = T.dmatrix("a"), T.dmatrix("b")
    f = compile_py([a, b], T.dot(a, b))
    with pytest.raises(GraphRuntimeError) as info:
        f(np.zeros((2, 3)), np.zeros((4, 2)))
    assert info.value.diagnostic.code == "AS202"
    assert "(2, 3)" in info.value.diagnostic.message
    assert "(4, 2)" in info.value.diagnostic.message


def test_batch_dims_that_differ_are_a_broadcast_error():
    a = TensorType("float64", shape=(2, 2, 3))("a")
    b = TensorType("float64", shape=(5, 3, 2))("b")
    with raises_code("AS201", "dim 2 vs 5"):
        a @ b


def test_error_points_at_the_users_line(tmp_path):
    """The diagnostic names the user's file, line and column and shows the source."""
    path = tmp_path / "model.py"
    path.write_text(
        "from astsym.graph.type import TensorType\n"
        "a = TensorType('float32', shape=('n', 3))('a')\n"
        "b = TensorType('float32', shape=(4, 'm'))('b')\n"
        "c = a @ b\n"
    )
    with pytest.raises(GraphTypeError) as info:
        runpy.run_path(str(path))
    d = info.value.diagnostic
    assert (d.code, d.span.file, d.span.line, d.span.col) == ("AS202", str(path), 4, 5)
    lines = d.render().splitlines()
    assert lines[0].startswith(f"{path}:4:5: error[AS202] ")
    assert "f32[n, 3] and f32[4, m]" in lines[0]
    assert lines[1:3] == ["   4 | c = a @ b", "           ^^^^^"]


def test_product_result_types():
    f32, i8 = T.fmatrix("f"), TensorType("int8", shape=(None, None))("i")
    assert T.dot(f32, i8).dtype == "float32"
    assert T.dot(i8, i8).dtype == "int8"
    assert T.dot(
        TensorType("float64", shape=(2, 3))("a"), sym(np.zeros((3, 5)), True)
    ).type.shape == (2, 5)
