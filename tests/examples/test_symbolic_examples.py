"""The ``@symbolic`` example scripts (``examples/12_*`` to ``14_*``), each run as a user
would run it, and checked by the values it prints: a decreasing cost and a good accuracy
for logistic regression, a decreasing loss for the RNN trained by BPTT, and square roots
that agree with ``numpy.sqrt``."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_example(name: str) -> str:
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def printed(pattern: str, out: str) -> list:
    """Every match of ``pattern`` in the output, its groups as floats."""
    found = [tuple(float(g) for g in m.groups()) for m in re.finditer(pattern, out)]
    assert found, f"no line matches {pattern!r} in:\n{out}"
    return found


def test_symbolic_logistic_regression():
    out = run_example("12_symbolic_logistic_regression.py")
    steps = printed(r"step\s+(\d+)\s+cost ([\d.]+)", out)
    assert [int(s) for s, _ in steps] == list(range(0, 301, 50))
    costs = [c for _, c in steps]
    assert costs[0] == pytest.approx(np.log(2), abs=1e-6)  # w = b = 0: p = 1/2 everywhere
    assert all(b < a for a, b in zip(costs, costs[1:])), costs
    assert costs[-1] < 0.35
    ((accuracy,),) = printed(r"accuracy: ([\d.]+)", out)
    assert accuracy >= 0.95


def test_symbolic_rnn_trained_by_bptt():
    out = run_example("13_symbolic_rnn.py")
    losses = [loss for _, loss in printed(r"step\s+(\d+)\s+loss ([\d.]+)", out)]
    assert len(losses) == 7
    assert all(b < a for a, b in zip(losses, losses[1:])), losses
    assert losses[-1] < losses[0] / 20
    ((held_out, baseline),) = printed(
        r"held-out loss ([\d.]+) \(always predicting 0: ([\d.]+)\)", out
    )
    assert held_out < baseline / 10  # it learned the running mean, not a constant


def test_symbolic_newton():
    out = run_example("14_symbolic_newton.py")
    rows = printed(
        r"sqrt\(([\d.e+-]+)\) = ([\d.e+-]+)\s+numpy.sqrt: ([\d.e+-]+)\s+steps: (\d+)", out
    )
    assert len(rows) == 5
    for a, root, reference, _ in rows:
        assert root == pytest.approx(np.sqrt(a), rel=1e-12)
        assert reference == np.sqrt(a)
    steps = {a: int(k) for a, _, _, k in rows}
    assert steps[1.0] == 0  # already a root: the condition is tested before the first step
    assert steps[2.0] == 5
    newton = ast.literal_eval(re.search(r"newton: (\[.*\])", out).group(1))
    values = np.array([0.25, 2.0, 3.0, 49.0, 1e6])
    np.testing.assert_allclose(newton, np.sqrt(values), rtol=1e-12)
    assert "`while` -> scan" in out
