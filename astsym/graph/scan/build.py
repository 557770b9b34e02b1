"""``scan`` and its shorthands: trace the step function once on placeholder variables and
wrap the resulting inner graph in a ``Scan`` node.

    >>> import astsym.tensor as T
    >>> coefs = T.ivector(); x = T.iscalar()
    >>> terms, updates = scan(lambda c, power, x: c * x ** power,
    ...                       sequences=[coefs, T.arange(coefs.shape[0])], non_sequences=x)
"""

from __future__ import annotations

from astsym.typecheck import RuleError, codes

from ..basic import Constant, Variable
from ..convert import as_tensor_variable, constant
from ..fg import FunctionGraph
from ..op import located_error
from ..ops.shape import _int_scalar, static_value
from ..shared import SharedVariable
from ..type import TensorType
from ..walk import graph_inputs
from .loop import tap_span
from .op import Scan, ScanInfo, check_taps


class Until:
    """Returned by a step function (``return out, until(cond)``): stop after this step
    when ``cond`` is true."""

    def __init__(self, condition) -> None:
        cond = as_tensor_variable(condition)
        if cond.ndim != 0:
            raise RuleError(
                codes.RANK, f"until() takes a scalar condition, got {cond.type.short()}"
            )
        self.condition = cond


until = Until


def scan(
    fn,
    sequences=None,
    outputs_info=None,
    non_sequences=None,
    n_steps=None,
    truncate_gradient=-1,
    go_backwards=False,
    mode=None,
    name=None,
    strict=False,
    return_list=False,
):
    """Theano's ``scan``: call ``fn`` for each step; returns ``(outputs, updates)``.

    ``fn`` receives the current items of the sequences (per tap), the previous values of
    the fed-back outputs (per tap), then the non-sequences. It returns outputs, optionally
    with an updates dict for shared variables and an ``until(condition)``.
    """
    step_name = name or getattr(fn, "__name__", "step")
    try:
        return _scan(fn, sequences, outputs_info, non_sequences, n_steps, go_backwards,
                     step_name, return_list, truncate_gradient)  # fmt: skip
    except RuleError as err:
        raise located_error(f"scan (step function {step_name!r})", err) from None


def _scan(fn, sequences, outputs_info, non_sequences, n_steps, go_backwards, step_name,
          return_list, truncate_gradient):  # fmt: skip
    seqs = [_sequence(s) for s in _as_list(sequences)]
    infos = [_output_info(o) for o in _as_list(outputs_info)]
    nonseqs = [_non_sequence(v) for v in _as_list(non_sequences)]
    seq_args = [  # a row of a sequence has the sequence's static dims
        TensorType(seq.dtype, shape=seq.type.shape[1:])(f"{seq}[t{t:+d}]")
        for seq, taps in seqs
        for t in taps
    ]
    out_args = [
        _state_placeholder(init, taps) for init, taps in infos if init is not None for _ in taps
    ]
    nonseq_args = nonseqs  # passed as they are (Theano): fn may differentiate through them
    result = fn(*seq_args, *out_args, *nonseq_args)
    outputs, updates, cond = _parse_result(result)
    if outputs_info is None or not infos:
        infos = [(None, ())] * len(outputs)
    if len(outputs) != len(infos):
        raise RuleError(
            codes.BAD_ARGUMENT,
            f"the step function returns {len(outputs)} outputs "
            f"but outputs_info describes {len(infos)}",
        )
    outputs = [
        _check_output(i, o, init, taps) for i, (o, (init, taps)) in enumerate(zip(outputs, infos))
    ]
    # a shared variable the step updates is one more recurrent output, starting at its value;
    # a random generator read in the step advances at every step (its default update)
    updates = updates + _generator_updates(outputs + [e for _, e in updates], updates, cond)
    shared_vars = [s for s, _ in updates]
    shared_new = [_fit_shared(s, e) for s, e in updates]
    explicit = seq_args + out_args + shared_vars + nonseq_args
    inner_outs = outputs + shared_new + ([cond] if cond is not None else [])
    infos = infos + [(s, (-1,)) for s in shared_vars]
    implicit = [
        v
        for v in graph_inputs(inner_outs, blockers=explicit)
        if not isinstance(v, Constant) and not any(v is e for e in explicit)
    ]
    inner = FunctionGraph(explicit + implicit, inner_outs)
    info = ScanInfo(
        seq_taps=tuple(taps for _, taps in seqs),
        out_taps=tuple(taps for _, taps in infos),
        n_nonseq=len(nonseqs) + len(implicit),
        has_until=cond is not None,
        go_backwards=bool(go_backwards),
        name=step_name,
        truncate_gradient=int(truncate_gradient),
    )
    steps = constant(-1, dtype="int64") if n_steps is None else _int_scalar(n_steps)
    _check_lengths(seqs, infos, static_value(steps))
    outer = [s for s, _ in seqs] + [init for init, _ in infos if init is not None]
    node_outs = Scan(inner, info)(steps, *outer, *nonseqs, *implicit)
    node_outs = node_outs if isinstance(node_outs, list) else [node_outs]
    results = node_outs[: len(outputs)]
    histories = node_outs[len(outputs) :]
    new_updates = {
        s: h if not isinstance(s.type, TensorType) else _last_or(h, s)
        for s, h in zip(shared_vars, histories)
    }
    if len(results) == 1 and not return_list:
        return results[0], new_updates
    return results, new_updates


def _generator_updates(exprs, updates, cond) -> list:
    """(generator, next state) for each random generator the step draws from and does not
    update itself: Theano draws anew at every step, so the state is carried through it."""
    found = []
    roots = exprs + ([cond] if cond is not None else [])
    for var in graph_inputs(roots):
        if (
            isinstance(var, SharedVariable)
            and var.default_update is not None
            and not isinstance(var.type, TensorType)
            and not any(var is s for s, _ in updates + found)
        ):
            found.append((var, var.default_update))
    return found


def _check_lengths(seqs, infos, n_steps) -> None:
    """Taps that cannot fit, found while building when the lengths are static."""
    for seq, taps in seqs:
        length, span = seq.type.shape[0], tap_span(taps)
        if not isinstance(length, int):
            continue
        if length < span:
            raise RuleError(
                codes.SHAPE,
                f"sequence {seq.type.short()} is shorter than its taps "
                f"{taps} reach ({span + 1} items for one step)",
            )
        if n_steps is not None and n_steps >= 0 and length - span < n_steps:
            raise RuleError(
                codes.SHAPE,
                f"n_steps={n_steps} but sequence {seq.type.short()} "
                f"with taps {taps} allows {length - span} steps",
            )
    for init, taps in infos:
        rows = init.type.shape[0] if init is not None and taps != (-1,) else None
        if isinstance(rows, int) and rows < max(-k for k in taps):
            raise RuleError(
                codes.SHAPE,
                f"an initial state for taps {taps} needs "
                f"{max(-k for k in taps)} rows, got {init.type.short()}",
            )


def _last_or(history, start):
    """The last value of a scan output, or ``start`` when the scan made no step."""
    from ..ops.ifelse import ifelse
    from ..ops.shape import shape_i

    return ifelse(shape_i(history, 0) > 0, history[-1], start)


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _sequence(seq):
    if isinstance(seq, dict):
        var, taps = as_tensor_variable(seq["input"]), seq.get("taps", [0])
    else:
        var, taps = as_tensor_variable(seq), [0]
    if var.ndim == 0:
        raise RuleError(
            codes.RANK, f"a sequence must have a leading dim to loop over, got {var.type.short()}"
        )
    return var, check_taps(taps if taps is not None else [0], "sequence")


def _output_info(info):
    if info is None:
        return None, ()
    if isinstance(info, dict):
        if info.get("initial") is None:
            return None, ()
        taps = check_taps(info.get("taps", [-1]), "outputs_info")
        init = as_tensor_variable(info["initial"])
    else:
        taps, init = (-1,), as_tensor_variable(info)
    if any(t >= 0 for t in taps):
        raise RuleError(codes.BAD_ARGUMENT, f"output taps must be negative, got {taps}")
    if taps != (-1,) and init.ndim == 0:
        raise RuleError(codes.RANK, f"an initial state for taps {taps} needs a leading dim")
    return init, taps


def _non_sequence(value):
    return value if isinstance(value, Variable) else as_tensor_variable(value)


def _placeholder(like, shape, label) -> Variable:
    dims = tuple(d if d == 1 else None for d in shape)
    return TensorType(like.dtype, shape=dims)(label)


def _state_placeholder(init, taps) -> Variable:
    shape = init.type.shape if taps == (-1,) else init.type.shape[1:]
    return _placeholder(init, shape, f"{init.name or 'state'}[t-1]")


def _parse_result(result):
    outputs, updates, cond = [], [], None
    items = list(result) if isinstance(result, (list, tuple)) else [result]
    for item in items:
        if isinstance(item, Until):
            cond = item.condition
        elif isinstance(item, dict):
            updates += list(item.items())
        elif (
            isinstance(item, (list, tuple))
            and item
            and all(
                isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], SharedVariable)
                for p in item
            )
        ):
            updates += list(item)
        elif isinstance(item, (list, tuple)):
            outputs += [as_tensor_variable(o) for o in item]
        else:
            outputs.append(as_tensor_variable(item))
    return outputs, updates, cond


def _check_output(i, out, init, taps):
    if init is None:
        return out
    state = init.type.shape if taps == (-1,) else init.type.shape[1:]
    if out.ndim != len(state):
        raise RuleError(
            codes.LOOP_CARRY,
            f"output {i} is {out.type.short()} but its initial "
            f"state has rank {len(state)} ({init.type.short()})",
        )
    if out.dtype != init.dtype:
        raise RuleError(
            codes.LOOP_CARRY,
            f"output {i} has dtype {out.dtype} but its initial state has dtype {init.dtype}",
            (f"cast one of them, e.g. (...).astype('{init.dtype}')",),
        )
    for axis, (s, o) in enumerate(zip(state, out.type.shape)):
        if (s == 1) != (o == 1):
            raise RuleError(
                codes.LOOP_CARRY,
                f"output {i} is {out.type.short()} but its "
                f"initial state is {init.type.short()}: dim {axis} "
                "is broadcastable in one and not the other",
            )
    return out


def _fit_shared(shared, expr):
    expr = as_tensor_variable(expr)
    if expr.dtype != shared.dtype or expr.ndim != shared.ndim:
        raise RuleError(
            codes.BAD_UPDATE,
            f"update of {shared} ({shared.type.short()}) with "
            f"{expr.type.short()} in the step function",
        )
    return expr


def map(
    fn,
    sequences,
    non_sequences=None,
    truncate_gradient=-1,
    go_backwards=False,
    mode=None,
    name=None,
):
    """``scan`` with no fed-back outputs: ``fn`` applied to each item."""
    return scan(
        fn,
        sequences=sequences,
        outputs_info=None,
        non_sequences=non_sequences,
        go_backwards=go_backwards,
        name=name,
    )


def reduce(
    fn, sequences, outputs_info, non_sequences=None, go_backwards=False, mode=None, name=None
):
    """``scan`` that keeps only the last value of each output: ``(results, updates)``."""
    outs, updates = scan(
        fn,
        sequences=sequences,
        outputs_info=outputs_info,
        non_sequences=non_sequences,
        go_backwards=go_backwards,
        name=name,
    )
    infos = _as_list(outputs_info)
    if isinstance(outs, list):
        infos = infos or [None] * len(outs)
        return [_reduced(o, info) for o, info in zip(outs, infos)], updates
    return _reduced(outs, infos[0] if infos else None), updates


def _reduced(history, info):
    """The last value of an output, or its initial value when the scan made no step (the
    last row of [initial state; history]: no ifelse, so the gradient needs no branch)."""
    from ..ops import concatenate, expand_dims

    init, taps = _output_info(info)
    if init is None:
        return history[-1]
    first = expand_dims(init, 0) if taps == (-1,) else init[-1:]
    return concatenate([first, history], axis=0)[-1]


def foldl(fn, sequences, outputs_info, non_sequences=None, mode=None, name=None):
    """Reduce from the first item to the last."""
    return reduce(fn, sequences, outputs_info, non_sequences, False, mode, name)


def foldr(fn, sequences, outputs_info, non_sequences=None, mode=None, name=None):
    """Reduce from the last item to the first."""
    return reduce(fn, sequences, outputs_info, non_sequences, True, mode, name)
