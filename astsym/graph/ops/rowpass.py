"""``RowPass``: a matrix read once for a product with a vector, the elementwise work on each
row's result, sums over the rows and a product of the matrix's transpose with a vector of
row values, as in a training step of a linear model (``X @ w``, the loss per row, ``X.T @
g``). NumPy reads X twice there; a row pass reads each row once, while it is in cache.

The fusion pass ``graph/rewrites_rowpass.py`` builds it; a compiled backend renders it into
one loop over blocks of rows. Its NumPy reference computes the replaced ops one by one.

Inputs are ``(X, w, *others)``. ``steps`` are elementwise ``(op, refs, dtype)`` as in the
fused ops (``graph/ops/fused.py``): a ref ``k >= 0`` is step k's value, a ref ``-1 - i`` is
input i, except that input 0 (the matrix) stands for the row's product ``X[i] @ w``. The
other inputs are 0-d, of static size 1, or vectors with one value per row. ``outs`` says
what each output is:

- ``("rows", ref)``: the value of every row, a vector;
- ``("sum", ref, keepdims, dtype)``: the sum of the value over the rows (accumulated in
  float64, as the fused sums are);
- ``("xt", ref)``: ``X.T @ value``, a vector with one entry per column of X.

    >>> import astsym.tensor as T
    >>> from astsym.graph.ops import math as m
    >>> X, w = T.fmatrix("X"), T.fvector("w")
    >>> op = RowPass(((m.tanh, (-1,), "float32"),), 2, (("sum", 0, False, "float32"), ("xt", 0)))
    >>> [str(v.type) for v in op(X, w)]
    ['TensorType(float32, scalar)', 'TensorType(float32, vector)']
"""

from __future__ import annotations

import numpy as np

from astsym.typecheck import RuleError, codes

from ..basic import Apply
from ..convert import as_operands
from ..op import Op
from ..type import TensorType
from .fused import _NO_GRAD, KERNELS, step_value


class RowPass(Op):
    """One pass over the rows of a matrix (see the module docstring)."""

    props = ("steps", "nin", "outs")
    no_grad_reason = _NO_GRAD

    def __init__(self, steps: tuple, nin: int, outs: tuple) -> None:
        self.steps, self.nin, self.outs = tuple(steps), nin, tuple(outs)
        self._kernels: dict = {}

    @property
    def name(self) -> str:
        kinds = ",".join(out[0] for out in self.outs)
        return "rowpass{" + ",".join(op.name for op, _, _ in self.steps) + "->" + kinds + "}"

    def __str__(self) -> str:
        return self.name

    def dtype_of(self, ref: int, inputs) -> str:
        if ref >= 0:
            return self.steps[ref][2]
        return inputs[0].dtype if ref == -1 else inputs[-1 - ref].dtype

    def make_node(self, *inputs) -> Apply:
        inputs = as_operands(inputs)
        X, w = inputs[:2]
        if X.ndim != 2 or w.ndim != 1 or any(v.ndim > 1 for v in inputs[2:]):
            raise TypeError(f"{self.name}: takes a matrix, a vector, then vectors or scalars")
        rows, cols = X.type.shape
        outputs = []
        for out in self.outs:
            dtype = self.dtype_of(out[1], inputs)
            if out[0] == "rows":
                outputs.append(TensorType(dtype, shape=(rows,)))
            elif out[0] == "sum":
                outputs.append(TensorType(out[3], shape=(1,) if out[2] else ()))
            else:
                outputs.append(TensorType(X.dtype, shape=(cols,)))
        return Apply(self, inputs, outputs)

    def perform(self, node, inputs):
        _check_sizes(node, inputs)
        build = KERNELS.get("RowPass")
        if build is not None:  # one kernel per node (it depends on the node's types)
            if id(node) not in self._kernels:
                self._kernels[id(node)] = (node, build(self, node))
            kernel = self._kernels[id(node)][1]
            if kernel is not None:
                return kernel(*inputs)
        return self.reference(node, inputs)

    def reference(self, node, inputs):
        """The replaced ops on NumPy, one by one."""
        X, w = inputs[:2]
        z = np.asarray(np.dot(X, w), dtype=node.inputs[0].dtype)
        values: list = []
        for op, refs, dtype in self.steps:
            args = [values[r] if r >= 0 else z if r == -1 else inputs[-1 - r] for r in refs]
            values.append(step_value(op, args, dtype))
        n = X.shape[0]
        results = []
        for out, var in zip(self.outs, node.outputs):
            ref = out[1]
            value = values[ref] if ref >= 0 else z if ref == -1 else inputs[-1 - ref]
            value = np.broadcast_to(value, (n,))
            if out[0] == "rows":
                result = value.copy()
            elif out[0] == "sum":
                result = np.sum(value, dtype=out[3], keepdims=out[2])
            else:
                result = np.dot(X.T, value)
            results.append(np.asarray(result, dtype=var.dtype))
        return results

    def infer_shape(self, node, input_shapes):
        rows, cols = input_shapes[0]
        return [
            (rows,) if out[0] == "rows" else (cols,) if out[0] == "xt" else (1,) * out[2]
            for out in self.outs
        ]

    def __reduce__(self):
        return (RowPass, (self.steps, self.nin, self.outs))


def _check_sizes(node, inputs) -> None:
    """The checks of the replaced ops: the product's inner dims, then one value per row."""
    X, w = inputs[:2]
    if X.shape[1] != w.shape[0]:
        message = f"matmul of {X.shape} and {w.shape}: the inner dims differ"
        raise RuleError(codes.MATMUL, f"{message} ({X.shape[1]} vs {w.shape[0]})")
    for var, value in zip(node.inputs[2:], inputs[2:]):
        if var.ndim == 1 and var.type.shape[0] != 1 and value.shape[0] != X.shape[0]:
            raise RuleError(
                codes.RUNTIME,
                f"operands of shapes {X.shape[:1]} and {value.shape} differ in dim 0 "
                f"({X.shape[0]} vs {value.shape[0]}), which is not marked broadcastable",
            )
