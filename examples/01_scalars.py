"""Example 1: scalars and a compiled function.

Three float32 scalars, the expression ``w * x + b`` and a compiled function of it.
Prints ``net_input: 6.500000``.
"""

import astsym as theano
from astsym import tensor as T

x = T.scalar(name="input", dtype="float32")
w = T.scalar(name="weight", dtype="float32")
b = T.scalar(name="bias", dtype="float32")
z = w * x + b
net_input = theano.function(inputs=[w, x, b], outputs=z)
print("net_input: %2f" % net_input(2.0, 3.0, 0.5))  # noqa: UP031
