"""Printing graphs: ``debugprint`` (one line per variable, as Theano prints them), ``pp``
(infix text, in ``pretty.py``), ``pydotprint`` (Graphviz DOT, in ``dot.py``) and
``rewrites`` (which rewrite fired on which user line while a function was compiled).

    >>> import astsym.tensor as T
    >>> x, y = T.dscalars("x", "y")
    >>> pp(x + T.exp(-y))
    '(x + exp((-y)))'
    >>> print(debugprint(x * 2.0, file="str"), end="")
    multiply [id A] ''
     |x [id B]
     |TensorConstant{2.0} [id C]

Every printer accepts a variable, a list of them, an ``Apply``, a ``FunctionGraph`` or a
compiled function (its optimized graph, found through ``.maker.fgraph`` or ``.fgraph``:
this layer does not import the runtime).
"""

from __future__ import annotations

import sys
from collections import Counter

import numpy as np

from .basic import Constant, Variable
from .dot import pydotprint
from .pretty import graph_roots, leaf_label, one_line, pp, pprint
from .shared import SharedVariable

_ID_STYLES = ("CHAR", "id", "int", "")


def debugprint(
    obj,
    depth: int = -1,
    print_type: bool = False,
    file=None,
    ids: str = "CHAR",
    stop_on_name: bool = False,
    done: dict | None = None,
    print_storage: bool = False,
):
    """Print the graph of ``obj``, one line per variable, its inputs indented below it.

    A node printed before is shown again with its id but not expanded. A compiled function
    (or a FunctionGraph) shows its optimized graph with each node's topological position;
    where a ``cpu`` function's graph is not compiled whole, each node also says how it runs
    (``[compiled segment 0]``, ``[op by op]``).
    ``file="str"`` returns the text; otherwise it is written to ``file`` (default stdout),
    which is returned. ``ids``: "CHAR" (A, B, ...), "int", "id" (Python ids) or "" (none);
    ``done`` (a dict) shares ids across calls; ``stop_on_name`` does not expand named
    variables below the top; ``print_storage`` shows the values of constants and shared
    variables.

    >>> import astsym.tensor as T
    >>> x = T.vector("x")
    >>> print(debugprint(T.exp(x), print_type=True, file="str"), end="")
    exp [id A] <TensorType(float64, vector)> ''
     |x [id B] <TensorType(float64, vector)>
    """
    if ids not in _ID_STYLES:
        raise ValueError(f"ids must be one of {_ID_STYLES}, got {ids!r}")
    roots, order = graph_roots(obj)
    printer = _Printer(ids, {} if done is None else done, print_type, print_storage)
    if order is not None:
        printer.order = {id(node): i for i, node in enumerate(order)}
        printer.marks = getattr(getattr(obj, "program", None), "marks", None) or {}
    for root in roots:
        printer.walk(root, depth, stop_on_name)
    printer.inner_graphs(depth, stop_on_name)
    text = "".join(line + "\n" for line in printer.lines)
    if file == "str":
        return text
    out = sys.stdout if file is None else file
    out.write(text)
    return out


def rewrites(obj, file=None):
    """List the rewrites that fired while compiling ``obj``, one line per user line, rule
    and op: ``path:line: group/rule on op``, sorted by file and line, with ``(xN)`` when the
    same rule fired N times on the same line and op.

    ``obj``: a compiled function (its ``rewrites``, found through ``.maker`` as well), a
    ``RewriteLog`` or a list of its entries. ``file="str"`` returns the text; otherwise it
    is written to ``file`` (default stdout), which is returned.

    ``log(1 + x)`` becomes ``log1p(x)``, which then runs as a (one-node) fused kernel; both
    lines point at the line that built the graph:

    >>> import astsym, astsym.tensor as T
    >>> x = T.dvector("x")
    >>> f = astsym.function([x], T.log(1 + x))
    >>> [line.rsplit(": ", 1)[1] for line in rewrites(f, file="str").splitlines()]
    ['stabilize/log1p_from_log on log', 'fuse/fuse_elemwise on log1p']
    """
    entries = getattr(getattr(obj, "maker", obj), "rewrites", obj)
    entries = getattr(entries, "entries", entries)
    counts = Counter(_rewrite_line(entry) for entry in entries)
    text = ""
    for key, what in sorted(counts, key=lambda line: line[0]):  # stable: pipeline order
        repeat = counts[key, what]
        text += f"{_where(key)}: {what}" + (f" (x{repeat})" if repeat > 1 else "") + "\n"
    if file == "str":
        return text
    out = sys.stdout if file is None else file
    out.write(text)
    return out


def _rewrite_line(entry) -> tuple[tuple, str]:
    span = entry.span
    key = ("~", 0) if span is None else (str(span.file), int(span.line))
    return key, f"{entry.group}/{entry.rule} on {entry.op}"


def _where(key: tuple) -> str:
    return "<unknown>" if key == ("~", 0) else f"{key[0]}:{key[1]}"


class _Printer:
    """Collects debugprint's lines; ``done`` maps each printed node (or leaf) to its id."""

    def __init__(self, ids: str, done: dict, print_type: bool, print_storage: bool) -> None:
        self.ids, self.done = ids, done
        self.print_type, self.print_storage = print_type, print_storage
        self.order: dict[int, int] | None = None
        #: how each node runs (a compiled program's ``marks``: its segment, or op by op)
        self.marks: dict[int, str] = {}
        self.lines: list[str] = []
        self.with_inner: list = []  # nodes of ops holding inner graphs (scan), in order met

    def inner_graphs(self, depth: int, stop_on_name: bool) -> None:
        """After the outer graph: each scan's inner graph, below the scan's line."""
        if not self.with_inner:
            return
        self.lines += ["", "Inner graphs:"]
        done = 0
        while done < len(self.with_inner):  # inner graphs may hold scans of their own
            node = self.with_inner[done]
            done += 1
            self.lines += ["", f"{_node_label(node.outputs[0])} [id {self.id_of(node)}]"]
            for out in node.op.inner.outputs:
                self.walk(out, depth, stop_on_name, indent=" >")

    def walk(self, root: Variable, depth: int, stop_on_name: bool, indent: str = "") -> None:
        # An explicit stack, not recursion: graphs thousands of nodes deep must print.
        stack = [(root, indent, indent, 0)]
        while stack:
            var, prefix, child_prefix, level = stack.pop()
            key = var.owner if var.owner is not None else var
            seen = key in self.done
            if not seen and hasattr(getattr(var.owner, "op", None), "inner"):
                self.with_inner.append(var.owner)
            self.lines.append(prefix + self.line(var, key))
            stop = stop_on_name and level > 0 and var.name is not None
            if var.owner is None or seen or stop or 0 <= depth <= level + 1:
                continue
            inputs = var.owner.inputs
            for i in reversed(range(len(inputs))):
                last = i == len(inputs) - 1
                below = child_prefix + ("  " if last else " |")
                stack.append((inputs[i], child_prefix + " |", below, level + 1))

    def line(self, var: Variable, key) -> str:
        node = var.owner
        parts = [_leaf_label(var) if node is None else _node_label(var)]
        if self.ids:
            parts.append(f"[id {self.id_of(key)}]")
        if self.print_type:
            parts.append(f"<{var.type}>")
        if node is not None:
            parts.append(f"'{one_line(var.name or '')}'")
        elif self.print_storage and isinstance(var, (Constant, SharedVariable)):
            parts.append(f"-> {_value_text(var)}")
        text = " ".join(parts)
        if node is not None and self.order is not None and id(node) in self.order:
            text += f"   {self.order[id(node)]}"
        if node is not None and id(node) in self.marks:
            text += f"   [{self.marks[id(node)]}]"
        return text

    def id_of(self, key) -> str:
        if key not in self.done:
            number = len(self.done)
            self.done[key] = {"CHAR": _letters(number), "int": str(number)}.get(
                self.ids, str(id(key))
            )
        return self.done[key]


def _leaf_label(var: Variable) -> str:
    text = leaf_label(var)
    if isinstance(var, Constant) and var.name is None and not text.startswith("TensorConst"):
        return f"TensorConstant{{{text}}}"
    return text


def _node_label(var: Variable) -> str:
    node = var.owner
    suffix = f".{var.index}" if len(node.outputs) > 1 else ""
    return one_line(f"{node.op}{suffix}")


def _value_text(var: Variable) -> str:
    value = var.data if isinstance(var, Constant) else var.get_value(borrow=True)
    if isinstance(value, np.ndarray):
        return one_line(np.array2string(value, threshold=10, separator=", "))
    return one_line(repr(value))


def _letters(number: int) -> str:
    """0 -> A, 25 -> Z, 26 -> BA: the ids Theano's debugprint shows."""
    text = ""
    while True:
        number, digit = divmod(number, 26)
        text = chr(ord("A") + digit) + text
        if number == 0:
            return text


__all__ = ["debugprint", "graph_roots", "pp", "pprint", "pydotprint"]
