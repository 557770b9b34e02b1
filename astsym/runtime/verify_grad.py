"""``verify_grad``: check a symbolic gradient against central finite differences.

>>> import numpy as np
>>> import astsym.tensor as T
>>> verify_grad(lambda x: T.tanh(x) * x, [np.linspace(-1, 1, 5)])   # passes silently
"""

from __future__ import annotations

import numpy as np

from astsym.graph.convert import constant
from astsym.graph.grad import grad
from astsym.graph.type import TensorType

from .function import function

#: Per dtype: (finite-difference step, absolute tolerance, relative tolerance).
DEFAULTS = {
    "float64": (1e-6, 1e-4, 1e-4),
    "float32": (3e-3, 1e-2, 1e-2),
    "float16": (1e-1, 5e-2, 5e-2),
}


class GradientError(AssertionError):
    """The symbolic gradient and the finite differences disagree."""

    def __init__(
        self,
        arg: int,
        position: tuple,
        analytic: float,
        numeric: float,
        abs_err: float,
        rel_err: float,
        abs_tol: float,
        rel_tol: float,
    ) -> None:
        self.arg, self.position = arg, position
        self.analytic, self.numeric = analytic, numeric
        self.abs_err, self.rel_err = abs_err, rel_err
        super().__init__(
            f"gradient of input {arg} at {position}: symbolic {analytic!r}, finite differences "
            f"{numeric!r} (abs error {abs_err:.3g} > {abs_tol:.3g}, rel error {rel_err:.3g} > "
            f"{rel_tol:.3g})"
        )


def verify_grad(
    fun,
    pt,
    n_tests: int = 2,
    rng=None,
    eps=None,
    out_type=None,
    abs_tol=None,
    rel_tol=None,
    mode=None,
    cast_to_output_type=False,
    no_debug_ref=True,
) -> None:
    """Raise ``GradientError`` unless the gradient of ``fun`` at the point ``pt`` (a list of
    arrays, one per symbolic input ``fun`` takes) matches central finite differences.

    ``fun``'s output is projected on a random tensor to make a scalar cost; this is done
    ``n_tests`` times with different projections.
    """
    rng = np.random.default_rng(rng) if not isinstance(rng, np.random.RandomState) else rng
    point = [np.array(p, dtype=_float_dtype(p)) for p in pt]
    inputs = [  # size-1 dims broadcastable, as for a constant of the value (Theano does so)
        TensorType(p.dtype, shape=tuple(1 if d == 1 else None for d in p.shape))(f"input_{i}")
        for i, p in enumerate(point)
    ]
    output = fun(*inputs)
    value = function(inputs, output, mode=mode, on_unused_input="ignore")(*point)
    step, a_tol, r_tol = DEFAULTS[_worst_dtype(point + [np.asarray(value)])]
    step = step if eps is None else eps
    a_tol = a_tol if abs_tol is None else abs_tol
    r_tol = r_tol if rel_tol is None else rel_tol
    for _ in range(n_tests):
        projection = np.asarray(rng.random(np.shape(value)) + 0.5, dtype=np.asarray(value).dtype)
        cost = (output * constant(projection)).sum()
        grads = grad(cost, inputs, disconnected_inputs="ignore")
        analytic = function(inputs, grads, mode=mode, on_unused_input="ignore")(*point)
        cost_fn = function(inputs, cost, mode=mode, on_unused_input="ignore")
        for arg, exact in enumerate(analytic):
            numeric = _central_differences(cost_fn, point, arg, step)
            _compare(arg, np.asarray(exact, dtype=np.float64), numeric, a_tol, r_tol)


def _float_dtype(value) -> str:
    dtype = np.asarray(value).dtype
    return dtype.name if dtype.kind == "f" else "float64"


def _worst_dtype(values) -> str:
    names = {np.asarray(v).dtype.name for v in values}
    for name in ("float16", "float32"):
        if name in names:
            return name
    return "float64"


def _central_differences(cost_fn, point, arg: int, step: float) -> np.ndarray:
    out = np.zeros(point[arg].shape)
    for index in np.ndindex(*point[arg].shape):
        shifted = [p.copy() for p in point]
        original = point[arg][index]
        shifted[arg][index] = original + step
        up = float(cost_fn(*shifted))
        shifted[arg][index] = original - step
        down = float(cost_fn(*shifted))
        out[index] = (up - down) / (2 * step)
    return out


def _compare(arg, exact, numeric, abs_tol, rel_tol) -> None:
    abs_err = np.abs(exact - numeric)
    rel_err = abs_err / np.maximum(np.abs(exact) + np.abs(numeric), 1e-300)
    score = np.minimum(abs_err / abs_tol, rel_err / rel_tol)
    if score.size and np.nanmax(np.where(np.isnan(score), np.inf, score)) > 1:
        worst = np.unravel_index(np.argmax(np.where(np.isnan(score), np.inf, score)), score.shape)
        raise GradientError(
            arg,
            tuple(int(i) for i in worst),
            float(exact[worst]),
            float(numeric[worst]),
            float(abs_err[worst]),
            float(rel_err[worst]),
            abs_tol,
            rel_tol,
        )
