"""Example 10: ``scan`` evaluating the terms of a polynomial, then their sum."""

import numpy as np

import astsym as theano
from astsym import tensor as T


def one_step(coef, power, x):
    return coef * x**power


coefs = T.ivector()
powers = T.ivector()
x = T.iscalar()

result, updates = theano.scan(
    fn=one_step, sequences=[coefs, powers], outputs_info=None, non_sequences=x
)
f_poly = theano.function([x, coefs, powers], result, allow_input_downcast=True)

coef_val = np.array([2, 3, 4, 6, 5])
power_val = np.array([0, 1, 2, 3, 4])
x_val = 10
print(f_poly(x_val, coef_val, power_val))

f_poly = theano.function([x, coefs, powers], result.sum(), allow_input_downcast=True)
print(f_poly(x_val, coef_val, power_val))
