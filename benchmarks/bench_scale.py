"""Scale: fit time and peak memory against the number of points, and ingest of big CSVs.

Each case runs in a fresh Python process, so its peak resident memory (``VmHWM`` on Linux;
``ru_maxrss`` elsewhere, which on Linux also counts the parent's size at the fork, e.g. the
10^7-row frame it has just written) is its own. Cases (issue #9 item 6 goals in brackets):

- ``fit n``: ``fit(table, "chinchilla", points="all")`` on n synthetic points (runs of 100
  checkpoints, Epoch AI's parameters, 1 % log-normal noise) [10^6 points ≤ 30 s, ≤ 2 GB;
  10^5 ≤ 3 s]. The reference is the same fit on 10^4 points scaled linearly to n (ratio
  1 = exactly linear growth).
- ``ingest rows``: ``load_runs`` of a CSV of ``run, step, n_params, tokens, loss`` rows
  [10^7 rows ≤ 15 s, ≤ 2 GB]; reference: ``pandas.read_csv`` of the same file.
- ``ingest wide``: ``load_runs`` of a 3-row CSV with 200,000 extra columns [seconds];
  reference: ``pandas.read_csv`` of the same file.

Usage::

    python benchmarks/bench_scale.py           # 10^4..10^6 points, 10^7 rows (~380 MB of CSV)
    python benchmarks/bench_scale.py --quick   # 10^3..10^4 points, 10^5 rows, 2,000 columns

Prints one line per case: ``name | seconds | peak GB | reference seconds``. Data files go to
a temporary folder that is removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, resource, sys, time, warnings
import numpy as np, pandas as pd
case, size, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
import scaling_fit as sf
def table(n):
    rng = np.random.default_rng(0)
    per_run = 100
    runs = max(n // per_run, 2)
    n_params = np.repeat(10 ** rng.uniform(7, 10, runs), per_run)[:n]
    final = 20 * 10 ** rng.uniform(7, 10, runs)
    tokens = (final[:, None] * np.linspace(0.05, 1, per_run)).ravel()[:n]
    loss = (1.82 + 482 / n_params**0.3478 + 2085 / tokens**0.3658) * np.exp(rng.normal(0, 0.01, n))
    run = np.repeat(np.arange(runs), per_run)[:n].astype(str)
    return pd.DataFrame({"run": run, "n_params": n_params, "tokens": tokens, "loss": loss})
if case == "fit":
    data = table(size)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sf.fit(data, "chinchilla", points="all", progress=False)
elif case == "load":
    start = time.perf_counter()
    sf.load_runs(path)
else:  # "pandas": the reference reader
    start = time.perf_counter()
    pd.read_csv(path)
seconds = time.perf_counter() - start
try:  # this process's own peak: ru_maxrss also counts the parent's size when it forked us
    with open("/proc/self/status") as status:
        kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
peak = kb * 1024 / 1e9
print(json.dumps({"seconds": seconds, "peak_gb": peak}))
"""


def run_child(case: str, size: int = 0, path: str = "") -> dict[str, float]:
    """Seconds and peak GB of one case in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, case, str(size), path],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def write_rows(path: Path, rows: int, per_run: int = 1000) -> None:
    """A long curve CSV: ``run, step, n_params, tokens, loss``."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    runs = max(rows // per_run, 1)
    step = np.tile(np.arange(1, per_run + 1), runs)[:rows]
    frame = pd.DataFrame(
        {
            "run": np.repeat([f"r{i}" for i in range(runs)], per_run)[:rows],
            "step": step,
            "n_params": np.repeat(10 ** rng.uniform(7, 10, runs), per_run)[:rows],
            "tokens": step * 1e6,
            "loss": rng.uniform(2, 4, rows),
        }
    )
    frame.to_csv(path, index=False, float_format="%.6g")


def write_wide(path: Path, extra: int) -> None:
    """A 3-run CSV with ``extra`` additional numeric columns."""
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame(np.random.default_rng(0).uniform(size=(3, extra)))
    frame.columns = [f"c{i}" for i in range(extra)]
    front = {"run": ["a", "b", "c"], "n_params": [1e8, 2e8, 4e8], "tokens": [1e9, 2e9, 4e9]}
    front["loss"] = [3.0, 2.9, 2.8]
    pd.concat([pd.DataFrame(front), frame], axis=1).to_csv(path, index=False)


def cases(quick: bool) -> list[dict]:
    """Every case's figures: name, seconds, peak GB, reference seconds and goal."""
    sizes = [1_000, 10_000] if quick else [10_000, 100_000, 1_000_000]
    rows, extra = (100_000, 2_000) if quick else (10_000_000, 200_000)
    results = []
    base = run_child("fit", sizes[0])
    for n in sizes:
        got = base if n == sizes[0] else run_child("fit", n)
        goal = {100_000: "<= 3 s", 1_000_000: "<= 30 s, <= 2 GB"}.get(n, "")
        reference = base["seconds"] * n / sizes[0]
        results.append({"name": f"fit {n:,} points", **got, "reference": reference, "goal": goal})
    with tempfile.TemporaryDirectory() as folder:
        long, wide = Path(folder) / "rows.csv", Path(folder) / "wide.csv"
        write_rows(long, rows)
        got, ref = run_child("load", path=str(long)), run_child("pandas", path=str(long))
        goal = "<= 15 s, <= 2 GB" if rows == 10_000_000 else ""
        name = f"ingest {rows:,} rows"
        results.append({"name": name, **got, "reference": ref["seconds"], "goal": goal})
        write_wide(wide, extra)
        got, ref = run_child("load", path=str(wide)), run_child("pandas", path=str(wide))
        name = f"ingest {extra:,} columns"
        results.append({"name": name, **got, "reference": ref["seconds"], "goal": "seconds"})
    return results


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (CI smoke run)")
    args = parser.parse_args(argv)
    results = cases(args.quick)
    for r in results:
        print(
            f"{r['name']} | {r['seconds']:.2f} s | {r['peak_gb']:.2f} GB | "
            f"reference {r['reference']:.2f} s | goal {r['goal'] or '-'}"
        )
    return results


if __name__ == "__main__":
    main()
