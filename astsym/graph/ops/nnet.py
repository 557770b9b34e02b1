"""Neural-network functions, as compositions of primitives (no kernels of their own).

>>> import astsym.tensor as T
>>> softmax(T.matrix("x")).type
TensorType(float64, matrix)
"""

from __future__ import annotations

from astsym.typecheck import RuleError, codes
from astsym.typecheck.dtypes import INTEGERS

from ..convert import as_tensor_variable
from .create import arange
from .grad_override import disconnected_grad
from .math import exp, log, sigmoid, softplus, where
from .reduce import logsumexp, max_, sum_
from .shape import shape_i

__all__ = [
    "binary_crossentropy",
    "categorical_crossentropy",
    "log_softmax",
    "relu",
    "sigmoid",
    "softmax",
    "softplus",
]


def softmax(x, axis: int = -1):
    """``exp(x) / sum(exp(x))`` along ``axis`` (the last, as Theano's rows), with the
    maximum subtracted first so large inputs do not overflow."""
    x = as_tensor_variable(x)
    e = exp(x - disconnected_grad(max_(x, axis=axis, keepdims=True)))  # softmax is shift-free
    return e / sum_(e, axis=axis, keepdims=True)


def log_softmax(x, axis: int = -1):
    """``log(softmax(x))`` computed stably as ``x - logsumexp(x)``."""
    x = as_tensor_variable(x)
    return x - logsumexp(x, axis=axis, keepdims=True)


def relu(x, alpha=0):
    """``max(x, 0)``, or a leaky ReLU with slope ``alpha`` below zero."""
    x = as_tensor_variable(x)
    return where(x > 0, x, x * alpha if alpha else 0)


def binary_crossentropy(output, target):
    """``-(target * log(output) + (1 - target) * log(1 - output))``, elementwise."""
    return -(target * log(output) + (1 - target) * log(1 - output))


def sigmoid_binary_crossentropy(logits, target):
    """Binary cross-entropy from logits: ``softplus(x) - target * x``, stable for any x."""
    return softplus(logits) - target * logits


def categorical_crossentropy(coding_dist, true_dist):
    """Cross-entropy of each row: ``-sum(true * log(coding))``; an int vector ``true_dist``
    gives the class index of each row (``-log(coding[i, true[i]])``)."""
    coding_dist = as_tensor_variable(coding_dist)
    true_dist = as_tensor_variable(true_dist)
    if true_dist.ndim == coding_dist.ndim:
        return -sum_(true_dist * log(coding_dist), axis=coding_dist.ndim - 1)
    if true_dist.ndim == coding_dist.ndim - 1 and true_dist.dtype in INTEGERS:
        rows = arange(shape_i(coding_dist, 0))
        return -log(coding_dist[rows, true_dist])
    raise RuleError(
        codes.RANK,
        f"categorical_crossentropy of {coding_dist.type.short()} with "
        f"{true_dist.type.short()}: targets must be one-hot rows or "
        "an int vector of class indices",
    )
