"""``cupy.cuda`` on the host: one device, streams and events that are always done, and a
memory pool that counts the bytes of live device arrays.

    >>> from gpu_host._cuda import cuda
    >>> cuda.runtime.getDeviceCount(), cuda.runtime.getDeviceProperties(0)["name"]
    (1, b'host emulation')
"""

from __future__ import annotations

import time
import types
import weakref
from typing import Any

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

    def _track(self, array: Any) -> None:
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
    runtime = types.ModuleType("cupy_on_host.cuda.runtime")
    runtime.CUDARuntimeError = CUDARuntimeError
    runtime.getDeviceCount = lambda: 1
    runtime.getDevice = lambda: 0
    runtime.setDevice = _check_device
    runtime.getDeviceProperties = _device_properties
    runtime.deviceSynchronize = lambda: None
    runtime.memGetInfo = _mem_info
    runtime.runtimeGetVersion = runtime.driverGetVersion = lambda: 12040
    memory = types.ModuleType("cupy_on_host.cuda.memory")
    memory.OutOfMemoryError, memory.MemoryPool = OutOfMemoryError, MemoryPool
    cuda = types.ModuleType("cupy_on_host.cuda")
    cuda.runtime, cuda.memory, cuda.MemoryPool = runtime, memory, MemoryPool
    cuda.Device, cuda.Stream, cuda.Event = Device, Stream, Event
    cuda.get_elapsed_time = get_elapsed_time
    cuda.get_device_id = lambda: 0
    cuda.get_current_stream = lambda: Stream.null
    cuda.is_available = lambda: True
    return cuda


cuda = _cuda_module()
