"""``numba_blas.matvec``, the compiled graphs' small matrix-vector product: every layout,
the lengths it unrolls and the others, the product of tiny float32 values (in float64),
large matrices (loops and BLAS), outputs of any layout, the copy into column order, and
mismatched dims."""

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from astsym.kernels.numba_blas import SMALL_DOT, blas_matvec, columns_for_loops, matvec


@numba.njit
def _compiled(out, a, x):
    matvec(out, a, x)


def _layouts(a):
    """``a`` C-ordered, F-ordered, and as strided views of each (Numba's 'A' layout)."""
    return [
        a,
        np.asfortranarray(a),
        np.repeat(a, 2, axis=0)[::2],
        np.asfortranarray(np.repeat(a, 2, axis=1))[:, ::2],
    ]


@settings(deadline=None, max_examples=30)
@given(
    rows=st.sampled_from([0, 1, 3, 8, 9, 32, 64, 70, 128]),
    cols=st.sampled_from([0, 1, 4, 5, 32, 64, 100, 128]),
    dtype=st.sampled_from(["float32", "float64"]),
    seed=st.integers(0, 2**16),
)
def test_every_layout_and_length_equals_numpy(rows, cols, dtype, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((rows, cols)).astype(dtype)
    x = rng.standard_normal(cols).astype(dtype)
    want = a.astype(np.float64) @ x.astype(np.float64)
    rtol = 1e-4 if dtype == "float32" else 1e-12
    for matrix in _layouts(a):
        for vector in (x, np.repeat(x, 2)[::2]):
            out = np.full(rows, np.nan, dtype)
            _compiled(out, matrix, vector)
            np.testing.assert_allclose(out, want, rtol=rtol, atol=rtol * max(cols, 1) ** 0.5)


def test_tiny_float32_values_are_multiplied_in_float64():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((64, 64)).astype(np.float32)
    x = (rng.standard_normal(64) * 1e-39).astype(np.float32)  # subnormal in float32
    want = (a.astype(np.float64) @ x.astype(np.float64)).astype(np.float32)
    for matrix in _layouts(a):
        out = np.empty(64, np.float32)
        _compiled(out, matrix, x)
        np.testing.assert_array_equal(out, want)  # one rounding, from float64


def test_nan_and_inf_keep_their_meaning():
    a = np.ones((8, 8), np.float32)
    a[2, 3], a[5, 0] = np.inf, np.nan
    x = np.zeros(8, np.float32)
    x[3] = 1e-30  # tiny: the float64 path
    for vector in (x, np.ones(8, np.float32), np.zeros(8, np.float32)):
        out = np.empty(8, np.float32)
        _compiled(out, a, vector)
        with np.errstate(invalid="ignore"):
            np.testing.assert_array_equal(out, a @ vector)


@pytest.mark.parametrize("product", [matvec, blas_matvec], ids=["loops", "blas"])
def test_any_layout_of_any_size_is_written(product):
    for rows in (8, SMALL_DOT // 64 + 1):
        a = np.random.default_rng(1).standard_normal((rows, 64))
        x = np.arange(64.0)
        for matrix in _layouts(a):
            out = np.zeros((rows, 2))
            product(out[:, 1], matrix, x)  # a strided output
            np.testing.assert_allclose(out[:, 1], a @ x, rtol=1e-12)
            assert not out[:, 0].any()
            out = np.empty(rows)
            product(out, matrix, x)
            np.testing.assert_allclose(out, a @ x, rtol=1e-12)


@numba.njit
def _columns_copy(a):
    return columns_for_loops(a)


@pytest.mark.parametrize("call", [_columns_copy, columns_for_loops], ids=["compiled", "python"])
def test_a_small_matrix_is_copied_into_column_order_a_large_one_is_not(call):
    a = np.arange(6.0).reshape(2, 3)
    f = call(a)
    assert f.flags.f_contiguous and not f.flags.c_contiguous and np.array_equal(f, a)
    assert call(f) is f or call(f).ctypes.data == f.ctypes.data
    large = np.ones((SMALL_DOT // 64 + 1, 64))
    assert call(large).size == 0  # (BLAS takes it as it is)


@pytest.mark.parametrize("call", [_compiled, matvec, blas_matvec])
def test_mismatched_dims_are_a_value_error(call):
    with pytest.raises(ValueError, match="inner dims"):
        call(np.empty(3), np.ones((3, 4)), np.ones(3))
    with pytest.raises(ValueError, match="inner dims"):
        call(np.empty(2), np.ones((3, 4)), np.ones(4))
