"""The ``stabilize`` rules: rewrite expressions that overflow or cancel into forms that
do not, as Theano did for the logistic-regression tutorial.

They run when a function is compiled, and ``grad`` differentiates the stabilized form of
the cost, so the gradients of ``log(1 / (1 + exp(-z)))`` are those of ``-softplus(-z)``.
"""

from __future__ import annotations

import numpy as np

from .basic import Constant
from .ops import Subtensor
from .ops import math as m
from .rewrite import rule


def _is_const(var, value) -> bool:
    return isinstance(var, Constant) and var.ndim == 0 and bool(np.all(var.data == value))


def _op_input(var, op):
    """The single input of ``var`` when ``var = op(input)``, else None."""
    owner = var.owner
    if owner is not None and owner.op is op:
        return owner.inputs[0]
    return None


def _one_plus(var):
    """``e`` when ``var`` is ``1 + e`` or ``e + 1``, else None."""
    owner = var.owner
    if owner is None or owner.op is not m.add:
        return None
    a, b = owner.inputs
    return b if _is_const(a, 1) else a if _is_const(b, 1) else None


@rule(m.true_divide, group="stabilize")
def sigmoid_from_formula(node):
    """1 / (1 + exp(e)) -> sigmoid(-e)."""
    if not _is_const(node.inputs[0], 1):
        return None
    inner = _one_plus(node.inputs[1])
    e = _op_input(inner, m.exp) if inner is not None else None
    return None if e is None else [m.sigmoid(_negate(e))]


@rule(m.log, group="stabilize")
def log_of_sigmoid(node):
    """log(sigmoid(x)) -> -softplus(-x)."""
    x = _op_input(node.inputs[0], m.sigmoid)
    return None if x is None else [-m.softplus(_negate(x))]


@rule(m.log, group="stabilize")
def log_of_one_minus_sigmoid(node):
    """log(1 - sigmoid(x)) -> -softplus(x)."""
    owner = node.inputs[0].owner
    if owner is None or owner.op is not m.subtract or not _is_const(owner.inputs[0], 1):
        return None
    x = _op_input(owner.inputs[1], m.sigmoid)
    return None if x is None else [-m.softplus(x)]


@rule(m.log, group="stabilize")
def log_of_exp_ratio(node):
    """log(exp(a) / b) -> a - log(b): log(softmax(x)) without exp overflow or log(0)."""
    owner = node.inputs[0].owner
    if owner is None or owner.op is not m.true_divide:
        return None
    a = _op_input(owner.inputs[0], m.exp)
    return None if a is None else [a - m.log(owner.inputs[1])]


@rule(m.log, group="stabilize")
def log_of_indexed_exp_ratio(node):
    """log((exp(a) / b)[index]) -> (a - log(b))[index]: cross-entropy of a softmax with
    integer targets, without log(0) when a probability underflows."""
    owner = node.inputs[0].owner
    if owner is None or not isinstance(owner.op, Subtensor):
        return None
    ratio = owner.inputs[0].owner
    if ratio is None or ratio.op is not m.true_divide:
        return None
    a = _op_input(ratio.inputs[0], m.exp)
    if a is None:
        return None
    return [owner.op(a - m.log(ratio.inputs[1]), *owner.inputs[1:])]


@rule(m.log, group="stabilize")
def log1p_from_log(node):
    """log(1 + x) -> log1p(x), exact for small x."""
    x = _one_plus(node.inputs[0])
    return None if x is None else [m.log1p(x)]


@rule(m.subtract, group="stabilize")
def expm1_from_exp(node):
    """exp(x) - 1 -> expm1(x), exact for small x."""
    if not _is_const(node.inputs[1], 1):
        return None
    x = _op_input(node.inputs[0], m.exp)
    return None if x is None else [m.expm1(x)]


@rule(m.negative, group="canonicalize")
def double_negation(node):
    """-(-x) -> x."""
    x = _op_input(node.inputs[0], m.negative)
    return None if x is None else [x]


def _negate(x):
    inner = _op_input(x, m.negative)
    return inner if inner is not None else -x


def _identity_when(node, const_position: int, value):
    """The other operand of a binary node when operand ``const_position`` is ``value``."""
    if _is_const(node.inputs[const_position], value):
        return [node.inputs[1 - const_position]]
    return None


@rule(m.power, group="canonicalize")
def power_one(node):
    """x ** 1 -> x."""
    return _identity_when(node, 1, 1)


@rule(m.multiply, group="canonicalize")
def multiply_one(node):
    """x * 1 -> x; 1 * x -> x."""
    return _identity_when(node, 1, 1) or _identity_when(node, 0, 1)


@rule(m.add, group="canonicalize")
def add_zero(node):
    """x + 0 -> x; 0 + x -> x."""
    return _identity_when(node, 1, 0) or _identity_when(node, 0, 0)


@rule(m.subtract, group="canonicalize")
def subtract_zero(node):
    """x - 0 -> x."""
    return _identity_when(node, 1, 0)


@rule(m.true_divide, group="canonicalize")
def divide_one(node):
    """x / 1 -> x."""
    return _identity_when(node, 1, 1)
