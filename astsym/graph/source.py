"""Which line of the user's code is building a graph node right now.

The frame walk skips astsym's own frames; the frontend (``parse``) installs a mapper while it
traces converted code, so spans point at the user's original source, not the generated code.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from astsym.typecheck import SourceSpan

_PACKAGE = str(Path(__file__).resolve().parents[1])
_mapper: contextvars.ContextVar[Callable[[FrameType], SourceSpan | None] | None]
_mapper = contextvars.ContextVar("astsym_span_mapper", default=None)
_fixed: contextvars.ContextVar[SourceSpan | None] = contextvars.ContextVar(
    "astsym_fixed_span", default=None
)


class FrameRef:
    """Where a frame was, kept cheaply; turned into a ``SourceSpan`` only when asked for
    (building a node must not pay for column lookups that only errors and printing use)."""

    __slots__ = ("code", "lasti", "line")

    def __init__(self, code, lasti: int, line: int) -> None:
        self.code, self.lasti, self.line = code, lasti, line

    def resolve(self) -> SourceSpan:
        return code_span(self.code, self.lasti, self.line)

    def __reduce__(self):  # code objects do not pickle: a pickled graph keeps the span
        span = self.resolve()
        return (SourceSpan, (span.file, span.line, span.col, span.end_line, span.end_col))


#: Generated code registered by the frontend: its file name -> a function mapping a span in
#: the generated code to the span of the user's original source.
SOURCE_MAPS: dict[str, Callable[[SourceSpan], SourceSpan]] = {}


def resolve_span(span) -> SourceSpan | None:
    """A ``SourceSpan`` from what ``capture_span`` returned."""
    return span.resolve() if isinstance(span, FrameRef) else span


def capture_span() -> SourceSpan | FrameRef | None:
    """Where the innermost caller outside astsym is: cheap to take, see ``resolve_span``."""
    fixed = _fixed.get()
    if fixed is not None:
        return fixed
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
    if frame is None:
        return None
    mapper = _mapper.get()
    if mapper is not None:
        mapped = mapper(frame)
        if mapped is not None:
            return mapped
    return FrameRef(frame.f_code, frame.f_lasti, frame.f_lineno)


def current_span() -> SourceSpan | None:
    """The span of the innermost caller outside astsym, or None when there is none."""
    return resolve_span(capture_span())


def user_stacklevel() -> int:
    """The ``stacklevel`` for ``warnings.warn`` that points at the innermost user frame."""
    level, frame = 1, sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    return level


def frame_span(frame: FrameType) -> SourceSpan:
    """The span of the instruction a frame is executing."""
    return code_span(frame.f_code, frame.f_lasti, frame.f_lineno)


def code_span(code, lasti: int, line: int) -> SourceSpan:
    """The span of instruction ``lasti`` of ``code`` (columns from co_positions)."""
    end_line, col, end_col = None, None, None
    positions = getattr(code, "co_positions", None)
    if positions is not None and lasti >= 0:
        found = next(itertools.islice(positions(), lasti // 2, None), None)
        if found is not None and found[0] is not None:
            line, end_line, col, end_col = found
    span = SourceSpan(
        code.co_filename,
        line,
        (col or 0) + 1,
        end_line,
        None if end_col is None else end_col + 1,
    )
    mapper = SOURCE_MAPS.get(code.co_filename)
    return mapper(span) if mapper is not None else span


@contextlib.contextmanager
def span_mapper(mapper: Callable[[FrameType], SourceSpan | None]):
    """Map frames to user spans while building graphs (the frontend's converted code)."""
    token = _mapper.set(mapper)
    try:
        yield
    finally:
        _mapper.reset(token)


@contextlib.contextmanager
def fixed_span(span):
    """Give every node built inside the block this span (rewrites copy the matched span)."""
    token = _fixed.set(span)
    try:
        yield
    finally:
        _fixed.reset(token)
