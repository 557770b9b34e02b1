"""Checking and normalising what the user gives ``function``: inputs, outputs, updates,
givens. Every mistake is reported here, at compile time, naming the variable involved.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

from astsym.graph.basic import Constant, Variable
from astsym.graph.convert import as_tensor_variable
from astsym.graph.ops import cast
from astsym.graph.shared import SharedVariable
from astsym.graph.source import current_span, user_stacklevel
from astsym.graph.updates import fit_update as update_rule
from astsym.graph.walk import ancestors, clone_replace, graph_inputs
from astsym.typecheck import GraphTypeError, RuleError, codes
from astsym.typecheck.diagnostics import error
from astsym.typecheck.dtypes import can_cast_safely

from .io import In, Out


def spec_error(code: str, message: str, notes=()) -> GraphTypeError:
    return GraphTypeError(error(code, message, current_span(), notes))


@dataclass
class FunctionSpec:
    """Everything ``function`` was given, checked; kept so a function can be copied."""

    inputs: list[In]
    outputs: list[Variable]
    output_kind: str  # "single" | "list" | "dict" | "none"
    output_keys: list = field(default_factory=list)
    updates: list[tuple[SharedVariable, Variable]] = field(default_factory=list)
    givens: list[tuple[Variable, Variable]] = field(default_factory=list)
    no_default_updates: object = False
    allow_input_downcast: bool | None = None
    on_unused_input: str = "raise"
    name: str | None = None


def normalize_inputs(inputs) -> list[In]:
    if isinstance(inputs, (Variable, In)):
        inputs = [inputs]
    if not isinstance(inputs, (list, tuple)):
        raise spec_error(codes.FUNCTION_SPEC, "function inputs must be a list of variables")
    out: list[In] = []
    for i, item in enumerate(inputs):
        spec = item if isinstance(item, In) else In(_as_input_var(item, i))
        if isinstance(spec.variable, SharedVariable):
            raise spec_error(
                codes.FUNCTION_SPEC,
                f"input {i} ({spec.variable}) is a shared "
                "variable; shared variables are used implicitly, not listed",
                ("use givens= to replace a shared variable by an input",),
            )
        if isinstance(spec.variable, Constant):
            raise spec_error(codes.FUNCTION_SPEC, f"input {i} is a constant, not a variable")
        if any(spec.variable is o.variable for o in out):
            raise spec_error(codes.FUNCTION_SPEC, f"input {spec.variable} is listed twice")
        out.append(spec)
    return out


def _as_input_var(item, i: int) -> Variable:
    if not isinstance(item, Variable):
        raise spec_error(
            codes.FUNCTION_SPEC,
            f"input {i} is {type(item).__name__} {item!r}, not a symbolic variable",
        )
    return item


def normalize_outputs(outputs) -> tuple[list[Variable], str, list]:
    if outputs is None:
        return [], "none", []
    if isinstance(outputs, dict):
        keys = list(outputs)
        return [_as_output(outputs[k]) for k in keys], "dict", keys
    if isinstance(outputs, (list, tuple)):
        return [_as_output(o) for o in outputs], "list", []
    return [_as_output(outputs)], "single", []


def _as_output(value) -> Variable:
    if isinstance(value, Out):
        value = value.variable
    try:
        return as_tensor_variable(value)
    except TypeError as err:
        raise spec_error(
            codes.FUNCTION_SPEC, f"output {value!r} is not a variable: {err}"
        ) from None


def normalize_pairs(pairs, what: str) -> list[tuple]:
    if pairs is None:
        return []
    if isinstance(pairs, dict):
        pairs = list(pairs.items())
    out = []
    for pair in pairs:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise spec_error(
                codes.FUNCTION_SPEC, f"{what} must be (variable, expression) pairs, got {pair!r}"
            )
        out.append(tuple(pair))
    return out


def check_updates(pairs) -> list[tuple[SharedVariable, Variable]]:
    out: list[tuple[SharedVariable, Variable]] = []
    for shared, expr in pairs:
        if not isinstance(shared, SharedVariable):
            raise spec_error(
                codes.BAD_UPDATE, f"updates can only change shared variables; {shared} is not one"
            )
        if any(shared is s for s, _ in out):
            raise spec_error(codes.BAD_UPDATE, f"shared variable {shared} is updated twice")
        out.append((shared, fit_update(shared, expr)))
    return out


def fit_update(shared: SharedVariable, expr) -> Variable:
    """``expr`` with ``shared``'s type: safe casts are inserted, anything else refused."""
    try:
        return update_rule(shared, expr)
    except RuleError as err:
        raise spec_error(err.code, err.message, err.notes) from None


def check_givens(pairs) -> list[tuple[Variable, Variable]]:
    out = []
    for old, new in pairs:
        if not isinstance(old, Variable):
            raise spec_error(codes.FUNCTION_SPEC, f"givens keys must be variables, got {old!r}")
        new = as_tensor_variable(new)
        if new.ndim != old.ndim:
            raise spec_error(
                codes.RANK,
                f"givens replaces {old} ({old.type.short()}) with "
                f"{new.type.short()} of another rank",
            )
        if new.dtype != old.dtype:
            if not can_cast_safely(new.dtype, old.dtype):
                raise spec_error(
                    codes.DTYPE_LOSS,
                    f"givens replaces {old} ({old.type.short()}) "
                    f"with {new.type.short()}, which would lose precision",
                )
            new = cast(new, old.dtype)
        out.append((old, new))
    return out


def add_default_updates(spec: FunctionSpec, roots: list[Variable]) -> list:
    """Shared variables with a ``default_update`` (random generators) get it, unless the
    function has an update for them or ``no_default_updates`` names them (or is True)."""
    updates = list(spec.updates)
    if spec.no_default_updates is True:
        return updates
    excluded = spec.no_default_updates or []
    frontier = roots + [e for _, e in updates]
    while frontier:
        found = []
        for var in ancestors(frontier):
            if (
                isinstance(var, SharedVariable)
                and var.default_update is not None
                and not any(var is s for s, _ in updates)
                and not any(var is e for e in excluded)
            ):
                updates.append((var, fit_update(var, var.default_update)))
                found.append(var.default_update)
        frontier = found
    return updates


def resolve(spec: FunctionSpec):
    """Apply givens and default updates; check missing and unused inputs.

    Returns (output variables, update pairs) of the graph to compile.
    """
    updates = add_default_updates(spec, spec.outputs)
    exprs = spec.outputs + [e for _, e in updates]
    if spec.givens:
        exprs = clone_replace(exprs, dict(spec.givens))
    outputs, update_exprs = exprs[: len(spec.outputs)], exprs[len(spec.outputs) :]
    updates = [(s, fit_update(s, e)) for (s, _), e in zip(updates, update_exprs)]
    _check_inputs(spec, outputs + [e for _, e in updates])
    return outputs, updates


def _check_inputs(spec: FunctionSpec, exprs: list[Variable]) -> None:
    listed = [i.variable for i in spec.inputs]
    listed_ids = {id(v) for v in listed}
    for var in graph_inputs(exprs, blockers=listed):
        if id(var) in listed_ids or isinstance(var, (Constant, SharedVariable)):
            continue
        raise spec_error(
            codes.FUNCTION_SPEC,
            f"the outputs depend on {var} ({var.type.short()}), which is not an input",
            ("add it to the inputs, or replace it with givens=",),
        )
    used = {id(v) for v in ancestors(exprs, blockers=listed)}
    for i, var in enumerate(listed):
        if id(var) in used:
            continue
        message = f"input {i} ({var}) is not used to compute the outputs"
        if spec.on_unused_input == "raise":
            raise spec_error(
                codes.FUNCTION_SPEC,
                message,
                ("pass on_unused_input='warn' or 'ignore' to allow it",),
            )
        if spec.on_unused_input == "warn":
            warnings.warn(message, stacklevel=user_stacklevel())
