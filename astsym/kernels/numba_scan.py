"""A ``Scan`` node inside a compiled graph (``numba_graph.py``): a loop whose body is the
inner graph's code, written in line (no call per step), over buffers allocated once.

Recurrent outputs live in one buffer each, initial taps first, so a tap is a row of it.
The first step runs before the loop, so the buffers of outputs that are not fed back get the
shape of their first value. Zero steps, or an output whose shape changes between steps, is a
ValueError (the caller then runs the scan op by op, which returns or reports it).
"""

from __future__ import annotations

from astsym.graph.scan.loop import tap_span
from astsym.graph.type import TensorType

from .numba_graph import Unsupported


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
    buffers, first = [], {}
    recurrent = iter(inits)
    for j, taps in enumerate(info.out_taps):
        buf = f"{uid}_b{j}"
        buffers.append(buf)
        if taps:
            first[j] = _initial_buffer(lines, buf, next(recurrent), taps, n, node.outputs[j])
    step = _Step(outer, node, seqs, nonseqs, buffers, n)
    step.write("0", lines, allocate=True)
    until_first = step.until
    done = f"{uid}_done"
    lines.append(f"{done} = {n}")
    body: list[str] = []
    step.write("t", body, allocate=False)
    if info.has_until:
        lines.append(f"if {until_first}: {done} = 1")
        lines.append(f"if {done} == {n}:")
        lines.append(f"    for t in range(1, {n}):")
        lines += ["        " + line for line in body]
        lines.append(f"        if {step.until}:")
        lines.append(f"            {done} = t + 1")
        lines.append("            break")
    else:
        lines.append(f"for t in range(1, {n}):")
        lines += ["    " + line for line in body]
    for j, buf in enumerate(buffers):
        k = first.get(j, 0)
        outer.assign(node, f"{buf}[{k}:{k} + {done}].copy()", index=j)


def _initial_buffer(lines, buf, init, taps, n, out) -> int:
    """Allocate a recurrent output's buffer with its initial taps; how many rows they take."""
    k = max(-t for t in taps)
    dtype = out.dtype
    if taps == (-1,):
        row = out.ndim - 1
        if row == 0:
            lines += [f"{buf} = np.empty(1 + {n}, np.{dtype})", f"{buf}[0] = {init}"]
        else:
            lines += [
                f"{buf} = np.empty((1 + {n},) + {init}.shape, np.{dtype})",
                f"{buf}[0] = {init}",
            ]
        return 1
    lines += [
        f"if {init}.shape[0] < {k}: raise ValueError('scan: too few initial taps')",
        f"{buf} = np.empty(({k} + {n},) + {init}.shape[1:], np.{dtype})",
        f"{buf}[:{k}] = {init}[{init}.shape[0] - {k}:]",
    ]
    return k


class _Step:
    """The inner graph's code for one step, written where a step runs."""

    def __init__(self, outer, node, seqs, nonseqs, buffers, n) -> None:
        self.outer, self.node = outer, node
        self.seqs, self.nonseqs, self.buffers, self.n = seqs, nonseqs, buffers, n
        self.until = None
        self.count = 0

    def write(self, t: str, lines: list, allocate: bool) -> None:
        from .numba_graph import _Emitter

        info, inner = self.node.op.info, self.node.op.inner
        self.count += 1
        emitter = _Emitter(self.outer.out, prefix=f"{self.outer.fresh('_')}x")
        args = iter(inner.inputs)
        for seq, taps in zip(self.seqs, info.seq_taps):
            first = -min(min(taps), 0)
            row = (
                f"({first} + {seq}.shape[0] - {tap_span(taps)} - 1 - {t})"
                if info.go_backwards
                else f"({first} + {t})"
            )
            for tap in taps:
                emitter.lines.append(f"{emitter.fresh('a')} = {seq}[{row} + {tap}]")
                emitter.bind(next(args), emitter.lines[-1].split(" = ")[0])
        for j, taps in enumerate(info.out_taps):
            k = max((-tap for tap in taps), default=0)
            for tap in taps:
                emitter.lines.append(f"{emitter.fresh('a')} = {self.buffers[j]}[{k} + {t} + {tap}]")
                emitter.bind(next(args), emitter.lines[-1].split(" = ")[0])
        for value in self.nonseqs:
            emitter.bind(next(args), value)
        body = emitter.emit_graph(inner)
        *code, ret = [line[4:] for line in body]
        results = ret[len("return (") : -len(",)")].split(", ")
        lines += code
        for j, (value, taps) in enumerate(zip(results, info.out_taps)):
            buf, k = self.buffers[j], max((-tap for tap in taps), default=0)
            out = inner.outputs[j]
            if allocate and not taps:
                shape = f"({self.n},)" if out.ndim == 0 else f"({self.n},) + {value}.shape"
                lines.append(f"{buf} = np.empty({shape}, np.{out.dtype})")
            if out.ndim > 0:
                lines.append(
                    f"if {value}.shape != {buf}.shape[1:]: raise ValueError('scan: shape changed')"
                )
            lines.append(f"{buf}[{k} + {t}] = {value}")
        if info.has_until:
            self.until = results[info.n_outs]
