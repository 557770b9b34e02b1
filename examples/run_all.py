"""Run every example script in this folder, in order, and report each as ok or failed.

    python examples/run_all.py        # exit status 0 when every example ran

Each example runs in its own Python process (``sys.executable``), so one example's
graphs and shared variables cannot leak into the next.
"""

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def example_scripts() -> list[Path]:
    """The numbered example scripts, in order (``01_scalars.py``, ...)."""
    return sorted(p for p in HERE.glob("[0-9][0-9]_*.py"))


def run_example(path: Path) -> bool:
    """Run one example, echo its output indented, and say whether it exited cleanly."""
    tic = time.perf_counter()
    proc = subprocess.run([sys.executable, str(path)], capture_output=True, text=True)
    elapsed = time.perf_counter() - tic
    ok = proc.returncode == 0
    print(f"=== {path.name}: {'ok' if ok else 'FAILED'} ({elapsed:.2f} s)")
    for line in (proc.stdout + ("" if ok else proc.stderr)).splitlines():
        print("    " + line)
    return ok


def main() -> int:
    scripts = example_scripts()
    failed = [p.name for p in scripts if not run_example(p)]
    print()
    print(f"{len(scripts)} examples, {len(scripts) - len(failed)} ok, {len(failed)} failed")
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
