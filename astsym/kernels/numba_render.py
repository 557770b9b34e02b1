"""Rendering a fused group's elementwise steps as Numba source, shared by the elementwise,
reduction and softmax kernels (``numba_elemwise.py``, ``numba_reduce.py``).

Broadcasting is decided statically: a dim of static size 1 is indexed at 0, every other dim
by its loop index (sizes were checked at run time before the call). Inputs of static size 1
are loaded once, before the loops. Generated code holds only generated names; the functions
it calls are passed in ``names``.
"""

from __future__ import annotations

import sys

import numba
import numpy as np

from . import vecmath

_VECMATH = {"exp", "log", "log1p", "expm1", "tanh", "sigmoid", "softplus", "erf"}
_INFIX = {
    "add": "({0} + {1})", "subtract": "({0} - {1})", "multiply": "({0} * {1})",
    "true_divide": "({0} / {1})", "negative": "(-{0})", "square": "({0} * {0})",
    "less": "({0} < {1})", "greater": "({0} > {1})", "less_equal": "({0} <= {1})",
    "greater_equal": "({0} >= {1})", "where": "({1} if {0} else {2})",
    "abs": "abs({0})", "sqrt": "np.sqrt({0})",
}  # fmt: skip
_SHORT = {"float32": "f32", "float64": "f64", "bool": "b"}

#: compiled kernels by generated source and options (a group shape compiles once a process)
_CACHE: dict[tuple, object] = {}


#: below this many elements a kernel runs on one thread: waking the thread pool costs more
PARALLEL_MIN = 1 << 15


#: kernel source -> whether its last call ran on threads: a graph compiled whole after a
#: call op by op embeds the variant each kernel used, so none is compiled twice
OBSERVED: dict[str, bool] = {}


class Kernel:
    """The ``kernel`` function of ``source``, compiled with NumPy's error model on first use
    in two variants: one thread for small work, ``prange`` over threads for large."""

    def __init__(self, source: str, names: dict) -> None:
        self.source, self.names = source, names

    def __call__(self, size: int, *args) -> None:
        parallel = OBSERVED[self.source] = size >= PARALLEL_MIN
        compile_kernel(self.source, self.names, parallel)(*args)


class Recycler:
    """Output buffers for one kernel that outlive a call only while someone uses them.

    A large array fresh from the operating system costs a page fault per page on its first
    write (about as much as the kernel's own work for a simple expression). So the kernel
    keeps a reference to its last large output; on the next call, if that reference is the
    only one left (the caller dropped the array and no view of it exists), the buffer is
    written again instead of allocating a new one. The caller gets a fresh array object each
    call; memory is shared only with arrays nobody can reach.
    """

    MIN_BYTES = 1 << 20

    def __init__(self) -> None:
        self._held: list[np.ndarray] = []

    def empty(self, shape: tuple, dtype) -> np.ndarray:
        try:
            old = self._held.pop()  # atomic: two threads never take the same buffer
        except IndexError:
            old = None
        # references to ``old``: this frame's name and getrefcount's argument, nothing else
        if old is not None and old.shape == shape and sys.getrefcount(old) == 2:
            out = old
        else:
            out = np.empty(shape, dtype)
        if out.nbytes >= self.MIN_BYTES:
            self._held[:] = [out]
        return out


def kernel_for(render, op, node) -> Kernel | None:
    """The kernel ``render(op, node)`` writes, or None when a step has no kernel form."""
    try:
        source, names = render(op, node)
    except KeyError:
        return None
    return Kernel(source, names)


def compile_kernel(source: str, names: dict, parallel: bool = True):
    """The njit-compiled ``kernel`` function of ``source`` with NumPy's error model, from the
    disk cache when it has it (``disk_cache.py``)."""
    key = (source, parallel)
    kernel = _CACHE.get(key)
    if kernel is None:
        kernel = _CACHE[key] = njit_source(
            source, "kernel", names, parallel=parallel, error_model="numpy"
        )
    return kernel


def njit_source(source: str, fname: str, names: dict, identity: str = "", **options):
    """``numba.njit(**options)`` of the function ``fname`` that ``source`` defines, calling
    the functions in ``names`` (described by ``identity`` where their aliases do not say
    what they are): cached on disk, else compiled in memory."""
    from .disk_cache import cached_njit

    compiled = cached_njit(source, fname, names, identity, **options)
    if compiled is None:
        namespace = {"np": np, "numba": numba, "prange": numba.prange, **names}
        exec(compile(source, f"<astsym {fname}>", "exec"), namespace)  # noqa: S102
        compiled = numba.njit(**options)(namespace[fname])
    return compiled


def is_scalar(var) -> bool:
    """Every dim of ``var`` is of static size 1 (or it has none): it is loaded once."""
    return all(d == 1 for d in var.type.shape)


def hoisted_loads(node) -> list[str]:
    """``aI = inI[0, ...]`` for each input of static size 1, to put before the loops (a 0-d
    input is passed as a scalar: ``aI = inI``)."""
    lines = []
    for i, var in enumerate(node.inputs):
        if var.ndim == 0:
            lines.append(f"a{i} = in{i}")
        elif is_scalar(var):
            lines.append(f"a{i} = in{i}[{', '.join('0' for _ in var.type.shape)}]")
    return lines


def value_lines(op, node, idx: list[str], names: dict) -> tuple[list[str], str]:
    """The loop body computing the group's value at index ``idx`` (one name per dim of the
    value), and the name holding it. Raises KeyError when a step has no kernel form."""
    lines = []
    for i, var in enumerate(node.inputs):
        if not is_scalar(var):
            lines.append(f"a{i} = in{i}[{index(var.type.shape, len(idx), idx)}]")
    for s, (step_op, refs, dtype) in enumerate(op.steps):
        args = [f"a{-1 - r}" if r < 0 else f"t{r}" for r in refs]
        same = all(_dtype_of(r, node, op) == dtype for r in refs)  # no conversion to write
        lines.append(f"t{s} = {_expression(step_op, args, dtype, names, not same)}")
    return lines, (f"t{len(op.steps) - 1}" if op.steps else "a0")


def input_arrays(node, inputs) -> list:
    """The inputs as arrays of their node's dtypes, 0-d ones as NumPy scalars (as a compiled
    graph passes them, so both call the same compiled kernel)."""
    arrays = [np.asarray(x, dtype=v.type.numpy_dtype) for x, v in zip(inputs, node.inputs)]
    return [a[()] if a.ndim == 0 else a for a in arrays]


def _dtype_of(ref: int, node, op) -> str:
    return node.inputs[-1 - ref].dtype if ref < 0 else op.steps[ref][2]


def index(shape, out_ndim: int, idx: list[str]) -> str:
    """The index expression of an array of static ``shape`` broadcast into loop ``idx``."""
    if not shape:
        return "0"
    offset = out_ndim - len(shape)
    return ", ".join("0" if d == 1 else idx[offset + j] for j, d in enumerate(shape))


def _expression(op, args: list[str], dtype: str, names: dict, cast_needed=True) -> str:
    name = op.name
    cast = f"np.{dtype}" if dtype in ("float32", "float64") else "np.bool_"
    if name.startswith("cast_"):
        return f"{cast}({args[0]})"
    if name in _VECMATH:
        return f"{vecmath_name(name, dtype, names)}({', '.join(args)})"
    if name == "power":  # pow32/pow64 convert both operands (ints exactly below 2**53)
        return f"{vecmath_name('pow', dtype, names)}({', '.join(args)})"
    return f"{cast}({_INFIX[name].format(*args)})" if cast_needed else _INFIX[name].format(*args)


def vecmath_name(name: str, dtype: str, names: dict) -> str:
    """The generated name of the vector math function ``name`` for ``dtype``, added to
    ``names``."""
    alias = f"_{name}_{_SHORT[dtype]}"
    names[alias] = vecmath.FUNCTIONS[(name, dtype)]
    return alias


def nest(lines: list[str], depth: int) -> list[str]:
    return ["    " * depth + line for line in lines]
