"""Example 6: the derivative of the logistic function at 3 (0.045176655)."""

import astsym as theano

x = theano.tensor.fscalar("x")
y = 1 / (1 + theano.tensor.exp(-x))
dx = theano.grad(y, x)
f = theano.function([x], dx)
print(f(3))
