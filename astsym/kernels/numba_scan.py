"""A ``Scan`` node inside a compiled graph (``numba_graph.py``): a loop whose body is the
inner graph's code, written in line (no call per step), over buffers allocated once.

Each output lives in one buffer, initial taps first, so a tap is a row of it. An output
kept whole has a row per step; one of which only the last value is kept (``ScanInfo.keep``)
has a ring of one row more than its taps reach, so the row a step writes is never one it
reads. The first step runs before the loop: the buffers of outputs that are not fed back
get the shape of its values, and the arrays its nodes allocate are written again by the
same nodes in later steps (when the shape is the same), so a step allocates nothing. In the
loop, the node computing a step's output writes it straight into its buffer row, and the
node's outputs are views of the buffers (the rows of the steps made, or the last row), so
nothing is copied after the loop. Zero steps, or an output whose shape changes between
steps, is a ValueError (the caller then runs the scan op by op, which returns or reports
it).
"""

from __future__ import annotations

import re

from astsym.graph.scan.loop import tap_span
from astsym.graph.type import TensorType

from . import numba_blas
from .numba_graph import Unsupported, _Emitter


def emit_scan(outer, node) -> None:
    """Write ``node``'s loop into ``outer`` (an ``_Emitter``) and bind its outputs."""
    info = node.op.info
    if any(not isinstance(v.type, TensorType) for v in node.outputs):
        raise Unsupported(f"{node.op.name}: a state that is not a tensor")
    uid = outer.fresh("scan")
    n_given, *rest = [outer.value(v) for v in node.inputs]
    seqs, rest = rest[: info.n_seqs], rest[info.n_seqs :]
    inits, nonseqs = rest[: info.n_recurrent], rest[info.n_recurrent :]
    lines = outer.lines
    n = _step_count(lines, uid, n_given, seqs, info)
    buffers = [_Buffer(f"{uid}_b{j}", t, info.kept(j)) for j, t in enumerate(info.out_taps)]
    recurrent = iter(inits)
    for buf, out in zip(buffers, node.op.inner.outputs):
        if buf.taps:
            buf.allocate_initial(lines, next(recurrent), n, out.ndim, out.dtype)
    columns = _in_column_order(outer, node, nonseqs)
    first = _Step(outer, node, (seqs, nonseqs, columns), buffers, n, peeled=None)
    first.write("0", lines)
    done = f"{uid}_done"
    lines.append(f"{done} = {n}")
    later = _Step(outer, node, (seqs, nonseqs, columns), buffers, n, first.allocated)
    body: list[str] = []
    step = f"{uid}_t"  # (a scan in the step has a loop of its own)
    later.write(step, body)
    if info.has_until:
        lines.append(f"if {first.until}: {done} = 1")
        lines.append(f"if {done} == {n}:")
        lines.append(f"    for {step} in range(1, {n}):")
        lines += ["        " + line for line in body]
        lines.append(f"        if {later.until}:")
        lines.append(f"            {done} = {step} + 1")
        lines.append("            break")
    else:
        lines.append(f"for {step} in range(1, {n}):")
        lines += ["    " + line for line in body]
    for j, buf in enumerate(buffers):
        outer.assign(node, buf.result(done), index=j)


def _in_column_order(outer, node, nonseqs: list) -> dict:
    """Name -> the name of its copy in column order, for each non-sequence matrix that the
    steps only multiply vectors by: copied once, before the loop (``numba_blas``: a product
    by columns is the faster one, and the copy costs about what one step's product does)."""
    inner = node.op.inner
    clients = inner.clients()
    first = len(inner.inputs) - len(nonseqs)
    columns = {}
    for name, var in zip(nonseqs, inner.inputs[first:]):
        uses = clients.get(id(var), [])
        if var.ndim == 2 and uses and all(_matrix_of_matvec(user, i) for user, i in uses):
            outer.out.names["_columns_for_loops"] = numba_blas.columns_for_loops
            columns[name] = outer.fresh("w")
            outer.lines.append(f"{columns[name]} = _columns_for_loops({name})")
    return columns


def _matrix_of_matvec(node, position: int) -> bool:
    """Whether the input at ``position`` of ``node`` is the matrix of a matrix @ vector."""
    return (
        type(node.op).__name__ == "MatMul"
        and position == 0
        and node.inputs[1].ndim == 1
        and node.outputs[0].dtype in ("float32", "float64")
    )


def _step_count(lines, uid: str, n_given: str, seqs, info) -> str:
    """Lines computing the number of steps; its name."""
    n = f"{uid}_n"
    available = [f"{s}.shape[0] - {tap_span(t)}" for s, t in zip(seqs, info.seq_taps)]
    if available:
        least = available[0] if len(available) == 1 else f"min({', '.join(available)})"
        lines += [
            f"{n} = {n_given} if {n_given} >= 0 else max({least}, 0)",
            f"if {least} < {n}: raise ValueError('scan: sequences too short')",
        ]
    else:
        lines += [f"{n} = {n_given}", f"if {n} < 0: raise ValueError('scan: no steps')"]
    lines.append(f"if {n} == 0: raise ValueError('scan: zero steps')")
    return n


class _Buffer:
    """One output's rows: ``k`` initial ones (its taps' reach), then one per step, or a
    ring of ``k + 1`` rows when only the last value is kept."""

    def __init__(self, name: str, taps: tuple, kept: str) -> None:
        self.name, self.taps = name, taps
        self.k = max((-t for t in taps), default=0)
        self.ring = None if kept == "all" else self.k + 1

    def row(self, t: str, tap: int = 0) -> str:
        """The row tap ``tap`` of step ``t`` reads (0: the row step ``t`` writes)."""
        row = f"{self.k} + {t}" + (f" + {tap}" if tap else "")
        return f"({row}) % {self.ring}" if self.ring else row

    def length(self, n: str) -> str:
        return str(self.ring) if self.ring else f"{self.k} + {n}"

    def allocate_initial(self, lines, init: str, n: str, ndim: int, dtype) -> None:
        """The buffer of a recurrent output (of ``ndim`` dims a step), holding its initial
        taps."""
        name, k, rows = self.name, self.k, self.length(n)
        if self.taps == (-1,):
            shape = f"({rows},) + {init}.shape" if ndim else rows
            lines += [f"{name} = np.empty({shape}, np.{dtype})", f"{name}[0] = {init}"]
            return
        lines += [
            f"if {init}.shape[0] < {k}: raise ValueError('scan: too few initial taps')",
            f"{name} = np.empty(({rows},) + {init}.shape[1:], np.{dtype})",
            f"{name}[:{k}] = {init}[{init}.shape[0] - {k}:]",
        ]

    def allocate_first(self, lines, value: str, n: str, ndim: int, dtype) -> None:
        """The buffer of an output that is not fed back, shaped by its first value."""
        shape = f"({self.length(n)},)" + (f" + {value}.shape" if ndim else "")
        lines.append(f"{self.name} = np.empty({shape}, np.{dtype})")

    def result(self, done: str) -> str:
        """The node's output: the rows of the steps made, or the last one."""
        if self.ring:
            return f"{self.name}[{self.row(done, -1)}]"
        return f"{self.name}[{self.k}:{self.k} + {done}]"


#: ``np.empty(shape, np.dtype)``: how the emitter allocates a node's fresh output
_EMPTY = re.compile(r"np\.empty\((.+), (np\.\w+)\)")


class _StepEmitter(_Emitter):
    """The emitter of one step: an array a node allocates is the buffer row of the output
    it computes (``direct``), or the array the same node allocated in the first step
    (``peeled``) when the shapes agree."""

    def __init__(self, out, prefix: str, peeled: dict | None, direct: dict, columns) -> None:
        super().__init__(out, prefix)
        self.peeled, self.direct = peeled, direct
        #: a matrix's name -> its copy in column order (``_MatMul`` multiplies by it)
        self.columns = columns
        #: node id -> the array it allocated (in the first step)
        self.allocated: dict[int, str] = {}
        #: output variable id -> the buffer it was written into
        self.written: dict[int, str] = {}

    def assign(self, node, expression: str, index: int = 0) -> str:
        match = _EMPTY.fullmatch(expression)
        if match is None or self._in_branch(node):
            return super().assign(node, expression, index)
        shape = match.group(1)
        var = node.outputs[index]
        target = self.direct.get(id(var))
        if target is not None:
            buf, row = target
            self.lines.append(f"if {shape} != {buf}.shape[1:]: raise ValueError('scan: shape')")
            self.written[id(var)] = buf
            return super().assign(node, f"{buf}[{row}]", index)
        if self.peeled is not None and id(node) in self.peeled:
            again = self.peeled[id(node)]
            reuse = f"{again} if {again}.shape == {shape} else {expression}"
            return super().assign(node, reuse, index)
        name = super().assign(node, expression, index)
        if len(node.outputs) == 1:
            self.allocated[id(node)] = name
        return name

    def _in_branch(self, node) -> bool:
        """Whether ``node`` runs inside a branch of an ifelse (its names may be unbound)."""
        branches = getattr(self, "branches", {})
        return any(n is node for then, other in branches.values() for n in (*then, *other))


class _Step:
    """The inner graph's code for one step, written where a step runs."""

    def __init__(self, outer, node, inputs, buffers, n, peeled) -> None:
        self.outer, self.node = outer, node
        self.seqs, self.nonseqs, self.columns = inputs
        self.buffers, self.n = buffers, n
        self.peeled = peeled
        self.until = None
        self.allocated: dict[int, str] = {}

    def write(self, t: str, lines: list) -> None:
        info, inner = self.node.op.info, self.node.op.inner
        prefix = f"{self.outer.fresh('_')}x"
        emitter = _StepEmitter(self.outer.out, prefix, self.peeled, self._direct(t), self.columns)
        items = []  # the rows the step reads, in the order of the inner inputs
        for seq, taps in zip(self.seqs, info.seq_taps):
            first = -min(min(taps), 0)
            row = (
                f"({first} + {seq}.shape[0] - {tap_span(taps)} - 1 - {t})"
                if info.go_backwards
                else f"({first} + {t})"
            )
            items += [f"{seq}[{row} + {tap}]" for tap in taps]
        for buf in self.buffers:
            items += [f"{buf.name}[{buf.row(t, tap)}]" for tap in buf.taps]
        used = {id(v) for node in inner.toposort() for v in node.inputs}
        used.update(id(v) for v in inner.outputs)
        for var, item in zip(inner.inputs, items):
            if id(var) in used:  # (a row nothing reads is not taken)
                emitter.lines.append(f"{emitter.fresh('a')} = {item}")
                item = emitter.lines[-1].split(" = ")[0]
            emitter.bind(var, item)
        for var, value in zip(inner.inputs[len(items) :], self.nonseqs):
            emitter.bind(var, value)
        body = emitter.emit_graph(inner)
        *code, ret = [line[4:] for line in body]
        results = ret[len("return (") : -len(",)")].split(", ")
        lines += code
        for buf, value, out in zip(self.buffers, results, inner.outputs):
            if emitter.written.get(id(out)) == buf.name:
                continue
            if self.peeled is None and not buf.taps:
                buf.allocate_first(lines, value, self.n, out.ndim, out.dtype)
            if out.ndim > 0:
                lines.append(
                    f"if {value}.shape != {buf.name}.shape[1:]: raise ValueError('scan: shape')"
                )
            lines.append(f"{buf.name}[{buf.row(t)}] = {value}")
        if info.has_until:
            self.until = results[info.n_outs]
        self.allocated = emitter.allocated

    def _direct(self, t: str) -> dict:
        """Output variable id -> (buffer, row) its node writes into: in the loop only (the
        first step sizes the buffers), for array outputs, the first output of a variable."""
        if self.peeled is None:
            return {}
        direct: dict = {}
        for buf, out in zip(self.buffers, self.node.op.inner.outputs):
            if out.ndim > 0 and out.owner is not None:
                direct.setdefault(id(out), (buf.name, buf.row(t)))
        return direct
