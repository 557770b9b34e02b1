"""Example 8: logistic regression trained with shared-variable updates.

1000 gradient steps on 10 random points; the mean cross-entropy is printed every 100
steps and decreases. float32 data is fed to float64 variables (a safe conversion).
"""

import numpy as np

import astsym as theano
from astsym import tensor as T

rng = np.random
N, feats = 10, 3
D = (
    rng.randn(N, feats).astype(np.float32),
    rng.randint(size=N, low=0, high=2).astype(np.float32),
)
x = T.matrix("x")
y = T.vector("y")
w = theano.shared(rng.randn(feats), name="w")
b = theano.shared(0.0, name="b")
p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
cost = xent.mean() + 0.01 * (w**2).sum()
gw, gb = T.grad(cost, [w, b])
prediction = p_1 > 0.5
train = theano.function(
    inputs=[x, y],
    outputs=[prediction, xent],
    updates=((w, w - 0.1 * gw), (b, b - 0.1 * gb)),
)
predict = theano.function(inputs=[x], outputs=prediction)
for i in range(1000):
    pred, err = train(D[0], D[1])
    if i % 100 == 0 or i == 999:
        print(f"step {i:4d}  error {err.mean():.6f}")

print("target values for D:", D[1])
print("prediction on D:    ", predict(D[0]).astype(np.float32))
print(f"accuracy: {np.mean(predict(D[0]) == D[1]):.2f}")
