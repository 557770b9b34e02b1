"""Example 14: Newton's method for square roots, with a ``while`` loop on a symbolic
condition.

``while abs(x * x - a) > tol * a`` tests a symbolic value, so the loop becomes a ``scan``
with an ``until`` condition; like Python's ``while`` it tests before every step, so a
value that is already a root takes zero steps. The first function takes a scalar, the
second a whole array (it loops until every element has converged). Results are printed
beside ``numpy.sqrt``.
"""

# ruff: noqa: F821 - dim names in annotations ("n") are not forward references

import numpy as np

from astsym import f64, symbolic


@symbolic
def newton_sqrt(a: f64[()]):
    x = a
    steps = 0
    while abs(x * x - a) > 1e-12 * a:
        x = 0.5 * (x + a / x)
        steps = steps + 1
    return x, steps


@symbolic
def newton_sqrt_all(a: f64["n"]):
    x = np.maximum(a, 1.0)  # a start above every root: Newton then decreases monotonically
    while (abs(x * x - a) > 1e-12 * a).any():
        x = 0.5 * (x + a / x)
    return x


for a in (2.0, 1.0, 10.0, 1e-4, 12345.678):
    root, steps = newton_sqrt(a)
    print(f"sqrt({a}) = {float(root)!r}  numpy.sqrt: {float(np.sqrt(a))!r}  steps: {int(steps)}")

values = np.array([0.25, 2.0, 3.0, 49.0, 1e6])
roots = newton_sqrt_all(values)
print("array:", values)
print("newton:", roots.tolist())
print("numpy: ", np.sqrt(values).tolist())
print(f"max relative error: {np.max(abs(roots - np.sqrt(values)) / np.sqrt(values)):.1e}")
print(newton_sqrt.explain())
