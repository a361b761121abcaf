"""benchmarks/run.py --quick runs every benchmark's small version and prints one table.

Times are not asserted (they depend on the machine and its load); the test checks that every
benchmark ran, that its figures were read from its output, and that the table names the
machine. Several minutes on a loaded 2-core machine, hence slow.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_run_quick_prints_one_table_of_every_benchmark() -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import run
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=1800,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("machine: ") and "CPUs" in lines[0]
    head = [cell.strip() for cell in lines[2].split(" | ")]
    assert head == ["benchmark", "figure", "value", "reference", "ratio", "goal"]
    rows = [[cell.strip() for cell in line.split(" | ")] for line in lines[4:]]
    names = {row[0] for row in rows}
    assert names == {b.name for b in run.BENCHMARKS}
    assert not any("FAILED" in row[1] for row in rows)
    assert not any(row[2] == "?" for row in rows)  # every figure was found in its output
    figures = {(row[0], row[1]) for row in rows}
    assert ("scale", "fit 10,000 points") in figures
    assert ("coverage", "95% coverage L(10x N)") in figures
    assert ("chinchilla_fit", "best objective vs Epoch AI") in figures
