"""Which names a block of statements assigns, and which forms it contains, for control-flow
conversion. Nested functions, classes, lambdas and comprehensions are their own scopes and
are not looked into.

    >>> import libcst as cst
    >>> block = cst.parse_module("a = 1\\nfor i in x:\\n    b += i\\n").body
    >>> sorted(assigned_names(block))
    ['a', 'b', 'i']
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

_SCOPES = (
    cst.FunctionDef,
    cst.ClassDef,
    cst.Lambda,
    cst.ListComp,
    cst.SetComp,
    cst.DictComp,
    cst.GeneratorExp,
)


class _Assigned(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: list[str] = []

    def _add(self, target) -> None:
        for node in _target_names(target):
            if node not in self.names:
                self.names.append(node)

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            self._add(t.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._add(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._add(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._add(node.target)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._add(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._add(node.asname.name)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self._add(node.name)
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self._add(node.name)
        return False

    def visit_Lambda(self, node) -> bool:
        return False

    def visit_ListComp(self, node) -> bool:
        return False

    def visit_SetComp(self, node) -> bool:
        return False

    def visit_DictComp(self, node) -> bool:
        return False

    def visit_GeneratorExp(self, node) -> bool:
        return False


def _target_names(target) -> list[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        out = []
        for element in target.elements:
            out += _target_names(element.value)
        return out
    if isinstance(target, cst.StarredElement):
        return _target_names(target.value)
    return []  # attributes and subscripts assign into objects, not names


def assigned_names(block: Sequence[cst.CSTNode]) -> list[str]:
    """Names assigned in ``block``, in order of first assignment."""
    visitor = _Assigned()
    for stmt in block:
        stmt.visit(visitor)
    return visitor.names


class _Finder(cst.CSTVisitor):
    """Finds statements of the given kinds outside nested scopes (and, for break and
    continue, outside nested loops)."""

    def __init__(self, kinds: tuple[type, ...], loops_are_scopes: bool) -> None:
        self.kinds, self.loops_are_scopes = kinds, loops_are_scopes
        self.found: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, self.kinds):
            self.found.append(node)
        if isinstance(node, _SCOPES):
            return False
        if self.loops_are_scopes and isinstance(node, (cst.For, cst.While)):
            return False
        return True


def find(block: Sequence[cst.CSTNode], kinds: tuple[type, ...], loops_are_scopes=False) -> list:
    """Statements or expressions of ``kinds`` in ``block`` (not in nested functions)."""
    finder = _Finder(kinds, loops_are_scopes)
    for stmt in block:
        stmt.visit(finder)
    return finder.found


def ends_with_return(block: Sequence[cst.CSTNode]) -> bool:
    """Whether the last statement of ``block`` is a ``return``."""
    if not block:
        return False
    last = block[-1]
    if isinstance(last, cst.SimpleStatementLine):
        return isinstance(last.body[-1], cst.Return)
    return False
