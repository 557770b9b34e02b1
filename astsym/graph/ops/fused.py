"""Fused ops: a group of elementwise steps computed in one pass over the data, alone
(``FusedElemwise``), feeding a reduction (``FusedReduce``) or a softmax over the last axis
(``FusedSoftmax``).

The fuse rewrites (``graph/rewrites_fuse.py``) replace groups of nodes by these; a compiled
backend renders the steps (each op's scalar template) into one loop nest. Their NumPy
references run the steps op by op, exactly as the unfused graph.

    >>> import astsym.tensor as T
    >>> x = T.fvector("x")
    >>> program = ((ELEMWISE["exp"], (-1,), "float32"), (ELEMWISE["multiply"], (0, -1), "float32"))
    >>> FusedElemwise(program, 1)(x).type
    TensorType(float32, vector)
"""

from __future__ import annotations

import numpy as np

from astsym.typecheck import RuleError, codes
from astsym.typecheck.rules import reduce_shape
from astsym.typecheck.shapes import broadcast_shapes

from ..basic import Apply
from ..convert import as_operands
from ..op import Op
from ..type import TensorType
from .elemwise import ELEMWISE, check_runtime_broadcast

#: Set by a compiled backend, by fused op class name: ``(op, node) -> kernel(*inputs) ->
#: array``, or None when the group cannot be compiled (it then runs on NumPy).
KERNELS: dict = {}

_NO_GRAD = (
    "fusion runs after differentiation (in the compiled pipeline); differentiate the graph "
    "before it is fused"
)


class _Fused(Op):
    """Shared by the fused ops: ``steps`` are (elementwise op, operand refs, dtype) in
    order; a ref ``-1 - i`` is input ``i``, a ref ``k >= 0`` is step ``k``'s result. The
    last step is the group's value; with no steps the value is input 0."""

    no_grad_reason = _NO_GRAD

    def _init_steps(self, steps: tuple, nin: int) -> None:
        self.steps, self.nin = tuple(steps), nin
        self._kernels: dict = {}

    def __str__(self) -> str:
        return self.name

    @property
    def step_names(self) -> str:
        return ",".join(op.name for op, _, _ in self.steps)

    def value_type(self, inputs) -> TensorType:
        """The type of the steps' value: the inputs broadcast, the last step's dtype."""
        shape = broadcast_shapes([i.type.shape for i in inputs], [i.dtype for i in inputs])
        return TensorType(self.steps[-1][2] if self.steps else inputs[0].dtype, shape=shape)

    def perform(self, node, inputs):
        check_runtime_broadcast(node, inputs)
        build = KERNELS.get(type(self).__name__)
        if build is not None:  # the kernel depends on the node's types only: one per node
            if id(node) not in self._kernels:
                self._kernels[id(node)] = (node, build(self, node))  # (keeps the id unique)
            kernel = self._kernels[id(node)][1]
            if kernel is not None:
                return [kernel(*inputs)]
        return [np.asarray(self.reference(inputs), dtype=node.outputs[0].dtype)]

    def values(self, inputs):
        """The steps on NumPy, op by op (what the unfused graph computes)."""
        values = []
        for op, refs, dtype in self.steps:
            args = [inputs[-1 - r] if r < 0 else values[r] for r in refs]
            values.append(step_value(op, args, dtype))
        return values[-1] if values else np.asarray(inputs[0])


def step_value(op, args: list, dtype: str) -> np.ndarray:
    """One step on NumPy: the op's ufunc, or a conversion for a cast (which has none)."""
    with np.errstate(all="ignore"):
        if op.impl is None:
            return np.asarray(args[0]).astype(dtype)
        return np.asarray(op.impl(*args), dtype=dtype)


class FusedElemwise(_Fused):
    """Elementwise steps computed in one pass. ``inplace``: the input whose buffer the
    output reuses (a dead intermediate of the output's type), or -1."""

    props = ("steps", "nin", "inplace")

    def __init__(self, steps: tuple, nin: int, inplace: int = -1) -> None:
        self._init_steps(steps, nin)
        self.inplace = inplace

    @property
    def name(self) -> str:
        """``fused{exp,multiply}``; a group of one step is named as its op (``add``), which
        is how errors and printed graphs name it."""
        if len(self.steps) == 1:
            return self.steps[0][0].name + ("[inplace]" if self.inplace >= 0 else "")
        return "fused{" + self.step_names + "}" + ("[inplace]" if self.inplace >= 0 else "")

    def make_node(self, *inputs) -> Apply:
        inputs = as_operands(inputs)
        return Apply(self, inputs, [self.value_type(inputs)])

    def reference(self, inputs):
        return self.values(inputs)

    def infer_shape(self, node, input_shapes):
        return ELEMWISE["add"].infer_shape(node, input_shapes) if node.inputs else [()]

    def __reduce__(self):
        return (FusedElemwise, (self.steps, self.nin, self.inplace))


class FusedReduce(_Fused):
    """Elementwise steps whose value ``reduce`` (a ``Reduce`` op) consumes, in one pass."""

    props = ("steps", "nin", "reduce")

    def __init__(self, steps: tuple, nin: int, reduce) -> None:
        self._init_steps(steps, nin)
        self.reduce = reduce

    @property
    def name(self) -> str:
        return f"fused{{{self.step_names}}}->{self.reduce}" if self.steps else str(self.reduce)

    def make_node(self, *inputs) -> Apply:
        inputs = as_operands(inputs)
        value = self.value_type(inputs)
        shape = reduce_shape(value.shape, self.reduce.axes, self.reduce.keepdims)
        dtype = self.reduce.dtype or self.reduce.reduction.dtype(value.dtype)
        return Apply(self, inputs, [TensorType(dtype, shape=shape)])

    def reference(self, inputs):
        value = self.values(inputs)
        kwargs = {"dtype": self.reduce.dtype} if self.reduce.dtype else {}
        axes, keep = self.reduce.axes, self.reduce.keepdims
        try:
            return self.reduce.reduction.impl(value, axis=axes, keepdims=keep, **kwargs)
        except ValueError as err:
            message = f"{self.reduce.kind} of an array of shape {value.shape}: {err}"
            raise RuleError(codes.RUNTIME, message) from None

    def infer_shape(self, node, input_shapes):
        (dims,) = ELEMWISE["add"].infer_shape(node, input_shapes) if node.inputs else [()]
        return self.reduce.infer_shape(None, [dims])

    def __reduce__(self):
        return (FusedReduce, (self.steps, self.nin, self.reduce))


class FusedSoftmax(_Fused):
    """``softmax`` over the last axis of the steps' value, row by row in one pass."""

    props = ("steps", "nin")

    def __init__(self, steps: tuple, nin: int) -> None:
        self._init_steps(steps, nin)

    @property
    def name(self) -> str:
        return f"fused{{{self.step_names}}}->softmax" if self.steps else "softmax"

    def make_node(self, *inputs) -> Apply:
        inputs = as_operands(inputs)
        return Apply(self, inputs, [self.value_type(inputs)])

    def reference(self, inputs):
        z = self.values(inputs)
        e = np.exp(z - np.max(z, axis=-1, keepdims=True))
        return e / np.sum(e, axis=-1, keepdims=True)

    def infer_shape(self, node, input_shapes):
        return ELEMWISE["add"].infer_shape(node, input_shapes) if node.inputs else [()]

    def __reduce__(self):
        return (FusedSoftmax, (self.steps, self.nin))
