"""The device array of the CuPy double: a private host array that NumPy code never sees
implicitly, with CuPy's refusals, views and NEP 13/18 dispatch; and the transfer and launch
counters.

    >>> import numpy as np
    >>> d = ndarray._fresh(np.arange(3.0))
    >>> type(np.exp(d)) is ndarray, d[1:].base is d
    (True, True)
"""

from __future__ import annotations

import collections
import functools
from typing import Any

import numpy as np

from ._cuda import _POOL, Device

#: Fill fresh ``empty`` memory with 0xFF bytes (NaN for floats, -1 for ints): pool memory on
#: a GPU holds whatever the last array left there, so code must never read it unwritten.
POISON_EMPTY = True


class _TransferCounter:
    """Host->device (``h2d``) and device->host (``d2h``) copies, with their bytes."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.h2d = self.d2h = self.h2d_bytes = self.d2h_bytes = 0

    @property
    def total(self) -> int:
        return self.h2d + self.d2h

    def _count(self, direction: str, nbytes: int) -> None:
        setattr(self, direction, getattr(self, direction) + 1)
        setattr(self, direction + "_bytes", getattr(self, direction + "_bytes") + nbytes)

    def __repr__(self) -> str:
        return f"Transfers(h2d={self.h2d}, d2h={self.d2h})"


class _LaunchCounter(collections.Counter):
    """Launches per kernel class (``LAUNCHES["ElementwiseKernel"]``); ``by_name`` per kernel."""

    def __init__(self) -> None:
        super().__init__()
        self.by_name: collections.Counter = collections.Counter()

    def reset(self) -> None:
        self.clear()
        self.by_name.clear()


TRANSFERS = _TransferCounter()
LAUNCHES = _LaunchCounter()

_PY_SCALARS = (bool, int, float, complex)
_COMPARISONS = {"greater", "greater_equal", "less", "less_equal", "equal", "not_equal"}
_IMPLICIT = (
    "Implicit conversion to a NumPy array is not allowed. "
    "Please use `.get()` to construct a NumPy array explicitly."
)


def _is_scalar(x: Any) -> bool:
    return type(x) in _PY_SCALARS or isinstance(x, np.generic)


def _unsupported(x: Any) -> TypeError:
    # the message of CuPy's kernel argument check (_kernel.pyx, _preprocess_arg)
    return TypeError(f"Unsupported type {type(x)}")


# -- wrapping and unwrapping ------------------------------------------------------------------


def _root(host: np.ndarray) -> Any:
    while isinstance(host.base, np.ndarray):
        host = host.base
    return host if host.base is None else host.base


def _adopt(host: np.ndarray, seen: list[ndarray]) -> ndarray:
    """A device array for a host result: an input itself, a view of an input, or new memory."""
    for dev in seen:
        if host is dev._host:
            return dev
    root = _root(host)
    for dev in seen:
        if _root(dev._host) is root:
            return ndarray._view(host, dev)
    return ndarray._fresh(host)


def _wrap(result: Any, seen: list[ndarray]) -> Any:
    if isinstance(result, np.ndarray):
        return _adopt(result, seen)
    if isinstance(result, np.generic):
        return ndarray._fresh(np.asarray(result))  # CuPy never returns NumPy scalars
    if type(result) in (list, tuple):
        return type(result)(_wrap(r, seen) for r in result)
    if isinstance(result, tuple) and hasattr(result, "_fields"):  # e.g. linalg results
        return type(result)(*(_wrap(r, seen) for r in result))
    return result


def _unwrap(obj: Any, seen: list[ndarray]) -> Any:
    """Device arrays -> their host arrays (recording them in ``seen``); NumPy arrays refused."""
    if isinstance(obj, ndarray):
        seen.append(obj)
        return obj._host
    if isinstance(obj, np.ndarray):
        raise _unsupported(obj)
    if type(obj) in (list, tuple):
        return type(obj)(_unwrap(o, seen) for o in obj)
    if type(obj) is dict:
        return {k: _unwrap(v, seen) for k, v in obj.items()}
    return obj


def _device_function(func: Any) -> Any:
    """``func`` run on the host arrays of its device-array arguments, results wrapped."""

    @functools.wraps(func)
    def call(*args: Any, **kwargs: Any) -> Any:
        seen: list[ndarray] = []
        host_args, host_kwargs = _unwrap(args, seen), _unwrap(kwargs, seen)
        return _wrap(func(*host_args, **host_kwargs), seen)

    return call


def _operand(x: Any, name: str, seen: list[ndarray]) -> Any:
    """A ufunc operand as CuPy's kernels take it: device arrays and scalars only."""
    if isinstance(x, ndarray):
        seen.append(x)
        return x._host
    if isinstance(x, np.ndarray) and x.ndim == 0 and name in _COMPARISONS:
        return x.item()  # CuPy's __array_ufunc__ works around numpy/numpy#12142 so
    if _is_scalar(x):
        return x
    raise _unsupported(x)


def _run_ufunc(ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict) -> Any:
    seen: list[ndarray] = []
    host_in = [_operand(x, ufunc.__name__, seen) for x in inputs]
    out = kwargs.get("out")
    if out is not None:
        outs = out if isinstance(out, tuple) else (out,)
        if not all(isinstance(o, ndarray) for o in outs):
            raise TypeError("Output arguments must be cupy.ndarray")
        kwargs = {**kwargs, "out": tuple(_unwrap(o, seen) for o in outs)}
    if "where" in kwargs:
        kwargs["where"] = _unwrap(kwargs["where"], seen)
    return _wrap(getattr(ufunc, method)(*host_in, **kwargs), seen)


class _DeviceUfunc:
    """``cp.exp`` and friends: NumPy's ufunc on device operands only."""

    def __init__(self, ufunc: np.ufunc) -> None:
        self._ufunc = ufunc
        self.__name__ = ufunc.__name__
        self.nin, self.nout, self.types = ufunc.nin, ufunc.nout, ufunc.types

    def __call__(self, *inputs: Any, **kwargs: Any) -> Any:
        return _run_ufunc(self._ufunc, "__call__", inputs, kwargs)

    def reduce(self, array: Any, *args: Any, **kwargs: Any) -> Any:
        return _device_function(self._ufunc.reduce)(_device_only(array), *args, **kwargs)

    def accumulate(self, array: Any, *args: Any, **kwargs: Any) -> Any:
        return _device_function(self._ufunc.accumulate)(_device_only(array), *args, **kwargs)

    def outer(self, a: Any, b: Any, **kwargs: Any) -> Any:
        return _run_ufunc(self._ufunc, "outer", (a, b), kwargs)

    def at(self, a: Any, indices: Any, b: Any = None) -> None:
        host = _device_only(a)._host
        extra = () if b is None else (_operand(b, self.__name__, []),)
        self._ufunc.at(host, _index_key(indices), *extra)

    def __repr__(self) -> str:
        return f"<ufunc '{self.__name__}' (host emulation)>"


def _device_only(x: Any) -> ndarray:
    if not isinstance(x, ndarray):
        raise _unsupported(x)
    return x


def _index_key(key: Any) -> Any:
    """An index for the host array. CuPy turns lists and NumPy arrays in an index into device
    arrays (``_prepare_slice_list`` in ``_routines_indexing.pyx``): a host->device copy."""
    parts = key if type(key) is tuple else (key,)
    host = []
    for part in parts:
        if isinstance(part, ndarray):
            part = part._host
        elif isinstance(part, (list, np.ndarray)):
            part = np.asarray(part)
            TRANSFERS._count("h2d", part.nbytes)
        host.append(part)
    if not any(p is Ellipsis for p in host):
        host.append(Ellipsis)  # all-integer keys give a 0-d view, as CuPy's do, not a scalar
    return tuple(host)


def _fill_value(value: Any) -> Any:
    """A value CuPy's ``fill`` and basic ``__setitem__`` accept (``core.pyx``, ``fill``)."""
    if isinstance(value, ndarray):
        return value._host
    if isinstance(value, np.ndarray):
        if value.shape != ():
            raise ValueError("non-scalar numpy.ndarray cannot be used for fill")
        return value.item()
    if _is_scalar(value):
        return value
    raise _unsupported(value)


def _defers_to(other: Any) -> bool:
    """CuPy's ``_should_use_rop``: NEP 13 plus the ``__array_priority__`` fallback."""
    try:
        other_ufunc = other.__array_ufunc__
    except AttributeError:
        return ndarray.__array_priority__ < getattr(other, "__array_priority__", 0)
    return other_ufunc is None


def _binary(ufunc: np.ufunc) -> tuple:
    def op(self: ndarray, other: Any) -> Any:
        if not isinstance(other, ndarray) and _defers_to(other):
            return NotImplemented
        return ufunc(self, other)  # through NumPy's dispatch, as CuPy's operators go

    def rop(self: ndarray, other: Any) -> Any:
        return _run_ufunc(ufunc, "__call__", (other, self), {})

    def iop(self: ndarray, other: Any) -> Any:
        return _run_ufunc(ufunc, "__call__", (self, other), {"out": (self,)})

    return op, rop, iop


def _forward(name: str) -> Any:
    """An ndarray method run by the host array's method of that name."""

    def method(self: ndarray, *args: Any, **kwargs: Any) -> Any:
        seen = [self]
        host_args, host_kwargs = _unwrap(args, seen), _unwrap(kwargs, seen)
        return _wrap(getattr(self._host, name)(*host_args, **host_kwargs), seen)

    method.__name__ = name
    return method


def _arg_reduction(name: str) -> Any:
    forwarded = _forward(name)

    def method(self: ndarray, axis=None, out=None, dtype=None, keepdims=False) -> Any:
        # ``dtype`` is CuPy's own argument (not NumPy's)
        result = forwarded(self, axis=axis, out=out, keepdims=keepdims)
        return result if dtype is None or out is not None else result.astype(dtype, copy=False)

    method.__name__ = name
    return method


def _poisoned(host: np.ndarray) -> np.ndarray:
    if POISON_EMPTY and host.size:
        host.ravel(order="K").view(np.uint8).fill(0xFF)
    return host


class _Flags:
    def __init__(self, host: np.ndarray, owndata: bool) -> None:
        self.c_contiguous = bool(host.flags.c_contiguous)
        self.f_contiguous = bool(host.flags.f_contiguous)
        self.owndata = owndata

    def __getitem__(self, name: str) -> bool:
        keys = {"C_CONTIGUOUS": "c_contiguous", "F_CONTIGUOUS": "f_contiguous"}
        return getattr(self, keys.get(name, name.lower()))

    def __repr__(self) -> str:
        return "\n".join(
            f"  {k.upper()} : {getattr(self, k)}"
            for k in ("c_contiguous", "f_contiguous", "owndata")
        )


class _MemoryPointer:
    def __init__(self, host: np.ndarray) -> None:
        self.ptr = host.ctypes.data
        self.device_id = 0
        self.device = Device(0)


# -- the device array -------------------------------------------------------------------------


class ndarray:
    """A device array: a private host array no NumPy code may see implicitly.

    >>> a = ndarray((2, 3), dtype="float32")
    >>> a.shape, a.dtype.name, a.flags.owndata
    ((2, 3), 'float32', True)
    """

    __slots__ = ("_host", "_base", "__weakref__")
    __array_priority__ = 100

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C") -> None:
        if memptr is not None:
            raise NotImplementedError("memptr is not emulated on the host")
        if strides is not None:
            raise ValueError("memptr is required if strides is given.")
        if order not in ("C", "F", "c", "f", None):
            raise ValueError(f"order not understood. order={order}")
        self._host = _poisoned(np.empty(shape, dtype, order=order or "C"))
        self._base = None
        _POOL._track(self)

    @classmethod
    def _fresh(cls, host: np.ndarray) -> ndarray:
        obj = cls.__new__(cls)
        obj._host, obj._base = host, None
        _POOL._track(obj)
        return obj

    @classmethod
    def _view(cls, host: np.ndarray, of: ndarray) -> ndarray:
        obj = cls.__new__(cls)
        obj._host, obj._base = host, of._base if of._base is not None else of
        return obj

    # attributes
    shape = property(lambda self: self._host.shape)
    dtype = property(lambda self: self._host.dtype)
    ndim = property(lambda self: self._host.ndim)
    size = property(lambda self: self._host.size)
    itemsize = property(lambda self: self._host.itemsize)
    nbytes = property(lambda self: self._host.nbytes)
    strides = property(lambda self: self._host.strides)
    base = property(lambda self: self._base)
    flags = property(lambda self: _Flags(self._host, self._base is None))
    data = property(lambda self: _MemoryPointer(self._host))
    device = property(lambda self: Device(0))

    @shape.setter
    def shape(self, new_shape: Any) -> None:
        self._host = self._host.reshape(new_shape, copy=False)  # a view or an error, no copy

    @property
    def T(self) -> ndarray:
        return self if self.ndim < 2 else _adopt(self._host.T, [self])

    @property
    def real(self) -> ndarray:
        return _adopt(self._host.real, [self])

    @property
    def imag(self) -> ndarray:
        return _adopt(self._host.imag, [self])

    @property
    def __cuda_array_interface__(self) -> dict:
        return {
            "shape": self.shape,
            "typestr": self.dtype.str,
            "descr": self.dtype.descr,
            "strides": None if self._host.flags.c_contiguous else self.strides,
            "data": (self.data.ptr if self.size else 0, False),
            "version": 3,
        }

    # transfers
    def get(self, stream: Any = None, order: str = "C", out: np.ndarray | None = None) -> Any:
        """A NumPy copy (a device->host transfer)."""
        TRANSFERS._count("d2h", self.nbytes)
        if out is None:
            return np.array(self._host, order=order, copy=True)
        if not isinstance(out, np.ndarray):
            raise TypeError("Only numpy.ndarray can be obtained from cupy.ndarray")
        if out.dtype != self.dtype or out.shape != self.shape:
            raise ValueError(f"Shape mismatch. Expected shape: {self.shape}, actual: {out.shape}")
        np.copyto(out, self._host)
        return out

    def set(self, arr: np.ndarray, stream: Any = None) -> None:
        """Copy a NumPy array of the same dtype and shape in (a host->device transfer)."""
        if not isinstance(arr, np.ndarray):
            raise TypeError("Only numpy.ndarray can be set to cupy.ndarray")
        if arr.dtype != self.dtype:
            raise TypeError(f"{arr.dtype} array cannot be set to {self.dtype} array")
        if arr.shape != self.shape:
            raise ValueError(f"Shape mismatch. Old shape: {self.shape}, new shape: {arr.shape}")
        TRANSFERS._count("h2d", arr.nbytes)
        self._host[...] = arr

    def item(self) -> Any:
        if self.size != 1:
            raise ValueError("can only convert an array of size 1 to a Python scalar")
        TRANSFERS._count("d2h", self.nbytes)
        return self._host.item()

    def tolist(self) -> Any:
        TRANSFERS._count("d2h", self.nbytes)
        return self._host.tolist()

    def _synced(self) -> np.ndarray:
        TRANSFERS._count("d2h", self.nbytes)
        return self._host

    # CuPy converts by ``int(self.get())`` etc. and has no ``__index__`` (core.pyx)
    def __bool__(self) -> bool:
        return bool(self._synced())

    def __int__(self) -> int:
        return int(self._synced())

    def __float__(self) -> float:
        return float(self._synced())

    def __complex__(self) -> complex:
        return complex(self._synced())

    def __repr__(self) -> str:
        return repr(self._synced())

    def __str__(self) -> str:
        return str(self._synced())

    def __format__(self, spec: str) -> str:
        return format(self._synced(), spec)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise TypeError(_IMPLICIT)

    def __reduce__(self) -> tuple:
        return _from_host, (self.get(),)

    # copies and casts
    def copy(self, order: str = "C") -> ndarray:
        return ndarray._fresh(self._host.copy(order=order))

    __copy__ = copy

    def __deepcopy__(self, memo: dict) -> ndarray:
        return self.copy()

    def astype(self, dtype, order="K", casting=None, subok=None, copy=True) -> ndarray:
        if subok is not None:
            raise TypeError("subok is not supported yet")
        if not copy and np.dtype(dtype) == self.dtype:
            return self
        kwargs = {} if casting is None else {"casting": casting}
        return ndarray._fresh(self._host.astype(dtype, order=order, **kwargs))

    def fill(self, value: Any) -> None:
        self._host[...] = _fill_value(value)

    # shape manipulation and selection, run by NumPy on the host array
    reshape = _forward("reshape")
    transpose = _forward("transpose")
    swapaxes = _forward("swapaxes")
    ravel = _forward("ravel")
    flatten = _forward("flatten")
    squeeze = _forward("squeeze")
    view = _forward("view")
    take = _forward("take")
    put = _forward("put")
    repeat = _forward("repeat")
    choose = _forward("choose")
    compress = _forward("compress")
    diagonal = _forward("diagonal")
    nonzero = _forward("nonzero")
    sort = _forward("sort")
    argsort = _forward("argsort")
    partition = _forward("partition")
    argpartition = _forward("argpartition")
    conj = conjugate = _forward("conjugate")
    dot = _forward("dot")
    clip = _forward("clip")
    round = _forward("round")
    trace = _forward("trace")

    # reductions
    sum = _forward("sum")
    prod = _forward("prod")
    mean = _forward("mean")
    var = _forward("var")
    std = _forward("std")
    max = _forward("max")
    min = _forward("min")

    def ptp(self, axis=None, out=None, keepdims=False) -> ndarray:  # gone from NumPy 2's ndarray
        return _device_function(np.ptp)(self, axis=axis, out=out, keepdims=keepdims)

    all = _forward("all")
    any = _forward("any")
    cumsum = _forward("cumsum")
    cumprod = _forward("cumprod")
    argmax = _arg_reduction("argmax")
    argmin = _arg_reduction("argmin")

    # containers
    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __iter__(self) -> Any:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.shape[0]))

    def __getitem__(self, key: Any) -> ndarray:
        return _adopt(np.asarray(self._host[_index_key(key)]), [self])

    def __setitem__(self, key: Any, value: Any) -> None:
        self._host[_index_key(key)] = _fill_value(value)

    # NEP 13 / NEP 18
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        for x in inputs + tuple(kwargs.get("out", ())):
            if not (isinstance(x, (ndarray, np.ndarray)) or _is_scalar(x)):
                return NotImplemented  # NumPy then raises TypeError, as with CuPy
        if method == "__call__":
            return _run_ufunc(ufunc, method, inputs, kwargs)
        if method in ("reduce", "accumulate", "reduceat", "outer"):
            for x in inputs:
                _operand(x, ufunc.__name__, [])
            return _device_function(getattr(ufunc, method))(*inputs, **kwargs)
        return NotImplemented

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if not all(issubclass(t, (ndarray, np.ndarray)) for t in types):
            return NotImplemented
        return _device_function(func)(*args, **kwargs)

    # operators
    __add__, __radd__, __iadd__ = _binary(np.add)
    __sub__, __rsub__, __isub__ = _binary(np.subtract)
    __mul__, __rmul__, __imul__ = _binary(np.multiply)
    __truediv__, __rtruediv__, __itruediv__ = _binary(np.true_divide)
    __floordiv__, __rfloordiv__, __ifloordiv__ = _binary(np.floor_divide)
    __mod__, __rmod__, __imod__ = _binary(np.remainder)
    __pow__, __rpow__, __ipow__ = _binary(np.power)
    __matmul__, __rmatmul__, __imatmul__ = _binary(np.matmul)
    __lshift__, __rlshift__, __ilshift__ = _binary(np.left_shift)
    __rshift__, __rrshift__, __irshift__ = _binary(np.right_shift)
    __and__, __rand__, __iand__ = _binary(np.bitwise_and)
    __or__, __ror__, __ior__ = _binary(np.bitwise_or)
    __xor__, __rxor__, __ixor__ = _binary(np.bitwise_xor)
    __divmod__, __rdivmod__, _ = _binary(np.divmod)
    __lt__ = _binary(np.less)[0]
    __le__ = _binary(np.less_equal)[0]
    __eq__ = _binary(np.equal)[0]
    __ne__ = _binary(np.not_equal)[0]
    __gt__ = _binary(np.greater)[0]
    __ge__ = _binary(np.greater_equal)[0]
    __hash__ = None

    def __neg__(self) -> ndarray:
        return _run_ufunc(np.negative, "__call__", (self,), {})

    def __pos__(self) -> ndarray:
        return self  # CuPy's unary plus returns the array itself

    def __abs__(self) -> ndarray:
        return _run_ufunc(np.absolute, "__call__", (self,), {})

    def __invert__(self) -> ndarray:
        return _run_ufunc(np.invert, "__call__", (self,), {})

    del _


def _from_host(host: np.ndarray) -> ndarray:
    """A device copy of host data (a host->device transfer)."""
    TRANSFERS._count("h2d", host.nbytes)
    return ndarray._fresh(np.array(host, copy=True))
