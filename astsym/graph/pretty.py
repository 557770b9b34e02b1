"""``pp``: a graph as one infix expression, the way Theano's ``pp`` shows it.

    >>> import astsym.tensor as T
    >>> x, y = T.dscalars("x", "y")
    >>> pp(x + y)
    '(x + y)'
    >>> m = T.matrix("m")
    >>> pp(m[1:, 0] * m.sum(axis=0))
    '(m[1:, 0] * sum(m, axis=(0,)))'

Operators with a Python symbol print infix, in parentheses; other ops print as calls.
An op can choose its own form by registering with ``format_node.register(OpClass)``.
The helpers that every printer shares (which variables to print, how a leaf is labelled)
live here too.
"""

from __future__ import annotations

from functools import singledispatch

from .basic import Apply, Variable
from .fg import FunctionGraph
from .op import Op
from .ops.dimshuffle import DimShuffle
from .ops.fused import FusedElemwise, FusedReduce, FusedSoftmax
from .ops.reduce import ArgReduce, Reduce
from .ops.subtensor import IncSubtensor, Subtensor
from .walk import toposort

#: Two-operand ops printed as ``(a <symbol> b)``.
INFIX = {
    "add": "+",
    "subtract": "-",
    "multiply": "*",
    "true_divide": "/",
    "floor_divide": "//",
    "mod": "%",
    "power": "**",
    "matmul": "@",
    "less": "<",
    "greater": ">",
    "less_equal": "<=",
    "greater_equal": ">=",
    "equal": "==",
    "not_equal": "!=",
    "bitwise_and": "&",
    "bitwise_or": "|",
    "bitwise_xor": "^",
}

#: One-operand ops printed as ``(<symbol>a)``.
PREFIX = {"negative": "-", "invert": "~"}


def pp(obj) -> str:
    """``obj`` (a variable, or anything ``debugprint`` takes) as infix text.

    Inputs show their names, constants their values; several outputs give several lines.

    >>> import astsym.tensor as T
    >>> x = T.dvector("x")
    >>> pp(T.exp(-x) * 2.0)
    '(exp((-x)) * 2.0)'
    """
    roots, _ = graph_roots(obj)
    text: dict[int, str] = {}
    # Nodes in topological order, each from its inputs' text: no recursion, so a graph
    # thousands of nodes deep prints too.
    for node in toposort(roots):
        args = [text.get(id(i)) or leaf_label(i) for i in node.inputs]
        for out, shown in zip(node.outputs, _outputs_text(node, args)):
            text[id(out)] = shown
    return "\n".join(text.get(id(r)) or leaf_label(r) for r in roots)


#: Theano's name for the same printer.
pprint = pp


def graph_roots(obj) -> tuple[list[Variable], list[Apply] | None]:
    """The variables to print, and the node order when ``obj`` is a (compiled) graph.

    >>> import astsym.tensor as T
    >>> x = T.scalar("x"); y = x * 2
    >>> graph_roots([x, y.owner])[0] == [x, y], graph_roots(x)[1]
    (True, None)
    """
    if isinstance(obj, Variable):
        return [obj], None
    if isinstance(obj, Apply):
        return list(obj.outputs), None
    fgraph = _fgraph_of(obj)
    if fgraph is not None:
        return list(fgraph.outputs), fgraph.toposort()
    if isinstance(obj, (list, tuple)):
        return [v for item in obj for v in graph_roots(item)[0]], None
    raise TypeError(
        f"cannot print a {type(obj).__name__}: expected a Variable, a list of them, an Apply, "
        "a FunctionGraph or a compiled function"
    )


def _fgraph_of(obj) -> FunctionGraph | None:
    if isinstance(obj, FunctionGraph):
        return obj
    fgraph = getattr(getattr(obj, "maker", None), "fgraph", None) or getattr(obj, "fgraph", None)
    return fgraph if isinstance(fgraph, FunctionGraph) else None


def one_line(text: str) -> str:
    """``text`` with line breaks and tabs escaped, so a user's name stays on its line."""
    return text.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")


def leaf_label(var: Variable) -> str:
    """How an input, shared variable or constant is shown: its name, else its value/type."""
    return one_line(str(var))


def _outputs_text(node: Apply, args: list[str]) -> list[str]:
    shown = format_node(node.op, node, args)
    if len(node.outputs) == 1:
        return [shown]
    return [f"{shown}.{i}" for i in range(len(node.outputs))]


@singledispatch
def format_node(op: Op, node: Apply, args: list[str]) -> str:
    """The text of ``node`` given its inputs' text (a call, unless the op has a symbol).

    >>> import astsym.tensor as T
    >>> x = T.scalar("x"); node = T.exp(x).owner
    >>> format_node(node.op, node, ["x"])
    'exp(x)'
    """
    name = getattr(op, "name", "")
    if len(args) == 2 and name in INFIX:
        return f"({args[0]} {INFIX[name]} {args[1]})"
    if len(args) == 1 and name in PREFIX:
        return f"({PREFIX[name]}{args[0]})"
    return f"{op}({', '.join(args)})"


@format_node.register
def _reduce(op: Reduce, node: Apply, args: list[str]) -> str:
    return _reduction_text(op, args, node.inputs[0].ndim)


def _reduction_text(op: Reduce, args: list[str], ndim: int) -> str:
    options = []
    if tuple(op.axes) != tuple(range(ndim)):
        options.append(f"axis={op.axes}")
    if op.keepdims:
        options.append("keepdims=True")
    if op.dtype:
        options.append(f"dtype={op.dtype!r}")
    return f"{op.kind}({', '.join(args + options)})"


@format_node.register
def _fused_elemwise(op: FusedElemwise, node: Apply, args: list[str]) -> str:
    return _fused_value(op, args)


@format_node.register
def _fused_reduce(op: FusedReduce, node: Apply, args: list[str]) -> str:
    ndim = op.value_type(node.inputs).ndim
    return _reduction_text(op.reduce, [_fused_value(op, args)], ndim)


@format_node.register
def _fused_softmax(op: FusedSoftmax, node: Apply, args: list[str]) -> str:
    return f"softmax({_fused_value(op, args)})"


def _fused_value(op, args: list[str]) -> str:
    """A fused group's value written as the expression its steps compute."""
    texts: list[str] = []
    for step_op, refs, _ in op.steps:
        operands = [args[-1 - r] if r < 0 else texts[r] for r in refs]
        texts.append(format_node(step_op, None, operands))
    return texts[-1] if texts else args[0]


@format_node.register
def _arg_reduce(op: ArgReduce, node: Apply, args: list[str]) -> str:
    options = [] if op.axis is None else [f"axis={op.axis}"]
    if op.keepdims:
        options.append("keepdims=True")
    return f"{op.kind}({', '.join(args + options)})"


@format_node.register
def _dimshuffle(op: DimShuffle, node: Apply, args: list[str]) -> str:
    if op.input_ndim >= 2 and op.new_order == tuple(reversed(range(op.input_ndim))):
        return f"{args[0]}.T"
    return f"{op}({args[0]})"


@format_node.register
def _subtensor(op: Subtensor, node: Apply, args: list[str]) -> str:
    return subscript(args[0], op.spec, args[1:])


@format_node.register
def _inc_subtensor(op: IncSubtensor, node: Apply, args: list[str]) -> str:
    return f"{op.name}({subscript(args[0], op.spec, args[2:])}, {args[1]})"


def subscript(base: str, spec: tuple, index_args: list[str]) -> str:
    """``base[...]`` for a subtensor ``spec`` whose index inputs print as ``index_args``.

    >>> subscript("x", (("slice", True, False, False), "index", "newaxis"), ["1", "i"])
    'x[1:, i, None]'
    """
    args = iter(index_args)
    pieces = []
    for entry in spec:
        if entry in ("index", "array"):
            pieces.append(next(args))
        elif entry == "newaxis":
            pieces.append("None")
        elif entry == "ellipsis":
            pieces.append("...")
        else:
            start, stop, step = (next(args) if has else "" for has in entry[1:])
            pieces.append(f"{start}:{stop}" + (f":{step}" if entry[3] else ""))
    return f"{base}[{', '.join(pieces) or '()'}]"
