"""``check``: pass a value through, failing the call with a message when a condition is
false (a ``while`` loop that ran out of iterations, say).

    >>> import astsym.tensor as T
    >>> x = T.dvector("x")
    >>> y = check(x, (x > 0).all(), "x must be positive")
"""

from __future__ import annotations

from astsym.typecheck import RuleError, codes

from ..basic import Apply
from ..convert import as_tensor_variable
from ..op import Op


class CheckAndRaise(Op):
    """Outputs its first input; raises ``message`` when the scalar condition is false."""

    props = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message

    @property
    def name(self) -> str:
        return "check"

    def make_node(self, x, cond):
        x, cond = as_tensor_variable(x), as_tensor_variable(cond)
        if cond.ndim != 0:
            raise RuleError(codes.RANK, f"the condition must be a scalar, got {cond.type.short()}")
        return Apply(self, [x, cond], [x.type])

    def perform(self, node, inputs):
        x, cond = inputs
        if not cond:
            raise RuleError(codes.RUNTIME, self.message)
        return [x]

    def grad(self, node, output_grads):
        return [output_grads[0], None]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]


def check(x, cond, message: str):
    """``x``, after checking ``cond`` when the graph runs (the call fails with ``message``)."""
    return CheckAndRaise(message)(x, cond)
