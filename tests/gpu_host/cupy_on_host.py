"""A host-memory test double of the ``cupy`` module, strict where CuPy is strict.

Device arrays hold a private NumPy array and refuse every implicit trip to the host, as
CuPy's do; NumPy ufuncs and functions called on them return device arrays (NEP 13/18).
Transfers and kernel launches are counted so tests can assert a step does none
(``TRANSFERS``, ``LAUNCHES``); fresh ``empty`` memory holds garbage
(``gpu_host._device_array.POISON_EMPTY``). The device array lives in ``_device_array``,
``cuda`` and the memory pool in ``_cuda``.

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

import importlib
import sys
import types
from typing import Any

import numpy as np

# re-exported names (``X as X``) are cupy's own
from ._cuda import MemoryPool as MemoryPool
from ._cuda import OutOfMemoryError as OutOfMemoryError
from ._cuda import cuda as cuda
from ._cuda import get_default_memory_pool as get_default_memory_pool
from ._device_array import (
    LAUNCHES,
    _device_function,
    _device_only,
    _DeviceUfunc,
    _from_host,
    _is_scalar,
    _poisoned,
    _unsupported,
    _wrap,
    ndarray,
)
from ._device_array import TRANSFERS as TRANSFERS

#: ``(elementwise_cls, reduction_cls, raw_cls)`` host kernels; ``None`` imports
#: ``tests/kernels/host_cuda.py``'s at the first kernel construction.
HOST_KERNELS: tuple | None = None


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
    return _from_host(np.array(obj, dtype=dtype, order=order, copy=True, ndmin=ndmin))


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

    max_threads_per_block = 1024

    def compile(self, log_stream: Any = None) -> None:
        pass

    def __call__(self, grid, block, args, *, shared_mem=0) -> None:
        if not isinstance(args, tuple):
            raise TypeError("args must be a tuple")
        self._host_kernel(grid, block, tuple(_kernel_args(args, [])))
        _launched(self)
