"""Annotation helpers for ``@symbolic`` parameters: a dtype subscripted with dims.

    >>> f32["n", 3]
    f32[n, 3]
    >>> f64[()].to_type(ndim=0)
    TensorType(float64, scalar)
    >>> i64[..., 2].to_type(ndim=3).shape
    (None, None, 2)

A dim is an int (a static size; ``1`` broadcasts), a name (a symbolic size: the same name
means the same size everywhere in a signature) or ``...`` first (any number of leading dims,
fixed by the first call). ``()`` is a scalar.
"""

from __future__ import annotations

from dataclasses import dataclass

from astsym.graph.type import TensorType
from astsym.typecheck import RuleError, codes
from astsym.typecheck.dtypes import SHORT, as_dtype

Dims = tuple  # of int | str | Ellipsis


@dataclass(frozen=True)
class TensorSpec:
    """A dtype and dims, as written in an annotation (``f32["n", 3]``)."""

    dtype: str
    dims: Dims

    @property
    def has_ellipsis(self) -> bool:
        return bool(self.dims) and self.dims[0] is Ellipsis

    def fits_rank(self, ndim: int) -> bool:
        fixed = len(self.dims) - self.has_ellipsis
        return ndim >= fixed if self.has_ellipsis else ndim == fixed

    def to_type(self, ndim: int | None = None) -> TensorType:
        """The variable type; with ``...``, ``ndim`` (from the first call) sets the rank."""
        dims = self.dims
        if self.has_ellipsis:
            if ndim is None or not self.fits_rank(ndim):
                raise RuleError(codes.RANK, f"{self} does not fit rank {ndim}")
            dims = (None,) * (ndim - len(dims) + 1) + dims[1:]
        return TensorType(self.dtype, shape=tuple(dims))

    def __repr__(self) -> str:
        if not self.dims:
            return f"{SHORT[self.dtype]}[()]"
        shown = ", ".join("..." if d is Ellipsis else str(d) for d in self.dims)
        return f"{SHORT[self.dtype]}[{shown}]"


class DTypeSpec:
    """``f32``, ``i64``, ...: subscript with dims to get a ``TensorSpec``."""

    def __init__(self, dtype: str) -> None:
        self.dtype = as_dtype(dtype)

    def __getitem__(self, dims) -> TensorSpec:
        return TensorSpec(self.dtype, parse_dims(dims))

    def __repr__(self) -> str:
        return SHORT[self.dtype]


def parse_dims(dims) -> Dims:
    """``"n"``, ``3``, ``()``, ``("n", 3)``, ``(..., 3)`` -> a checked tuple of dims."""
    if dims == ():
        return ()
    if not isinstance(dims, tuple):
        dims = (dims,)
    for i, d in enumerate(dims):
        if d is Ellipsis:
            if i != 0:
                raise RuleError(
                    codes.INVALID_ANNOTATION, "... may only stand first, for leading dims"
                )
        elif isinstance(d, bool) or not isinstance(d, (int, str)):
            raise RuleError(
                codes.INVALID_ANNOTATION, f"a dim must be an int, a name or ...; got {d!r}"
            )
        elif isinstance(d, int) and d < 0:
            raise RuleError(codes.INVALID_ANNOTATION, f"a dim cannot be negative: {d}")
        elif isinstance(d, str) and not d.isidentifier():
            raise RuleError(codes.INVALID_ANNOTATION, f"a dim name must be an identifier: {d!r}")
    return tuple(dims)


f16 = DTypeSpec("float16")
f32 = DTypeSpec("float32")
f64 = DTypeSpec("float64")
i8 = DTypeSpec("int8")
i16 = DTypeSpec("int16")
i32 = DTypeSpec("int32")
i64 = DTypeSpec("int64")
u8 = DTypeSpec("uint8")
u16 = DTypeSpec("uint16")
u32 = DTypeSpec("uint32")
u64 = DTypeSpec("uint64")
bool_ = DTypeSpec("bool")
c64 = DTypeSpec("complex64")
c128 = DTypeSpec("complex128")

#: Every annotation helper by name (what the linter recognises in source).
HELPERS = {name: value for name, value in globals().items() if isinstance(value, DTypeSpec)}
