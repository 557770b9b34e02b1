"""First-compile times of W2 (logistic-regression step) and W4b (RNN BPTT): a new process
with an empty kernel cache, then a new process reading the cache the first one wrote.

The figure is the building of the function and its first two calls (the second compiles the
whole graph, ``config.compile_after``), on small data so that it is compile time.

Run: ``python benchmarks/compile_times.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

PROGRAMS = {
    "W2": """
import numpy as np, astsym, astsym.tensor as T
X = np.random.default_rng(0).standard_normal((1000, 100)).astype(np.float32)
Y = (X[:, 0] > 0).astype(np.float32)
x, y = T.fmatrix("x"), T.fvector("y")
w = astsym.shared(np.zeros(100, np.float32), name="w")
b = astsym.shared(np.float32(0), name="b")
p = 1 / (1 + T.exp(-(T.dot(x, w) + b)))
cost = -T.mean(y * T.log(p) + (1 - y) * T.log(1 - p))
gw, gb = astsym.grad(cost, [w, b])
f = astsym.function([x, y], cost, updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)])
args = (X, Y)
""",
    "W4b": """
import numpy as np, astsym, astsym.tensor as T
rng = np.random.default_rng(0)
sW = astsym.shared((rng.standard_normal((64, 64)) * 0.1).astype(np.float32), "W")
sU = astsym.shared((rng.standard_normal((64, 32)) * 0.1).astype(np.float32), "U")
sb = astsym.shared(np.zeros(64, np.float32), "b")
xs, h = T.fmatrix("xs"), T.fvector("h0")
hs, _ = astsym.scan(lambda x_t, h_prev: T.tanh(T.dot(sW, h_prev) + T.dot(sU, x_t) + sb),
                    sequences=xs, outputs_info=h)
grads = astsym.grad(hs[-1].sum(), [sW, sU, sb])
f = astsym.function([xs, h], T.concatenate([g.flatten() for g in grads]))
args = (rng.standard_normal((20, 32)).astype(np.float32), np.zeros(64, np.float32))
""",
}

TIMED = """
import time
begin = time.perf_counter()
import numpy, astsym, astsym.tensor  # imports are timed apart: Numba's alone take ~0.4 s
imported = time.perf_counter()
{program}
f(*args)
f(*args)
print(imported - begin, time.perf_counter() - imported, f.program.compiled is not None)
"""


def measure(name: str, folder: str) -> tuple[float, bool]:
    env = {**os.environ, "ASTSYM_CACHE_DIR": folder, "OPENBLAS_NUM_THREADS": "1"}
    code = TIMED.format(program=PROGRAMS[name])
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    imports, seconds, whole = done.stdout.split()[-3:]
    return float(imports), float(seconds), whole == "True"


def main() -> int:
    rows = {}
    for name in PROGRAMS:
        with tempfile.TemporaryDirectory() as folder:
            imports, cold, whole = measure(name, folder)
            _, warm, _ = measure(name, folder)
        rows[name] = {"imports": imports, "cold": cold, "warm": warm, "compiled_whole": whole}
        print(
            f"{name}: imports {imports:.2f} s; then cold {cold:.2f} s, "
            f"from the disk cache {warm:.2f} s (compiled whole: {whole})"
        )
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
