"""The on-disk cache of compiled kernels: a new process loads the machine code a former one
compiled, two processes may compile the same entry at once, the folder stays under its
bound, ``astsym cache`` shows and clears it, and an unusable folder changes nothing."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import astsym
import astsym.tensor as T
from astsym.cli import main
from astsym.kernels import disk_cache

PROGRAM = """
import json, numpy as np, astsym, astsym.tensor as T
x, a = T.fvector("x"), T.fscalar("a")
f = astsym.function([x, a], T.exp(-x * a) * T.tanh(x) + {extra})
value = np.linspace(-1, 1, 1000, dtype=np.float32)
f(value, np.float32(0.5))
out = f(value, np.float32(0.5))
stats = f.program.compiled.stats
print(json.dumps({{"hits": len(stats.cache_hits), "misses": len(stats.cache_misses),
                  "value": float(out.sum())}}))
"""


def _run(folder, extra="x * x", wait=True):
    env = {**os.environ, "ASTSYM_CACHE_DIR": str(folder)}
    code = PROGRAM.format(extra=extra)
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return _result(proc) if wait else proc


def _result(proc):
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_a_new_process_loads_what_an_earlier_one_compiled(tmp_path):
    cold = _run(tmp_path)
    warm = _run(tmp_path)
    assert cold["misses"] == 1 and cold["hits"] == 0
    assert warm["hits"] == 1 and warm["misses"] == 0
    assert warm["value"] == cold["value"]
    assert disk_cache.info(str(tmp_path))["entries"] >= 2  # the kernel and the graph


def test_two_processes_compiling_the_same_entry_at_once_both_succeed(tmp_path):
    procs = [_run(tmp_path, "x * 3", wait=False) for _ in range(2)]
    first, second = (_result(p) for p in procs)
    assert first["value"] == second["value"]
    assert _run(tmp_path, "x * 3")["hits"] == 1
    assert not list((tmp_path / "numba").glob(".*.tmp"))


def test_the_folder_is_trimmed_to_its_bound_least_recently_used_first(tmp_path, monkeypatch):
    monkeypatch.setattr(astsym.config, "cache_dir", str(tmp_path))
    names = {}
    for k in range(4):
        disk_cache.cached_njit(f"def kernel(x):\n    return x + {k}\n", "kernel", names)
    assert disk_cache.info()["entries"] == 4
    one = disk_cache.info()["bytes"] / 4
    monkeypatch.setattr(astsym.config, "cache_max_mb", 3 * one / 2**20)  # room for about two
    disk_cache.cached_njit("def kernel(x):\n    return x + 0\n", "kernel", names)  # used now
    disk_cache.cached_njit("def kernel(x):\n    return x + 9\n", "kernel", names)  # new: trims
    left = {p.read_text().split("x + ")[1][0] for p in (tmp_path / "numba").glob("k_*.py")}
    assert "9" in left and "0" in left and len(left) == 2


def test_cache_info_and_clear_on_the_command_line(tmp_path, capsys):
    _run(tmp_path)
    assert main(["cache", "info", "--cache-dir", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert f"folder:  {tmp_path / 'numba'}" in text and "entries: 2" in text
    assert main(["cache", "clear", "--cache-dir", str(tmp_path)]) == 0
    assert "removed 2 entries" in capsys.readouterr().out
    assert disk_cache.info(str(tmp_path))["entries"] == 0
    assert not list((tmp_path / "numba" / "__pycache__").iterdir())


def test_an_unusable_folder_compiles_in_memory(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setattr(astsym.config, "cache_dir", str(blocker))
    monkeypatch.setattr(disk_cache, "_warned", False)
    x = T.dvector("x")
    f = astsym.function([x], T.exp(x) * 7 + 2)
    with pytest.warns(UserWarning, match="cannot be used"):
        f(np.ones(3))
    np.testing.assert_allclose(f(np.ones(3)), np.exp(1) * 7 + 2)
