"""Identity ops that change only the gradient: ``disconnected_grad``, ``zero_grad``,
``grad_clip`` and ``grad_scale``. They vanish when a function is compiled.

    >>> import astsym.tensor as T
    >>> x = T.dscalar("x")
    >>> y = grad_scale(x, 0.5) ** 2        # y's value is x**2; dy/dx is x (half of 2x)
"""

from __future__ import annotations

from ..basic import Apply
from ..convert import as_tensor_variable
from ..op import Op

KINDS = ("disconnected", "zero", "clip", "scale")


class GradOverride(Op):
    """Forward: the input unchanged. Backward: as ``kind`` says, with ``params``."""

    props = ("kind", "params")

    def __init__(self, kind: str, params: tuple = ()) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        self.kind, self.params = kind, tuple(float(p) for p in params)

    @property
    def name(self) -> str:
        return f"{self.kind}_grad" if self.kind in ("disconnected", "zero") else f"grad_{self.kind}"

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type])

    def perform(self, node, inputs):
        return [inputs[0]]

    def grad(self, node, output_grads):
        from .create import zeros_like
        from .math import clip

        (gz,) = output_grads
        if self.kind == "disconnected":
            return [None]
        if self.kind == "zero":
            return [zeros_like(gz)]
        if self.kind == "clip":
            return [clip(gz, *self.params)]
        return [gz * self.params[0]]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]


def disconnected_grad(x):
    """``x``, through which no gradient flows (as if a constant: the input is disconnected)."""
    return GradOverride("disconnected")(x)


def zero_grad(x):
    """``x``, whose gradient is zero (still connected, unlike ``disconnected_grad``)."""
    return GradOverride("zero")(x)


def grad_clip(x, lower_bound, upper_bound):
    """``x``, whose incoming gradient is clipped to ``[lower_bound, upper_bound]``."""
    if lower_bound > upper_bound:
        raise ValueError(f"grad_clip: lower_bound {lower_bound} exceeds upper_bound {upper_bound}")
    return GradOverride("clip", (lower_bound, upper_bound))(x)


def grad_scale(x, multiplier):
    """``x``, whose incoming gradient is multiplied by ``multiplier``."""
    return GradOverride("scale", (multiplier,))(x)
