"""Running a graph by calling each node's NumPy reference (``perform``).

This is the ``py`` backend's engine (the oracle every compiled backend is tested against)
and how structured ops such as ``scan`` run their inner graphs on it. Graphs without lazy
ops run in schedule order; a graph with a lazy op (``ifelse``) is evaluated on demand from
its outputs, so nodes needed only by the branch not taken never run.
"""

from __future__ import annotations

import numpy as np

from astsym.typecheck import GraphRuntimeError, RuleError, codes
from astsym.typecheck.diagnostics import error

from .fg import FunctionGraph
from .type import TensorType, is_device_array


class Program:
    """A schedule of a graph's nodes over a flat list of value slots.

    ``slots`` maps variable ids to slot numbers; the graph's inputs should come first.
    """

    def __init__(self, fg: FunctionGraph, slots: dict[int, int] | None = None) -> None:
        self.slots = dict(slots) if slots is not None else {}
        for var in fg.inputs:
            self.slot(var)
        self.steps = []
        self.producer: dict[int, int] = {}
        for node in fg.toposort():
            ins = [self.slot(v) for v in node.inputs]
            outs = [self.slot(v) for v in node.outputs]
            for s in outs:
                self.producer[s] = len(self.steps)
            self.steps.append((node, ins, outs))
        self.lazy = any(getattr(node.op, "lazy", False) for node, _, _ in self.steps)
        self.output_slots = [self.slot(v) for v in fg.outputs]
        self.constants = {self.slots[id(v)]: v.data for v in _constants(fg)}

    def slot(self, var) -> int:
        return self.slots.setdefault(id(var), len(self.slots))

    def new_storage(self) -> list:
        storage = [None] * len(self.slots)
        for s, value in self.constants.items():
            storage[s] = value
        return storage

    def run(self, storage: list) -> None:
        """Fill ``storage`` (inputs already set) with the values the outputs need.

        NumPy's floating-point warnings are off, as in a compiled kernel: overflow gives
        inf and 0/0 gives NaN, silently (the values are what NumPy computes).
        """
        with np.errstate(all="ignore"):
            if self.lazy:
                self._run_on_demand(storage)
                return
            for node, ins, outs in self.steps:
                self._perform(node, [storage[i] for i in ins], outs, storage)

    def _perform(self, node, values, outs, storage) -> None:
        try:
            results = node.op.perform(node, values)
        except GraphRuntimeError:
            raise
        except Exception as err:  # noqa: BLE001 - every failure is reported at its node
            raise_with_node(node, values, err)
        for slot, var, value in zip(outs, node.outputs, results):
            _check_result(node, var, value)
            storage[slot] = value

    def _run_on_demand(self, storage: list) -> None:
        done = [False] * len(storage)
        for s, value in enumerate(storage):
            done[s] = value is not None and s not in self.producer
        stack = [self.producer[s] for s in self.output_slots if s in self.producer]
        finished: set[int] = set()
        while stack:
            step = stack[-1]
            if step in finished:
                stack.pop()
                continue
            node, ins, outs = self.steps[step]
            wanted = _wanted_inputs(node, ins, storage, done)
            missing = [ins[i] for i in wanted if not done[ins[i]]]
            if missing:
                stack.extend(self.producer[s] for s in missing)
                continue
            values = [storage[s] if i in wanted else None for i, s in enumerate(ins)]
            self._perform(node, values, outs, storage)
            for s in outs:
                done[s] = True
            finished.add(step)
            stack.pop()


def _wanted_inputs(node, ins, storage, done) -> list[int]:
    """The input positions a node needs now: all of them, or what a lazy op asks for."""
    if not getattr(node.op, "lazy", False):
        return list(range(len(ins)))
    return node.op.needed_inputs(node, lambda i: storage[ins[i]] if done[ins[i]] else None)


def _constants(fg: FunctionGraph):
    from .basic import Constant

    seen = {}
    for node in fg.toposort():
        for var in node.inputs:
            if isinstance(var, Constant):
                seen[id(var)] = var
    for var in fg.outputs:
        if isinstance(var, Constant):
            seen[id(var)] = var
    return list(seen.values())


def raise_with_node(node, values, err: Exception):
    """Re-raise ``err`` as an error naming the op, the user's line and the operands."""
    code = err.code if isinstance(err, RuleError) else codes.RUNTIME
    message = err.message if isinstance(err, RuleError) else f"{type(err).__name__}: {err}"
    operands = ", ".join(_describe(v, x) for v, x in zip(node.inputs, values))
    notes = (f"operands: {operands}",) + (err.notes if isinstance(err, RuleError) else ())
    failure = GraphRuntimeError(error(code, f"{node.op}: {message}", node.span, notes))
    failure.op, failure.operands, failure.node = str(node.op), tuple(node.inputs), node
    raise failure from err


def _describe(var, value) -> str:
    if isinstance(value, np.ndarray) or is_device_array(value):
        return f"{var.type.short()} with shape {value.shape}"
    return var.type.short()


def _check_result(node, var, value) -> None:
    var_type = var.type
    if not isinstance(var_type, TensorType):
        return
    if (
        not isinstance(value, np.ndarray)
        or value.dtype != var_type.numpy_dtype
        or value.ndim != len(var_type.shape)
    ):
        got = f"{type(value).__name__} {getattr(value, 'dtype', '')} rank {np.ndim(value)}"
        raise AssertionError(f"op {node.op} produced {got}, but its node promises {var.type}")
