"""Example 4: the graph of ``x + y``: Variable, Type, Apply and Op."""

import astsym as theano
from astsym import tensor as T

x = T.dmatrix("x")
y = T.dmatrix("y")
z = x + y
print(z.owner)
print(z.owner.op)
print(z.owner.inputs)
print(z.owner.outputs)
print(x.owner)
print(x.type)
