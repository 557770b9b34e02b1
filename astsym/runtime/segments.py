"""Compiled segments: a graph the ``cpu`` linker cannot compile whole (an op with no
compiled form: a sort, advanced indexing, a random draw) is split into runs of nodes that
compile, each one Numba function, and the nodes between them, which run their NumPy
reference (or fused kernel) one by one. Values pass between them through the program's
storage slots.

The nodes are regrouped, in an order their inputs allow, so each run is as long as it can
be: all nodes that can compile and are ready go into one segment, then the nodes that
cannot, and so on. A run made only of views and shape arithmetic is not worth a Numba
compile and runs op by op too.

    >>> import astsym, astsym.tensor as T
    >>> x = T.dvector("x")
    >>> f = astsym.function([x], T.sort(T.exp(x) * 2) + 1)
    >>> [kind for kind, _ in split(f.fgraph)]
    ['compiled', 'op', 'compiled']
"""

from __future__ import annotations

from astsym.graph.basic import Constant
from astsym.graph.fg import FunctionGraph
from astsym.graph.type import TensorType
from astsym.kernels.numba_graph import Unsupported, render_graph

#: ops that only make views or compute shapes: a segment of these alone runs op by op
_LIGHT = {"DimShuffle", "ShapeI", "Shape", "MakeVector", "Subtensor", "Reshape", "Cast"}


class Segment:
    """A run of nodes compiled as one function of the values it needs from outside."""

    def __init__(self, nodes: list, inputs: list, outputs: list) -> None:
        self.nodes, self.inputs, self.outputs = nodes, inputs, outputs
        self.rendered = render_graph(FunctionGraph(inputs, outputs))
        self.scalar_inputs = [v.ndim == 0 for v in inputs]
        self.out_types = [v.type for v in outputs]
        #: the compiled function, once built
        self.compiled = None


def split(fg: FunctionGraph) -> list[tuple[str, object]]:
    """``fg``'s nodes as ``("compiled", Segment)`` and ``("op", node)`` items, in an order
    their inputs allow."""
    nodes = fg.toposort()
    compiles = {id(n): _compiles_alone(n) for n in nodes}
    ready = {id(v) for v in fg.inputs}
    remaining, runs = list(nodes), []
    kind = True
    while remaining:
        run = []
        for node in remaining:  # in schedule order, so a node's producers come first
            if compiles[id(node)] == kind and all(_ready(v, ready) for v in node.inputs):
                run.append(node)
                ready.update(id(v) for v in node.outputs)
        if run:
            taken = {id(n) for n in run}
            remaining = [n for n in remaining if id(n) not in taken]
            runs.append((kind, run))
        kind = not kind
    return _items(fg, runs)


def _ready(var, ready: set) -> bool:
    return isinstance(var, Constant) or id(var) in ready or var.owner is None


def _items(fg: FunctionGraph, runs: list) -> list[tuple[str, object]]:
    used_later: dict[int, int] = {}  # variable id -> the last run that uses it
    for k, (_, run) in enumerate(runs):
        for node in run:
            for var in node.inputs:
                used_later[id(var)] = k
    outputs = {id(v) for v in fg.outputs}
    items: list[tuple[str, object]] = []
    for k, (compiled, run) in enumerate(runs):
        if not compiled or all(type(n.op).__name__ in _LIGHT for n in run):
            items += [("op", node) for node in run]
            continue
        made = {id(v) for n in run for v in n.outputs}
        inputs, seen = [], set()
        for node in run:
            for var in node.inputs:
                if id(var) not in made and id(var) not in seen and not isinstance(var, Constant):
                    seen.add(id(var))
                    inputs.append(var)
        results = [
            v for n in run for v in n.outputs if id(v) in outputs or used_later.get(id(v), -1) > k
        ]
        try:
            items.append(("compiled", Segment(run, inputs, results)))
        except Unsupported:  # a value between segments the compiled code cannot pass
            items += [("op", node) for node in run]
    return items


def _compiles_alone(node) -> bool:
    """Whether the emitter has a compiled form for ``node`` with its inputs given."""
    values = node.inputs + node.outputs
    if any(not isinstance(v.type, TensorType) for v in values):
        return False
    inputs = list({id(v): v for v in node.inputs if not isinstance(v, Constant)}.values())
    try:
        render_graph(FunctionGraph(inputs, node.outputs))
    except Unsupported:
        return False
    return True
