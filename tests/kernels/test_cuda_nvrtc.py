"""The generated CUDA C compiled by NVRTC, the compiler CuPy itself uses, where it is found:
no GPU and no CuPy are needed, only ``libnvrtc`` (``pip install nvidia-cuda-nvrtc-cu12``, or
a CUDA toolkit; ``ASTSYM_NVRTC=/path/to/libnvrtc.so`` names it). Without it the module
skips: the host compiler's tests (``test_cuda_render.py``) run everywhere.

Each kernel is wrapped the way CuPy wraps it (read from CuPy's ``_kernel.pyx`` and
``_reduction.pyx``): an elementwise ``operation`` runs with its inputs as ``const T inK``
and its outputs as ``T &outK``; a reduction's ``map_expr`` is cast to ``reduce_type``, its
``reduce_expr`` combines ``a`` and ``b`` through shared memory, and ``post_map_expr`` writes
the result; a raw kernel compiles as it is. What this proves is that NVRTC accepts what the
renderer writes, for every elementwise op and dtype combination the host tests run, every
reduction and the fused groups; what runs on a device is checked by the ``gpu`` tests.
"""

from __future__ import annotations

from dataclasses import astuple

import pytest
from nvrtc import NVRTC_PATH, elementwise_unit, nvrtc_compile, reduction_unit
from test_cuda_render import DTYPES, combos

import astsym.tensor as T
from astsym.graph.fg import FunctionGraph
from astsym.graph.ops.elemwise import ELEMWISE, Cast
from astsym.graph.ops.fused import FusedElemwise, FusedReduce, FusedSoftmax
from astsym.graph.ops.reduce import REDUCTIONS, Reduce
from astsym.graph.rewrites_fuse import fuse_all
from astsym.graph.type import TensorType
from astsym.kernels import cuda_render as cr

pytestmark = pytest.mark.skipif(NVRTC_PATH is None, reason="no libnvrtc to compile CUDA C with")


def _node(op, dtypes):
    inputs = [TensorType(d, shape=(None,))(f"x{i}") for i, d in enumerate(dtypes)]
    try:
        return op(*inputs).owner
    except Exception:  # noqa: BLE001 - the op does not take these dtypes
        return None


@pytest.mark.parametrize("name", sorted(ELEMWISE))
def test_every_elementwise_kernel_compiles(name):
    op = ELEMWISE[name]
    units = []
    for k, dtypes in enumerate(combos(op.nin)):
        node = _node(op, dtypes)
        if node is None:
            continue
        try:
            units.append(elementwise_unit(*astuple(cr.elementwise_source(node, f"{name}_{k}"))))
        except cr.Unsupported:
            continue
    assert units, f"{name}: no kernel to compile"
    nvrtc_compile("\n".join(units))


def test_every_cast_compiles():
    units = []
    for k, (src, dst) in enumerate((a, b) for a in DTYPES for b in DTYPES):
        node = Cast(dst)(TensorType(src, shape=(None,))("x")).owner
        units.append(elementwise_unit(*astuple(cr.elementwise_source(node, f"cast_{k}"))))
    nvrtc_compile("\n".join(units))


@pytest.mark.parametrize("kind", sorted(REDUCTIONS))
def test_every_reduction_kernel_compiles(kind):
    units = []
    for k, dtype in enumerate(DTYPES):
        node = _node(lambda x: Reduce(kind, (0,), False, None)(x), [dtype])
        if node is None:
            continue
        try:
            units.append(reduction_unit(*astuple(cr.reduction_source(node, f"{kind}_{k}"))))
        except cr.Unsupported:
            continue
    if not units:
        pytest.skip(f"{kind} has no CUDA reduction (a composition or an index)")
    nvrtc_compile("\n".join(units))


def _fused_nodes():
    x, y = T.fmatrix("x"), T.fvector("y")
    w = T.fvector("w")
    graphs = [
        [T.nnet.binary_crossentropy(T.nnet.sigmoid(T.dot(x, w) * 2 + 1), y).mean()],
        [(T.exp(x) * y).sum(axis=1), T.tanh(x * 3 - 1)],
        [T.nnet.softmax(x * 2 + y)],
        [T.switch(T.gt(x, 0), x, T.exp(x) - 1).max(axis=0)],
    ]
    nodes = []
    for outs in graphs:
        fg = FunctionGraph([x, y, w], outs)
        fuse_all(fg, duplicate=True)
        nodes += [
            n for n in fg.toposort() if isinstance(n.op, (FusedElemwise, FusedReduce, FusedSoftmax))
        ]
    return nodes


def test_fused_groups_compile():
    units = []
    for k, node in enumerate(_fused_nodes()):
        name = f"fused_{k}"
        if isinstance(node.op, FusedElemwise):
            units.append(elementwise_unit(*astuple(cr.elementwise_source(node, name))))
        elif isinstance(node.op, FusedReduce):
            units.append(reduction_unit(*astuple(cr.reduction_source(node, name))))
        else:
            units.append(cr.softmax_source(node, name).code)
    assert len(units) >= 5
    nvrtc_compile("\n".join(units))


def test_a_broken_kernel_is_reported_with_nvrtcs_log():
    with pytest.raises(AssertionError, match="NVRTC refused"):
        nvrtc_compile('extern "C" __global__ void k(float* x) { x[0] = undefined_name; }')
