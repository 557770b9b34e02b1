"""The type system: dtypes, static shapes, rules, source spans and diagnostics."""

from .codes import CODES, Code
from .diagnostics import (
    AstsymError,
    Diagnostic,
    GraphRuntimeError,
    GraphTypeError,
    InputError,
    RuleError,
)
from .shapes import Dim, Shape, broadcast_shapes, format_type
from .span import SourceSpan

__all__ = [
    "CODES",
    "AstsymError",
    "Code",
    "Diagnostic",
    "Dim",
    "GraphRuntimeError",
    "GraphTypeError",
    "InputError",
    "RuleError",
    "Shape",
    "SourceSpan",
    "broadcast_shapes",
    "format_type",
]
