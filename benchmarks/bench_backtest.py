"""Benchmark: ``scaling_fit.backtest`` of the L(N, D) laws on the Gadre et al. (2024) runs.

The fit set is the 32 RedPajama-trained runs below 1B parameters (C4 validation loss, N =
total parameters, ``data/gadre_overtraining/SOURCE.md``); the held-out runs are the 1.4B
(M = 20 and 640) and 6.9B (M = 20) models (``holdout="n>=1e9"``).  Every law is fitted with
the default objective (Huber on log residuals), and the stability sweep refits each law
after dropping the 1 and 2 largest sizes, so a backtest of L laws is 3·L fits.

The script times the backtest with ``n_jobs=1`` and ``n_jobs=2`` (first call, which for
``n_jobs=2`` includes starting the worker processes, and the median of ``--repeats`` calls),
prints the per-law times of one fit, and the backtest's own table.  Target: under 5 s on 2
cores for 4 laws (issue 3).  It asserts nothing and is never run by the test suite.

Run ``python benchmarks/bench_backtest.py [--repeats K]``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

# One BLAS/OpenMP thread unless the caller sets otherwise (before NumPy is imported): the
# fits are many small least-squares problems, where BLAS threads only spin
# (bench_chinchilla_fit.py, benchmarks/README.md).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
for _variable in THREAD_VARIABLES:
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scipy  # noqa: E402

import scaling_fit  # noqa: E402
from scaling_fit.analysis.backtest import BacktestResult, backtest  # noqa: E402
from scaling_fit.laws import LAWS  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data" / "gadre_overtraining" / "gadre_models_flat.csv"
WANTED = ("chinchilla", "kaplan", "farseer", "overtraining")
HOLDOUT = "n>=1e9"


def load_rpj(path: Path = DATA) -> pd.DataFrame:
    """RedPajama-trained Gadre runs with the C4 validation loss, through ``load_runs``."""
    table = scaling_fit.load_runs(path, columns={"loss": "loss_c4_val"})
    return table[table["dataset_name"] == "rpj"].reset_index(drop=True)


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    """Value of ``call()`` and its wall-clock seconds; warnings are silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        begin = time.perf_counter()
        value = call()
        return value, time.perf_counter() - begin


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


def time_backtests(
    runs: pd.DataFrame, laws: list[str], repeats: int
) -> tuple[BacktestResult, dict[int, list[float]]]:
    """Time ``backtest`` ``repeats`` times for n_jobs 1 and 2; return one result and times."""
    seconds: dict[int, list[float]] = {1: [], 2: []}
    result = None
    for n_jobs in (1, 2):
        for _ in range(max(1, repeats)):
            result, elapsed = timed(
                lambda n_jobs=n_jobs: backtest(runs, laws, HOLDOUT, n_jobs=n_jobs)
            )
            seconds[n_jobs].append(elapsed)
    return result, seconds


def per_law_fit_times(runs: pd.DataFrame, laws: list[str]) -> dict[str, float]:
    """Seconds of one ``fit`` of each law on the backtest's training runs."""
    train = runs[runs["n_params"] < 1e9]
    return {law: timed(lambda law=law: scaling_fit.fit(train, law))[1] for law in laws}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per n_jobs (3)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the results."""
    options = parse_args(argv)
    laws = [law for law in WANTED if law in LAWS]
    runs = load_rpj()
    print("backtest benchmark (Gadre et al. 2024 runs, laws.md §8, §9.5)")
    print(
        f"date {datetime.date.today()}, scaling_fit {scaling_fit.__version__} ({git_state()}), "
        f"Python {platform.python_version()}, NumPy {np.__version__}, SciPy {scipy.__version__}, "
        f"pandas {pd.__version__}, {os.cpu_count()} CPUs, "
        + ", ".join(f"{v}={os.environ[v]}" for v in THREAD_VARIABLES)
    )
    missing = [law for law in WANTED if law not in LAWS]
    print(
        f"laws: {', '.join(laws)}" + (f" (not registered: {', '.join(missing)})" if missing else "")
    )
    fit_seconds = per_law_fit_times(runs, laws)
    print(
        "one fit on the 32 training runs: "
        + ", ".join(f"{k} {v:.3f} s" for k, v in fit_seconds.items())
    )
    result, seconds = time_backtests(runs, laws, options.repeats)
    print()
    label = f"backtest, {len(laws)} laws"
    print(f"{label:<24}{'first (s)':>12}{'median (s)':>12}{'calls':>8}")
    for n_jobs, values in seconds.items():
        median = statistics.median(values)
        print(f"{f'n_jobs={n_jobs}':<24}{values[0]:>12.3f}{median:>12.3f}{len(values):>8}")
    print(f"target: < 5 s on 2 cores for 4 laws; fits per backtest: {len(result.stability)}")
    print()
    print(result.report())


if __name__ == "__main__":
    main()
