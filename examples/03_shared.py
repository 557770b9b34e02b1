"""Example 3: shared variables from Python or NumPy values."""

import numpy as np

import astsym as theano

data = np.array([[1, 2], [3, 4]])
shared_data = theano.shared(data)
print(type(shared_data))
print(shared_data.get_value())
