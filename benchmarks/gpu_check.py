"""The GPU backend checked on a GPU machine: the device, the differential tests of every op on
the device, then NumPy (CPU), CuPy op by op and astsym ``mode='gpu'`` timed side by side.

- W-chain: ``exp(-x*x) * tanh(x) + 0.5*x`` (7 ops) on 10M float32; astsym takes a CuPy input
  and its output stays on the device. GB/s = (bytes read + bytes written) / time.
- W-logreg: one logistic-regression training step, X 100,000 x 100 float32, shared ``w``
  (100,) and ``b`` (); cost = mean cross-entropy + 0.01 * sum(w**2), then ``w -= 0.1*gw``,
  ``b -= 0.1*gb``; returns the cost. GB/s counts X read twice (``X @ w`` and ``X.T @ g``).
- W-rnn: ``h_t = tanh(x_t @ W + h_{t-1} @ U + b)``, 1000 steps, hidden 256, input 256,
  batch 1 (vectors): the forward pass to ``h_T`` (astsym: ``scan``), and W-rnn-bptt, the
  gradient of ``sum(h_T)`` with respect to W, U and b (astsym: ``grad`` through the scan).

NumPy and CuPy run the same hand-written functions (``xp`` is ``numpy`` or ``cupy``; the BPTT
keeps each step's ``dz`` and takes the weight gradients as two matrix products at the end).
Every astsym result (and CuPy's) is checked against NumPy before timing. A time is the median
of ``--repeats`` samples after warm-up; a GPU sample is a loop of calls long enough to last
about 20 ms between two device synchronizations, divided by its number of calls. Ratio =
other time / astsym time (above 1: astsym is faster). astsym's compile time is the building of
the function and its first two calls. Repeats shrink when ``--budget`` runs short.

Installs nothing; imports only NumPy, CuPy, astsym (from this checkout) and the standard
library. Exit status: 0 when the tests and every check passed (targets are reported, not
enforced), 1 otherwise, 2 when this machine cannot run the ``gpu`` backend.

Run: ``python benchmarks/gpu_check.py [--skip-tests] [--tests-budget 150] [--budget 330]``;
without a GPU, ``python benchmarks/gpu_check.py --host-emulation --scale 0.01`` runs every
code path on ``tests/gpu_host/cupy_on_host.py`` (a host stand-in for CuPy; meaningless times).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # astsym from this checkout, installed or not

import astsym  # noqa: E402
import astsym.tensor as T  # noqa: E402
from astsym.runtime import device  # noqa: E402

TEST_DIRS = ["tests/graph", "tests/kernels", "tests/runtime"]
PYTEST_ARGS = ["-q", "-m", "gpu", "-p", "no:cacheprovider", *TEST_DIRS]
#: runs pytest with the host stand-in installed, the reference held for the whole session
HOST_PYTEST = (
    "import sys; sys.path.insert(0, 'tests'); import pytest; "
    "from gpu_host import cupy_on_host; from astsym.runtime.device import use_array_module; "
    "held = use_array_module(cupy_on_host); held.__enter__(); "
    "sys.exit(pytest.main(sys.argv[1:]))"
)
F32 = np.float32


class Clock:
    """The time left of ``--budget``, shared out among the timings still to run."""

    def __init__(self, budget: float) -> None:
        self.start = time.perf_counter()
        self.deadline = self.start + budget

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def share(self, parts: int) -> float:
        return max(0.0, self.deadline - time.perf_counter()) / max(parts, 1)


# -- the device ------------------------------------------------------------------------------


def load_cupy(host: bool):
    """CuPy, or the host stand-in; None (with the reason printed) when neither can run."""
    if host:
        sys.path.insert(0, str(ROOT / "tests"))
        from gpu_host import cupy_on_host

        return cupy_on_host
    reason = device.gpu_status()
    if reason is not None:
        print(f"the gpu backend cannot run here: {reason}")
        return None
    return device.array_module()


def theoretical_bandwidth(props: dict) -> float | None:
    """Bytes/s from the memory clock (kHz, double data rate) and bus width (bits)."""
    clock, width = props.get("memoryClockRate"), props.get("memoryBusWidth")
    if not clock or not width:
        return None
    return clock * 1e3 * 2 * width / 8


def copy_bandwidth(cp, nbytes: int) -> float:
    """Bytes/s of a device-to-device copy (each copy reads and writes ``nbytes``)."""
    src = cp.ones(nbytes // 4, dtype=cp.float32)
    dst = cp.empty_like(src)
    seconds = gpu_time(lambda: cp.copyto(dst, src), cp, repeats=5)
    return 2 * src.nbytes / seconds


def describe_device(cp, scale: float) -> float:
    """Prints the device; returns the peak bandwidth (bytes/s) the targets are measured on."""
    props = cp.cuda.runtime.getDeviceProperties(0)
    name = props.get("name", b"?")
    name = name.decode() if isinstance(name, bytes) else str(name)
    print(f"device: {name}, {props.get('totalGlobalMem', 0) / 2**30:.1f} GiB")
    theory = theoretical_bandwidth(props)
    measured = copy_bandwidth(cp, max(1 << 20, int((256 << 20) * min(scale, 1.0))))
    plausible = theory is not None and 10e9 <= theory <= 20e12
    shown = f"{theory / 1e9:.0f} GB/s" if theory else "not reported"
    print(f"memory bandwidth: theoretical {shown} (memoryClockRate x 2 x memoryBusWidth / 8;")
    print(f"  H200 HBM3e is ~4800 GB/s); device-to-device copy {measured / 1e9:.0f} GB/s")
    if not plausible:
        print("  the theoretical figure is implausible: targets use the measured copy instead")
    return theory if plausible else measured


def thread_settings() -> str:
    names = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    found = ", ".join(f"{name}={os.environ.get(name, 'unset')}" for name in names)
    return f"NumPy threads: {found}; {os.cpu_count()} CPUs"


# -- the differential tests ------------------------------------------------------------------


@dataclass
class TestRun:
    counts: dict[str, int]
    timed_out: bool
    failures: list[str]


def run_tests(budget: float, host: bool) -> TestRun:
    """The ``gpu``-marked tests in a subprocess, killed (with its children) past ``budget``."""
    code = ["-c", HOST_PYTEST] if host else ["-m", "pytest"]
    proc = subprocess.Popen(
        [sys.executable, *code, *PYTEST_ARGS],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=budget)
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        timed_out = True
    return TestRun(parse_counts(out, timed_out), timed_out, re.findall(r"^FAILED .*", out, re.M))


def parse_counts(out: str, timed_out: bool) -> dict[str, int]:
    """pytest's summary line (``3 failed, 40 passed in 9s``), or the progress dots so far."""
    summary = [line for line in out.splitlines() if re.search(r" in [\d.]+s", line)]
    if summary and not timed_out:
        found = re.findall(r"(\d+) (\w+)", summary[-1])
        return {word.rstrip("s") if word == "errors" else word: int(n) for n, word in found}
    progress = "".join(
        re.sub(r"\s*\[\s*\d+%\]$", "", line)
        for line in out.splitlines()
        if re.fullmatch(r"[.FEsxX]+(\s*\[\s*\d+%\])?", line.strip())
    )
    names = {".": "passed", "F": "failed", "E": "error", "s": "skipped"}
    return {name: progress.count(mark) for mark, name in names.items() if mark in progress}


def report_tests(run: TestRun, budget: float) -> bool:
    counts = ", ".join(f"{n} {word}" for word, n in run.counts.items()) or "nothing ran"
    state = f"timed out after {budget:.0f} s, so far" if run.timed_out else "done"
    print(f"differential tests ({' '.join(PYTEST_ARGS)}): {state}: {counts}")
    if run.timed_out and run.counts.get("failed"):
        print("  (pytest names its failures only when it finishes: raise --tests-budget)")
    for line in run.failures[:10]:
        print(f"  {line}")
    if len(run.failures) > 10:
        print(f"  ... and {len(run.failures) - 10} more")
    ok = not run.timed_out and not run.counts.get("failed") and not run.counts.get("error")
    return ok and run.counts.get("passed", 0) > 0


# -- timing ----------------------------------------------------------------------------------


def cpu_time(fn, repeats: int, allowance: float = 1e9) -> float:
    fn()
    samples = []
    for _ in range(repeats):
        begin = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - begin)
        if sum(samples) > allowance and len(samples) >= 3:
            break
    return float(np.median(samples))


def gpu_time(fn, cp, repeats: int, allowance: float = 1e9, sample: float = 0.02) -> float:
    """Median seconds per call; each sample is a loop of calls between two synchronizations."""
    sync = cp.cuda.Device().synchronize
    fn()
    sync()
    begin = time.perf_counter()
    fn()
    sync()
    inner = max(1, int(sample / max(time.perf_counter() - begin, 1e-7)))
    samples = []
    for _ in range(repeats):
        begin = time.perf_counter()
        for _ in range(inner):
            fn()
        sync()
        samples.append((time.perf_counter() - begin) / inner)
        if sum(samples) * inner > allowance and len(samples) >= 3:
            break
    return float(np.median(samples))


def compiled(build):
    """(call, its first two results on the host, compile seconds); ``build`` -> (f, call)."""
    begin = time.perf_counter()
    fn, call = build()
    results = [to_host(call()), to_host(call())]
    return call, results, time.perf_counter() - begin


def to_host(value) -> np.ndarray:
    """A NumPy copy of a result (a list of arrays: flattened and joined)."""
    if isinstance(value, (list, tuple)):
        return np.concatenate([to_host(v).ravel() for v in value])
    return value.get() if hasattr(value, "get") else np.array(value)


def agrees(got, expected, rtol: float) -> bool:
    got, expected = to_host(got), to_host(expected)
    atol = rtol * max(1.0, float(np.abs(expected).max(initial=0.0)))
    return got.shape == expected.shape and bool(np.allclose(got, expected, rtol=rtol, atol=atol))


# -- workloads: the same hand-written function for NumPy and CuPy (``xp``), and astsym --------


def chain(xp, x):
    return xp.exp(-x * x) * xp.tanh(x) + F32(0.5) * x


def w_chain(cp, scale: float) -> dict:
    X = np.random.default_rng(0).standard_normal(max(1000, int(10_000_000 * scale)), dtype=F32)
    Xd = cp.asarray(X)

    def build():
        x = T.fvector("x")
        f = astsym.function([x], chain(T, x), mode="gpu", return_numpy=False)
        return f, lambda: f(Xd)

    return {
        "numpy": lambda: chain(np, X),
        "cupy": lambda: chain(cp, Xd),
        "astsym": build,
        "bytes": 2 * X.nbytes,
        "rtol": 1e-4,
    }


def logreg_step(xp, X, Y, state):
    """One step on ``state = [w, b]``, updated in place of the list; returns the cost."""
    w, b = state
    n = F32(X.shape[0])
    p = F32(1) / (F32(1) + xp.exp(-(X @ w + b)))
    cost = -xp.mean(Y * xp.log(p) + (F32(1) - Y) * xp.log(F32(1) - p)) + F32(0.01) * (w * w).sum()
    g = (p - Y) / n
    state[0] = w - F32(0.1) * (X.T @ g + F32(0.02) * w)
    state[1] = b - F32(0.1) * g.sum()
    return cost


def w_logreg(cp, scale: float) -> dict:
    rng = np.random.default_rng(0)
    n, d = max(1000, int(100_000 * scale)), 100
    X = rng.standard_normal((n, d), dtype=F32)
    Y = (rng.random(n) > 0.5).astype(F32)
    Xd, Yd = cp.asarray(X), cp.asarray(Y)
    host, dev = [np.zeros(d, F32), F32(0)], [cp.zeros(d, F32), cp.zeros((), F32)]

    def build():
        x, y = T.fmatrix("x"), T.fvector("y")
        w, b = astsym.shared(np.zeros(d, F32), name="w"), astsym.shared(F32(0), name="b")
        p = T.nnet.sigmoid(T.dot(x, w) + b)
        cost = -T.mean(y * T.log(p) + (1 - y) * T.log(1 - p)) + F32(0.01) * (w**2).sum()
        gw, gb = astsym.grad(cost, [w, b])
        updates = [(w, w - F32(0.1) * gw), (b, b - F32(0.1) * gb)]
        f = astsym.function([x, y], cost, updates=updates, mode="gpu", return_numpy=False)
        return f, lambda: f(Xd, Yd)

    state = [np.zeros(d, F32), F32(0)]
    expected = [logreg_step(np, X, Y, state), logreg_step(np, X, Y, state)]
    return {
        "numpy": lambda: logreg_step(np, X, Y, host),
        "cupy": lambda: logreg_step(cp, Xd, Yd, dev),
        "astsym": build,
        "expected": expected,  # the first two steps: the second checks the updates
        "bytes": 2 * X.nbytes,
        "rtol": 1e-4,
    }


def rnn_forward(xp, X, W, U, b, h0):
    """Every state ``hs[0..T]`` of ``h_t = tanh(x_t @ W + h_{t-1} @ U + b)``."""
    hs = xp.empty((len(X) + 1, len(h0)), dtype=F32)
    hs[0] = h0
    for t in range(len(X)):
        hs[t + 1] = xp.tanh(X[t] @ W + hs[t] @ U + b)
    return hs


def rnn_bptt(xp, X, W, U, b, h0):
    """The gradients of ``sum(h_T)`` with respect to W, U and b."""
    hs = rnn_forward(xp, X, W, U, b, h0)
    dzs = xp.empty((len(X), len(h0)), dtype=F32)
    dh = xp.ones_like(h0)
    for t in range(len(X), 0, -1):
        dz = dh * (F32(1) - hs[t] * hs[t])
        dzs[t - 1] = dz
        dh = U @ dz
    return [X.T @ dzs, hs[:-1].T @ dzs, dzs.sum(0)]


def w_rnn(cp, scale: float, backward: bool) -> dict:
    rng = np.random.default_rng(0)
    steps, hidden, inputs = max(10, int(1000 * scale)), 256, 256
    W = (rng.standard_normal((inputs, hidden)) / np.sqrt(inputs)).astype(F32)
    U = (rng.standard_normal((hidden, hidden)) * 0.9 / np.sqrt(hidden)).astype(F32)
    b = (rng.standard_normal(hidden) * 0.1).astype(F32)
    X = rng.standard_normal((steps, inputs), dtype=F32)
    h0 = np.zeros(hidden, F32)
    host, dev = (X, W, U, b, h0), tuple(cp.asarray(a) for a in (X, W, U, b, h0))

    def reference(xp, *args):
        return rnn_bptt(xp, *args) if backward else rnn_forward(xp, *args)[-1]

    def build():
        sW, sU, sb = (astsym.shared(a, name=n) for a, n in ((W, "W"), (U, "U"), (b, "b")))
        xs, h = T.fmatrix("xs"), T.fvector("h0")
        hs, _ = astsym.scan(
            lambda x_t, h_prev: T.tanh(T.dot(x_t, sW) + T.dot(h_prev, sU) + sb),
            sequences=xs,
            outputs_info=h,
        )
        out = astsym.grad(hs[-1].sum(), [sW, sU, sb]) if backward else hs[-1]
        f = astsym.function([xs, h], out, mode="gpu", return_numpy=False)
        return f, lambda: f(dev[0], dev[4])

    return {
        "numpy": lambda: reference(np, *host),
        "cupy": lambda: reference(cp, *dev),
        "astsym": build,
        "rtol": 1e-3,
    }


WORKLOADS = {
    "W-chain": w_chain,
    "W-logreg": w_logreg,
    "W-rnn": lambda cp, scale: w_rnn(cp, scale, backward=False),
    "W-rnn-bptt": lambda cp, scale: w_rnn(cp, scale, backward=True),
}

#: (ratio to NumPy, ratio to CuPy op by op, fraction of peak bandwidth); None: no target
TARGETS = {"W-chain": (200, 3, 0.5), "W-logreg": (50, None, None)}


@dataclass
class Row:
    name: str
    times: dict[str, float] = field(default_factory=dict)
    checks: dict[str, bool] = field(default_factory=dict)
    compile_s: float = float("nan")
    nbytes: int = 0
    error: str = ""


def measure(name: str, cp, scale: float, repeats: int, clock: Clock, left: int) -> Row:
    """One workload: results checked against NumPy, then the three timed side by side."""
    case, row = WORKLOADS[name](cp, scale), Row(name)
    row.nbytes = case.get("bytes", 0)
    expected = case.get("expected") or [case["numpy"]()] * 2
    cupy_results = [to_host(case["cupy"]()), to_host(case["cupy"]())]
    row.checks["cupy"] = agrees(cupy_results, expected, case["rtol"])
    try:
        call, results, row.compile_s = compiled(case["astsym"])
    except Exception as err:  # noqa: BLE001 - reported in the table, the others carry on
        row.error = f"{type(err).__name__}: {err}"
        traceback.print_exc()
        call = None
    else:
        row.checks["astsym"] = agrees(results, expected, case["rtol"])
    candidates = [("numpy", case["numpy"], None), ("cupy", case["cupy"], cp)]
    candidates += [("astsym", call, cp)] if call else []
    for label, fn, module in candidates:
        allowance = clock.share(left * 3)
        if module is None:
            row.times[label] = cpu_time(fn, repeats, allowance)
        else:
            row.times[label] = gpu_time(fn, module, repeats, allowance)
    return row


# -- the table -------------------------------------------------------------------------------

HEADER = (
    f"{'workload':11} {'NumPy ms':>9} {'CuPy ms':>9} {'astsym ms':>9} {'vs NumPy':>9} "
    f"{'vs CuPy':>8} {'GB/s':>7} {'%peak':>6} {'compile s':>9} {'check':>8}  target: met"
)


def target_text(row: Row, peak: float) -> str:
    goal = TARGETS.get(row.name)
    if goal is None or "astsym" not in row.times:
        return "-"
    ours, parts = row.times["astsym"], []
    for base, want in (("numpy", goal[0]), ("cupy", goal[1])):
        if want is not None:
            met = row.times[base] / ours >= want
            parts.append(f">={want}x {'NumPy' if base == 'numpy' else 'CuPy'}: {_yes(met)}")
    if goal[2] is not None:
        met = row.nbytes / ours >= goal[2] * peak
        parts.append(f">={goal[2]:.0%} peak BW: {_yes(met)}")
    return "; ".join(parts)


def _yes(met: bool) -> str:
    return "yes" if met else "NO"


def format_row(row: Row, peak: float) -> str:
    t = row.times
    ours = t.get("astsym")
    cells = [f"{row.name:11}", f"{t['numpy'] * 1e3:9.3f}", f"{t['cupy'] * 1e3:9.3f}"]
    if ours is None:
        return " ".join(cells) + f"  astsym FAILED: {row.error[:80]}"
    cells += [f"{ours * 1e3:9.3f}", f"{t['numpy'] / ours:8.1f}x", f"{t['cupy'] / ours:7.2f}x"]
    rate = row.nbytes / ours if row.nbytes else None
    cells += [f"{rate / 1e9:7.1f}", f"{rate / peak:6.0%}"] if rate else [f"{'-':>7}", f"{'-':>6}"]
    check = "OK" if all(row.checks.values()) else "MISMATCH"
    cells += [f"{row.compile_s:9.2f}", f"{check:>8}", f" {target_text(row, peak)}"]
    return " ".join(cells)


LABELS = {"cupy": "CuPy op by op", "astsym": "astsym"}


def print_table(rows: list[Row], peak: float) -> None:
    print()
    print(HEADER)
    for row in rows:
        print(format_row(row, peak))
        for label, ok in row.checks.items():
            if not ok:
                print(f"  {row.name}: {LABELS[label]}'s result disagrees with NumPy's")
    print("ratios: other time / astsym time (above 1: astsym is faster); GB/s: astsym's")


# -- main ------------------------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=330, help="seconds for everything")
    parser.add_argument(
        "--tests-budget", type=float, help="seconds for the tests (150; 30 with host emulation)"
    )
    parser.add_argument("--skip-tests", action="store_true")
    parser.add_argument("--repeats", type=int, default=9, help="samples per timing, at most")
    parser.add_argument("--scale", type=float, default=1.0, help="problem sizes times this")
    parser.add_argument("--host-emulation", action="store_true", help="CuPy played by the host")
    parser.add_argument("workloads", nargs="*", help=f"some of {', '.join(WORKLOADS)} (all)")
    args = parser.parse_args(argv)
    unknown = set(args.workloads) - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown workloads {sorted(unknown)}; choose from {list(WORKLOADS)}")
    args.workloads = args.workloads or list(WORKLOADS)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    clock = Clock(args.budget)
    cp = load_cupy(args.host_emulation)
    if cp is None:
        return 2
    if args.host_emulation:
        print("HOST EMULATION: CuPy is tests/gpu_host/cupy_on_host.py on the CPU; every code")
        print("path runs, but the times, ratios, bandwidths and targets below mean nothing")
    print(f"{thread_settings()}; sizes x {args.scale:g}")
    peak = describe_device(cp, args.scale)
    tests_ok = True
    if not args.skip_tests:
        default = 30 if args.host_emulation else 150
        budget = min(args.tests_budget or default, clock.share(1))
        tests_ok = report_tests(run_tests(budget, args.host_emulation), budget)
    stack = contextlib.ExitStack()
    if args.host_emulation:
        stack.enter_context(device.use_array_module(cp))
    with stack:
        rows = []
        for i, name in enumerate(args.workloads):
            left = len(args.workloads) - i
            rows.append(measure(name, cp, args.scale, args.repeats, clock, left))
    print_table(rows, peak)
    print(f"elapsed {clock.elapsed():.0f} s (budget {args.budget:.0f} s)")
    checks_ok = all(not row.error and all(row.checks.values()) for row in rows)
    return 0 if tests_ok and checks_ok else 1


if __name__ == "__main__":
    sys.exit(main())
