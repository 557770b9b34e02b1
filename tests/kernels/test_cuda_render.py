"""The CUDA C renderer (``kernels/cuda_render.py``) checked without a GPU: every kernel it
writes is compiled by the host C++ compiler (``host_cuda.py``, CuPy's kernel classes
emulated on NumPy) and compared with the ops' NumPy references, for every elementwise op in
the registry and a representative set of dtype combinations, every reduction, and fused
groups built by ``fuse_all`` from real graphs."""

from __future__ import annotations

import itertools
import re
from concurrent.futures import ThreadPoolExecutor

import host_cuda as hc
import numpy as np
import pytest

import astsym.tensor as T
from astsym.graph.fg import FunctionGraph
from astsym.graph.ops.elemwise import ELEMWISE, Cast
from astsym.graph.ops.fused import FusedElemwise, FusedReduce, FusedSoftmax
from astsym.graph.ops.reduce import REDUCTIONS, Reduce
from astsym.graph.rewrites_fuse import fuse_all
from astsym.graph.type import TensorType
from astsym.kernels import cuda_render as cr

pytestmark = pytest.mark.skipif(hc.CXX is None, reason="no g++ to compile the CUDA C on")

DTYPES = ["bool", "int8", "int32", "int64", "uint8", "uint64", "float32", "float64"]
MIXED = [
    ("int8", "uint8"),
    ("int32", "float32"),
    ("int64", "uint64"),
    ("uint64", "int8"),
    ("uint8", "float64"),
    ("bool", "int32"),
    ("int64", "float32"),
    ("float32", "float64"),
]
RTOL = {"float32": 1e-5, "float64": 1e-12}


def samples(dtype: str) -> np.ndarray:
    """Zero, signs, halves, extremes, and for floats inf and NaN."""
    if dtype == "bool":
        return np.array([False, True])
    kind = np.dtype(dtype).kind
    if kind == "f":
        v = [0, -0.0, 1, -1, 0.5, -0.5, 2.5, -3.7, 0.3, 7, 100, -1e3, np.inf, -np.inf, np.nan]
        return np.array(v, dtype)
    info = np.iinfo(dtype)
    v = [0, 1, 2, 3, 7, 100, info.max, info.max - 1]
    if kind == "i":
        v += [-1, -2, -7, info.min, info.min + 1]
    return np.array(v, dtype=object).astype(dtype)


def combos(nin: int):
    if nin == 1:
        return [(d,) for d in DTYPES]
    if nin == 2:
        return [(d, d) for d in DTYPES] + MIXED
    return (
        [("bool", d, d) for d in DTYPES]
        + [(d, d, d) for d in DTYPES]
        + [
            ("bool", "int32", "float32"),
            ("float64", "int8", "int8"),
            ("int32", "int8", "int64"),
        ]
    )


def operand_values(dtypes) -> list[np.ndarray]:
    """Every combination of samples, by broadcasting: (n,) / (n, 1), (m,) / (n, 1, 1)..."""
    vals = [samples(d) for d in dtypes]
    nd = len(vals)
    return [v.reshape((-1,) + (1,) * (nd - 1 - k)) for k, v in enumerate(vals)]


def expected(op, values, out_dtype):
    with np.errstate(all="ignore"):
        if op.impl is None:
            return values[0].astype(out_dtype)
        return np.asarray(op.impl(*values), dtype=out_dtype)


def assert_same(got, want, dtype: str, what: str = "") -> None:
    assert got.shape == want.shape and got.dtype == want.dtype, what
    if dtype in RTOL:
        np.testing.assert_allclose(
            got, want, rtol=RTOL[dtype], atol=0, equal_nan=True, err_msg=what
        )
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


def node_of(op, dtypes):
    ins = [TensorType(d, shape=(None,) * (len(dtypes) - k))(f"x{k}") for k, d in enumerate(dtypes)]
    return op(*ins).owner


def elementwise_kernel(node, name):
    s = cr.elementwise_source(node, name)
    return hc.HostElementwiseKernel(
        s.in_params, s.out_params, s.operation, s.name, preamble=s.preamble
    )


def reduction_kernel(node, name):
    s = cr.reduction_source(node, name)
    return hc.HostReductionKernel(
        s.in_params, s.out_params, s.map_expr, s.reduce_expr, s.post_map_expr, s.identity,
        s.name, reduce_type=s.reduce_type, preamble=s.preamble,
    )  # fmt: skip


# -- every elementwise op --------------------------------------------------------------
def _op_cases(op):
    """(dtypes, node, kernel, values, want) for each dtype combination NumPy accepts."""
    cases = []
    for k, dtypes in enumerate(combos(op.nin)):
        try:
            node = node_of(op, dtypes)
        except Exception:  # NumPy has no loop for these dtypes
            continue
        values = operand_values(dtypes)
        try:
            want = expected(op, values, node.outputs[0].dtype)
        except (ValueError, ZeroDivisionError, OverflowError):  # integer power: b < 0
            values = [np.where(v < 0, 0, v).astype(v.dtype) for v in values]
            try:
                want = expected(op, values, node.outputs[0].dtype)
            except Exception:
                continue
        try:
            kernel = elementwise_kernel(node, f"astsym_{op.name}_{k}")
        except cr.Unsupported:
            assert {"float16", "complex64", "complex128"} & {node.outputs[0].dtype, *loop(op, node)}
            continue
        cases.append((dtypes, node, kernel, values, want))
    return cases


def loop(op, node):
    try:
        return cr.loop_dtypes(op, [v.dtype for v in node.inputs], node.outputs[0].dtype)
    except cr.Unsupported:
        return ["float16"]


@pytest.fixture(scope="module")
def op_cases():
    """All ops' kernels, one library per op, compiled two at a time."""
    cases = {name: _op_cases(op) for name, op in ELEMWISE.items()}

    def build(name):
        try:
            hc.compile_together([c[2] for c in cases[name]])
        except hc.CompileError as err:
            return err
        return None

    with ThreadPoolExecutor(2) as pool:
        errors = dict(zip(cases, pool.map(build, cases)))
    return cases, errors


@pytest.mark.parametrize("name", sorted(ELEMWISE))
def test_elementwise_op_matches_numpy(op_cases, name):
    cases, errors = op_cases
    if errors[name] is not None:
        raise errors[name]
    assert cases[name], f"{name}: no dtype combination rendered"
    for dtypes, node, kernel, values, want in cases[name]:
        out = node.outputs[0].dtype
        got = kernel(*values)
        assert_same(got, want, out, f"{name}{dtypes}")
        if len(values) > 1:  # the last operand 0-d
            last = [*values[:-1], values[-1].reshape(-1)[-1].reshape(())]
            assert_same(kernel(*last), expected(node.op, last, out), out, f"{name}{dtypes} 0-d")


def test_casts_match_numpy():
    kernels, cases = [], []
    for k, (src, dst) in enumerate(itertools.product(DTYPES, DTYPES)):
        node = node_of(Cast(dst), (src,))
        x = samples(src)
        if src.startswith("float") and np.dtype(dst).kind in "iu":  # C leaves the rest undefined
            info = np.iinfo(dst)
            x = x[np.isfinite(x) & (x >= max(info.min, -1e3)) & (x <= min(info.max, 1e3))]
        kernels.append(elementwise_kernel(node, f"cast_{k}"))
        cases.append((src, dst, x))
    hc.compile_together(kernels)
    for kernel, (src, dst, x) in zip(kernels, cases):
        assert_same(kernel(x), x.astype(dst), dst, f"{src} -> {dst}")


# -- reductions ------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(k for k, r in REDUCTIONS.items() if r.combine))
def test_reduction_matches_numpy(kind):
    runs = []
    for d in DTYPES:
        x = TensorType(d, shape=(None, None))("x")
        for axes, keep in [((0, 1), False), ((0,), False), ((1,), True), ((0, 1), True)]:
            node = Reduce(kind, axes, keep, None)(x).owner
            runs.append((node, reduction_kernel(node, f"red_{kind}_{len(runs)}"), axes, keep))
    hc.compile_together([r[1] for r in runs])
    for node, kernel, axes, keep in runs:
        d = node.inputs[0].dtype
        v = samples(d)
        if kind in ("sum", "prod") and d.startswith("float"):
            v = v[np.isfinite(v)]  # every row gets inf and NaN otherwise: too easy
        values = np.resize(v, (3, 7))
        if kind == "prod" and v.dtype.kind == "f":
            values = np.resize(np.array([0.5, -1.5, 2, 1.25, -0.75, 3], d), (3, 7))
        want = node.op.perform(node, [values])[0]
        assert_same(kernel(values, axis=axes, keepdims=keep), want, want.dtype.name, f"{kind} {d}")


def test_reduction_of_nothing():
    x = T.fmatrix("x")
    empty = np.zeros((0, 3), "float32")
    for kind in ("max", "sum"):
        node = Reduce(kind, (0,), False, None)(x).owner
        kernel = reduction_kernel(node, f"empty_{kind}")
        if kind == "max":
            with pytest.raises(ValueError):
                kernel(empty, axis=(0,))
        else:
            assert_same(kernel(empty, axis=(0,)), np.zeros(3, "float32"), "float32")


# -- fused groups ----------------------------------------------------------------------
def _softmax(z):
    e = T.exp(z - T.max(z, axis=-1, keepdims=True))
    return e / T.sum(e, axis=-1, keepdims=True)


def _graphs():
    rng = np.random.default_rng(0)
    z, y = T.fvector("z"), T.fvector("y")
    b = T.fscalar("b")
    p = 1 / (1 + T.exp(-z - b))
    yield (
        [z, y, b],
        [-y * T.log(p) - (1 - y) * T.log(1 - p)],
        [
            rng.normal(size=9).astype("float32"),
            (rng.random(9) > 0.5).astype("float32"),
            np.float32(0.3),
        ],
    )
    x, w = T.fmatrix("x"), T.fmatrix("w")
    yield (
        [x, w],
        [T.sum(T.exp(x) * w, axis=1)],
        [
            rng.normal(size=(4, 6)).astype("float32"),
            rng.normal(size=(4, 6)).astype("float32"),
        ],
    )
    xd, bias = T.dmatrix("x"), T.dvector("b")
    yield [xd, bias], [_softmax(xd * 2 + bias)], [rng.normal(size=(5, 7)), rng.normal(size=7)]
    yield (
        [x],
        [T.where(x > 0, x, x * 0.01), T.max(T.exp(x), axis=0)],
        [np.array([[1, -2, np.nan], [-np.inf, 3, 0]], "float32")],
    )


def _run_fused(node, name, values):
    op = node.op
    if isinstance(op, FusedElemwise):
        return elementwise_kernel(node, name)(*values)
    if isinstance(op, FusedReduce):
        kernel = reduction_kernel(node, name)
        return kernel(*values, axis=op.reduce.axes, keepdims=op.reduce.keepdims)
    out = np.asarray(op.reference(values))
    src = cr.softmax_source(node, name)
    kernel = hc.HostRawKernel(src.code, src.name)
    args = [
        np.ascontiguousarray(np.broadcast_to(v, cr.softmax_input_shape(node, i, out.shape)))
        for i, v in enumerate(values)
    ]
    result = np.empty(out.shape, node.outputs[0].dtype)
    n_rows = np.int64(result.size // out.shape[-1])
    kernel((2,), (src.threads,), (*args, result, n_rows, np.int64(out.shape[-1])))
    return result


@pytest.mark.parametrize("graph", range(4))
def test_fused_groups_match_reference(graph):
    inputs, outputs, values = list(_graphs())[graph]
    fg = FunctionGraph(inputs, outputs)
    fuse_all(fg)
    known = {id(v): np.asarray(x) for v, x in zip(fg.inputs, values)}
    fused = [
        n for n in fg.toposort() if isinstance(n.op, FusedElemwise | FusedReduce | FusedSoftmax)
    ]
    assert fused
    for k, node in enumerate(fused):
        args = [known[id(v)] if id(v) in known else np.asarray(v.data) for v in node.inputs]
        want = np.asarray(node.op.reference(args), dtype=node.outputs[0].dtype)
        got = _run_fused(node, f"g{graph}_{k}", args)
        assert_same(got, want, want.dtype.name, node.op.name)
        known[id(node.outputs[0])] = got


# -- names, preambles, refusals --------------------------------------------------------
def test_kernel_names_are_c_identifiers():
    x = T.fvector("x")
    for raw in ["astsym train-3", "9lives", "ünï", "a.b/c"]:
        src = cr.elementwise_source(T.exp(x).owner, raw)
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", src.name)
        assert f"{src.name}_value(" in src.preamble


def test_two_kernels_preambles_compile_together():
    x = T.dvector("x")
    a = elementwise_kernel(T.exp(x).owner, "first")
    b = reduction_kernel(T.max(x).owner, "second")
    hc.compile_together([a, b])
    v = np.array([1.0, -2.0])
    assert_same(a(v), np.exp(v), "float64")
    assert_same(b(v), np.array(1.0), "float64")


@pytest.mark.parametrize("dtype", ["float16", "complex64", "complex128"])
def test_unsupported_dtypes(dtype):
    x = TensorType(dtype, shape=(None,))("x")
    with pytest.raises(cr.Unsupported):
        cr.elementwise_source((x + x).owner, "k")
    with pytest.raises(cr.Unsupported):
        cr.reduction_source(T.sum(x).owner, "k")
