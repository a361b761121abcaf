"""Benchmark: time and objective of a Farseer fit on the Gadre et al. (2024) runs.

Data: the RedPajama-trained runs of ``data/gadre_overtraining`` with the C4 validation loss
and N = total parameters (``SOURCE.md``), in two sets: the 32 runs below 1B parameters (4
sizes x 8 token multipliers; the set ``bench_backtest.py`` fits) and all 35 (6 sizes).  On each
set the script times ``scaling_fit.fit(..., "farseer")`` (first call and median of
``--repeats``), the staged initialiser alone, and a fit with ``n_refine=1`` (the staged starts
plus one grid start), and prints Farseer's objective next to Chinchilla's on the same points
with the same objective (Huber on log L, δ = 1e-3).  Target: a Farseer fit under 5 s on 2
cores (issue 3).

``--seeds K`` adds the accuracy study behind the tolerances of ``tests/laws/test_farseer.py``: K
noisy synthetic grids (7 sizes x 8 multipliers, 0.2 % log-normal noise, seeds 0..K-1), each
fitted, with the worst and median error of predictions at 10x the largest size and of the
recovered parameters.  It asserts nothing and is never run by the test suite.

Run ``python benchmarks/bench_farseer.py [--repeats K] [--seeds K]``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

# One BLAS thread unless the caller sets otherwise (before NumPy is imported): the fits are
# small least-squares problems, where BLAS threads only spin (benchmarks/README.md).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
for _variable in THREAD_VARIABLES:
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scipy  # noqa: E402

import scaling_fit  # noqa: E402
from scaling_fit.laws.farseer import data_exponent, infinite_data_loss  # noqa: E402
from scaling_fit.laws.farseer_init import staged_starts  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data" / "gadre_overtraining" / "gadre_models_flat.csv"
LAW = scaling_fit.get_law("farseer")


def load_sets(path: Path = DATA) -> dict[str, pd.DataFrame]:
    """The two RedPajama fit sets, through ``load_runs`` (C4 validation loss)."""
    table = scaling_fit.load_runs(path, columns={"loss": "loss_c4_val"})
    rpj = table[table["dataset_name"] == "rpj"].reset_index(drop=True)
    return {"rpj N < 1e9 (32)": rpj[rpj["n_params"] < 1e9], "rpj all (35)": rpj}


def timed(call: Callable[[], Any]) -> tuple[Any, float, list[str]]:
    """Value of ``call()``, its wall-clock seconds and the warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        begin = time.perf_counter()
        value = call()
        elapsed = time.perf_counter() - begin
    return value, elapsed, [str(w.message) for w in caught]


def git_state() -> str:
    """Short commit of the working tree, marked ``+dirty`` when it has local changes."""
    try:
        run = lambda *a: subprocess.run(  # noqa: E731
            ["git", "-C", str(REPO), *a], capture_output=True, text=True, check=True
        ).stdout.strip()
        commit = run("rev-parse", "--short", "HEAD")
        dirty = run("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def gadre_rows(table: pd.DataFrame, repeats: int) -> tuple[list[dict[str, Any]], list[str]]:
    """Timings and objectives of Farseer and Chinchilla on one set; Farseer's warnings."""
    inputs = (table["n_params"].to_numpy(float), table["tokens"].to_numpy(float))
    loss = table["loss"].to_numpy(float)
    _, staged, _ = timed(lambda: staged_starts(inputs, loss))
    times, result, messages = [], None, []
    for _ in range(max(1, repeats)):
        result, elapsed, messages = timed(lambda: scaling_fit.fit(table, "farseer"))
        times.append(elapsed)
    quick, quick_time, _ = timed(lambda: scaling_fit.fit(table, "farseer", n_refine=1))
    chinchilla, chinchilla_time, _ = timed(lambda: scaling_fit.fit(table, "chinchilla"))
    rows = [
        _row("farseer", times, result),
        _row("farseer, n_refine=1", [quick_time], quick),
        _row("chinchilla", [chinchilla_time], chinchilla),
        {"fit": "staged starts alone", "first": staged, "median": staged},
    ]
    return rows, messages


def _row(label: str, times: list[float], result: scaling_fit.FitResult) -> dict[str, Any]:
    return {
        "fit": label,
        "first": times[0],
        "median": statistics.median(times),
        "objective": result.objective,
        "converged": result.converged,
        "at_best": f"{result.options['n_at_best']}/{result.options['n_refined']}",
    }


def synthetic_study(seeds: int) -> pd.DataFrame:
    """Fit K noisy synthetic grids (tests/laws/test_farseer.py) and measure the errors."""
    sys.path.insert(0, str(REPO / "tests"))
    from test_farseer import SIZES, TRUTH, synthetic_runs

    n, d = np.full(4, 1e10), np.array([5e10, 2e11, 1e12, 6.4e12])
    truth_a = data_exponent(SIZES, TRUTH["a1"], TRUTH["alpha"], TRUTH["b1"])
    truth_first = infinite_data_loss(SIZES, TRUTH["a3"], TRUTH["gamma"], TRUTH["b3"])
    rows = []
    for seed in range(seeds):
        result, elapsed, messages = timed(lambda s=seed: scaling_fit.fit(synthetic_runs(s), LAW))
        p = result.params
        a = data_exponent(SIZES, p["a1"], p["alpha"], p["b1"])
        first = infinite_data_loss(SIZES, p["a3"], p["gamma"], p["b3"])
        predicted = LAW.predict(n, d, **p) / LAW.predict(n, d, **TRUTH) - 1
        rows.append(
            {
                "seconds": elapsed,
                "warnings": len(messages),
                "pred@10xN": np.abs(predicted).max(),
                "A(N)": np.abs(a / truth_a - 1).max(),
                "first(N)": np.abs(first / truth_first - 1).max(),
                **{k: abs(p[k] - TRUTH[k]) for k in ("alpha", "beta", "gamma", "b3")},
            }
        )
    return pd.DataFrame(rows)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed Farseer fits per set (3)")
    parser.add_argument("--seeds", type=int, default=0, help="synthetic accuracy study (0)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the results."""
    options = parse_args(argv)
    print("Farseer fit benchmark (Li et al. 2025; Gadre et al. 2024 runs, laws.md §3, §8)")
    print(
        f"date {datetime.date.today()}, scaling_fit {scaling_fit.__version__} ({git_state()}), "
        f"Python {platform.python_version()}, NumPy {np.__version__}, SciPy {scipy.__version__}, "
        f"{os.cpu_count()} CPUs, " + ", ".join(f"{v}={os.environ[v]}" for v in THREAD_VARIABLES)
    )
    for name, table in load_sets().items():
        rows, messages = gadre_rows(table, options.repeats)
        print(f"\n{name}: {table['n_params'].nunique()} sizes, {len(table)} runs")
        print(pd.DataFrame(rows).to_string(index=False, float_format=lambda x: f"{x:.6g}"))
        for message in messages:
            print(f"  farseer warning: {message[:110]}")
    print("\ntarget: a Farseer fit < 5 s on 2 cores")
    if options.seeds:
        study = synthetic_study(options.seeds)
        print(f"\nsynthetic recovery, seeds 0..{options.seeds - 1} (0.2 % noise, 7 x 8 runs)")
        summary = pd.DataFrame({"worst": study.max(), "median": study.median()})
        print(summary.to_string(float_format=lambda x: f"{x:.4g}"))


if __name__ == "__main__":
    main()
