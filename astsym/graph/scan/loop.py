"""Running a ``Scan`` node step by step on the graph evaluator (the ``py`` backend), or on
another program over another array module (the ``gpu`` backend runs its inner graph as a
device program, with the buffers of its outputs allocated on the device before the loop)."""

from __future__ import annotations

import numpy as np

from astsym.typecheck import RuleError, codes

from .op import empty_like_type


def run_scan(op, node, inputs, program=None, xp=np) -> list:
    """The outputs of ``node`` (a scan) for ``inputs``: its inner graph run by ``program``
    (the op's own NumPy program by default) once per step, the outputs stacked in buffers
    of array module ``xp``."""
    info = op.info
    n_steps_given, rest = int(inputs[0]), list(inputs[1:])
    seqs, rest = rest[: info.n_seqs], rest[info.n_seqs :]
    inits, nonseqs = rest[: info.n_recurrent], rest[info.n_recurrent :]
    n_steps = _count_steps(info, seqs, n_steps_given)
    buffers = _initial_buffers(info, inits, n_steps, xp)
    program = op.program if program is None else program
    # a program with ``targets`` writes an output's value straight into its buffer row
    in_place = getattr(program, "targets", None) is not None
    rows: dict = {}
    done = n_steps
    for t in range(n_steps):
        storage = program.new_storage()
        args = _step_inputs(info, seqs, buffers, t) + nonseqs
        storage[: len(args)] = args
        if in_place:
            rows = _output_rows(info, buffers, t)
            program.targets = {program.output_slots[i]: row for i, row in rows.items()}
        program.run(storage)
        values = [storage[s] for s in program.output_slots]
        _store_outputs(op, info, buffers, values[: info.n_outs], t, n_steps, xp, rows)
        if info.has_until and values[-1]:
            done = t + 1
            break
    outs = []
    for i, buf in enumerate(buffers):
        if isinstance(buf, _State):
            outs.append(buf.value)
            continue
        start = _init_len(info.out_taps[i])
        if info.kept(i) != "all":
            outs.append(_last_value(op, i, buf, start + done, xp))
            continue
        if buf is None:
            inner = node.outputs[i].type.clone(shape=node.outputs[i].type.shape[1:])
            buf = xp.asarray(empty_like_type(inner, 0))
        outs.append(xp.array(buf[start : start + done]))
    return outs


def _last_value(op, i: int, buf, end: int, xp=np):
    """The last row of [initial taps; history] (``end`` rows of ``buf`` are filled)."""
    if end == 0 or (op.info.kept(i) == "last" and end == _init_len(op.info.out_taps[i])):
        raise RuleError(
            codes.INDEX, f"{op.name}: output {i} has no last value: the scan made no step"
        )
    return xp.array(buf[end - 1])


def _init_len(taps) -> int:
    return max((-t for t in taps), default=0)


def _count_steps(info, seqs, given: int) -> int:
    available = []
    for seq, taps in zip(seqs, info.seq_taps):
        span = tap_span(taps)
        available.append(len(seq) - span)
    if given < 0:
        if not available:
            raise RuleError(codes.BAD_ARGUMENT, "scan needs sequences or n_steps")
        return max(min(available), 0)
    if available and min(available) < given:
        raise RuleError(
            codes.SHAPE,
            f"scan asks for {given} steps but the sequences allow "
            f"only {min(available)} (taps included)",
        )
    return given


def _initial_buffers(info, inits, n_steps, xp) -> list:
    buffers, it = [], iter(inits)
    for taps in info.out_taps:
        if not taps:
            buffers.append(None)
            continue
        init = next(it)
        if not hasattr(init, "ndim"):  # a random generator: only its current state
            buffers.append(_State(init))
            continue
        k = _init_len(taps)
        stacked = init[None] if taps == (-1,) else init
        if len(stacked) < k:
            raise RuleError(
                codes.SHAPE,
                f"scan: an initial state for taps {taps} needs {k} "
                f"entries along its first dim, got {len(stacked)}",
            )
        buf = xp.empty((k + n_steps,) + stacked.shape[1:], dtype=stacked.dtype)
        buf[:k] = stacked[len(stacked) - k :]
        buffers.append(buf)
    return buffers


def tap_span(taps) -> int:
    """How many more items than steps a sequence needs: Theano counts tap 0 in always."""
    return max(max(taps), 0) - min(min(taps), 0)


def step_row(info, taps, length: int, t: int) -> int:
    """The row of a sequence that tap 0 of step ``t`` reads (``go_backwards``: from the end,
    each tap keeping the sequence's own direction, as Theano reads it)."""
    first = -min(min(taps), 0)
    return first + (length - tap_span(taps) - 1 - t if info.go_backwards else t)


def _step_inputs(info, seqs, buffers, t) -> list:
    args = []
    for seq, taps in zip(seqs, info.seq_taps):
        base = step_row(info, taps, len(seq), t)
        args += [seq[base + k, ...] for k in taps]  # 0-d arrays, not NumPy scalars
    for buf, taps in zip(buffers, info.out_taps):
        if isinstance(buf, _State):
            args.append(buf.value)
        elif taps:
            base = _init_len(taps) + t
            args += [buf[base + k, ...] for k in taps]
    return args


class _State:
    """The carried value of a non-tensor state: not stacked, only the latest kept."""

    def __init__(self, value) -> None:
        self.value = value


def _output_rows(info, buffers, t) -> dict:
    """Output ``i``'s row of step ``t`` in its buffer, by ``i``, where the buffer exists."""
    rows = {}
    for i, (buf, taps) in enumerate(zip(buffers, info.out_taps)):
        if buf is not None and not isinstance(buf, _State):
            rows[i] = buf[_init_len(taps) + t]
    return rows


def _store_outputs(op, info, buffers, values, t, n_steps, xp, rows=None) -> None:
    for i, (value, taps) in enumerate(zip(values, info.out_taps)):
        if rows and rows.get(i) is value:
            continue  # the step wrote it in its row already
        if isinstance(buffers[i], _State):
            buffers[i].value = value
            continue
        if buffers[i] is None:
            buffers[i] = xp.empty((n_steps,) + value.shape, dtype=value.dtype)
        buf, k = buffers[i], _init_len(taps)
        if buf.shape[1:] != value.shape:
            raise RuleError(
                codes.LOOP_CARRY,
                f"{op.name}: output {i} has shape {value.shape} at "
                f"step {t}, but {buf.shape[1:]} before",
            )
        buf[k + t] = value
