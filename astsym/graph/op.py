"""The ``Op`` base class and the registry every op joins by being defined.

An op holds, side by side: its name and parameters (``props``), ``make_node`` (the
type/shape rule, in ``typecheck`` terms), ``perform`` (the NumPy reference), ``grad``
(which builds graph nodes) and ``infer_shape``. Elementwise and reduction ops add the scalar
template that kernel generators inline (see ``ops/elemwise.py``, ``ops/reduce.py``).
"""

from __future__ import annotations

import functools
from typing import ClassVar

from astsym.typecheck import GraphTypeError, RuleError
from astsym.typecheck.diagnostics import error

from .source import current_span

#: Every concrete Op class, by name; filled by ``Op.__init_subclass__``.
OP_CLASSES: dict[str, type[Op]] = {}

#: Marks an op (or one of its inputs) as having no gradient, with the reason.
NOT_DIFFERENTIABLE = "not differentiable"


class NullGrad:
    """Returned by an op's ``grad`` for an input whose gradient is undefined (a random
    draw's parameters): ``grad`` reports it, unlike a disconnected input (``None``)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"NullGrad({self.reason!r})"


class Op:
    """An operation. Subclasses set ``props`` (the parameters that define equality)."""

    props: ClassVar[tuple[str, ...]] = ()
    #: ``None`` when the op has a ``grad`` method, else the reason it has none.
    no_grad_reason: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):
            OP_CLASSES[cls.__name__] = cls

    # -- the parts every op defines -------------------------------------------------
    def make_node(self, *inputs):
        """Check the inputs' types and return the ``Apply`` node (raise RuleError if bad)."""
        raise NotImplementedError

    def perform(self, node, inputs: list) -> list:
        """The NumPy reference: compute the outputs' values from the inputs' values."""
        raise NotImplementedError

    def grad(self, node, output_grads: list) -> list:
        """Gradients of a cost with respect to each input, given those of the outputs.

        An entry of ``None`` means the input is disconnected (no gradient flows: integer
        inputs, piecewise-constant ops); a ``NullGrad`` means the gradient is undefined.
        """
        raise NotImplementedError(f"{self} has no gradient: {self.no_grad_reason}")

    def infer_shape(self, node, input_shapes: list) -> list:
        """The symbolic shapes (tuples of int scalar variables) of the outputs."""
        raise NotImplementedError

    # -- shared behaviour ------------------------------------------------------------
    def __call__(self, *inputs):
        node = self.apply(*inputs)
        return node.outputs[0] if len(node.outputs) == 1 else node.outputs

    def apply(self, *inputs):
        """``make_node`` with rule failures turned into located errors naming the op."""
        try:
            return self.make_node(*inputs)
        except RuleError as err:
            located = located_error(self.name, err)
            located.operands = _operands(inputs)
            raise located from None

    @property
    def name(self) -> str:
        return type(self).__name__.lower()

    def _key(self) -> tuple:
        return (type(self),) + tuple(_hashable(getattr(self, p)) for p in self.props)

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other._key() == self._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        if not self.props:
            return self.name
        params = ", ".join(f"{p}={getattr(self, p)!r}" for p in self.props if p != "name")
        return f"{self.name}{{{params}}}" if params else self.name

    __repr__ = __str__


def located_error(name: str, err: RuleError) -> GraphTypeError:
    """A rule's error as an error for the user: at the user's line, naming ``name``.

    Rules shared with the linter may already name the op ("matmul: inner dims ...").
    """
    named = not name or err.message.startswith(f"{name}:")
    message = err.message if named else f"{name}: {err.message}"
    located = GraphTypeError(error(err.code, message, current_span(), err.notes))
    located.op = name
    return located


def _operands(inputs) -> tuple:
    """The inputs that are graph variables (for reports of a failed op)."""
    from .basic import Variable

    return tuple(x for x in inputs if isinstance(x, Variable))


def user_function(fn):
    """Wrap a graph-building function so a failing rule reaches the user as a located
    ``GraphTypeError`` naming the function, wherever inside it the rule failed."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except RuleError as err:
            located = located_error(getattr(fn, "error_label", fn.__name__), err)
            located.operands = _operands(args)
            raise located from None

    return wrapper


def _hashable(value):
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value
