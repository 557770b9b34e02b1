"""Example 2: built-in types, TensorType and broadcasting.

A row (broadcastable ``(True, False)``) added to a matrix broadcasts along the first axis.
"""

import numpy as np

import astsym as theano
from astsym import tensor as T

x = T.scalar(name="input", dtype="float32")
data = T.vector(name="data", dtype="float64")
mytype = T.TensorType("float64", broadcastable=(), name=None, sparse_grad=False)
print(x.type, data.type, mytype)

r = T.row()
print(r.broadcastable)
mtr = T.matrix()
print(mtr.broadcastable)
f_row = theano.function([r, mtr], [r + mtr])
R = np.arange(1, 3).reshape(1, 2)
print(R)
M = np.arange(1, 7).reshape(3, 2)
print(M)
print(f_row(R, M))
