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


def current_span() -> SourceSpan | None:
    """The span of the innermost caller outside astsym, or None when there is none."""
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
    return frame_span(frame)


def user_stacklevel() -> int:
    """The ``stacklevel`` for ``warnings.warn`` that points at the innermost user frame."""
    level, frame = 1, sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    return level


def frame_span(frame: FrameType) -> SourceSpan:
    """The span of the instruction a frame is executing (columns from co_positions)."""
    code = frame.f_code
    line, end_line, col, end_col = frame.f_lineno, None, None, None
    positions = getattr(code, "co_positions", None)
    if positions is not None and frame.f_lasti >= 0:
        found = next(itertools.islice(positions(), frame.f_lasti // 2, None), None)
        if found is not None and found[0] is not None:
            line, end_line, col, end_col = found
    return SourceSpan(
        code.co_filename,
        line,
        (col or 0) + 1,
        end_line,
        None if end_col is None else end_col + 1,
    )


@contextlib.contextmanager
def span_mapper(mapper: Callable[[FrameType], SourceSpan | None]):
    """Map frames to user spans while building graphs (the frontend's converted code)."""
    token = _mapper.set(mapper)
    try:
        yield
    finally:
        _mapper.reset(token)


@contextlib.contextmanager
def fixed_span(span: SourceSpan | None):
    """Give every node built inside the block this span (rewrites copy the matched span)."""
    token = _fixed.set(span)
    try:
        yield
    finally:
        _fixed.reset(token)
