"""Accuracy of the vector math library (``astsym/kernels/vecmath.py``) against correctly
rounded references.

float32: every one of the 2**32 bit patterns (in chunks, through a Numba loop; about a minute
per function), against libm's float64 result rounded to float32; the elements 2 or more ulp
off are re-checked against a long-double reference (``vecmath.reference``), so a rare double
rounding in the float64 reference cannot inflate the count. float64: a dense grid (10**7
points, log-spaced over the interesting range, both signs, plus special values) against the
long-double reference. ``pow`` takes random pairs (log-uniform ``x`` of both signs; integer,
half-integer and random ``y``). Prints, per function and dtype, the largest error in ulp,
where it happens, and the number of special-value mismatches (NaN vs not NaN, a wrong
infinity, a zero of the wrong sign).

Run: ``python benchmarks/vecmath_accuracy.py [--func exp ...] [--quick] [--dtype float32]``;
``--quick`` samples 2**24 float32 patterns and 10**6 float64 points.
"""

from __future__ import annotations

import argparse
import math
import time

import numba
import numpy as np
from numba import prange

from astsym.kernels import vecmath as vm

#: ulp bound per (function, dtype) that the library promises.
BOUNDS = {(name, "float32"): 3 for name, _ in vm.FUNCTIONS}
BOUNDS |= {(name, "float32"): 2 for name in ("exp", "log", "tanh")}
BOUNDS |= {(name, "float64"): 3 for name, _ in vm.FUNCTIONS}

# -- float64 libm references for the exhaustive float32 sweep ---------------------------------


def _libm64(name: str):
    return {
        "exp": lambda x: math.exp(x),
        "expm1": lambda x: math.expm1(x),
        "log": lambda x: math.log(x) if x > 0 else (-math.inf if x == 0 else math.nan),
        "log1p": lambda x: math.log1p(x) if x > -1 else (-math.inf if x == -1 else math.nan),
        "tanh": lambda x: math.tanh(x),
        "erf": lambda x: math.erf(x),
        "sigmoid": lambda x: (math.exp(x) if x < 0 else 1.0) / (1.0 + math.exp(-abs(x))),
        "softplus": lambda x: max(x, 0.0) + math.log1p(math.exp(-abs(x))),
    }[name]


def reference32_kernel(name: str):
    scalar = numba.njit(inline="always", error_model="numpy")(_libm64(name))

    @numba.njit(parallel=True, error_model="numpy")
    def kernel(x, out):
        for i in prange(x.size):
            out[i] = np.float32(scalar(np.float64(x[i])))

    return kernel


# -- comparison -------------------------------------------------------------------------------


@numba.njit(inline="always")
def _ordered(bits):
    """Bits mapped to integers that are monotonic in the float value (+-0 both map to 0)."""
    return bits if bits >= 0 else -(bits & 0x7FFFFFFFFFFFFFFF)


@numba.njit(error_model="numpy")
def compare(ours, ref, ours_bits, ref_bits, flags, flag_at):
    """(max ulp, its index, special mismatches); ``flags[i]`` set where ulp >= flag_at."""
    worst, where, special = 0, -1, 0
    for i in range(ours.size):
        a, b = ours[i], ref[i]
        flags[i] = False
        if np.isnan(a) or np.isnan(b):
            special += np.isnan(a) != np.isnan(b)
            continue
        if (np.isinf(a) or np.isinf(b)) and a != b:
            special += 1
        if a == 0 and b == 0 and np.signbit(a) != np.signbit(b):
            special += 1
        oa, ob = _ordered(np.int64(ours_bits[i])), _ordered(np.int64(ref_bits[i]))
        ulp = abs(oa - ob) if (oa >= 0) == (ob >= 0) else abs(oa) + abs(ob)
        flags[i] = ulp >= flag_at
        if ulp > worst:
            worst, where = ulp, i
    return worst, where, special


def ulp_table(ours: np.ndarray, ref: np.ndarray, flag_at: int = 1 << 62):
    """(max ulp, its index, special mismatches, mask of elements with ulp >= flag_at)."""
    ints = np.int32 if ours.dtype == np.float32 else np.int64
    flags = np.empty(ours.size, np.bool_)
    worst, where, special = compare(ours, ref, ours.view(ints), ref.view(ints), flags, flag_at)
    return worst, where, special, flags


class Tally:
    """The running worst case of one (function, dtype) sweep."""

    def __init__(self):
        self.worst, self.where, self.special, self.points = 0, None, 0, 0

    def add(self, args: tuple[np.ndarray, ...], ours: np.ndarray, ref: np.ndarray) -> None:
        worst, where, special, _ = ulp_table(ours, ref)
        self.points += ours.size
        self.special += special
        if worst > self.worst:
            self.worst, self.where = (
                worst,
                tuple(a[where] for a in args) + (ours[where], ref[where]),
            )


# -- sweeps -----------------------------------------------------------------------------------


def sweep_float32(name: str, quick: bool) -> Tally:
    kernel, ref_kernel = vm.array_kernel(name, "float32", True), reference32_kernel(name)
    tally, chunk = Tally(), 1 << 24
    starts = [0] if quick else range(0, 1 << 32, chunk)
    pattern = np.random.default_rng(0).integers(0, 1 << 32, chunk, dtype=np.uint32)
    ours, ref = np.empty(chunk, np.float32), np.empty(chunk, np.float32)
    for start in starts:
        bits = pattern if quick else np.arange(start, start + chunk, dtype=np.uint32)
        x = bits.view(np.float32)
        kernel(x, ours)
        ref_kernel(x, ref)
        flagged = ulp_table(ours, ref, 2)[3]
        if flagged.any():  # recheck the larger errors against long double
            ref[flagged] = vm.reference(name, x[flagged])
        tally.add((x,), ours, ref)
    return tally


def float64_grid(name: str, n: int) -> np.ndarray:
    """Log-spaced magnitudes over the range where the function is interesting, both signs
    (positive only where the function needs it), plus special values."""
    lo, hi = {"exp": (-30, 2.86), "expm1": (-30, 2.86), "sigmoid": (-30, 2.9),
              "softplus": (-30, 2.9), "tanh": (-30, 1.4), "erf": (-30, 0.8),
              "log": (-308, 308), "log1p": (-30, 30)}[name]  # fmt: skip
    mags = np.logspace(lo, hi, n // 2)
    if name == "log":
        mags = np.concatenate([mags, np.logspace(-323.3, -308, n // 20)])
        return np.concatenate([mags, [0.0, -0.0, np.inf, -np.inf, np.nan, -1.0, 5e-324]])
    if name == "log1p":
        near = 1 - np.logspace(-16, 0, n // 4)  # x in (-1, 0)
        return np.concatenate([mags, -mags[mags < 1], -near, special_values()])
    return np.concatenate([mags, -mags, special_values()])


def special_values() -> np.ndarray:
    f = np.finfo(np.float64)
    return np.array([0.0, -0.0, np.inf, -np.inf, np.nan, f.tiny, -f.tiny, f.smallest_subnormal,
                     -f.smallest_subnormal, f.max, -f.max, 709.782712893384, 709.7827128933841,
                     -745.1332191019411, -745.1332191019412, -708.3964185322641,
                     1.0, -1.0])  # fmt: skip


def sweep_float64(name: str, n: int) -> Tally:
    x = float64_grid(name, n)
    ours = np.empty_like(x)
    vm.array_kernel(name, "float64", True)(x, ours)
    tally = Tally()
    for part in np.array_split(np.arange(x.size), max(1, x.size // 1_000_000)):
        tally.add((x[part],), ours[part], vm.reference(name, x[part]))
    return tally


def pow_pairs(dtype, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    top = 38 if dtype == np.float32 else 307
    x = 10.0 ** rng.uniform(-top, top, n) * rng.choice([-1, 1], n)
    x[: n // 4] = rng.uniform(0, 4, n // 4)
    y = rng.uniform(-40, 40, n)
    y[: n // 3] = np.round(y[: n // 3])
    y[n // 3 : n // 2] = np.round(y[n // 3 : n // 2] * 2) / 2
    y = np.where(np.abs(np.log(np.abs(x) + 1e-300) * y) > 800, y / 64, y)  # mostly finite
    # a quarter with |x|**y near the overflow and (subnormal) underflow thresholds
    edge = rng.uniform(np.log(np.finfo(dtype).smallest_subnormal), np.log(np.finfo(dtype).max), n)
    edge = edge / np.log(np.abs(x) + (np.abs(x) == 1))
    y[n // 2 : 3 * n // 4] = edge[n // 2 : 3 * n // 4]
    return x.astype(dtype), y.astype(dtype)


def sweep_pow(dtype: str, n: int) -> Tally:
    rng = np.random.default_rng(0)
    kernel, tally = vm.array_kernel("pow", dtype, True), Tally()
    for _ in range(max(1, n // 1_000_000)):
        x, y = pow_pairs(np.dtype(dtype).type, min(n, 1_000_000), rng)
        ours = np.empty_like(x)
        kernel(x, y, ours)
        tally.add((x, y), ours, vm.reference("pow", x, y))
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    names = ["exp", "log", "tanh", "expm1", "log1p", "sigmoid", "softplus", "erf", "pow"]
    parser.add_argument("--func", action="append", choices=names)
    parser.add_argument("--dtype", action="append", choices=["float32", "float64"])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if np.finfo(np.longdouble).nmant < 63:
        print("warning: long double is not 80-bit here; float64 references are inexact")
    n64 = 1_000_000 if args.quick else 10_000_000
    print(f"{'function':10}{'dtype':9}{'points':>14}{'max ulp':>9}{'bound':>7}{'specials':>10}"
          f"{'seconds':>9}  worst case (args, ours, reference)")  # fmt: skip
    for name in args.func or names:
        for dtype in args.dtype or ["float32", "float64"]:
            start = time.perf_counter()
            if name == "pow":
                tally = sweep_pow(dtype, (1 << 24) if args.quick else 50_000_000)
            elif dtype == "float32":
                tally = sweep_float32(name, args.quick)
            else:
                tally = sweep_float64(name, n64)
            bound = BOUNDS[name, dtype]
            mark = "" if tally.worst <= bound and not tally.special else "  <-- FAIL"
            where = ", ".join(repr(v.item()) for v in tally.where) if tally.where else "-"
            print(f"{name:10}{dtype:9}{tally.points:14,}{tally.worst:9}{bound:7}{tally.special:10}"
                  f"{time.perf_counter() - start:9.1f}  ({where}){mark}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
