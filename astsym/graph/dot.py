"""``pydotprint``: a graph as Graphviz DOT text, rendered to an image by Graphviz's ``dot``.

    >>> import astsym.tensor as T
    >>> x = T.dmatrix("x")
    >>> text = pydotprint(T.exp(x), format="dot")
    >>> text.startswith("digraph astsym {"), '"x f64[?, ?]"' in text
    (True, True)

Apply nodes are boxes labelled by their op; variables are ellipses labelled by name and
type. Inputs, outputs, constants and shared variables are coloured. Every label is quoted
and escaped, so no name can break the DOT text.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from .basic import Apply, Constant, Variable
from .pretty import graph_roots, leaf_label
from .shared import SharedVariable
from .walk import toposort

#: Colours by role (and, for apply nodes, by op class name); ``colorCodes`` overrides them.
COLORS = {
    "Input": "limegreen",
    "Output": "dodgerblue",
    "Constant": "palegreen",
    "Shared": "orange",
    "Elemwise": "#FFAABB",
    "Subtensor": "#FFAAFF",
    "Reduce": "#AADDFF",
}

#: Output formats handed to ``dot -T``; "dot" is written without Graphviz.
FORMATS = ("png", "svg", "pdf", "jpg", "jpeg", "gif", "ps", "eps", "bmp", "tiff", "webp")


def pydotprint(
    fct,
    outfile=None,
    compact: bool = True,
    format: str = "png",
    with_ids: bool = False,
    high_contrast: bool = True,
    cond_highlight=None,
    colorCodes: dict | None = None,
    max_label_size: int = 70,
    scan_graphs: bool = False,
    var_with_name_simple: bool = False,
    print_output_file: bool = True,
    return_image: bool = False,
):
    """Draw ``fct`` (a variable, list, Apply, FunctionGraph or compiled function).

    ``format="dot"`` writes the DOT text to ``outfile``, or returns it when ``outfile`` is
    None. Other formats run Graphviz's ``dot`` and write ``outfile`` (default
    ``astsym_graph.<format>`` in the current directory), or return the image's bytes with
    ``return_image=True``. ``compact`` leaves unnamed intermediate variables out (their type
    labels the edge); ``var_with_name_simple`` labels named variables by name only.
    ``cond_highlight`` and ``scan_graphs`` are accepted for Theano's sake and do nothing.

    >>> import astsym.tensor as T
    >>> x = T.scalar("x")
    >>> print(pydotprint(x * 2, format="dot", high_contrast=False).splitlines()[3])
      n0 [label="multiply", shape=box, color="#FFAABB"];
    """
    fmt = format.lower()
    if fmt != "dot" and fmt not in FORMATS:
        raise ValueError(f"format must be 'dot' or one of {', '.join(FORMATS)}; got {format!r}")
    colors = {**COLORS, **(colorCodes or {})}
    options = (compact, with_ids, high_contrast, max_label_size, var_with_name_simple)
    text = _Dot(colors, *options).render(fct)
    if fmt == "dot" and outfile is None:
        return text
    if fmt == "dot":
        image = text.encode("utf-8")
    else:
        image = _run_dot(text, fmt)
        if return_image and outfile is None:
            return image
    path = os.fspath(outfile) if outfile is not None else os.path.abspath(f"astsym_graph.{fmt}")
    with open(path, "wb") as out:
        out.write(image)
    if print_output_file:
        print(f"The output file is available at {path}")
    return image if return_image else None


def _run_dot(text: str, fmt: str) -> bytes:
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError(
            f"pydotprint(format={fmt!r}) needs Graphviz's `dot` executable, which is not "
            "installed (not found on PATH). Install Graphviz, or use format='dot' to get "
            "the DOT text without it."
        )
    done = subprocess.run([exe, f"-T{fmt}"], input=text.encode("utf-8"), capture_output=True)
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(f"Graphviz's dot failed (exit {done.returncode}): {message}")
    return done.stdout


def quote(text: str) -> str:
    """``text`` as a quoted DOT string: quotes and backslashes escaped, line breaks as
    ``\\n``, other control characters shown, never interpreted.

    >>> print(quote('say "hi"\\\\n'))
    "say \\"hi\\"\\\\n"
    """
    out = []
    for ch in str(text):
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in "\n\r":
            out.append("\\n")
        elif ord(ch) < 32 or ord(ch) == 127:
            out.append(f"\\\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


class _Dot:
    """Builds the DOT text; DOT ids are generated (``n3``, ``v7``), never user text."""

    def __init__(self, colors, compact, with_ids, high_contrast, max_size, name_only) -> None:
        self.colors, self.compact, self.with_ids = colors, compact, with_ids
        self.high_contrast, self.max_size, self.name_only = high_contrast, max_size, name_only
        self.ids: dict[int, str] = {}
        self.lines: list[str] = []

    def render(self, obj) -> str:
        roots, order = graph_roots(obj)
        self.outputs = {id(r) for r in roots}
        for node in order if order is not None else toposort(roots):
            self.add_node(node)
        for root in roots:
            if root.owner is None:
                self.variable(root)
        body = "".join(f"  {line}\n" for line in self.lines)
        head = '  graph [ordering=in];\n  node [fontname="Helvetica"];\n'
        return "digraph astsym {\n" + head + body + "}\n"

    def add_node(self, node: Apply) -> None:
        name = self.new_id(node, "n")
        style = self.style(self.colors.get(type(node.op).__name__))
        self.lines.append(f"{name} [label={self.label(str(node.op), name)}, shape=box{style}];")
        for i, inp in enumerate(node.inputs):
            position = str(i) if len(node.inputs) > 1 else ""
            if self.drawn(inp):
                self.edge(self.variable(inp), name, position)
            else:
                label = f"{position} {inp.type.short()}".strip()
                self.edge(self.ids[id(inp.owner)], name, label)
        for out in node.outputs:
            if self.drawn(out):
                self.edge(name, self.variable(out), str(out.index) if len(node.outputs) > 1 else "")

    def drawn(self, var: Variable) -> bool:
        """Whether ``var`` is an ellipse of its own (compact mode skips unnamed temporaries)."""
        keep = var.owner is None or var.name is not None or id(var) in self.outputs
        return keep or not self.compact or id(var.owner) not in self.ids

    def variable(self, var: Variable) -> str:
        if id(var) in self.ids:
            return self.ids[id(var)]
        name = self.new_id(var, "v")
        style = self.style(self.colors.get(self.role(var)))
        label = self.label(self.var_text(var), name)
        self.lines.append(f"{name} [label={label}, shape=ellipse{style}];")
        return name

    def var_text(self, var: Variable) -> str:
        short = var.type.short() if hasattr(var.type, "short") else str(var.type)
        if var.name is not None and self.name_only:
            return var.name
        if var.name is None and isinstance(var, SharedVariable):
            return f"shared {short}"
        if var.owner is None and (var.name is not None or isinstance(var, Constant)):
            return f"{leaf_label(var)} {short}"
        return f"{var.name} {short}" if var.name is not None else short

    def role(self, var: Variable) -> str | None:
        if id(var) in self.outputs:
            return "Output"
        if isinstance(var, Constant):
            return "Constant"
        if isinstance(var, SharedVariable):
            return "Shared"
        return "Input" if var.owner is None else None

    def new_id(self, obj, prefix: str) -> str:
        self.ids[id(obj)] = f"{prefix}{len(self.ids)}"
        return self.ids[id(obj)]

    def label(self, text: str, name: str) -> str:
        if self.with_ids:
            text = f"{text} id={name}"
        if 0 < self.max_size < len(text):
            text = text[: max(self.max_size - 3, 1)] + "..."
        return quote(text)

    def style(self, color: str | None) -> str:
        if color is None:
            return ""
        if self.high_contrast:
            return f", style=filled, fillcolor={quote(color)}"
        return f", color={quote(color)}"

    def edge(self, src: str, dst: str, label: str) -> None:
        self.lines.append(f"{src} -> {dst}" + (f" [label={quote(label)}];" if label else ";"))
