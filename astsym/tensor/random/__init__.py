"""PyTensor's ``pytensor.tensor.random``: random streams and the ``RandomVariable`` op.

``RandomStream`` is astsym's ``RandomStreams``, with Theano's argument order (``size``
first): ``srng.normal((2, 3), avg=0.0, std=1.0)``.
"""

from astsym.graph.ops.random import DISTRIBUTIONS, RandomVariable, random_variable
from astsym.tensor.random.utils import RandomStream, RandomStreams
