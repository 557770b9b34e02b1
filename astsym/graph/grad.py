"""Reverse-mode differentiation over graphs: ``grad`` builds new graph nodes from each op's
own gradient rule, so gradients are optimized and compiled like any other graph.

    >>> import astsym.tensor as T
    >>> x = T.dscalar("x")
    >>> g = grad(x ** 2, x)
    >>> g.eval({x: 3.0})
    array(6.)
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from astsym.typecheck import GraphTypeError, codes
from astsym.typecheck.diagnostics import error
from astsym.typecheck.dtypes import is_continuous

from .basic import Variable
from .convert import as_tensor_variable
from .ops import cast, ones_like, sum_to, zeros_like
from .source import current_span, fixed_span, user_stacklevel
from .walk import ancestors, toposort


def grad(
    cost,
    wrt,
    consider_constant=None,
    disconnected_inputs: str = "raise",
    known_grads: dict | None = None,
    return_disconnected: str = "zero",
    null_gradients: str = "raise",
):
    """The gradient of the scalar ``cost`` with respect to ``wrt`` (a variable or a list).

    Each node's gradient is computed once; where a variable is used several times its
    gradients are summed; broadcasting is undone by summing, so every gradient has its
    variable's type. A ``wrt`` the cost does not depend on is an error unless
    ``disconnected_inputs`` is 'warn' or 'ignore'.
    """
    if disconnected_inputs not in ("raise", "warn", "ignore"):
        raise ValueError("disconnected_inputs must be 'raise', 'warn' or 'ignore'")
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
    grads = backprop(seeds, wrt_list, consider_constant or [])
    out = [
        _result(w, grads.get(id(w)), seeds, disconnected_inputs, return_disconnected)
        for w in wrt_list
    ]
    return out[0] if single else out


def _seeds(cost, known_grads) -> dict[int, tuple[Variable, Variable]]:
    seeds: dict[int, tuple[Variable, Variable]] = {}
    if cost is not None:
        cost = as_tensor_variable(cost)
        if cost.ndim != 0:
            diag = error(
                codes.RANK,
                f"grad: the cost must be a scalar, got {cost.type.short()}",
                current_span(),
                ("sum or average it first, or use jacobian",),
            )
            raise GraphTypeError(diag)
        one = ones_like(cost) if is_continuous(cost.dtype) else ones_like(cost, "float64")
        seeds[id(cost)] = (cost, one)
    for var, g in (known_grads or {}).items():
        seeds[id(var)] = (var, as_tensor_variable(g))
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

    _, (copy,), _ = clone_graph(keep, [cost], copy_inputs=False)
    fg = FunctionGraph(keep, [copy], clone=False)
    rewrite(fg, GROUPS["stabilize"])
    return fg.outputs[0]


def backprop(seeds: dict, wrt: Sequence[Variable], consider_constant) -> dict[int, Variable]:
    """Gradients (by variable id) of every variable between ``wrt`` and the seeds."""
    outputs = [v for v, _ in seeds.values()]
    blockers = list(consider_constant)
    wanted = {id(w) for w in wrt}
    relevant = _on_path(outputs, wanted, blockers)
    grads: dict[int, Variable] = {k: g for k, (_, g) in seeds.items()}
    for node in reversed(toposort(outputs, blockers=blockers + list(wrt))):
        if not any(id(o) in grads for o in node.outputs):
            continue
        if not any(id(i) in relevant for i in node.inputs):
            continue
        out_grads = [grads.get(id(o)) for o in node.outputs]
        out_grads = [  # non-tensor outputs (a random generator's next state) get none
            g if g is not None or getattr(o.type, "dtype", "object") == "object" else zeros_like(o)
            for g, o in zip(out_grads, node.outputs)
        ]
        with fixed_span(node._span):
            input_grads = _node_grads(node, out_grads)
        for inp, g in zip(node.inputs, input_grads):
            if g is None or id(inp) not in relevant or not is_continuous(inp.dtype):
                continue
            with fixed_span(node._span):
                g = _fit(as_tensor_variable(g), inp)
                grads[id(inp)] = grads[id(inp)] + g if id(inp) in grads else g
    return grads


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


def _result(w, g, seeds, disconnected_inputs, return_disconnected):
    if g is not None:
        return g
    connected = any(w is v or id(w) in {id(a) for a in ancestors([v])} for v, _ in seeds.values())
    if not connected:
        message = f"grad: the cost does not depend on {w} ({w.type.short()})"
        if disconnected_inputs == "raise":
            diag = error(
                codes.BAD_ARGUMENT,
                message,
                current_span(),
                ("pass disconnected_inputs='ignore' to get a zero gradient",),
            )
            raise GraphTypeError(diag)
        if disconnected_inputs == "warn":
            warnings.warn(message, stacklevel=user_stacklevel())
        if return_disconnected in ("None", "Disconnected"):
            return None
    dtype = w.dtype if is_continuous(w.dtype) else "float64"
    return zeros_like(w, dtype)
