"""How long ``grad`` takes to build the gradient graph of a 10,000-node graph.

Run: ``OPENBLAS_NUM_THREADS=1 python benchmarks/grad_build.py``. Prints the median of
several runs for two graph shapes: a deep chain (each node feeds the next) and a wide sum of
many small terms that reuse the same inputs. There is no NumPy counterpart to compare with;
PyTensor's figure is printed beside it when PyTensor is installed.
"""

from __future__ import annotations

import statistics
import sys
import time

import astsym.tensor as T
from astsym import grad
from astsym.graph.walk import toposort

TARGET_NODES = 10_000
REPEATS = 5


def chain(lib):
    x = lib.dvector("x")
    y = x
    for _ in range(TARGET_NODES // 5):
        y = lib.tanh(y * 1.01 + 0.1) + y * 0.5  # 5 nodes per step
    return y.sum(), x


def wide(lib):
    x, w = lib.dvector("x"), lib.dvector("w")
    terms = [lib.exp(x * (i * 0.001)) * w for i in range(TARGET_NODES // 4)]  # 4 nodes each
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total.sum(), x


def _count_pytensor(var):
    try:
        from pytensor.graph.traversal import io_toposort
    except ImportError:  # older PyTensor
        from pytensor.graph.basic import io_toposort

    return len(io_toposort([], [var]))


def measure(build, lib, grad_fn) -> tuple[int, float, float]:
    builds, grads = [], []
    for _ in range(REPEATS):
        start = time.perf_counter()
        cost, x = build(lib)
        built = time.perf_counter()
        grad_fn(cost, x)
        done = time.perf_counter()
        builds.append(built - start)
        grads.append(done - built)
    nodes = len(toposort([cost])) if lib is T else _count_pytensor(cost)
    return nodes, statistics.median(builds), statistics.median(grads)


def main() -> int:
    sys.setrecursionlimit(50_000)  # a peer that recurses over the graph gets a fair chance
    print(f"grad build time, median of {REPEATS} runs")
    peers = [("astsym", T, grad)]
    try:
        import pytensor
        import pytensor.tensor as pt

        peers.append(("pytensor", pt, pytensor.grad))
    except ImportError:
        print("(PyTensor is not installed: no peer figure)")
    for shape in (chain, wide):
        for name, lib, grad_fn in peers:
            try:
                nodes, build_s, grad_s = measure(shape, lib, grad_fn)
            except RecursionError:
                print(f"{shape.__name__:>6} {name:>9}: failed (RecursionError)")
                continue
            print(
                f"{shape.__name__:>6} {name:>9}: {nodes:6d} nodes, graph {build_s:.3f} s, "
                f"grad {grad_s:.3f} s"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
