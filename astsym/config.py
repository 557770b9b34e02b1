"""Settings read from the environment, changeable at run time.

``ASTSYM_FLAGS="floatX=float32,device=cpu"`` (like Theano's ``THEANO_FLAGS``) or the single
variables ``ASTSYM_FLOATX``, ``ASTSYM_DEVICE`` and ``ASTSYM_CACHE_DIR`` set the defaults::

    >>> from astsym import config
    >>> config.floatX
    'float64'
    >>> config.floatX = "float32"    # later variables default to float32
    >>> import astsym.tensor as T
    >>> T.vector("v").dtype
    'float32'
    >>> config.floatX = "float64"    # settings are process-wide: put the default back
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from types import SimpleNamespace

_CHOICES = {
    "floatX": ("float64", "float32", "float16"),
    "device": ("cpu", "gpu", "auto"),
    "mode": ("FAST_RUN", "FAST_COMPILE", "py", "cpu", "gpu"),
    "on_opt_error": ("warn", "raise", "ignore"),
    "gpu_outputs": ("cupy", "numpy"),
}
#: Boolean settings: ``True``/``False``, or from ASTSYM_FLAGS ``true``/``false``/``1``/``0``.
_BOOLS = {"optimizer_verbose", "compile_in_background"}
#: Counts: whole numbers >= 1.
_COUNTS = {"compile_after"}
#: Sizes: numbers > 0.
_SIZES = {"cache_max_mb"}
_TRUTH = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


class Config:
    """The process-wide settings; assignment validates the value."""

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        flags = _parse_flags(env.get("ASTSYM_FLAGS", ""))
        default_cache = Path(env.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "astsym"
        object.__setattr__(self, "_values", {})
        self.floatX = flags.get("floatX", env.get("ASTSYM_FLOATX", "float64"))
        self.device = flags.get("device", env.get("ASTSYM_DEVICE", "cpu"))
        self.mode = flags.get("mode", env.get("ASTSYM_MODE", "FAST_RUN"))
        self.on_opt_error = flags.get("on_opt_error", "warn")
        # what a gpu function returns when it is not told (``return_numpy=``): CuPy arrays,
        # left on the device, or NumPy copies (what Theano code run unchanged expects)
        self.gpu_outputs = flags.get("gpu_outputs", "cupy")
        self.cache_dir = flags.get("cache_dir", env.get("ASTSYM_CACHE_DIR", str(default_cache)))
        self.compute_test_value = flags.get("compute_test_value", "off")
        # print which rewrite fired on which user line whenever a function is compiled
        self.optimizer_verbose = flags.get("optimizer_verbose", False)
        # a cpu function is compiled whole (one Numba function) on this call; the calls
        # before it run op by op with fused kernels, so a function called once never waits
        self.compile_after = flags.get("compile_after", 2)
        # a cpu function built with this on never waits for Numba: its first call starts the
        # whole-graph compile in a background thread, and calls run on NumPy until it is ready
        self.compile_in_background = flags.get("compile_in_background", False)
        # the on-disk kernel cache (``astsym cache info``) is trimmed to this many megabytes
        self.cache_max_mb = flags.get("cache_max_mb", 512)
        # Theano's warn.* flags (warnings about old Theano bugs): settable, without effect
        self.warn = SimpleNamespace(subtensor_merge_bug=False)
        unknown = sorted(set(flags) - set(self._values))
        if unknown:  # a typo such as floatx=float32 must not pass silently
            warnings.warn(f"ASTSYM_FLAGS: unknown setting {', '.join(unknown)}", stacklevel=2)

    def __setattr__(self, name: str, value) -> None:
        if name in _BOOLS:
            value = _as_bool(name, value)
        if name in _COUNTS:
            value = _as_count(name, value)
        if name in _SIZES:
            value = _as_size(name, value)
        choices = _CHOICES.get(name)
        if choices is not None and value not in choices:
            raise ValueError(f"config.{name} must be one of {', '.join(choices)}; got {value!r}")
        self._values[name] = value

    def __getattr__(self, name: str):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"astsym.config has no setting {name!r}") from None

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={v!r}" for k, v in self._values.items())
        return f"Config({items})"


def _as_size(name: str, value) -> float:
    try:
        size = float(value)
    except (TypeError, ValueError):
        size = 0.0
    if not size > 0:
        raise ValueError(f"config.{name} must be a number > 0; got {value!r}")
    return size


def _as_count(name: str, value) -> int:
    try:
        count = int(value)
    except (TypeError, ValueError):
        count = 0
    if count < 1 or (isinstance(value, float) and value != count):
        raise ValueError(f"config.{name} must be a whole number >= 1; got {value!r}")
    return count


def _as_bool(name: str, value) -> bool:
    if isinstance(value, str) and value.strip().lower() in _TRUTH:
        return _TRUTH[value.strip().lower()]
    if isinstance(value, bool):
        return value
    raise ValueError(f"config.{name} must be True or False; got {value!r}")


def _parse_flags(text: str) -> dict[str, str]:
    """``"floatX=float32, device=gpu"`` -> ``{"floatX": "float32", "device": "gpu"}``."""
    flags = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"ASTSYM_FLAGS entry {item!r} is not of the form name=value")
        flags[key.strip()] = value.strip()
    return flags


config = Config()
