"""Example 7: updating a shared variable; outputs are computed before updates apply."""

import astsym as theano

w = theano.shared(1)
x = theano.tensor.iscalar("x")
f = theano.function([x], w, updates=[[w, w + x]])
print(f(3))
print(w.get_value())
