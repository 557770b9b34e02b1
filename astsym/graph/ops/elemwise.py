"""Elementwise ops: NumPy broadcasting over the operands, one scalar expression per element.

An elementwise op is defined once with ``elementwise(name, impl, template, grad)``:

- ``impl``: the NumPy reference (a ufunc or a function of arrays); the output dtype is the
  one NumPy gives for the operands' dtypes, so the graph agrees with NumPy exactly;
- ``template``: the scalar expression the CPU and GPU kernel generators inline. ``{0}``,
  ``{1}``... are the operands; infix ``+ - * /``, comparisons and unary ``-`` mean what they
  mean in C; everything else is a call into the kernels' scalar vocabulary (``exp``, ``log1p``,
  ``select(c, a, b)``, ``floor_div``, ``py_mod``, ``pow``, ``logical_and`` ...).
- ``grad``: ``grad(*inputs, out, gz) -> [one gradient per input]``, built from graph ops;
  or ``PIECEWISE_CONSTANT`` / ``NOT_DIFFERENTIABLE`` (the inputs are disconnected).

    >>> cube = elementwise("cube", lambda x: x**3, "{0} * {0} * {0}",
    ...                    lambda x, out, gz: [gz * 3 * x * x])
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from astsym.typecheck import RuleError, codes
from astsym.typecheck.dtypes import as_dtype, can_cast_safely, is_continuous
from astsym.typecheck.shapes import broadcast_shapes

from ..basic import Apply
from ..convert import as_operands
from ..op import NOT_DIFFERENTIABLE, Op
from ..type import TensorType

#: Ops whose value is locally constant (floor, comparisons): gradient zero, disconnected.
PIECEWISE_CONSTANT = "piecewise constant"

#: Every elementwise op, by name.
ELEMWISE: dict[str, Elemwise] = {}


class Elemwise(Op):
    """An elementwise op over broadcast operands (see the module docstring)."""

    props = ("name",)

    def __init__(
        self, name: str, impl: Callable, template: str | None, grad, nin: int, doc: str = ""
    ) -> None:
        self._name = name
        self.impl = impl
        self.template = template
        self.grad_rule = grad
        self.nin = nin
        self.no_grad_reason = grad if isinstance(grad, str) else None
        self._dtypes: dict[tuple, str] = {}
        self.__doc__ = doc or f"Elementwise ``{name}``, as ``numpy.{name}``."

    @property
    def name(self) -> str:
        return self._name

    def __reduce__(self):
        return (_lookup, (self._name,))

    def make_node(self, *inputs) -> Apply:
        if len(inputs) != self.nin:
            raise RuleError(codes.BAD_ARGUMENT, f"takes {self.nin} operands, got {len(inputs)}")
        inputs = as_operands(inputs)
        shape = broadcast_shapes([i.type.shape for i in inputs], [i.dtype for i in inputs])
        dtype = self.output_dtype(tuple(i.dtype for i in inputs))
        return Apply(self, inputs, [TensorType(dtype, shape=shape)])

    def output_dtype(self, dtypes: tuple[str, ...]) -> str:
        """The dtype NumPy's own implementation gives for operands of ``dtypes``."""
        if dtypes not in self._dtypes:
            probes = [np.ones((), d) for d in dtypes]
            try:
                with np.errstate(all="ignore"):
                    out = np.asarray(self.impl(*probes))
            except TypeError:
                shown = ", ".join(dtypes)
                raise RuleError(
                    codes.BAD_ARGUMENT, f"not defined for operands of {shown}"
                ) from None
            self._dtypes[dtypes] = out.dtype.name
        return self._dtypes[dtypes]

    def perform(self, node, inputs):
        check_runtime_broadcast(node, inputs)
        out = self.impl(*inputs)  # the evaluator silences NumPy's warnings for the whole run
        return [np.asarray(out, dtype=node.outputs[0].type.numpy_dtype)]

    def grad(self, node, output_grads):
        if isinstance(self.grad_rule, str):
            return [None] * len(node.inputs)
        return list(self.grad_rule(*node.inputs, node.outputs[0], output_grads[0]))

    def infer_shape(self, node, input_shapes):
        ndim = node.outputs[0].ndim
        dims = []
        for axis in range(ndim):
            dim = 1
            for var, shape in zip(node.inputs, input_shapes):
                offset = axis - (ndim - var.ndim)
                if offset >= 0 and var.type.shape[offset] != 1:
                    dim = shape[offset]
                    break
            dims.append(dim)
        return [tuple(dims)]


def check_runtime_broadcast(node, values) -> None:
    """Dims not marked broadcastable must agree exactly at run time (never stretch)."""
    ndim = node.outputs[0].ndim
    if ndim == 0 or len(values) < 2:
        return
    for axis in range(ndim):
        size = None
        for var, value in zip(node.inputs, values):
            offset = axis - (ndim - var.ndim)
            if offset < 0 or var.type.shape[offset] == 1:
                continue
            got = value.shape[offset]
            if size is None:
                size = got
            elif got != size:
                shapes = " and ".join(str(np.shape(v)) for v in values)
                raise RuleError(
                    codes.RUNTIME,
                    f"operands of shapes {shapes} differ in dim {axis} ({size} vs {got}), "
                    "which is not marked broadcastable",
                    (
                        "give the dim static size 1 (T.row/T.col, broadcastable=, or an "
                        "annotation of 1) to broadcast it",
                    ),
                )


def elementwise(
    name: str, impl: Callable, template: str | None, grad, nin: int = 1, doc: str = ""
) -> Elemwise:
    """Define and register an elementwise op."""
    if name in ELEMWISE:
        raise ValueError(f"elementwise op {name!r} is defined twice")
    op = Elemwise(name, impl, template, grad, nin, doc)
    ELEMWISE[name] = op
    return op


def _lookup(name: str) -> Elemwise:
    return ELEMWISE[name]


class Cast(Elemwise):
    """Convert to ``dtype`` (``x.astype(dtype)``); float-to-int truncates as NumPy does."""

    props = ("dtype",)

    def __init__(self, dtype: str) -> None:
        self.dtype = as_dtype(dtype)
        super().__init__(f"cast_{self.dtype}", None, "{0}", None, 1)

    def __reduce__(self):
        return (Cast, (self.dtype,))

    def output_dtype(self, dtypes):
        return self.dtype

    def perform(self, node, inputs):
        with np.errstate(all="ignore"):
            return [np.asarray(inputs[0]).astype(self.dtype)]

    def grad(self, node, output_grads):
        (x,) = node.inputs
        if not (is_continuous(x.dtype) and is_continuous(self.dtype)):
            return [None]
        return [cast(output_grads[0], x.dtype)]

    def __str__(self) -> str:
        return f"cast{{{self.dtype}}}"


def cast(x, dtype):
    """``x`` as ``dtype`` (no node when it already is). ``T.cast(x, 'float32')``."""
    (x,) = as_operands([x])
    dtype = as_dtype(dtype)
    if x.dtype == dtype:
        return x
    return Cast(dtype)(x)


def safe_cast(x, dtype):
    """Cast only when it loses nothing; a RuleError otherwise."""
    if not can_cast_safely(x.dtype, dtype):
        raise RuleError(codes.DTYPE_LOSS, f"{x.type.short()} does not convert safely to {dtype}")
    return cast(x, dtype)


__all__ = [
    "ELEMWISE",
    "NOT_DIFFERENTIABLE",
    "PIECEWISE_CONSTANT",
    "Cast",
    "Elemwise",
    "cast",
    "elementwise",
    "safe_cast",
]
