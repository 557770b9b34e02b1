"""``Mode``: which optimizer and which backend (linker) a function is compiled with.

    >>> Mode(linker="vm", optimizer="fast_run")
    Mode(linker='py', optimizer='fast_run')

Theano's linker names (``vm``, ``cvm``, ``c``, ``c|py``, ``py``) are accepted. Until the
compiled backends exist every mode runs on the ``py`` backend, which executes each op's
NumPy reference in order; the optimizer choice decides which rewrites run first.
"""

from __future__ import annotations

from dataclasses import dataclass

from astsym.config import config

LINKERS = {
    "py": "py",
    "vm": "py",
    "cvm": "py",
    "c": "py",
    "c|py": "py",
    "vm_nogc": "py",
    "cvm_nogc": "py",
    "c|py_nogc": "py",
    "numba": "cpu",
    "cpu": "cpu",
}
OPTIMIZERS = ("fast_run", "fast_compile", "merge", "None", None)


@dataclass(frozen=True)
class Mode:
    linker: str = "py"
    optimizer: str | None = "fast_run"

    def __init__(self, linker: str | None = None, optimizer: str | None = "fast_run") -> None:
        linker = "py" if linker is None else linker
        if linker not in LINKERS:
            raise ValueError(f"unknown linker {linker!r}; use one of {', '.join(LINKERS)}")
        if optimizer not in OPTIMIZERS:
            raise ValueError(
                f"unknown optimizer {optimizer!r}; use one of fast_run, fast_compile, merge, None"
            )
        object.__setattr__(self, "linker", LINKERS[linker])
        object.__setattr__(self, "optimizer", None if optimizer == "None" else optimizer)

    def including(self, *tags: str) -> Mode:
        return self

    def excluding(self, *tags: str) -> Mode:
        return self


NAMED = {
    "FAST_RUN": Mode("py", "fast_run"),
    "FAST_COMPILE": Mode("py", "fast_compile"),
    "DebugMode": Mode("py", "fast_run"),
    "DEBUG_MODE": Mode("py", "fast_run"),
    "py": Mode("py", "fast_run"),
    "cpu": Mode("cpu", "fast_run"),
    "CPU": Mode("cpu", "fast_run"),
}


def get_mode(mode) -> Mode:
    """A Mode from a Mode, a name (``'FAST_RUN'``, ``'FAST_COMPILE'``, ``'py'``) or None."""
    if mode is None:
        mode = config.mode
    if isinstance(mode, Mode):
        return mode
    if isinstance(mode, str) and mode in NAMED:
        return NAMED[mode]
    if mode == "gpu" or mode == "GPU":
        raise ValueError("the gpu backend is not available yet; use mode='FAST_RUN'")
    raise ValueError(f"unknown mode {mode!r}; use a Mode or one of {', '.join(NAMED)}")


#: Every backend, by its ``mode=`` name, in the order tests should use them.
BACKENDS = ("py", "cpu", "gpu")

#: Why a backend cannot run here, by name; a backend that can run is absent.
_MISSING = {
    "gpu": "the gpu (CuPy) backend is not built yet",
}


def backend_status(name: str) -> str | None:
    """None when backend ``name`` ('py', 'cpu', 'gpu') can run here, else why not."""
    if name in ("py", "cpu"):
        return None
    if name not in _MISSING:
        raise ValueError(f"unknown backend {name!r}; use 'py', 'cpu' or 'gpu'")
    return _MISSING[name]


def available_backends() -> list[str]:
    """The backends that can run on this machine, in the order tests should use them."""
    return [name for name in BACKENDS if backend_status(name) is None]
