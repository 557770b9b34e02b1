"""Backpropagation through time: the gradient of a ``Scan`` node is another scan.

The backward scan runs over the forward steps in reverse. Per step it reads the items the
forward step read (sequence taps and previous states, re-aligned outside so every backward
sequence has tap 0), the values that step output and the gradients of those outputs; it
carries, per recurrent output and tap ``k``, the gradient sent to the state ``|k|`` steps
earlier (fed back with the same tap ``k``), and emits the gradients of the sequence items
and non-sequences. Outside, those are placed back where the forward step read them.

A gradient that needs a step's output (``tanh``'s does: ``gz * (1 - out**2)``) reads the
value the forward step stored, as Theano's scan gradient does, so the backward step does
not compute the forward step again.
"""

from __future__ import annotations

from astsym.typecheck.dtypes import is_continuous

from ..ops import concatenate, expand_dims, inc_subtensor, minimum, reshape, shape_i, zeros_like
from ..ops.shape import shape_tuple
from ..type import TensorType
from ..walk import clone_replace
from .loop import tap_span


def scan_grad(op, node, output_grads) -> list:
    info, inner = op.info, op.inner
    _, *outer = node.inputs
    seqs = outer[: info.n_seqs]
    inits = outer[info.n_seqs : info.n_seqs + info.n_recurrent]
    nonseqs = outer[info.n_seqs + info.n_recurrent :]
    outs = node.outputs
    steps = shape_i(outs[0], 0)  # the steps actually made (an until may stop early)
    span = steps if info.truncate_gradient < 0 else minimum(steps, info.truncate_gradient)
    start = steps - span
    plan = _Plan(info, inner, seqs, inits, nonseqs, outs, output_grads, start, span)
    results, _ = _backward_scan(plan)
    return [None] + plan.place(results)


class _Plan:
    """Which forward values the backward step reads, and where its results go."""

    def __init__(self, info, inner, seqs, inits, nonseqs, outs, output_grads, start, span):
        self.info, self.inner, self.start, self.span = info, inner, start, span
        self.seqs = list(seqs)
        self.inits, self.nonseqs, self.outs = inits, nonseqs, outs
        self.float_outs = [i for i in range(info.n_outs) if is_continuous(outs[i].dtype)]
        self.grads = [_or_zeros(output_grads[i], outs[i]) for i in range(info.n_outs)]
        self.buffers = [self._buffer(i, init) for i, init in zip(self._recurrent(), inits)]

    def _recurrent(self) -> list[int]:
        return [i for i, taps in enumerate(self.info.out_taps) if taps]

    def _buffer(self, i, init):
        """[initial states; outputs]: the forward step t reads tap k at n_init + t + k."""
        taps = self.info.out_taps[i]
        first = expand_dims(init, 0) if taps == (-1,) else init[-_n_init(taps) :]
        return concatenate([first, self.outs[i]], axis=0)

    def _window(self, array, offset):
        """Rows offset + start ... offset + start + span, last first."""
        return array[offset + self.start : offset + self.start + self.span][::-1]

    def _aligned(self, seq, taps, k):
        """The items tap ``k`` reads, in the order of the forward steps."""
        lo = min(min(taps), 0)
        rows = seq[k - lo : k - lo + shape_i(seq, 0) - tap_span(taps)]
        return rows[::-1] if self.info.go_backwards else rows

    def sequences(self) -> list:
        items = [
            self._window(self._aligned(seq, taps, k), 0)
            for seq, taps in zip(self.seqs, self.info.seq_taps)
            for k in taps
        ]
        for i, buf in zip(self._recurrent(), self.buffers):
            taps = self.info.out_taps[i]
            items += [self._window(buf, _n_init(taps) + k) for k in taps]
        items += [self._window(self.outs[i], 0) for i in self.tensor_outs()]
        return items + [self._window(self.grads[i], 0) for i in self.float_outs]

    def tensor_outs(self) -> list[int]:
        """The outputs whose stored values the backward step reads (not a random state)."""
        return [i for i, v in enumerate(self.outs) if isinstance(v.type, TensorType)]

    def carried(self) -> list:
        """Per float recurrent output and tap k: zeros for the |k| steps before the first."""
        out = []
        for i, buf in zip(self._recurrent(), self.buffers):
            if i in self.float_outs:
                out += [_zero_state(buf, k) for k in self.info.out_taps[i]]
        return out

    def place(self, results) -> list:
        """Gradients of the node's sequences, initial states and non-sequences."""
        it = iter(results)
        carried = {
            (i, k): next(it)
            for i in self._recurrent()
            if i in self.float_outs
            for k in self.info.out_taps[i]
        }
        seq_grads = [self._place_seq(j, it) for j in range(self.info.n_seqs)]
        init_grads = [
            self._place_init(i, init, buf, carried)
            for i, init, buf in zip(self._recurrent(), self.inits, self.buffers)
        ]
        ns_grads = [
            self._rows(next(it), shape_tuple(v)).sum(axis=0) if is_continuous(v.dtype) else None
            for v in self.nonseqs
        ]
        return seq_grads + init_grads + ns_grads

    def _place_seq(self, j, it):
        seq, taps = self.seqs[j], self.info.seq_taps[j]
        if not is_continuous(seq.dtype):
            return None
        total, lo = zeros_like(seq), min(min(taps), 0)
        available = shape_i(seq, 0) - tap_span(taps)
        for k in taps:
            rows = self._rows(next(it), shape_tuple(seq)[1:])[::-1]  # forward step order
            if self.info.go_backwards:  # step t read row available - 1 - t + k - lo
                first = available - self.start - self.span + k - lo
                total = inc_subtensor(total[first : first + self.span], rows[::-1])
            else:
                first = k - lo + self.start
                total = inc_subtensor(total[first : first + self.span], rows)
        return total

    def _rows(self, history, dims):
        """A plain output of the backward scan, shaped ``(span, *dims)``: after 0 steps the
        scan cannot know the shape of the rows it never computed."""
        return reshape(history, (self.span, *dims))

    def _place_init(self, i, init, buf, carried):
        taps = self.info.out_taps[i]
        if i not in self.float_outs:
            return None
        n_init, total = _n_init(taps), zeros_like(buf)
        for k in taps:
            offset = n_init + k + self.start
            total = inc_subtensor(total[offset : offset + self.span], carried[(i, k)][::-1])
        if taps == (-1,):
            return total[0]
        return inc_subtensor(zeros_like(init)[-n_init:], total[:n_init])


def _backward_scan(plan: _Plan):
    from .build import scan

    info, inner = plan.info, plan.inner
    n_seq_items = sum(len(t) for t in info.seq_taps)
    n_state_items = sum(len(t) for t in info.out_taps)
    n_stored = len(plan.tensor_outs())
    n_grads = len(plan.float_outs)
    carried = plan.carried()

    def step(*args):
        seq_in = args[:n_seq_items]
        state_in = args[n_seq_items : n_seq_items + n_state_items]
        stored, rest = _split(args[n_seq_items + n_state_items :], n_stored)
        grads_in, rest = _split(rest, n_grads)
        carried_in, nonseq_in = rest[: len(carried)], rest[len(carried) :]
        mapping = dict(zip(inner.inputs, list(seq_in) + list(state_in) + list(nonseq_in)))
        outputs = clone_replace(inner.outputs[: info.n_outs], mapping)
        known = _output_totals(plan, outputs, grads_in, carried_in)
        wrt = [v for v in (*state_in, *seq_in, *nonseq_in) if is_continuous(v.dtype)]
        from ..grad import grad

        found = grad(None, wrt, known_grads=known, disconnected_inputs="ignore") if wrt else []
        # the forward step's outputs are read, not computed again
        found = _reading_outputs(found, [outputs[i] for i in plan.tensor_outs()], stored)
        by_id = {id(v): g for v, g in zip(wrt, found)}
        states = _float_recurrent_states(plan, state_in)
        return (
            [by_id[id(v)] for v in states]
            + [by_id[id(v)] for v in seq_in if is_continuous(v.dtype)]
            + [by_id[id(v)] for v in nonseq_in if is_continuous(v.dtype)]
        )

    return scan(
        step,
        sequences=plan.sequences(),
        outputs_info=carried + [None] * _n_plain(plan),
        non_sequences=plan.nonseqs,
        n_steps=plan.span,
        name=f"grad_of_{info.name}",
        return_list=True,
    )


def _split(items, n: int) -> tuple:
    return items[:n], items[n:]


def _reading_outputs(found, outputs, stored) -> list:
    """``found`` with each step output replaced by the stored value fed in as ``stored``."""
    replace = {out: value for out, value in zip(outputs, stored) if out.owner is not None}
    kept = [g for g in found if g is not None]
    new = iter(clone_replace(kept, replace) if replace and kept else kept)
    return [None if g is None else next(new) for g in found]


def _output_totals(plan, outputs, grads_in, carried_in) -> dict:
    """Each float output's gradient: its own plus what later steps sent back through taps."""
    totals, it = {}, iter(carried_in)
    for g, i in zip(grads_in, plan.float_outs):
        total = g
        for _ in plan.info.out_taps[i]:
            total = total + next(it)
        totals[outputs[i]] = total
    return totals


def _float_recurrent_states(plan, state_in) -> list:
    states, it = [], iter(state_in)
    for i, taps in enumerate(plan.info.out_taps):
        for _ in taps:
            v = next(it)
            if i in plan.float_outs:
                states.append(v)
    return states


def _n_plain(plan) -> int:
    seq_items = [s for s, taps in zip(plan.seqs, plan.info.seq_taps) for _ in taps]
    floats = [s for s in seq_items + list(plan.nonseqs) if is_continuous(s.dtype)]
    return len(floats)


def _zero_state(buf, k: int) -> dict:
    """outputs_info for a carried gradient fed back with tap k (a single state for -1)."""
    return dict(initial=zeros_like(buf[0] if k == -1 else buf[:-k]), taps=[k])


def _n_init(taps) -> int:
    return max(-k for k in taps)


def _or_zeros(g, like):
    return g if g is not None else zeros_like(like)
