"""Numba kernels for ``FusedReduce`` (elementwise steps feeding a reduction) and
``FusedSoftmax`` (elementwise steps feeding a softmax over the last axis): the steps' value
is never stored, so a reduction of an expression is one pass over its inputs.

The outer axis is split into chunks run by ``prange``. When the outer axis is kept, each
chunk owns its rows of the result; when it is reduced, each chunk fills its own partial
result and NumPy combines the partials. When the innermost axis is reduced, a row of values
is written to a small buffer (a vectorizable loop) and reduced by a helper compiled with
``fastmath={'reassoc'}`` (the only flag: NaN and inf keep NumPy's meaning), so the sum
vectorizes too. float32 sums and products accumulate in float64.
"""

from __future__ import annotations

import numba
import numpy as np

from astsym.graph.ops.fused import KERNELS

from . import vecmath
from .numba_render import (
    PARALLEL_MIN,
    Recycler,
    hoisted_loads,
    index,
    input_arrays,
    kernel_for,
    nest,
    value_lines,
    vecmath_name,
)

_REASSOC = {"reassoc"}


_LANES = 16  # independent running maxima: the selects of a NaN-keeping max vectorize


@numba.njit(fastmath=_REASSOC, error_model="numpy")
def _row_sum(buf, n, lanes):
    s = 0.0
    for j in range(n):
        s += buf[j]
    return s


@numba.njit(fastmath=_REASSOC, error_model="numpy")
def _row_prod(buf, n, lanes):
    p = 1.0
    for j in range(n):
        p *= buf[j]
    return p


@numba.njit(error_model="numpy", inline="always")
def _larger(m, v):
    return v if (v > m or v != v) else m  # NaN wins, as in NumPy


@numba.njit(error_model="numpy", inline="always")
def _smaller(m, v):
    return v if (v < m or v != v) else m


@numba.njit(error_model="numpy")
def _row_max(buf, n, lanes):
    lanes[:] = -np.inf
    width = lanes.shape[0]
    whole = n - n % width
    for j in range(0, whole, width):
        for k in range(width):
            lanes[k] = _larger(lanes[k], buf[j + k])
    m = -np.inf
    for j in range(whole, n):
        m = _larger(m, buf[j])
    for k in range(width):
        m = _larger(m, lanes[k])
    return m


@numba.njit(error_model="numpy")
def _row_min(buf, n, lanes):
    lanes[:] = np.inf
    width = lanes.shape[0]
    whole = n - n % width
    for j in range(0, whole, width):
        for k in range(width):
            lanes[k] = _smaller(lanes[k], buf[j + k])
    m = np.inf
    for j in range(whole, n):
        m = _smaller(m, buf[j])
    for k in range(width):
        m = _smaller(m, lanes[k])
    return m


#: kind -> (identity, combine template of accumulator and value, row helper, NumPy combine)
KINDS = {
    "sum": (0.0, "({acc} + {x})", _row_sum, np.add),
    "prod": (1.0, "({acc} * {x})", _row_prod, np.multiply),
    "max": (-np.inf, "_larger({acc}, {x})", _row_max, np.maximum),
    "min": (np.inf, "_smaller({acc}, {x})", _row_min, np.minimum),
}
_FLOATS = ("float32", "float64")


@numba.njit(error_model="numpy")
def combine(acc, kind):
    """The per-chunk partial results ``acc[c]`` (C-contiguous) folded into one by reduction
    ``COMBINE[kind]`` (0 sum, 1 prod, 2 max, 3 min; a compiled graph passes a literal)."""
    flat = acc.reshape((acc.shape[0], -1))
    out = flat[0].copy()
    for c in range(1, flat.shape[0]):
        for j in range(flat.shape[1]):
            a, x = out[j], flat[c, j]
            if kind == 0:
                out[j] = a + x
            elif kind == 1:
                out[j] = a * x
            elif kind == 2:
                out[j] = _larger(a, x)
            else:
                out[j] = _smaller(a, x)
    return out.reshape(acc.shape[1:])


#: kind -> the code ``combine`` takes for it (compiled graphs combine per-chunk partials)
COMBINE = {"sum": 0, "prod": 1, "max": 2, "min": 3}


def _chunks(rows: int, size: int) -> int:
    """How many parts the outer axis is split into: one per thread and then some, for
    balance; one when the work is too small to run on threads."""
    if size < PARALLEL_MIN:
        return 1
    return max(1, min(rows, 4 * numba.get_num_threads()))


def _shape(inputs) -> tuple[int, ...]:
    return np.broadcast_shapes(*[np.shape(x) for x in inputs])


def build_reduce(op, node):
    """A callable for a ``FusedReduce`` node, or None where it has no kernel form."""
    red = op.reduce
    value_dtype = op.steps[-1][2] if op.steps else node.inputs[0].dtype
    out_dtype = node.outputs[0].type.numpy_dtype
    if red.kind not in KINDS or value_dtype not in _FLOATS or out_dtype.kind != "f":
        return None
    kernel = kernel_for(render_reduce, op, node)
    if kernel is None:
        return None
    identity, _, _, combine = KINDS[red.kind]
    acc_dtype = np.float64 if red.kind in ("sum", "prod") else np.dtype(value_dtype)
    outer_reduced = 0 in red.axes

    def run(*inputs):
        shape = _shape(inputs)
        if red.kind in ("max", "min") and any(shape[a] == 0 for a in red.axes):
            return op.reference(inputs)  # NumPy's error: no identity for an empty max
        keep = tuple(1 if a in red.axes else d for a, d in enumerate(shape))
        size = int(np.prod(shape))
        chunks = _chunks(shape[0], size)
        acc = np.full((chunks if outer_reduced else 1, *keep), identity, acc_dtype)
        kernel(size, acc, shape, chunks, *input_arrays(node, inputs))
        total = combine.reduce(acc, axis=0) if outer_reduced else acc[0]
        out_shape = keep if red.keepdims else _dropped(shape, red.axes)
        return np.asarray(total.reshape(out_shape), dtype=out_dtype)

    return run


def _dropped(shape, axes) -> tuple[int, ...]:
    return tuple(d for a, d in enumerate(shape) if a not in axes)


def render_reduce(op, node) -> tuple[str, dict]:
    red = op.reduce
    ndim = _value_ndim(node)
    last = ndim - 1
    _, template, helper, _ = KINDS[red.kind]
    names: dict = {
        "_wide": vecmath.prefer_wide_vectors,
        "_row": helper,
        "_larger": _larger,
        "_smaller": _smaller,
    }
    idx = [f"i{k}" for k in range(ndim)]
    part = "c, " if 0 in red.axes else "0, "
    slot = "acc[" + part + ", ".join("0" if a in red.axes else idx[a] for a in range(ndim)) + "]"
    body, value = value_lines(op, node, idx, names)
    params = ", ".join(f"in{i}" for i in range(len(node.inputs)))
    lines = [f"def kernel(acc, shp, chunks, {params}):", *nest(hoisted_loads(node), 1)]
    lines += nest(_chunk_header(_value_dtype(op, node)), 1)
    inner_reduced = last in red.axes
    width = "hi - lo" if last == 0 else f"shp[{last}]"
    direct = inner_reduced and not op.steps and last > 0  # rows of the input itself
    if inner_reduced and not direct:
        lines.append(f"        buf = np.empty({width}, np.{_value_dtype(op, node)})")
    depth = 2
    for k in range(last):
        lines.append("    " * depth + f"for i{k} in {_bounds(k)}:")
        depth += 1
    if direct:
        outer = index(node.inputs[0].type.shape[:-1], last, idx[:last])
        folded = template.format(acc=slot, x=f"_row(in0[{outer}, :], {width}, lanes)")
        lines.append("    " * depth + f"{slot} = {folded}")
    elif inner_reduced:
        lines.append("    " * depth + f"for i{last} in {_bounds(last)}:")
        pos = "i0 - lo" if last == 0 else f"i{last}"
        lines += nest(["_wide()", *body, f"buf[{pos}] = {value}"], depth + 1)
        folded = template.format(acc=slot, x=f"_row(buf, {width}, lanes)")
        lines.append("    " * depth + f"{slot} = {folded}")
    else:
        lines.append("    " * depth + f"for i{last} in {_bounds(last)}:")
        folded = template.format(acc=slot, x=value)
        lines += nest(["_wide()", *body, f"{slot} = {folded}"], depth + 1)
    return "\n".join(lines) + "\n", names


def _value_ndim(node) -> int:
    return max(len(v.type.shape) for v in node.inputs)


def _value_dtype(op, node) -> str:
    return op.steps[-1][2] if op.steps else node.inputs[0].dtype


def _chunk_header(dtype: str) -> list[str]:
    return [
        "for c in prange(chunks):",
        "    lo = c * shp[0] // chunks",
        "    hi = (c + 1) * shp[0] // chunks",
        f"    lanes = np.empty({_LANES}, np.{dtype})",
    ]


def _bounds(k: int) -> str:
    return "range(lo, hi)" if k == 0 else f"range(shp[{k}])"


def build_softmax(op, node):
    """A callable for a ``FusedSoftmax`` node, or None where it has no kernel form."""
    dtype = node.outputs[0].dtype
    if dtype not in _FLOATS or node.outputs[0].type.ndim == 0:
        return None
    kernel = kernel_for(render_softmax, op, node)
    if kernel is None:
        return None
    out_dtype = node.outputs[0].type.numpy_dtype
    buffers = Recycler()

    def run(*inputs):
        shape = _shape(inputs)
        if shape[-1] == 0:
            return op.reference(inputs)  # NumPy's error: max of an empty row
        out = buffers.empty(shape, out_dtype)
        chunks = _chunks(shape[0], out.size) if len(shape) > 1 else 1
        kernel(out.size if len(shape) > 1 else 0, out, shape, chunks, *input_arrays(node, inputs))
        return out

    return run


def render_softmax(op, node) -> tuple[str, dict]:
    ndim = node.outputs[0].type.ndim
    last = ndim - 1
    dtype = node.outputs[0].dtype
    names: dict = {
        "_wide": vecmath.prefer_wide_vectors,
        "_rmax": _row_max,
        "_rsum": _row_sum,
    }
    exp = vecmath_name("exp", dtype, names)
    idx = [f"i{k}" for k in range(ndim)]
    body, value = value_lines(op, node, idx, names)
    params = ", ".join(f"in{i}" for i in range(len(node.inputs)))
    lines = [f"def kernel(out, shp, chunks, {params}):", *nest(hoisted_loads(node), 1)]
    depth = 1
    if ndim == 1:
        lines.append(f"    lanes = np.empty({_LANES}, np.{dtype})")
    else:
        lines += nest(_chunk_header(dtype), 1)
        depth = 2
        for k in range(last):
            lines.append("    " * depth + f"for i{k} in {_bounds(k)}:")
            depth += 1
    row = "out[" + ", ".join(idx[:last] + [":"]) + "]"
    n = f"shp[{last}]"
    lines += nest(
        [
            f"row = {row}",
            f"for i{last} in range({n}):",
            *nest(["_wide()", *body, f"row[i{last}] = {value}"], 1),
            f"m = _rmax(row, {n}, lanes)",
            f"for j in range({n}):",
            "    _wide()",
            f"    row[j] = {exp}(row[j] - m)",
            f"s = np.{dtype}(_rsum(row, {n}, lanes))",
            f"for j in range({n}):",
            "    _wide()",
            "    row[j] = row[j] / s",
        ],
        depth,
    )
    return "\n".join(lines) + "\n", names


KERNELS["FusedReduce"] = build_reduce
KERNELS["FusedSoftmax"] = build_softmax
