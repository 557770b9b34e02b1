"""Turning Python and NumPy values into graph variables.

>>> as_tensor_variable([[1.0, 2.0]]).type   # a constant's dims all have static sizes
TensorType(float64, shape=(1, 2))
>>> constant(2.0).dtype      # a Python float alone takes floatX
'float64'
"""

from __future__ import annotations

import numbers

import numpy as np

from astsym.typecheck import RuleError, codes
from astsym.typecheck.dtypes import ALL, as_dtype, promote

from .basic import Constant, Variable
from .type import TensorType


def is_python_scalar(value) -> bool:
    """Python bool/int/float/complex (weak in promotion), not NumPy scalars."""
    return isinstance(value, (bool, int, float, complex)) and not isinstance(value, np.generic)


def constant(value, name: str | None = None, ndim: int | None = None, dtype=None) -> Constant:
    """A constant holding ``value``; Python floats default to floatX, ints to int64.

    Every dim of a constant has its static size, so size-1 dims broadcast.
    """
    if isinstance(value, Constant) and dtype is None and ndim is None:
        return value
    if isinstance(value, Variable):
        raise TypeError(f"constant() needs a value, got the symbolic variable {value}")
    if dtype is None:
        if is_python_scalar(value):
            dtype = promote(weak=(value,))
        else:
            array = _as_array(value)
            dtype = array.dtype.name if array.dtype.name in ALL else None
            if dtype is None:
                raise TypeError(f"cannot make a constant of {type(value).__name__} {value!r}")
    dtype = as_dtype(dtype)
    array = np.asarray(value, dtype=dtype)
    if ndim is not None and array.ndim != ndim:
        if array.ndim > ndim:
            array = array.reshape(array.shape[array.ndim - ndim :])
        else:
            array = array.reshape((1,) * (ndim - array.ndim) + array.shape)
    return Constant(TensorType(dtype, shape=array.shape), array, name=name)


def _as_array(value) -> np.ndarray:
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as err:
        raise TypeError(f"cannot make a tensor of {value!r}: {err}") from None
    if array.dtype == object:
        if isinstance(value, (list, tuple)) and any(isinstance(v, Variable) for v in value):
            raise TypeError("a list holding symbolic variables is not a constant; use stack()")
        raise TypeError(f"cannot make a tensor of {type(value).__name__} {value!r}")
    return array


def as_tensor_variable(x, name: str | None = None, ndim: int | None = None, dtype=None) -> Variable:
    """``x`` if it is a tensor variable, else a constant of it; lists of variables stack."""
    if isinstance(x, Variable):
        if ndim is not None and x.ndim != ndim:
            raise RuleError(codes.RANK, f"expected rank {ndim}, got {x.type.short()}")
        if dtype is not None and as_dtype(dtype) != x.dtype:
            from .ops.elemwise import cast

            return cast(x, dtype)
        return x
    unusable = getattr(type(x), "fail_as_operand", None)
    if unusable is not None:  # a name with no value (see parse.operators.Undefined)
        unusable(x)
    if isinstance(x, (list, tuple)):
        for v in x:
            if getattr(type(v), "fail_as_operand", None) is not None:
                type(v).fail_as_operand(v)
    if isinstance(x, (list, tuple)) and any(isinstance(v, Variable) for v in x):
        from .ops.join import stack

        return stack([as_tensor_variable(v) for v in x])
    if isinstance(x, numbers.Number) or isinstance(x, (np.ndarray, np.generic, list, tuple)):
        return constant(x, name=name, ndim=ndim, dtype=dtype)
    raise TypeError(f"cannot make a tensor of {type(x).__name__} {x!r}")


def as_operands(values) -> list[Variable]:
    """Variables for an elementwise op's operands, Python scalars taking NEP 50's weak rule.

    ``f32_x * 2.0`` keeps float32; ``i8_x + 1.5`` becomes float64; ``u8_x + 300`` is refused.
    """
    values = list(values)
    weak = [v for v in values if is_python_scalar(v)]
    if not weak:
        return [as_tensor_variable(v) for v in values]
    strong = [as_tensor_variable(v) for v in values if not is_python_scalar(v)]
    dtype = promote(*[s.dtype for s in strong], weak=tuple(weak))
    out = []
    for v in values:
        out.append(_weak_constant(v, dtype) if is_python_scalar(v) else as_tensor_variable(v))
    return out


def _weak_constant(value, dtype: str) -> Constant:
    """A scalar constant; equal ones are shared (constants are immutable)."""
    key = (type(value), repr(value), dtype)  # repr keeps -0.0 apart from 0.0
    try:
        return _WEAK_CONSTANTS[key]
    except (KeyError, TypeError):
        pass
    made = _make_weak_constant(value, dtype)
    if len(_WEAK_CONSTANTS) < 4096:
        _WEAK_CONSTANTS[key] = made
    return made


_WEAK_CONSTANTS: dict = {}


def _make_weak_constant(value, dtype: str) -> Constant:
    with np.errstate(all="ignore"):
        array = np.asarray(value).astype(dtype)
    if np.dtype(dtype).kind in "iub" and array.item() != value:
        raise RuleError(codes.BAD_ARGUMENT, f"Python integer {value} is out of bounds for {dtype}")
    return Constant(TensorType(dtype, shape=()), array)
