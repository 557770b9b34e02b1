"""Example 9: lazy ``ifelse`` against elementwise ``switch``.

Both give the same value; ``ifelse`` evaluates only the branch it takes, ``switch``
computes both means. Times 10 calls of each.
"""

import time

import numpy as np

import astsym as theano
from astsym import tensor as T
from astsym.ifelse import ifelse

a, b = T.scalars("a", "b")
x, y = T.matrices("x", "y")
z_switch = T.switch(T.lt(a, b), T.mean(x), T.mean(y))
z_lazy = ifelse(T.lt(a, b), T.mean(x), T.mean(y))
f_switch = theano.function([a, b, x, y], z_switch, mode=theano.Mode(linker="vm"))
f_lazyifelse = theano.function([a, b, x, y], z_lazy, mode=theano.Mode(linker="vm"))

val1 = 0.0
val2 = 1.0
big_mat1 = np.ones((1000, 100))
big_mat2 = np.ones((1000, 100))

n_times = 10

tic = time.perf_counter()
for i in range(n_times):
    f_switch(val1, val2, big_mat1, big_mat2)
print("time spent evaluating both values %f sec" % (time.perf_counter() - tic))

tic = time.perf_counter()
for i in range(n_times):
    f_lazyifelse(val1, val2, big_mat1, big_mat2)
print("time spent evaluating one value %f sec" % (time.perf_counter() - tic))

print("switch:", f_switch(val1, val2, big_mat1, big_mat2))
print("ifelse:", f_lazyifelse(val1, val2, big_mat1, big_mat2))
