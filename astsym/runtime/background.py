"""Compiling a ``cpu`` function in a background thread while its first calls run on NumPy
(``config.compile_in_background``).

A ``cpu`` graph holds fused ops whose ``perform`` calls a Numba kernel compiled on first
use, so it cannot simply run "on NumPy". The calls made while the compile runs use
``reference_program(fg)`` instead: the same optimized graph with each fused group written
out again as the nodes it replaced (its elementwise steps, then its reduction or softmax;
scan bodies too), run by the ``py`` evaluator; another kernel op (a ``RowPass``) runs its
NumPy reference. They compute what ``py`` computes and never touch Numba. ``BackgroundCompile`` builds and compiles the whole graph, for the argument
types of the first call, in a daemon thread, and hands it to the program when it is ready.

    >>> import numpy as np, astsym, astsym.tensor as T
    >>> x = T.dvector("x")
    >>> program = reference_program(astsym.function([x], T.exp(x) * 2).fgraph)
    >>> [node.op.name for node, _, _ in program.steps]
    ['exp', 'multiply']
"""

from __future__ import annotations

import threading
from functools import singledispatch

import numpy as np

from astsym.graph.evaluate import Program
from astsym.graph.fg import FunctionGraph
from astsym.graph.ops import math as m
from astsym.graph.ops.elemwise import cast
from astsym.graph.ops.fused import KERNELS, FusedElemwise, FusedReduce, FusedSoftmax
from astsym.graph.ops.reduce import Reduce
from astsym.graph.scan.op import Scan
from astsym.graph.source import fixed_span
from astsym.kernels.numba_graph import render_graph
from astsym.kernels.numba_render import OBSERVED, PARALLEL_MIN

#: One background compile at a time in a process: Numba compiles under its own global lock
#: anyway, and two threads writing the same disk-cache entry would share a temporary file.
_ONE_AT_A_TIME = threading.Lock()


class NoReference(Exception):
    """The graph holds a compiled-only op with no NumPy form to run while compiling."""


def reference_program(fg: FunctionGraph) -> ReferenceProgram:
    """A ``py`` program computing ``fg``'s outputs from its inputs (in the same order)
    without any Numba kernel. Raises ``NoReference`` naming an op it cannot write out."""
    return ReferenceProgram(fg)


class ReferenceProgram(Program):
    """The ``py`` program of ``fg`` unfused, which knows where ``fg``'s values are in it."""

    def __init__(self, fg: FunctionGraph) -> None:
        graph = unfused(fg)
        super().__init__(graph)
        self.fg, self.equiv = fg, graph.equiv

    def kernel_sizes(self, storage: list) -> list[tuple]:
        """(node, size) for each kernel node of ``fg``, after a run into ``storage``: the
        largest of its values, which decides whether its kernel runs on threads."""
        sizes = []
        for node in self.fg.toposort():
            if type(node.op).__name__ in KERNELS:
                values = [self._value(v, storage) for v in node.inputs + node.outputs]
                sizes.append((node, max((np.size(x) for x in values if x is not None), default=0)))
        return sizes

    def _value(self, var, storage):
        slot = self.slots.get(id(self.equiv.get(id(var), var)))
        return None if slot is None else storage[slot]


def unfused(fg) -> FunctionGraph:
    """``fg`` with every fused node replaced by the nodes it stands for; nodes that do not
    change are shared with ``fg`` (which is left as it is). ``equiv`` maps the ids of
    ``fg``'s variables to their counterparts."""
    memo: dict[int, object] = {}
    for node in fg.toposort():
        inputs = [memo.get(id(v), v) for v in node.inputs]
        with fixed_span(node._span):  # errors name the user's line, as the fused node does
            outputs = unfuse(node.op, node, inputs)
        memo.update(zip(map(id, node.outputs), outputs))
    graph = FunctionGraph(fg.inputs, [memo.get(id(v), v) for v in fg.outputs], clone=False)
    graph.equiv = memo
    return graph


@singledispatch
def unfuse(op, node, inputs: list) -> list:
    """The variables computing ``node``'s outputs from ``inputs`` with no kernel. An op may
    say it itself with a method ``unfused(*inputs) -> list``."""
    own = getattr(op, "unfused", None)
    if own is not None:
        return list(own(*inputs))
    if type(op).__name__ in KERNELS:
        return _reference_node(op, node, inputs).outputs
    if all(a is b for a, b in zip(inputs, node.inputs)):
        return node.outputs
    return _rebuilt(node, inputs).outputs


def _rebuilt(node, inputs):
    if all(a.type == b.type for a, b in zip(inputs, node.inputs)):
        return node.clone_with_new_inputs(inputs)
    return node.op.make_node(*inputs)


def _reference_node(op, node, inputs):
    """A copy of a kernel-backed node whose ``perform`` runs the op's NumPy reference: such
    ops keep one kernel per node in ``_kernels``, and None there means "no kernel"."""
    kernels = getattr(op, "_kernels", None)
    if not isinstance(kernels, dict) or not callable(getattr(op, "reference", None)):
        raise NoReference(f"{op} runs only as a compiled kernel here")
    copy = _rebuilt(node, inputs)
    kernels[id(copy)] = (copy, None)  # (the node is kept with it, so its id stays unique)
    return copy


@unfuse.register(FusedElemwise)
def _unfuse_elemwise(op, node, inputs):
    return [_typed(_steps(op, inputs), node)]


@unfuse.register(FusedReduce)
def _unfuse_reduce(op, node, inputs):
    return [_typed(op.reduce(_steps(op, inputs)), node)]


@unfuse.register(FusedSoftmax)
def _unfuse_softmax(op, node, inputs):
    # exp(z - max(z)) / sum(exp(z - max(z))) over the last axis: the nodes fuse_softmax matched
    z = _steps(op, inputs)
    last = (z.ndim - 1,)
    e = m.exp(m.subtract(z, Reduce("max", last, True, None)(z)))
    return [_typed(m.true_divide(e, Reduce("sum", last, True, None)(e)), node)]


@unfuse.register(Scan)
def _unfuse_scan(op, node, inputs):
    outputs = Scan(unfused(op.inner), op.info)(*inputs)
    return outputs if isinstance(outputs, list) else [outputs]


def _steps(op, inputs):
    """The group's value built from its steps (ref ``-1 - i``: input i; ``k``: step k)."""
    values: list = []
    for step_op, refs, dtype in op.steps:
        value = step_op(*[inputs[-1 - r] if r < 0 else values[r] for r in refs])
        values.append(value if value.dtype == dtype else cast(value, dtype))
    return values[-1] if values else inputs[0]


def _typed(var, node):
    dtype = node.outputs[0].dtype
    return var if var.dtype == dtype else cast(var, dtype)


class BackgroundCompile:
    """The whole-graph compile of one ``CpuProgram``, run in a daemon thread.

    ``start(types, parallel, sizes)`` begins it once; when it ends, the program's ``compiled`` is
    the compiled graph, or the program has given up as a foreground failure does
    (``fallback`` says why). Nothing is printed and no call waits for it.
    """

    def __init__(self, program) -> None:
        self.program = program
        self.thread: threading.Thread | None = None
        self.done = threading.Event()
        self._starting = threading.Lock()

    @property
    def started(self) -> bool:
        return self.thread is not None

    def start(self, types: tuple, parallel: bool, sizes=()) -> None:
        """Compile for argument ``types`` (once). A kernel runs on threads as its ``sizes``
        entry, (node, the size of its data), says, as a first call op by op would have
        recorded; one without an entry when ``parallel``."""
        with self._starting:  # two threads calling the function at once start one compile
            if self.thread is not None:
                return
            args = (self.program.rendered, types, parallel, sizes)
            self.thread = threading.Thread(
                target=self._compile, args=args, name="astsym-compile", daemon=True
            )
            self.thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the compile has ended (False when ``timeout`` seconds passed first, or
        when it has not started)."""
        return self.started and self.done.wait(timeout)

    def _compile(self, rendered, types: tuple, parallel: bool, sizes) -> None:
        program = self.program
        try:
            with _ONE_AT_A_TIME:
                _observe(sizes)
                compiled = rendered.build(parallel)
                compiled.compile(types)
        except Exception as err:  # noqa: BLE001 - Numba raises many kinds; op by op from now on
            program._give_up(err)
        else:
            program.compiled = compiled  # one assignment: the next call takes it, or not
        finally:
            self.done.set()


def _observe(sizes) -> None:
    """Record in ``numba_render.OBSERVED`` whether each node's kernel would have run on
    threads for its size, as a call op by op records it (``Rendered.build`` reads it)."""
    for node, size in sizes:
        try:  # the node alone, rendered as the whole graph renders it: its kernels' source
            kernels = render_graph(FunctionGraph(node.inputs, node.outputs)).kernels
        except Exception:  # noqa: BLE001 - no kernel form: the graph build reports it
            continue
        for source, _ in kernels.values():
            OBSERVED[source] = size >= PARALLEL_MIN
