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
        raise RuleError(codes.BAD_ARGUMENT, f"numpy.{ufunc.__name__} has no astsym equivalent")
    out = op(*inputs)
    dtype = kwargs.get("dtype")
    return out.astype(dtype) if dtype is not None else out


def _function_table() -> dict:
    """NumPy functions (dispatched through ``__array_function__``) -> astsym functions."""
    import numpy as np

    from .. import ops

    table = {
        np.where: ops.where,
        np.clip: ops.clip,
        np.round: ops.round,
        np.around: ops.round,
        np.linalg.norm: lambda x, ord=None, axis=None, keepdims=False: ops.norm(
            x, 2 if ord is None else ord, axis, keepdims
        ),
        np.shape: lambda x: ops.shape(x),
        np.size: lambda x: ops.size(x),
        np.ndim: lambda x: x.ndim,
    }
    same_name = (
        "sum prod mean var std max min argmax argmin all any dot tensordot outer concatenate "
        "stack reshape transpose swapaxes squeeze expand_dims cumsum cumprod sort argsort "
        "repeat tile zeros_like ones_like ravel"
    )
    for name in same_name.split():
        source = {"ravel": "flatten"}.get(name, name)
        table[getattr(np, name)] = getattr(ops, source)
    table[np.amax], table[np.amin] = ops.max, ops.min
    return table


_FUNCTIONS: dict = {}


def apply_numpy_function(func, args, kwargs):
    """``__array_function__`` for symbolic tensors: ``np.sum(x, axis=0)`` builds graph nodes;
    a NumPy function with no astsym equivalent is an error naming it."""
    if not _FUNCTIONS:
        _FUNCTIONS.update(_function_table())
    target = _FUNCTIONS.get(func)
    if target is None:
        name = getattr(func, "__name__", str(func))
        raise RuleError(
            codes.BAD_ARGUMENT,
            f"numpy.{name} has no astsym equivalent",
            ("write it with astsym.tensor functions, or ask for it to be added",),
        )
    if func is np_where_one_arg(args):
        raise RuleError(
            codes.BAD_ARGUMENT,
            "numpy.where with one argument (nonzero) has no "
            "astsym equivalent: its size depends on the values",
        )
    return target(*args, **kwargs)


apply_numpy_ufunc.error_label = apply_numpy_function.error_label = ""  # messages name numpy's


def np_where_one_arg(args):
    import numpy as np

    return np.where if len(args) == 1 else None
