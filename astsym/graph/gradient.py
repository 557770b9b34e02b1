"""Derivatives built on ``grad``: Jacobians, Hessians, and the R- and L-operators.

>>> import astsym.tensor as T
>>> x = T.dvector("x")
>>> J = jacobian(x ** 2, x)          # shape x.shape + x.shape, built with scan
>>> H = hessian((x ** 3).sum(), x)
"""

from __future__ import annotations

from .convert import as_tensor_variable
from .grad import grad
from .ops import arange, flatten, reshape, shape_i, zeros_like
from .ops.shape import shape_tuple
from .walk import clone_replace


def _as_list(value) -> tuple[list, bool]:
    if isinstance(value, (list, tuple)):
        return list(value), False
    return [value], True


def jacobian(expression, wrt, consider_constant=None, disconnected_inputs: str = "raise"):
    """d expression / d wrt, shaped ``expression.shape + wrt.shape`` (one per wrt when
    ``wrt`` is a list). Each row is the gradient of one element, computed by a ``scan``."""
    from .scan import scan

    expression = as_tensor_variable(expression)
    wrt_list, single = _as_list(wrt)
    options = dict(consider_constant=consider_constant, disconnected_inputs=disconnected_inputs)
    if expression.ndim == 0:
        return grad(expression, wrt if single else wrt_list, **options)
    flat = flatten(expression, 1)

    def row(i, y, *xs):
        return grad(y[i], list(xs), **options)

    rows, _ = scan(
        row,
        sequences=arange(shape_i(flat, 0)),
        non_sequences=[flat, *wrt_list],
        name="jacobian",
        return_list=True,
    )
    out = [reshape(r, shape_tuple(expression) + shape_tuple(w)) for r, w in zip(rows, wrt_list)]
    return out[0] if single else out


def hessian(cost, wrt, consider_constant=None, disconnected_inputs: str = "raise"):
    """The matrix of second derivatives of the scalar ``cost``: for each wrt, the Jacobian
    of its gradient, shaped ``wrt.shape + wrt.shape``."""
    wrt_list, single = _as_list(wrt)
    options = dict(consider_constant=consider_constant, disconnected_inputs=disconnected_inputs)
    out = [jacobian(grad(cost, w, **options), w, **options) for w in wrt_list]
    return out[0] if single else out


def Lop(f, wrt, eval_points, consider_constant=None, disconnected_inputs: str = "raise"):
    """The L-operator: ``eval_points`` times the Jacobian of ``f`` (a vector-Jacobian
    product, what reverse mode computes), one result per wrt."""
    f_list, _ = _as_list(f)
    points, _ = _as_list(eval_points)
    if len(points) != len(f_list):
        raise ValueError(f"Lop: {len(f_list)} outputs but {len(points)} eval_points")
    wrt_list, single = _as_list(wrt)
    known = {fi: as_tensor_variable(p) for fi, p in zip(f_list, points)}
    out = grad(
        None,
        wrt_list,
        consider_constant=consider_constant,
        known_grads=known,
        disconnected_inputs=disconnected_inputs,
    )
    return out[0] if single else out


def Rop(f, wrt, eval_points):
    """The R-operator: the Jacobian of ``f`` times ``eval_points`` (a Jacobian-vector
    product), one result per f. Built by differentiating ``Lop`` with respect to its
    (linear) argument, so it needs no forward-mode rule per op."""
    f_list, single = _as_list(f)
    wrt_list, _ = _as_list(wrt)
    points, _ = _as_list(eval_points)
    if len(points) != len(wrt_list):
        raise ValueError(f"Rop: {len(wrt_list)} wrt but {len(points)} eval_points")
    dummies = [fi.type.clone(dtype=_float(fi.dtype))(f"u_{i}") for i, fi in enumerate(f_list)]
    pulled = Lop(f_list, wrt_list, dummies, disconnected_inputs="ignore")
    inner = sum((g * as_tensor_variable(v)).sum() for g, v in zip(pulled, points))
    out = grad(inner, dummies, disconnected_inputs="ignore")
    out = clone_replace(out, {u: zeros_like(fi, u.dtype) for u, fi in zip(dummies, f_list)})
    return out[0] if single else out


def _float(dtype: str) -> str:
    return dtype if dtype.startswith(("float", "complex")) else "float64"


__all__ = ["Lop", "Rop", "hessian", "jacobian"]
