"""Shared variables: graph inputs whose value lives between calls, updated by functions.

>>> import numpy as np
>>> w = shared(np.zeros(3), name="w")
>>> w.get_value()
array([0., 0., 0.])
>>> w.set_value(np.ones(3)); w.get_value()
array([1., 1., 1.])
"""

from __future__ import annotations

import copy

import numpy as np

from astsym.typecheck import InputError, RuleError
from astsym.typecheck.diagnostics import error

from .basic import Variable
from .source import current_span
from .type import RandomType, TensorType, Type, is_device_array


class Container:
    """The storage of a shared variable's value (shared by its clones; a compiled
    function reads it at each call and writes the updates into it)."""

    __slots__ = ("value",)

    def __init__(self, value) -> None:
        self.value = value

    def __getstate__(self):
        return self.value

    def __setstate__(self, value) -> None:
        self.value = value


class SharedVariable(Variable):
    """A variable with a stored value, used by every function whose graph contains it."""

    def __init__(
        self,
        type: Type,
        value,
        name: str | None = None,
        strict: bool = False,
        allow_downcast: bool | None = None,
    ) -> None:
        super().__init__(type, name=name)
        self.strict, self.allow_downcast = strict, allow_downcast
        self.default_update: Variable | None = None
        self.container = Container(self._filter(value, "shared"))

    def get_value(self, borrow: bool = False, return_internal_type: bool = False):
        """The value: a copy, or the stored object itself with ``borrow=True``.

        A value a ``gpu`` function keeps in device memory comes back as a NumPy array (a
        copy, whatever ``borrow`` says) unless ``return_internal_type=True``, which gives
        the CuPy array itself (``borrow=True``) or a copy of it on the device.
        """
        value = self.container.value
        if is_device_array(value):
            if return_internal_type:
                return value if borrow else value.copy()
            return value.get()
        return value if borrow else copy.deepcopy(value)

    def set_value(self, value, borrow: bool = False) -> None:
        """Store ``value`` (a NumPy or CuPy array, copied unless ``borrow``); a value of the
        wrong rank or an unsafe dtype is refused with an error naming the variable, and the
        old value stays. A CuPy array stays on the device; a NumPy array given to a variable
        that a ``gpu`` function keeps on the device is copied there on that function's next
        call."""
        new = self._filter(value, "set_value")
        if not borrow and new is value:
            new = new.copy() if is_device_array(new) else copy.deepcopy(new)
        self.container.value = new

    def _filter(self, value, what: str):
        try:
            if self.strict and isinstance(self.type, TensorType):
                array = isinstance(value, np.ndarray) or is_device_array(value)
                if not array or value.dtype.name != self.type.dtype:
                    raise RuleError(
                        "AS301", f"strict shared variable needs an array of {self.type.dtype}"
                    )
            return self.type.filter(value, allow_downcast=self.allow_downcast)
        except RuleError as err:
            label = f"shared variable {self.name!r}" if self.name else "shared variable"
            where = f"{what} of {label}" if what == "set_value" else label
            message = f"{where} ({self.type.short()}): {err.message}"
            diag = error(err.code, message, current_span(), err.notes)
            raise InputError(diag) from None

    def clone(self) -> SharedVariable:
        """A new variable sharing this one's storage: a change to either is seen by both
        (Theano's ``clone``)."""
        out = type(self).__new__(type(self))
        out.__dict__.update(self.__dict__)
        out.tag = type(self.tag)()
        return out

    def __str__(self) -> str:
        return self.name if self.name is not None else f"<{self.type}>"


def shared(
    value,
    name: str | None = None,
    strict: bool = False,
    allow_downcast=None,
    borrow: bool = False,
    broadcastable=None,
    shape=None,
) -> SharedVariable:
    """A shared variable holding ``value`` (an array, a number or a random generator).

    Its dims are not broadcastable unless ``broadcastable=`` or ``shape=`` says so, since
    ``set_value`` may later store an array of another size (as in Theano).
    """
    if isinstance(value, Variable):
        raise TypeError("shared() takes a value, not a symbolic variable")
    if isinstance(value, (np.random.RandomState, np.random.Generator)):
        return SharedVariable(RandomType(), value if borrow else copy.deepcopy(value), name)
    if is_device_array(value):  # a CuPy array is kept on its device
        array = value if borrow else value.copy()
    else:
        array = _host_array(value, borrow)
    if shape is None and broadcastable is None:
        broadcastable = (False,) * array.ndim
    var_type = TensorType(array.dtype.name, broadcastable=broadcastable, shape=shape)
    return SharedVariable(var_type, array, name=name, strict=strict, allow_downcast=allow_downcast)


def _host_array(value, borrow: bool) -> np.ndarray:
    try:
        array = (
            np.array(value, copy=not borrow)
            if not isinstance(value, np.ndarray) or not borrow
            else value
        )
    except (TypeError, ValueError) as err:
        raise TypeError(f"shared() cannot hold {type(value).__name__} {value!r}: {err}") from None
    if array.dtype.kind not in "biufc":
        raise TypeError(f"shared() cannot hold {type(value).__name__} {value!r}")
    return array
