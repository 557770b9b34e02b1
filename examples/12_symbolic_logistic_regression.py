"""Example 12: logistic regression written as a plain Python function with ``@symbolic``.

The training step is DESIGN.md's example: NumPy functions on symbolic tensors, ``grad``,
and ``w -= ...`` on module-level shared variables, which become updates applied after each
call. It is compiled on the first call and trained on 400 generated points; the cost
decreases and the final accuracy is printed.
"""

# ruff: noqa: F821, F823, F841
# (dim names in annotations, "n", are not forward references; a shared variable rebound in
# a @symbolic function is a local that starts at its stored value, and its last value is
# the update)

import numpy as np

from astsym import f32, grad, shared, symbolic

w = shared(np.zeros(3, np.float32), name="w")
b = shared(np.float32(0.0), name="b")


@symbolic
def train(x: f32["n", 3], y: f32["n"]) -> f32[()]:
    p = 1 / (1 + np.exp(-(x @ w) - b))  # NumPy functions work on symbolic tensors
    cost = (-y * np.log(p) - (1 - y) * np.log(1 - p)).mean() + 0.01 * (w**2).sum()
    gw, gb = grad(cost, [w, b])
    w -= 0.1 * gw  # becomes an update of the shared variable
    b -= 0.1 * gb
    return cost


@symbolic
def predict(x: f32["n", 3]):
    return (x @ w + b) > 0


rng = np.random.default_rng(0)
X = rng.normal(size=(400, 3)).astype(np.float32)
true_w, true_b = np.array([2.0, -3.0, 0.5]), 0.5
Y = (X @ true_w + true_b + 0.3 * rng.normal(size=400) > 0).astype(np.float32)

for step in range(301):
    cost = train(X, Y)
    if step % 50 == 0:
        print(f"step {step:3d}  cost {float(cost):.6f}")

print("learned w:", np.round(w.get_value(), 3), " b:", round(float(b.get_value()), 3))
print(f"accuracy: {np.mean(predict(X) == Y):.3f}")
