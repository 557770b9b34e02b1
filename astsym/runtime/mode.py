"""``Mode``: which optimizer and which backend (linker) a function is compiled with.

    >>> Mode(linker="vm", optimizer="fast_run")
    Mode(linker='py', optimizer='fast_run')
    >>> Mode().excluding("fuse")
    Mode(linker='cpu', optimizer='fast_run', exclude=('fuse',))

The default linker, and ``FAST_RUN``'s, is ``cpu`` (also ``numba``): it compiles fused
kernels; with ``config.device`` ``'gpu'`` (or ``'auto'`` on a machine with a GPU) it is
``gpu`` (also ``cuda``), which runs them on an NVIDIA GPU with CuPy. ``Mode(device='gpu')``
and ``mode='GPU'`` ask for the GPU whatever the configuration says. ``py`` runs each op's
NumPy reference in order (the oracle the tests compare against; ``FAST_COMPILE`` and
``DebugMode`` use it). Theano's linker names are accepted:
the compiled ones (``cvm``, ``c``, ``c|py`` and their ``_nogc`` forms) mean ``cpu``, the
Python ones (``vm``, ``py``) mean ``py``. The optimizer names a set of rewrite groups:

- ``fast_run`` (or ``FAST_RUN``): every group in ``GROUP_NAMES``;
- ``fast_compile``: ``merge``, ``canonicalize`` and ``stabilize`` (no shape inference, no
  constant folding, no specialization, no kernels);
- ``merge``: merging duplicated nodes only;
- ``None`` (or ``'None'``): no rewrite at all.

``including(*groups)`` and ``excluding(*groups)`` return a new Mode with groups added or
taken away (the later call wins for a group named in both), as Theano's do. ``fuse`` and
``inplace`` build kernels, so they run only with the ``cpu`` and ``gpu`` linkers.
"""

from __future__ import annotations

from dataclasses import dataclass

from astsym.config import config

from .device import gpu_status, resolve_device

LINKERS = {
    "py": "py",
    "vm": "py",
    "vm_nogc": "py",
    "cvm": "cpu",
    "c": "cpu",
    "c|py": "cpu",
    "cvm_nogc": "cpu",
    "c|py_nogc": "cpu",
    "numba": "cpu",
    "cpu": "cpu",
    "gpu": "gpu",
    "cuda": "gpu",
}
#: the compiled linker of each device
DEVICE_LINKERS = {"cpu": "cpu", "gpu": "gpu"}


def default_linker() -> str:
    """The compiled linker of ``config.device`` (``'auto'``: the GPU when it can run)."""
    return DEVICE_LINKERS[resolve_device(config.device)]


#: The rewrite groups, in the order the pipeline (``runtime/optimize.py``) runs them:
#: ``shape`` computes shapes from the ops' shape rules (canonicalize rules on shape nodes,
#: left out of ``fast_compile`` as Theano's FAST_COMPILE does not infer shapes).
GROUP_NAMES = (
    "merge",
    "canonicalize",
    "stabilize",
    "shape",
    "specialize",
    "fold",
    "fuse",
    "inplace",
)

#: The groups each optimizer runs, by the (lower-case) optimizer name.
OPTIMIZERS: dict[str | None, frozenset[str]] = {
    "fast_run": frozenset(GROUP_NAMES),
    "fast_compile": frozenset({"merge", "canonicalize", "stabilize"}),
    "merge": frozenset({"merge"}),
    None: frozenset(),
}


def _optimizer_name(optimizer) -> str | None:
    name = optimizer.lower() if isinstance(optimizer, str) else optimizer
    name = None if name == "none" else name
    if name not in OPTIMIZERS:
        raise ValueError(
            f"unknown optimizer {optimizer!r}; use one of fast_run, fast_compile, merge, None"
        )
    return name


#: Other spellings of group names: DESIGN.md's and Theano's ``fusion``.
ALIASES = {"fusion": "fuse"}


def _group_names(names, parameter: str) -> tuple[str, ...]:
    """``names`` checked against the known groups, as a sorted tuple."""
    if isinstance(names, str):
        names = (names,)
    names = [ALIASES.get(name, name) for name in names]
    for name in names:
        if name not in GROUP_NAMES:
            raise ValueError(
                f"{parameter}: unknown rewrite group {name!r}; "
                f"known groups: {', '.join(GROUP_NAMES)}"
            )
    return tuple(sorted(set(names)))


@dataclass(frozen=True)
class Mode:
    """A linker and an optimizer, with rewrite groups added (``include``) or taken away
    (``exclude``).

    >>> sorted(Mode(optimizer="FAST_COMPILE").including("fold").groups)
    ['canonicalize', 'fold', 'merge', 'stabilize']
    """

    linker: str = "cpu"
    optimizer: str | None = "fast_run"
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def __init__(
        self,
        linker: str | None = None,
        optimizer: str | None = "fast_run",
        include=(),
        exclude=(),
        device: str | None = None,
    ) -> None:
        if device is not None:
            chosen = DEVICE_LINKERS[resolve_device(device)]
            if linker is not None and LINKERS.get(linker) not in (chosen, None):
                raise ValueError(f"linker {linker!r} does not run on device {device!r}")
            linker = chosen
        linker = default_linker() if linker is None else linker
        if linker not in LINKERS:
            raise ValueError(f"unknown linker {linker!r}; use one of {', '.join(LINKERS)}")
        include, exclude = _group_names(include, "include"), _group_names(exclude, "exclude")
        both = sorted(set(include) & set(exclude))
        if both:
            raise ValueError(f"rewrite group {both[0]!r} is both included and excluded")
        object.__setattr__(self, "linker", LINKERS[linker])
        object.__setattr__(self, "optimizer", _optimizer_name(optimizer))
        object.__setattr__(self, "include", include)
        object.__setattr__(self, "exclude", exclude)

    @property
    def device(self) -> str:
        """``'gpu'`` for the gpu linker, else ``'cpu'`` (``py`` runs on the CPU too)."""
        return "gpu" if self.linker == "gpu" else "cpu"

    @property
    def groups(self) -> frozenset[str]:
        """The rewrite groups this mode runs: the optimizer's, plus included, minus excluded."""
        return (OPTIMIZERS[self.optimizer] | set(self.include)) - set(self.exclude)

    def including(self, *groups: str) -> Mode:
        """This mode with rewrite ``groups`` added, e.g. ``including('fuse')``."""
        names = set(_group_names(groups, "including"))
        return self._with(set(self.include) | names, set(self.exclude) - names)

    def excluding(self, *groups: str) -> Mode:
        """This mode without rewrite ``groups``, e.g. ``excluding('stabilize')``."""
        names = set(_group_names(groups, "excluding"))
        return self._with(set(self.include) - names, set(self.exclude) | names)

    def _with(self, include: set, exclude: set) -> Mode:
        return Mode(self.linker, self.optimizer, tuple(include), tuple(exclude))

    def __repr__(self) -> str:
        text = f"Mode(linker={self.linker!r}, optimizer={self.optimizer!r}"
        for name in ("include", "exclude"):
            if getattr(self, name):
                text += f", {name}={getattr(self, name)!r}"
        return text + ")"


NAMED = {
    "FAST_COMPILE": Mode("py", "fast_compile"),
    "DebugMode": Mode("py", "fast_run"),
    "DEBUG_MODE": Mode("py", "fast_run"),
    "py": Mode("py", "fast_run"),
    "cpu": Mode("cpu", "fast_run"),
    "CPU": Mode("cpu", "fast_run"),
    "gpu": Mode("gpu", "fast_run"),
    "GPU": Mode("gpu", "fast_run"),
    "cuda": Mode("gpu", "fast_run"),
}


def get_mode(mode) -> Mode:
    """A Mode from a Mode, a name (``'FAST_RUN'``, ``'FAST_COMPILE'``, ``'py'``, ``'GPU'``)
    or None (``config.mode``). ``FAST_RUN`` compiles for ``config.device``."""
    if mode is None:
        mode = config.mode
    if isinstance(mode, Mode):
        return mode
    if mode == "FAST_RUN":
        return Mode(default_linker(), "fast_run")
    if isinstance(mode, str) and mode in NAMED:
        return NAMED[mode]
    names = ", ".join(["FAST_RUN", *NAMED])
    raise ValueError(f"unknown mode {mode!r}; use a Mode or one of {names}")


#: Every backend, by its ``mode=`` name, in the order tests should use them.
BACKENDS = ("py", "cpu", "gpu")


def backend_status(name: str) -> str | None:
    """None when backend ``name`` ('py', 'cpu', 'gpu') can run here, else why not."""
    if name in ("py", "cpu"):
        return None
    if name != "gpu":
        raise ValueError(f"unknown backend {name!r}; use 'py', 'cpu' or 'gpu'")
    return gpu_status()


def available_backends() -> list[str]:
    """The backends that can run on this machine, in the order tests should use them."""
    return [name for name in BACKENDS if backend_status(name) is None]
