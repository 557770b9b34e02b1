"""Small matrix-vector products as Numba loops, for compiled graphs (``numba_graph.py``).

A BLAS call costs more than the whole product of a small matrix and a vector (a 64 x 64
``sgemv`` is about as long as its call), and a scan step makes one per step. So
``matvec(out, a, x)`` computes ``a @ x`` into ``out`` with loops chosen by the matrix's
layout, known when Numba compiles the call: rows of a C-ordered matrix are dot products
(eight at a time, so each item of ``x`` is loaded once per eight rows), columns of an
F-ordered one (a transposed view, as in ``W.T @ g``) are added to ``out`` sixteen at a
time, which needs no sums across a vector and is the faster of the two
(``columns_for_loops`` copies a matrix into F order). A matrix of more than ``SMALL_DOT`` items goes to BLAS
(``blas_matvec``).

Sums are in the matrix's dtype, as BLAS does; the ``reassoc`` flag lets the dot products
vectorize and ``contract`` makes each product and sum one FMA, as BLAS kernels do (NaN and
inf keep their meaning). A loop's length is a constant for the common sizes 32, 64 and 128
(LLVM unrolls it whole), and the loops ask for 512-bit vectors where the CPU has them.

Tiny float32 values (a vanishing gradient) are the slow case of any float32 product: every
vector instruction with a subnormal operand or result costs a microcode assist. A float32
vector holding a nonzero item below 2**-64 is therefore multiplied in float64, where those
products are normal numbers, and the sums rounded once to float32.

    >>> import numpy as np
    >>> a, x = np.arange(6.0).reshape(2, 3), np.ones(3)
    >>> out = np.empty(2)
    >>> matvec(out, a, x); out
    array([ 3., 12.])
"""

from __future__ import annotations

import numba
import numpy as np
from numba import types
from numba.extending import overload

from .vecmath import prefer_wide_vectors

#: matrix-vector products of at most this many matrix items run as loops here
SMALL_DOT = 1 << 14

_OPTIONS = {"error_model": "numpy", "fastmath": {"reassoc", "contract"}}


@numba.njit(**_OPTIONS)
def matvec(out, a, x) -> None:
    """``out[:] = a @ x`` by loops (``a`` 2-D, ``x`` and ``out`` 1-D); a ValueError when
    the inner dims differ. (The BLAS path is ``blas_matvec``: a function holding both pays
    for the larger one's entry and exit at every call, a sixth of a 64 x 64 product.)"""
    rows, cols = a.shape
    if x.shape[0] != cols or out.shape[0] != rows:
        raise ValueError("matmul: inner dims differ")
    if _has_tiny(x):
        _in_double(out, a, x, _column_order(a))
    elif _column_order(a):
        _by_length(_columns, out, a, x, _zero(a), rows)
    else:
        _by_length(_rows, out, a, x, _zero(a), cols)


@numba.njit(**_OPTIONS)
def blas_matvec(out, a, x) -> None:
    """``out[:] = a @ x`` by BLAS, for a matrix of more than ``SMALL_DOT`` items."""
    if x.shape[0] != a.shape[1] or out.shape[0] != a.shape[0]:
        raise ValueError("matmul: inner dims differ")
    _by_blas(out, a, x)


def columns_for_loops(a):
    """``a`` in column (F) order for ``matvec``'s loops: itself when it is, else a copy;
    an empty matrix when ``a`` has more than ``SMALL_DOT`` items (BLAS takes ``a`` as it
    is, and a large copy would cost as much as a product). A scan copies a matrix its steps
    multiply vectors by so once, before the loop."""
    return np.asfortranarray(a if a.size <= SMALL_DOT else a[:0, :0])


@overload(columns_for_loops)
def _columns_for_loops_typed(a):
    if a.layout == "F":
        return lambda a: a
    return lambda a: np.asfortranarray(a if a.size <= SMALL_DOT else a[:0, :0])


def _by_blas(out, a, x) -> None:
    """``out[:] = a @ x`` by BLAS, straight into ``out`` when it is contiguous."""
    out[:] = np.dot(a, x)


@overload(_by_blas, jit_options=_OPTIONS)
def _by_blas_typed(out, a, x):
    if out.layout == "C":
        return lambda out, a, x: np.dot(for_blas(a), for_blas(x), out)
    return lambda out, a, x: _copy_into(out, np.dot(for_blas(a), for_blas(x)))


@numba.njit
def _copy_into(out, values) -> None:
    out[:] = values


def _column_order(a) -> bool:
    """Whether ``a`` is F-ordered (its columns contiguous): known when Numba compiles."""
    return a.flags.f_contiguous and not a.flags.c_contiguous


@overload(_column_order)
def _column_order_typed(a):
    by_columns = a.layout == "F"
    return lambda a: by_columns


def _zero(a):
    """A zero of ``a``'s dtype."""
    return a.dtype.type(0)


@overload(_zero)
def _zero_typed(a):
    zero = numba.np.numpy_support.as_dtype(a.dtype).type(0)
    return lambda a: zero


@numba.njit(inline="always")
def _by_length(kernel, out, a, x, zero, n) -> None:
    """``kernel`` with its inner loop's length ``n`` a constant when it is a common one:
    LLVM then unrolls that loop whole (a 64 x 64 product takes a sixth less time)."""
    if n == 64:
        kernel(out, a, x, zero, 64)
    elif n == 32:
        kernel(out, a, x, zero, 32)
    elif n == 128:
        kernel(out, a, x, zero, 128)
    else:
        kernel(out, a, x, zero, n)


def for_blas(a):
    """``a`` itself when BLAS takes it as it is (C or F order, or 1-D and contiguous), else
    a C-ordered copy (a reversed or strided view)."""
    return np.ascontiguousarray(a)


@overload(for_blas)
def _for_blas_typed(a):
    if isinstance(a, types.Array) and (a.layout == "C" or (a.layout == "F" and a.ndim == 2)):
        return lambda a: a
    return lambda a: np.ascontiguousarray(a)


#: a float32 vector with a nonzero item below this (2**-64) is multiplied in float64
_TINY32 = np.float32(2.0**-64)


def _has_tiny(x) -> bool:
    """Whether float32 ``x`` holds a nonzero item so small that its products may be
    subnormal (never for another dtype)."""
    return x.dtype == np.float32 and bool(np.any((np.abs(x) < _TINY32) & (x != 0)))


@overload(_has_tiny, jit_options=_OPTIONS)
def _has_tiny_typed(x):
    if x.dtype != types.float32:
        return lambda x: False

    def impl(x):
        found = 0
        for j in range(x.shape[0]):
            v = abs(x[j])
            found += 1 if (v < _TINY32) & (v > 0) else 0
        return found > 0

    return impl


@numba.njit(**_OPTIONS)
def _in_double(out, a, x, by_columns: bool) -> None:
    """``a @ x`` summed in float64, rounded once to ``out``'s dtype. A product of a tiny
    float32 (a vanishing gradient) is subnormal as a float32, and every vector instruction
    with a subnormal operand or result costs a microcode assist (about 100 cycles: a 64 x 64
    product takes 50 times as long); in float64 it is a normal number."""
    rows, cols = a.shape
    acc = np.zeros(rows, np.float64)
    if by_columns:
        for j in range(cols):
            xj = np.float64(x[j])
            for i in range(rows):
                acc[i] += np.float64(a[i, j]) * xj
    else:
        for i in range(rows):
            total = 0.0
            for j in range(cols):
                total += np.float64(a[i, j]) * np.float64(x[j])
            acc[i] = total
    for i in range(rows):
        out[i] = acc[i]


@numba.njit(inline="always", **_OPTIONS)
def _rows(out, a, x, zero, cols) -> None:
    """Dot products of the rows with ``x``, eight rows at a time (``cols``: a's)."""
    rows = a.shape[0]
    i = 0
    while i + 8 <= rows:
        prefer_wide_vectors()
        s0, s1, s2, s3, s4, s5, s6, s7 = zero, zero, zero, zero, zero, zero, zero, zero
        for j in range(cols):
            xj = x[j]
            s0 += a[i, j] * xj
            s1 += a[i + 1, j] * xj
            s2 += a[i + 2, j] * xj
            s3 += a[i + 3, j] * xj
            s4 += a[i + 4, j] * xj
            s5 += a[i + 5, j] * xj
            s6 += a[i + 6, j] * xj
            s7 += a[i + 7, j] * xj
        out[i], out[i + 1], out[i + 2], out[i + 3] = s0, s1, s2, s3
        out[i + 4], out[i + 5], out[i + 6], out[i + 7] = s4, s5, s6, s7
        i += 8
    for r in range(i, rows):
        total = zero
        for j in range(cols):
            total += a[r, j] * x[j]
        out[r] = total


@numba.njit(inline="always", **_OPTIONS)
def _columns(out, a, x, zero, rows) -> None:
    """``out`` as sums of the columns scaled by the items of ``x``, sixteen columns at a
    time (the columns of an F-ordered matrix are contiguous; ``rows``: a's). The sixteen
    are a loop of constant length, which LLVM unrolls: the loop over the rows is then the
    inner one, and runs in vectors of rows."""
    cols = a.shape[1]
    for i in range(rows):
        out[i] = zero
    j = 0
    while j + 16 <= cols:
        prefer_wide_vectors()
        for i in range(rows):
            total = zero
            for k in range(16):
                total += a[i, j + k] * x[j + k]
            out[i] += total
        j += 16
    for c in range(j, cols):
        xc = x[c]
        for i in range(rows):
            out[i] += a[i, c] * xc
