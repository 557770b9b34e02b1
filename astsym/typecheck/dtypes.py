"""Dtypes and NumPy 2 promotion, with Python scalars weak (NEP 50).

>>> promote("int8", "float32")
'float32'
>>> promote("float32", weak=(2.0,))     # a Python float does not widen float32
'float32'
"""

from __future__ import annotations

import functools

import numpy as np

BOOL = ("bool",)
SIGNED = ("int8", "int16", "int32", "int64")
UNSIGNED = ("uint8", "uint16", "uint32", "uint64")
FLOATS = ("float16", "float32", "float64")
COMPLEXES = ("complex64", "complex128")
INTEGERS = SIGNED + UNSIGNED
DISCRETE = BOOL + INTEGERS
CONTINUOUS = FLOATS + COMPLEXES
ALL = DISCRETE + CONTINUOUS

_CANONICAL = frozenset(
    ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
    + ("float16", "float32", "float64", "complex64", "complex128")
)

SHORT = {
    "bool": "bool",
    "int8": "i8",
    "int16": "i16",
    "int32": "i32",
    "int64": "i64",
    "uint8": "u8",
    "uint16": "u16",
    "uint32": "u32",
    "uint64": "u64",
    "float16": "f16",
    "float32": "f32",
    "float64": "f64",
    "complex64": "c64",
    "complex128": "c128",
}


def as_dtype(dtype) -> str:
    """The canonical name of a dtype given as a name, NumPy dtype or Python type.

    >>> as_dtype(np.float32), as_dtype("f8"), as_dtype(bool)
    ('float32', 'float64', 'bool')
    """
    if dtype == "floatX":
        from astsym.config import config

        return config.floatX
    if isinstance(dtype, str) and dtype in _CANONICAL:
        return dtype
    try:
        name = np.dtype(dtype).name
    except TypeError:
        raise TypeError(f"{dtype!r} is not a dtype") from None
    if name not in ALL:
        raise TypeError(f"dtype {name} is not supported; use one of {', '.join(ALL)}")
    return name


def kind(dtype: str) -> str:
    """'b' bool, 'i' signed, 'u' unsigned, 'f' float, 'c' complex."""
    return np.dtype(dtype).kind


def is_float(dtype: str) -> bool:
    return dtype in FLOATS


def is_continuous(dtype: str) -> bool:
    return dtype in CONTINUOUS


def is_discrete(dtype: str) -> bool:
    return dtype in DISCRETE


def promote(*dtypes: str, weak: tuple = ()) -> str:
    """The result dtype of combining arrays of ``dtypes`` with Python scalars ``weak``.

    Python scalars take part by kind only (NEP 50): ``int8 + 1`` stays int8,
    ``int8 + 1.5`` becomes float64, ``float32 + 1.5`` stays float32.
    """
    if not dtypes:
        if not weak:
            raise ValueError("promote() needs at least one dtype or scalar")
        return _python_scalar_dtype(weak)
    # NEP 50: only the kind of a Python scalar matters, so one probe value stands for all
    kinds = tuple(_WEAK_KIND[type(w)] for w in weak if type(w) in _WEAK_KIND)
    if len(kinds) != len(weak):
        return np.result_type(*[np.dtype(d) for d in dtypes], *weak).name
    return _promote_cached(tuple(dtypes), kinds)


_WEAK_KIND = {bool: "b", int: "i", float: "f", complex: "c"}
_WEAK_PROBE = {"b": False, "i": 0, "f": 0.0, "c": 0j}


@functools.lru_cache(maxsize=4096)
def _promote_cached(dtypes: tuple, kinds: tuple) -> str:
    probes = [_WEAK_PROBE[k] for k in kinds]
    return np.result_type(*[np.dtype(d) for d in dtypes], *probes).name


def _python_scalar_dtype(values: tuple) -> str:
    from astsym.config import config

    if any(isinstance(v, complex) for v in values):
        return "complex128"
    if any(isinstance(v, float) for v in values):
        return config.floatX
    if all(isinstance(v, bool) for v in values):
        return "bool"
    return "int64"


def upcast_to_float(dtype: str) -> str:
    """The float dtype NumPy gives a transcendental of ``dtype`` (int8 -> float16 ... )."""
    if dtype in CONTINUOUS:
        return dtype
    return np.result_type(np.dtype(dtype), np.float16).name


def can_cast_safely(src: str, dst: str) -> bool:
    """Whether every value of ``src`` is exactly representable in ``dst``."""
    return bool(np.can_cast(np.dtype(src), np.dtype(dst), "safe"))


def sum_dtype(dtype: str) -> str:
    """NumPy's accumulator for sum/prod: small ints widen to the default int."""
    if dtype == "bool" or dtype in SIGNED:
        return np.result_type(np.dtype(dtype), np.int_).name
    if dtype in UNSIGNED:
        return np.result_type(np.dtype(dtype), np.uint).name
    return dtype


def mean_dtype(dtype: str) -> str:
    """NumPy's result dtype for mean/var: integers and bool give float64."""
    return "float64" if dtype in DISCRETE else dtype


def real_dtype(dtype: str) -> str:
    """The dtype of abs/real/imag of ``dtype``: complex128 -> float64."""
    return {"complex64": "float32", "complex128": "float64"}.get(dtype, dtype)
