"""A scan that is really a map becomes its body applied to whole sequences.

Theano pushes loop-invariant computation out of a scan; when the whole body is elementwise
in the current items of the sequences and the non-sequences, and nothing is fed back, the
loop itself can go: every op of the body gets a leading step axis and runs once over the
stacked items. The ``fuse`` passes then make one kernel of it (and of a reduction of its
result), so ``scan(lambda c, p, x: c * x**p, ...)`` summed is one vectorized pass instead
of one call to ``pow`` per step.

    >>> import astsym.tensor as T
    >>> from astsym.graph.fg import FunctionGraph
    >>> from astsym.graph.rewrite import GROUPS, rewrite
    >>> from astsym.graph.scan.build import scan
    >>> c, x = T.dvector("c"), T.dscalar("x")
    >>> terms, _ = scan(lambda ci, x: ci * x, sequences=c, non_sequences=x)
    >>> fg = rewrite(FunctionGraph([c, x], [terms]), GROUPS["scan"])
    >>> [node.op.name for node in fg.toposort()]
    ['multiply']

What is rewritten: a ``Scan`` with no recurrent output (so no shared-variable update and no
random generator, which are carried states), no ``until``, at least one sequence, every
sequence read at tap 0 only, whose inner graph holds only elementwise ops (casts included)
and ``DimShuffle``s, and every output of which depends on a sequence item (an output made
of non-sequences alone would need repeating ``n`` times: left as a scan). Step ``t`` reads
row ``t`` of each sequence (``go_backwards``: row ``len - 1 - t``), so the stacked items are
``seq[:n]`` (``seq[::-1][:n]``) with ``n`` the step count as the scan computes it: the
shortest sequence, or ``n_steps`` when given (then a sequence shorter than ``n_steps`` still
fails the call, by a reshape to ``n`` rows). A non-sequence keeps its shape: NumPy's
broadcasting aligns it with the trailing dims, as inside a step; a stepped operand of lower
rank than its op's output gets its step axis in front of broadcast dims. Dtypes are the ops'
own, so the result has the scan's dtype; its shape is the scan's too, including after zero
steps, where a scan returns size 0 in every per-step dim not known statically (it never
ran a step to learn them): such an output is reshaped with those dims times ``min(n, 1)``.

Where it runs: only in the ``cpu`` pipeline (``runtime/optimize.py``, with ``specialize``
on), before the other rule passes so that they and fusion see the elementwise graph. It
computes the same values on any backend, but ``py`` is the oracle the tests compare
against, so there the scan stays a scan and the rewrite is checked against it. Theano's
scan push-out rewrites run in ``fast_run`` on every linker; here only the compiled one gains
from them.
"""

from __future__ import annotations

from ..basic import Constant
from ..ops import minimum, reshape, shape_i, where
from ..ops.dimshuffle import DimShuffle
from ..ops.elemwise import Elemwise
from ..ops.shape import static_value
from ..rewrite import rule
from .op import Scan


@rule(Scan, group="scan")
def elementwise_from_scan(node):
    """scan(f, sequences=s, non_sequences=w) -> f(s[:n], w) with each op of f given a
    leading step axis, when f is elementwise and nothing is fed back (a map)."""
    info = node.op.info
    if info.has_until or info.n_recurrent or not info.n_seqs:
        return None
    if any(taps != (0,) for taps in info.seq_taps):
        return None
    rows = _stacked_items(node)
    values = _lifted_body(node.op.inner, rows, node.inputs[1 + info.n_seqs :])
    if values is None:
        return None
    return [_with_scan_shape(v, out) for v, out in zip(values, node.op.inner.outputs)]


# -- the items the steps read, stacked ------------------------------------------------------


def _stacked_items(node) -> list:
    """Per sequence, the rows the steps read, in step order."""
    info = node.op.info
    n_given, seqs = node.inputs[0], node.inputs[1 : 1 + info.n_seqs]
    given = static_value(n_given)
    backwards = info.go_backwards
    if given is not None and given < 0:  # as many steps as the shortest sequence allows
        if len(seqs) == 1:
            return [seqs[0][::-1] if backwards else seqs[0]]
        n = _shortest(seqs)
        return [(seq[::-1] if backwards else seq)[:n] for seq in seqs]
    n = given if given is not None else where(n_given >= 0, n_given, _shortest(seqs))
    return [_exactly(seq, n, backwards) for seq in seqs]


def _shortest(seqs):
    """The least length of ``seqs``: an int when every length is static."""
    lengths = [seq.type.shape[0] for seq in seqs]
    if all(isinstance(d, int) for d in lengths):
        return min(lengths)
    out = None
    for seq, d in zip(seqs, lengths):
        d = d if isinstance(d, int) else shape_i(seq, 0)
        out = d if out is None else minimum(out, d)
    return out


def _exactly(seq, n, backwards: bool):
    """The ``n`` rows steps read from ``seq``; the reshape to ``n`` rows fails the call
    when ``seq`` is shorter, as the scan does (``n`` is given, not derived from it)."""
    rows = seq[shape_i(seq, 0) - n :] if backwards else seq[:n]
    dims = [
        d if isinstance(d, int) else shape_i(seq, k + 1) for k, d in enumerate(seq.type.shape[1:])
    ]
    rows = reshape(rows, (n, *dims))
    return rows[::-1] if backwards else rows


# -- the body, one step axis more ----------------------------------------------------------


def _lifted_body(inner, rows, nonseqs) -> list | None:
    """The inner graph's outputs computed on the stacked items, or None when an op is not
    elementwise or an output does not depend on a sequence."""
    lifted: dict[int, tuple] = {}  # id(inner variable) -> (outer value, has the step axis)
    for var, row in zip(inner.inputs, rows):
        lifted[id(var)] = (row, True)
    for var, value in zip(inner.inputs[len(rows) :], nonseqs):
        lifted[id(var)] = (value, False)
    for node in inner.toposort():
        args = [lifted.get(id(v), (v, False)) for v in node.inputs]
        if any(id(v) not in lifted and not isinstance(v, Constant) for v in node.inputs):
            return None
        out = _lift(node, args)
        if out is None:
            return None
        lifted[id(node.outputs[0])] = out
    outs = [lifted.get(id(v)) for v in inner.outputs]
    if any(out is None or not out[1] for out in outs):
        return None
    return [value for value, _ in outs]


def _lift(node, args) -> tuple | None:
    """``node``'s op applied to the lifted operands ``args`` ((value, stepped) pairs)."""
    op = node.op
    if not isinstance(op, (Elemwise, DimShuffle)) or len(node.outputs) != 1:
        return None
    if not any(stepped for _, stepped in args):  # loop-invariant: computed once
        return op(*[value for value, _ in args]), False
    if isinstance(op, DimShuffle):  # the step axis stays first
        order = (0,) + tuple(o if o == "x" else o + 1 for o in op.new_order)
        return DimShuffle(op.input_ndim + 1, order)(args[0][0]), True
    rank = node.outputs[0].ndim
    values = [
        _step_axis_first(value, var.ndim, rank) if stepped else value
        for (value, stepped), var in zip(args, node.inputs)
    ]
    return op(*values), True


def _step_axis_first(value, item_rank: int, rank: int):
    """A stepped operand whose items have ``item_rank`` dims, for an op of output ``rank``:
    broadcast dims go after the step axis (NumPy would put them before it)."""
    if item_rank == rank:
        return value
    order = (0,) + ("x",) * (rank - item_rank) + tuple(range(1, item_rank + 1))
    return DimShuffle(item_rank + 1, order)(value)


def _with_scan_shape(value, inner_out):
    """``value`` shaped as the scan's output: after zero steps, every per-step dim that is
    not static has size 0."""
    dims = inner_out.type.shape
    if all(isinstance(d, int) for d in dims):
        return value
    n = shape_i(value, 0)
    some = minimum(n, 1)
    shape = [d if isinstance(d, int) else shape_i(value, k + 1) * some for k, d in enumerate(dims)]
    return reshape(value, (n, *shape))
