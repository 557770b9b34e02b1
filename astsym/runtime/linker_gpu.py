"""The ``gpu`` linker: the optimized graph run node by node on an NVIDIA GPU with CuPy.

Each node runs as ``gpu_ops.device_impl`` says: fused groups as generated CUDA C kernels,
products on cuBLAS, structural ops through CuPy, and the few ops with no device form on the
host. Where values live:

- inputs: a NumPy array is copied to the device once per call; a CuPy array is used as it
  is; a 0-d value stays on the host and reaches kernels as a scalar argument;
- shared variables: moved to the device the first time a gpu function reads them, and kept
  there; updates are computed on the device and replace the stored arrays only when the
  whole call succeeded, as on the other backends;
- outputs: CuPy arrays, or NumPy arrays for a function compiled with ``return_numpy=True``.

``ifelse`` reads its condition once per call (one scalar copied to the host) and runs only
the chosen branch; ``scan`` runs its inner graph as a device program per step, writing each
step's outputs into buffers allocated on the device before the loop, with no copy to the
host except the ``until`` condition, read once a step. Kernels are named after the user's
function (``<name>_fusedelemwise_3``) and compiled by CuPy on first launch (CuPy caches the
binaries by source, in memory and on disk).
"""

from __future__ import annotations

import numpy as np

from astsym.graph.evaluate import Program, raise_with_node
from astsym.graph.scan.loop import run_scan
from astsym.graph.type import TensorType, is_device_array
from astsym.kernels.cuda_render import kernel_name
from astsym.typecheck import GraphRuntimeError

from .device import array_module
from .gpu_ops import FRESH, device_impl


class GpuProgram(Program):
    """A ``Program`` whose values live on the device, with the helpers ``gpu_ops`` uses."""

    def __init__(self, fg, name: str | None = None) -> None:
        self.xp = array_module()
        super().__init__(fg)
        self.name = kernel_name(name or "astsym")
        self.n_inputs = len(fg.inputs)
        #: whether host values computed for the outputs are copied to the device (a scan's
        #: inner program: its outputs are stored in device buffers)
        self.outputs_to_device = False
        #: output arrays for slots (a scan step's rows of its buffers): a kernel computing
        #: such a slot writes into the array; None where the program is not a scan's
        self.targets: dict | None = None
        #: the names of the kernels this program launches (and of its scans' programs)
        self.kernel_names: list[str] = []
        self._device_constants: dict[int, tuple] = {}
        #: per node id: ``(run, where)``, where is ``'device'`` or ``'host'``
        self.impls = {id(node): device_impl(self, node) for node, _, _ in self.steps}
        #: the slots only ever holding new device arrays: no output there needs a copy
        self.fresh_slots = {
            slot
            for node, _, outs in self.steps
            if self.impls[id(node)][1] == "device" and type(node.op).__name__ in FRESH
            for slot in outs
        }
        #: per node in schedule order: (node, run, input slots, output slots, the (dtype,
        #: rank) each output must have), made once
        self.plan = [
            (node, self.impls[id(node)][0], ins, outs, [_promise(v) for v in node.outputs])
            for node, ins, outs in self.steps
        ]
        self.plan_of = {id(entry[0]): entry for entry in self.plan}
        #: the slots of ifelse conditions: read on the host, so copied there once a call
        self.condition_slots = {
            ins[0] for node, ins, _ in self.steps if getattr(node.op, "lazy", False)
        }

    # -- the helpers of gpu_ops -------------------------------------------------------------
    def new_kernel_name(self, what: str) -> str:
        """``<function>_<what>_<k>``, recorded in ``kernel_names``."""
        name = f"{self.name}_{what}_{len(self.kernel_names) + 1}"
        self.kernel_names.append(name)
        return name

    def is_device(self, value) -> bool:
        return isinstance(value, self.xp.ndarray)

    def dev(self, value):
        """``value`` as a device array (a constant is copied once, then reused)."""
        if isinstance(value, self.xp.ndarray):
            return value
        cached = self._device_constants.get(id(value))
        if cached is not None and cached[0] is value:
            return cached[1]
        array = self.xp.asarray(value)
        if any(value is c for c in self.constants.values()):
            self._device_constants[id(value)] = (value, array)
        return array

    def host(self, value):
        """``value`` on the host (a device array is copied there)."""
        return value.get() if isinstance(value, self.xp.ndarray) else value

    def kernel_args(self, values: list, out_ndim: int) -> list:
        """Kernel arguments: device arrays, and host values of one element passed by value
        as scalars (no copy) when a device array of the output's rank fixes the shape."""
        is_device = self.is_device
        shaped = any(is_device(v) and v.ndim == out_ndim for v in values)
        return [
            v if is_device(v) else self.scalar(v) if shaped or np.ndim(v) == 0 else self.dev(v)
            for v in values
        ]

    def scalar(self, value):
        """A host value of one element as a NumPy scalar, a larger one on the device."""
        return np.asarray(value).reshape(())[()] if np.size(value) == 1 else self.dev(value)

    def scan_runner(self, node):
        """``run(values)`` of a ``Scan`` node: its inner graph as a device program."""
        op = node.op
        inner = GpuProgram(op.inner, self.new_kernel_name("scan"))
        inner.outputs_to_device = True  # each step's outputs go into device buffers
        inner.targets = {}  # where ``run_scan`` wants them: the kernels write there
        xp = self.xp

        carried = op.info.n_seqs + op.info.n_recurrent  # sequences and initial states

        def run(values):
            n_steps, *rest = values
            for k in range(carried):  # sliced per step or stacked: they go to the device
                if isinstance(rest[k], np.ndarray | np.generic):
                    rest[k] = self.dev(rest[k])
            return run_scan(op, node, [self.host(n_steps), *rest], program=inner, xp=xp)

        return run

    # -- running --------------------------------------------------------------------------
    def run(self, storage: list) -> None:
        if self.lazy:  # on demand (``Program.run``), each node through ``_perform``
            for slot in self.condition_slots:  # an input or a shared variable
                if self.is_device(storage[slot]):
                    storage[slot] = storage[slot].get()
            super().run(storage)
        else:
            self._run_in_order(storage)
        if self.outputs_to_device:
            for slot in self.output_slots:
                if isinstance(storage[slot], np.ndarray | np.generic):
                    storage[slot] = self.dev(storage[slot])

    def _run_in_order(self, storage: list) -> None:
        """Every node in schedule order: the loop of a graph without ifelse."""
        with np.errstate(all="ignore"):  # the host ops' NumPy warnings, as on py
            for entry in self.plan:
                self._step(entry, [storage[i] for i in entry[2]], storage)

    def _perform(self, node, values, outs, storage) -> None:
        self._step(self.plan_of[id(node)], values, storage)

    def _step(self, entry, values: list, storage: list) -> None:
        """Run one node of the plan on ``values`` and store its checked results; an error is
        reported at the node's line."""
        node, run, _, outs, promised = entry
        try:
            results = run(values)
        except GraphRuntimeError:
            raise
        except Exception as err:  # noqa: BLE001 - every failure is reported at its node
            raise_with_node(node, values, err)
        for slot, var, value, expected in zip(outs, node.outputs, results, promised):
            if expected is not None and (
                getattr(value, "dtype", None) != expected[0]
                or getattr(value, "ndim", None) != expected[1]
            ):
                got = f"{type(value).__name__} {getattr(value, 'dtype', '')}"
                raise AssertionError(f"op {node.op} produced {got}, but promises {var.type}")
            if slot in self.condition_slots and self.is_device(value):
                value = value.get()  # an ifelse condition: one copy, read once
            storage[slot] = value

    @property
    def marks(self) -> dict[int, str]:
        """Where each node runs, by node id, for printed graphs."""
        return {
            key: "on the device" if where == "device" else "on the host"
            for key, (_, where) in self.impls.items()
        }

    # -- the function's values --------------------------------------------------------------
    def input_value(self, value):
        """A call's input as the graph reads it: a NumPy array copied to the device."""
        if isinstance(value, np.ndarray) and value.ndim > 0:
            return self.xp.asarray(value)
        return value

    def shared_value(self, var):
        """A shared variable's value on the device; a host value is moved there for good."""
        value = var.container.value
        if isinstance(var.type, TensorType) and not is_device_array(value):
            value = var.container.value = self.xp.asarray(value)
        return value

    def update_value(self, value):
        return self.dev(value) if isinstance(value, np.ndarray | np.generic) else value

    def output_value(self, value, return_numpy: bool):
        if return_numpy:  # a copy either way: a host value may be a (read-only) constant
            return value.get() if self.is_device(value) else np.array(value)
        if isinstance(value, np.ndarray | np.generic):
            return self.xp.asarray(value)
        return value

    def unaliased(self, slot: int, value, given: list):
        """The value in ``slot``, copied when it shares memory with an input, a shared value
        or an earlier result, so callers never see storage they do not own."""
        if not isinstance(value, self.xp.ndarray):
            return value
        if slot in self.fresh_slots:  # a new array, unless another output is this one
            return value.copy() if any(value is other for other in given) else value
        for other in given:
            if isinstance(other, self.xp.ndarray) and self.xp.may_share_memory(value, other):
                return value.copy()
        return value


def _promise(var) -> tuple | None:
    """(dtype, rank) a tensor output must have; None for other values."""
    return (var.type.numpy_dtype, var.type.ndim) if isinstance(var.type, TensorType) else None
