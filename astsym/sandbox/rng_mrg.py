"""Theano's ``theano.sandbox.rng_mrg``: ``MRG_RandomStreams``.

astsym draws with NumPy's generators, not with MRG31k3p: ``MRG_RandomStreams`` is
``RandomStreams`` with MRG's constructor (default seed 12345, ``use_cuda`` accepted and
ignored), so the numbers differ from Theano's MRG ones; the API and the reproducibility
from a seed are the same. ``nstreams=`` is accepted and ignored.

>>> from astsym.sandbox.rng_mrg import MRG_RandomStreams
>>> srng = MRG_RandomStreams(seed=234)
>>> srng.binomial(size=(2, 3), p=0.5).type
TensorType(int64, shape=(2, 3))
"""

from astsym.graph.random_streams import RandomStreams


class MRG_RandomStreams(RandomStreams):
    """``RandomStreams`` under MRG's name and constructor signature."""

    def __init__(self, seed: int = 12345, use_cuda=None) -> None:
        super().__init__(seed)


__all__ = ["MRG_RandomStreams"]
