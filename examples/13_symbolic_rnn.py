"""Example 13: a recurrent network written with a plain ``for`` loop, trained by BPTT.

``for x_t in xs`` runs over the leading (time) axis of a symbolic tensor, so it becomes a
``scan`` carrying the hidden state ``h = tanh(h W + x_t U + b)``; ``grad`` differentiates
through it (backpropagation through time) and the ``-=`` statements become updates of the
shared parameters. The task: read a sequence of numbers and output their running mean,
which the last hidden state has to remember. The training loss is printed as it decreases.
"""

# ruff: noqa: F821, F823, F841
# (dim names in annotations, "t", are not forward references; a shared variable rebound in
# a @symbolic function is a local that starts at its stored value, and its last value is
# the update)

import numpy as np

from astsym import f64, grad, shared, symbolic

HIDDEN, STEPS, BATCH = 8, 6, 64
rng = np.random.default_rng(1)
W = shared(0.3 * rng.normal(size=(HIDDEN, HIDDEN)), name="W")
U = shared(0.5 * rng.normal(size=(1, HIDDEN)), name="U")
b = shared(np.zeros(HIDDEN), name="b")
v = shared(0.3 * rng.normal(size=HIDDEN), name="v")
c = shared(0.0, name="c")


def run_rnn(xs):
    h = np.zeros_like(xs[0] @ U)  # one hidden state per sequence of the batch
    for x_t in xs:  # a scan over time
        h = np.tanh(h @ W + x_t @ U + b)
    return h @ v + c


@symbolic
def train_step(xs: f64["t", "batch", 1], target: f64["batch"], lr: f64[()]):
    loss = ((run_rnn(xs) - target) ** 2).mean()
    gW, gU, gb, gv, gc = grad(loss, [W, U, b, v, c])
    W -= lr * gW
    U -= lr * gU
    b -= lr * gb
    v -= lr * gv
    c -= lr * gc
    return loss


def sequences(count):
    xs = rng.uniform(-1, 1, size=(STEPS, count, 1))
    return xs, xs[:, :, 0].mean(axis=0)


train_xs, train_target = sequences(BATCH)
for step in range(301):
    loss = float(train_step(train_xs, train_target, 0.1))
    if step % 50 == 0:
        print(f"step {step:3d}  loss {loss:.5f}")

test_xs, test_target = sequences(200)
test_loss = float(((symbolic(run_rnn)(test_xs) - test_target) ** 2).mean())
baseline = float((test_target**2).mean())
print(f"held-out loss {test_loss:.5f} (always predicting 0: {baseline:.5f})")
