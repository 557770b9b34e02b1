"""The Numba kernel of a ``RowPass`` (``graph/ops/rowpass.py``): one read of X for ``X @ w``,
the row-wise steps, the sums over rows and ``X.T @ g``.

The rows are split into chunks run by ``prange``; a chunk walks its rows in blocks of
``BLOCK``, small enough that the block of X stays in cache between its two uses:

1. ``z[r] = X[i] @ w`` for each row of the block (a helper compiled with
   ``fastmath={'reassoc'}``, so it vectorizes as BLAS's does; four rows share each load
   of w);
2. the steps for the whole block in one loop (vectorized across rows, vector math inlined),
   writing row outputs, the values to sum and the values ``g`` of each ``X.T @ g``;
3. the block, still in cache, added into the chunk's partial ``X.T @ g`` (four rows per
   load and store of the partial).

Partial sums are per chunk and combined in float64 afterwards, so the result does not
depend on the number of threads. Sums over rows accumulate in float64, as the fused sums do.
"""

from __future__ import annotations

import numba
import numpy as np

from astsym.graph.ops.fused import KERNELS

from . import vecmath
from .numba_reduce import _row_sum
from .numba_render import _expression, input_arrays, kernel_for, nest

#: rows per block: the block of X (BLOCK rows) is read twice while it is in cache
BLOCK = 64

#: rows per chunk at least (more chunks, smaller partial sums; at most MAX_CHUNKS)
CHUNK_ROWS = 4096
MAX_CHUNKS = 64

_FLOATS = ("float32", "float64")


@numba.njit(fastmath={"reassoc"}, error_model="numpy")
def _dots(X, lo, m, w, out, zero):
    """``out[r] = X[lo + r] @ w`` for r < m, summed from ``zero`` (of the matrix's dtype:
    in that dtype, as BLAS). Four rows at a time share each load of w."""
    k = X.shape[1]
    whole = m - m % 4
    for r in range(0, whole, 4):
        s0 = s1 = s2 = s3 = zero
        for j in range(k):
            wj = w[j]
            s0 += X[lo + r, j] * wj
            s1 += X[lo + r + 1, j] * wj
            s2 += X[lo + r + 2, j] * wj
            s3 += X[lo + r + 3, j] * wj
        out[r], out[r + 1], out[r + 2], out[r + 3] = s0, s1, s2, s3
    for r in range(whole, m):
        s = zero
        for j in range(k):
            s += X[lo + r, j] * w[j]
        out[r] = s


@numba.njit(error_model="numpy")
def _scatter(acc, g, X, lo, m):
    """``acc += X[lo:lo + m].T @ g[:m]``, four rows at a time (one load and store of acc
    for four rows)."""
    k = X.shape[1]
    whole = m - m % 4
    for r in range(0, whole, 4):
        g0, g1, g2, g3 = g[r], g[r + 1], g[r + 2], g[r + 3]
        for j in range(k):
            acc[j] += (g0 * X[lo + r, j] + g1 * X[lo + r + 1, j] + g2 * X[lo + r + 2, j]) + g3 * X[
                lo + r + 3, j
            ]
    for r in range(whole, m):
        for j in range(k):
            acc[j] += g[r] * X[lo + r, j]


@numba.njit(error_model="numpy")
def combine(parts, j):
    """The float64 sum over chunks of partial vector ``j`` of ``parts`` (chunks, n, k)."""
    out = np.zeros(parts.shape[2])
    for c in range(parts.shape[0]):
        for k in range(parts.shape[2]):
            out[k] += parts[c, j, k]
    return out


@numba.njit
def chunks(rows):
    """How many chunks the rows are split into (one formula for the kernel called op by op
    and the compiled graph)."""
    return max(1, min(MAX_CHUNKS, rows // CHUNK_ROWS))


def supported(op, node) -> bool:
    dtype = node.inputs[0].dtype
    return dtype in _FLOATS and all(d in (*_FLOATS, "bool") for _, _, d in op.steps)


def _kinds(op) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {"rows": [], "sum": [], "xt": []}
    for k, spec in enumerate(op.outs):
        out[spec[0]].append(k)
    return out


def build(op, node):
    """A callable for a ``RowPass`` node (inputs as in ``perform``), or None where it has no
    kernel form."""
    if not supported(op, node):
        return None
    kernel = kernel_for(render, op, node)
    if kernel is None:
        return None
    kinds = _kinds(op)
    types = [v.type.numpy_dtype for v in node.outputs]

    def run(*inputs):
        X, w, *others = input_arrays(node, inputs)
        n, k = X.shape
        parts = chunks(n)
        rows = [np.empty(n, types[j]) for j in kinds["rows"]]
        sums = np.zeros((parts, len(kinds["sum"])))
        xts = np.zeros((parts, len(kinds["xt"]), k), X.dtype)
        kernel(n * k, X, w, parts, sums, xts, *rows, *others)
        results: list = [None] * len(op.outs)
        for j, value in zip(kinds["rows"], rows):
            results[j] = value
        for p, j in enumerate(kinds["sum"]):
            total = np.asarray(sums[:, p].sum(), dtype=types[j])
            results[j] = total.reshape((1,)) if op.outs[j][2] else total
        for p, j in enumerate(kinds["xt"]):
            results[j] = np.asarray(combine(xts, p), dtype=types[j])
        return results

    return run


def render(op, node) -> tuple[str, dict]:
    """The kernel's source: ``kernel(in0, in1, chunks, sums, xts, r..., in2, ...)``.
    Raises KeyError when a step has no kernel form."""
    dtype = node.inputs[0].dtype
    names: dict = {
        "_wide": vecmath.prefer_wide_vectors,
        "_dots": _dots,
        "_scatter": _scatter,
        "_rsum": _row_sum,
    }
    kinds = _kinds(op)
    rows = [f"r{j}" for j in kinds["rows"]]
    others = [f"in{i}" for i in range(2, len(node.inputs))]
    head = f"def kernel(in0, in1, chunks, sums, xts, {', '.join(rows + others)}):"
    lines = [head.replace(", )", ")"), "    n = in0.shape[0]", "    k = in0.shape[1]"]
    per_row = []
    for i, var in enumerate(node.inputs[2:], start=2):
        if var.ndim == 0:
            lines.append(f"    a{i} = in{i}")
        elif var.type.shape[0] == 1:
            lines.append(f"    a{i} = in{i}[0]")
        else:
            per_row.append(f"a{i} = in{i}[i]")
    body = ["_wide()", "i = b0 + r", "z = zb[r]", *per_row]
    for s, (step_op, refs, step_dtype) in enumerate(op.steps):
        args = [_name(r) for r in refs]
        body.append(f"t{s} = {_expression(step_op, args, step_dtype, names)}")
    buffers = [f"zb = np.empty({BLOCK}, np.{dtype})"]
    after = []
    for p, j in enumerate(kinds["sum"]):
        value_dtype = _ref_dtype(op, node, op.outs[j][1])
        buffers.append(f"sb{p} = np.empty({BLOCK}, np.{value_dtype})")
        body.append(f"sb{p}[r] = {_name(op.outs[j][1])}")
        after.append(f"sums[c, {p}] += _rsum(sb{p}, m, zb)")
    for p, j in enumerate(kinds["xt"]):
        buffers += [f"gb{p} = np.empty({BLOCK}, np.{dtype})", f"acc{p} = xts[c, {p}]"]
        body.append(f"gb{p}[r] = {_name(op.outs[j][1])}")
    for j in kinds["rows"]:
        body.append(f"r{j}[i] = {_name(op.outs[j][1])}")
    scatter = [f"_scatter(acc{p}, gb{p}, in0, b0, m)" for p in range(len(kinds["xt"]))]
    block = [
        f"for b0 in range(lo, hi, {BLOCK}):",
        f"    m = min({BLOCK}, hi - b0)",
        f"    _dots(in0, b0, m, in1, zb, np.{dtype}(0.0))",
        "    for r in range(m):",
        *nest(body, 2),
        *nest(after + scatter, 1),
    ]
    lines += [
        "    for c in prange(chunks):",
        "        lo = c * n // chunks",
        "        hi = (c + 1) * n // chunks",
        *nest(buffers, 2),
        *nest(block, 2),
    ]
    return "\n".join(lines) + "\n", names


def emit(em, node) -> None:
    """Write ``node``'s call into a compiled graph (``numba_graph._Emitter`` ``em``), with
    the size checks of ``perform`` as ValueErrors."""
    from .numba_graph import Unsupported

    op = node.op
    if not supported(op, node):
        raise Unsupported(f"{op.name} of {node.inputs[0].type}")
    kernel = em.kernel(render, op, node)
    X, w, *others = (em.value(v) for v in node.inputs)
    lines, kinds = em.lines, _kinds(op)
    lines.append(f"if {X}.shape[1] != {w}.shape[0]: raise ValueError('matmul')")
    for var, other in zip(node.inputs[2:], others):
        if var.ndim == 1 and var.type.shape[0] != 1:
            lines.append(f"if {other}.shape[0] != {X}.shape[0]: raise ValueError('rows')")
    parts, sums, xts = em.fresh("p"), em.fresh("sums"), em.fresh("xts")
    lines += [
        f"{parts} = _rp_chunks({X}.shape[0])",
        f"{sums} = np.zeros(({parts}, {len(kinds['sum'])}))",
        f"{xts} = np.zeros(({parts}, {len(kinds['xt'])}, {X}.shape[1]), np.{node.inputs[0].dtype})",
    ]
    types = [v.dtype for v in node.outputs]
    rows = [em.assign(node, f"np.empty({X}.shape[0], np.{types[j]})", j) for j in kinds["rows"]]
    lines.append(f"{kernel}({', '.join([X, w, parts, sums, xts, *rows, *others])})")
    for p, j in enumerate(kinds["sum"]):
        total = f"np.{types[j]}({sums}[:, {p}].sum())"
        em.assign(node, f"np.full(1, {total})" if op.outs[j][2] else total, j)
    em.out.names["_rp_combine"] = combine
    em.out.names["_rp_chunks"] = chunks
    for p, j in enumerate(kinds["xt"]):
        em.assign(node, f"_rp_combine({xts}, {p}).astype(np.{types[j]})", j)


def _name(ref: int) -> str:
    return f"t{ref}" if ref >= 0 else "z" if ref == -1 else f"a{-1 - ref}"


def _ref_dtype(op, node, ref: int) -> str:
    return op.steps[ref][2] if ref >= 0 else node.inputs[0 if ref == -1 else -1 - ref].dtype


KERNELS["RowPass"] = build
