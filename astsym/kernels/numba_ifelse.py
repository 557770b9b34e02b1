"""An ``IfElse`` node inside a compiled graph (``numba_graph.py``): a Python ``if`` whose
branches compute what only they need, so the compiled function is as lazy as the ``py``
evaluator (``graph/evaluate.py``), which computes a node only when a taken branch asks.

Each node gets a place: the chain of (ifelse, branch) blocks it is written in. A node that
only one branch of an ifelse needs (through its values, directly or through other such
nodes) is written inside that branch; a node needed by both branches, by the condition or by
anything outside is written before the ``if``. Places are found from the outputs back:
a node's place is the longest common prefix of the places its uses ask for.

    >>> import astsym.tensor as T
    >>> from astsym.graph.fg import FunctionGraph
    >>> from astsym.ifelse import ifelse
    >>> from astsym.kernels.numba_graph import render_graph
    >>> c, x = T.dscalars("c", "x")
    >>> print(render_graph(FunctionGraph([c, x], [ifelse(c > 0, x * 2, x)])).source.strip())
    def graph(i0, i1):
        v0 = np.bool_(np.greater(i0, np.float64(0.0)))
        if v0:
            v2 = np.float64(np.multiply(i1, np.float64(2.0)))
            v1 = np.float64(v2)
        else:
            v1 = np.float64(i1)
        return (v1,)

Limits: a node that branches of two different ifelse nodes need (say a forward branch and
its gradient's ifelse, which tests the same condition) is written before both, so it runs
even when neither branch is taken. The results are the same; an error it raises then makes
the caller rerun the call op by op, which is lazy and does not raise.
"""

from __future__ import annotations

import numpy as np

from astsym.graph.ops.ifelse import IfElse

#: a place: ((id of an ifelse node, True for its then-branch), ...) from the outermost block
Place = tuple


def schedule(fg) -> tuple[list, dict]:
    """The nodes written in the function's own block, in schedule order, and for each
    ifelse node (by id) the nodes of its then- and else-branch blocks, in schedule order."""
    order = fg.toposort()
    places = _places(order, fg.outputs)
    blocks: dict[Place, list] = {(): []}
    for node in order:
        blocks.setdefault(places[id(node)], []).append(node)
    branches = {}
    for node in order:
        if isinstance(node.op, IfElse):
            then = (*places[id(node)], (id(node), True))
            other = (*places[id(node)], (id(node), False))
            branches[id(node)] = (blocks.get(then, []), blocks.get(other, []))
    return blocks[()], branches


def _places(order: list, outputs: list) -> dict[int, Place]:
    """Each node's place (by node id), from the places its uses ask for."""
    asked: dict[int, list[Place]] = {}
    for out in outputs:
        if out.owner is not None:
            asked.setdefault(id(out.owner), []).append(())
    places = {}
    for node in reversed(order):  # every user of a node is placed before the node
        place = places[id(node)] = _common_prefix(asked.get(id(node), [()]))
        for i, var in enumerate(node.inputs):
            if var.owner is not None:
                side = _branch_of(node, i)
                use = place if side is None else (*place, (id(node), side))
                asked.setdefault(id(var.owner), []).append(use)
    return places


def _branch_of(node, i: int) -> bool | None:
    """True (then) or False (else) when input ``i`` of ``node`` is an ifelse branch value;
    None for an ifelse's condition and for every input of any other op."""
    if not isinstance(node.op, IfElse) or i == 0:
        return None
    return i <= node.op.n_outs


def _common_prefix(places: list[Place]) -> Place:
    first = places[0]
    for k, step in enumerate(first):
        if any(len(p) <= k or p[k] != step for p in places):
            return first[:k]
    return first


def emit_ifelse(emitter, node, branches: tuple[list, list]) -> None:
    """Write ``node`` into ``emitter`` (an ``_Emitter``) as an ``if``/``else`` whose blocks
    compute their branch's nodes (``branches``, from ``schedule``) and assign the outputs.

    Both blocks assign the same names, so Numba needs their types to unify: 0-d values are
    converted to the output's scalar type, arrays keep their dtype and rank (the type rule
    already gave both branches the output's) and may differ only in layout, which Numba
    unifies. The py evaluator copies the chosen value; here it is not copied, because no
    compiled op writes into its inputs and the caller copies any output that shares memory
    with an argument (``fastcall.unaliased``), so a copy could never be observed.
    """
    n = node.op.n_outs
    condition = emitter.value(node.inputs[0])
    names = [emitter.fresh() for _ in node.outputs]
    then_values, else_values = node.inputs[1 : 1 + n], node.inputs[1 + n :]
    then_lines = _block(emitter, branches[0], then_values, names, node.outputs)
    else_lines = _block(emitter, branches[1], else_values, names, node.outputs)
    emitter.lines.append(f"if {condition}:")
    emitter.lines += ["    " + line for line in then_lines]
    emitter.lines.append("else:")
    emitter.lines += ["    " + line for line in else_lines]
    for out, name in zip(node.outputs, names):
        emitter.bind(out, name)


def _block(emitter, nodes: list, values: list, names: list[str], outputs: list) -> list[str]:
    """The lines of one branch: its nodes, then ``names`` assigned from ``values``. Names the
    nodes bind are used only in this block (their every use is in this branch)."""
    outer, emitter.lines = emitter.lines, []
    try:
        for node in nodes:
            emitter.emit_node(node)
        for name, var, out in zip(names, values, outputs):
            emitter.lines.append(f"{name} = {_converted(emitter.value(var), var, out)}")
        return emitter.lines
    finally:
        emitter.lines = outer


def _converted(value: str, var, out) -> str:
    """``value`` (of ``var``'s type) as a value of ``out``'s dtype."""
    dtype = np.dtype(out.dtype).name
    dtype = "bool_" if dtype == "bool" else dtype
    if out.ndim == 0:
        return f"np.{dtype}({value})"
    return value if var.dtype == out.dtype else f"{value}.astype(np.{dtype})"
