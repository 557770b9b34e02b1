"""Every op fills every field of its definition, or says explicitly why it has none."""

from __future__ import annotations

import importlib
import pickle
import pkgutil
import string

import numpy as np
import pytest

import astsym.graph
from astsym.graph.op import OP_CLASSES, Op
from astsym.graph.ops import ELEMWISE, REDUCTIONS, Cast
from astsym.graph.ops.reduce import Reduce
from astsym.graph.type import TensorType
from astsym.typecheck import RuleError
from astsym.typecheck.dtypes import ALL

# Importing every module of the graph package defines (and so registers) every op class.
for _module in pkgutil.walk_packages(astsym.graph.__path__, "astsym.graph."):
    importlib.import_module(_module.name)

#: Op classes with no ``infer_shape``, each with the reason (none so far).
NO_INFER_SHAPE: dict[str, str] = {}


def _overrides(cls: type, method: str) -> bool:
    return getattr(cls, method) is not getattr(Op, method)


def _fields(template: str) -> list[str]:
    return [field for _, field, _, _ in string.Formatter().parse(template) if field is not None]


def test_the_registries_are_filled():
    assert {"Elemwise", "Reduce", "Cast", "MatMul", "DimShuffle"} <= set(OP_CLASSES)
    assert {"exp", "add", "where"} <= set(ELEMWISE)
    assert {"sum", "max", "all"} <= set(REDUCTIONS)


@pytest.mark.parametrize("name", sorted(OP_CLASSES))
def test_op_class_fills_every_field(name):
    cls = OP_CLASSES[name]
    assert issubclass(cls, Op) and cls.__name__ == name
    assert (cls.__doc__ or "").strip(), f"{name} has no docstring"
    assert _overrides(cls, "make_node"), f"{name} has no type rule (make_node)"
    assert _overrides(cls, "perform"), f"{name} has no NumPy reference (perform)"
    assert _overrides(cls, "infer_shape") or NO_INFER_SHAPE.get(name), f"{name}: no infer_shape"
    reason = cls.no_grad_reason
    assert reason is None or (isinstance(reason, str) and reason.strip())
    assert _overrides(cls, "grad") or reason, f"{name}: no gradient and no reason for none"


@pytest.mark.parametrize("name", sorted(ELEMWISE))
def test_elementwise_op_fills_every_field(name):
    op = ELEMWISE[name]
    assert op.name == name and op.nin >= 1 and callable(op.impl)
    assert isinstance(op.template, str) and op.template.strip(), f"{name} has no kernel template"
    fields = _fields(op.template)
    assert all(f.isdigit() for f in fields), f"{name}: template fields {fields}"
    assert {int(f) for f in fields} == set(range(op.nin)), f"{name}: {op.template!r}, nin {op.nin}"
    op.template.format(*[f"x{i}" for i in range(op.nin)])
    if isinstance(op.grad_rule, str):
        assert op.grad_rule.strip() and op.no_grad_reason == op.grad_rule
    else:
        assert callable(op.grad_rule) and op.no_grad_reason is None
    doc = (op.__doc__ or "").strip()
    assert doc, f"{name} has no docstring"
    if doc == f"Elementwise ``{name}``, as ``numpy.{name}``.":  # the default docstring
        assert hasattr(np, name), f"{name}: the default docstring is untrue"


@pytest.mark.parametrize("name", sorted(ELEMWISE))
def test_elementwise_gradient_rule_gives_one_entry_per_operand(name):
    op = ELEMWISE[name]
    try:
        dtype = op.output_dtype(("float64",) * op.nin) and "float64"
    except RuleError:  # integer-only ops (bitwise)
        dtype = "int64"
    operands = [TensorType(dtype, shape=(None,))(f"x{i}") for i in range(op.nin)]
    node = op(*operands).owner
    grads = op.grad(node, [TensorType("float64", shape=(None,))("gz")])
    assert len(grads) == op.nin
    for g in grads:
        assert g is None or hasattr(g, "type")
    if op.no_grad_reason is not None:
        assert grads == [None] * op.nin


@pytest.mark.parametrize("name", sorted(ELEMWISE))
def test_elementwise_op_pickles_to_itself(name):
    assert pickle.loads(pickle.dumps(ELEMWISE[name])) is ELEMWISE[name]


def test_cast_fills_every_field():
    for dtype in ALL:
        op = Cast(dtype)
        assert op.nin == 1 and _fields(op.template) == ["0"]
        assert pickle.loads(pickle.dumps(op)) == op
        assert op.output_dtype(("float64",)) == dtype


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_fills_every_field(name):
    red = REDUCTIONS[name]
    assert red.name == name and callable(red.impl) and callable(red.dtype)
    assert set(_fields(red.combine)) == {"acc", "x"}, f"{name}: combine {red.combine!r}"
    assert red.identity is None or (isinstance(red.identity, str) and red.identity.strip())
    assert not red.identity or _fields(red.identity) == []
    for dtype in ALL:
        assert red.dtype(dtype) in ALL, f"{name}({dtype}) gives {red.dtype(dtype)}"
    op = Reduce(name, (0,), False, None)
    assert op.template == red.combine
    if isinstance(red.grad, str):
        assert red.grad.strip() and op.no_grad_reason == red.grad
    else:
        assert callable(red.grad) and op.no_grad_reason is None
