"""The ``py`` linker: the graph's own evaluator (each op's NumPy reference, in order, lazy
ops on demand). Compiled backends replace it behind the same ``Function``."""

from __future__ import annotations

from astsym.graph.evaluate import Program, raise_with_node

PyProgram = Program

__all__ = ["PyProgram", "raise_with_node"]
