"""Static shapes: each dim is an int (a known size), a str (a named symbolic size) or None.

A dim of static size 1 is *broadcastable*: it stretches to match the other operand. Any
other dim must equal its partner exactly, at build time when both are known and at run time
otherwise (as in PyTensor, and unlike NumPy, a dim not marked broadcastable never stretches,
so every gradient has its variable's shape).

    >>> format_type("float32", ("n", 3))
    'f32[n, 3]'
    >>> broadcast_shapes([("n", 3), (1, 3)], ["float32", "float32"])
    ('n', 3)
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Sequence

from .codes import BROADCAST
from .diagnostics import RuleError
from .dtypes import SHORT

Dim = int | str | None
Shape = tuple[Dim, ...]


def format_dim(dim: Dim) -> str:
    return "?" if dim is None else str(dim)


def format_shape(shape: Shape) -> str:
    return "[" + ", ".join(format_dim(d) for d in shape) + "]" if shape else "[()]"


def format_type(dtype: str, shape: Shape) -> str:
    """``f32[n, 3]``; a scalar prints as ``f32[()]``."""
    return SHORT.get(dtype, dtype) + format_shape(shape)


def is_static(dim: Dim) -> bool:
    return isinstance(dim, int)


def broadcastable(shape: Shape) -> tuple[bool, ...]:
    return tuple(d == 1 for d in shape)


class DimScope:
    """What one trace (or one linted function) has learned about its named dims: a name
    that met a static size is that size from then on, so ``n`` against 3 and later against
    4 is a certain error. ``strict``: two different names that meet are recorded in
    ``met`` (the linter's ``--strict-dims`` warns about them) and treated as one."""

    def __init__(self, strict: bool = False) -> None:
        self.sizes: dict[str, int] = {}
        self.aliases: dict[str, str] = {}
        self.strict = strict
        self.met: list[tuple[str, str]] = []
        self.on_meet = None  # called with (a, b) when two names meet in strict mode

    def resolve(self, dim: Dim) -> Dim:
        while isinstance(dim, str) and dim in self.aliases:
            dim = self.aliases[dim]
        if isinstance(dim, str):
            return self.sizes.get(dim, dim)
        return dim

    def learn(self, a: Dim, b: Dim) -> None:
        ra, rb = self.resolve(a), self.resolve(b)
        if isinstance(ra, str) and isinstance(rb, int):
            self.sizes[ra] = rb
        elif isinstance(rb, str) and isinstance(ra, int):
            self.sizes[rb] = ra
        elif self.strict and isinstance(ra, str) and isinstance(rb, str) and ra != rb:
            self.met.append((ra, rb))
            self.aliases[rb] = ra
            if self.on_meet is not None:
                self.on_meet(ra, rb)


_SCOPE: contextvars.ContextVar[DimScope | None] = contextvars.ContextVar(
    "astsym_dim_scope", default=None
)


@contextlib.contextmanager
def dim_scope(strict: bool = False):
    """Bind named dims to the sizes they meet inside the block (see ``DimScope``)."""
    token = _SCOPE.set(DimScope(strict))
    try:
        yield _SCOPE.get()
    finally:
        _SCOPE.reset(token)


def _resolve(dim: Dim) -> Dim:
    scope = _SCOPE.get()
    return scope.resolve(dim) if scope is not None else dim


def describe_dim(dim: Dim) -> str:
    """A dim for an error message: a name bound to a size says so (``n (= 3)``)."""
    resolved = _resolve(dim)
    if isinstance(dim, str) and resolved != dim:
        return f"{dim} (= {format_dim(resolved)})"
    return format_dim(dim)


def dims_equal(a: Dim, b: Dim) -> bool | None:
    """True or False when known, None when the dims may or may not be equal."""
    a, b = _resolve(a), _resolve(b)
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    if a is not None and a == b:
        return True
    return None


def unify_dims(a: Dim, b: Dim) -> Dim:
    """The most specific dim equal to both; raises ValueError when they surely differ.
    Inside a ``dim_scope``, a name that meets a size is bound to it."""
    if dims_equal(a, b) is False:
        raise ValueError(f"dim {describe_dim(a)} vs {describe_dim(b)}")
    scope = _SCOPE.get()
    if scope is not None:
        scope.learn(a, b)
    if isinstance(a, int):
        return a
    if isinstance(b, int):
        return b
    return a if a is not None else b


def broadcast_dims(a: Dim, b: Dim) -> Dim:
    """The dim of the result of broadcasting ``a`` against ``b``."""
    if a == 1:
        return b
    if b == 1:
        return a
    return unify_dims(a, b)


def broadcast_shapes(shapes: Sequence[Shape], dtypes: Sequence[str] | None = None) -> Shape:
    """NumPy broadcasting over static shapes; a RuleError names the two dims that disagree."""
    ndim = max((len(s) for s in shapes), default=0)
    padded = [(1,) * (ndim - len(s)) + tuple(s) for s in shapes]
    out: list[Dim] = []
    for axis in range(ndim):
        dim: Dim = 1
        first = None
        for i, shape in enumerate(padded):
            try:
                dim = broadcast_dims(dim, shape[axis])
            except ValueError:
                raise _broadcast_error(shapes, dtypes, first, i, axis, ndim) from None
            if shape[axis] != 1 and first is None:
                first = i
        out.append(dim)
    return tuple(out)


def _broadcast_error(shapes, dtypes, i, j, axis, ndim) -> RuleError:
    dtypes = dtypes or ["?"] * len(shapes)
    a, b = shapes[i], shapes[j]
    da = a[axis - (ndim - len(a))]
    db = b[axis - (ndim - len(b))]
    message = (
        f"cannot broadcast {format_type(dtypes[i], a)} with {format_type(dtypes[j], b)}: "
        f"dim {describe_dim(da)} vs {describe_dim(db)}"
    )
    return RuleError(BROADCAST, message, ("dims broadcast when they are equal or one is 1",))


def size_of(shape: Shape) -> int | None:
    """The number of elements when every dim is known."""
    total = 1
    for d in shape:
        if not isinstance(d, int):
            return None
        total *= d
    return total
