"""Reductions over axes: sum, prod, max, min, all, any, argmax, argmin, and compositions.

A reduction is defined once with ``reduction(name, impl, identity, combine, dtype, grad)``;
``combine`` is the scalar template (``{acc}``, ``{x}``) the kernel generators inline.
``mean``, ``var``, ``std`` and ``logsumexp`` are compositions with no kernel of their own.

    >>> import astsym.tensor as T
    >>> T.matrix("x").sum(axis=0, keepdims=True).broadcastable
    (True, False)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from astsym.typecheck import RuleError, codes
from astsym.typecheck.dtypes import COMPLEXES, as_dtype, mean_dtype, sum_dtype, upcast_to_float
from astsym.typecheck.rules import normalize_axes, reduce_shape

from ..basic import Apply
from ..convert import as_tensor_variable, constant
from ..op import Op, located_error
from ..type import TensorType
from .create import broadcast_like
from .dimshuffle import expand_dims, squeeze_axes
from .elemwise import cast
from .grad_override import disconnected_grad
from .shape import shape_i


@dataclass(frozen=True)
class Reduction:
    name: str
    impl: Callable
    identity: str | None  # the scalar template of the neutral element; None: no identity
    combine: str  # scalar template: how an element joins the accumulator
    dtype: Callable[[str], str]
    grad: Callable | str  # grad(x, out, gz, axes) -> gx, or the reason there is none


REDUCTIONS: dict[str, Reduction] = {}


class Reduce(Op):
    """Reduce ``x`` over ``axes`` (a sorted tuple) with one of ``REDUCTIONS``."""

    props = ("kind", "axes", "keepdims", "dtype")

    def __init__(self, kind: str, axes: tuple[int, ...], keepdims: bool, dtype: str | None) -> None:
        self.kind, self.axes, self.keepdims, self.dtype = kind, tuple(axes), keepdims, dtype
        grad = REDUCTIONS[kind].grad
        self.no_grad_reason = grad if isinstance(grad, str) else None

    @property
    def reduction(self) -> Reduction:
        return REDUCTIONS[self.kind]

    @property
    def name(self) -> str:
        return self.kind

    @property
    def template(self) -> str:
        return self.reduction.combine

    def make_node(self, x):
        x = as_tensor_variable(x)
        out = reduce_shape(x.type.shape, self.axes, self.keepdims)
        dtype = self.dtype or self.reduction.dtype(x.dtype)
        return Apply(self, [x], [TensorType(dtype, shape=out)])

    def perform(self, node, inputs):
        (x,) = inputs
        kwargs = {"dtype": self.dtype} if self.dtype else {}
        try:
            out = self.reduction.impl(x, axis=self.axes, keepdims=self.keepdims, **kwargs)
        except ValueError as err:
            raise RuleError(
                codes.RUNTIME, f"{self.kind} of an array of shape {x.shape}: {err}"
            ) from None
        return [np.asarray(out, dtype=node.outputs[0].dtype)]

    def grad(self, node, output_grads):
        if isinstance(self.reduction.grad, str):
            return [None]
        (x,), (out,), (gz,) = node.inputs, node.outputs, output_grads
        if not self.keepdims:
            out, gz = expand_dims(out, self.axes), expand_dims(gz, self.axes)
        return [self.reduction.grad(x, out, gz)]

    def infer_shape(self, node, input_shapes):
        dims = input_shapes[0]
        if self.keepdims:
            return [tuple(1 if i in self.axes else d for i, d in enumerate(dims))]
        return [tuple(d for i, d in enumerate(dims) if i not in self.axes)]

    def __str__(self) -> str:
        axes = "" if self.axes is None else f"axis={self.axes}"
        return f"{self.kind}{{{axes}{', keepdims' if self.keepdims else ''}}}"


def reduction(name, impl, identity, combine, dtype, grad) -> Callable:
    """Define a reduction and return its user-facing function ``f(x, axis, keepdims)``."""
    REDUCTIONS[name] = Reduction(name, impl, identity, combine, dtype, grad)

    def reduce(x, axis=None, keepdims=False, dtype=None):
        x = as_tensor_variable(x)
        axes = _axes(name, axis, x.ndim)
        return Reduce(name, tuple(sorted(axes)), bool(keepdims), dtype and as_dtype(dtype))(x)

    reduce.__name__ = name
    reduce.__doc__ = f"``numpy.{name}`` over ``axis`` (None: all), optionally keeping dims."
    return reduce


_located = located_error


def _axes(name: str, axis, ndim: int) -> tuple[int, ...]:
    """``normalize_axes``; an axis out of range is a GraphTypeError (AS204) naming ``name``."""
    try:
        return normalize_axes(axis, ndim)
    except RuleError as err:
        raise _located(name, err) from None


def _prod_grad(x, out, gz):
    """d prod / dx_i = product of the others; exact with zeros (no division by zero)."""
    from .math import equal, where

    is_zero = equal(x, 0)
    zeros = sum_(is_zero, axis=_reduced_axes(x, out), keepdims=True)
    nonzero_prod = prod(where(is_zero, 1, x), axis=_reduced_axes(x, out), keepdims=True)
    no_zero = gz * out / where(is_zero, 1, x)
    one_zero = where(is_zero, gz * nonzero_prod, 0)
    return where(equal(zeros, 0), no_zero, where(equal(zeros, 1), one_zero, 0))


def _reduced_axes(x, out_keepdims) -> tuple[int, ...]:
    return tuple(
        i
        for i, (a, b) in enumerate(zip(x.broadcastable, out_keepdims.broadcastable))
        if b and not a
    )


def _extremum_grad(x, out, gz):
    """The gradient flows to every element equal to the extremum (Theano's rule)."""
    from .math import equal

    return gz * equal(x, out)


sum_ = reduction(
    "sum", np.sum, "0", "{acc} + {x}", sum_dtype, lambda x, out, gz: broadcast_like(gz, x)
)
prod = reduction("prod", np.prod, "1", "{acc} * {x}", sum_dtype, _prod_grad)
max_ = reduction("max", np.max, None, "max({acc}, {x})", lambda d: d, _extremum_grad)
min_ = reduction("min", np.min, None, "min({acc}, {x})", lambda d: d, _extremum_grad)
all_ = reduction("all", np.all, "true", "{acc} && {x}", lambda d: "bool", "boolean result")
any_ = reduction("any", np.any, "false", "{acc} || {x}", lambda d: "bool", "boolean result")
sum = sum_


class ArgReduce(Op):
    """``argmax`` / ``argmin`` along one axis (or the flattened array when None)."""

    props = ("kind", "axis", "keepdims")
    no_grad_reason = "an index is piecewise constant"

    def __init__(self, kind: str, axis: int | None, keepdims: bool) -> None:
        self.kind, self.axis, self.keepdims = kind, axis, keepdims

    @property
    def name(self) -> str:
        return self.kind

    def make_node(self, x):
        x = as_tensor_variable(x)
        if self.axis is None:
            out = (1,) * x.ndim if self.keepdims else ()
        else:
            out = reduce_shape(x.type.shape, self.axis, self.keepdims)
        return Apply(self, [x], [TensorType("int64", shape=out)])

    def perform(self, node, inputs):
        fn = np.argmax if self.kind == "argmax" else np.argmin
        try:
            out = fn(inputs[0], axis=self.axis, keepdims=self.keepdims)
        except ValueError as err:
            raise RuleError(codes.RUNTIME, f"{self.kind}: {err}") from None
        return [np.asarray(out, dtype="int64")]

    def grad(self, node, output_grads):
        return [None]

    def infer_shape(self, node, input_shapes):
        dims = input_shapes[0]
        if self.axis is None:
            return [(1,) * len(dims) if self.keepdims else ()]
        if self.keepdims:
            return [tuple(1 if i == self.axis else d for i, d in enumerate(dims))]
        return [tuple(d for i, d in enumerate(dims) if i != self.axis)]


def _arg(kind):
    def arg(x, axis=None, keepdims=False):
        x = as_tensor_variable(x)
        if axis is not None:
            axes = _axes(kind, axis, x.ndim)
            if len(axes) != 1:
                raise _located(kind, RuleError(codes.AXIS, f"takes one axis or None, got {axis}"))
            axis = axes[0]
        return ArgReduce(kind, axis, bool(keepdims))(x)

    arg.__name__ = kind
    arg.__doc__ = f"``numpy.{kind}``: the index of the first extreme element along ``axis``."
    return arg


argmax = _arg("argmax")
argmin = _arg("argmin")


def _count(x, axes):
    """The number of elements reduced over, an int64 scalar (a constant when static)."""
    dims = [x.type.shape[a] for a in axes]
    if all(isinstance(d, int) for d in dims):
        return constant(int(np.prod(dims, dtype=np.int64)), dtype="int64")
    total = constant(1, dtype="int64")
    for a in axes:
        total = total * shape_i(x, a)
    return total


def mean(x, axis=None, dtype=None, keepdims=False):
    """``numpy.mean``: integers average as float64."""
    x = as_tensor_variable(x)
    axes = _axes("mean", axis, x.ndim)
    out_dtype = as_dtype(dtype) if dtype else mean_dtype(x.dtype)
    total = sum_(cast(x, out_dtype), axis=axes, keepdims=keepdims)
    return total / cast(_count(x, axes), out_dtype)


def var(x, axis=None, ddof=0, keepdims=False, corrected=False):
    """``numpy.var`` (``corrected=True``, Theano's spelling, means ``ddof=1``); complex
    operands give the real mean of ``|x - mean|**2``."""
    from .math import abs as absolute
    from .math import maximum

    x = as_tensor_variable(x)
    axes = _axes("var", axis, x.ndim)
    ddof = 1 if corrected else ddof
    x = cast(x, mean_dtype(x.dtype))
    centered = x - mean(x, axis=axes, keepdims=True)
    if centered.dtype in COMPLEXES:
        centered = absolute(centered)
    total = sum_(centered * centered, axis=axes, keepdims=keepdims)
    # NumPy divides by max(n - ddof, 0): no more terms than elements gives NaN or inf
    return total / cast(maximum(_count(x, axes) - ddof, 0), total.dtype)


def std(x, axis=None, ddof=0, keepdims=False, corrected=False):
    """``numpy.std``."""
    from .math import sqrt

    _axes("std", axis, as_tensor_variable(x).ndim)
    return sqrt(var(x, axis=axis, ddof=ddof, keepdims=keepdims, corrected=corrected))


def logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x)))`` without overflow: the maximum is taken out first."""
    from .math import exp, isinf, log, where

    x = as_tensor_variable(x)
    x = cast(x, upcast_to_float(x.dtype))  # integers: no wrap-around in x - top
    axes = _axes("logsumexp", axis, x.ndim)
    top = disconnected_grad(max_(x, axis=axes, keepdims=True))  # the result does not vary
    top = where(isinf(top), 0, top)  # with it, so no gradient needs to flow through it
    out = log(sum_(exp(x - top), axis=axes, keepdims=True)) + top
    return out if keepdims else squeeze_axes(out, axes)


def norm(x, L=2, axis=None, keepdims=False):
    """The ``L``-norm over ``axis`` (all elements when None): ``sum(|x|^L)^(1/L)``.

    At a zero vector the gradient is 0 (a subgradient) rather than NaN: the root is taken
    of a value kept away from 0 in both directions of differentiation.
    """
    from .math import abs, equal, sqrt, where

    x = as_tensor_variable(x)
    if L == float("inf"):
        return max_(abs(x), axis=axis, keepdims=keepdims)
    if L == 1:
        return sum_(abs(x), axis=axis, keepdims=keepdims)
    total = sum_(x * x if L == 2 else abs(x) ** L, axis=axis, keepdims=keepdims)
    zero = equal(total, 0)
    safe = where(zero, 1, total)
    root = sqrt(safe) if L == 2 else safe ** (1.0 / L)
    return where(zero, 0, root)


def sum_to(g, like):
    """Sum ``g`` over the dims that broadcasting added to ``like``'s type (leading dims, and
    dims that are 1 in ``like`` but not in ``g``), so the result has ``like``'s shape."""
    extra = g.ndim - like.ndim
    if extra < 0:
        raise RuleError(codes.RANK, f"cannot sum {g.type.short()} to {like.type.short()}")
    axes = list(range(extra)) + [
        extra + i for i, b in enumerate(like.broadcastable) if b and not g.broadcastable[extra + i]
    ]
    if axes:
        g = sum_(g, axis=tuple(axes), keepdims=True)
    if extra:
        g = squeeze_axes(g, range(extra))
    return g
