"""The IR: ``Variable``s connected by ``Apply`` nodes of ``Op``s.

>>> import astsym.tensor as T
>>> x = T.dmatrix("x"); y = T.dmatrix("y"); z = x + y
>>> z.owner.op.name, z.owner.inputs == [x, y], x.owner is None
('add', True, True)
"""

from __future__ import annotations

import types

import numpy as np

from .operators import TensorOperators
from .source import capture_span, resolve_span
from .type import TensorType, Type

#: The runtime's ``function``, registered when the runtime is imported (graph must not
#: import runtime: layers point one way).
_compiler = None


def register_compiler(function) -> None:
    global _compiler
    _compiler = function


class Variable(TensorOperators):
    """A symbolic value: its ``type``, and the ``owner`` Apply node that computes it (if any)."""

    def __init__(
        self,
        type: Type,
        owner: Apply | None = None,
        index: int | None = None,
        name: str | None = None,
    ) -> None:
        self.type = type
        self.owner = owner
        self.index = index
        self.name = name
        self.tag = types.SimpleNamespace()
        self._span = None if owner is not None else capture_span()

    @property
    def span(self):
        """The user's source span that created this variable (its node's, if it has one)."""
        if self.owner is not None:
            return self.owner.span
        self._span = resolve_span(self._span)
        return self._span

    @span.setter
    def span(self, value) -> None:
        self._span = value

    @property
    def ndim(self) -> int:
        return self.type.ndim

    @property
    def dtype(self) -> str:
        return self.type.dtype

    @property
    def broadcastable(self) -> tuple[bool, ...]:
        return self.type.broadcastable

    @property
    def static_shape(self):
        """The type's dims: ints, names or None (``x.shape`` is the symbolic shape)."""
        return self.type.shape

    def clone(self) -> Variable:
        """A new variable of the same type and name, with no owner."""
        return type(self)(self.type, name=self.name)

    def __repr__(self) -> str:
        return str(self)

    def __str__(self) -> str:
        if self.name is not None:
            return self.name
        if self.owner is not None:
            op = self.owner.op
            return f"{op}.{self.index}" if len(self.owner.outputs) > 1 else f"{op}.0"
        return f"<{self.type}>"

    def __getstate__(self):
        state = self.__dict__.copy()
        state["tag"] = types.SimpleNamespace(
            **{k: v for k, v in vars(self.tag).items() if k != "eval_cache"}
        )
        return state

    def eval(self, inputs_to_values: dict | None = None):
        """Compute the value, given values for the graph's inputs (compiled once, cached)."""
        if _compiler is None:
            raise RuntimeError("eval() needs the runtime: import astsym first")
        function = _compiler
        inputs_to_values = inputs_to_values or {}
        inputs = list(inputs_to_values)
        cache = self.tag.__dict__.setdefault("eval_cache", {})
        key = tuple(id(v) for v in inputs)
        if key not in cache:
            cache[key] = function(inputs, self, on_unused_input="ignore")
        return cache[key](*inputs_to_values.values())


class Constant(Variable):
    """A variable with a fixed value; its data is read-only."""

    def __init__(self, type: Type, data, name: str | None = None) -> None:
        super().__init__(type, name=name)
        array = type.filter(data, allow_downcast=True) if isinstance(type, TensorType) else data
        if isinstance(array, np.ndarray):
            array = array.copy() if array.flags.writeable else array
            array.setflags(write=False)
        self.data = array

    @property
    def value(self):
        return self.data

    def clone(self) -> Constant:
        return Constant(self.type, self.data, self.name)

    def __str__(self) -> str:
        if self.name is not None:
            return self.name
        if isinstance(self.data, np.ndarray) and self.data.size <= 8:
            text = np.array2string(self.data, separator=", ")
            return text if self.data.ndim else str(self.data.item())
        return f"TensorConstant{{{self.type.short()}}}"


class Apply:
    """One application of an ``op`` to ``inputs``, producing ``outputs``.

    The node remembers the user's source line that built it (``span``).
    """

    def __init__(self, op, inputs: list[Variable], output_types: list[Type]) -> None:
        self.op = op
        self.inputs = list(inputs)
        self._span = capture_span()
        self.outputs = [t.make_variable(owner=self, index=i) for i, t in enumerate(output_types)]

    @property
    def span(self):
        """The user's source span that built this node."""
        self._span = resolve_span(self._span)
        return self._span

    @span.setter
    def span(self, value) -> None:
        self._span = value

    @property
    def out(self) -> Variable:
        """The single output (Theano's ``default_output``)."""
        if len(self.outputs) != 1:
            raise ValueError(f"{self.op} has {len(self.outputs)} outputs; use .outputs")
        return self.outputs[0]

    @property
    def nin(self) -> int:
        return len(self.inputs)

    @property
    def nout(self) -> int:
        return len(self.outputs)

    def clone_with_new_inputs(self, inputs: list[Variable]) -> Apply:
        """The same op on new inputs of the same types (keeps the span)."""
        node = Apply.__new__(Apply)
        node.op, node.inputs, node._span = self.op, list(inputs), self._span
        node.outputs = [
            old.type.make_variable(old.name, owner=node, index=i)
            for i, old in enumerate(self.outputs)
        ]
        return node

    def __repr__(self) -> str:
        return f"{self.op}({', '.join(str(i) for i in self.inputs)})"
