"""Changing which dims are broadcastable: Theano's ``addbroadcast``, ``unbroadcast``,
``patternbroadcast`` and the ``shape_pad*`` helpers.

    >>> import astsym.tensor as T
    >>> addbroadcast(T.matrix("x"), 0).broadcastable
    (True, False)
"""

from __future__ import annotations

from astsym.typecheck.rules import normalize_axes

from ..basic import Apply
from ..convert import as_tensor_variable
from ..op import Op
from ..type import TensorType
from .dimshuffle import expand_dims
from .shape import specify_shape


class Unbroadcast(Op):
    """Forget that the given dims have static size 1 (the values are unchanged)."""

    props = ("axes",)

    def __init__(self, axes) -> None:
        self.axes = tuple(sorted(axes))

    def make_node(self, x):
        x = as_tensor_variable(x)
        axes = normalize_axes(self.axes, x.ndim)
        shape = tuple(None if i in axes and d == 1 else d for i, d in enumerate(x.type.shape))
        return Apply(self, [x], [TensorType(x.dtype, shape=shape)])

    def perform(self, node, inputs):
        return [inputs[0]]

    def grad(self, node, output_grads):
        (x,) = node.inputs
        return [addbroadcast(output_grads[0], *[i for i in self.axes if x.broadcastable[i]])]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]


def addbroadcast(x, *axes):
    """Mark ``axes`` broadcastable; their size is checked to be 1 when the graph runs."""
    x = as_tensor_variable(x)
    axes = normalize_axes(axes, x.ndim)
    if not axes:
        return x
    return specify_shape(x, tuple(1 if i in axes else None for i in range(x.ndim)))


def unbroadcast(x, *axes):
    """Mark ``axes`` not broadcastable."""
    x = as_tensor_variable(x)
    axes = [a for a in normalize_axes(axes, x.ndim) if x.broadcastable[a]]
    return Unbroadcast(axes)(x) if axes else x


def patternbroadcast(x, broadcastable):
    """Give ``x`` exactly the broadcastable pattern ``broadcastable``."""
    x = as_tensor_variable(x)
    add = [i for i, b in enumerate(broadcastable) if b and not x.broadcastable[i]]
    drop = [i for i, b in enumerate(broadcastable) if not b and x.broadcastable[i]]
    return unbroadcast(addbroadcast(x, *add), *drop)


def shape_padleft(x, n_ones: int = 1):
    """Add ``n_ones`` broadcastable dims on the left."""
    return expand_dims(x, tuple(range(n_ones))) if n_ones else as_tensor_variable(x)


def shape_padright(x, n_ones: int = 1):
    """Add ``n_ones`` broadcastable dims on the right."""
    x = as_tensor_variable(x)
    return expand_dims(x, tuple(range(x.ndim, x.ndim + n_ones))) if n_ones else x


def shape_padaxis(x, axis: int):
    """Add one broadcastable dim at ``axis``."""
    return expand_dims(x, axis)
