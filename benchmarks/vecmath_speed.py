"""Speed of the vector math library (``astsym/kernels/vecmath.py``) against libm called from
Numba and against NumPy's ufuncs, measured side by side in one run.

For each function and dtype, over 10M elements, single-threaded:
(a) a Numba loop calling our function (``ymm``: LLVM's default vector width here; ``zmm``: the
loop marked ``prefer_wide_vectors()``), (b) the same loop calling ``math.<fn>`` (a libm call
per element), (c) the NumPy ufunc. Then the W1 chain ``exp(-x*a + b) * tanh(x) + x**2 /
(1 + abs(x))`` over 10M float32 as one fused ``prange`` loop writing into an ``np.empty``
output, against the NumPy expression; and the verdict on the fused loop's assembly (packed
ymm/zmm instructions, no libm call).

Run: ``OPENBLAS_NUM_THREADS=1 python benchmarks/vecmath_speed.py [--n N] [--repeats R]
[--func exp ...] [--asm FILE]``. Times are medians of R runs after a warm-up; ratios are
NumPy time / our time (above 1: ours is faster).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numba
import numpy as np
from numba import prange

from astsym.kernels import vecmath as vm

try:  # a peer for erf, which NumPy lacks
    from scipy import special as scipy_special
except ImportError:  # pragma: no cover - optional
    scipy_special = None


def race(calls: dict, repeats: int, warmup: float = 0.5) -> dict:
    """Median seconds of each ``name -> (fn, args)``, measured one candidate after another in
    the given order, each after ``warmup`` seconds of calls. Fresh 40 MB arrays run up to 2x
    slower for the first second or two here (their pages are being promoted to huge pages),
    so a first candidate on new arrays needs a longer warm-up.

    Not round-robin: on this 2-core VM a NumPy expression that allocates and frees large
    temporaries leaves the kernel busy for a while (page zeroing, huge-page work), which
    slows whatever runs next by up to 2x, a ``prange`` loop most of all. Our kernels are
    listed, and so measured, first.
    """
    times = {}
    for name, (fn, args) in calls.items():
        start = time.perf_counter()
        while time.perf_counter() - start < warmup:
            fn(*args)
        samples = []
        for _ in range(repeats):
            begin = time.perf_counter()
            fn(*args)
            samples.append(time.perf_counter() - begin)
        times[name] = statistics.median(samples)
    return times


# -- (b) libm called per element from Numba ---------------------------------------------------


def _libm_scalar(name: str):
    return {
        "exp": lambda x: math.exp(x),
        "expm1": lambda x: math.expm1(x),
        "log": lambda x: math.log(x),
        "log1p": lambda x: math.log1p(x),
        "tanh": lambda x: math.tanh(x),
        "erf": lambda x: math.erf(x),
        "sigmoid": lambda x: 1 / (1 + math.exp(-x)),
        "softplus": lambda x: max(x, 0) + math.log1p(math.exp(-abs(x))),
        "pow": lambda x, y: x**y,
    }[name]


def libm_kernel(name: str):
    scalar = numba.njit(inline="always", error_model="numpy")(_libm_scalar(name))
    if name in vm.BINARY:

        def binary(x, y, out):
            for i in range(out.size):
                out[i] = scalar(x[i], y[i])

        return numba.njit(error_model="numpy")(binary)

    def unary(x, out):
        for i in range(out.size):
            out[i] = scalar(x[i])

    return numba.njit(error_model="numpy")(unary)


# -- (c) NumPy --------------------------------------------------------------------------------


def numpy_call(name: str):
    """NumPy's way of computing the function into ``out`` (None where NumPy has none)."""
    if name == "sigmoid":
        return lambda x, out: np.divide(1, np.add(1, np.exp(np.negative(x)), out=out), out=out)
    if name == "softplus":
        return lambda x, out: np.logaddexp(0, x, out=out)
    if name == "pow":
        return lambda x, y, out: np.power(x, y, out=out)
    if name == "erf":
        if scipy_special is None:
            return None
        return lambda x, out: scipy_special.erf(x, out=out)
    ufunc = getattr(np, name)
    return lambda x, out: ufunc(x, out=out)


def inputs(name: str, dtype, n: int, rng) -> tuple[np.ndarray, ...]:
    """Arguments in a typical range, clear of overflow and subnormal results (which slow
    every implementation alike)."""
    if name == "log":
        return (np.exp(rng.uniform(-20, 20, n)).astype(dtype),)
    if name == "log1p":
        return (rng.uniform(-0.9, 10, n).astype(dtype),)
    if name == "pow":
        return rng.uniform(0.1, 10, n).astype(dtype), rng.uniform(-4, 4, n).astype(dtype)
    return (rng.uniform(-10, 10, n).astype(dtype),)


def bench_functions(names, n: int, repeats: int) -> None:
    rng = np.random.default_rng(0)
    buffers = {d: [np.empty(n, d) for _ in range(3)] for d in ("float32", "float64")}
    print(f"{'function':10}{'dtype':9}{'ours ymm':>10}{'ours zmm':>10}{'libm':>10}{'NumPy':>10}"
          f"{'NumPy/ymm':>11}{'NumPy/zmm':>11}{'libm/zmm':>10}")  # fmt: skip
    for name in names:
        for dtype in ("float32", "float64"):
            *args, out = buffers[dtype]  # reused: warm pages for every function
            args = args[: len(inputs(name, dtype, 1, rng))]
            for buffer, values in zip(args, inputs(name, dtype, n, rng)):
                buffer[...] = values
            calls = {
                "ours": (vm.array_kernel(name, dtype), (*args, out)),
                "wide": (vm.array_kernel(name, dtype, True), (*args, out)),
                "libm": (libm_kernel(name), (*args, out)),
            }
            if numpy_call(name):
                calls["numpy"] = (numpy_call(name), (*args, out))
            t = race(calls, repeats)
            ours, wide, libm, ref = t["ours"], t["wide"], t["libm"], t.get("numpy", float("nan"))
            print(f"{name:10}{dtype:9}{ours * 1e3:8.2f}ms{wide * 1e3:8.2f}ms{libm * 1e3:8.2f}ms"
                  f"{ref * 1e3:8.2f}ms{ref / ours:10.2f}x{ref / wide:10.2f}x"
                  f"{libm / wide:9.2f}x")  # fmt: skip


# -- W1: one fused loop -------------------------------------------------------------------------


@numba.njit(parallel=True, error_model="numpy")
def w1_fused(x, a, b, out):
    for i in prange(x.size):
        v = x[i]
        out[i] = vm.exp32(-v * a + b) * vm.tanh32(v) + v * v / (np.float32(1) + abs(v))


@numba.njit(parallel=True, error_model="numpy")
def w1_fused_wide(x, a, b, out):
    for i in prange(x.size):
        vm.prefer_wide_vectors()
        v = x[i]
        out[i] = vm.exp32(-v * a + b) * vm.tanh32(v) + v * v / (np.float32(1) + abs(v))


@numba.njit(parallel=True, error_model="numpy")
def w1_libm(x, a, b, out):
    for i in prange(x.size):
        v = x[i]
        out[i] = math.exp(-v * a + b) * math.tanh(v) + v * v / (np.float32(1) + abs(v))


def w1_numpy(x, a, b, out):
    np.add(np.exp(-x * a + b) * np.tanh(x), x**2 / (1 + np.abs(x)), out=out)


def check_assembly(dispatcher, dump: str | None = None) -> bool:
    """Print whether the compiled loop is vectorized (packed ymm/zmm FMAs) and free of libm
    calls; optionally write its assembly to ``dump``."""
    asm = dispatcher.inspect_asm(dispatcher.signatures[0])
    if dump:
        with open(dump, "w") as f:
            f.write(asm)
    report = vm.assembly_report(asm)
    ok = report["widest"] in ("ymm", "zmm") and report["packed_fma"] > 0
    ok = ok and not report["libm_calls"]
    verdict = "vectorized, no libm calls" if ok else "NOT vectorized or calls libm"
    print(f"  {dispatcher.__name__}: {verdict} ({report})")
    return ok


def bench_w1(n: int, repeats: int, dump: str | None) -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(-5, 5, n).astype(np.float32)
    a, b = np.float32(0.5), np.float32(0.25)
    out, expected = np.empty_like(x), np.empty_like(x)
    w1_numpy(x, a, b, expected)
    kernels = {k.__name__: k for k in (w1_fused, w1_fused_wide, w1_libm, w1_numpy)}
    t = race({name: (k, (x, a, b, out)) for name, k in kernels.items()}, repeats, warmup=2.0)
    ref = t["w1_numpy"]
    print(f"\nW1 exp(-x*a + b) * tanh(x) + x**2 / (1 + abs(x)), {n:,} float32, "
          f"{numba.get_num_threads()} threads; NumPy {ref * 1e3:.2f} ms")  # fmt: skip
    for name, kernel in kernels.items():
        if name == "w1_numpy":
            continue
        kernel(x, a, b, out)
        err = np.max(np.abs(out - expected) / np.maximum(np.abs(expected), 1e-30))
        print(f"  {name:14} {t[name] * 1e3:7.2f} ms  NumPy/this {ref / t[name]:6.2f}x  "
              f"(max rel. diff to NumPy {err:.1e})")  # fmt: skip
    print("assembly of the fused loops:")
    check_assembly(w1_fused, dump)
    check_assembly(w1_fused_wide)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--func", action="append", choices=sorted({k for k, _ in vm.FUNCTIONS}))
    parser.add_argument("--asm", help="write the fused W1 loop's assembly to this file")
    parser.add_argument("--w1-only", action="store_true")
    args = parser.parse_args()
    names = args.func or ["exp", "log", "expm1", "log1p", "tanh", "sigmoid", "softplus", "erf"]
    names += [] if args.func else ["pow"]
    if not args.w1_only:
        bench_functions(names, args.n, args.repeats)
    bench_w1(args.n, args.repeats, args.asm)


if __name__ == "__main__":
    main()
