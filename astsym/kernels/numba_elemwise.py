"""Numba kernels for ``FusedElemwise`` groups: one loop nest over the output, each step
rendered from its op's scalar template, transcendental functions from ``vecmath`` (so
LLVM vectorizes the loop), ``prange`` over the outer axis, the output allocated by NumPy.

Broadcasting is decided statically: a dim of static size 1 is indexed at 0, every other
dim by the loop index (sizes were checked at run time before the call). Generated code
holds only generated names.
"""

from __future__ import annotations

import numba
import numpy as np

from astsym.graph.ops.fused import KERNELS

from . import vecmath

_VECMATH = {"exp", "log", "log1p", "expm1", "tanh", "sigmoid", "softplus", "erf"}
_INFIX = {
    "add": "({0} + {1})", "subtract": "({0} - {1})", "multiply": "({0} * {1})",
    "true_divide": "({0} / {1})", "negative": "(-{0})", "square": "({0} * {0})",
    "less": "({0} < {1})", "greater": "({0} > {1})", "less_equal": "({0} <= {1})",
    "greater_equal": "({0} >= {1})", "where": "({1} if {0} else {2})",
    "abs": "abs({0})", "sqrt": "np.sqrt({0})", "power": "({0} * {0})",
}  # fmt: skip
_SHORT = {"float32": "f32", "float64": "f64", "bool": "b"}

#: compiled kernels by generated source (the same group shape compiles once per process)
_CACHE: dict[str, object] = {}


def build(op, node):
    """A callable computing ``node``'s output from NumPy inputs, or None if a step has no
    kernel form (the group then runs op by op)."""
    try:
        source, names = render(op, node)
    except KeyError:
        return None
    kernel = _CACHE.get(source)
    if kernel is None:
        namespace = {"np": np, "numba": numba, "prange": numba.prange, **names}
        exec(compile(source, "<astsym fused kernel>", "exec"), namespace)  # noqa: S102
        kernel = numba.njit(parallel=True, error_model="numpy", cache=False)(namespace["kernel"])
        _CACHE[source] = kernel
    dtype = node.outputs[0].type.numpy_dtype
    in_dtypes = [v.type.numpy_dtype for v in node.inputs]

    def run(*inputs):
        arrays = [np.asarray(x, dtype=d) for x, d in zip(inputs, in_dtypes)]
        shape = np.broadcast_shapes(*[a.shape for a in arrays])
        out = np.empty(shape, dtype)
        flat = [a.reshape(1) if a.ndim == 0 else a for a in arrays]
        kernel(out.reshape(1) if out.ndim == 0 else out, *flat)
        return out

    return run


def render(op, node) -> tuple[str, dict]:
    """The kernel's source and the functions it calls."""
    out_type = node.outputs[0].type
    ndim = max(out_type.ndim, 1)
    names: dict = {}
    params = ", ".join(f"in{i}" for i in range(len(node.inputs)))
    lines = [f"def kernel(out, {params}):"]
    idx = [f"i{k}" for k in range(ndim)]
    scalar = [all(d == 1 for d in var.type.shape) for var in node.inputs]
    for i, var in enumerate(node.inputs):  # loaded once: stores to out cannot change them
        if scalar[i]:
            index = ", ".join("0" for _ in var.type.shape) or "0"
            lines.append(f"    a{i} = in{i}[{index}]")
    for k in range(ndim):
        pad = "    " * (k + 1)
        loop = "prange" if k == 0 else "range"
        lines.append(f"{pad}for i{k} in {loop}(out.shape[{k}]):")
    pad = "    " * (ndim + 1)
    names["_wide"] = vecmath.prefer_wide_vectors
    lines.append(f"{pad}_wide()")
    for i, var in enumerate(node.inputs):
        if not scalar[i]:
            lines.append(f"{pad}a{i} = in{i}[{_index(var.type.shape, out_type.ndim, idx)}]")
    for s, (step_op, refs, dtype) in enumerate(op.steps):
        args = [f"a{-1 - r}" if r < 0 else f"t{r}" for r in refs]
        same = all(_dtype_of(r, node, op) == dtype for r in refs)  # no conversion to write
        expression = _expression(step_op, args, dtype, names, not same)
        lines.append(f"{pad}t{s} = {expression}")
    lines.append(f"{pad}out[{', '.join(idx)}] = t{len(op.steps) - 1}")
    return "\n".join(lines) + "\n", names


def _dtype_of(ref: int, node, op) -> str:
    return node.inputs[-1 - ref].dtype if ref < 0 else op.steps[ref][2]


def _index(shape, out_ndim: int, idx: list[str]) -> str:
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
        fn = vecmath.FUNCTIONS[(name, dtype)]
        alias = f"_{name}_{_SHORT[dtype]}"
        names[alias] = fn
        return f"{alias}({', '.join(args)})"
    return f"{cast}({_INFIX[name].format(*args)})" if cast_needed else _INFIX[name].format(*args)


KERNELS["build"] = build
