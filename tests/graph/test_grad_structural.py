"""Gradients of the structural ops against central finite differences (float64).

Each test differentiates ``sum(op(inputs) * W)`` for a fixed random ``W`` and compares every
input's gradient (and its type) with central differences of the compiled forward graph.
"""

import numpy as np
import pytest
from _structural_helpers import (
    advanced_cases,
    away_from_zero,
    basic_cases,
    distinct,
    normal,
    seeds,
    shapes,
    verify_grad,
)
from hypothesis import given
from hypothesis import strategies as st

import astsym
import astsym.tensor as T
from astsym.graph.basic import Apply
from astsym.graph.op import Op

static_modes = pytest.mark.parametrize("static", [False, True], ids=["dynamic", "static"])
sizes = st.integers(1, 3)


class _TripleWithWrongGrad(Op):
    """3 * x, whose gradient claims 2: verify_grad must catch it."""

    def make_node(self, x):
        return Apply(self, [x], [x.type])

    def perform(self, node, inputs):
        return [inputs[0] * 3]

    def grad(self, node, output_grads):
        return [output_grads[0] * 2]


def test_verify_grad_catches_a_wrong_gradient():
    x = normal((2, 3), 0)
    with pytest.raises(AssertionError):
        verify_grad(_TripleWithWrongGrad(), [x])
    verify_grad(lambda v: v * 3, [x])


# -- reshape, flatten, dimshuffle ----------------------------------------------------------


@static_modes
@given(shapes(1, 3, 1, 3), st.data(), seeds())
def test_reshape_grad(static, shape, data, seed):
    x = normal(shape, seed)
    new = list(data.draw(st.permutations(shape)))
    new[data.draw(st.integers(0, len(new) - 1))] = -1
    verify_grad(lambda v: v.reshape(tuple(new)), [x], static=static)
    verify_grad(lambda v: v.reshape((v.shape[0], -1)), [x], static=static)


@static_modes
@given(shapes(1, 3, 1, 3), st.data(), seeds())
def test_flatten_grad(static, shape, data, seed):
    ndim = data.draw(st.integers(1, len(shape)))
    verify_grad(lambda v: v.flatten(ndim), [normal(shape, seed)], static=static)


@static_modes
@given(shapes(0, 3, 1, 3), st.data(), seeds())
def test_dimshuffle_and_transpose_grad(static, shape, data, seed):
    droppable = [i for i, d in enumerate(shape) if d == 1]
    dropped = (
        set(data.draw(st.lists(st.sampled_from(droppable), unique=True))) if droppable else set()
    )
    order = list(data.draw(st.permutations([i for i in range(len(shape)) if i not in dropped])))
    for _ in range(data.draw(st.integers(0, 2))):
        order.insert(data.draw(st.integers(0, len(order))), "x")
    x = normal(shape, seed)
    verify_grad(lambda v: v.dimshuffle(*order), [x], static=static)
    perm = data.draw(st.permutations(range(len(shape))))
    verify_grad(lambda v: v.transpose(*perm) if perm else v.T, [x], static=static)


# -- joins, repeat, tile, alloc -------------------------------------------------------------


@static_modes
@given(shapes(1, 3, 1, 3), st.lists(sizes, min_size=1, max_size=3), st.data(), seeds())
def test_concatenate_grad(static, shape, widths, data, seed):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    arrays = []
    for i, w in enumerate(widths):
        s = list(shape)
        s[axis] = w
        arrays.append(normal(tuple(s), seed + i))
    verify_grad(lambda *vs: T.concatenate(vs, axis=axis), arrays, static=static)


@static_modes
@given(shapes(0, 2, 1, 3), st.integers(1, 3), st.data(), seeds())
def test_stack_grad(static, shape, count, data, seed):
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    arrays = [normal(shape, seed + i) for i in range(count)]
    verify_grad(lambda *vs: T.stack(vs, axis=axis), arrays, static=static)


@static_modes
@given(shapes(0, 3, 1, 3), st.integers(0, 3), st.data(), seeds())
def test_repeat_grad(static, shape, count, data, seed):
    axis = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1)) if shape else None
    verify_grad(lambda v: T.repeat(v, count, axis=axis), [normal(shape, seed)], static=static)


@static_modes
@given(shapes(0, 3, 1, 3), st.lists(sizes, min_size=1, max_size=4), seeds())
def test_tile_grad(static, shape, reps, seed):
    verify_grad(lambda v: T.tile(v, tuple(reps)), [normal(shape, seed)], static=static)


@static_modes
@given(shapes(0, 2, 1, 3), shapes(0, 2, 1, 3), seeds())
def test_alloc_grad(static, value_shape, lead, seed):
    target = tuple(lead) + tuple(d if d != 1 else 2 for d in value_shape)
    verify_grad(lambda v: T.alloc(v, *target), [normal(value_shape, seed)], static=static)


# -- indexing -------------------------------------------------------------------------------


@static_modes
@given(basic_cases(), seeds())
def test_basic_subtensor_grad(static, case, seed):
    shape, index = case
    verify_grad(lambda v: v[index], [normal(shape, seed)], static=static)


@static_modes
@given(advanced_cases(), seeds())
def test_advanced_subtensor_grad(static, case, seed):
    """Repeated indices send their gradients to the same element, summed."""
    shape, index = case
    verify_grad(lambda v: v[index], [normal(shape, seed)], static=static)


@static_modes
@given(basic_cases(), seeds())
def test_set_and_inc_subtensor_basic_grad(static, case, seed):
    shape, index = case
    x = normal(shape, seed)
    y = normal(x[index].shape, seed + 1)
    verify_grad(lambda v, w: T.set_subtensor(v[index], w), [x, y], static=static)
    verify_grad(lambda v, w: T.inc_subtensor(v[index], w), [x, y], static=static)
    trailing = normal(x[index].shape[-1:], seed + 2)  # broadcast into the part
    verify_grad(lambda v, w: T.set_subtensor(v[index], w), [x, trailing], static=static)
    verify_grad(lambda v, w: T.inc_subtensor(v[index], w), [x, trailing], static=static)


@static_modes
@given(shapes(1, 3, 2, 4), st.data(), seeds())
def test_set_and_inc_subtensor_advanced_grad(static, shape, data, seed):
    rng = np.random.default_rng(seed)
    unique = rng.permutation(shape[0])[: data.draw(st.integers(1, shape[0]))]
    repeated = rng.integers(-shape[0], shape[0], size=data.draw(st.integers(1, 5)))
    x = normal(shape, seed)
    # a set with repeated indices keeps one value per element: its y-gradient is not smooth
    y = normal(x[unique].shape, seed + 1)
    verify_grad(lambda v, w: T.set_subtensor(v[unique], w), [x, y], static=static)
    y = normal(x[repeated].shape, seed + 2)
    verify_grad(lambda v, w: T.inc_subtensor(v[repeated], w), [x, y], static=static)
    if len(shape) > 1:
        cols = rng.integers(0, shape[1], size=len(repeated))
        y = normal((len(repeated),) + shape[2:], seed + 3)
        verify_grad(lambda v, w: T.inc_subtensor(v[repeated, cols], w), [x, y], static=static)


# -- products -------------------------------------------------------------------------------


@pytest.mark.parametrize("ra", range(4))
@pytest.mark.parametrize("rb", range(4))
@static_modes
def test_dot_grad_every_rank_combination(static, ra, rb):
    a = normal([(), (3,), (2, 3), (2, 2, 3)][ra], ra)
    b = normal([(), (3,), (3, 2), (2, 3, 2)][rb], 10 + rb)
    verify_grad(T.dot, [a, b], static=static)
    if ra and rb:
        verify_grad(T.matmul, [a, b], static=static)


@st.composite
def matmul_shapes(draw):
    n, k, m = draw(sizes), draw(sizes), draw(sizes)
    batch = [draw(sizes) for _ in range(draw(st.integers(0, 2)))]

    def operand(core):
        if len(core) == 1:
            return core
        lead = batch[len(batch) - draw(st.integers(0, len(batch))) :]
        return tuple(1 if draw(st.booleans()) else d for d in lead) + tuple(core)

    a = operand((k,)) if draw(st.booleans()) else operand((n, k))
    b = operand((k,)) if draw(st.booleans()) else operand((k, m))
    return a, b


@static_modes
@given(matmul_shapes(), seeds())
def test_matmul_grad_with_broadcast_batches(static, case, seed):
    a, b = normal(case[0], seed), normal(case[1], seed + 1)
    verify_grad(lambda u, v: u @ v, [a, b], static=static)


@pytest.mark.parametrize(
    ("sa", "sb", "axes"),
    [
        ((2, 3, 2), (3, 2, 2), 2),
        ((2, 3), (3, 2), 1),
        ((2, 3), (2,), 0),
        ((2, 3, 2), (2, 2, 3), [[1, 0], [2, 1]]),
        ((2, 3, 2), (2, 3), [[-1, 1], [0, 1]]),
        ((3, 2, 2), (2, 3), [[2, 0], [0, 1]]),
    ],
)
@static_modes
def test_tensordot_grad(static, sa, sb, axes):
    verify_grad(lambda u, v: T.tensordot(u, v, axes), [normal(sa, 0), normal(sb, 1)], static=static)


@static_modes
@given(shapes(0, 2, 1, 3), shapes(0, 2, 1, 3), seeds())
def test_outer_grad(static, sa, sb, seed):
    verify_grad(T.outer, [normal(sa, seed), normal(sb, seed + 1)], static=static)


@pytest.mark.parametrize(
    ("sa", "sb"),
    [((2, 3, 2), (2, 2, 3)), ((2, 3, 2), (2, 2)), ((2, 3), (2, 3, 2)), ((2, 3), (2, 3))],
)
@static_modes
def test_batched_dot_grad(static, sa, sb):
    verify_grad(T.batched_dot, [normal(sa, 0), normal(sb, 1)], static=static)


# -- scans, sort, nnet ----------------------------------------------------------------------


@static_modes
@given(shapes(1, 3, 1, 3), st.data(), seeds())
def test_cumsum_cumprod_grad(static, shape, data, seed):
    axis = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1))
    verify_grad(lambda v: T.cumsum(v, axis), [normal(shape, seed)], static=static)
    verify_grad(lambda v: T.cumprod(v, axis), [away_from_zero(shape, seed)], static=static)


@static_modes
@given(shapes(1, 3, 1, 3), st.data(), seeds())
def test_sort_grad(static, shape, data, seed):
    axis = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1))
    verify_grad(lambda v: T.sort(v, axis), [distinct(shape, seed)], static=static)


@static_modes
@given(shapes(1, 3, 1, 4), st.data(), seeds())
def test_softmax_and_logsumexp_grad(static, shape, data, seed):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = normal(shape, seed, scale=2.0)
    verify_grad(lambda v: T.nnet.softmax(v, axis=axis), [x], static=static)
    verify_grad(lambda v: T.nnet.log_softmax(v, axis=axis), [x], static=static)
    lse_axis = data.draw(st.none() | st.just(axis))
    verify_grad(lambda v: T.logsumexp(v, axis=lse_axis), [x], static=static)


@static_modes
@given(st.integers(1, 4), st.integers(2, 4), seeds())
def test_categorical_crossentropy_grad(static, rows, classes, seed):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(rows, classes))
    labels = rng.integers(0, classes, rows)
    soft = rng.dirichlet(np.ones(classes), rows)
    cce = T.nnet.categorical_crossentropy
    verify_grad(lambda z, t: cce(T.nnet.softmax(z), t), [logits, soft], static=static)
    verify_grad(lambda z, t: cce(T.nnet.softmax(z), t), [logits, labels], static=static)


def test_grad_of_a_sum_through_reshape_has_the_inputs_type():
    x = T.dtensor3("x")
    g = astsym.grad(x.reshape((x.shape[0], -1)).sum(), x)
    assert g.type == x.type
    f = astsym.function([x], g, mode="py")
    np.testing.assert_array_equal(f(np.zeros((2, 3, 4))), np.ones((2, 3, 4)))
