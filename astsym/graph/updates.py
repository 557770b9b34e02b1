"""The rule for a shared variable's update: the new value must fit the variable's type.

Shared by ``function(updates=...)``, by ``@symbolic`` tracing (a rebound shared variable)
and by the static linter, so all three accept and refuse the same updates.
"""

from __future__ import annotations

from astsym.typecheck import RuleError, codes
from astsym.typecheck.dtypes import can_cast_safely

from .basic import Variable
from .convert import as_tensor_variable
from .ops import cast
from .shared import SharedVariable


def fit_update(shared: SharedVariable, expr) -> Variable:
    """``expr`` with ``shared``'s type: safe casts are inserted, anything else is a
    ``RuleError`` (AS206 for a dtype that would lose precision, AS305 otherwise)."""
    try:
        expr = as_tensor_variable(expr)
    except TypeError as err:
        raise RuleError(codes.BAD_UPDATE, f"update of {shared}: {err}") from None
    want = shared.type
    if getattr(want, "dtype", None) == "object" or want.accepts(expr.type):
        return expr
    if expr.dtype != want.dtype:
        if not can_cast_safely(expr.dtype, want.dtype):
            raise RuleError(
                codes.DTYPE_LOSS,
                f"update of {shared} ({want.short()}) with "
                f"{expr.type.short()} would lose precision",
                (f"cast the expression: (...).astype('{want.dtype}')",),
            )
        expr = cast(expr, want.dtype)
    if not want.accepts(expr.type):
        raise RuleError(
            codes.BAD_UPDATE,
            f"update of {shared} ({want.short()}) with {expr.type.short()}: the types differ",
        )
    return expr
