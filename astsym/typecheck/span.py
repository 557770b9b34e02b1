"""Where in the user's source a thing came from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceSpan:
    """A range of a source file; lines and columns are 1-based, ``end_col`` exclusive.

    >>> str(SourceSpan("model.py", 12, 9, 12, 14))
    'model.py:12:9'
    """

    file: str
    line: int
    col: int
    end_line: int | None = None
    end_col: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def source_line(self) -> str | None:
        """The text of the span's first line, or None when the file cannot be read."""
        import linecache

        text = linecache.getline(self.file, self.line)
        return text.rstrip("\n") if text else None
