"""The on-disk cache of compiled kernels: a new process loads the machine code a former one
compiled, two processes may compile the same entry at once, an entry is keyed by what its
names stand for, the folder stays under its bound, and an unusable folder or a damaged
entry changes nothing but speed. Every test uses a folder of its own (``tmp_path``)."""

import json
import os
import subprocess
import sys

import numba
import numpy as np
import pytest

import astsym
import astsym.tensor as T
from astsym.kernels import disk_cache

# Numba's own start-up (its registries, BLAS) is paid once a process, cached or not, so it
# is done before the clock starts: what is timed is compiling, or loading, the function.
PROGRAM = """
import json, time, numpy as np, astsym, astsym.tensor as T
from numba.core.registry import cpu_target
cpu_target.target_context.refresh()
x, a = T.fvector("x"), T.fscalar("a")
f = astsym.function([x, a], T.exp(-x * a) * T.tanh(x) + {extra}, mode="cpu")
value = np.linspace(-1, 1, {size}, dtype=np.float32)
begin = time.perf_counter()
f(value, np.float32(0.5))  # op by op: compiles (or loads) the fused kernel
out = f(value, np.float32(0.5))  # the whole graph
seconds = time.perf_counter() - begin
compiled = f.program.compiled
stats = compiled.stats if compiled is not None else None
print(json.dumps({{"hits": len(stats.cache_hits) if stats else -1,
                  "misses": len(stats.cache_misses) if stats else -1,
                  "seconds": seconds, "value": float(out.sum())}}))
"""


def _run(folder, extra="x * x", size=1000, wait=True):
    env = {**os.environ, "ASTSYM_CACHE_DIR": str(folder)}
    code = PROGRAM.format(extra=extra, size=size)
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


def _plus(k: int) -> str:
    return f"def kernel(x):\n    return x + {k}\n"


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setattr(astsym.config, "cache_dir", str(tmp_path))
    return tmp_path / "numba"


def test_a_new_process_loads_what_an_earlier_one_compiled(tmp_path):
    cold = _run(tmp_path)
    warm = _run(tmp_path)
    assert cold["misses"] == 1 and cold["hits"] == 0
    assert warm["hits"] == 1 and warm["misses"] == 0
    assert warm["value"] == cold["value"]
    # loading is a few milliseconds against most of a second: a structural check
    assert warm["seconds"] < cold["seconds"] / 2, (warm, cold)
    assert disk_cache.info(str(tmp_path))["entries"] == 2  # the kernel and the graph
    numba_files = [p.suffix for p in (tmp_path / "numba" / "__pycache__").iterdir()]
    assert sorted(numba_files) == [".nbc", ".nbc", ".nbi", ".nbi"]


def test_two_processes_compiling_the_same_entry_at_once_both_succeed(tmp_path):
    procs = [_run(tmp_path, "x * 3", wait=False) for _ in range(2)]
    first, second = (_result(p) for p in procs)
    assert first["value"] == second["value"] == pytest.approx(_expected("x * 3"), rel=1e-5)
    third = _run(tmp_path, "x * 3")
    assert third["hits"] == 1 and third["value"] == first["value"]
    assert third["seconds"] < min(first["seconds"], second["seconds"]) / 2
    assert not list((tmp_path / "numba").glob(".*.tmp"))


def _expected(extra: str) -> float:
    x = np.linspace(-1, 1, 1000, dtype=np.float32)
    return float((np.exp(-x * 0.5) * np.tanh(x) + eval(extra)).sum())


def test_a_process_with_larger_inputs_compiles_the_graph_it_needs(tmp_path):
    # the graph's source is the same, but it calls the threaded variant of the kernel
    small = _run(tmp_path, "x * 5", size=1000)
    large = _run(tmp_path, "x * 5", size=100_000)
    assert small["misses"] == large["misses"] == 1  # two entries, none refused


def test_a_graph_calling_other_kernels_is_another_entry(folder):
    one = disk_cache.cached_njit(_plus(101), "kernel", {})
    two = disk_cache.cached_njit(_plus(102), "kernel", {})
    graph = "def graph(x):\n    return k0(x) * 10\n"
    assert disk_cache.cached_njit(graph, "graph", {"k0": one})(1) == 1020
    assert disk_cache.cached_njit(graph, "graph", {"k0": two})(1) == 1030


def test_a_name_the_cache_cannot_identify_is_compiled_in_memory(folder):
    helper = numba.njit(lambda x: x)  # defined here, not in astsym.kernels
    source = "def kernel(x):\n    return f(x)\n"
    assert disk_cache.cached_njit(source, "kernel", {"f": helper}) is None
    assert not list(folder.glob("k_*.py"))


def test_a_damaged_entry_is_compiled_again(folder):
    disk_cache.cached_njit(_plus(103), "kernel", {})(1)  # compiled and saved
    for path in (folder / "__pycache__").iterdir():
        path.write_bytes(b"damaged")
    assert _fresh_import(_plus(103))(1) == 104  # load fails: compiled again, saved again
    again = _fresh_import(_plus(103))
    assert again(1) == 104 and len(again.stats.cache_hits) == 1


def _fresh_import(source: str):
    """The entry's function as a new process would get it: its module imported anew."""
    for name in [m for m in sys.modules if m.startswith(disk_cache._PREFIX)]:
        del sys.modules[name]
    return disk_cache.cached_njit(source, "kernel", {})


def test_the_folder_is_trimmed_to_its_bound_least_recently_used_first(folder, monkeypatch):
    for k in range(4):
        disk_cache.cached_njit(_plus(k), "kernel", {})(1)  # with Numba's files
    assert disk_cache.info()["entries"] == 4
    one = disk_cache.info()["bytes"] / 4
    monkeypatch.setattr(astsym.config, "cache_max_mb", 1.5 * one / 2**20)  # one, and a new one
    disk_cache.cached_njit(_plus(0), "kernel", {})  # used now
    disk_cache.cached_njit(_plus(9), "kernel", {})  # new: the folder is trimmed
    left = {p.read_text().split("x + ")[1][0] for p in folder.glob("k_*.py")}
    assert left == {"0", "9"}
    numba_files = {p.name.split(".")[0] for p in folder.glob("__pycache__/k_*")}
    assert numba_files == {"k_" + disk_cache._key(_plus(0), "kernel", {}, {})}  # 9 never ran


def test_clear_removes_only_what_the_cache_wrote(folder):
    disk_cache.cached_njit(_plus(104), "kernel", {})(1)
    (folder / "notes.txt").write_text("mine")
    count, freed = disk_cache.clear()
    assert count == 1 and freed > 0
    left = {p.name for p in folder.rglob("*") if p.is_file()}
    assert left == {"notes.txt", ".lock"}  # the lock file other processes may be holding
    assert disk_cache.info()["entries"] == disk_cache.info()["bytes"] == 0


def test_an_unusable_folder_compiles_in_memory(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setattr(astsym.config, "cache_dir", str(blocker))
    monkeypatch.setattr(disk_cache, "_warned", False)
    x = T.dvector("x")
    f = astsym.function([x], T.exp(x) * 7 + 2, mode="cpu")
    with pytest.warns(UserWarning, match="cannot be used"):
        f(np.ones(3))
    np.testing.assert_allclose(f(np.ones(3)), np.exp(1) * 7 + 2)
