"""Annotation helpers: ``f32["n", 3]`` and friends parse their dims, refuse bad ones with
AS101, print as written, and become ``TensorType``s."""

import pytest

from astsym.graph.type import TensorType
from astsym.parse.annotations import HELPERS, DTypeSpec, TensorSpec, bool_, f32, f64, i64, u8
from astsym.typecheck import RuleError, codes


@pytest.mark.parametrize(
    ("spec", "dtype", "dims"),
    [
        (f32["n", 3], "float32", ("n", 3)),
        (f32["n"], "float32", ("n",)),
        (f32[("n",)], "float32", ("n",)),
        (f64[3], "float64", (3,)),
        (f64[0], "float64", (0,)),
        (f32[1, "m"], "float32", (1, "m")),
        (i64[()], "int64", ()),
        (i64[...], "int64", (...,)),
        (i64[..., 2], "int64", (..., 2)),
        (u8["h", "w", 3], "uint8", ("h", "w", 3)),
        (bool_["n"], "bool", ("n",)),
    ],
)
def test_dims_are_kept_as_written(spec, dtype, dims):
    assert isinstance(spec, TensorSpec)
    assert spec.dtype == dtype
    assert spec.dims == dims


@pytest.mark.parametrize(
    ("spec", "text"),
    [
        (f32["n", 3], "f32[n, 3]"),
        (f64[()], "f64[()]"),
        (i64[..., 2], "i64[..., 2]"),
        (bool_["n"], "bool[n]"),
        (u8[1], "u8[1]"),
    ],
)
def test_specs_print_as_types_do(spec, text):
    assert repr(spec) == text


def test_helpers_print_their_short_dtype_and_are_all_listed():
    assert repr(f32) == "f32" and repr(i64) == "i64"
    assert {"f16", "f32", "f64", "i8", "i16", "i32", "i64", "u8", "bool_"} <= set(HELPERS)
    assert all(isinstance(v, DTypeSpec) for v in HELPERS.values())
    assert HELPERS["f32"] is f32


def test_specs_compare_and_hash_by_value():
    assert f32["n", 3] == f32["n", 3]
    assert hash(f32["n", 3]) == hash(f32["n", 3])
    assert f32["n", 3] != f64["n", 3]
    assert f32["n", 3] != f32["m", 3]


@pytest.mark.parametrize(
    ("dims", "fragment"),
    [
        (2.5, "got 2.5"),
        (("n", 2.5), "got 2.5"),
        (-1, "negative"),
        (("n", -3), "negative"),
        (True, "got True"),
        (None, "got None"),
        (("n", [2]), "got [2]"),
        ((3, ...), "... may only stand first"),
        ((..., ...), "... may only stand first"),
        ("n m", "identifier"),
        ("", "identifier"),
        ("3n", "identifier"),
    ],
)
def test_bad_dims_are_as101(dims, fragment):
    with pytest.raises(RuleError) as info:
        f32[dims]
    assert info.value.code == codes.INVALID_ANNOTATION == "AS101"
    assert fragment in info.value.message


def test_an_unknown_dtype_is_refused_naming_it():
    with pytest.raises(TypeError, match="float128"):
        DTypeSpec("float128")


# -- to_type ---------------------------------------------------------------------------------
def test_to_type_keeps_names_sizes_and_broadcastable_ones():
    t = f32["n", 1, 3].to_type()
    assert isinstance(t, TensorType)
    assert t.dtype == "float32"
    assert t.shape == ("n", 1, 3)
    assert t.broadcastable == (False, True, False)
    assert t.short() == "f32[n, 1, 3]"


def test_to_type_of_a_scalar():
    t = f64[()].to_type(ndim=0)
    assert t.ndim == 0 and t.dtype == "float64"
    assert repr(t) == "TensorType(float64, scalar)"
    assert f64[()].to_type() == t


@pytest.mark.parametrize(
    ("spec", "ndim", "shape"),
    [
        (i64[..., 2], 1, (2,)),
        (i64[..., 2], 3, (None, None, 2)),
        (i64[...], 0, ()),
        (i64[...], 2, (None, None)),
        (f32[..., "n", 3], 4, (None, None, "n", 3)),
    ],
)
def test_leading_ellipsis_takes_the_rank_of_the_call(spec, ndim, shape):
    t = spec.to_type(ndim=ndim)
    assert t.ndim == ndim
    assert t.shape == shape


@pytest.mark.parametrize(
    ("spec", "ndim"), [(i64[..., 2, 3], 1), (i64[..., 2], 0), (i64[..., 2], None)]
)
def test_ellipsis_that_does_not_fit_the_rank_is_a_rank_error(spec, ndim):
    with pytest.raises(RuleError) as info:
        spec.to_type(ndim=ndim)
    assert info.value.code == codes.RANK
    assert repr(spec) in info.value.message


@pytest.mark.parametrize(
    ("spec", "ndim", "fits"),
    [
        (f32["n", 3], 2, True),
        (f32["n", 3], 3, False),
        (f32[()], 0, True),
        (f32[()], 1, False),
        (f32[..., 3], 1, True),
        (f32[..., 3], 5, True),
        (f32[..., 3], 0, False),
    ],
)
def test_fits_rank(spec, ndim, fits):
    assert spec.fits_rank(ndim) is fits
