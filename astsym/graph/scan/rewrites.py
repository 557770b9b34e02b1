"""Rewrites of ``Scan`` nodes by the use made of their outputs, as Theano's scan rewrites do:

- ``scan_pushout_matvec`` (Theano's push-out of sequence-only work): a product of a
  loop-invariant matrix with the current item of a sequence, ``U @ x_t``, is computed for
  every item at once before the loop, ``xs @ U.T`` (one BLAS call), and read as a sequence;
- ``scan_sum_of_outer_products`` (Theano's ``PushOutDot1``): the steps' outer products
  summed after the loop, ``sum_t a_t b_t^T``, are one product ``A^T B`` of the stacked
  vectors (the gradient of a non-sequence matrix has this form), so the n matrices are
  never stored;
- ``scan_sum_to_accumulator`` (Theano keeps the gradient of a non-sequence so): any other
  output summed after the loop becomes a state ``acc_t = acc_{t-1} + o_t`` starting at
  zeros, of which only the last value is kept; the sum is made as the steps run, with no
  history stored and no pass over it afterwards;
- ``scan_save_memory`` (Theano's ``scan_save_mem``): an output of which only the last value
  is used (``h[-1]``, or ``reduce``'s last row of [initial state; history]) is kept as that
  value, and a fed-back output nothing uses as its last value: the loop keeps only the rows
  its taps read (``ScanInfo.keep``);
- ``scan_drop_unused_output``: an output that is not fed back and that nothing uses is not
  computed.

``optimize_scan_outputs(fg, log)`` applies them to every scan of ``fg`` and records each
firing in ``log`` (group ``scan``). Each computes the values the scan computed, up to
rounding (a product by BLAS sums in another order than one step at a time); the ``cpu``
pipeline runs it (``runtime/optimize.py``), ``py`` keeps the scans as built: the oracle.

    >>> import astsym.tensor as T
    >>> from astsym.graph.fg import FunctionGraph
    >>> from astsym.graph.scan.build import scan
    >>> xs, h0 = T.dmatrix("xs"), T.dvector("h0")
    >>> hs, _ = scan(lambda x, h: T.tanh(h + x), sequences=xs, outputs_info=h0)
    >>> fg = FunctionGraph([xs, h0], [hs[-1]])
    >>> optimize_scan_outputs(fg)
    1
    >>> fg.outputs[0].owner.op.info.keep
    ('last',)
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..basic import Constant
from ..fg import FunctionGraph
from ..ops import (
    DimShuffle,
    Join,
    MakeVector,
    MatMul,
    Reshape,
    ShapeI,
    Subtensor,
    matmul,
    reshape,
    transpose,
    zeros,
)
from ..ops.broadcast import patternbroadcast
from ..ops.dimshuffle import squeeze_axes
from ..ops.elemwise import cast
from ..ops.ifelse import IfElse
from ..ops.math import greater
from ..ops.reduce import Reduce
from ..ops.shape import as_shape_vector, static_value
from ..source import fixed_span
from ..type import TensorType
from ..walk import clone_replace, graph_inputs, toposort
from .op import Scan


def optimize_scan_outputs(fg: FunctionGraph, log=None) -> int:
    """Rewrite each scan of ``fg`` (see the module docstring); how many were changed."""
    changed = 0
    for node in fg.toposort():
        if isinstance(node.op, Scan) and all(isinstance(v.type, TensorType) for v in node.outputs):
            changed += _rewrite(fg, node, log)
    return changed


def _rewrite(fg, node, log) -> bool:
    with fixed_span(node._span):  # (the nodes built here point at the user's scan)
        edit = _Edit(fg, node)
        fired = [name for name, fn in _REWRITES if fn(edit)]
        if not fired:
            return False
        edit.keep_unchanged()
        new = edit.build()
        pairs = [(old, make(new)) for old, make in edit.replacements]
    if not all(_fits(old, var) for old, var in pairs):
        return False
    for old, var in pairs:
        fg.replace(old, var)
    if log is not None:
        for name in fired:
            log.record_pass("scan", name, node)
    return True


# -- a scan being rewritten ------------------------------------------------------------------


@dataclass(eq=False)
class _Output:
    var: object  # the inner output
    taps: tuple
    init: object  # the outer initial state (None: not fed back)
    states: list  # the inner inputs its taps read
    keep: str
    old: int | None  # its index in the original node (None: added)
    needed: bool = False  # another rewrite reads its history


class _Edit:
    """The parts of a scan node of ``fg``, changed piece by piece, then ``build`` makes the
    node."""

    def __init__(self, fg, node) -> None:
        op, info = node.op, node.op.info
        self.node, self.info = node, info
        self.clients = fg.clients()
        self.fg_outputs = {id(o) for o in fg.outputs}
        inputs, rest = list(op.inner.inputs), list(node.inputs[1:])
        self.seqs = []  # (outer sequence, taps, inner items)
        for taps, outer in zip(info.seq_taps, rest[: info.n_seqs]):
            self.seqs.append((outer, taps, inputs[: len(taps)]))
            inputs = inputs[len(taps) :]
        inits = iter(rest[info.n_seqs : info.n_seqs + info.n_recurrent])
        self.outs = []
        for j, taps in enumerate(info.out_taps):
            init = next(inits) if taps else None
            states, inputs = inputs[: len(taps)], inputs[len(taps) :]
            self.outs.append(_Output(op.inner.outputs[j], taps, init, states, info.kept(j), j))
        self.nonseqs = list(zip(rest[info.n_seqs + info.n_recurrent :], inputs))
        self.until = op.inner.outputs[info.n_outs] if info.has_until else None
        #: (old outer variable, new node's outputs -> its replacement)
        self.replacements: list = []
        self.casts: dict = {}  # id(inner variable) -> the variable in float64

    def uses(self, var) -> list | None:
        """The nodes using outer ``var``; None when it is an output of the graph."""
        if id(var) in self.fg_outputs:
            return None
        return [user for user, _ in self.clients.get(id(var), [])]

    def old_output(self, j: int):
        return self.node.outputs[j]

    def add_output(self, var) -> _Output:
        """A new output (not fed back, every step kept) computing inner ``var``, or the
        output that already does."""
        for out in self.outs:
            if out.var is var and not out.taps and out.keep == "all":
                out.needed = True
                return out
        out = _Output(var, (), None, [], "all", None)
        self.outs.append(out)
        return out

    def replace_inner(self, mapping: dict) -> None:
        """Substitute inner variables in every inner output (and the condition)."""
        roots = [o.var for o in self.outs] + ([self.until] if self.until is not None else [])
        new = clone_replace(roots, mapping)
        for out, var in zip(self.outs, new):
            out.var = var
        if self.until is not None:
            self.until = new[-1]

    def wide(self, var):
        """``var`` in float64 when it is float32 (one cast per variable): a sum of float32
        values accumulates in float64, as a compiled sum (``FusedReduce``) does."""
        if var.dtype != "float32":
            return var
        if id(var) not in self.casts:
            self.casts[id(var)] = cast(var, "float64")
        return self.casts[id(var)]

    def add_non_sequence(self, outer):
        """The inner variable reading outer ``outer`` (a new non-sequence if need be)."""
        if isinstance(outer, Constant):
            return outer
        for o, inner in self.nonseqs:
            if o is outer:
                return inner
        inner = outer.type(outer.name)
        self.nonseqs.append((outer, inner))
        return inner

    def outer_of(self, var):
        """The outer expression of inner ``var`` when it uses only non-sequences and
        constants (loop-invariant), else None."""
        outer = {id(inner): o for o, inner in self.nonseqs}
        free = graph_inputs([var])
        if any(id(v) not in outer and not isinstance(v, Constant) for v in free):
            return None
        mapping = {v: outer[id(v)] for v in free if id(v) in outer}
        return clone_replace([var], mapping)[0] if mapping else var

    def build(self) -> list:
        info = self.info
        inputs = [item for _, _, items in self.seqs for item in items]
        inputs += [s for out in self.outs for s in out.states]
        inputs += [inner for _, inner in self.nonseqs]
        outputs = [out.var for out in self.outs]
        outputs += [self.until] if self.until is not None else []
        new_info = replace(
            info,
            seq_taps=tuple(taps for _, taps, _ in self.seqs),
            out_taps=tuple(out.taps for out in self.outs),
            n_nonseq=len(self.nonseqs),
            keep=tuple(out.keep for out in self.outs),
        )
        outer = [self.node.inputs[0], *(seq for seq, _, _ in self.seqs)]
        outer += [out.init for out in self.outs if out.taps]
        outer += [o for o, _ in self.nonseqs]
        made = Scan(FunctionGraph(inputs, outputs), new_info)(*outer)
        return made if isinstance(made, list) else [made]

    def keep_unchanged(self) -> None:
        """Every original output still computed replaces itself (called last)."""
        for out in self.outs:
            if out.old is not None and out.keep == "all":
                self.replacements.append((self.old_output(out.old), self.pick(out)))

    def pick(self, out: _Output):
        """The new node's output of ``out`` (once it is built)."""
        return lambda new: new[self.outs.index(out)]


# -- the rewrites ----------------------------------------------------------------------------


def scan_pushout_matvec(edit: _Edit) -> bool:
    """U @ x_t (U loop-invariant, x_t the item of a sequence read at tap 0 only) -> row t of
    xs @ U.T, computed before the loop and read as one more sequence (of xs's length, so the
    steps and the rows they read stay the same)."""
    items = {id(items[0]): seq for seq, taps, items in edit.seqs if taps == (0,)}
    roots = [o.var for o in edit.outs] + ([edit.until] if edit.until is not None else [])
    found = {}
    for node in toposort(roots):
        if not isinstance(node.op, MatMul):
            continue
        a, b = node.inputs
        if b.ndim == 1 and a.ndim == 2 and id(b) in items:
            invariant, rows = edit.outer_of(a), lambda seq, m: matmul(seq, transpose(m))
        elif a.ndim == 1 and b.ndim == 2 and id(a) in items:
            invariant, rows = edit.outer_of(b), lambda seq, m: matmul(seq, m)
        else:
            continue
        if invariant is None:
            continue
        seq = items[id(b if b.ndim == 1 else a)]
        item = node.outputs[0].type(f"{seq.name or 'seq'}@[t+0]")
        edit.seqs.append((rows(seq, invariant), (0,), [item]))
        found[node.outputs[0]] = item
    if found:
        edit.replace_inner(found)
    return bool(found)


def scan_sum_of_outer_products(edit: _Edit) -> bool:
    """sum_t(a_t[:, None] @ b_t[None, :]) -> A.T @ B, with A and B the stacked a_t and b_t
    (two more outputs, of one vector a step, instead of a matrix a step; float32 ones are
    stored and multiplied in float64, as a compiled float32 sum accumulates)."""
    fired = False
    for out in list(edit.outs):
        if out.old is None or out.taps or out.keep != "all" or out.var.owner is None:
            continue
        p, q = _outer_operands(out.var)
        total = _summed_over_steps(edit, edit.old_output(out.old), 3)
        if p is None or total is None:
            continue
        sum_node, dims = total
        col = edit.add_output(edit.wide(_vector(p, 1)))
        row = edit.add_output(edit.wide(_vector(q, 0)))
        edit.outs.remove(out)
        made = _outer_sum(edit, col, row, dims, sum_node.outputs[0].dtype)
        edit.replacements.append((sum_node.outputs[0], made))
        fired = True
    return fired


def _outer_sum(edit, col: _Output, row: _Output, dims, dtype: str):
    def make(new):
        a, b = edit.pick(col)(new), edit.pick(row)(new)
        if dims is not None:  # the rows as the reshape saw them (zero steps included)
            n, d0, d1 = dims
            a, b = reshape(a, (n, d0)), reshape(b, (n, d1))
        return cast(matmul(transpose(a), b), dtype)

    return make


def scan_sum_to_accumulator(edit: _Edit) -> bool:
    """sum_t o_t -> the last acc of acc_t = acc_{t-1} + o_t, acc_{-1} = 0 (with a reshape of
    the history in between, o_t is reshaped likewise; without one, the dims of o_t must be
    static, for the zeros). A float32 sum accumulates in float64, as a compiled sum does."""
    fired = False
    for out in list(edit.outs):
        if out.old is None or out.taps or out.keep != "all":
            continue
        total = _summed_over_steps(edit, edit.old_output(out.old), out.var.ndim + 1)
        if total is None:
            continue
        sum_node, dims = total
        if dims is None and not all(isinstance(d, int) for d in out.var.type.shape):
            continue
        step = out.var
        if dims is not None:
            dims = dims[1:]
            if dims or step.ndim:  # (a step's scalar needs no reshape to ())
                step = reshape(step, edit.add_non_sequence(as_shape_vector(dims)))
        else:
            dims = out.var.type.shape
        step = edit.wide(step)
        acc = _Output(None, (-1,), zeros(dims, step.dtype), [], "last_or_initial", None)
        state = acc.init.type.clone(shape=step.type.shape)("acc[t-1]")
        acc.var, acc.states = state + step, [state]
        if acc.var.type != state.type:
            continue
        acc.init = _typed(acc.init, state.type)
        edit.outs.append(acc)
        if not out.needed:
            edit.outs.remove(out)
        edit.replacements.append((sum_node.outputs[0], _cast_to(edit.pick(acc), out.var.dtype)))
        fired = True
    return fired


def _fits(old, new) -> bool:
    """A replacement keeps the dtype and the broadcastable dims of what it replaces (the
    nodes using it were built for them)."""
    return (old.dtype, old.broadcastable) == (new.dtype, new.broadcastable)


def _cast_to(pick, dtype: str):
    return lambda new: cast(pick(new), dtype)


def _typed(init, state_type):
    if init.type.broadcastable == state_type.broadcastable:
        return init
    return patternbroadcast(init, state_type.broadcastable)


def _outer_operands(var):
    """(p, q) when ``var`` is p @ q with p of shape (k, 1) and q of shape (1, m)."""
    node = var.owner
    if not isinstance(node.op, MatMul):
        return None, None
    p, q = node.inputs
    if p.ndim == 2 and q.ndim == 2 and p.type.shape[1] == 1 and q.type.shape[0] == 1:
        return p, q
    return None, None


def _vector(var, axis: int):
    """The vector whose items the 2-D ``var`` (of size 1 along ``axis``) holds."""
    source = var
    while source.owner is not None and isinstance(source.owner.op, DimShuffle):
        source = source.owner.inputs[0]
        if source.ndim == 1:
            return source
    return squeeze_axes(var, [axis])


def _summed_over_steps(edit, out, ndim: int):
    """(the node summing ``out`` over the steps, the dims of a reshape between them or
    None), when that is the only use of ``out`` (of ``ndim`` dims)."""
    users = edit.uses(out)
    if not users or len(users) != 1 or out.ndim != ndim:
        return None
    user, dims = users[0], None
    if isinstance(user.op, Reshape) and user.op.ndim == ndim:
        dims = _reshape_dims(edit, user.inputs[1], ndim)
        users = edit.uses(user.outputs[0])
        if dims is None or not users or len(users) != 1:
            return None
        user = users[0]
    op = user.op
    if isinstance(op, Reduce) and op.kind == "sum" and op.axes == (0,) and not op.keepdims:
        if user.outputs[0].dtype == out.dtype:
            return user, dims
    return None


def _reshape_dims(edit, shape, ndim: int):
    """(n, d0, ...) of a reshape to (n, d0, ...) where n is surely the number of steps."""
    node = shape.owner
    if node is None or not isinstance(node.op, MakeVector) or len(node.inputs) != ndim:
        return None
    n = node.inputs[0]
    scan = edit.node
    stacked = [o for j, o in enumerate(scan.outputs) if edit.info.kept(j) == "all"]
    counts_steps = (n is scan.inputs[0] and not edit.info.has_until) or (
        n.owner is not None
        and isinstance(n.owner.op, ShapeI)
        and n.owner.op.i == 0
        and any(n.owner.inputs[0] is o for o in stacked)
    )
    return tuple(node.inputs) if counts_steps else None


def scan_save_memory(edit: _Edit) -> bool:
    """history[-1] -> the last value (no history kept); [initial; history][-1] and
    ifelse(history.shape[0] > 0, history[-1], initial) (a shared variable's update) -> the
    last value or the initial state; a fed-back output nothing uses -> its last value."""
    fired = False
    for out in edit.outs:
        if out.old is None or out.keep != "all" or out.needed:
            continue
        old = edit.old_output(out.old)
        users = edit.uses(old)
        if users is None:
            continue
        if not users and out.taps:
            out.keep = "last_or_initial"  # (zero steps must not fail for a value unused)
            fired = True
            continue
        lasts = _last_items(edit, out, users)
        if lasts is None:
            continue
        out.keep, items = lasts
        edit.replacements += [(item, edit.pick(out)) for item in items]
        fired = True
    return fired


def _last_items(edit, out: _Output, users):
    """("last", the x[-1] nodes' outputs) when every use of ``out`` is one; ("last_or_
    initial", ...) when its only use is [initial; out], used only as [...][-1]."""
    if users and all(_is_last(u) for u in users):
        return "last", [u.outputs[0] for u in users]
    if out.taps != (-1,):
        return None
    if len(users) == 2:
        return _chosen_last(edit, out, users)
    old = edit.old_output(out.old)
    if len(users) != 1 or not isinstance(users[0].op, Join):
        return None
    join = users[0]
    first, *rest = join.inputs
    if join.op.axis != 0 or len(rest) != 1 or rest[0] is not old:
        return None
    if not _is_expanded(first, out.init):
        return None
    outer_users = edit.uses(join.outputs[0])
    if not outer_users or not all(_is_last(u) for u in outer_users):
        return None
    return "last_or_initial", [u.outputs[0] for u in outer_users]


def _chosen_last(edit, out: _Output, users):
    """("last_or_initial", [the ifelse's output]) when ``users`` are history.shape[0] and
    history[-1], used only by ifelse(history.shape[0] > 0, history[-1], initial)."""
    size = next((u for u in users if isinstance(u.op, ShapeI) and u.op.i == 0), None)
    last = next((u for u in users if _is_last(u)), None)
    if size is None or last is None:
        return None
    (test, *others) = edit.uses(size.outputs[0]) or [None]
    if others or test is None or test.op is not greater or static_value(test.inputs[1]) != 0:
        return None
    (choice, *others) = edit.uses(test.outputs[0]) or [None]
    if others or choice is None or not isinstance(choice.op, IfElse) or choice.op.n_outs != 1:
        return None
    cond, then, other = choice.inputs
    if edit.uses(last.outputs[0]) != [choice] or then is not last.outputs[0]:
        return None
    if cond is not test.outputs[0] or other is not out.init:
        return None
    return "last_or_initial", [choice.outputs[0]]


def _is_last(node) -> bool:
    """``node`` is x[-1]."""
    return (
        isinstance(node.op, Subtensor)
        and node.op.spec == ("index",)
        and static_value(node.inputs[1]) == -1
    )


def _is_expanded(var, init) -> bool:
    """``var`` is ``init`` with a leading dim of size 1 added."""
    node = var.owner
    return (
        node is not None
        and isinstance(node.op, DimShuffle)
        and node.inputs[0] is init
        and node.op.new_order == ("x", *range(init.ndim))
    )


def scan_drop_unused_output(edit: _Edit) -> bool:
    """An output not fed back that nothing uses -> not computed."""
    unused = [
        out
        for out in edit.outs
        if out.old is not None
        and not out.taps
        and out.keep == "all"
        and not out.needed
        and edit.uses(edit.old_output(out.old)) == []
    ]
    if len(unused) == len(edit.outs):
        return False  # (a scan with no output at all is dead code: left to the caller)
    for out in unused:
        edit.outs.remove(out)
    return bool(unused)


#: In order: each sees the outputs the ones before left.
_REWRITES = (
    ("scan_pushout_matvec", scan_pushout_matvec),
    ("scan_sum_of_outer_products", scan_sum_of_outer_products),
    ("scan_sum_to_accumulator", scan_sum_to_accumulator),
    ("scan_save_memory", scan_save_memory),
    ("scan_drop_unused_output", scan_drop_unused_output),
)
