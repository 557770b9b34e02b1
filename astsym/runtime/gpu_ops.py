"""How each op runs on the ``gpu`` backend: a function of the node's input values, built
once per node (``device_impl``).

- Elementwise ops and the fused groups of the ``fuse`` rewrites run as one generated CUDA C
  kernel each (``kernels/cuda_render.py``): ``ElementwiseKernel`` for elementwise groups,
  ``ReductionKernel`` for a group feeding a reduction, a ``RawKernel`` for a softmax.
- ``dot``/``matmul``/``tensordot`` go to cuBLAS through CuPy; shapes, indexing, joins and
  the other structural ops use CuPy's NumPy-compatible functions.
- An op with no device form (random draws, sorting an array of a dtype CuPy cannot, ...)
  runs its NumPy reference on the host; its inputs are copied to the host and its outputs
  stay there until a device op needs them.

Values are either device arrays or host values (NumPy arrays and scalars). Shapes and
other small integer values computed from shapes stay on the host: an elementwise op whose
inputs are all on the host runs its NumPy reference there, so ``x.shape[0] * 2`` never
touches the device. A 0-d host value passed to a kernel is a scalar argument, not a copy.
"""

from __future__ import annotations

import re
from dataclasses import astuple

import numpy as np

from astsym.graph.ops import fused as fused_ops
from astsym.graph.ops.elemwise import check_runtime_broadcast
from astsym.graph.ops.subtensor import build_index
from astsym.kernels import cuda_render
from astsym.typecheck import RuleError, codes

#: builders by op class name: ``builder(device, node) -> run(values) -> list`` or None
BUILDERS: dict = {}

#: ops whose device form always returns new arrays (never a view of an input)
FRESH = {
    "Elemwise", "Cast", "FusedElemwise", "Reduce", "FusedReduce", "FusedSoftmax", "MatMul",
    "TensorDot", "ArgReduce", "TensorCopy", "Join", "Alloc", "CumOp", "Subtensor",
    "IncSubtensor", "MakeVector", "Sort", "Repeat", "Tile", "Eye",
    "ARange",
}  # fmt: skip

#: kernels by their source: a graph shape compiles once a process (CuPy caches the binary)
_KERNELS: dict = {}


def builder(*names):
    def register(fn):
        for name in names:
            BUILDERS[name] = fn
        return fn

    return register


def device_impl(device, node):
    """``(run, where)``: ``run(values) -> outputs`` for ``node``, and ``'device'`` or
    ``'host'`` (where it runs; printed graphs show it)."""
    build = BUILDERS.get(type(node.op).__name__)
    run = build(device, node) if build is not None else None
    if run is None:
        return host_impl(device, node), "host"
    return run, "device"


def host_impl(device, node):
    """The op's NumPy reference, on host copies of its inputs."""

    def run(values):
        return node.op.perform(node, [device.host(v) for v in values])

    return run


def _all_host(device, values) -> bool:
    return not any(device.is_device(v) for v in values)


def kernel_name(device, node) -> str:
    """A C identifier naming the kernel after the user's function and the op."""
    op_name = re.sub(r"[^A-Za-z0-9_]", "_", type(node.op).__name__.lower())
    return device.new_kernel_name(op_name)


def _kernel(xp, kind: str, source):
    key = (kind, source)
    kernel = _KERNELS.get(key)
    if kernel is None:
        if kind == "elementwise":  # the fields are CuPy's arguments, in its order
            *args, preamble = astuple(source)
            kernel = xp.ElementwiseKernel(*args, preamble=preamble)
        elif kind == "reduction":
            *args, reduce_type, preamble = astuple(source)
            kernel = xp.ReductionKernel(*args, reduce_type=reduce_type, preamble=preamble)
        else:
            kernel = xp.RawKernel(source.code, source.name)
        _KERNELS[key] = kernel
    return kernel


# -- generated kernels ----------------------------------------------------------------------


@builder("Elemwise", "Cast", "FusedElemwise")
def _elementwise(device, node):
    try:
        source = cuda_render.elementwise_source(node, kernel_name(device, node))
    except cuda_render.Unsupported:
        return None
    kernel = _kernel(device.xp, "elementwise", source)
    inplace = getattr(node.op, "inplace", -1)
    out_type = node.outputs[0].type
    # NumPy refuses an integer to a negative integer power: so does the kernel's caller
    integer_power = node.op.name == "power" and out_type.numpy_dtype.kind in "iu"
    slot = device.slots[id(node.outputs[0])]

    def run(values):
        if _all_host(device, values):  # shape arithmetic and other host scalars
            return node.op.perform(node, values)
        check_runtime_broadcast(node, values)
        if integer_power and bool((device.dev(values[1]) < 0).any()):
            raise ValueError("Integers to negative integer powers are not allowed.")
        args = device.kernel_args(values, out_type.ndim)
        # the output goes into a scan step's buffer row, or a dead intermediate (inplace)
        target = device.targets.get(slot) if device.targets else None
        if target is None and inplace >= 0:
            target = args[inplace]
        if _fits(device, target, out_type.numpy_dtype, args):
            return [kernel(*args, target)]
        return [kernel(*args)]

    return run


def _fits(device, target, dtype, args) -> bool:
    """Whether the kernel can write into ``target``: a device array of the output's dtype
    and of the arguments' broadcast shape."""
    if target is None or not device.is_device(target) or target.dtype != dtype:
        return False
    return target.shape == np.broadcast_shapes(*[getattr(a, "shape", ()) for a in args])


@builder("Reduce", "FusedReduce")
def _reduction(device, node):
    op = node.op
    reduce = op.reduce if isinstance(op, fused_ops.FusedReduce) else op
    if node.inputs and node.inputs[0].ndim == 0 and not isinstance(op, fused_ops.FusedReduce):
        return None  # a reduction of a scalar: nothing to reduce
    try:
        source = cuda_render.reduction_source(node, kernel_name(device, node))
    except cuda_render.Unsupported:
        return None
    kernel = _kernel(device.xp, "reduction", source)
    ndim = max((v.ndim for v in node.inputs), default=0)
    axes = reduce.axes

    def run(values):
        if _all_host(device, values):
            return node.op.perform(node, values)
        check_runtime_broadcast(node, values)
        args = device.kernel_args(values, ndim)
        shape = np.broadcast_shapes(*[getattr(a, "shape", ()) for a in args])
        if source.identity is None and any(shape[a] == 0 for a in axes):
            raise RuleError(
                codes.RUNTIME,
                f"{reduce.kind} of an array of shape {shape}: zero-size array to reduction "
                f"operation {reduce.kind} which has no identity",
            )
        return [kernel(*args, axis=axes, keepdims=reduce.keepdims)]

    return run


@builder("FusedSoftmax")
def _softmax(device, node):
    try:
        source = cuda_render.softmax_source(node, kernel_name(device, node))
    except cuda_render.Unsupported:
        return None
    xp = device.xp
    kernel = _kernel(xp, "raw", source)
    out_type = node.outputs[0].type

    def run(values):
        check_runtime_broadcast(node, values)
        shape = np.broadcast_shapes(*[getattr(v, "shape", ()) for v in values])
        if shape[-1] == 0:  # NumPy's error: the max of an empty row
            return [np.asarray(node.op.reference([device.host(v) for v in values]))]
        args = [
            xp.ascontiguousarray(
                xp.broadcast_to(device.dev(v), cuda_render.softmax_input_shape(node, i, shape))
            )
            for i, v in enumerate(values)
        ]
        out = xp.empty(shape, dtype=out_type.numpy_dtype)
        n_rows = out.size // shape[-1]
        if n_rows:
            blocks = (n_rows + source.threads - 1) // source.threads
            args = (*args, out, np.int64(n_rows), np.int64(shape[-1]))
            kernel((blocks,), (source.threads,), args)
        return [out]

    return run


# -- products -------------------------------------------------------------------------------


def _float_operands(node) -> bool:
    return all(v.dtype in ("float32", "float64") for v in node.inputs)


@builder("MatMul")
def _matmul(device, node):
    if not _float_operands(node):
        return None
    xp = device.xp

    def run(values):
        a, b = (device.dev(v) for v in values)
        try:
            return [xp.matmul(a, b)]
        except ValueError as err:
            raise RuleError(codes.MATMUL, f"matmul of {a.shape} and {b.shape}: {err}") from None

    return run


@builder("TensorDot")
def _tensordot(device, node):
    if not _float_operands(node):
        return None
    xp, axes = device.xp, node.op.axes

    def run(values):
        a, b = (device.dev(v) for v in values)
        try:
            return [xp.tensordot(a, b, axes=axes)]
        except ValueError as err:
            message = f"tensordot of {a.shape} and {b.shape}: {err}"
            raise RuleError(codes.MATMUL, message) from None

    return run


@builder("ArgReduce")
def _argreduce(device, node):
    op = node.op
    xp = device.xp
    fn = xp.argmax if op.kind == "argmax" else xp.argmin

    def run(values):
        x = device.dev(values[0])
        if (x.size if op.axis is None else x.shape[op.axis]) == 0:
            empty = f"attempt to get {op.kind} of an empty sequence"
            message = f"{op.kind} of an array of shape {x.shape}: {empty}"
            raise RuleError(codes.RUNTIME, message)
        return [fn(x, axis=op.axis, keepdims=op.keepdims).astype(np.int64, copy=False)]

    return run


# -- structure: views, shapes, indexing, joins --------------------------------------------


@builder("Shape", "ShapeI", "SpecifyShape", "Unbroadcast", "GradOverride", "IfElse")
def _as_is(device, node):
    """Ops that read only shapes, or pass values through: their reference runs on any
    array (a shape is a host value)."""

    def run(values):
        return node.op.perform(node, values)

    return run


@builder("CheckAndRaise")
def _check(device, node):
    def run(values):
        return node.op.perform(node, [values[0], device.host(values[1])])

    return run


@builder("DimShuffle")
def _dimshuffle(device, node):
    op, xp = node.op, device.xp

    def run(values):
        (x,) = values
        if not device.is_device(x):
            return op.perform(node, values)
        y = xp.transpose(x, op.kept + op.dropped)
        return [y.reshape(tuple(1 if o == "x" else x.shape[o] for o in op.new_order))]

    return run


@builder("Reshape")
def _reshape(device, node):
    def run(values):
        x, shp = values[0], device.host(values[1])
        if not device.is_device(x):
            return node.op.perform(node, [x, shp])
        target = tuple(int(d) for d in shp)
        try:
            return [x.reshape(target)]
        except ValueError:
            raise RuleError(codes.RESHAPE, f"cannot reshape {x.shape} into {target}") from None

    return run


@builder("MakeVector")
def _make_vector(device, node):
    xp, dtype = device.xp, node.outputs[0].dtype

    def run(values):
        if _all_host(device, values):
            return node.op.perform(node, values)
        return [xp.stack([device.dev(v).reshape(()) for v in values]).astype(dtype)]

    return run


def _index(device, spec, values) -> tuple:
    """The index for ``spec``: host integers, device index arrays."""
    return build_index(
        spec,
        [device.host(v) if not device.is_device(v) else v for v in values],
        as_array=device.dev,
    )


@builder("Subtensor")
def _subtensor(device, node):
    op = node.op

    def run(values):
        x, *rest = values
        if not device.is_device(x) and _all_host(device, rest):
            return op.perform(node, values)
        x = device.dev(x)
        try:
            return [x[_index(device, op.spec, rest)].copy()]
        except IndexError as err:
            raise RuleError(
                codes.INDEX, f"cannot index an array of shape {x.shape}: {err}"
            ) from None

    return run


@builder("IncSubtensor")
def _inc_subtensor(device, node):
    op, xp = node.op, device.xp
    scatter_add = getattr(getattr(xp, "add", None), "at", None)
    if op.advanced and not op.set_instead_of_inc and scatter_add is None:
        return None

    def run(values):
        x, y, *rest = values
        index = _index(device, op.spec, rest)
        return [op.store(device.dev(x).copy(), index, device.dev(y), scatter_add)]

    return run


@builder("Alloc")
def _alloc(device, node):
    xp, dtype = device.xp, node.outputs[0].dtype

    def run(values):
        value, *dims = values
        shape = tuple(int(device.host(d)) for d in dims)
        out = xp.empty(shape, dtype=dtype)
        out[...] = value if device.is_device(value) else device.scalar(value)
        return [out]

    return run


@builder("TensorCopy")
def _copy(device, node):
    def run(values):
        return [device.dev(values[0]).copy()]

    return run


@builder("Join")
def _join(device, node):
    op, xp = node.op, device.xp

    def run(values):
        arrays = [device.dev(v) for v in values]
        try:
            return [xp.concatenate(arrays, axis=op.axis)]
        except ValueError as err:
            shapes = ", ".join(str(v.shape) for v in arrays)
            raise RuleError(codes.SHAPE, f"cannot concatenate {shapes}: {err}") from None

    return run


@builder("CumOp")
def _cumulative(device, node):
    op, xp, dtype = node.op, device.xp, node.outputs[0].dtype
    fn = xp.cumsum if op.mode == "sum" else xp.cumprod

    def run(values):
        return [fn(device.dev(values[0]), axis=op.axis).astype(dtype, copy=False)]

    return run


@builder("Scan")
def _scan(device, node):
    return device.scan_runner(node)


@builder("Sort")
def _sort(device, node):
    op, xp = node.op, device.xp
    fn = xp.argsort if op.argsort else xp.sort  # CuPy's sorts are stable, as kind="stable"

    def run(values):
        out = fn(device.dev(values[0]), axis=op.axis)
        return [out.astype(np.int64, copy=False) if op.argsort else out]

    return run


@builder("Repeat")
def _repeat(device, node):
    op, xp = node.op, device.xp

    def run(values):
        x, repeats = values
        repeats = device.host(repeats)  # counts decide the shape: read on the host
        counts = int(repeats) if np.ndim(repeats) == 0 else repeats.tolist()
        return [xp.repeat(device.dev(x), counts, axis=op.axis)]

    return run


@builder("Tile")
def _tile(device, node):
    op, xp = node.op, device.xp

    def run(values):
        return [xp.tile(device.dev(values[0]), op.reps)]

    return run


@builder("Eye")
def _eye(device, node):
    op, xp = node.op, device.xp

    def run(values):
        n, m, k = (int(device.host(v)) for v in values)
        return [xp.eye(n, m, k, dtype=op.dtype)]

    return run


@builder("ARange")
def _arange(device, node):
    op, xp = node.op, device.xp

    def run(values):
        start, stop, step = (device.host(v).item() for v in values)
        if step == 0:
            raise RuleError(codes.RUNTIME, "arange step cannot be zero")
        return [xp.arange(start, stop, step, dtype=op.dtype)]

    return run
