"""``FunctionGraph``: a self-contained copy of a graph, from inputs to outputs, that
rewrites can change in place (the user's graph is never touched).

    >>> import astsym.tensor as T
    >>> x = T.vector("x")
    >>> fg = FunctionGraph([x], [T.exp(x) * 2])
    >>> [node.op.name for node in fg.toposort()]
    ['exp', 'multiply']
"""

from __future__ import annotations

from collections.abc import Sequence

from .basic import Apply, Variable
from .walk import clone_graph, graph_inputs, toposort


class FunctionGraph:
    def __init__(
        self, inputs: Sequence[Variable], outputs: Sequence[Variable], clone: bool = True
    ) -> None:
        if clone:
            inputs, outputs, self.equiv = clone_graph(inputs, outputs)
        else:
            self.equiv = {}
        self.inputs = list(inputs)
        self.outputs = list(outputs)

    def toposort(self) -> list[Apply]:
        return toposort(self.outputs, blockers=self.inputs)

    @property
    def apply_nodes(self) -> list[Apply]:
        return self.toposort()

    def variables(self) -> list[Variable]:
        out = list(self.inputs)
        for node in self.toposort():
            out += node.outputs
        return out

    def free_inputs(self) -> list[Variable]:
        """Ownerless variables the outputs use that are not listed inputs (shared, constants)."""
        listed = {id(i) for i in self.inputs}
        return [v for v in graph_inputs(self.outputs, self.inputs) if id(v) not in listed]

    def clients(self) -> dict[int, list[tuple[Apply, int]]]:
        """For each variable id, the (node, input position) pairs that use it."""
        out: dict[int, list[tuple[Apply, int]]] = {}
        for node in self.toposort():
            for i, inp in enumerate(node.inputs):
                out.setdefault(id(inp), []).append((node, i))
        return out

    def replace(self, old: Variable, new: Variable) -> None:
        """Make every use of ``old`` (in nodes and outputs) use ``new`` instead."""
        for node in self.toposort():
            node.inputs = [new if i is old else i for i in node.inputs]
        self.outputs = [new if o is old else o for o in self.outputs]

    def __str__(self) -> str:
        return f"FunctionGraph({', '.join(map(str, self.outputs))})"
