"""NumPy functions applied to symbolic tensors build graph nodes (``np.exp(x)``).

A ufunc with no astsym equivalent is refused with an error naming it.
"""

from __future__ import annotations

from astsym.typecheck import RuleError, codes

from . import math as m
from .blas import matmul
from .elemwise import ELEMWISE

#: NumPy ufunc names whose astsym op has another name (or is not elementwise).
_ALIASES = {
    "matmul": matmul,  # ``ndarray @ variable`` arrives here as numpy.matmul
    "absolute": m.abs,
    "divide": m.true_divide,
    "remainder": m.mod,
    "fabs": m.abs,
    "rint": m.round_half_to_even,
    "conjugate": None,
}


def apply_numpy_ufunc(ufunc, method: str, inputs, kwargs):
    """``__array_ufunc__`` for symbolic tensors: ufunc calls become elementwise ops."""
    if method != "__call__" or kwargs.get("out") is not None:
        raise RuleError(
            codes.BAD_ARGUMENT,
            f"numpy.{ufunc.__name__}.{method} is not supported on symbolic tensors",
        )
    op = _ALIASES.get(ufunc.__name__, ELEMWISE.get(ufunc.__name__))
    if op is None:
        raise TypeError(f"numpy.{ufunc.__name__} has no astsym equivalent")
    out = op(*inputs)
    dtype = kwargs.get("dtype")
    return out.astype(dtype) if dtype is not None else out
