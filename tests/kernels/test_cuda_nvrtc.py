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

import ctypes
import ctypes.util
import importlib.util
import os
from pathlib import Path

import pytest
from test_cuda_render import DTYPES, combos

import astsym.tensor as T
from astsym.graph.fg import FunctionGraph
from astsym.graph.ops.elemwise import ELEMWISE, Cast
from astsym.graph.ops.fused import FusedElemwise, FusedReduce, FusedSoftmax
from astsym.graph.ops.reduce import REDUCTIONS, Reduce
from astsym.graph.rewrites_fuse import fuse_all
from astsym.graph.type import TensorType
from astsym.kernels import cuda_render as cr
from astsym.kernels.cuda_scalar import C_TYPES


def _find_nvrtc() -> str | None:
    named = os.environ.get("ASTSYM_NVRTC")
    if named:
        return named
    spec = importlib.util.find_spec("nvidia")
    for root in spec.submodule_search_locations if spec else ():
        found = sorted(Path(root, "cuda_nvrtc", "lib").glob("libnvrtc.so*"))
        if found:
            return str(found[0])
    return ctypes.util.find_library("nvrtc")


NVRTC_PATH = _find_nvrtc()
pytestmark = pytest.mark.skipif(NVRTC_PATH is None, reason="no libnvrtc to compile CUDA C with")


def nvrtc_compile(source: str) -> None:
    """Compile ``source`` as C++11 (the oldest standard CuPy compiles with) for compute
    capability 9.0 (the H200); an AssertionError with NVRTC's log and the numbered source
    when it fails."""
    lib = ctypes.CDLL(NVRTC_PATH)
    prog = ctypes.c_void_p()
    assert lib.nvrtcCreateProgram(ctypes.byref(prog), source.encode(), b"k.cu", 0, None, None) == 0
    options = [b"--gpu-architecture=compute_90", b"-std=c++11"]
    status = lib.nvrtcCompileProgram(prog, len(options), (ctypes.c_char_p * 2)(*options))
    size = ctypes.c_size_t()
    lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
    log = ctypes.create_string_buffer(size.value)
    lib.nvrtcGetProgramLog(prog, log)
    lib.nvrtcDestroyProgram(ctypes.byref(prog))
    numbered = "\n".join(f"{i + 1:4} {line}" for i, line in enumerate(source.splitlines()))
    assert status == 0, f"NVRTC refused the kernel:\n{log.value.decode()}\n{numbered}"


def _params(params: str) -> list[tuple[str, str]]:
    """``'float32 in0, int64 in1'`` -> [('float', 'in0'), ('long long', 'in1')]."""
    pairs = [p.split() for p in params.split(",")]
    return [(C_TYPES[dtype], name) for dtype, name in pairs]


def elementwise_unit(src: cr.ElementwiseSource) -> str:
    """The preamble and a kernel running ``operation`` as CuPy's ElementwiseKernel does."""
    ins, outs = _params(src.in_params), _params(src.out_params)
    args = [f"const {t}* _raw_{n}" for t, n in ins] + [f"{t}* _raw_{n}" for t, n in outs]
    loads = [f"const {t} {n} = _raw_{n}[i];" for t, n in ins]
    loads += [f"{t} &{n} = _raw_{n}[i];" for t, n in outs]
    return (
        f"{src.preamble}\n"
        f'extern "C" __global__ void {src.name}({", ".join(args)}, long long n) {{\n'
        "  long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;\n"
        f"  if (i < n) {{ {' '.join(loads)} {src.operation} }}\n}}\n"
    )


def reduction_unit(src: cr.ReductionSource) -> str:
    """The preamble and a block reduction written as CuPy's ReductionKernel template."""
    ins, outs = _params(src.in_params), _params(src.out_params)
    args = [f"const {t}* _raw_{n}" for t, n in ins] + [f"{t}* _raw_{n}" for t, n in outs]
    loads = " ".join(f"const {t} {n} = _raw_{n}[_j];" for t, n in ins)
    stores = " ".join(f"{t} &{n} = _raw_{n}[0];" for t, n in outs)
    return f"""{src.preamble}
#define REDUCE(a, b) ({src.reduce_expr})
#define POST_MAP(a) ({src.post_map_expr})
typedef {src.reduce_type} _type_reduce_{src.name};
extern "C" __global__ void {src.name}({", ".join(args)}, long long n) {{
  typedef _type_reduce_{src.name} _type_reduce;
  __shared__ char _sdata_raw[256 * sizeof(_type_reduce)];
  _type_reduce *_sdata = reinterpret_cast<_type_reduce*>(_sdata_raw);
  unsigned int _tid = threadIdx.x;
  _type_reduce _s = _type_reduce({src.identity or ""});
  for (long long _j = _tid; _j < n; _j += blockDim.x) {{
    {loads}
    _type_reduce _a = static_cast<_type_reduce>({src.map_expr});
    _s = REDUCE(_s, _a);
  }}
  _sdata[_tid] = _s;
  __syncthreads();
  for (unsigned int _block = 128; _block >= 1; _block >>= 1) {{
    if (_tid < _block) {{
      _type_reduce _a = _sdata[_tid], _b = _sdata[_tid + _block];
      _sdata[_tid] = REDUCE(_a, _b);
    }}
    __syncthreads();
  }}
  if (_tid == 0) {{ _s = _sdata[0]; {stores} POST_MAP(_s); }}
}}
#undef REDUCE
#undef POST_MAP
"""


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
            units.append(elementwise_unit(cr.elementwise_source(node, f"{name}_{k}")))
        except cr.Unsupported:
            continue
    assert units, f"{name}: no kernel to compile"
    nvrtc_compile("\n".join(units))


def test_every_cast_compiles():
    units = []
    for k, (src, dst) in enumerate((a, b) for a in DTYPES for b in DTYPES):
        node = Cast(dst)(TensorType(src, shape=(None,))("x")).owner
        units.append(elementwise_unit(cr.elementwise_source(node, f"cast_{k}")))
    nvrtc_compile("\n".join(units))


@pytest.mark.parametrize("kind", sorted(REDUCTIONS))
def test_every_reduction_kernel_compiles(kind):
    units = []
    for k, dtype in enumerate(DTYPES):
        node = _node(lambda x: Reduce(kind, (0,), False, None)(x), [dtype])
        if node is None:
            continue
        try:
            units.append(reduction_unit(cr.reduction_source(node, f"{kind}_{k}")))
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
            units.append(elementwise_unit(cr.elementwise_source(node, name)))
        elif isinstance(node.op, FusedReduce):
            units.append(reduction_unit(cr.reduction_source(node, name)))
        else:
            units.append(cr.softmax_source(node, name).code)
    assert len(units) >= 5
    nvrtc_compile("\n".join(units))


def test_a_broken_kernel_is_reported_with_nvrtcs_log():
    with pytest.raises(AssertionError, match="NVRTC refused"):
        nvrtc_compile('extern "C" __global__ void k(float* x) { x[0] = undefined_name; }')
