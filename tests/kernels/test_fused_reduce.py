"""Reductions and softmax on the ``cpu`` backend: an elementwise group feeding a reduction or
a row softmax runs as one kernel, and the results equal the ``py`` backend (the oracle) on
random data, NaN, inf and empty arrays included; a kernel may reuse a dead intermediate's
buffer but never an input's."""

import llvmlite.binding as llvm
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import astsym
import astsym.tensor as T
from astsym.graph.ops.fused import FusedElemwise, FusedReduce, FusedSoftmax
from astsym.graph.type import TensorType
from astsym.kernels import numba_reduce
from astsym.kernels import vecmath as vm
from astsym.typecheck import GraphRuntimeError

finite = st.floats(-20, 20, width=32)


def _both(inputs, output, *values):
    want = astsym.function(inputs, output, mode="py")(*values)
    f = astsym.function(inputs, output, mode="cpu")
    got = f(*values)
    _all_compiled(f)
    return got, want, f


def _all_compiled(f):
    """Every fused node of ``f`` ran as a Numba kernel, not through its NumPy reference
    (0-d groups run on NumPy op by op: a kernel for one value is not worth compiling)."""
    for node in f.fgraph.toposort():
        if node.outputs[0].ndim == 0 and isinstance(node.op, FusedElemwise):
            assert node.op._kernels[id(node)][1] is None
        elif isinstance(node.op, (FusedElemwise, FusedReduce, FusedSoftmax)):
            assert node.op._kernels[id(node)][1] is not None, f"{node.op.name} has no kernel"


def _ops(f, kind) -> list:
    return [node.op for node in f.fgraph.toposort() if isinstance(node.op, kind)]


def _close(got, want, dtype):
    assert got.dtype == want.dtype and got.shape == want.shape
    rtol = 2e-5 if dtype == "float32" else 1e-11
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol)


@settings(deadline=None, max_examples=30)
@given(
    shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6),
    kind=st.sampled_from(["sum", "prod", "max", "min"]),
    dtype=st.sampled_from(["float32", "float64"]),
    keepdims=st.booleans(),
    data=st.data(),
)
def test_an_expression_reduced_over_any_axes_equals_py(shape, kind, dtype, keepdims, data):
    axes = data.draw(st.lists(st.sampled_from(range(len(shape))), min_size=1, unique=True))
    x = data.draw(hnp.arrays(dtype, shape, elements=st.floats(-2, 2, width=32)))
    row = data.draw(hnp.arrays(dtype, (1,) * (len(shape) - 1) + shape[-1:], elements=finite))
    tx = TensorType(dtype, shape=(None,) * len(shape))("x")
    trow = TensorType(dtype, shape=(1,) * (len(shape) - 1) + (None,))("row")
    expr = T.exp(tx * 0.5) * trow - tx
    out = getattr(expr, kind)(axis=tuple(axes), keepdims=keepdims)
    got, want, f = _both([tx, trow], out, x, row)
    _close(got, want, dtype)
    (op,) = _ops(f, FusedReduce)
    assert op.steps and op.reduce.kind == kind  # the expression was folded in


@pytest.mark.parametrize("shape", [(3000,), (700, 30), (30, 700), (9, 8, 70)])
@pytest.mark.parametrize("axis", [None, 0, -1])
def test_large_reductions_split_across_threads_equal_numpy(shape, axis):
    rng = np.random.default_rng(0)
    value = rng.standard_normal(shape).astype(np.float32)
    x = T.TensorType("float32", shape=(None,) * len(shape))("x")
    f = astsym.function([x], [(x * 2).sum(axis=axis), x.max(axis=axis)], mode="cpu")
    total, peak = f(value)
    _all_compiled(f)
    np.testing.assert_allclose(total, (value * 2).sum(axis=axis), rtol=1e-5, atol=1e-3)
    np.testing.assert_array_equal(peak, value.max(axis=axis))


@pytest.mark.parametrize("kind", ["max", "min", "sum"])
def test_nan_and_inf_propagate_as_in_numpy(kind):
    x = T.dmatrix("x")
    value = np.arange(40.0).reshape(2, 20)
    value[0, 7], value[1, 19] = np.nan, np.inf
    for axis in (0, 1, None):
        got, want, _ = _both([x], getattr(x, kind)(axis=axis), value)
        np.testing.assert_array_equal(got, want)


def test_empty_reductions_follow_numpy():
    x = T.dmatrix("x")
    got, want, _ = _both([x], (x + 1).sum(axis=0), np.zeros((0, 3)))
    np.testing.assert_array_equal(got, want)
    f = astsym.function([x], (x + 1).max(axis=0), mode="cpu")
    with pytest.raises(GraphRuntimeError, match="max"):
        f(np.zeros((0, 3)))


def test_a_value_reduced_with_and_without_keepdims_is_reduced_once():
    x = T.fmatrix("x")
    value = np.random.default_rng(2).standard_normal((5, 4)).astype(np.float32)
    got, want, f = _both([x], x - x.mean(0) + x.sum(0, keepdims=True), value)
    _close(got, want, "float32")
    assert len(_ops(f, FusedReduce)) == 1


@settings(deadline=None, max_examples=25)
@given(
    x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=7), elements=finite),
    dtype=st.sampled_from(["float32", "float64"]),
)
def test_softmax_of_an_expression_is_one_kernel_equal_to_py(x, dtype):
    x = x.astype(dtype)
    tx = TensorType(dtype, shape=(None,) * x.ndim)("x")
    out = T.nnet.softmax((tx - 1) * 3)
    got, want, f = _both([tx], out, x)
    _close(got, want, dtype)
    assert [op.steps != () for op in _ops(f, FusedSoftmax)] == [True]


def test_softmax_rows_with_nan_and_infinities_follow_numpy():
    x = T.dmatrix("x")
    value = np.array([[1.0, np.nan, 2.0], [-np.inf, 0.0, 1.0], [np.inf, 0.0, 1.0], [-np.inf] * 3])
    got, want, _ = _both([x], T.nnet.softmax(x), value)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got[~np.isnan(want)], want[~np.isnan(want)], rtol=1e-12)


def test_softmax_whose_parts_are_used_elsewhere_is_not_fused():
    x = T.dmatrix("x")
    e = T.exp(x - x.max(axis=1, keepdims=True))
    out = e / e.sum(axis=1, keepdims=True)
    value = np.random.default_rng(3).standard_normal((4, 5))
    f = astsym.function([x], [out, e], mode="cpu")
    got, want = f(value), astsym.function([x], [out, e], mode="py")(value)
    assert not _ops(f, FusedSoftmax)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_a_kernel_reuses_a_dead_intermediate_but_never_an_input():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    total = x.sum(axis=1, keepdims=True)
    out = T.exp(x / total) * y + T.sqrt(T.exp(y / total) + 1)  # two groups, one feeding another
    value, other = np.random.default_rng(4).random((2, 6, 5)) + 0.5
    kept = value.copy(), other.copy()
    got, want, f = _both([x, y], out * T.tanh(out.sum()), value, other)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_array_equal(value, kept[0])
    np.testing.assert_array_equal(other, kept[1])
    assert any(op.inplace >= 0 for op in _ops(f, FusedElemwise))


def _generated(kind):
    """The compiled one-thread variants of the generated kernels whose source has ``kind``."""
    from astsym.kernels.numba_render import _CACHE

    return [k for (source, parallel), k in _CACHE.items() if not parallel and kind in source]


@pytest.mark.skipif(
    not llvm.get_host_cpu_features().get("avx2"), reason="no AVX2: nothing to vectorize to"
)
def test_generated_kernels_vectorize_and_call_no_libm():
    x, a, b = T.fvector("x"), T.fscalar("a"), T.fscalar("b")
    w1 = T.exp(-x * a + b) * T.tanh(x) + x**2 / (1 + abs(x))
    f = astsym.function([x, a, b], [w1, T.nnet.softmax(T.shape_padleft(x) * a)], mode="cpu")
    f(np.linspace(-3, 3, 999, dtype=np.float32), np.float32(0.5), np.float32(0.1))
    kernels = _generated("_tanh_f32") + _generated("_rmax")
    assert len(kernels) >= 2
    for kernel in kernels + [numba_reduce._row_sum]:
        for signature in kernel.signatures:
            report = vm.assembly_report(kernel.inspect_asm(signature))
            assert report["widest"] in ("ymm", "zmm"), report
            assert report["libm_calls"] == [], report


def test_the_rewrite_report_names_the_user_line_of_each_fusion():
    import inspect

    x = T.dmatrix("x")
    line = inspect.currentframe().f_lineno + 1
    out = T.nnet.softmax(x * 2)
    f = astsym.function([x], [out, (x**2).sum()], mode="cpu")
    report = astsym.printing.rewrites(f, file="str")
    assert f"test_fused_reduce.py:{line}: fuse/fuse_softmax on softmax" in report
    assert f"test_fused_reduce.py:{line}: fuse/fuse_softmax_input on fused{{multiply}}" in report
    assert f"test_fused_reduce.py:{line + 1}: fuse/fuse_reduction on fused{{square}}" in report
