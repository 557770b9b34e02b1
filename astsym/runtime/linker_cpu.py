"""The ``cpu`` linker: the whole optimized graph as one Numba function
(``kernels/numba_graph.py``), behind the same interface as the ``py`` program.

The graph is compiled on the call ``config.compile_after`` (2 by default): earlier calls run
op by op with fused kernels, so a function called once never waits for the whole-graph
compile. A graph with an op that has no compiled form (or one Numba cannot compile) runs op
by op; ``fallback`` says why. A call the compiled function refuses (a size mismatch, an
index out of range) is run again op by op, which raises the error at the user's line.
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

    def run(self, storage: list) -> None:
        self.calls += 1
        if self.rendered is None or self.calls < config.compile_after:
            super().run(storage)
            return
        args = [
            value[()] if scalar else value
            for value, scalar in zip(storage[: self.n_inputs], self.scalar_inputs)
        ]
        args += self.rendered.constants
        try:
            compiled = self.compiled
            if compiled is None:  # kernels not yet run op by op use threads for large data
                large = max((np.size(a) for a in args), default=0) >= PARALLEL_MIN
                compiled = self.compiled = self.rendered.build(large)
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
        constants = self.rendered.constants
        for slot, value, out_type in zip(self.output_slots, results, self.out_types):
            value = _as_array(value, out_type)
            if any(np.may_share_memory(value, c) for c in constants):
                value = value.copy()  # a constant (or a view of one) is never handed out
            storage[slot] = value

    def _give_up(self, err: Exception) -> None:
        self.rendered, self.compiled = None, None
        self.fallback = f"Numba could not compile the graph: {err}"


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
