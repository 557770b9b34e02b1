"""Dtype promotion and casting rules against what NumPy 2 really does (NEP 50)."""

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from astsym.config import config
from astsym.typecheck import dtypes
from astsym.typecheck.dtypes import (
    ALL,
    BOOL,
    COMPLEXES,
    FLOATS,
    INTEGERS,
    as_dtype,
    can_cast_safely,
    mean_dtype,
    promote,
    real_dtype,
    sum_dtype,
    upcast_to_float,
)

PAIRS = list(itertools.product(ALL, ALL))
dtype_names = st.sampled_from(ALL)


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_promote_pair_matches_numpy(a, b):
    added = (np.zeros(2, dtype=a) + np.zeros(2, dtype=b)).dtype.name
    assert promote(a, b) == np.result_type(a, b).name == added


@given(st.lists(dtype_names, min_size=1, max_size=5))
def test_promote_many_matches_numpy_concatenate(names):
    """All at once, as NumPy joins arrays (not pairwise: int8, uint8, float16 -> float16,
    while (int8 + uint8) + float16 is float32)."""
    joined = np.concatenate([np.zeros(1, dtype=n) for n in names]).dtype.name
    assert promote(*names) == joined


@given(dtype_names, dtype_names)
def test_promote_is_symmetric(a, b):
    assert promote(a, b) == promote(b, a)


# A Python scalar of each kind, small enough to fit every dtype of its kind.
WEAK_SCALARS = [True, 1, 2.5, 1.5j]


@pytest.mark.parametrize("value", WEAK_SCALARS, ids=["bool", "int", "float", "complex"])
@pytest.mark.parametrize("dtype", ALL)
def test_promote_weak_scalar_matches_numpy_arithmetic(dtype, value):
    expected = (np.zeros(2, dtype=dtype) + value).dtype.name
    assert promote(dtype, weak=(value,)) == expected


@pytest.mark.parametrize(
    ("dtype", "weak", "expected"),
    [
        ("int8", (1,), "int8"),  # a Python int does not widen a small int
        ("uint8", (3,), "uint8"),
        ("int8", (1.5,), "float64"),  # ... but a Python float makes it the default float
        ("float32", (2.0,), "float32"),  # a Python float does not widen float32
        ("float16", (2.0,), "float16"),
        ("float32", (1j,), "complex64"),
        ("bool", (True,), "bool"),
        ("bool", (1,), "int64"),
        ("int16", (True,), "int16"),
    ],
)
def test_promote_weak_scalars_follow_nep50(dtype, weak, expected):
    assert promote(dtype, weak=weak) == expected


@pytest.mark.parametrize(
    ("weak", "expected"),
    [
        ((1,), "int64"),
        ((True,), "bool"),
        ((True, 2), "int64"),
        ((1.5,), None),
        ((1, 1j), "complex128"),
    ],
)
def test_promote_python_scalars_alone(weak, expected):
    assert promote(weak=weak) == (expected or config.floatX)


def test_promote_needs_something():
    with pytest.raises(ValueError):
        promote()


@pytest.mark.parametrize(("src", "dst"), PAIRS)
def test_can_cast_safely_matches_numpy(src, dst):
    assert can_cast_safely(src, dst) is bool(np.can_cast(src, dst, "safe"))


def _extremes(name: str) -> list:
    if name == "bool":
        return [False, True]
    if name in INTEGERS:
        info = np.iinfo(name)
        return [info.min, info.max]
    real = real_dtype(name)
    info = np.finfo(real)
    values = [info.max, info.tiny, info.eps, -info.max]
    return [complex(v, v) for v in values] if name in COMPLEXES else values


def _mantissa_too_short(src: str, dst: str) -> bool:
    """NumPy calls int64 -> float64 safe by kind although 2**63 - 1 rounds."""
    if src not in INTEGERS or dst not in FLOATS + COMPLEXES:
        return False
    return np.iinfo(src).bits - (src in dtypes.SIGNED) > np.finfo(real_dtype(dst)).nmant + 1


@given(dtype_names, dtype_names)
def test_safe_casts_keep_every_extreme_value(src, dst):
    """A safe cast round-trips the extremes of ``src``; an unsafe cast within one kind
    loses one of them."""
    values = np.array(_extremes(src), dtype=src)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
        back = values.astype(dst).astype(src)
    kept = bool(np.array_equal(back, values))
    if can_cast_safely(src, dst):
        assert kept or _mantissa_too_short(src, dst)
    elif dtypes.kind(src) == dtypes.kind(dst):
        assert not kept, f"{src} -> {dst} keeps {values} but is called unsafe"


def test_safe_int_to_float_casts_are_numpys_kind_rule():
    assert can_cast_safely("int64", "float64") and _mantissa_too_short("int64", "float64")
    assert can_cast_safely("int32", "float64") and not _mantissa_too_short("int32", "float64")
    assert not can_cast_safely("int32", "float32")


@pytest.mark.parametrize("name", ALL)
def test_reduction_and_math_dtypes_match_numpy(name):
    a = np.ones(3, dtype=name)
    assert sum_dtype(name) == np.sum(a).dtype.name == np.cumsum(a).dtype.name
    assert sum_dtype(name) == np.prod(a).dtype.name
    assert mean_dtype(name) == np.mean(a).dtype.name
    assert real_dtype(name) == np.abs(a).dtype.name
    assert upcast_to_float(name) == np.sqrt(a).dtype.name


@pytest.mark.parametrize(
    ("given_dtype", "name"),
    [
        (np.float32, "float32"),
        ("f8", "float64"),
        (bool, "bool"),
        (np.dtype("uint16"), "uint16"),
        ("int", "int64"),
        ("floatX", config.floatX),
    ],
)
def test_as_dtype_canonical_names(given_dtype, name):
    assert as_dtype(given_dtype) == name


@pytest.mark.parametrize("bad", ["float128", "U5", object, "datetime64", "no-such-dtype"])
def test_as_dtype_refuses_unsupported(bad):
    with pytest.raises(TypeError):
        as_dtype(bad)


def test_dtype_groups_partition_all():
    groups = [BOOL, INTEGERS, FLOATS, COMPLEXES]
    assert sorted(sum(groups, ())) == sorted(ALL)
    assert len(set(ALL)) == len(ALL)
    assert {dtypes.kind(d) for d in INTEGERS} == {"i", "u"}
    assert all(dtypes.is_float(d) and dtypes.is_continuous(d) for d in FLOATS)
    assert all(dtypes.is_discrete(d) and not dtypes.is_continuous(d) for d in BOOL + INTEGERS)
    assert set(dtypes.SHORT) == set(ALL)
