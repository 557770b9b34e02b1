"""``RandomStreams``: random variables whose generators live in shared variables.

Each method makes a new shared variable holding a ``numpy.random.RandomState`` (seeded
from the stream's own seeding generator), draws from it, and sets the shared variable's
``default_update`` to the advanced state: every call of a compiled function draws new
numbers, and the sequence is reproducible from the seed.

>>> import astsym
>>> srng = RandomStreams(seed=234)
>>> rv_u = srng.uniform((2, 2))
>>> f = astsym.function([], rv_u)
>>> bool((f() != f()).all())                # each call advances the generator
True
>>> rv_u.rng, rv_u.update[0] is rv_u.rng    # the shared state and its (rng, new_rng) update
(<RandomType>, True)
"""

from __future__ import annotations

import numpy as np

from .ops.random import random_variable
from .shared import shared

#: Seeds for the generators are drawn in [0, 2**30), as Theano does.
_SEED_BOUND = 2**30


class RandomStreams:
    """A symbolic stand-in for ``numpy.random.RandomState`` (Theano's ``RandomStreams``).

    ``size`` is a tuple/list of ints and int scalars, or an int vector (then ``ndim=`` when
    its length is not static); None or ``()`` means the parameters' broadcast shape.
    Parameters may be numbers, arrays or symbolic tensors.
    """

    def __init__(self, seed: int | None = None) -> None:
        self.default_instance_seed = seed
        self.gen_seedgen = np.random.RandomState(seed)
        #: (shared generator, its next state) for every variable made by this stream.
        self.state_updates: list = []

    # -- state -----------------------------------------------------------------------------
    def seed(self, seed: int | None = None) -> None:
        """Re-seed every generator this stream made, deterministically from ``seed``.

        Afterwards the generators (and the ones made later) are in the state a fresh
        ``RandomStreams(seed)`` making the same variables would give them.

        >>> srng = RandomStreams(seed=1); u = srng.uniform(())
        >>> srng.seed(902340); a = u.eval()
        >>> srng.seed(902340); bool(u.eval() == a)
        True
        """
        if seed is None:
            seed = self.default_instance_seed
        self.gen_seedgen = np.random.RandomState(seed)
        for rng, _ in self.state_updates:
            rng.set_value(self._new_generator(), borrow=True)

    def updates(self) -> list:
        """The (shared generator, next state) pairs, for ``function(updates=...)``."""
        return list(self.state_updates)

    @property
    def rstate(self):
        """The seeding generator's state (``get_state()``); assignable (MRG's ``rstate``)."""
        return self.gen_seedgen.get_state()

    @rstate.setter
    def rstate(self, state) -> None:
        if isinstance(state, np.random.RandomState):
            state = state.get_state()
        self.gen_seedgen.set_state(state)

    def _new_generator(self) -> np.random.RandomState:
        return np.random.RandomState(int(self.gen_seedgen.randint(_SEED_BOUND)))

    def gen(self, draw, *args, **kwargs):
        """``draw(rng, *args, **kwargs)`` -> (new_rng, sample) on a new shared generator;
        the sample gets ``.rng`` and ``.update`` and the generator its default update.

        >>> from astsym.graph.ops.random import random_variable
        >>> x = RandomStreams(3).gen(random_variable, "poisson", (4,), (2.0,))
        >>> x.type
        TensorType(int64, shape=(4,))
        """
        rng = shared(self._new_generator(), borrow=True)
        new_rng, sample = draw(rng, *args, **kwargs)
        rng.default_update = new_rng
        sample.rng, sample.update = rng, (rng, new_rng)
        self.state_updates.append((rng, new_rng))
        return sample

    # -- distributions ---------------------------------------------------------------------
    def uniform(self, size=None, low=0.0, high=1.0, ndim=None, dtype=None, nstreams=None):
        """Uniform in [low, high); dtype floatX unless given. ``nstreams`` is ignored (MRG)."""
        return self.gen(random_variable, "uniform", size, (low, high), ndim, dtype)

    def normal(self, size=None, avg=0.0, std=1.0, ndim=None, dtype=None, nstreams=None):
        """Normal with mean ``avg`` and standard deviation ``std``; dtype floatX unless given."""
        return self.gen(random_variable, "normal", size, (avg, std), ndim, dtype)

    def binomial(self, size=None, n=1, p=0.5, ndim=None, dtype="int64", nstreams=None):
        """The number of successes in ``n`` trials of probability ``p`` (int64)."""
        return self.gen(random_variable, "binomial", size, (n, p), ndim, dtype)

    def poisson(self, size=None, lam=1.0, ndim=None, dtype="int64"):
        """Poisson with rate ``lam``."""
        return self.gen(random_variable, "poisson", size, (lam,), ndim, dtype)

    def random_integers(self, size=None, low=0, high=1, ndim=None, dtype="int64"):
        """Integers in [low, high], both ends included (Theano's ``random_integers``)."""
        return self.gen(random_variable, "random_integers", size, (low, high), ndim, dtype)

    def integers(self, size=None, low=0, high=1, ndim=None, dtype="int64"):
        """Integers in [low, high), as NumPy's ``integers``/``randint`` (high excluded)."""
        return self.gen(random_variable, "integers", size, (low, high), ndim, dtype)

    def choice(self, size=None, a=2, replace=True, p=None, ndim=None, dtype=None):
        """Elements of ``a`` (or of ``range(a)`` for an int), with probabilities ``p``."""
        return self.gen(random_variable, "choice", size, (a, p), ndim, dtype, replace=bool(replace))

    def permutation(self, size=None, n=1, ndim=None, dtype="int64"):
        """A permutation of ``range(n)`` per entry of ``size``: shape ``size + (n,)``."""
        return self.gen(random_variable, "permutation", size, (n,), ndim, dtype)

    def multinomial(
        self, size=None, n=1, pvals=(0.5, 0.5), ndim=None, dtype="int64", nstreams=None
    ):
        """Counts of ``n`` draws over the categories of ``pvals`` (its last dim).

        MRG style works too: rows of a 2-d ``pvals`` are separate distributions.
        """
        if pvals is None:
            raise ValueError("multinomial needs pvals")
        return self.gen(random_variable, "multinomial", size, (n, pvals), ndim, dtype)
