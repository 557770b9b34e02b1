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


# -- checking values against annotations (tracing and the linter share these) ---------------
def check_argument(spec: TensorSpec, value, where: str, dims: dict) -> None:
    """A RuleError when ``value`` (a graph variable) cannot be passed for a parameter
    annotated ``spec``; ``dims`` collects what the signature's dim names stand for, so one
    name bound to two different sizes across arguments is an error."""
    from astsym.graph.basic import Variable
    from astsym.typecheck.dtypes import can_cast_safely
    from astsym.typecheck.shapes import dims_equal, format_type, unify_dims

    if not isinstance(value, Variable) or not hasattr(value.type, "shape"):
        return
    shown = format_type(value.dtype, value.type.shape)
    if value.dtype != spec.dtype and not can_cast_safely(value.dtype, spec.dtype):
        raise RuleError(
            codes.DTYPE_LOSS,
            f"{where} is {shown}, which does not convert safely to {spec}",
            (f"cast it: .astype('{spec.dtype}')",),
        )
    if not spec.fits_rank(value.ndim):
        raise RuleError(codes.RANK, f"{where} is {shown}, but its annotation is {spec}")
    fixed = spec.dims[1:] if spec.has_ellipsis else spec.dims
    actual = value.type.shape[len(value.type.shape) - len(fixed) :]
    for want, got in zip(fixed, actual):
        if isinstance(want, int) and dims_equal(want, got) is False:
            raise RuleError(codes.SHAPE, f"{where} is {shown}, but its annotation is {spec}")
        if isinstance(want, str):
            try:
                dims[want] = unify_dims(dims[want], got) if want in dims else got
            except ValueError:
                raise RuleError(
                    codes.SHAPE,
                    f"{where} is {shown}: dim {want} of {spec} is {dims[want]} in an earlier "
                    f"argument and {got} here",
                ) from None


def check_return(spec: TensorSpec, value) -> None:
    """A RuleError (AS210) when a returned value does not fit the return annotation."""
    from astsym.graph.basic import Variable
    from astsym.typecheck.dtypes import can_cast_safely
    from astsym.typecheck.shapes import dims_equal, format_type

    if not isinstance(value, Variable) or not hasattr(value.type, "shape"):
        return
    shown = format_type(value.dtype, value.type.shape)
    wrong = (value.dtype != spec.dtype and not can_cast_safely(value.dtype, spec.dtype)) or (
        not spec.fits_rank(value.ndim)
    )
    if not wrong:
        fixed = spec.dims[1:] if spec.has_ellipsis else spec.dims
        actual = value.type.shape[len(value.type.shape) - len(fixed) :]
        wrong = any(isinstance(w, int) and dims_equal(w, g) is False for w, g in zip(fixed, actual))
    if wrong:
        raise RuleError(
            codes.RETURN_TYPE, f"the function returns {shown}, but its annotation is {spec}"
        )
