"""The ``py`` backend: run each node's NumPy reference (``perform``) in schedule order.

It is the oracle the compiled backends are tested against, so it also checks that every
value an op produces has the dtype and rank its node's type promises.
"""

from __future__ import annotations

import numpy as np

from astsym.graph.fg import FunctionGraph
from astsym.graph.type import TensorType
from astsym.typecheck import GraphRuntimeError, RuleError, codes
from astsym.typecheck.diagnostics import error


class PyProgram:
    """A schedule of nodes reading and writing a flat list of value slots."""

    def __init__(self, fg: FunctionGraph, slots: dict[int, int]) -> None:
        self.slots = slots
        self.steps = []
        for node in fg.toposort():
            ins = [self._slot(v) for v in node.inputs]
            outs = [self._slot(v) for v in node.outputs]
            self.steps.append((node, ins, outs))
        self.n_slots = len(slots)

    def _slot(self, var) -> int:
        return self.slots.setdefault(id(var), len(self.slots))

    def run(self, storage: list) -> None:
        for node, ins, outs in self.steps:
            values = [storage[i] for i in ins]
            try:
                results = node.op.perform(node, values)
            except Exception as err:  # noqa: BLE001 - every failure is reported at the node
                raise_with_node(node, values, err)
            for slot, var, value in zip(outs, node.outputs, results):
                _check_result(node, var, value)
                storage[slot] = value


def raise_with_node(node, values, err: Exception):
    """Re-raise ``err`` as an error naming the op, the user's line and the operands."""
    code = err.code if isinstance(err, RuleError) else codes.RUNTIME
    message = err.message if isinstance(err, RuleError) else f"{type(err).__name__}: {err}"
    operands = ", ".join(_describe(v, x) for v, x in zip(node.inputs, values))
    notes = (f"operands: {operands}",) + (err.notes if isinstance(err, RuleError) else ())
    raise GraphRuntimeError(error(code, f"{node.op}: {message}", node.span, notes)) from err


def _describe(var, value) -> str:
    if isinstance(value, np.ndarray):
        return f"{var.type.short()} with shape {value.shape}"
    return var.type.short()


def _check_result(node, var, value) -> None:
    if not isinstance(var.type, TensorType):
        return
    if (
        not isinstance(value, np.ndarray)
        or value.dtype.name != var.type.dtype
        or (value.ndim != var.type.ndim)
    ):
        got = f"{type(value).__name__} {getattr(value, 'dtype', '')} rank {np.ndim(value)}"
        raise AssertionError(f"op {node.op} produced {got}, but its node promises {var.type}")
