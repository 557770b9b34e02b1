"""Per-step cost of ``scan`` on the ``py`` runtime, against the same loop written in
NumPy (a Python ``for`` calling NumPy each step) measured side by side.

Run: ``OPENBLAS_NUM_THREADS=1 python benchmarks/scan_overhead.py``. Ratios are NumPy time /
astsym time (above 1: astsym is faster). The compiled CPU runtime (a later issue) runs
scan as a compiled loop; this measures the reference runtime's overhead per step.
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

import astsym as theano
import astsym.tensor as T

REPEATS = 7


def best_of(fn, *args) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def polynomial(n: int):
    coefs, x = T.dvector("coefs"), T.dscalar("x")
    terms, _ = theano.scan(
        lambda c, p, x: c * x**p, sequences=[coefs, T.arange(coefs.shape[0])], non_sequences=x
    )
    f = theano.function([coefs, x], terms.sum())
    values = np.random.default_rng(0).normal(size=n)

    def numpy_loop(c, x):
        total = 0.0
        for p in range(len(c)):
            total += c[p] * x**p
        return total

    return f, numpy_loop, (values, 1.0001)


def rnn(n: int, hidden: int = 64, inputs: int = 32):
    rng = np.random.default_rng(0)
    w = theano.shared(rng.normal(size=(hidden, hidden)) * 0.1)
    u = theano.shared(rng.normal(size=(hidden, inputs)) * 0.1)
    b = theano.shared(np.zeros(hidden))
    xs, h0 = T.dmatrix("xs"), T.dvector("h0")
    hs, _ = theano.scan(
        lambda x_t, h: T.tanh(T.dot(w, h) + T.dot(u, x_t) + b), sequences=xs, outputs_info=h0
    )
    f = theano.function([xs, h0], hs[-1])
    W, U, B = w.get_value(), u.get_value(), b.get_value()

    def numpy_loop(xs, h):
        for x_t in xs:
            h = np.tanh(W @ h + U @ x_t + B)
        return h

    return f, numpy_loop, (rng.normal(size=(n, inputs)), np.zeros(hidden))


def main() -> int:
    print(f"scan on the py runtime, median of {REPEATS} runs")
    for name, build, n in (("polynomial", polynomial, 10_000), ("rnn h=64", rnn, 1_000)):
        f, reference, args = build(n)
        np.testing.assert_allclose(f(*args), reference(*args), rtol=1e-9)
        ours, theirs = best_of(f, *args), best_of(reference, *args)
        print(
            f"{name:>11}: {n} steps, astsym {ours * 1e6 / n:7.1f} us/step, NumPy loop "
            f"{theirs * 1e6 / n:6.1f} us/step, ratio {theirs / ours:.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
