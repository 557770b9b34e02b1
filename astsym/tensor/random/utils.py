"""``RandomStream`` (PyTensor's name) for astsym's ``RandomStreams``.

The methods keep Theano's signatures, ``size`` first; a number passed as ``size`` (as in
NumPy-style ``normal(0.0, 1.0)``) is refused with an error saying so.

>>> from astsym.tensor.random.utils import RandomStream
>>> RandomStream(seed=1).uniform((3,)).type
TensorType(float64, shape=(3,))
"""

from astsym.graph.random_streams import RandomStreams

RandomStream = RandomStreams

__all__ = ["RandomStream", "RandomStreams"]
