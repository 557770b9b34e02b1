"""Which device a function runs on, and the array module (CuPy) of the ``gpu`` backend.

``config.device`` (``ASTSYM_DEVICE`` or ``ASTSYM_FLAGS=device=...``) is ``'cpu'``, ``'gpu'``
or ``'auto'``; ``'auto'`` means the GPU when CuPy is installed and sees a CUDA device, else
the CPU. Asking for the GPU where there is none is an error that says why, never a silent
run on the CPU.

    >>> resolve_device("cpu")
    'cpu'
    >>> resolve_device("tpu")
    Traceback (most recent call last):
    ...
    ValueError: unknown device 'tpu'; use 'cpu', 'gpu' or 'auto'

The array module is imported on first use. Tests without a GPU substitute a stand-in with
``use_array_module(module)`` (a context manager); nothing else should.
"""

from __future__ import annotations

import contextlib
import importlib

DEVICES = ("cpu", "gpu", "auto")

#: the module standing in for CuPy (tests), or None
_OVERRIDE: list = []
#: (module or None, why not) once CuPy was looked for
_FOUND: list = []


class GpuUnavailable(RuntimeError):
    """The ``gpu`` backend was asked for, but this machine cannot run it."""


def _find_cupy():
    if not _FOUND:
        try:
            cupy = importlib.import_module("cupy")
        except ImportError as err:
            _FOUND.append((None, f"CuPy is not installed ({err}); pip install 'astsym[gpu]'"))
        else:
            _FOUND.append(_check_devices(cupy))
    return _FOUND[0]


def _check_devices(cupy) -> tuple:
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as err:  # noqa: BLE001 - CUDA reports a missing driver in many ways
        return None, f"CuPy found no usable CUDA device: {err}"
    if count < 1:
        return None, "CuPy found no CUDA device"
    return cupy, None


def gpu_status() -> str | None:
    """None when the ``gpu`` backend can run here, else why not."""
    if _OVERRIDE:
        return None
    return _find_cupy()[1]


def array_module():
    """CuPy (or the stand-in a test installed); GpuUnavailable when there is none."""
    if _OVERRIDE:
        return _OVERRIDE[-1]
    module, reason = _find_cupy()
    if module is None:
        raise GpuUnavailable(f"the gpu backend cannot run: {reason}")
    return module


@contextlib.contextmanager
def use_array_module(module):
    """Run the ``gpu`` backend on ``module`` (a stand-in for CuPy) inside the block."""
    _OVERRIDE.append(module)
    try:
        yield module
    finally:
        _OVERRIDE.remove(module)


def resolve_device(device: str) -> str:
    """``'cpu'`` or ``'gpu'`` for a device name; ``'auto'`` picks the GPU when it can run."""
    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r}; use 'cpu', 'gpu' or 'auto'")
    if device == "auto":
        return "gpu" if gpu_status() is None else "cpu"
    return device
