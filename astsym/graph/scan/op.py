"""The ``Scan`` op: a loop whose body is an inner graph, run once per step.

The inner graph's inputs are, in order: the current items of the sequences (one per tap),
the previous values of the recurrent outputs (one per tap), then the non-sequences (listed
and implicit). Its outputs are each step's outputs and the ``until`` condition when there
is one. The outer node takes ``n_steps`` (-1: as many as the sequences allow), the
sequences, the initial states and the non-sequences; it returns each output stacked over
the steps. (A shared variable the body updates is a recurrent output starting at its value.)

An output can instead be kept as its last value only (``ScanInfo.keep``, set by the
rewrites in ``rewrites.py`` when nothing else is used, as Theano's ``scan_save_mem`` does):
the loop then needs only the rows its taps read, not one per step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from astsym.typecheck import RuleError, codes

from ..basic import Apply
from ..evaluate import Program
from ..fg import FunctionGraph
from ..op import Op
from ..type import TensorType


@dataclass(frozen=True)
class ScanInfo:
    seq_taps: tuple[tuple[int, ...], ...]
    out_taps: tuple[tuple[int, ...], ...]  # () for an output that is not fed back
    n_nonseq: int
    has_until: bool
    go_backwards: bool
    name: str
    truncate_gradient: int = -1  # backpropagate through the last this many steps (-1: all)
    #: per output (empty: all ``"all"``): ``"all"``, the values of every step stacked;
    #: ``"last"``, the last step's value (no step is an error, as ``history[-1]`` is); or
    #: ``"last_or_initial"``, the last row of [initial taps; history] (a recurrent output)
    keep: tuple[str, ...] = ()

    def kept(self, i: int) -> str:
        """How output ``i`` is returned: ``"all"``, ``"last"`` or ``"last_or_initial"``."""
        return self.keep[i] if self.keep else "all"

    @property
    def n_seqs(self) -> int:
        return len(self.seq_taps)

    @property
    def n_outs(self) -> int:
        return len(self.out_taps)

    @property
    def n_recurrent(self) -> int:
        return sum(1 for taps in self.out_taps if taps)


class Scan(Op):
    """A loop over an inner graph (see the module docstring)."""

    def __init__(self, inner: FunctionGraph, info: ScanInfo) -> None:
        self.inner, self.info = inner, info
        self._program: Program | None = None

    @property
    def name(self) -> str:
        return f"scan{{{self.info.name}}}" if self.info.name else "scan"

    def _key(self) -> tuple:
        return (Scan, id(self))

    def __getstate__(self):
        return {"inner": self.inner, "info": self.info}

    def __setstate__(self, state) -> None:
        self.inner, self.info, self._program = state["inner"], state["info"], None

    def make_node(self, n_steps, *outer):
        info = self.info
        length = _static_int(n_steps) if not info.has_until else None
        if length is not None and length < 0:
            length = None
        out_types = [  # a non-tensor state (a random generator) is not stacked: its last value
            TensorType(v.dtype, shape=(length,) + tuple(v.type.shape))
            if isinstance(v.type, TensorType) and info.kept(i) == "all"
            else v.type
            for i, v in enumerate(self.inner.outputs[: info.n_outs])
        ]
        return Apply(self, [n_steps, *outer], out_types)

    @property
    def program(self) -> Program:
        if self._program is None:
            self._program = Program(self.inner)
        return self._program

    def perform(self, node, inputs):
        from .loop import run_scan

        return run_scan(self, node, inputs)

    def grad(self, node, output_grads):
        from .grad import scan_grad

        if any(k != "all" for k in self.info.keep):
            raise NotImplementedError(f"{self.name}: the gradient of a scan keeping last values")
        return scan_grad(self, node, output_grads)

    def infer_shape(self, node, input_shapes):
        raise NotImplementedError("the length of a scan is known only when it runs")

    def __str__(self) -> str:
        return self.name


def _static_int(var):
    from ..ops.shape import static_value

    return static_value(var)


def check_taps(taps, what: str) -> tuple[int, ...]:
    taps = tuple(int(t) for t in (taps if isinstance(taps, (list, tuple)) else [taps]))
    if not taps or len(set(taps)) != len(taps):
        raise RuleError(codes.BAD_ARGUMENT, f"{what}: taps {taps} must be distinct and not empty")
    return taps


def empty_like_type(var_type: TensorType, length: int) -> np.ndarray:
    dims = tuple(d if isinstance(d, int) else 0 for d in var_type.shape)
    return np.zeros((length,) + dims, dtype=var_type.dtype)
