"""Numba kernels for ``FusedElemwise`` groups: one loop nest over the output, each step
rendered from its op's scalar template (``numba_render.py``), transcendental functions from
``vecmath`` (so LLVM vectorizes the loop), ``prange`` over the outer axis, the output
allocated by NumPy (or an input's dead buffer reused, for an ``inplace`` group).
"""

from __future__ import annotations

import numpy as np

from astsym.graph.ops.fused import KERNELS

from . import vecmath
from .numba_render import Recycler, hoisted_loads, input_arrays, kernel_for, nest, value_lines


def build(op, node):
    """A callable computing ``node``'s output from NumPy inputs, or None if a step has no
    kernel form (the group then runs op by op) or the group is 0-d: NumPy computes one
    value in microseconds, where compiling a kernel for it takes most of a second (a
    compiled graph writes 0-d groups in line, without a kernel)."""
    if node.outputs[0].ndim == 0:
        return None
    kernel = kernel_for(render, op, node)
    if kernel is None:
        return None
    dtype = node.outputs[0].type.numpy_dtype
    buffers = Recycler()

    def run(*inputs):
        arrays = input_arrays(node, inputs)
        shape = np.broadcast_shapes(*[np.shape(x) for x in inputs])
        out = inputs[op.inplace] if op.inplace >= 0 else buffers.empty(shape, dtype)
        kernel(out.size, out.reshape(1) if out.ndim == 0 else out, *arrays)
        return out

    return run


def render(op, node) -> tuple[str, dict]:
    """The kernel's source and the functions it calls."""
    ndim = max(node.outputs[0].type.ndim, 1)
    names: dict = {"_wide": vecmath.prefer_wide_vectors}
    idx = [f"i{k}" for k in range(ndim)]
    params = ", ".join(f"in{i}" for i in range(len(node.inputs)))
    lines = [f"def kernel(out, {params}):", *nest(hoisted_loads(node), 1)]
    for k in range(ndim):
        loop = "prange" if k == 0 else "range"
        lines.append("    " * (k + 1) + f"for i{k} in {loop}(out.shape[{k}]):")
    body, value = value_lines(op, node, idx, names)  # (a 0-d group has only hoisted loads)
    lines += nest(["_wide()", *body, f"out[{', '.join(idx)}] = {value}"], ndim + 1)
    return "\n".join(lines) + "\n", names


KERNELS["FusedElemwise"] = build
