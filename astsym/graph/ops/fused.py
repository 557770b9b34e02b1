"""``FusedElemwise``: a group of elementwise ops computed in one pass over the data.

The ``fuse`` rewrite (``graph/rewrites_fuse.py``) replaces a connected group of elementwise
nodes by one of these; a compiled backend renders its steps (each op's scalar template)
into one loop. Its NumPy reference runs the steps op by op, exactly as the unfused graph.

    >>> import astsym.tensor as T
    >>> x = T.fvector("x")
    >>> program = ((ELEMWISE["exp"], (-1,), "float32"), (ELEMWISE["multiply"], (0, -1), "float32"))
    >>> FusedElemwise(program, 1)(x).type
    TensorType(float32, vector)
"""

from __future__ import annotations

import numpy as np

from astsym.typecheck.shapes import broadcast_shapes

from ..basic import Apply
from ..convert import as_operands
from ..op import Op
from ..type import TensorType
from .elemwise import ELEMWISE, check_runtime_broadcast

#: Set by a compiled backend: ``(op, node) -> kernel(*inputs) -> array`` or None when the
#: group cannot be compiled (the steps then run on NumPy).
KERNELS = {"build": None}


class FusedElemwise(Op):
    """``steps``: (elementwise op, operand refs, dtype) in order; a ref ``-1 - i`` is input
    ``i``, a ref ``k >= 0`` is step ``k``'s result. The last step is the output."""

    props = ("steps", "nin")
    no_grad_reason = (
        "fusion runs after differentiation (in the compiled pipeline); differentiate the graph "
        "before it is fused"
    )

    def __init__(self, steps: tuple, nin: int) -> None:
        self.steps, self.nin = tuple(steps), nin
        self._kernels: dict = {}

    @property
    def name(self) -> str:
        return "fused{" + ",".join(op.name for op, _, _ in self.steps) + "}"

    def make_node(self, *inputs) -> Apply:
        inputs = as_operands(inputs)
        shape = broadcast_shapes([i.type.shape for i in inputs], [i.dtype for i in inputs])
        return Apply(self, inputs, [TensorType(self.steps[-1][2], shape=shape)])

    def perform(self, node, inputs):
        check_runtime_broadcast(node, inputs)
        build = KERNELS["build"]
        if build is not None:  # the kernel depends on the node's types only: one per node
            if id(node) not in self._kernels:
                self._kernels[id(node)] = (node, build(self, node))  # (keeps the id unique)
            kernel = self._kernels[id(node)][1]
            if kernel is not None:
                return [kernel(*inputs)]
        return [self.reference(inputs)]

    def reference(self, inputs):
        """The steps on NumPy, op by op (what the unfused graph computes)."""
        values = []
        for op, refs, dtype in self.steps:
            args = [inputs[-1 - r] if r < 0 else values[r] for r in refs]
            values.append(np.asarray(op.impl(*args), dtype=dtype))
        return values[-1]

    def infer_shape(self, node, input_shapes):
        return ELEMWISE["add"].infer_shape(node, input_shapes) if node.inputs else [()]

    def __reduce__(self):
        return (FusedElemwise, (self.steps, self.nin))
