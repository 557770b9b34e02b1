"""Lazy ``ifelse``: a scalar condition chooses one of two branches, and only the chosen
branch is computed (the evaluator asks the op which inputs it needs).

    >>> import astsym.tensor as T
    >>> a, b = T.dscalars("a", "b")
    >>> z = ifelse(T.lt(a, b), a * 2, b * 3)     # b * 3 is never computed when a < b
"""

from __future__ import annotations

from astsym.typecheck import RuleError, codes
from astsym.typecheck.dtypes import DISCRETE, FLOATS

from ..basic import Apply
from ..convert import as_tensor_variable
from ..op import Op
from ..type import TensorType
from .elemwise import cast


class IfElse(Op):
    """Inputs ``cond, *then_values, *else_values``; outputs ``n_outs`` values."""

    props = ("n_outs",)
    lazy = True

    def __init__(self, n_outs: int) -> None:
        self.n_outs = n_outs

    @property
    def name(self) -> str:
        return "ifelse"

    def make_node(self, cond, *branches):
        cond = as_tensor_variable(cond)
        if cond.ndim != 0:
            raise RuleError(
                codes.RANK,
                f"the condition must be a scalar, got {cond.type.short()}",
                ("use switch/where for an elementwise choice",),
            )
        if cond.dtype not in DISCRETE + FLOATS:
            raise RuleError(codes.BAD_ARGUMENT, f"the condition cannot be {cond.type.short()}")
        if len(branches) != 2 * self.n_outs:
            raise RuleError(codes.BAD_ARGUMENT, f"expects {self.n_outs} values per branch")
        then, other = branches[: self.n_outs], branches[self.n_outs :]
        pairs = [
            _match(as_tensor_variable(t), as_tensor_variable(e), i)
            for i, (t, e) in enumerate(zip(then, other))
        ]
        out_types = [_joined_type(t, e) for t, e in pairs]
        inputs = [cond] + [t for t, _ in pairs] + [e for _, e in pairs]
        return Apply(self, inputs, out_types)

    def needed_inputs(self, node, value_of) -> list[int]:
        """The condition first; then the inputs of the branch it chooses."""
        cond = value_of(0)
        if cond is None:
            return [0]
        first = 1 if cond else 1 + self.n_outs
        return [0] + list(range(first, first + self.n_outs))

    def perform(self, node, inputs):
        cond = inputs[0]
        chosen = inputs[1 : 1 + self.n_outs] if cond else inputs[1 + self.n_outs :]
        return [value.copy() for value in chosen]

    def grad(self, node, output_grads):
        from .create import zeros_like

        cond, n = node.inputs[0], self.n_outs
        then, other = node.inputs[1 : 1 + n], node.inputs[1 + n :]
        # zeros of the untaken branch's own shape: the branches may differ in shape
        then_grads = [ifelse(cond, g, zeros_like(t)) for g, t in zip(output_grads, then)]
        else_grads = [ifelse(cond, zeros_like(e), g) for g, e in zip(output_grads, other)]
        return [None] + then_grads + else_grads

    def infer_shape(self, node, input_shapes):
        raise NotImplementedError("the shape of an ifelse depends on the branch taken")


def _match(then, other, i: int):
    """Give both branches one dtype (NumPy promotion) and check their ranks agree."""
    if then.ndim != other.ndim:
        raise RuleError(
            codes.BRANCH,
            f"output {i}: the branches give {then.type.short()} and "
            f"{other.type.short()}, of different ranks",
        )
    if then.dtype != other.dtype:
        from astsym.typecheck.dtypes import promote

        dtype = promote(then.dtype, other.dtype)
        then, other = cast(then, dtype), cast(other, dtype)
    return then, other


def _joined_type(then, other) -> TensorType:
    dims = tuple(a if a == b else None for a, b in zip(then.type.shape, other.type.shape))
    return TensorType(then.dtype, shape=dims)


def ifelse(condition, then_branch, else_branch, name: str | None = None):
    """``then_branch`` when the scalar ``condition`` is true, else ``else_branch``; each a
    variable or a list of variables. Only the chosen branch is computed."""
    single = not isinstance(then_branch, (list, tuple))
    then = [then_branch] if single else list(then_branch)
    other = [else_branch] if not isinstance(else_branch, (list, tuple)) else list(else_branch)
    if len(then) != len(other):
        raise RuleError(
            codes.BRANCH,
            f"ifelse: {len(then)} values in the then branch and {len(other)} in the else branch",
        )
    outs = IfElse(len(then))(condition, *then, *other)
    outs = outs if isinstance(outs, list) else [outs]
    if name is not None:
        for out in outs:
            out.name = name
    return outs[0] if single else outs
