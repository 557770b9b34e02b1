"""Whole-graph compilation for the ``cpu`` backend: an optimized graph becomes one Numba
function, so a call is one dispatch and a ``scan`` is a compiled loop.

``render_graph(fg)`` writes the function's source: each node in schedule order, 0-d values
as Numba scalars and the others as arrays. Fused groups call their generated kernels
(``numba_elemwise``/``numba_reduce``, embedded under a name per node), ``matmul`` goes to
BLAS through ``np.dot`` (a small matrix-vector product to loops, ``numba_blas``), shape and
indexing ops are views, and a ``Scan`` node becomes a loop over its inner graph, rendered
the same way as a step function. An op this module cannot express raises ``Unsupported``
naming it; the caller then runs the graph op by op.

Checks the graph evaluator does (broadcast sizes, index bounds, empty maxima) raise a plain
``ValueError`` here; the caller reruns such a call op by op, which raises the located error.

    >>> import astsym.tensor as T
    >>> from astsym.graph.fg import FunctionGraph
    >>> w, x, b = T.fscalars("w", "x", "b")
    >>> print(render_graph(FunctionGraph([w, x, b], [w * x + b])).source.strip())
    def graph(i0, i1, i2):
        v0 = np.float32(np.multiply(i0, i1))
        v1 = np.float32(np.add(v0, i2))
        return (v1,)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from astsym.graph.basic import Constant

from . import numba_blas, numba_elemwise, numba_ifelse, numba_reduce
from .numba_render import OBSERVED, PARALLEL_MIN, _expression, compile_kernel, njit_source


class Unsupported(Exception):
    """The graph holds an op (named in the message) with no compiled form."""


@dataclass
class Rendered:
    """A graph's compiled form before compilation: the source of ``graph`` and of the
    kernels it calls, the names they use, and the array constants passed after the inputs."""

    source: str
    names: dict = field(default_factory=dict)
    #: name -> (kernel source, the names it uses); each compiles once a process, shared by
    #: every graph that embeds it (``numba_render.compile_kernel``)
    kernels: dict = field(default_factory=dict)
    constants: list = field(default_factory=list)

    def build(self, parallel: bool):
        """The compiled ``graph`` function. Each kernel runs on threads as it did when last
        called op by op (``numba_render.OBSERVED``), else when ``parallel``."""
        names, identity = dict(self.names), []
        for name, (source, kernel_names) in self.kernels.items():
            threads = OBSERVED.get(source, parallel)
            names[name] = compile_kernel(source, kernel_names, threads)
            identity.append(f"{name} {threads}\n{source}")
        return njit_source(self.source, "graph", names, "\n".join(identity), error_model="numpy")


def render_graph(fg, name: str = "graph") -> Rendered:
    """The source of one Numba function computing ``fg``'s outputs from its inputs."""
    out = Rendered("")
    body = _Emitter(out, prefix="")
    params = [body.bind(var, f"i{k}") for k, var in enumerate(fg.inputs)]
    lines = body.emit_graph(fg)
    params += [f"c{k}" for k in range(len(out.constants))]
    out.source = "\n".join([f"def {name}({', '.join(params)}):", *lines]) + "\n"
    return out


class _Emitter:
    """Writes the lines computing one graph (the function's or a scan's step)."""

    def __init__(self, out: Rendered, prefix: str) -> None:
        self.out, self.prefix = out, prefix
        self.local: dict[int, str] = {}
        self.lines: list[str] = []
        self.count = 0
        #: ifelse node id -> the nodes of its then- and else-blocks (``numba_ifelse``)
        self.branches: dict[int, tuple[list, list]] = {}

    def bind(self, var, name: str) -> str:
        self.local[id(var)] = name
        return name

    def fresh(self, stem: str = "v") -> str:
        self.count += 1
        return f"{stem}{self.prefix}{self.count - 1}"

    def emit_graph(self, fg) -> list[str]:
        for var in fg.variables():
            if (
                np.dtype(getattr(var, "dtype", "float64")).kind not in "biuf"
                or var.dtype == "float16"
            ):
                raise Unsupported(f"a value of dtype {var.dtype} (Numba has no float16/complex)")
        # nodes that only one branch of an ifelse needs are written inside that branch
        order, self.branches = numba_ifelse.schedule(fg)
        for node in order:
            self.emit_node(node)
        results = [self.value(v) for v in fg.outputs]
        return ["    " + line for line in self.lines] + [f"    return ({', '.join(results)},)"]

    def emit_node(self, node) -> None:
        method = getattr(self, "_" + type(node.op).__name__, None)
        if method is None:
            raise Unsupported(f"{node.op} has no compiled form")
        method(node)

    def value(self, var) -> str:
        name = self.local.get(id(var))
        if name is not None:
            return name
        if isinstance(var, Constant):
            return self._constant(var)
        raise Unsupported(f"{var} is not computed before it is used")

    def _constant(self, var) -> str:
        data = np.asarray(var.data)
        if data.ndim == 0 and data.dtype.kind in "biuf":
            literal = _float_literal(data) if data.dtype.kind == "f" else repr(data.item())
            return self.bind(var, f"np.{_dtype(data.dtype)}({literal})")
        if data.ndim == 0:
            raise Unsupported(f"a constant of dtype {data.dtype}")
        self.out.constants.append(data)
        return self.bind(var, f"c{len(self.out.constants) - 1}")

    def assign(self, node, expression: str, index: int = 0) -> str:
        name = self.fresh()
        self.lines.append(f"{name} = {expression}")
        return self.bind(node.outputs[index], name)

    # -- shapes and checks ---------------------------------------------------------------

    def full_shape(self, inputs, ndim: int) -> list[str]:
        """The broadcast shape of ``inputs`` as expressions, with a ValueError for sizes that
        differ in a dim not of static size 1."""
        dims = []
        for d in range(ndim):
            sizes = []
            for var in inputs:
                offset = ndim - var.ndim
                if d >= offset and var.type.shape[d - offset] != 1:
                    sizes.append(f"{self.value(var)}.shape[{d - offset}]")
            for other in sizes[1:]:
                self.lines.append(f"if {other} != {sizes[0]}: raise ValueError('broadcast')")
            dims.append(sizes[0] if sizes else "1")
        return dims

    def kernel(self, render, op, node) -> str:
        """Embed the kernel ``render`` writes for ``node``; the name to call it by."""
        try:
            source, names = render(op, node)
        except KeyError as err:
            raise Unsupported(f"{op.name}: no kernel form for {err}") from None
        name = self.fresh("k")
        self.out.kernels[name] = (source, names)
        return name

    # -- ops -----------------------------------------------------------------------------

    def _FusedElemwise(self, node) -> None:
        op, out = node.op, node.outputs[0]
        args = [self.value(v) for v in node.inputs]
        if out.ndim == 0:
            values: list[str] = []
            for step_op, refs, dtype in op.steps:
                operands = [args[-1 - r] if r < 0 else values[r] for r in refs]
                name = self.fresh()
                expr = _expression(step_op, operands, dtype, self.out.names)
                self.lines.append(f"{name} = {expr}")
                values.append(name)
            self.bind(out, values[-1])
            return
        kernel = self.kernel(numba_elemwise.render, op, node)
        shape = self.full_shape(node.inputs, out.ndim)
        name = self.assign(node, f"np.empty(({', '.join(shape)},), np.{out.dtype})")
        self.lines.append(f"{kernel}({name}, {', '.join(args)})")

    def _FusedReduce(self, node) -> None:
        op, out = node.op, node.outputs[0]
        red = op.reduce
        value_dtype = op.steps[-1][2] if op.steps else node.inputs[0].dtype
        if red.kind not in numba_reduce.KINDS or value_dtype not in ("float32", "float64"):
            raise Unsupported(f"{op.name} of {value_dtype}")
        kernel = self.kernel(numba_reduce.render_reduce, op, node)
        ndim = max(v.ndim for v in node.inputs)
        shape = self.full_shape(node.inputs, ndim)
        shp = self.fresh("s")
        self.lines.append(f"{shp} = ({', '.join(shape)},)")
        if red.kind in ("max", "min"):
            for a in red.axes:
                self.lines.append(f"if {shp}[{a}] == 0: raise ValueError('empty {red.kind}')")
        identity = _float_literal(numba_reduce.KINDS[red.kind][0])
        acc_dtype = "float64" if red.kind in ("sum", "prod") else value_dtype
        keep = [("1" if a in red.axes else f"{shp}[{a}]") for a in range(ndim)]
        acc, chunks = self.fresh("acc"), self.fresh("chunks")
        if 0 in red.axes:  # chunks of rows fill partial results, combined after (threads)
            size = " * ".join(f"{shp}[{a}]" for a in range(ndim))
            self.lines.append(  # (at least 64 rows a chunk: partials stay small)
                f"{chunks} = 1 if {size} < {PARALLEL_MIN} else max(1, min(16, {shp}[0] // 64))"
            )
        else:
            self.lines.append(f"{chunks} = max(1, min({shp}[0], 8))")
        parts = chunks if 0 in red.axes else "1"
        self.lines.append(
            f"{acc} = np.full(({parts}, {', '.join(keep)}), {identity}, np.{acc_dtype})"
        )
        args = ", ".join(self.value(v) for v in node.inputs)
        self.lines.append(f"{kernel}({acc}, {shp}, np.int64({chunks}), {args})")
        total = acc
        if 0 in red.axes:
            total = self.fresh("total")
            self.out.names["_combine"] = numba_reduce.combine
            self.lines.append(f"{total} = _combine({acc}, {numba_reduce.COMBINE[red.kind]})")
        if out.ndim == 0:
            zeros = ", ".join("0" for _ in range(ndim))
            self.assign(node, f"np.{out.dtype}({total}[{zeros}])")
            return
        dims = keep if red.keepdims else [k for a, k in enumerate(keep) if a not in red.axes]
        self.assign(node, f"{total}.reshape(({', '.join(dims)},)).astype(np.{out.dtype})")

    def _FusedSoftmax(self, node) -> None:
        op, out = node.op, node.outputs[0]
        if out.dtype not in ("float32", "float64") or out.ndim == 0:
            raise Unsupported(f"{op.name} of {out.type}")
        kernel = self.kernel(numba_reduce.render_softmax, op, node)
        shape = self.full_shape(node.inputs, out.ndim)
        shp = self.fresh("s")
        self.lines.append(f"{shp} = ({', '.join(shape)},)")
        self.lines.append(f"if {shp}[{out.ndim - 1}] == 0: raise ValueError('empty softmax')")
        name = self.assign(node, f"np.empty({shp}, np.{out.dtype})")
        chunks = f"max(1, min({shp}[0], 8))" if out.ndim > 1 else "np.int64(1)"
        args = ", ".join(self.value(v) for v in node.inputs)
        self.lines.append(f"{kernel}({name}, {shp}, {chunks}, {args})")

    def _MatMul(self, node) -> None:
        a, b = node.inputs
        if not (1 <= a.ndim <= 2 and 1 <= b.ndim <= 2) or a.dtype not in ("float32", "float64"):
            raise Unsupported(f"matmul of {a.type} and {b.type}")
        x, y = self.value(a), self.value(b)
        if a.ndim + b.ndim == 3:  # a BLAS call costs more than a small product: loops
            self.out.names["_matvec"] = numba_blas.matvec
            self.out.names["_blas_matvec"] = numba_blas.blas_matvec
            matrix, vector = (x, y) if a.ndim == 2 else (f"{y}.T", x)
            dtype = node.outputs[0].dtype
            name = self.assign(node, f"np.empty(({matrix}.shape[0],), np.{dtype})")
            looped = getattr(self, "columns", {}).get(matrix, matrix)  # (a scan's F copy)
            small = f"{matrix}.size <= {numba_blas.SMALL_DOT}"
            self.lines.append(f"if {small}: _matvec({name}, {looped}, {vector})")
            self.lines.append(f"else: _blas_matvec({name}, {matrix}, {vector})")
            return
        # C or F order go straight to BLAS; a strided or reversed view is copied first
        self.out.names["_for_blas"] = numba_blas.for_blas
        self.assign(node, f"np.dot(_for_blas({x}), _for_blas({y}))")

    def _DimShuffle(self, node) -> None:
        op, out = node.op, node.outputs[0]
        (x,) = node.inputs
        src = self.value(x)
        if x.ndim == 0:
            self.assign(node, f"np.full(({', '.join('1' for _ in op.new_order)},), {src})")
            return
        if out.ndim == 0:
            self.assign(node, f"{src}[{', '.join('0' for _ in range(x.ndim))}]")
            return
        if op.kept != sorted(op.kept):
            perm = ", ".join(str(i) for i in op.kept)  # (.T keeps Numba's F layout: BLAS)
            src = f"{src}.T" if op.kept == [1, 0] else f"np.transpose({src}, ({perm},))"
            if len(op.kept) == x.ndim and "x" not in op.new_order:
                self.assign(node, src)
                return
        dims = ["1" if o == "x" else f"{self.value(x)}.shape[{o}]" for o in op.new_order]
        self.assign(node, f"np.ascontiguousarray({src}).reshape(({', '.join(dims)},))")

    def _ShapeI(self, node) -> None:
        self.assign(node, f"np.int64({self.value(node.inputs[0])}.shape[{node.op.i}])")

    def _MakeVector(self, node) -> None:
        items = ", ".join(self.value(v) for v in node.inputs)
        self.assign(node, f"np.array(({items},), np.{node.op.dtype})")

    def _Cast(self, node) -> None:
        self._Elemwise(node)

    def _Elemwise(self, node) -> None:
        op, out = node.op, node.outputs[0]
        args = [self.value(v) for v in node.inputs]
        if op.name.startswith("cast_"):
            expression = args[0]
        elif isinstance(op.impl, np.ufunc) and hasattr(np, op.impl.__name__):
            expression = f"np.{op.impl.__name__}({', '.join(args)})"
        else:
            raise Unsupported(f"{op.name} has no compiled form")
        if out.ndim == 0:
            self.assign(node, f"np.{_dtype(out.dtype)}({expression})")
        else:
            self.assign(node, f"np.asarray({expression}).astype(np.{_dtype(out.dtype)})")

    def _Subtensor(self, node) -> None:
        x, *pieces = node.inputs
        self.assign(node, f"{self.value(x)}[{self.index(x, node.op.spec, pieces)}]")

    def _IncSubtensor(self, node) -> None:
        x, y, *pieces = node.inputs
        if x.ndim == 0:
            raise Unsupported(f"{node.op} of a scalar")
        index = self.index(x, node.op.spec, pieces)
        name = self.assign(node, f"{self.value(x)}.copy()")
        store = "=" if node.op.set_instead_of_inc else "+="
        self.lines.append(f"{name}[{index}] {store} {self.value(y)}")

    def index(self, x, spec, pieces) -> str:
        """The subscript of basic indexing ``spec`` (ints and slices), with a ValueError for
        an int out of range (Numba does not check)."""
        src, items, it = self.value(x), [], iter(pieces)
        for axis, entry in enumerate(spec):
            if entry == "index":
                i, n = self.value(next(it)), f"{src}.shape[{axis}]"
                self.lines.append(f"if {i} < -{n} or {i} >= {n}: raise ValueError('index')")
                items.append(i)
            elif isinstance(entry, tuple) and entry[0] == "slice":
                parts = [self.value(next(it)) if present else "" for present in entry[1:]]
                items.append(":".join(parts))
            else:
                raise Unsupported(f"indexing with {entry}")
        return ", ".join(items)

    def _Alloc(self, node) -> None:
        value, *dims = node.inputs
        out = node.outputs[0]
        if out.ndim == 0:
            self.assign(node, f"np.{_dtype(out.dtype)}({self.value(value)})")
            return
        shape = ", ".join(self.value(d) for d in dims)
        if value.ndim == 0:
            self.assign(node, f"np.full(({shape},), {self.value(value)}, np.{_dtype(out.dtype)})")
            return
        name = self.assign(node, f"np.empty(({shape},), np.{_dtype(out.dtype)})")
        self.lines.append(f"{name}[:] = {self.value(value)}")

    def _Reshape(self, node) -> None:
        x, shp = node.inputs
        dims = ", ".join(f"{self.value(shp)}[{k}]" for k in range(node.op.ndim))
        src = self.value(x)
        if x.ndim == 0:
            raise Unsupported("reshape of a scalar")
        self.assign(node, f"np.ascontiguousarray({src}).reshape(({dims},))")

    def _Join(self, node) -> None:
        out = node.outputs[0]
        if any(v.dtype != out.dtype or v.ndim != out.ndim for v in node.inputs):
            raise Unsupported(f"{node.op}: operands of other dtypes or ranks")
        parts = ", ".join(f"np.ascontiguousarray({self.value(v)})" for v in node.inputs)
        self.assign(node, f"np.concatenate(({parts},), axis={node.op.axis})")

    def _ARange(self, node) -> None:
        start, stop, step = (self.value(v) for v in node.inputs)
        self.lines.append(f"if {step} == 0: raise ValueError('arange step 0')")
        dtype = _dtype(node.op.dtype)
        self.assign(node, f"np.arange({start}, {stop}, {step}).astype(np.{dtype})")

    def _RowPass(self, node) -> None:
        from .numba_rowpass import emit

        emit(self, node)

    def _Scan(self, node) -> None:
        from .numba_scan import emit_scan

        emit_scan(self, node)

    def _IfElse(self, node) -> None:
        numba_ifelse.emit_ifelse(self, node, self.branches[id(node)])


def _float_literal(value: float) -> str:
    """Source for a float, inf and NaN included (``repr`` gives ``inf``: not a name)."""
    if np.isnan(value):
        return "np.nan"
    if np.isinf(value):
        return "np.inf" if value > 0 else "-np.inf"
    return repr(float(value))


def _dtype(dtype) -> str:
    name = np.dtype(dtype).name
    return "bool_" if name == "bool" else name
