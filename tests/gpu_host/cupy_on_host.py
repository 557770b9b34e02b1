"""A host-memory test double of the ``cupy`` module, strict where CuPy is strict.

Device arrays hold a private NumPy array and refuse every implicit trip to the host, as
CuPy's do; NumPy ufuncs and functions called on them return device arrays (NEP 13/18).
Transfers and kernel launches are counted so tests can assert a step does none.

    >>> import numpy as np
    >>> from gpu_host import cupy_on_host as cp
    >>> x = cp.asarray(np.arange(3.0))
    >>> y = np.exp(x) + 1
    >>> type(y) is cp.ndarray, y.get().round(2).tolist()
    (True, [2.0, 3.72, 8.39])
    >>> np.asarray(y)
    Traceback (most recent call last):
    ...
    TypeError: Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct a NumPy array explicitly.

CuPy's behaviour emulated here was read from its source, ``cupy/_core/core.pyx``
(https://github.com/cupy/cupy/blob/main/cupy/_core/core.pyx), and
https://docs.cupy.dev/en/stable/user_guide/interoperability.html.
"""

from __future__ import annotations

import collections
import functools
import importlib
import sys
import time
import types
import weakref
from typing import Any

import numpy as np

#: Fill fresh ``empty`` memory with 0xFF bytes (NaN for floats, -1 for ints): pool memory on
#: a GPU holds whatever the last array left there, so code must never read it unwritten.
POISON_EMPTY = True

#: ``(elementwise_cls, reduction_cls, raw_cls)`` host kernels; ``None`` imports
#: ``tests/kernels/host_cuda.py``'s at the first kernel construction.
HOST_KERNELS: tuple | None = None


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


# -- the memory pool ------------------------------------------------------------------------


class OutOfMemoryError(MemoryError):
    """Raised when an allocation passes the pool's limit (``cupy.cuda.memory``'s name)."""


class MemoryPool:
    """Bytes of live device arrays, rounded up to 512 as CuPy's pool rounds allocations;
    freed blocks stay cached (``free_bytes``) until ``free_all_blocks``."""

    _UNIT = 512

    def __init__(self) -> None:
        self._used = self._free = self._blocks = self._limit = 0

    def used_bytes(self) -> int:
        return self._used

    def free_bytes(self) -> int:
        return self._free

    def total_bytes(self) -> int:
        return self._used + self._free

    def n_free_blocks(self) -> int:
        return self._blocks

    def free_all_blocks(self, stream: Any = None) -> None:
        self._free = self._blocks = 0

    def set_limit(self, size: int | None = None, fraction: float | None = None) -> None:
        self._limit = int(size or 0)

    def get_limit(self) -> int:
        return self._limit

    def _track(self, array: ndarray) -> None:
        size = -(-array.nbytes // self._UNIT) * self._UNIT
        if size == 0:
            return
        if self._limit and self._used + size > self._limit:
            raise OutOfMemoryError(f"Out of memory allocating {size:,} bytes")
        reused = min(size, self._free)
        self._free -= reused
        self._blocks = max(0, self._blocks - (reused > 0))
        self._used += size
        weakref.finalize(array, self._release, size)

    def _release(self, size: int) -> None:
        self._used -= size
        self._free += size
        self._blocks += 1


_POOL = MemoryPool()


def get_default_memory_pool() -> MemoryPool:
    """The pool every device array is counted in."""
    return _POOL


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
        return array, (self.get(),)

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


# -- module functions ------------------------------------------------------------------------

newaxis, inf, nan, pi, e = np.newaxis, np.inf, np.nan, np.pi, np.e
bool_, int8, int16, int32, int64 = np.bool_, np.int8, np.int16, np.int32, np.int64
uint8, uint16, uint32, uint64 = np.uint8, np.uint16, np.uint32, np.uint64
float16, float32, float64, complex64, complex128 = (
    np.float16,
    np.float32,
    np.float64,
    np.complex64,
    np.complex128,
)
intp, dtype, finfo, iinfo = np.intp, np.dtype, np.finfo, np.iinfo


def _to_device(obj: Any, dtype: Any, order: str, ndmin: int = 0) -> ndarray:
    host = np.array(obj, dtype=dtype, order=order, copy=True, ndmin=ndmin)
    TRANSFERS._count("h2d", host.nbytes)
    return ndarray._fresh(host)


def asarray(a: Any, dtype: Any = None, order: str | None = None, *, blocking: bool = False):
    """``a`` on the device: a device array itself (cast if asked), anything else copied over.

    >>> asarray([1, 2]).dtype.name
    'int64'
    """
    if isinstance(a, ndarray):
        return a if dtype is None else a.astype(dtype, order=order or "K", copy=False)
    return _to_device(a, dtype, order or "K")


def array(obj: Any, dtype: Any = None, copy: bool = True, order: str = "K", subok=False, ndmin=0):
    """A device array from ``obj``: a copy of a device array, or host data copied over."""
    if not isinstance(obj, ndarray):
        return _to_device(obj, dtype, order or "K", ndmin)
    out = obj.astype(obj.dtype if dtype is None else dtype, order=order or "K", copy=copy)
    if ndmin > out.ndim:
        out = out.reshape((1,) * (ndmin - out.ndim) + out.shape)
    return out


def asnumpy(a: Any, stream: Any = None, order: str = "C", out: Any = None, *, blocking=True):
    """A NumPy copy of a device array; anything else goes through ``numpy.asarray``."""
    if isinstance(a, ndarray):
        return a.get(stream=stream, order=order, out=out)
    return np.asarray(a, order=order)


def get_array_module(*args: Any) -> types.ModuleType:
    """This module when any argument is a device array, else ``numpy``."""
    if any(isinstance(a, ndarray) for a in args):
        return sys.modules[__name__]
    return np


def empty(shape: Any, dtype: Any = float, order: str = "C") -> ndarray:
    """New device memory, holding garbage (``POISON_EMPTY``)."""
    return ndarray(shape, dtype, order=order)


def empty_like(prototype: ndarray, dtype: Any = None, order: str = "K", subok=None, shape=None):
    host = np.empty_like(_device_only(prototype)._host, dtype=dtype, order=order, shape=shape)
    return ndarray._fresh(_poisoned(host))


zeros = _device_function(np.zeros)
ones = _device_function(np.ones)
full = _device_function(np.full)
zeros_like = _device_function(np.zeros_like)
ones_like = _device_function(np.ones_like)
full_like = _device_function(np.full_like)
arange = _device_function(np.arange)
eye = _device_function(np.eye)
ascontiguousarray = _device_function(np.ascontiguousarray)
asfortranarray = _device_function(np.asfortranarray)

_FORWARDED: dict[str, Any] = {}


class _DeviceNamespace(types.ModuleType):
    """A NumPy submodule (``linalg``, ``fft``) whose functions take and give device arrays."""

    def __init__(self, host_module: types.ModuleType) -> None:
        super().__init__(f"{__name__}.{host_module.__name__.rpartition('.')[2]}")
        self._host_module = host_module

    def __getattr__(self, name: str) -> Any:
        return _forwarded(self._host_module, name, self.__dict__)


def _forwarded(host_module: types.ModuleType, name: str, cache: dict) -> Any:
    if name.startswith("_"):
        raise AttributeError(name)
    obj = getattr(host_module, name)
    if isinstance(obj, np.ufunc):
        obj = _DeviceUfunc(obj)
    elif isinstance(obj, types.ModuleType):
        obj = _DeviceNamespace(obj)
    elif callable(obj) and not isinstance(obj, type):
        obj = _device_function(obj)
    cache[name] = obj
    return obj


def __getattr__(name: str) -> Any:
    """Any other NumPy name, run on the host arrays of device arrays (``cp.exp``, ``cp.where``)."""
    if name in _FORWARDED:
        return _FORWARDED[name]
    return _forwarded(np, name, _FORWARDED)


# -- random ---------------------------------------------------------------------------------


class _DeviceRandom:
    """A NumPy ``Generator`` or ``RandomState`` whose draws are device arrays."""

    def __init__(self, host_rng: Any, dtype_argument: bool) -> None:
        self._host_rng = host_rng
        # CuPy's RandomState methods take ``dtype=``, NumPy's don't (but ``randint`` does)
        self._pop_dtype = dtype_argument

    def __getattr__(self, name: str) -> Any:
        method = _device_function(getattr(self._host_rng, name))
        if not self._pop_dtype or name == "randint":
            return method

        def draw(*args: Any, dtype: Any = None, **kwargs: Any) -> Any:
            out = method(*args, **kwargs)
            return out if dtype is None else out.astype(dtype, copy=False)

        return draw


def _random_module() -> types.ModuleType:
    module = types.ModuleType(f"{__name__}.random")
    module.default_rng = lambda seed=None: _DeviceRandom(np.random.default_rng(seed), False)
    module.RandomState = lambda seed=None: _DeviceRandom(np.random.RandomState(seed), True)
    state = module.RandomState()
    module.seed = lambda seed=None: state.seed(seed)
    module.get_random_state = lambda: state
    module.__getattr__ = lambda name: getattr(state, name)  # cp.random.rand, .normal, ...
    return module


random = _random_module()


# -- cuda -------------------------------------------------------------------------------------


class CUDARuntimeError(RuntimeError):
    """CuPy's ``cupy.cuda.runtime.CUDARuntimeError``, built from a CUDA status code."""

    _NAMES = {
        101: ("cudaErrorInvalidDevice", "invalid device ordinal"),
        400: ("cudaErrorInvalidResourceHandle", "invalid resource handle"),
        600: ("cudaErrorNotReady", "device not ready"),
    }

    def __init__(self, status: int) -> None:
        self.status = status
        name, text = self._NAMES.get(status, ("cudaErrorUnknown", "unknown error"))
        super().__init__(f"{name}: {text}")


_PROPERTIES = {
    "name": b"host emulation",
    "totalGlobalMem": 16 << 30,
    "memoryClockRate": 1_000_000,  # kHz
    "memoryBusWidth": 256,  # bits
    "multiProcessorCount": 2,
    "maxThreadsPerBlock": 1024,
    "warpSize": 32,
    "sharedMemPerBlock": 48 << 10,
    "major": 9,
    "minor": 0,
}


def _check_device(device_id: int) -> int:
    if device_id != 0:
        raise CUDARuntimeError(101)
    return device_id


class Device:
    """The one emulated device, ``Device(0)``."""

    def __init__(self, device: Any = None) -> None:
        self.id = 0 if device is None else int(device)

    compute_capability = property(lambda self: "90")
    mem_info = property(lambda self: _mem_info())

    def use(self) -> None:
        _check_device(self.id)

    def synchronize(self) -> None:
        _check_device(self.id)

    def __enter__(self) -> Device:
        self.use()
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def __int__(self) -> int:
        return self.id

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"<CUDA Device {self.id}>"


def _mem_info() -> tuple[int, int]:
    total = _PROPERTIES["totalGlobalMem"]
    return total - _POOL.total_bytes(), total


class Event:
    """A timing event, recorded at once (the host has no queue)."""

    def __init__(self, block=False, disable_timing=False, interprocess=False) -> None:
        self._time: float | None = None
        self._timing = not disable_timing

    def record(self, stream: Any = None) -> None:
        self._time = time.perf_counter()

    def synchronize(self) -> None:
        pass

    done = property(lambda self: True)


def get_elapsed_time(start_event: Event, end_event: Event) -> float:
    """Milliseconds between two recorded events."""
    for event in (start_event, end_event):
        if event._time is None or not event._timing:
            raise CUDARuntimeError(400)
    return (end_event._time - start_event._time) * 1e3


class Stream:
    """A stream; every operation is already complete when it returns."""

    null: Stream

    def __init__(self, null: bool = False, non_blocking: bool = False, ptr: int = 0) -> None:
        self.ptr = 0 if null else id(self)

    def synchronize(self) -> None:
        pass

    def record(self, event: Event | None = None) -> Event:
        event = event or Event()
        event.record(self)
        return event

    def wait_event(self, event: Event) -> None:
        pass

    def use(self) -> Stream:
        return self

    done = property(lambda self: True)

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass


Stream.null = Stream(null=True)


def _device_properties(device: int) -> dict:
    _check_device(device)
    return dict(_PROPERTIES)


def _cuda_module() -> types.ModuleType:
    runtime = types.ModuleType(f"{__name__}.cuda.runtime")
    runtime.CUDARuntimeError = CUDARuntimeError
    runtime.getDeviceCount = lambda: 1
    runtime.getDevice = lambda: 0
    runtime.setDevice = _check_device
    runtime.getDeviceProperties = _device_properties
    runtime.deviceSynchronize = lambda: None
    runtime.memGetInfo = _mem_info
    runtime.runtimeGetVersion = runtime.driverGetVersion = lambda: 12040
    memory = types.ModuleType(f"{__name__}.cuda.memory")
    memory.OutOfMemoryError, memory.MemoryPool = OutOfMemoryError, MemoryPool
    cuda = types.ModuleType(f"{__name__}.cuda")
    cuda.runtime, cuda.memory, cuda.MemoryPool = runtime, memory, MemoryPool
    cuda.Device, cuda.Stream, cuda.Event = Device, Stream, Event
    cuda.get_elapsed_time = get_elapsed_time
    cuda.get_device_id = lambda: 0
    cuda.get_current_stream = lambda: Stream.null
    cuda.is_available = lambda: True
    return cuda


cuda = _cuda_module()


# -- kernels ----------------------------------------------------------------------------------


def _host_kernel_classes() -> tuple:
    if HOST_KERNELS is not None:
        return HOST_KERNELS
    host_cuda = importlib.import_module("kernels.host_cuda")  # tests/ is on sys.path
    return host_cuda.HostElementwiseKernel, host_cuda.HostReductionKernel, host_cuda.HostRawKernel


def _kernel_args(args: Any, seen: list[ndarray]) -> list:
    """Kernel arguments as CuPy's ``_preprocess_args`` takes them: device arrays, scalars."""
    host = []
    for arg in args:
        if isinstance(arg, ndarray):
            seen.append(arg)
            host.append(arg._host)  # outputs too: the kernel writes the device memory
        elif _is_scalar(arg):
            host.append(arg)
        else:
            raise _unsupported(arg)
    return host


def _launched(kernel: Any) -> None:
    LAUNCHES[type(kernel).__name__] += 1
    LAUNCHES.by_name[kernel.name] += 1


class ElementwiseKernel:
    """CuPy's ``ElementwiseKernel``, run by the host kernel on the device arrays' memory."""

    def __init__(
        self,
        in_params,
        out_params,
        operation,
        name="kernel",
        reduce_dims=True,
        preamble="",
        no_return=False,
        return_tuple=False,
        loop_prep="",
        after_loop="",
        options=(),
    ) -> None:
        self.in_params, self.out_params, self.operation = in_params, out_params, operation
        self.name, self.no_return, self.return_tuple = name, no_return, return_tuple
        self._host_kernel = _host_kernel_classes()[0](
            in_params,
            out_params,
            operation,
            name=name,
            reduce_dims=reduce_dims,
            preamble=preamble,
            no_return=no_return,
            return_tuple=return_tuple,
            loop_prep=loop_prep,
            after_loop=after_loop,
            options=options,
        )

    def __call__(self, *args: Any, size=None, block_size=None, stream=None) -> Any:
        seen: list[ndarray] = []
        host_args = _kernel_args(args, seen)
        kwargs = {} if size is None else {"size": size}
        result = self._host_kernel(*host_args, **kwargs)
        _launched(self)
        return None if self.no_return else _wrap(result, seen)


class ReductionKernel:
    """CuPy's ``ReductionKernel``, run by the host kernel."""

    def __init__(
        self,
        in_params,
        out_params,
        map_expr,
        reduce_expr,
        post_map_expr,
        identity,
        name="reduce_kernel",
        reduce_type=None,
        reduce_dims=True,
        preamble="",
        options=(),
    ) -> None:
        self.in_params, self.out_params, self.name = in_params, out_params, name
        self._host_kernel = _host_kernel_classes()[1](
            in_params,
            out_params,
            map_expr,
            reduce_expr,
            post_map_expr,
            identity,
            name=name,
            reduce_type=reduce_type,
            reduce_dims=reduce_dims,
            preamble=preamble,
            options=options,
        )

    def __call__(self, *args: Any, out=None, axis=None, keepdims=False, stream=None) -> Any:
        seen: list[ndarray] = []
        result = self._host_kernel(*_kernel_args(args, seen), axis=axis, keepdims=keepdims)
        _launched(self)
        if out is None:
            return _wrap(np.asarray(result), seen)
        _device_only(out)._host[...] = result
        return out


class RawKernel:
    """CuPy's ``RawKernel``: ``kernel(grid, block, args)`` writes into device arrays."""

    def __init__(self, code, name, options=(), backend="nvrtc", translate_cucomplex=False,
                 enable_cooperative_groups=False, jitify=False) -> None:  # fmt: skip
        self.code, self.name, self.options, self.backend = code, name, options, backend
        self._host_kernel = _host_kernel_classes()[2](code, name, options=options, backend=backend)

    max_threads_per_block = property(lambda self: _PROPERTIES["maxThreadsPerBlock"])

    def compile(self, log_stream: Any = None) -> None:
        pass

    def __call__(self, grid, block, args, *, shared_mem=0) -> None:
        if not isinstance(args, tuple):
            raise TypeError("args must be a tuple")
        self._host_kernel(grid, block, tuple(_kernel_args(args, [])))
        _launched(self)
