"""Gradients of every smooth elementwise op and every reduction on hypothesis-drawn shapes,
with broadcasting operands, against central finite differences in float64."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import check_grad
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import astsym.tensor as T
from astsym.graph.ops import ELEMWISE

#: Ops whose kinks or domains need hand-picked values (covered in test_grad_elemwise.py).
KINKED = {"mod", "power", "maximum", "minimum", "clip", "where", "abs", "true_divide"}
#: Value ranges inside each op's domain; others take [0.3, 1.2].
DOMAIN = {
    "arccosh": (1.3, 2.0),
    "arcsin": (-0.8, 0.8),
    "arccos": (-0.8, 0.8),
    "arctanh": (-0.8, 0.8),
    "arctan2": (0.5, 1.5),
}
SMOOTH = sorted(
    name
    for name, op in ELEMWISE.items()
    if op.no_grad_reason is None and name not in KINKED and not name.startswith("cast")
)


@pytest.mark.parametrize("name", SMOOTH)
@settings(max_examples=8)
@given(data=st.data())
def test_smooth_elementwise_gradients_on_drawn_shapes(name, data):
    op = ELEMWISE[name]
    shapes = data.draw(mutually_broadcastable_shapes(num_shapes=op.nin, max_dims=3, max_side=3))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    lo, hi = DOMAIN.get(name, (0.3, 1.2))
    values = [rng.uniform(lo, hi, shape) for shape in shapes.input_shapes]
    check_grad(lambda *xs: op(*xs), values, tol=1e-5)


@pytest.mark.parametrize("kind", ["sum", "prod", "max", "min", "mean", "var", "std", "logsumexp"])
@settings(max_examples=10)
@given(data=st.data())
def test_reduction_gradients_on_drawn_shapes_and_axes(kind, data):
    ndim = data.draw(st.integers(1, 3))
    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    axis = data.draw(st.sampled_from([None, *range(ndim), tuple(range(ndim))[:2]]))
    keepdims = data.draw(st.booleans())
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    # distinct values: no ties for max/min; away from zero for prod
    value = rng.permutation(np.linspace(0.5, 2.0, int(np.prod(shape)))).reshape(shape)
    reduced = range(ndim) if axis is None else [axis] if isinstance(axis, int) else axis
    if kind == "std" and all(shape[a] == 1 for a in reduced):
        return  # a zero standard deviation has no derivative (sqrt at 0)
    fn = getattr(T, kind)
    check_grad(lambda x: fn(x, axis=axis, keepdims=keepdims), [value], tol=1e-5)


@settings(max_examples=20)
@given(data=st.data())
def test_one_variable_used_several_times_with_broadcasting(data):
    shapes = data.draw(mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
    uses = data.draw(st.integers(1, 4))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    values = [rng.uniform(0.3, 1.2, s) for s in shapes.input_shapes]

    def expression(x, y):
        out = x
        for i in range(uses):
            out = out * T.sin(x + y) + T.exp(x * 0.5) * (i + 1)
        return out

    check_grad(expression, values, tol=1e-5)
