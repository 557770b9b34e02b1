"""Example 5: a function of several inputs with several outputs."""

import astsym as theano

x, y = theano.tensor.fscalars("x", "y")
z1 = x + y
z2 = x * y
f = theano.function([x, y], [z1, z2])
print(f(2, 3))
