"""Shape rules of the ops, in terms of static shapes, shared by the graph builder and linter.

Each rule takes static shapes (and parameters) and returns the result shape, or raises
``RuleError`` naming the dims that disagree.

    >>> matmul_shape(("n", 3), (3, "m"))
    ('n', 'm')
    >>> reduce_shape(("n", 3), axis=0, keepdims=True)
    (1, 3)
"""

from __future__ import annotations

from collections.abc import Sequence

from .codes import AXIS, MATMUL, RANK, RESHAPE, SHAPE
from .diagnostics import RuleError
from .shapes import (
    Dim,
    Shape,
    broadcast_shapes,
    describe_dim,
    format_dim,
    format_shape,
    format_type,
    unify_dims,
)


def normalize_axis(axis: int, ndim: int, what: str = "axis") -> int:
    """``axis`` as a non-negative int; AS204 when it is out of range."""
    if not -ndim <= axis < ndim:
        raise RuleError(AXIS, f"{what} {axis} is out of range for an operand of rank {ndim}")
    return axis % ndim if ndim else 0


def normalize_axes(axis, ndim: int) -> tuple[int, ...]:
    """None means every axis; an int or a tuple of ints, each checked and made positive."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    if ndim == 0 and all(a in (0, -1) for a in axes):
        return ()
    out = tuple(normalize_axis(int(a), ndim) for a in axes)
    if len(set(out)) != len(out):
        raise RuleError(AXIS, f"axis {axis} names an axis twice")
    return out


def reduce_shape(shape: Shape, axis=None, keepdims: bool = False) -> Shape:
    axes = normalize_axes(axis, len(shape))
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _contract(a: Dim, b: Dim, sa: Shape, sb: Shape, what: str, dtypes=None) -> None:
    try:
        unify_dims(a, b)
    except ValueError:
        shown_a, shown_b = _shown(sa, dtypes, 0), _shown(sb, dtypes, 1)
        raise RuleError(
            MATMUL,
            f"{what}: inner dims differ, {shown_a} and {shown_b}: "
            f"dim {describe_dim(a)} vs {describe_dim(b)}",
            ("the last dim of the left operand must equal the contracted dim of the right",),
        ) from None


def _shown(shape: Shape, dtypes, i: int) -> str:
    """An operand for a message: ``f32[n, 3]`` when its dtype is known, else ``[n, 3]``."""
    return format_type(dtypes[i], shape) if dtypes else format_shape(shape)


def matmul_shape(a: Shape, b: Shape, dtypes: tuple[str, str] | None = None) -> Shape:
    """``numpy.matmul``: 1-D operands are promoted then the added dim dropped; ``dtypes``
    only make error messages name the operands' types."""
    if not a or not b:
        raise RuleError(RANK, "matmul does not accept scalars; use * to scale")
    sa = (1,) + tuple(a) if len(a) == 1 else tuple(a)
    sb = tuple(b) + (1,) if len(b) == 1 else tuple(b)
    _contract(sa[-1], sb[-2], a, b, "matmul", dtypes)
    batch = broadcast_shapes([sa[:-2], sb[:-2]])
    out = batch + (sa[-2], sb[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    return out


def dot_shape(a: Shape, b: Shape) -> Shape:
    """``numpy.dot``: scalars scale, otherwise contract a's last dim with b's second-last."""
    if not a or not b:
        return broadcast_shapes([a, b])
    kb = b[-2] if len(b) >= 2 else b[0]
    _contract(a[-1], kb, a, b, "dot")
    return tuple(a[:-1]) + tuple(b[:-2]) + tuple(b[-1:] if len(b) >= 2 else ())


def tensordot_axes(axes, nda: int, ndb: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    if isinstance(axes, int):
        if axes < 0 or axes > min(nda, ndb):
            raise RuleError(AXIS, f"tensordot cannot contract {axes} axes of ranks {nda}, {ndb}")
        return tuple(range(nda - axes, nda)), tuple(range(axes))
    xa, xb = axes
    xa = (xa,) if isinstance(xa, int) else tuple(xa)
    xb = (xb,) if isinstance(xb, int) else tuple(xb)
    if len(xa) != len(xb):
        raise RuleError(AXIS, f"tensordot axes {xa} and {xb} differ in length")
    return normalize_axes(xa, nda), normalize_axes(xb, ndb)


def tensordot_shape(a: Shape, b: Shape, axes) -> Shape:
    xa, xb = tensordot_axes(axes, len(a), len(b))
    for i, j in zip(xa, xb):
        _contract(a[i], b[j], a, b, "tensordot")
    return tuple(d for i, d in enumerate(a) if i not in xa) + tuple(
        d for i, d in enumerate(b) if i not in xb
    )


def reshape_shape(shape: Shape, newshape: Sequence[Dim]) -> Shape:
    """``newshape`` holds ints (-1 at most once) and None for sizes known only at run time."""
    if sum(1 for d in newshape if d == -1) > 1:
        raise RuleError(RESHAPE, "reshape: only one dim may be -1")
    if any(isinstance(d, int) and d < -1 for d in newshape):
        raise RuleError(RESHAPE, f"reshape: negative size in {tuple(newshape)}")
    total = _product(shape)
    known = _product([d for d in newshape if d != -1])
    if -1 in newshape:
        if total is not None and known is not None:
            if known == 0 or total % known:
                raise _reshape_error(shape, newshape)
            return tuple(total // known if d == -1 else d for d in newshape)
        return tuple(None if d == -1 else d for d in newshape)
    if total is not None and known is not None and total != known:
        raise _reshape_error(shape, newshape)
    factor = _product([d for d in shape if isinstance(d, int)])
    if total is None and known is not None and -1 not in newshape and factor and known % factor:
        raise _reshape_error(shape, newshape)  # k * (unknown dims) can never be ``known``
    return tuple(newshape)


def _reshape_error(shape, newshape) -> RuleError:
    shown = "(" + ", ".join(format_dim(d) for d in newshape) + ")"
    return RuleError(
        RESHAPE, f"cannot reshape {format_shape(shape)} ({_product(shape)} elements) into {shown}"
    )


def _product(dims) -> int | None:
    total = 1
    for d in dims:
        if not isinstance(d, int):
            return None
        total *= d
    return total


def dimshuffle_shape(shape: Shape, new_order: Sequence) -> Shape:
    """Theano's dimshuffle: a permutation of kept axes, with 'x' inserting a size-1 dim."""
    kept = [i for i in new_order if i != "x"]
    if len(set(kept)) != len(kept) or any(not 0 <= i < len(shape) for i in kept):
        raise RuleError(AXIS, f"dimshuffle{tuple(new_order)} is not valid for rank {len(shape)}")
    for i, d in enumerate(shape):
        if i not in kept and d != 1:
            raise RuleError(
                SHAPE,
                f"dimshuffle{tuple(new_order)} drops dim {i} of {format_shape(shape)}, "
                f"which is {format_dim(d)}, not 1",
                ("only broadcastable (size 1) dims can be dropped",),
            )
    return tuple(1 if i == "x" else shape[i] for i in new_order)


def concat_shape(shapes: Sequence[Shape], axis: int, dtypes: Sequence[str] | None = None) -> Shape:
    if not shapes:
        raise RuleError(SHAPE, "concatenate needs at least one operand")
    ndim = len(shapes[0])
    if ndim == 0:
        raise RuleError(RANK, "cannot concatenate scalars; use stack")
    for s in shapes:
        if len(s) != ndim:
            raise RuleError(
                RANK,
                f"concatenate: operands of rank {ndim} and {len(s)} "
                f"({format_shape(shapes[0])} and {format_shape(s)})",
            )
    axis = normalize_axis(axis, ndim)
    out = list(shapes[0])
    for k, s in enumerate(shapes[1:], start=1):
        for i in range(ndim):
            if i == axis:
                out[i] = (
                    out[i] + s[i] if isinstance(out[i], int) and isinstance(s[i], int) else None
                )
                continue
            try:
                out[i] = unify_dims(out[i], s[i])
            except ValueError:
                raise RuleError(
                    SHAPE,
                    f"concatenate along axis {axis}: {_shown(shapes[0], dtypes, 0)} and "
                    f"{_shown(s, dtypes, k)} differ in dim {i} ({describe_dim(out[i])} vs "
                    f"{describe_dim(s[i])})",
                ) from None
    return tuple(out)
