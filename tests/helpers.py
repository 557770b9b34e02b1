"""Shared helpers of the differential tests: backends, hypothesis strategies, dtype-aware
comparison, compile-and-run, and a finite-difference gradient checker.

    >>> import astsym.tensor as T
    >>> x = T.dvector("x")
    >>> compile_and_run([x], x * 2, [np.array([1.0, 2.0])], "py")
    array([2., 4.])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import astsym
from astsym.graph.convert import constant
from astsym.graph.type import TensorType, is_device_array
from astsym.runtime.mode import backend_status
from astsym.typecheck.dtypes import ALL

# -- backends ------------------------------------------------------------------------------

#: Every backend the test suite knows, by its ``mode=`` name. A new backend joins the whole
#: differential suite by being added here.
BACKENDS = ["py", "cpu", "gpu"]


def available_backends() -> list[str]:
    """The names in ``BACKENDS`` that this machine can run (``gpu``: CuPy and a device, or
    the host stand-in of ``tests/gpu_host`` with ``ASTSYM_TEST_GPU=host``)."""
    return [name for name in BACKENDS if backend_status(name) is None]


def backend_params() -> list:
    """``pytest.param`` per available backend, GPU ones carrying the ``gpu`` marker."""
    return [
        pytest.param(name, marks=[pytest.mark.gpu] if name == "gpu" else [], id=name)
        for name in available_backends()
    ]


# -- dtypes and tolerances ---------------------------------------------------------------------

DTYPES = ALL
KINDS = {d: np.dtype(d).kind for d in ALL}

#: (rtol, atol) per dtype for values computed in that dtype; integers and bools compare exactly.
TOLERANCES = {
    "float16": (5e-3, 1e-3),
    "float32": (1e-5, 1e-6),
    "float64": (1e-10, 1e-12),
    "complex64": (1e-5, 1e-6),
    "complex128": (1e-10, 1e-12),
}


def tolerance(dtype) -> tuple[float, float]:
    return TOLERANCES.get(np.dtype(dtype).name, (0.0, 0.0))


def assert_allclose_dtype(actual, expected, rtol=None, atol=None, err_msg: str = "") -> None:
    """``actual`` has exactly ``expected``'s dtype and shape, and its values: equal for bool and
    integer dtypes, close within the dtype's tolerance for floats (NaN equals NaN)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    prefix = f"{err_msg}: " if err_msg else ""
    assert actual.dtype == expected.dtype, (
        f"{prefix}dtype {actual.dtype}, expected {expected.dtype}"
    )
    assert actual.shape == expected.shape, (
        f"{prefix}shape {actual.shape}, expected {expected.shape}"
    )
    if actual.dtype.kind in "biu":
        np.testing.assert_array_equal(actual, expected, err_msg=err_msg)
        return
    default_rtol, default_atol = tolerance(actual.dtype)
    np.testing.assert_allclose(
        actual,
        expected,
        rtol=default_rtol if rtol is None else rtol,
        atol=default_atol if atol is None else atol,
        equal_nan=True,
        err_msg=err_msg,
    )


# -- building and running graphs -------------------------------------------------------------


def variable_for(value: np.ndarray, name: str | None = None, broadcastable=None):
    """A variable of ``value``'s dtype and rank; by default a dim is broadcastable exactly
    where ``value`` has size 1."""
    value = np.asarray(value)
    if broadcastable is None:
        broadcastable = tuple(d == 1 for d in value.shape)
    return TensorType(value.dtype.name, shape=tuple(1 if b else None for b in broadcastable))(name)


def compile_and_run(inputs: Sequence, output, values: Sequence, backend: str = "py"):
    """Compile ``output`` (a variable or a list) of ``inputs`` on ``backend`` and call it."""
    fn = astsym.function(list(inputs), output, mode=backend, on_unused_input="ignore")
    result = fn(*values)
    outs = result if isinstance(result, list) else [result]
    if backend == "gpu" and astsym.config.gpu_outputs == "cupy":  # outputs stay on the device
        for out in outs:
            assert is_device_array(out), f"the gpu backend returned {type(out).__name__}"
        outs = [out.get() for out in outs]
    for out in outs:
        assert isinstance(out, np.ndarray), f"a compiled function returned {type(out).__name__}"
    return outs if isinstance(result, list) else outs[0]


# -- hypothesis strategies ---------------------------------------------------------------------


def dtypes(kinds: str = "biufc") -> st.SearchStrategy[str]:
    """Dtype names whose NumPy kind is in ``kinds`` (b bool, i, u, f, c)."""
    return st.sampled_from([d for d in DTYPES if KINDS[d] in kinds])


def shapes(min_dims: int = 0, max_dims: int = 3, max_side: int = 4) -> st.SearchStrategy:
    """Array shapes, scalars and size-0 dims included."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=0, max_side=max_side)


def broadcast_shapes(n: int, max_dims: int = 3, max_side: int = 4) -> st.SearchStrategy:
    """``(input_shapes, result_shape)`` of ``n`` NumPy-broadcast-compatible shapes."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=n, min_dims=0, max_dims=max_dims, min_side=0, max_side=max_side
    ).map(lambda r: (r.input_shapes, r.result_shape))


@st.composite
def broadcast_patterns(draw, shape: tuple, result_shape: tuple) -> tuple[bool, ...]:
    """A broadcastable pattern for an operand of ``shape``: a size-1 dim that has to stretch is
    broadcastable; one that does not may be typed either way."""
    offset = len(result_shape) - len(shape)
    pattern = []
    for axis, dim in enumerate(shape):
        must = dim == 1 and result_shape[offset + axis] != 1
        pattern.append(must or (dim == 1 and draw(st.booleans())))
    return tuple(pattern)


@dataclass(frozen=True)
class Domain:
    """The values an operand is drawn from: ``[lo, hi]`` (within the dtype's range), not
    close to zero when ``nonzero``, with NaN and infinities when ``special``."""

    lo: float = -50.0
    hi: float = 50.0
    nonzero: bool = False
    special: bool = False

    def elements(self, dtype: str) -> st.SearchStrategy | None:
        """Scalars of ``dtype`` in this domain, or None when there are none."""
        kind = KINDS[dtype]
        if kind == "b":
            allowed = [
                v for v in (False, True) if self.lo <= v <= self.hi and (v or not self.nonzero)
            ]
            return st.sampled_from(allowed) if allowed else None
        if kind in "iu":
            info = np.iinfo(dtype)
            lo, hi = max(math.ceil(self.lo), int(info.min)), min(math.floor(self.hi), int(info.max))
            if lo > hi or (self.nonzero and lo == hi == 0):
                return None
            ints = st.integers(lo, hi)
            return ints.filter(bool) if self.nonzero else ints
        width = np.dtype(dtype).itemsize * 8 // (2 if kind == "c" else 1)
        reals = self._floats(width)
        if kind == "f":
            return reals
        return st.builds(complex, reals, self._floats(width, imag=True))

    def _floats(self, width: int, imag: bool = False) -> st.SearchStrategy:
        ftype = {16: np.float16, 32: np.float32, 64: np.float64}[width]
        lo, hi = _inward(ftype, self.lo, 1), _inward(ftype, self.hi, -1)
        values = st.floats(lo, hi, width=width, allow_nan=False, allow_infinity=False)
        if self.nonzero and not imag:
            values = values.filter(lambda v: abs(v) >= 0.25)
        if self.special:
            values = st.one_of(values, st.sampled_from([math.nan, math.inf, -math.inf]))
        return values


def _inward(ftype, bound: float, direction: int) -> float:
    """``bound`` rounded to ``ftype``, stepping towards the inside of the interval if needed."""
    value = ftype(bound)
    if (direction > 0 and value < bound) or (direction < 0 and value > bound):
        value = np.nextafter(value, ftype(direction * np.inf))
    return float(value)


def arrays(dtype: str, shape: tuple, domain: Domain = Domain()) -> st.SearchStrategy:
    """Arrays of ``dtype`` and ``shape`` with elements in ``domain``."""
    elements = domain.elements(dtype)
    if elements is None:
        raise ValueError(f"{domain} holds no value of {dtype}")
    return hnp.arrays(np.dtype(dtype), shape, elements=elements)


# -- gradients ----------------------------------------------------------------------------------


def numeric_grad(cost: Callable[..., float], values: Sequence[np.ndarray], which, eps: float):
    """Central differences of the scalar ``cost(*values)`` with respect to ``values[i]`` for
    each ``i`` in ``which``, in float64."""
    grads = []
    for i in which:
        x = np.array(values[i], dtype=np.float64)
        g = np.zeros_like(x)
        for index in np.ndindex(x.shape):
            up, down = x.copy(), x.copy()
            up[index] += eps
            down[index] -= eps
            args_up = [up if j == i else v for j, v in enumerate(values)]
            args_down = [down if j == i else v for j, v in enumerate(values)]
            g[index] = (cost(*args_up) - cost(*args_down)) / (2 * eps)
        grads.append(g)
    return grads


def check_grad(
    fn_of_vars: Callable,
    values: Sequence,
    eps: float = 1e-6,
    tol: float = 1e-6,
    seed: int = 0,
    backend: str = "py",
    broadcastable: Sequence | None = None,
) -> None:
    """``astsym.grad`` of ``sum(fn_of_vars(*vars) * w)`` (``w`` random weights) agrees with
    central differences, for every float64 operand; other operands are held fixed.

    Each operand is typed broadcastable where its value has size 1, unless ``broadcastable``
    gives the patterns. Every gradient must have its variable's dtype and broadcastable dims.
    """
    values = [np.asarray(v) for v in values]
    patterns = broadcastable or [None] * len(values)
    variables = [variable_for(v, f"x{i}", p) for i, (v, p) in enumerate(zip(values, patterns))]
    out = fn_of_vars(*variables)
    forward = astsym.function(
        variables, out, mode=backend, on_unused_input="ignore", return_numpy=True
    )
    out_value = forward(*values)
    assert out_value.dtype == np.float64, (
        f"check_grad needs a float64 output, got {out_value.dtype}"
    )
    rng = np.random.default_rng(seed)
    weights = rng.uniform(0.5, 1.5, np.shape(out_value)) * rng.choice(
        [-1.0, 1.0], np.shape(out_value)
    )
    which = [i for i, v in enumerate(values) if v.dtype == np.float64]
    assert which, "check_grad needs at least one float64 operand"
    cost = (out * constant(weights)).sum()
    wrt = [variables[i] for i in which]
    symbolic = astsym.grad(cost, wrt)
    for var, g in zip(wrt, symbolic):  # the weights' static shape may make g's more specific
        same = g.broadcastable == var.broadcastable and var.type.accepts(g.type)
        assert same, f"gradient of {var} has type {g.type}, expected {var.type}"
    got = compile_and_run(variables, symbolic, values, backend)

    def cost_value(*args):
        return float(np.sum(forward(*args) * weights))

    expected = numeric_grad(cost_value, values, which, eps)
    for i, g, e in zip(which, got, expected):
        np.testing.assert_allclose(g, e, rtol=tol, atol=tol, err_msg=f"gradient of operand {i}")
