"""Issue 7's workloads side by side: NumPy, astsym on the ``py`` and ``cpu`` backends, and
numexpr / JAX / PyTensor when they are installed (never dependencies).

- W1: ``exp(-x*a + b) * tanh(x) + x**2 / (1 + abs(x))``, 10M float32, a fresh output per call.
  "astsym cpu" drops each result, as the timing loop does, so the kernel writes the buffer the
  dropped array held; "astsym cpu kept" holds the last three results, so each call writes
  memory fresh from the operating system (as NumPy's own result does).
- W6: ``(X - X.mean(0)) / X.std(0)`` then a row softmax, 4000 x 1000 float32.
- W7: ``ifelse`` vs ``switch`` choosing ``mean(x)`` or ``mean(y)``, 4000 x 4000 float64.

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


WORKLOADS = {"W1": w1, "W6": w6, "W7": w7}


def measure(name: str, repeats: int, peers: list[str]) -> dict:
    candidates, expected = WORKLOADS[name](peers)
    rows = {}
    for label, (thunk, compile_s) in candidates.items():
        got = np.asarray(thunk())
        agree = bool(np.allclose(got, expected, rtol=2e-5, atol=1e-6))
        rows[label] = {"seconds": race(thunk, repeats), "compile": compile_s, "agrees": agree}
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
                f"  {label:22} {row['seconds'] * 1e3:9.2f} {row['ratio']:7.2f} "
                f"{row['compile']:10.2f}  {'yes' if row['agrees'] else 'NO'}"
            )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
