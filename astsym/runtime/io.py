"""``In`` and ``Out``: how a function's inputs and outputs are given and returned.

>>> import astsym.tensor as T
>>> x, y = T.dscalars("x", "y")
>>> spec = In(y, value=1, name="y_by_name")   # f(x) uses y=1; f(x, y_by_name=2) too
"""

from __future__ import annotations

from astsym.graph.basic import Variable


class In:
    """An input with an optional default ``value`` (None: no default) and a keyword ``name``."""

    def __init__(
        self,
        variable: Variable,
        name: str | None = None,
        value=None,
        update=None,
        mutable: bool = False,
        strict: bool = False,
        allow_downcast: bool | None = None,
        autoname: bool = True,
        implicit: bool = False,
        borrow: bool = False,
        shared: bool = False,
    ) -> None:
        if not isinstance(variable, Variable):
            raise TypeError(f"In() takes a symbolic variable, got {type(variable).__name__}")
        self.variable = variable
        self.name = name if name is not None else (variable.name if autoname else None)
        self.value = value
        self.update = update
        self.mutable, self.strict, self.borrow = mutable, strict, borrow
        self.allow_downcast = allow_downcast
        self.implicit = implicit

    @property
    def has_default(self) -> bool:
        return self.value is not None

    def __repr__(self) -> str:
        return f"In({self.variable}, name={self.name!r})"


class Out:
    """An output; ``borrow=True`` allows returning internal storage (a no-op here)."""

    def __init__(self, variable: Variable, borrow: bool = False) -> None:
        self.variable = variable
        self.borrow = borrow
