"""Indexing: basic (ints, slices, newaxis, Ellipsis) and advanced (int and bool arrays),
and ``set_subtensor`` / ``inc_subtensor`` which return a new array with a part replaced.

Index pieces that are not constants (``x[i:i + n]``) are inputs of the node, so one graph
serves every value of them. ``spec`` records the shape of the index: one entry per index
piece, ``"index"``, ``"newaxis"``, ``"array"`` or ``("slice", has_start, has_stop, has_step)``.

    >>> import astsym.tensor as T
    >>> x = T.matrix("x")
    >>> x[1:, 0].type
    TensorType(float64, vector)
"""

from __future__ import annotations

import numpy as np

from astsym.typecheck import RuleError, codes
from astsym.typecheck.dtypes import INTEGERS, can_cast_safely
from astsym.typecheck.shapes import broadcast_shapes

from ..basic import Apply, Constant, Variable
from ..convert import as_operands, as_tensor_variable, constant, is_python_scalar
from ..op import Op
from ..type import TensorType
from .elemwise import cast
from .shape import static_value


def _parse_index(index) -> tuple[tuple, list[Variable]]:
    """A Python index as (spec, inputs)."""
    if not isinstance(index, tuple):
        index = (index,)
    spec, inputs = [], []
    for piece in index:
        if piece is None:
            spec.append("newaxis")
        elif piece is Ellipsis:
            spec.append("ellipsis")
        elif isinstance(piece, slice):
            parts = [piece.start, piece.stop, piece.step]
            spec.append(("slice",) + tuple(p is not None for p in parts))
            inputs += [_index_scalar(p) for p in parts if p is not None]
        elif isinstance(piece, (bool, np.bool_)):
            raise RuleError(codes.BAD_ARGUMENT, "a bool index is not supported; use a mask array")
        elif is_python_scalar(piece) or isinstance(piece, np.integer):
            spec.append("index")
            inputs.append(_index_scalar(piece))
        else:
            var = as_tensor_variable(piece)
            if var.dtype not in INTEGERS + ("bool",):
                raise RuleError(
                    codes.BAD_ARGUMENT, f"an index must be integer or bool, got {var.type.short()}"
                )
            if var.ndim == 0 and var.dtype != "bool":
                spec.append("index")
                inputs.append(cast(var, "int64"))
            else:
                spec.append("array")
                inputs.append(var)
    return tuple(spec), inputs


def _index_scalar(value) -> Variable:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return constant(int(value), dtype="int64")
    var = as_tensor_variable(value)
    if var.ndim != 0 or var.dtype not in INTEGERS:
        raise RuleError(
            codes.BAD_ARGUMENT,
            f"indices and slice bounds must be integer scalars, got {var.type.short()}",
        )
    return cast(var, "int64")


def _expand_ellipsis(spec: tuple, inputs, ndim: int) -> tuple:
    consumed = sum(_consumes(s, inp) for s, inp in _pair(spec, inputs))
    if spec.count("ellipsis") > 1:
        raise RuleError(codes.BAD_ARGUMENT, "an index can only have a single ellipsis")
    if "ellipsis" not in spec:
        return spec
    at = spec.index("ellipsis")
    fill = (("slice", False, False, False),) * max(ndim - consumed, 0)
    return spec[:at] + fill + spec[at + 1 :]


def _pair(spec, inputs):
    """Each spec entry with its inputs (one for index/array, 0-3 for a slice)."""
    it = iter(inputs)
    for s in spec:
        if isinstance(s, tuple):
            yield s, [next(it) for _ in range(sum(s[1:]))]
        elif s in ("index", "array"):
            yield s, [next(it)]
        else:
            yield s, []


def _consumes(s, inp) -> int:
    if s == "array":
        return inp[0].ndim if inp[0].dtype == "bool" else 1
    return 1 if s == "index" or isinstance(s, tuple) else 0


def _static_slice_len(dim, parts, entry) -> int | None:
    values = iter(static_value(p) for p in parts)
    start, stop, step = (next(values) if has else None for has in entry[1:])
    if any(has and v is None for has, v in zip(entry[1:], (start, stop, step))):
        return dim if not any(entry[1:]) else None
    if step == 0:
        raise RuleError(codes.BAD_ARGUMENT, "slice step cannot be zero")
    if not isinstance(dim, int):
        return dim if (start, stop, step) == (None, None, None) else None
    return len(range(*slice(start, stop, step).indices(dim)))


def _basic_shape(x: Variable, spec: tuple, inputs) -> tuple:
    dims, axis = [], 0
    for entry, parts in _pair(spec, inputs):
        if entry == "newaxis":
            dims.append(1)
            continue
        if axis >= x.ndim:
            raise RuleError(codes.INDEX, f"too many indices for {x.type.short()}")
        dim = x.type.shape[axis]
        if entry == "index":
            i = static_value(parts[0])
            if isinstance(i, int) and isinstance(dim, int) and not -dim <= i < dim:
                raise RuleError(
                    codes.INDEX, f"index {i} is out of range for dim {axis} of {x.type.short()}"
                )
        else:
            dims.append(_static_slice_len(dim, parts, entry))
        axis += 1
    return tuple(dims) + tuple(x.type.shape[axis:])


def _advanced_shape(x: Variable, spec: tuple, inputs) -> tuple:
    """NumPy's result rank for advanced indexing, by indexing a small stand-in array."""
    consumed = sum(_consumes(s, p) for s, p in _pair(spec, inputs))
    if consumed > x.ndim:
        raise RuleError(codes.INDEX, f"too many indices for {x.type.short()}")
    dummy = np.zeros(tuple(d if isinstance(d, int) and d > 0 else 3 for d in x.type.shape))
    index = []
    for entry, parts in _pair(spec, inputs):
        if entry == "array":
            var = parts[0]
            shape = tuple(d if isinstance(d, int) else 2 for d in var.type.shape)
            if var.dtype == "bool":
                index += [np.zeros(2, dtype=np.int64)] * var.ndim
            else:
                index.append(np.zeros(shape, dtype=np.int64))
        elif entry == "index":
            index.append(0)
        elif entry == "newaxis":
            index.append(None)
        else:
            index.append(slice(None))
    try:
        ndim = dummy[tuple(index)].ndim
    except IndexError as err:
        raise RuleError(codes.INDEX, f"cannot index {x.type.short()}: {err}") from None
    return (None,) * ndim


def build_index(spec, values, as_array=np.asarray) -> tuple:
    """The NumPy index for ``spec`` given the values of the index inputs (``as_array``
    makes the index arrays: the gpu backend's keep them on the device)."""
    out, it = [], iter(values)
    for entry in spec:
        if entry == "newaxis":
            out.append(None)
        elif entry == "index":
            out.append(int(next(it)))
        elif entry == "array":
            out.append(as_array(next(it)))
        else:
            parts = [int(next(it)) if has else None for has in entry[1:]]
            out.append(slice(*parts))
    return tuple(out)


class Subtensor(Op):
    """``x[index]``; advanced when any piece of the index is an array."""

    props = ("spec",)

    def __init__(self, spec: tuple) -> None:
        self.spec = spec
        self.advanced = "array" in spec

    @property
    def name(self) -> str:
        return "advanced_subtensor" if self.advanced else "subtensor"

    def make_node(self, x, *index_inputs):
        x = as_tensor_variable(x)
        if self.advanced:
            out = _advanced_shape(x, self.spec, index_inputs)
        else:
            out = _basic_shape(x, self.spec, index_inputs)
        return Apply(self, [x, *index_inputs], [TensorType(x.dtype, shape=out)])

    def perform(self, node, inputs):
        x, *values = inputs
        try:
            return [np.array(x[build_index(self.spec, values)])]
        except IndexError as err:
            raise RuleError(
                codes.INDEX, f"cannot index an array of shape {x.shape}: {err}"
            ) from None

    def grad(self, node, output_grads):
        from .create import zeros_like

        x, *idx = node.inputs
        gx = IncSubtensor(self.spec, False)(zeros_like(x), output_grads[0], *idx)
        return [gx] + [None] * len(idx)

    def infer_shape(self, node, input_shapes):
        out = node.outputs[0].type.shape
        if all(isinstance(d, int) for d in out):
            return [out]
        raise NotImplementedError("symbolic shape of a subtensor")


def getitem(x, index):
    """``x[index]`` with NumPy's semantics."""
    x = as_tensor_variable(x)
    spec, inputs = _parse_index(index)
    spec = _expand_ellipsis(spec, inputs, x.ndim)
    # x[:] and x[...] stay a node, so set_subtensor(x[:], y) knows it was indexed
    return Subtensor(spec)(x, *inputs)


class IncSubtensor(Op):
    """A copy of ``x`` with ``x[index]`` set to (or incremented by) ``y``."""

    props = ("spec", "set_instead_of_inc")

    def __init__(self, spec: tuple, set_instead_of_inc: bool) -> None:
        self.spec, self.set_instead_of_inc = spec, set_instead_of_inc
        self.advanced = "array" in spec

    @property
    def name(self) -> str:
        return ("advanced_" if self.advanced else "") + (
            "set_subtensor" if self.set_instead_of_inc else "inc_subtensor"
        )

    def make_node(self, x, y, *index_inputs):
        x = as_tensor_variable(x)
        (y,) = as_operands([y]) if not is_python_scalar(y) else [_weak(y, x.dtype)]
        if y.dtype != x.dtype:
            if not can_cast_safely(y.dtype, x.dtype):
                raise RuleError(
                    codes.DTYPE_LOSS,
                    f"cannot store {y.type.short()} into {x.type.short()} without losing precision",
                )
            y = cast(y, x.dtype)
        part = Subtensor(self.spec).make_node(x, *index_inputs).outputs[0]
        if y.ndim > part.ndim:
            raise RuleError(
                codes.RANK, f"cannot store {y.type.short()} into a part {part.type.short()}"
            )
        target = broadcast_shapes([part.type.shape, y.type.shape], [x.dtype, y.dtype])
        if len(target) != part.ndim or any(
            isinstance(p, int) and t != p for p, t in zip(part.type.shape, target)
        ):
            raise RuleError(
                codes.SHAPE, f"cannot store {y.type.short()} into a part {part.type.short()}"
            )
        return Apply(self, [x, y, *index_inputs], [x.type])

    def perform(self, node, inputs):
        x, y, *values = inputs
        return [self.store(np.array(x), build_index(self.spec, values), y, np.add.at)]

    def store(self, out, index, y, add_at):
        """Write or add ``y`` into ``out`` (a copy of x) at ``index``, repeated indices
        adding up with ``add_at`` (NumPy's or CuPy's ``add.at``); returns ``out``."""
        try:
            if self.set_instead_of_inc:
                out[index] = y
            elif self.advanced:
                add_at(out, index, y)
            else:
                out[index] += y
        except (IndexError, ValueError) as err:
            message = f"cannot store {y.shape} into an array of shape {out.shape}: {err}"
            raise RuleError(codes.INDEX, message) from None
        return out

    def grad(self, node, output_grads):
        from .reduce import sum_to

        x, y, *idx = node.inputs
        (gz,) = output_grads
        gx = IncSubtensor(self.spec, True)(gz, 0, *idx) if self.set_instead_of_inc else gz
        gy = sum_to(Subtensor(self.spec)(gz, *idx), y)
        return [gx, gy] + [None] * len(idx)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]


def _weak(value, dtype):
    with np.errstate(all="ignore"):
        array = np.asarray(value).astype(dtype)
    if array.item() != value:
        raise RuleError(codes.DTYPE_LOSS, f"{value!r} does not convert exactly to {dtype}")
    return Constant(TensorType(dtype, shape=()), array)


def _split_subtensor(part):
    owner = getattr(part, "owner", None)
    if owner is None or not isinstance(owner.op, Subtensor):
        raise RuleError(
            codes.BAD_ARGUMENT,
            "set_subtensor/inc_subtensor take an indexed variable, as in set_subtensor(x[1:], y)",
        )
    return owner.op.spec, owner.inputs[0], owner.inputs[1:]


def set_subtensor(part, y):
    """``x`` with ``x[index] = y``, given ``part = x[index]``: ``T.set_subtensor(x[0], 5)``."""
    spec, x, idx = _split_subtensor(part)
    return IncSubtensor(spec, True)(x, y, *idx)


def inc_subtensor(part, y):
    """``x`` with ``y`` added to ``x[index]``; repeated array indices accumulate."""
    spec, x, idx = _split_subtensor(part)
    return IncSubtensor(spec, False)(x, y, *idx)
