"""Random streams: Theano's tutorial code, reproducibility, distributions, state handling."""

import copy
import pickle

import numpy as np
import pytest

import astsym as theano
import astsym.tensor as T
from astsym import config, function
from astsym.graph.ops.random import DISTRIBUTIONS, RandomVariable, random_variable
from astsym.graph.shared import shared
from astsym.sandbox.rng_mrg import MRG_RandomStreams
from astsym.tensor.random.utils import RandomStream
from astsym.tensor.shared_randomstreams import RandomStreams
from astsym.typecheck import AstsymError


def _same_state(a, b) -> bool:
    sa, sb = a.get_state(), b.get_state()
    return sa[0] == sb[0] and np.array_equal(sa[1], sb[1]) and sa[2:] == sb[2:]


# -- the tutorial "Using Random Numbers", unchanged ------------------------------------------
def test_tutorial_using_random_numbers():
    srng = RandomStreams(seed=234)
    rv_u = srng.uniform((2, 2))
    rv_n = srng.normal((2, 2))
    f = function([], rv_u)
    g = function([], rv_n, no_default_updates=True)  # Not updating rv_n.rng
    nearly_zeros = function([], rv_u + rv_u - 2 * rv_u)

    f_val0 = f()
    f_val1 = f()  # different numbers from f_val0
    # Seeds are drawn as Theano draws them, so these are the tutorial's printed numbers.
    np.testing.assert_allclose(f_val0, [[0.12672381, 0.97091597], [0.13989098, 0.88754825]])
    np.testing.assert_allclose(f_val1, [[0.31971415, 0.47584377], [0.24129163, 0.42046081]])
    assert f_val0.shape == (2, 2) and not np.allclose(f_val0, f_val1)
    assert ((0 <= f_val0) & (f_val0 < 1)).all()

    g_val0 = g()  # different numbers from f_val0 and f_val1
    g_val1 = g()  # same numbers as g_val0!
    np.testing.assert_array_equal(g_val0, g_val1)
    np.testing.assert_allclose(g_val0, [[0.37328447, -0.65746672], [-0.36302373, -0.97484625]])
    assert not np.allclose(g_val0, f_val0)

    np.testing.assert_array_equal(nearly_zeros(), np.zeros((2, 2)))

    rng_val = rv_u.rng.get_value(borrow=True)  # Get the rng for rv_u
    rng_val.seed(89234)  # seeds the generator
    rv_u.rng.set_value(rng_val, borrow=True)  # Assign back seeded rng
    np.testing.assert_array_equal(f(), np.random.RandomState(89234).uniform(size=(2, 2)))

    srng.seed(902340)  # seeds rv_u and rv_n with different seeds each
    h = function([], rv_n)
    assert not np.allclose(h(), g_val0)

    state_after_v0 = rv_u.rng.get_value().get_state()
    nearly_zeros()  # this affects rv_u's generator
    v1 = f()
    rng = rv_u.rng.get_value(borrow=True)
    rng.set_state(state_after_v0)
    rv_u.rng.set_value(rng, borrow=True)
    v2 = f()  # v2 != v1
    v3 = f()  # v3 == v1
    assert not np.allclose(v1, v2)
    np.testing.assert_array_equal(v3, v1)


class Graph:
    def __init__(self, seed=123, streams=RandomStreams):
        self.rng = streams(seed)
        self.y = self.rng.uniform(size=(1,))


def copy_random_state(g1, g2):
    if isinstance(g1.rng, MRG_RandomStreams):
        g2.rng.rstate = g1.rng.rstate
    for su1, su2 in zip(g1.rng.state_updates, g2.rng.state_updates):
        su2[0].set_value(su1[0].get_value())


@pytest.mark.parametrize("streams", [RandomStreams, MRG_RandomStreams])
def test_tutorial_copying_random_state_between_graphs(streams):
    g1 = Graph(seed=123, streams=streams)
    f1 = theano.function([], g1.y)
    g2 = Graph(seed=987, streams=streams)
    f2 = theano.function([], g2.y)
    assert f1() != f2()  # By default, the two functions are out of sync.
    copy_random_state(g1, g2)
    np.testing.assert_array_equal(f1(), f2())
    np.testing.assert_array_equal(f1(), f2())


# -- reproducibility -------------------------------------------------------------------------
def test_same_seed_same_numbers():
    a, b = RandomStreams(42), RandomStreams(42)
    fa = function([], [a.uniform((3,)), a.normal((2,))])
    fb = function([], [b.uniform((3,)), b.normal((2,))])
    for _ in range(3):
        for x, y in zip(fa(), fb()):
            np.testing.assert_array_equal(x, y)
    c = RandomStreams(43)
    assert not np.allclose(fa()[0], function([], c.uniform((3,)))())


def test_seed_restores_a_fresh_stream():
    srng = RandomStreams(7)
    u, n = srng.uniform((4,)), srng.normal((4,))
    f = function([], [u, n])
    first = f()
    f()
    srng.seed(7)
    for x, y in zip(f(), first):
        np.testing.assert_array_equal(x, y)
    srng.seed(8)
    fresh = RandomStreams(8)
    want = function([], [fresh.uniform((4,)), fresh.normal((4,))])()
    for x, y in zip(f(), want):
        np.testing.assert_array_equal(x, y)


def test_variables_have_rng_and_update():
    srng = RandomStreams(1)
    x = srng.binomial((3,), n=5, p=0.2)
    rng, new_rng = x.update
    assert rng is x.rng and rng.default_update is new_rng
    assert srng.updates() == [(rng, new_rng)]
    assert isinstance(rng.get_value(borrow=True), np.random.RandomState)


def test_explicit_updates_with_no_default_updates():
    srng = RandomStreams(3)
    x = srng.uniform(())
    f = function([], x, updates=srng.updates(), no_default_updates=True)
    assert f() != f()


def test_no_default_updates_lists_generators():
    srng = RandomStreams(12)
    u, n = srng.uniform(()), srng.normal(())
    f = function([], [u, n], no_default_updates=[n.rng])
    (u0, n0), (u1, n1) = f(), f()
    assert u0 != u1 and n0 == n1


def test_eval_draws_each_time():
    x = RandomStreams(5).normal(())
    assert x.eval() != x.eval()


# -- state: atomic updates, purity, pickling -------------------------------------------------
def test_failed_call_does_not_advance_the_generator():
    srng = RandomStreams(11)
    u = srng.uniform((2,))
    v = T.dvector("v")
    f = function([v], [u, T.specify_shape(v, (3,))])
    before = u.rng.get_value()
    with pytest.raises(AstsymError):
        f(np.zeros(2))  # specify_shape fails after (or before) the draw
    assert _same_state(u.rng.get_value(borrow=True), before)
    np.testing.assert_array_equal(f(np.zeros(3))[0], copy.deepcopy(before).uniform(size=2))


def test_perform_does_not_mutate_its_input_state():
    rng = shared(np.random.RandomState(0))
    new_rng, x = random_variable(rng, "normal", (3,), (0.0, 1.0))
    state = np.random.RandomState(0)
    out_rng, sample = x.owner.op.perform(x.owner, [state, np.array([3]), 0.0, 1.0])
    assert _same_state(state, np.random.RandomState(0))
    assert out_rng is not state and not _same_state(out_rng, state)
    assert sample.dtype == np.float64 and sample.shape == (3,)


def test_pickled_function_continues_the_state():
    srng = RandomStreams(21)
    f = function([], srng.uniform((3,)))
    f()
    loaded = pickle.loads(pickle.dumps(f))
    np.testing.assert_array_equal(loaded(), f())
    np.testing.assert_array_equal(loaded(), f())


def test_pickled_stream_keeps_working():
    srng = RandomStreams(2)
    x = srng.normal((2,))
    srng2, x2 = pickle.loads(pickle.dumps((srng, x)))
    np.testing.assert_array_equal(function([], x2)(), function([], x)())
    srng2.seed(2)
    assert x2.rng is srng2.state_updates[0][0]


def test_stateful_op_has_no_gradient():
    op = RandomVariable("uniform", "float64")
    assert op.stateful and op.no_grad_reason == "random sampling"
    srng = RandomStreams(4)
    u = srng.uniform((3,))
    x = T.dvector("x")
    gx = T.grad((x**2 * u).sum(), x)
    uv, gv = function([x], [u, gx])(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(gv, 2 * np.array([1.0, 2.0, 3.0]) * uv)


# -- distributions ---------------------------------------------------------------------------
N = 20000


@pytest.mark.parametrize(
    "make, mean, std",
    [
        (lambda s: s.uniform((N,), low=2.0, high=5.0), 3.5, np.sqrt(9 / 12)),
        (lambda s: s.normal((N,), avg=1.0, std=2.0), 1.0, 2.0),
        (lambda s: s.binomial((N,), n=10, p=0.3), 3.0, np.sqrt(2.1)),
        (lambda s: s.binomial((N,)), 0.5, 0.5),
        (lambda s: s.poisson((N,), lam=3.0), 3.0, np.sqrt(3.0)),
        (lambda s: s.random_integers((N,), low=0, high=4), 2.0, np.sqrt(2.0)),
        (lambda s: s.integers((N,), low=0, high=4), 1.5, np.sqrt(1.25)),
        (lambda s: s.choice((N,), a=3, p=[0.5, 0.25, 0.25]), 0.75, np.sqrt(0.6875)),
    ],
)
def test_moments(make, mean, std):
    values = function([], make(RandomStreams(1234)))()
    assert values.shape == (N,)
    assert abs(values.mean() - mean) < 0.05 * max(std, 1.0)
    assert abs(values.std() - std) < 0.05 * std


def test_integer_bounds():
    srng = RandomStreams(3)
    inclusive, exclusive = function(
        [], [srng.random_integers((N,), 2, 4), srng.integers((N,), 2, 4)]
    )()
    assert set(np.unique(inclusive)) == {2, 3, 4}
    assert set(np.unique(exclusive)) == {2, 3}


def test_permutation_choice_multinomial():
    srng = RandomStreams(6)
    perm = srng.permutation((4,), n=5)
    pick = srng.choice((6,), a=np.array([10.0, 20.0, 30.0]), replace=False)
    counts = srng.multinomial(n=7, pvals=[[0.2, 0.8], [0.5, 0.5], [0.9, 0.1]])
    assert perm.type.shape == (4, 5) and counts.type.shape == (3, 2)
    with pytest.raises(AstsymError):  # 6 distinct elements out of 3
        function([], pick)()
    pick = srng.choice((3,), a=np.array([10.0, 20.0, 30.0]), replace=False)
    p, c, k = function([], [perm, counts, pick])()
    assert (np.sort(p, axis=1) == np.arange(5)).all()
    assert (c.sum(axis=1) == 7).all() and c.dtype == np.int64
    assert sorted(k) == [10.0, 20.0, 30.0] and k.dtype == np.float64


def test_parameters_broadcast():
    srng = RandomStreams(8)
    low = np.array([0.0, 10.0, 100.0])
    u = srng.uniform((2, 3), low=low, high=low + 1)
    auto = srng.normal(avg=T.dmatrix("m"), std=1.0)
    assert u.type.shape == (2, 3) and auto.ndim == 2
    value = function([], u)()
    assert ((value >= low) & (value < low + 1)).all()
    m = np.zeros((4, 5))
    assert function([auto.owner.inputs[2]], auto)(m).shape == (4, 5)
    assert function([], srng.uniform(low=low, high=low + 1))().shape == (3,)


# -- dtype and shape -------------------------------------------------------------------------
def test_default_and_explicit_dtypes():
    srng = RandomStreams(9)
    assert srng.uniform(()).dtype == config.floatX
    assert srng.binomial((2,)).dtype == "int64"
    assert srng.random_integers((2,)).dtype == "int64"
    x = srng.normal((3,), dtype="float32")
    y = srng.binomial((3,), dtype="int32")
    vx, vy = function([], [x, y])()
    assert vx.dtype == np.float32 and vy.dtype == np.int32


def test_floatx_float32(monkeypatch):
    monkeypatch.setattr(config, "floatX", "float32")
    srng = RandomStreams(9)
    assert srng.uniform((2,)).dtype == "float32"
    assert srng.normal((2,), avg=0, std=1).dtype == "float32"
    assert srng.normal((2,), avg=T.dvector("a")).dtype == "float64"
    assert function([], srng.uniform((2,)))().dtype == np.float32


def test_symbolic_size():
    srng = RandomStreams(10)
    n = T.lscalar("n")
    x = T.dmatrix("x")
    u = srng.uniform((n, 3))
    v = srng.normal(x.shape)
    w = srng.uniform(T.lvector("s"), ndim=2)
    assert u.type.shape == (None, 3) and v.ndim == 2 and w.ndim == 2
    f = function([n, x], [u, v, u.shape])
    a, b, shp = f(4, np.zeros((2, 5)))
    assert a.shape == (4, 3) and b.shape == (2, 5) and list(shp) == [4, 3]
    assert function([w.owner.inputs[1].owner.inputs[0]], w)([2, 6]).shape == (2, 6)


def test_bad_sizes_are_refused():
    srng = RandomStreams(0)
    with pytest.raises(AstsymError, match="size must be a tuple"):
        srng.normal(0.0, 1.0)  # NumPy's argument order: size comes first here
    with pytest.raises(AstsymError, match="unknown length"):
        srng.uniform(T.lvector("s"))
    with pytest.raises(AstsymError, match="cannot broadcast"):
        srng.uniform((2, 4), low=np.zeros(3))
    with pytest.raises(AstsymError, match="do not fit size"):
        srng.uniform((1,), low=np.zeros(3))
    with pytest.raises(AstsymError, match="ndim"):
        srng.uniform((2, 3), ndim=3)


def test_generator_state_is_supported():
    rng = shared(np.random.default_rng(0))
    new_rng, x = random_variable(rng, "integers", (5,), (0, 10))
    rng.default_update = new_rng
    f = function([], x)
    want = np.random.default_rng(0)
    np.testing.assert_array_equal(f(), want.integers(0, 10, 5))
    np.testing.assert_array_equal(f(), want.integers(0, 10, 5))


def test_public_names():
    assert RandomStream is RandomStreams
    assert issubclass(MRG_RandomStreams, RandomStreams)
    assert MRG_RandomStreams().default_instance_seed == 12345
    assert set(DISTRIBUTIONS) >= {"uniform", "normal", "binomial", "choice", "permutation"}
