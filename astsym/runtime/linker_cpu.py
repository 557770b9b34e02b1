"""The ``cpu`` linker: the whole optimized graph as one Numba function
(``kernels/numba_graph.py``), behind the same interface as the ``py`` program.

The graph is compiled on the call ``config.compile_after`` (2 by default): earlier calls run
op by op with fused kernels, so a function called once never waits for the whole-graph
compile. A graph with an op that has no compiled form runs as compiled segments with that op
between them (``segments.py``; a lazy graph runs op by op instead), and ``fallback`` says
why it is not compiled whole; a graph Numba cannot compile runs op by op. A call the compiled function refuses (a size mismatch, an
index out of range) is run again op by op, which raises the error at the user's line.

With ``config.compile_in_background`` (read when the function is built), no call waits for
Numba: the first call starts compiling the whole graph, for its argument types, in a
daemon thread (``background.py``), and every call until it is ready runs on NumPy, each op's
reference as on ``py``; the calls after it use the compiled graph. ``wait_compiled()``
waits for it.
"""

from __future__ import annotations

import numba
import numpy as np
from numba.core.errors import NumbaError

from astsym.config import config
from astsym.graph.evaluate import Program
from astsym.graph.type import TensorType
from astsym.kernels.numba_graph import Unsupported, render_graph
from astsym.kernels.numba_render import PARALLEL_MIN


class CpuProgram(Program):
    """``Program`` whose ``run`` calls the compiled graph when it can."""

    def __init__(self, fg) -> None:
        super().__init__(fg)
        self.n_inputs = len(fg.inputs)
        self.out_types = [v.type for v in fg.outputs]
        self.scalar_inputs = [isinstance(v.type, TensorType) and v.ndim == 0 for v in fg.inputs]
        #: the compiled graph, once built (on the call ``config.compile_after``)
        self.compiled = None
        self.calls = 0
        #: why the graph runs op by op (None: it is compiled whole)
        self.fallback: str | None = None
        try:
            self.rendered = render_graph(fg)
        except Unsupported as err:
            self.rendered, self.fallback = None, str(err)
        if any(not isinstance(t, TensorType) for t in self.out_types + [v.type for v in fg.inputs]):
            self.rendered, self.fallback = None, "a value that is not a tensor"
        #: a graph that cannot compile whole: compiled segments, op-by-op nodes between
        self.segments = None if self.rendered is not None or self.lazy else _segments(fg)
        #: the background compile, and the NumPy program the calls run meanwhile
        self.background = self.reference = None
        if config.compile_in_background and self.rendered is not None:
            self._plan_background(fg)

    def _plan_background(self, fg) -> None:
        from .background import BackgroundCompile, NoReference, reference_program

        try:
            self.reference = reference_program(fg)
        except NoReference:  # an op with no NumPy form: compiled in the foreground instead
            return
        self.background = BackgroundCompile(self)

    @property
    def compiling(self) -> bool:
        """A background compile is running (``config.compile_in_background``)."""
        background = self.background
        return background is not None and background.started and not background.done.is_set()

    def wait_compiled(self, timeout: float | None = None) -> bool:
        """Wait until a background compile has ended (at most ``timeout`` seconds); True
        when the graph is compiled whole now. Returns at once when none runs: before the
        first call starts it, or without ``config.compile_in_background``.

            >>> f.program.wait_compiled(timeout=30)  # doctest: +SKIP
            True
        """
        if self.background is not None:
            self.background.wait(timeout)
        return self.compiled is not None

    def run(self, storage: list) -> None:
        self.calls += 1
        if self.segments is not None and self.calls >= config.compile_after:
            self._run_segments(storage)
            return
        rendered, compiled = self.rendered, self.compiled  # (a background compile sets them)
        if compiled is None and rendered is not None and self.background is not None:
            self._run_meanwhile(storage)
            return
        if rendered is None or (compiled is None and self.calls < config.compile_after):
            super().run(storage)
            return
        args = self._graph_args(storage, rendered)
        try:
            if compiled is None:  # kernels not yet run op by op use threads for large data
                compiled = self.compiled = rendered.build(_large(args))
            if not compiled.signatures:  # compile now: a failure here means no compiled form
                compiled.compile(tuple(numba.typeof(a) for a in args))
        except Exception as err:  # noqa: BLE001 - Numba raises many kinds; op by op from now on
            self._give_up(err)
            super().run(storage)
            return
        try:
            with np.errstate(all="ignore"):
                results = compiled(*args)
        except NumbaError as err:  # arguments of a new kind it cannot compile for
            self._give_up(err)
            super().run(storage)
            return
        except (ValueError, IndexError, ZeroDivisionError):
            super().run(storage)  # raises the located error (or computes what NumPy does)
            return
        constants = rendered.constants
        for slot, value, out_type in zip(self.output_slots, results, self.out_types):
            value = _as_array(value, out_type)
            if any(np.may_share_memory(value, c) for c in constants):
                value = value.copy()  # a constant (or a view of one) is never handed out
            storage[slot] = value

    def _graph_args(self, storage: list, rendered) -> list:
        """The compiled graph's arguments: the inputs (0-d ones as scalars), the constants."""
        args = [
            value[()] if scalar else value
            for value, scalar in zip(storage[: self.n_inputs], self.scalar_inputs)
        ]
        return args + rendered.constants

    def _run_meanwhile(self, storage: list) -> None:
        """A call before the background compile is ready: the first one starts it; each
        runs the NumPy program and fills the same output slots as the compiled graph."""
        reference = self.reference
        values = reference.new_storage()
        values[: self.n_inputs] = storage[: self.n_inputs]
        reference.run(values)
        for slot, source in zip(self.output_slots, reference.output_slots):
            storage[slot] = values[source]
        if not self.background.started:  # for this call's types, its kernels' sizes
            try:
                args = self._graph_args(storage, self.rendered)
                types = tuple(numba.typeof(a) for a in args)
                self.background.start(types, _large(args), reference.kernel_sizes(values))
            except Exception as err:  # noqa: BLE001 - as a failed compile: op by op from now on
                self._give_up(err)

    @property
    def marks(self) -> dict[int, str]:
        """How each node runs, by node id, for printed graphs: in which compiled segment, or
        op by op (empty when the graph is compiled whole)."""
        if self.segments is None:
            return (
                {} if self.rendered is not None else {id(n): "op by op" for n, _, _ in self.steps}
            )
        marks, count = {}, 0
        for kind, item in self.segments:
            if kind == "op":
                marks[id(item)] = "op by op"
                continue
            for node in item.nodes:
                marks[id(node)] = f"compiled segment {count}"
            count += 1
        return marks

    def _run_segments(self, storage: list) -> None:
        """Each segment's compiled function and each node between them, in order; a call a
        segment refuses (a size mismatch, an index out of range) runs again op by op."""
        slots = self.slots
        with np.errstate(all="ignore"):
            for k, (kind, item) in enumerate(self.segments):
                if kind == "op":
                    values = [storage[slots[id(v)]] for v in item.inputs]
                    self._perform(item, values, [slots[id(v)] for v in item.outputs], storage)
                    continue
                try:
                    done = self._run_segment(item, storage)
                except _SegmentFailed as err:  # its nodes run op by op from now on
                    self.segments[k : k + 1] = [("op", node) for node in item.nodes]
                    self.fallback = f"{self.fallback}; a segment did not compile: {err}"
                    Program.run(self, storage)
                    return
                if not done:
                    Program.run(self, storage)  # raises the located error
                    return

    def _run_segment(self, segment, storage: list) -> bool:
        slots = self.slots
        args = [
            storage[slots[id(v)]][()] if scalar else storage[slots[id(v)]]
            for v, scalar in zip(segment.inputs, segment.scalar_inputs)
        ]
        args += segment.rendered.constants
        try:
            if segment.compiled is None:
                segment.compiled = segment.rendered.build(_large(args))
            if not segment.compiled.signatures:
                segment.compiled.compile(tuple(numba.typeof(a) for a in args))
            results = segment.compiled(*args)
        except (ValueError, IndexError, ZeroDivisionError):
            return False
        except Exception as err:  # noqa: BLE001 - Numba raises many kinds
            raise _SegmentFailed(str(err)) from err
        constants = segment.rendered.constants
        for var, value, out_type in zip(segment.outputs, results, segment.out_types):
            value = _as_array(value, out_type)
            if any(np.may_share_memory(value, c) for c in constants):
                value = value.copy()
            storage[slots[id(var)]] = value
        return True

    def _give_up(self, err: Exception) -> None:
        self.rendered, self.compiled = None, None
        self.fallback = f"Numba could not compile the graph: {err}"


class _SegmentFailed(Exception):
    """Numba could not compile a segment."""


def _segments(fg) -> list | None:
    """``segments.split(fg)`` when it holds a compiled segment, else None."""
    from .segments import split

    items = split(fg)
    return items if any(kind == "compiled" for kind, _ in items) else None


def _large(args) -> bool:
    """Whether kernels not yet run op by op should use threads: the data is large."""
    return max((np.size(a) for a in args), default=0) >= PARALLEL_MIN


def _as_array(value, out_type: TensorType) -> np.ndarray:
    if out_type.ndim == 0:  # Numba returns a float32 scalar as a Python float: exact
        return np.asarray(value, dtype=out_type.numpy_dtype)
    array = np.asarray(value)
    if array.dtype != out_type.numpy_dtype or array.ndim != out_type.ndim:
        raise AssertionError(
            f"the compiled graph produced {array.dtype} rank {array.ndim}, "
            f"but the graph promises {out_type}"
        )
    return array
