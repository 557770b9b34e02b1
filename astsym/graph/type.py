"""Types of graph variables: ``TensorType`` (dtype + static shape) and ``RandomType``.

>>> t = TensorType("float64", (True, False))
>>> t
TensorType(float64, row)
>>> t.broadcastable, t.shape
((True, False), (1, None))
>>> x = t("x")                      # calling a type makes a variable of that type
"""

from __future__ import annotations

import numbers

import numpy as np

from astsym.typecheck import RuleError, codes
from astsym.typecheck.dtypes import as_dtype, can_cast_safely
from astsym.typecheck.shapes import Shape, format_type


def is_device_array(value) -> bool:
    """Whether ``value`` is a GPU array (CuPy's, or a stand-in with its interface): any
    object that is not a NumPy array and has ``__cuda_array_interface__``."""
    return not isinstance(value, np.ndarray) and hasattr(type(value), "__cuda_array_interface__")


_THEANO_KINDS = {
    (): "scalar",
    (False,): "vector",
    (True, False): "row",
    (False, True): "col",
    (False, False): "matrix",
    (False,) * 3: "3D",
    (False,) * 4: "4D",
}


class Type:
    """Base of all variable types."""

    def make_variable(self, name=None, owner=None, index=None):
        from .basic import Variable

        return Variable(self, owner, index, name)

    def __call__(self, name: str | None = None):
        return self.make_variable(name)


class TensorType(Type):
    """An n-dimensional array type: a dtype and, per dim, a static size, a name or None.

    ``broadcastable`` (Theano) and ``shape`` (static sizes) both describe the dims; a dim
    is broadcastable exactly when its static size is 1.
    """

    def __init__(self, dtype, broadcastable=None, name=None, sparse_grad=False, shape=None) -> None:
        if broadcastable is not None and shape is not None:
            if tuple(bool(b) for b in broadcastable) != tuple(d == 1 for d in shape):
                raise ValueError(f"broadcastable {broadcastable} disagrees with shape {shape}")
        if shape is None:
            shape = tuple(1 if b else None for b in (broadcastable or ()))
        self.dtype = as_dtype(dtype)
        self.numpy_dtype = np.dtype(self.dtype)
        self.shape: Shape = tuple(_check_dim(d) for d in shape)
        self.name = name
        self.sparse_grad = sparse_grad

    @property
    def broadcastable(self) -> tuple[bool, ...]:
        return tuple(d == 1 for d in self.shape)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def clone(self, dtype=None, shape=None) -> TensorType:
        return TensorType(
            self.dtype if dtype is None else dtype, shape=self.shape if shape is None else shape
        )

    def __eq__(self, other) -> bool:
        return type(other) is TensorType and (other.dtype, other.shape) == (self.dtype, self.shape)

    def __hash__(self) -> int:
        return hash((TensorType, self.dtype, self.shape))

    def __repr__(self) -> str:
        if all(d is None or d == 1 for d in self.shape):
            kind = _THEANO_KINDS.get(self.broadcastable, str(self.broadcastable))
            return f"TensorType({self.dtype}, {kind})"
        return f"TensorType({self.dtype}, shape={self.shape})"

    __str__ = __repr__

    def short(self) -> str:
        """The compact form used in diagnostics: ``f32[n, 3]``."""
        return format_type(self.dtype, self.shape)

    def accepts(self, other: TensorType) -> bool:
        """Whether every value of ``other`` is a value of this type (same dtype, fitting dims)."""
        if not isinstance(other, TensorType) or other.dtype != self.dtype:
            return False
        if other.ndim != self.ndim:
            return False
        return all(
            s is None or isinstance(s, str) or s == o for s, o in zip(self.shape, other.shape)
        )

    def filter(self, value, allow_downcast: bool | None = None) -> np.ndarray:
        """``value`` as an array of this type, or a RuleError saying why it is not one.

        Arrays convert when their dtype converts safely (or ``allow_downcast``); Python
        numbers and lists when they convert exactly, and Python floats into any float type
        (Theano's rule, so ``f(0.1)`` works on a float32 input).
        """
        if is_device_array(value):  # a CuPy array stays on its device
            array = self._filter_array(value, allow_downcast)
        elif isinstance(value, np.ndarray) or isinstance(value, np.generic):
            array = self._filter_array(np.asarray(value), allow_downcast)
        else:
            array = self._filter_python(value, allow_downcast)
        self._check_shape(array)
        return array

    def _filter_array(self, array, allow_downcast):
        """``array`` (NumPy's or CuPy's) in this type's dtype."""
        if array.dtype == self.numpy_dtype:
            return array
        if array.dtype.kind not in "biufc":
            raise RuleError(
                codes.BAD_INPUT, f"expected {self.short()}, got an array of {array.dtype}"
            )
        if can_cast_safely(array.dtype.name, self.dtype) or allow_downcast:
            with np.errstate(all="ignore"):
                return array.astype(self.dtype)
        raise RuleError(
            codes.INPUT_DOWNCAST,
            f"an array of {array.dtype} would lose precision as {self.dtype}",
            (
                f"cast it first (x.astype('{self.dtype}')) or pass allow_input_downcast=True "
                "(function or @symbolic)",
            ),
        )

    def _filter_python(self, value, allow_downcast) -> np.ndarray:
        if isinstance(value, (str, bytes, dict, set)) or value is None:
            raise RuleError(codes.BAD_INPUT, f"expected {self.short()}, got {type(value).__name__}")
        try:
            raw = np.asarray(value)
        except (ValueError, TypeError) as err:
            raise RuleError(
                codes.BAD_INPUT, f"expected {self.short()}, got {value!r}: {err}"
            ) from None
        if raw.dtype.kind not in "biufc":
            raise RuleError(codes.BAD_INPUT, f"expected {self.short()}, got {type(value).__name__}")
        if raw.dtype.name == self.dtype or allow_downcast:
            with np.errstate(all="ignore"):
                return raw.astype(self.dtype)
        floaty = isinstance(value, (float, numbers.Real)) and raw.dtype.kind == "f"
        if floaty and allow_downcast is None and self.dtype.startswith(("float", "complex")):
            return raw.astype(self.dtype)
        with np.errstate(all="ignore"):
            converted = raw.astype(self.dtype)
            exact = np.array_equal(converted, raw, equal_nan=raw.dtype.kind in "fc")
        if not exact:
            raise RuleError(
                codes.INPUT_DOWNCAST,
                f"{_brief(value)} does not convert exactly to {self.dtype}",
                ("pass allow_input_downcast=True (function or @symbolic) to round it",),
            )
        return converted

    def _check_shape(self, array: np.ndarray) -> None:
        if array.ndim != self.ndim:
            raise RuleError(
                codes.BAD_INPUT,
                f"expected {self.short()} (rank {self.ndim}), got an array of shape {array.shape} "
                f"(rank {array.ndim})",
            )
        for axis, (want, got) in enumerate(zip(self.shape, array.shape)):
            if isinstance(want, int) and want != got:
                why = "broadcastable dim must have size 1" if want == 1 else f"dim must be {want}"
                raise RuleError(
                    codes.BAD_INPUT,
                    f"expected {self.short()}, got shape {array.shape}: dim {axis} is {got}; {why}",
                )


def _check_dim(dim):
    if dim is None or isinstance(dim, str):
        return dim
    if isinstance(dim, (bool, np.bool_)):
        raise TypeError(f"shape entries are sizes, names or None, not {dim!r}")
    if isinstance(dim, (int, np.integer)) and dim >= 0:
        return int(dim)
    raise TypeError(f"shape entries must be sizes >= 0, names or None; got {dim!r}")


def _brief(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class RandomType(Type):
    """The type of a random generator state (``numpy.random.RandomState`` or ``Generator``)."""

    ndim = 0
    dtype = "object"
    shape = ()
    broadcastable = ()

    def __eq__(self, other) -> bool:
        return type(other) is RandomType

    def __hash__(self) -> int:
        return hash(RandomType)

    def __repr__(self) -> str:
        return "RandomType"

    def short(self) -> str:
        return "rng"

    def filter(self, value, allow_downcast=None):
        if not isinstance(value, (np.random.RandomState, np.random.Generator)):
            raise RuleError(
                codes.BAD_INPUT,
                f"expected a numpy RandomState or Generator, got {type(value).__name__}",
            )
        return value

    def accepts(self, other) -> bool:
        return self == other
