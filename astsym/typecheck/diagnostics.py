"""Diagnostics and the exceptions that carry them.

A rule that finds an error raises ``RuleError(code, message)``; whoever knows the user's
source line (the graph builder, the linter) turns it into a located ``Diagnostic``::

    >>> d = Diagnostic("AS201", "error", "cannot broadcast f32[n, 3] with f32[4]: dim 3 vs 4",
    ...                SourceSpan("model.py", 12, 9, 12, 14))
    >>> d.headline()
    'model.py:12:9: error[AS201] cannot broadcast f32[n, 3] with f32[4]: dim 3 vs 4'
"""

from __future__ import annotations

from dataclasses import dataclass

from .codes import CODES
from .span import SourceSpan


@dataclass(frozen=True)
class Diagnostic:
    code: str
    severity: str  # "error" | "warning" | "note"
    message: str
    span: SourceSpan | None = None
    notes: tuple[str, ...] = ()
    related: tuple[tuple[SourceSpan, str], ...] = ()

    @property
    def name(self) -> str:
        return CODES[self.code].name

    def headline(self) -> str:
        where = f"{self.span}: " if self.span is not None else ""
        return f"{where}{self.severity}[{self.code}] {self.message}"

    def render(self) -> str:
        """The headline, the source line with carets under the span, then notes."""
        lines = [self.headline()]
        lines += _excerpt(self.span)
        for span, text in self.related:
            lines.append(f"  note: {span}: {text}")
        lines += [f"  help: {note}" for note in self.notes]
        return "\n".join(lines)


def _excerpt(span: SourceSpan | None) -> list[str]:
    if span is None:
        return []
    text = span.source_line()
    if text is None:
        return []
    width = 1
    if span.end_line == span.line and span.end_col is not None:
        width = max(1, span.end_col - span.col)
    gutter = f"{span.line:>4} | "
    return [gutter + text, " " * len(gutter) + " " * (span.col - 1) + "^" * width]


class RuleError(Exception):
    """A type or shape rule failed; not yet tied to a source line."""

    def __init__(self, code: str, message: str, notes: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.notes = tuple(notes)


class AstsymError(Exception):
    """An error for the user, wrapping the ``Diagnostic`` that describes it."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.render())
        self.diagnostic = diagnostic
        #: What the graph builder or runtime knew when it failed, for reports (the pytest
        #: plugin prints them): the op's name, its operand variables, the failing node.
        self.op: str | None = None
        self.operands: tuple = ()
        self.node = None


class GraphTypeError(AstsymError, TypeError):
    """A graph could not be built: operand types, ranks or static shapes do not fit."""


class InputError(AstsymError, TypeError):
    """A value passed to a compiled function (or ``set_value``) does not fit its type."""


class GraphRuntimeError(AstsymError, RuntimeError):
    """An op failed while a compiled function ran."""


def error(code: str, message: str, span: SourceSpan | None = None, notes=()) -> Diagnostic:
    return Diagnostic(code, "error", message, span, tuple(notes))
