"""NVRTC, CUDA's own compiler (the one CuPy uses; it needs no GPU), for the tests: the
generated kernels compiled wrapped as CuPy's kernel templates wrap them (read from CuPy's
``_kernel.pyx`` and ``_reduction.pyx``): an elementwise ``operation`` runs with its inputs
as ``const T inK`` and its outputs as ``T &outK``; a reduction's ``map_expr`` is cast to
``reduce_type``, its ``reduce_expr`` combines ``a`` and ``b`` through shared memory, and
``post_map_expr`` writes the result; a raw kernel compiles as it is.

``NVRTC_PATH`` is None where no ``libnvrtc`` is found (``pip install
nvidia-cuda-nvrtc-cu12``, a CUDA toolkit, or ``ASTSYM_NVRTC=/path/to/libnvrtc.so``); the
``check_*`` functions then do nothing. The host kernels of ``host_cuda.py`` call them, so
every kernel the tests build, on the host stand-in for CuPy too, goes through NVRTC.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib.util
import os
from pathlib import Path

from astsym.kernels.cuda_scalar import C_TYPES


def find_nvrtc() -> str | None:
    named = os.environ.get("ASTSYM_NVRTC")
    if named:
        return named
    spec = importlib.util.find_spec("nvidia")
    for root in spec.submodule_search_locations if spec else ():
        found = sorted(Path(root, "cuda_nvrtc", "lib").glob("libnvrtc.so*"))
        if found:
            return str(found[0])
    return ctypes.util.find_library("nvrtc")


NVRTC_PATH = find_nvrtc()
_CHECKED: set[str] = set()


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


def elementwise_unit(in_params, out_params, operation, name, preamble="") -> str:
    """The preamble and a kernel running ``operation`` as CuPy's ElementwiseKernel does."""
    ins, outs = _params(in_params), _params(out_params)
    args = [f"const {t}* _raw_{n}" for t, n in ins] + [f"{t}* _raw_{n}" for t, n in outs]
    loads = [f"const {t} {n} = _raw_{n}[i];" for t, n in ins]
    loads += [f"{t} &{n} = _raw_{n}[i];" for t, n in outs]
    return (
        f"{preamble}\n"
        f'extern "C" __global__ void {name}({", ".join(args)}, long long n) {{\n'
        "  long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;\n"
        f"  if (i < n) {{ {' '.join(loads)} {operation}; }}\n}}\n"
    )


def reduction_unit(
    in_params,
    out_params,
    map_expr,
    reduce_expr,
    post_map_expr,
    identity,
    name,
    reduce_type=None,
    preamble="",
) -> str:
    """The preamble and a block reduction written as CuPy's ReductionKernel template."""
    ins, outs = _params(in_params), _params(out_params)
    reduce_type = reduce_type or outs[0][0]
    args = [f"const {t}* _raw_{n}" for t, n in ins] + [f"{t}* _raw_{n}" for t, n in outs]
    loads = " ".join(f"const {t} {n} = _raw_{n}[_j];" for t, n in ins)
    stores = " ".join(f"{t} &{n} = _raw_{n}[0];" for t, n in outs)
    return f"""{preamble}
#define REDUCE(a, b) ({reduce_expr})
#define POST_MAP(a) ({post_map_expr})
typedef {reduce_type} _type_reduce_{name};
extern "C" __global__ void {name}({", ".join(args)}, long long n) {{
  typedef _type_reduce_{name} _type_reduce;
  __shared__ char _sdata_raw[256 * sizeof(_type_reduce)];
  _type_reduce *_sdata = reinterpret_cast<_type_reduce*>(_sdata_raw);
  unsigned int _tid = threadIdx.x;
  _type_reduce _s = _type_reduce({identity or ""});
  for (long long _j = _tid; _j < n; _j += blockDim.x) {{
    {loads}
    _type_reduce _a = static_cast<_type_reduce>({map_expr});
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


def check_elementwise(in_params, out_params, operation, name, preamble="") -> None:
    """NVRTC compiles this ElementwiseKernel (nothing happens without NVRTC)."""
    _check(elementwise_unit(in_params, out_params, operation, name, preamble))


def check_reduction(*args, **kwargs) -> None:
    """NVRTC compiles this ReductionKernel (the arguments of ``reduction_unit``)."""
    _check(reduction_unit(*args, **kwargs))


def check_raw(code: str) -> None:
    """NVRTC compiles this RawKernel's code."""
    _check(code)


def _check(source: str) -> None:
    if NVRTC_PATH is None or source in _CHECKED:
        return
    nvrtc_compile(source)
    _CHECKED.add(source)
