"""The op library. Importing it defines (and so registers) every op."""

import inspect

from ..op import user_function
from .blas import MatMul, TensorDot, batched_dot, dot, matmul, outer, tensordot
from .broadcast import (
    Unbroadcast,
    addbroadcast,
    patternbroadcast,
    shape_padaxis,
    shape_padleft,
    shape_padright,
    unbroadcast,
)
from .check import CheckAndRaise, check
from .create import (
    Alloc,
    ARange,
    Eye,
    TensorCopy,
    alloc,
    arange,
    broadcast_like,
    eye,
    fill,
    full,
    identity_like,
    ones,
    ones_like,
    tensor_copy,
    zeros,
    zeros_like,
)
from .dimshuffle import (
    DimShuffle,
    dimshuffle,
    expand_dims,
    squeeze,
    swapaxes,
    transpose,
)
from .elemwise import ELEMWISE, PIECEWISE_CONSTANT, Cast, Elemwise, cast, elementwise
from .grad_override import (
    GradOverride,
    disconnected_grad,
    grad_clip,
    grad_scale,
    zero_grad,
)
from .join import Join, Repeat, Tile, concatenate, join, repeat, stack, tile
from .math import *  # noqa: F403  (every elementwise op, by its NumPy name)
from .math import abs, round
from .nnet import (
    binary_crossentropy,
    categorical_crossentropy,
    log_softmax,
    relu,
    sigmoid_binary_crossentropy,
    softmax,
)
from .numpy_bridge import apply_numpy_function, apply_numpy_ufunc
from .reduce import (
    REDUCTIONS,
    ArgReduce,
    Reduce,
    argmax,
    argmin,
    logsumexp,
    mean,
    norm,
    prod,
    std,
    sum_to,
    var,
)
from .reduce import all_ as all
from .reduce import any_ as any
from .reduce import max_ as max
from .reduce import min_ as min
from .reduce import sum_ as sum
from .shape import (
    MakeVector,
    Reshape,
    Shape,
    ShapeI,
    SpecifyShape,
    flatten,
    reshape,
    shape,
    shape_i,
    size,
    specify_shape,
)
from .sort import CumOp, Sort, argsort, cumprod, cumsum, sort
from .subtensor import IncSubtensor, Subtensor, getitem, inc_subtensor, set_subtensor


def _locate_public_functions() -> None:
    """Every public graph-building function reports a failing rule at the user's line (ops
    themselves do so in ``Op.apply``; these wrap the checks made outside any op)."""
    for name, value in list(globals().items()):
        if inspect.isfunction(value) and not name.startswith("_"):
            globals()[name] = user_function(value)


_locate_public_functions()
