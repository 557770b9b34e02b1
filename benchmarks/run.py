"""The CPU workloads side by side: NumPy, astsym on the ``py`` and ``cpu`` backends, and
numexpr / JAX / PyTensor when they are installed (never dependencies).

- W1: ``exp(-x*a + b) * tanh(x) + x**2 / (1 + abs(x))``, 10M float32, a fresh output per call.
  "astsym cpu" drops each result, as the timing loop does, so the kernel writes the buffer the
  dropped array held; "astsym cpu kept" holds the last three results, so each call writes
  memory fresh from the operating system (as NumPy's own result does).
- W6: ``(X - X.mean(0)) / X.std(0)`` then a row softmax, 4000 x 1000 float32.
- W7: ``ifelse`` vs ``switch`` choosing ``mean(x)`` or ``mean(y)``, 4000 x 4000 float64.
- W2: a logistic-regression training step (cost, gradients, shared updates), X 100,000 x 100
  float32.
- W3: ``w*x + b`` on three float32 scalars; the time shown is per call in microseconds (a
  sample is 2000 calls).
- W4: an RNN ``h = tanh(W h + U x_t + b)``, hidden 64, input 32, 1000 steps: ``W4`` the
  forward pass, ``W4b`` backpropagation through time of ``sum(h_T)``.
- W5: a polynomial evaluated by ``scan`` over 100,000 coefficients.

astsym's compile time is the building of the function and its first two calls (the second
compiles the whole graph, ``config.compile_after``).

Each workload runs in its own process; each candidate is warmed up, then timed as the median
of ``--repeats`` (>= 7) calls; results are checked against NumPy. ``OPENBLAS_NUM_THREADS=1``
is set for stable numbers. Ratio = NumPy time / candidate time.

Run: ``python benchmarks/run.py [W1 W6 W7] [--repeats 9] [--json out.json] [--pytensor]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

os.environ["OPENBLAS_NUM_THREADS"] = "1"

import numpy as np  # noqa: E402


def race(fn, repeats: int, warmup: float = 0.5) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < warmup:
        fn()
    samples = []
    for _ in range(repeats):
        begin = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - begin)
    return float(np.median(samples))


def compiled(build):
    """(callable, compile seconds): ``build`` makes the function and calls it once."""
    begin = time.perf_counter()
    fn = build()
    return fn, time.perf_counter() - begin


# -- workloads: each returns {candidate: (thunk, compile seconds)} and the NumPy result ------
def w1(peers):
    import astsym
    import astsym.tensor as T

    rng = np.random.default_rng(0)
    X = rng.standard_normal(10_000_000).astype(np.float32)
    A, B = np.float32(0.5), np.float32(0.1)

    def numpy_fn():
        return np.exp(-X * A + B) * np.tanh(X) + X**2 / (1 + np.abs(X))

    def astsym_fn(mode):
        x, a, b = T.fvector("x"), T.fscalar("a"), T.fscalar("b")
        f = astsym.function(
            [x, a, b], T.exp(-x * a + b) * T.tanh(x) + x**2 / (1 + abs(x)), mode=mode
        )
        f(X, A, B)
        return lambda: f(X, A, B)

    def kept():
        fn, held = astsym_fn("cpu"), []

        def call():
            held.append(fn())
            del held[:-3]
            return held[-1]

        return call

    out = {"numpy": (numpy_fn, 0.0)}
    for mode in ("py", "cpu"):
        out[f"astsym {mode}"] = compiled(lambda mode=mode: astsym_fn(mode))
    out["astsym cpu kept"] = compiled(kept)
    if "numexpr" in peers:
        import numexpr as ne

        out["numexpr"] = (
            lambda: ne.evaluate("exp(-X*A + B) * tanh(X) + X**2 / (1 + abs(X))"),
            0.0,
        )
    if "jax" in peers:
        import jax
        import jax.numpy as jnp

        def build():
            f = jax.jit(lambda x, a, b: jnp.exp(-x * a + b) * jnp.tanh(x) + x**2 / (1 + jnp.abs(x)))
            f(X, A, B).block_until_ready()
            return lambda: np.asarray(f(X, A, B))

        out["jax jit"] = compiled(build)
    return out, numpy_fn()


def w6(peers):
    import astsym
    import astsym.tensor as T

    rng = np.random.default_rng(0)
    X = rng.standard_normal((4000, 1000)).astype(np.float32)

    def numpy_fn():
        z = (X - X.mean(0)) / X.std(0)
        e = np.exp(z - z.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)

    def astsym_fn(mode):
        x = T.fmatrix("x")
        z = (x - x.mean(0)) / x.std(0)
        f = astsym.function([x], T.nnet.softmax(z), mode=mode)
        f(X)
        return lambda: f(X)

    out = {"numpy": (numpy_fn, 0.0)}
    for mode in ("py", "cpu"):
        out[f"astsym {mode}"] = compiled(lambda mode=mode: astsym_fn(mode))
    return out, numpy_fn()


def w7(peers):
    import astsym
    import astsym.tensor as T
    from astsym.ifelse import ifelse

    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((2, 4000, 4000))
    C = np.float64(1.0)

    def numpy_fn():
        return X.mean() if C > 0 else Y.mean()

    def astsym_fn(mode, lazy):
        c, x, y = T.dscalar("c"), T.dmatrix("x"), T.dmatrix("y")
        pick = ifelse(c > 0, x.mean(), y.mean()) if lazy else T.switch(c > 0, x.mean(), y.mean())
        f = astsym.function([c, x, y], pick, mode=mode)
        f(C, X, Y)
        return lambda: f(C, X, Y)

    out = {"numpy": (numpy_fn, 0.0)}
    for mode in ("py", "cpu"):
        for lazy in (False, True):
            name = f"astsym {mode} {'ifelse' if lazy else 'switch'}"
            out[name] = compiled(lambda mode=mode, lazy=lazy: astsym_fn(mode, lazy))
    return out, numpy_fn()


def w2(peers):
    import astsym
    import astsym.tensor as T

    rng = np.random.default_rng(0)
    n, d = 100_000, 100
    X = rng.standard_normal((n, d)).astype(np.float32)
    Y = (rng.random(n) > 0.5).astype(np.float32)
    lr = np.float32(0.1)

    def numpy_step(state):
        w, b = state
        p = 1 / (1 + np.exp(-(X @ w + b)))
        cost = -np.mean(Y * np.log(p) + (1 - Y) * np.log(1 - p))
        g = (p - Y) / np.float32(n)
        state[0] = w - lr * (X.T @ g)
        state[1] = b - lr * g.sum()
        return np.float32(cost)

    state = [np.zeros(d, np.float32), np.float32(0)]

    def numpy_fn():
        return numpy_step(state)

    def astsym_fn(mode):
        x, y = T.fmatrix("x"), T.fvector("y")
        w = astsym.shared(np.zeros(d, np.float32), name="w")
        b = astsym.shared(np.float32(0), name="b")
        p = 1 / (1 + T.exp(-(T.dot(x, w) + b)))
        cost = -T.mean(y * T.log(p) + (1 - y) * T.log(1 - p))
        gw, gb = astsym.grad(cost, [w, b])
        f = astsym.function([x, y], cost, updates=[(w, w - lr * gw), (b, b - lr * gb)], mode=mode)
        first = f(X, Y)
        f(X, Y)
        w.set_value(np.zeros(d, np.float32))
        b.set_value(np.float32(0))
        return first, (lambda: f(X, Y))

    return _stateful(astsym_fn, numpy_fn, numpy_step([np.zeros(d, np.float32), np.float32(0)]))


def _stateful(astsym_fn, numpy_fn, expected):
    """Candidates whose calls change state: agreement is on each one's first result."""
    out = {"numpy": (numpy_fn, 0.0)}
    firsts = {"numpy": expected}
    for mode in ("py", "cpu"):
        begin = time.perf_counter()
        firsts[f"astsym {mode}"], thunk = astsym_fn(mode)
        out[f"astsym {mode}"] = (thunk, time.perf_counter() - begin)
    return out, expected, firsts


def w3(peers):
    import astsym
    import astsym.tensor as T

    W, X, B = np.float32(1.5), np.float32(2.0), np.float32(0.25)
    calls = 2000

    def repeat(fn):
        def run():
            for _ in range(calls):
                out = fn()
            return out

        return run

    def astsym_fn(mode):
        w, x, b = T.fscalars("w", "x", "b")
        f = astsym.function([w, x, b], w * x + b, mode=mode)
        f(W, X, B)
        f(W, X, B)
        return repeat(lambda: f(W, X, B))

    out = {"numpy": (repeat(lambda: np.asarray(W * X + B)), 0.0)}
    for mode in ("py", "cpu"):
        out[f"astsym {mode}"] = compiled(lambda mode=mode: astsym_fn(mode))
    return out, np.asarray(W * X + B), {"per_call": calls}


def _rnn_setup():
    rng = np.random.default_rng(0)
    W = (rng.standard_normal((64, 64)) * 0.1).astype(np.float32)
    U = (rng.standard_normal((64, 32)) * 0.1).astype(np.float32)
    b = np.zeros(64, np.float32)
    X = rng.standard_normal((1000, 32)).astype(np.float32)
    return W, U, b, X, np.zeros(64, np.float32)


def _rnn_numpy(W, U, b, X, h0, backward: bool):
    hs = [h0]
    for x in X:
        hs.append(np.tanh(W @ hs[-1] + U @ x + b))
    if not backward:
        return hs[-1]
    dh = np.ones_like(h0)
    gW, gU, gb = np.zeros_like(W), np.zeros_like(U), np.zeros_like(b)
    for t in range(len(X), 0, -1):
        dz = dh * (1 - hs[t] ** 2)
        gW += np.outer(dz, hs[t - 1])
        gU += np.outer(dz, X[t - 1])
        gb += dz
        dh = W.T @ dz
    return np.concatenate([gW.ravel(), gU.ravel(), gb])


def _rnn(peers, backward: bool):
    import astsym
    import astsym.tensor as T

    W, U, b, X, h0 = _rnn_setup()

    def astsym_fn(mode):
        sW, sU, sb = astsym.shared(W, "W"), astsym.shared(U, "U"), astsym.shared(b, "b")
        xs, h = T.fmatrix("xs"), T.fvector("h0")
        hs, _ = astsym.scan(
            lambda x_t, h_prev: T.tanh(T.dot(sW, h_prev) + T.dot(sU, x_t) + sb),
            sequences=xs,
            outputs_info=h,
        )
        if backward:
            grads = astsym.grad(hs[-1].sum(), [sW, sU, sb])
            out = T.concatenate([g.flatten() for g in grads])
        else:
            out = hs[-1]
        f = astsym.function([xs, h], out, mode=mode)
        f(X, h0)
        f(X, h0)
        return lambda: f(X, h0)

    out = {"numpy": (lambda: _rnn_numpy(W, U, b, X, h0, backward), 0.0)}
    for mode in ("py", "cpu"):
        out[f"astsym {mode}"] = compiled(lambda mode=mode: astsym_fn(mode))
    return out, _rnn_numpy(W, U, b, X, h0, backward)


def w5(peers):
    import astsym
    import astsym.tensor as T

    coefficients = np.random.default_rng(0).standard_normal(100_000)
    x0 = np.float64(0.999)

    def numpy_fn():
        return (coefficients * x0 ** np.arange(len(coefficients))).sum()

    def astsym_fn(mode):
        c, x = T.dvector("c"), T.dscalar("x")
        terms, _ = astsym.scan(
            lambda ci, power, x: ci * x**power,
            sequences=[c, T.arange(len(coefficients))],
            non_sequences=x,
        )
        f = astsym.function([c, x], terms.sum(), mode=mode)
        f(coefficients, x0)
        f(coefficients, x0)
        return lambda: f(coefficients, x0)

    out = {"numpy": (numpy_fn, 0.0)}
    for mode in ("py", "cpu"):
        out[f"astsym {mode}"] = compiled(lambda mode=mode: astsym_fn(mode))
    return out, numpy_fn()


WORKLOADS = {
    "W1": w1,
    "W6": w6,
    "W7": w7,
    "W2": w2,
    "W3": w3,
    "W4": lambda peers: _rnn(peers, backward=False),
    "W4b": lambda peers: _rnn(peers, backward=True),
    "W5": w5,
}


def measure(name: str, repeats: int, peers: list[str]) -> dict:
    candidates, expected, *extra = WORKLOADS[name](peers)
    extra = extra[0] if extra else {}
    firsts = extra if "numpy" in extra else {}
    per_call = extra.get("per_call", 1) if not firsts else 1
    rows = {}
    for label, (thunk, compile_s) in candidates.items():
        got = np.asarray(firsts[label] if firsts else thunk())
        agree = bool(np.allclose(got, expected, rtol=1e-4, atol=1e-5))
        seconds = race(thunk, repeats) / per_call
        rows[label] = {"seconds": seconds, "compile": compile_s, "agrees": agree}
    base = rows["numpy"]["seconds"]
    for row in rows.values():
        row["ratio"] = base / row["seconds"]
    return rows


def available_peers(pytensor: bool) -> list[str]:
    peers = []
    for module in ("numexpr", "jax") + (("pytensor",) if pytensor else ()):
        try:
            __import__(module)
            peers.append(module)
        except ImportError:
            pass
    return peers


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", default=list(WORKLOADS))
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--json")
    parser.add_argument("--pytensor", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    peers = available_peers(args.pytensor)
    if args.child:
        print(json.dumps(measure(args.child, max(args.repeats, 7), peers)))
        return 0
    print("OPENBLAS_NUM_THREADS=1; median of", max(args.repeats, 7), "calls after warm-up;")
    print("ratio = NumPy time / candidate time; peers installed:", ", ".join(peers) or "none")
    results = {}
    for name in args.workloads:
        cmd = [sys.executable, __file__, "--child", name, "--repeats", str(args.repeats)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"{name}: failed\n{done.stderr[-2000:]}")
            continue
        rows = json.loads(done.stdout.strip().splitlines()[-1])
        results[name] = rows
        print(f"\n{name}")
        print(f"  {'candidate':22} {'time ms':>9} {'ratio':>7} {'compile s':>10}  agrees")
        for label, row in rows.items():
            print(
                f"  {label:22} {row['seconds'] * 1e3:9.4f} {row['ratio']:7.2f} "
                f"{row['compile']:10.2f}  {'yes' if row['agrees'] else 'NO'}"
            )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
