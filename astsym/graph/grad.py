"""Reverse-mode differentiation over graphs: ``grad`` builds new graph nodes from each op's
own gradient rule, so gradients are optimized and compiled like any other graph.

    >>> import astsym.tensor as T
    >>> x = T.dscalar("x")
    >>> g = grad(x ** 2, x)
    >>> g.eval({x: 3.0})
    array(6.)

A ``wrt`` is *disconnected* when no gradient can reach it: the cost does not depend on it,
or depends on it only through integer values or piecewise-constant ops (floor, argmax,
comparisons). Its gradient is zero, or an error under ``disconnected_inputs='raise'``. A
gradient is *null* when it is undefined (the parameters of a random draw): an error under
``null_gradients='raise'``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from astsym.typecheck import GraphTypeError, codes
from astsym.typecheck.diagnostics import error
from astsym.typecheck.dtypes import is_continuous

from .basic import Variable
from .convert import as_tensor_variable
from .op import NullGrad
from .ops import cast, ones_like, sum_to, zeros_like
from .source import current_span, fixed_span, user_stacklevel
from .walk import ancestors, toposort

_CHOICES = {
    "disconnected_inputs": ("raise", "warn", "ignore"),
    "return_disconnected": ("zero", "None", "Disconnected"),
    "null_gradients": ("raise", "return"),
}


def grad(
    cost,
    wrt,
    consider_constant=None,
    disconnected_inputs: str = "raise",
    known_grads: dict | None = None,
    return_disconnected: str = "zero",
    null_gradients: str = "raise",
):
    """The gradient of the scalar ``cost`` with respect to ``wrt`` (a variable or a list,
    and the result is shaped the same).

    Each node's gradient is computed once; where a variable is used several times its
    gradients are summed; broadcasting is undone by summing, so every gradient has its
    variable's dtype and broadcastable dims. ``consider_constant`` variables pass no
    gradient; ``known_grads`` maps variables to gradients to start from (with or without a
    cost). ``return_disconnected``: 'zero' gives zeros, 'None'/'Disconnected' give None.
    """
    options = dict(
        disconnected_inputs=disconnected_inputs,
        return_disconnected=return_disconnected,
        null_gradients=null_gradients,
    )
    for name, value in options.items():
        if value not in _CHOICES[name]:
            raise ValueError(f"grad: {name} must be one of {_CHOICES[name]}, got {value!r}")
    single = not isinstance(wrt, (list, tuple))
    wrt_list = [wrt] if single else list(wrt)
    for w in wrt_list:
        if not isinstance(w, Variable):
            raise TypeError(f"grad: wrt must be symbolic variables, got {type(w).__name__}")
    seeds = _seeds(cost, known_grads)
    if cost is not None:
        keep = wrt_list + list(consider_constant or []) + list(known_grads or {})
        pairs = [(_stabilized(v, keep) if v is cost else v, g) for v, g in seeds.values()]
        seeds = {id(v): (v, g) for v, g in pairs}
    grads, nulls = backprop(seeds, wrt_list, consider_constant or [])
    out = [_result(w, grads.get(id(w)), nulls.get(id(w)), seeds, options) for w in wrt_list]
    return out[0] if single else out


def _seeds(cost, known_grads) -> dict[int, tuple[Variable, Variable]]:
    seeds: dict[int, tuple[Variable, Variable]] = {}
    if cost is not None:
        cost = as_tensor_variable(cost)
        if cost.ndim != 0:
            raise _error(
                codes.RANK,
                f"grad: the cost must be a scalar, got {cost.type.short()}",
                "sum or average it first, or use jacobian",
            )
        one = ones_like(cost) if is_continuous(cost.dtype) else ones_like(cost, "float64")
        seeds[id(cost)] = (cost, one)
    for var, g in (known_grads or {}).items():
        g = as_tensor_variable(g)
        if g.ndim != var.ndim:
            raise _error(
                codes.RANK,
                f"grad: the known gradient of {var} ({var.type.short()}) is {g.type.short()}",
            )
        seeds[id(var)] = (var, _fit(g, var) if is_continuous(var.dtype) else g)
    if not seeds:
        raise ValueError("grad needs a cost or known_grads")
    return seeds


def _stabilized(cost: Variable, keep: list) -> Variable:
    """A copy of the cost graph (above ``keep``) with the ``stabilize`` rewrites applied, so
    that ``log(1 / (1 + exp(-z)))`` is differentiated as ``-softplus(-z)`` (no inf * 0)."""
    from . import rewrites_stabilize  # noqa: F401  (defines the rule group)
    from .fg import FunctionGraph
    from .rewrite import GROUPS, rewrite
    from .walk import clone_graph

    rules = GROUPS["stabilize"]
    if not any(rules.candidates(node.op) for node in toposort([cost], blockers=keep)):
        return cost  # nothing a rule could match: no copy needed
    _, (copy,), _ = clone_graph(keep, [cost], copy_inputs=False)
    fg = FunctionGraph(keep, [copy], clone=False)
    rewrite(fg, rules)
    return fg.outputs[0]


def backprop(seeds: dict, wrt: Sequence[Variable], consider_constant):
    """Gradients (by variable id) of the variables between ``wrt`` and the seeds, and the
    null gradients met on the way (by variable id: the node and the reason)."""
    outputs = [v for v, _ in seeds.values()]
    blockers = list(consider_constant)
    relevant = _on_path(outputs, {id(w) for w in wrt}, blockers)
    grads: dict[int, Variable] = {k: g for k, (_, g) in seeds.items()}
    nulls: dict[int, tuple] = {}
    for node in reversed(toposort(outputs, blockers=blockers)):  # a wrt may be above another
        if not any(id(o) in grads for o in node.outputs):
            continue
        if not any(id(i) in relevant for i in node.inputs):
            continue
        with fixed_span(node._span):
            input_grads = _node_grads(node, [_out_grad(grads, o) for o in node.outputs])
        for inp, g in zip(node.inputs, input_grads):
            if g is None or id(inp) not in relevant or not is_continuous(inp.dtype):
                continue
            if isinstance(g, NullGrad):
                nulls.setdefault(id(inp), (node, g.reason))
                continue
            with fixed_span(node._span):
                g = _fit(as_tensor_variable(g), inp)
                grads[id(inp)] = grads[id(inp)] + g if id(inp) in grads else g
    return grads, _spread_nulls(nulls, wrt, relevant, blockers)


def _out_grad(grads, out):
    g = grads.get(id(out))
    if g is not None or getattr(out.type, "dtype", "object") == "object":
        return g  # a random generator's next state has no gradient
    return zeros_like(out)


def _spread_nulls(nulls: dict, wrt, relevant, blockers) -> dict:
    """A null gradient met at a variable makes null the gradient of every wrt it would have
    flowed into: that variable and the wrt above it (others keep their gradients)."""
    spread: dict[int, tuple] = {}
    for key, (node, reason) in nulls.items():
        var = next(i for i in node.inputs if id(i) == key)
        above = {id(a) for a in ancestors([var], blockers)}
        for w in wrt:
            if id(w) in above and id(w) in relevant:
                spread.setdefault(id(w), (node, reason))
    return spread


def _node_grads(node, out_grads):
    try:
        return node.op.grad(node, out_grads)
    except NotImplementedError as err:
        diag = error(codes.BAD_ARGUMENT, f"cannot differentiate {node.op}: {err}", node.span)
        raise GraphTypeError(diag) from None


def _on_path(outputs, wanted: set[int], blockers) -> set[int]:
    """Ids of variables from which some ``wanted`` variable can be reached going up."""
    blocked = {id(b) for b in blockers}
    relevant: set[int] = set()
    for node in toposort(outputs, blockers=blockers):
        for inp in node.inputs:
            if id(inp) in wanted and id(inp) not in blocked:
                relevant.add(id(inp))
        if any(id(i) in relevant for i in node.inputs):
            relevant.update(id(o) for o in node.outputs)
    relevant.update(wanted - blocked)
    return relevant


def _fit(g: Variable, var: Variable) -> Variable:
    """``g`` summed over broadcast dims and cast so it has ``var``'s type."""
    if g.ndim > var.ndim or g.broadcastable != var.broadcastable:
        g = sum_to(g, var)
    if g.dtype != var.dtype:
        g = cast(g, var.dtype)
    return g


def _result(w, g, null, seeds, options):
    if null is not None and options["null_gradients"] == "raise":
        node, reason = null
        raise _error(
            codes.BAD_ARGUMENT,
            f"grad: the gradient with respect to {w} is undefined: "
            f"it passes through {node.op} ({reason})",
            "pass null_gradients='return' to get None instead",
        )
    if null is not None:
        return None
    if g is not None:
        return g
    _disconnected(w, seeds, options["disconnected_inputs"])
    if options["return_disconnected"] in ("None", "Disconnected"):
        return None
    return zeros_like(w, w.dtype if is_continuous(w.dtype) else "float64")


def _disconnected(w, seeds, policy: str) -> None:
    depends = any(w is v or any(a is w for a in ancestors([v])) for v, _ in seeds.values())
    if depends:
        why = (
            "the cost depends on it only through integer values or piecewise-constant ops "
            "(floor, round, argmax, comparisons), whose gradient is zero"
        )
    else:
        why = "the cost does not depend on it"
    message = f"grad: {w} ({w.type.short()}) is disconnected: {why}"
    if policy == "raise":
        raise _error(
            codes.BAD_ARGUMENT,
            message,
            "pass disconnected_inputs='ignore' (or 'warn') to get a zero gradient",
        )
    if policy == "warn":
        warnings.warn(message, stacklevel=user_stacklevel())


def _error(code: str, message: str, note: str | None = None) -> GraphTypeError:
    return GraphTypeError(error(code, message, current_span(), (note,) if note else ()))
