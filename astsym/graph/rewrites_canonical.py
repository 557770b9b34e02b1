"""The ``canonicalize`` rules: shapes from shape rules, constant folding.

Each rule states its algebra in its docstring.
"""

from __future__ import annotations

import numpy as np

from .basic import Constant
from .convert import constant
from .ops import GradOverride, MakeVector, Shape, ShapeI
from .rewrite import rule

_FOLD_LIMIT = 1024  # fold constants up to this many elements; bigger ones stay computed


@rule(Shape, group="canonicalize")
def shape_to_dims(node):
    """shape(x) -> make_vector(shape_i(x, 0), ..., shape_i(x, n-1))."""
    (x,) = node.inputs
    if x.ndim == 0:
        return [constant(np.zeros(0, dtype="int64"))]
    dims = [
        ShapeI(i)(x) if not isinstance(d, int) else constant(d, dtype="int64")
        for i, d in enumerate(x.type.shape)
    ]
    return [MakeVector("int64")(*dims)]


@rule(ShapeI, group="canonicalize")
def shape_i_from_rule(node):
    """shape_i(f(a, b), i) -> the i-th dim of f's output by f's shape rule (Theano's
    ShapeFeature): shapes are computed without computing the values."""
    (x,) = node.inputs
    owner = x.owner
    if owner is None:
        return None
    try:
        shapes = owner.op.infer_shape(owner, [_dims(v) for v in owner.inputs])
    except NotImplementedError:
        return None
    dim = shapes[x.index][node.op.i]
    if isinstance(dim, (int, np.integer)):
        return [constant(int(dim), dtype="int64")]
    from .ops import cast

    dim = cast(dim, "int64")
    return None if dim is node.outputs[0] else [dim]


def _dims(var):
    return tuple(d if isinstance(d, int) else ShapeI(i)(var) for i, d in enumerate(var.type.shape))


@rule(object, group="fold")
def fold_constants(node):
    """op(constants...) -> constant, for small results of ops that are not random."""
    if not node.inputs or not all(isinstance(i, Constant) for i in node.inputs):
        return None
    if getattr(node.op, "stateful", False):
        return None
    try:
        with np.errstate(all="ignore"):
            values = node.op.perform(node, [i.data for i in node.inputs])
    except Exception:  # noqa: BLE001 - left to fail when it runs (never, in an untaken branch)
        return None
    if any(np.size(v) > _FOLD_LIMIT for v in values):
        return None
    return [Constant(o.type, v) for o, v in zip(node.outputs, values)]


@rule(GradOverride, group="canonicalize")
def drop_gradient_override(node):
    """disconnected_grad(x), zero_grad(x), grad_clip(x), grad_scale(x) -> x (identities once
    the gradient graph is built)."""
    return [node.inputs[0]]
