"""Host emulations of CuPy's ``ElementwiseKernel``, ``ReductionKernel`` and ``RawKernel``:
the same constructor signatures and calls, on NumPy arrays, with the CUDA C compiled by the
host C++ compiler (``#define __device__``) into a shared library loaded with ctypes.

What is mimicked, from CuPy's ``cupy/_core/_kernel.pyx`` and ``_reduction.pyx`` (docs:
https://docs.cupy.dev/en/stable/reference/generated/cupy.ElementwiseKernel.html and
cupy.ReductionKernel.html): a parameter ``float32 x`` takes an array of exactly that dtype
(else TypeError "Type is mismatched") or a scalar (converted to it); arrays broadcast
together and at least one is needed ("Loop size is undecided"); outputs are allocated in
the broadcast shape unless passed; in the loop ``const T x = _raw_x[i]`` and ``T &out =
_raw_out[i]``. A reduction starts every partial from ``reduce_type(identity)`` (an empty
identity value-initializes it), combines ``REDUCE(a, b)`` over several strided partials as
CuPy's threads do, then runs ``POST_MAP(a)``; an empty reduction without identity is a
ValueError. A raw kernel runs each (block, thread) in turn with ``blockIdx`` etc. as host
variables (so it must not need ``__syncthreads``).

Libraries are cached by source under ``<tmp>/astsym-host-cuda-<uid>``; ``compile_together``
builds one library for many kernels (g++ takes about 0.3 s a compile). Where NVRTC is found
(``nvrtc.py``), every kernel is also compiled by it when built, as CuPy compiles it, so a
kernel only g++ accepts fails here too.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from astsym.kernels.cuda_scalar import C_TYPES as _C_NAMES

try:  # as ``host_cuda`` (tests/kernels on the path) or as ``kernels.host_cuda``
    from . import nvrtc
except ImportError:
    import nvrtc

CXX = shutil.which("g++")

PRELUDE = """
#include <math.h>
#include <stdint.h>
#include <stddef.h>
#define __device__
#define __global__
#define __forceinline__ inline
#define __restrict__
struct astsym_dim3 { unsigned int x, y, z; };
extern "C" { astsym_dim3 blockIdx, threadIdx, blockDim, gridDim; }
"""

_CTYPES = {
    "bool": ctypes.c_bool,
    "int8": ctypes.c_int8,
    "int16": ctypes.c_int16,
    "int32": ctypes.c_int32,
    "int64": ctypes.c_int64,
    "uint8": ctypes.c_uint8,
    "uint16": ctypes.c_uint16,
    "uint32": ctypes.c_uint32,
    "uint64": ctypes.c_uint64,
    "float32": ctypes.c_float,
    "float64": ctypes.c_double,
}
_LIBRARIES: dict[str, ctypes.CDLL] = {}
PARTIALS = 4  # strided partial reductions per output element, as CuPy's threads


class CompileError(RuntimeError):
    """g++ refused the generated source; the message holds its output and the source."""


def cache_dir() -> str:
    folder = os.path.join(tempfile.gettempdir(), f"astsym-host-cuda-{os.getuid()}")
    os.makedirs(folder, exist_ok=True)
    return folder


def load(source: str) -> ctypes.CDLL:
    """The shared library of ``source`` (C++), compiled once per source and machine."""
    key = hashlib.sha256(source.encode()).hexdigest()[:32]
    if key in _LIBRARIES:
        return _LIBRARIES[key]
    if CXX is None:
        raise CompileError("no g++ on this machine")
    path = os.path.join(cache_dir(), f"{key}.so")
    if not os.path.exists(path):
        with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp:
            cpp, so = os.path.join(tmp, "k.cpp"), os.path.join(tmp, "k.so")
            with open(cpp, "w") as f:
                f.write(source)
            cmd = [CXX, "-O1", "-std=c++17", "-shared", "-fPIC", "-o", so, cpp]
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode:
                numbered = "\n".join(
                    f"{i + 1:4} {line}" for i, line in enumerate(source.split("\n"))
                )
                raise CompileError(f"g++ failed:\n{done.stderr}\n--- source ---\n{numbered}")
            os.replace(so, path)  # atomic: a concurrent run sees the whole file or none
    _LIBRARIES[key] = lib = ctypes.CDLL(path)
    return lib


def _parse_params(params: str) -> list[tuple[str, str]]:
    """``'float32 x, int64 y'`` -> [('float32', 'x'), ('int64', 'y')]."""
    out = []
    for p in params.split(","):
        words = p.split()
        if not words:
            continue
        if len(words) != 2 or len(words[0]) == 1:
            raise NotImplementedError(f"host kernels take '<dtype> <name>' params only: {p!r}")
        out.append((np.dtype(words[0]).name, words[1]))
    return out


def _inputs(args, params) -> list[np.ndarray]:
    """CuPy's checks: arrays of exactly the declared dtype; scalars converted."""
    arrays, any_array = [], False
    for a, (dtype, name) in zip(args, params):
        if isinstance(a, np.ndarray):
            if a.dtype != np.dtype(dtype):
                raise TypeError(f"Type is mismatched. {name} {a.dtype} {dtype}")
            arrays.append(a)
            any_array = True
        else:
            arrays.append(np.asarray(a).astype(dtype))
    if not any_array:
        raise ValueError("Loop size is undecided.")
    return arrays


class _HostKernel:
    """A kernel whose ``run_<id>`` function lives in a library compiled on first call, or
    by ``compile_together``."""

    _count = 0

    def __init__(self, name: str, preamble: str) -> None:
        _HostKernel._count += 1
        self.name, self.preamble = name, preamble
        self.symbol = f"astsym_host_{_HostKernel._count}"
        self._fn = None

    def wrapper(self) -> str:
        raise NotImplementedError

    @property
    def fn(self):
        if self._fn is None:
            compile_together([self])
        return self._fn


def compile_together(kernels) -> None:
    """Compile the host kernels ``kernels`` into one library (their preambles together)."""
    parts = [PRELUDE] + [f"{k.preamble}\n{k.wrapper()}" for k in kernels]
    lib = load("\n".join(parts))
    for k in kernels:
        if isinstance(k, HostRawKernel):
            k._lib = lib
        k._fn = getattr(lib, k.symbol)


class HostElementwiseKernel(_HostKernel):
    """``cupy.ElementwiseKernel`` on NumPy arrays: ``k(*inputs)`` or ``k(*inputs,
    *outputs)``; returns the output, or a tuple of them."""

    def __init__(self, in_params, out_params, operation, name="kernel", preamble="", **_):
        nvrtc.check_elementwise(in_params, out_params, operation, name, preamble)
        super().__init__(name, preamble)
        self.ins, self.outs = _parse_params(in_params), _parse_params(out_params)
        self.operation = operation

    def wrapper(self) -> str:
        args = [f"const {_C_NAMES[d]}* _raw_{n}" for d, n in self.ins]
        args += [f"{_C_NAMES[d]}* _raw_{n}" for d, n in self.outs]
        loads = [f"const {_C_NAMES[d]} {n} = _raw_{n}[i];" for d, n in self.ins]
        loads += [f"{_C_NAMES[d]} &{n} = _raw_{n}[i];" for d, n in self.outs]
        return (
            f'namespace {self.symbol}_ns {{\nextern "C" void {self.symbol}('
            f"{', '.join(args)}, long long _n) {{\n"
            f"  for (long long i = 0; i < _n; ++i) {{\n    {' '.join(loads)}\n"
            f"    {self.operation};\n  }}\n}}\n}}\n"
        )

    def __call__(self, *args):
        nin = len(self.ins)
        if len(args) not in (nin, nin + len(self.outs)):
            raise TypeError(f"Wrong number of arguments for {self.name!r}")
        arrays = _inputs(args[:nin], self.ins)
        shape = np.broadcast_shapes(
            *(a.shape for a, x in zip(arrays, args) if isinstance(x, np.ndarray))
        )
        flat = [np.ascontiguousarray(np.broadcast_to(a, shape)) for a in arrays]
        outs = [np.empty(shape, d) for d, _ in self.outs]
        given = args[nin:]
        for g, (d, n) in zip(given, self.outs):
            if g.dtype != np.dtype(d):
                raise TypeError(f"Type is mismatched. {n} {g.dtype} {d}")
            if g.shape != shape:
                raise ValueError("Out shape is mismatched")
        ptrs = [ctypes.c_void_p(a.ctypes.data) for a in flat + outs]
        self.fn(*ptrs, ctypes.c_longlong(int(np.prod(shape, dtype=np.int64))))
        for g, o in zip(given, outs):
            g[...] = o
        result = list(given) or outs
        return result[0] if len(result) == 1 else tuple(result)


class HostReductionKernel(_HostKernel):
    """``cupy.ReductionKernel`` on NumPy arrays: ``k(*inputs, axis=None, keepdims=False)``."""

    def __init__(
        self,
        in_params,
        out_params,
        map_expr,
        reduce_expr,
        post_map_expr,
        identity,
        name="reduce_kernel",
        reduce_type=None,
        preamble="",
        **_,
    ):
        nvrtc.check_reduction(
            in_params, out_params, map_expr, reduce_expr, post_map_expr, identity, name,
            reduce_type, preamble,
        )  # fmt: skip
        super().__init__(name, preamble)
        self.ins, self.outs = _parse_params(in_params), _parse_params(out_params)
        self.map_expr, self.reduce_expr, self.post_map_expr = map_expr, reduce_expr, post_map_expr
        self.identity = "" if identity is None else str(identity)  # as CuPy stores it
        self.reduce_type = reduce_type or _C_NAMES[self.outs[0][0]]

    def wrapper(self) -> str:
        args = [f"const {_C_NAMES[d]}* _raw_{n}" for d, n in self.ins]
        args += [f"{_C_NAMES[d]}* _raw_{n}" for d, n in self.outs]
        loads = " ".join(
            f"const {_C_NAMES[d]} {n} = _raw_{n}[_i * _n_red + _j];" for d, n in self.ins
        )
        outs = " ".join(f"{_C_NAMES[d]} &{n} = _raw_{n}[_i];" for d, n in self.outs)
        return f"""namespace {self.symbol}_ns {{
#define REDUCE(a, b) ({self.reduce_expr})
#define POST_MAP(a) ({self.post_map_expr})
typedef {self.reduce_type} _type_reduce;
extern "C" void {self.symbol}({", ".join(args)}, long long _n_out, long long _n_red) {{
  for (long long _i = 0; _i < _n_out; ++_i) {{
    _type_reduce _part[{PARTIALS}];
    for (long long _t = 0; _t < {PARTIALS}; ++_t) {{
      _type_reduce _s = _type_reduce({self.identity});
      for (long long _j = _t; _j < _n_red; _j += {PARTIALS}) {{
        {loads}
        _type_reduce _a = static_cast<_type_reduce>({self.map_expr});
        _s = REDUCE(_s, _a);
      }}
      _part[_t] = _s;
    }}
    for (int _w = {PARTIALS} / 2; _w >= 1; _w /= 2)
      for (int _t = 0; _t < _w; ++_t) {{ _type_reduce _a = _part[_t], _b = _part[_t + _w];
        _part[_t] = REDUCE(_a, _b); }}
    _type_reduce _s = _part[0];
    {outs}
    POST_MAP(_s);
  }}
}}
#undef REDUCE
#undef POST_MAP
}}
"""

    def __call__(self, *args, axis=None, keepdims=False):
        nin = len(self.ins)
        if len(args) != nin:
            raise TypeError(f"Wrong number of arguments for {self.name}")
        arrays = _inputs(args, self.ins)
        shape = np.broadcast_shapes(
            *(a.shape for a, x in zip(arrays, args) if isinstance(x, np.ndarray))
        )
        ndim = len(shape)
        axes = tuple(range(ndim)) if axis is None else normalize_axis_tuple(axis, ndim)
        kept = tuple(a for a in range(ndim) if a not in axes)
        out_shape = (
            tuple(1 if a in axes else shape[a] for a in range(ndim))
            if keepdims
            else tuple(shape[a] for a in kept)
        )
        out = np.empty(out_shape, self.outs[0][0])
        if out.size == 0:
            return out
        if self.identity == "" and 0 in shape:
            raise ValueError(
                f"zero-size array to reduction operation {self.name} which has no identity"
            )
        order = kept + axes
        flat = [np.ascontiguousarray(np.broadcast_to(a, shape).transpose(order)) for a in arrays]
        n_red = int(np.prod([shape[a] for a in axes], dtype=np.int64))
        ptrs = [ctypes.c_void_p(a.ctypes.data) for a in flat + [out]]
        self.fn(*ptrs, ctypes.c_longlong(out.size), ctypes.c_longlong(n_red))
        return out


class _Dim3(ctypes.Structure):
    _fields_ = [("x", ctypes.c_uint), ("y", ctypes.c_uint), ("z", ctypes.c_uint)]


class HostRawKernel(_HostKernel):
    """``cupy.RawKernel(code, name)`` on NumPy arrays: ``k(grid, block, args)`` runs every
    (block, thread) in turn; arrays go as pointers, NumPy scalars by value as their dtype."""

    def __init__(self, code, name, **_):
        nvrtc.check_raw(code)
        super().__init__(name, "")
        self.code = code
        self.symbol = name

    def wrapper(self) -> str:
        return self.code

    def __call__(self, grid, block, args):
        grid, block = (tuple(grid) + (1, 1))[:3], (tuple(block) + (1, 1))[:3]
        fn = self.fn
        cargs = []
        for a in args:
            if isinstance(a, np.ndarray):
                cargs.append(ctypes.c_void_p(a.ctypes.data))
            elif isinstance(a, np.generic):
                cargs.append(_CTYPES[a.dtype.name](a.item()))
            else:
                raise TypeError(f"pass NumPy arrays or NumPy scalars, not {type(a).__name__}")
        dims = {
            n: _Dim3.in_dll(self._lib, n) for n in ("blockIdx", "threadIdx", "blockDim", "gridDim")
        }
        dims["gridDim"].x, dims["gridDim"].y, dims["gridDim"].z = grid
        dims["blockDim"].x, dims["blockDim"].y, dims["blockDim"].z = block
        for b in np.ndindex(*grid[::-1]):
            dims["blockIdx"].z, dims["blockIdx"].y, dims["blockIdx"].x = b
            for t in np.ndindex(*block[::-1]):
                dims["threadIdx"].z, dims["threadIdx"].y, dims["threadIdx"].x = t
                fn(*cargs)


__all__ = [
    "CXX",
    "CompileError",
    "HostElementwiseKernel",
    "HostRawKernel",
    "HostReductionKernel",
    "compile_together",
    "load",
]
