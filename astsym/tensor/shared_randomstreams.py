"""Theano's ``theano.tensor.shared_randomstreams``: ``RandomStreams``.

>>> from astsym.tensor.shared_randomstreams import RandomStreams
>>> srng = RandomStreams(seed=234)
>>> srng.normal((2, 2)).type
TensorType(float64, shape=(2, 2))
"""

from astsym.graph.ops.random import RandomVariable
from astsym.graph.random_streams import RandomStreams

__all__ = ["RandomStreams", "RandomVariable"]
