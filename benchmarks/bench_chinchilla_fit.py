"""Benchmark: ``scaling_fit.fit`` against a reference Hoffmann/Epoch Chinchilla fit.

On Epoch AI's digitisation of Hoffmann et al. (2022) Fig. 4 (245 points, D = C/(6N), the 5
highest-loss points dropped, 240 left; ``data/epoch_chinchilla/SOURCE.md``) the script measures,
in one run:

1. a **reference implementation** of the published recipe, written here: the summed Huber
   objective (δ = 1e-3) on log residuals of the log-sum-exp model, minimised by
   ``scipy.optimize.minimize(method="L-BFGS-B")`` with an analytic gradient from each of the
   4,500 starts of Hoffmann et al.'s grid, keeping the best (laws.md §1.2, §1.5);
2. ``scaling_fit.fit(table, "chinchilla", exclude=mask)`` (first call and median of 3);
3. ``scaling_fit.fit(..., bootstrap=1000)`` with ``n_jobs=2`` and ``n_jobs=1``, alternately,
   ``--repeats`` times each: the medians, their ratio and the load average.

It prints times, the reference/ours speed ratio, both best objectives, the parameters and the
bootstrap standard errors next to Epoch AI's.  It asserts nothing about wall-clock time and is
never run by the test suite.

Run ``python benchmarks/bench_chinchilla_fit.py`` (about 20 s on 2 cores, most of it the
reference fit) or with ``--quick`` (every 10th grid start for the reference, about 12 s).
Results and how to read them: ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import os
import platform
import statistics
import subprocess
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# One BLAS/OpenMP thread unless the caller sets otherwise (before NumPy is imported): with
# two threads OpenBLAS spin-waits on the tiny matrices of L-BFGS-B and least_squares, doubling
# the CPU time for no wall-clock gain and making times swing with other load on a 2-core box.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
for _variable in THREAD_VARIABLES:
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scipy  # noqa: E402
from scipy.optimize import minimize  # noqa: E402

import scaling_fit  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data" / "epoch_chinchilla" / "svg_extracted_data.csv"
DELTA = 1e-3
N_EXCLUDED = 5
PARAMS = ("E", "A", "B", "alpha", "beta")
# Epoch AI, data_analysis.ipynb (data/epoch_chinchilla/SOURCE.md): plain Huber fit (cell 18)
# and bootstrap standard errors of the headline fit (cell 25).
EPOCH_OBJECTIVE = 0.0010182740346
EPOCH_PARAMS = {"E": 1.817236, "A": 477.8417, "B": 2143.8638, "alpha": 0.347313, "beta": 0.367183}
EPOCH_STDERR = {"E": 0.0257, "alpha": 0.0154, "beta": 0.0206}
# Hoffmann et al.'s unrounded values in log space [a, b, e, alpha, beta] (laws.md §1.3).
HOFFMANN_THETA = np.array([6.0073404, 6.0179186, 0.5267228, 0.33917084, 0.2849083])


@dataclass(frozen=True)
class ReferenceResult:
    """Outcome of the reference multi-start L-BFGS-B fit.

    Attributes
    ----------
    theta
        Best ``[a, b, e, alpha, beta]``.
    objective
        Best summed Huber objective.
    seconds
        Wall-clock time of all starts (``time.perf_counter``).
    cpu_seconds
        CPU time of this process over the same span (``time.process_time``); unlike the
        wall-clock time it does not grow when other processes load the machine.
    n_starts
        Number of starts run.
    n_success
        Starts whose L-BFGS-B run reported success.
    n_at_best
        Starts that ended within a relative 1e-8 of the best objective.
    n_evaluations
        Objective/gradient evaluations over all starts.
    """

    theta: np.ndarray
    objective: float
    seconds: float
    cpu_seconds: float
    n_starts: int
    n_success: int
    n_at_best: int
    n_evaluations: int


def load_table(path: Path = DATA) -> pd.DataFrame:
    """Tidy table of Epoch AI's 245 points through :func:`scaling_fit.load_runs`.

    Parameters
    ----------
    path
        Epoch AI's ``svg_extracted_data.csv`` (``Model Size``, ``Training FLOP``, ``loss``).

    Returns
    -------
    pandas.DataFrame
        One row per point (``run``, ``n_params``, ``compute``, ``loss``, ...), with tokens
        D = C/(6N) derived as Epoch AI computed them.

    Raises
    ------
    RuntimeError
        If the loaded tokens differ from C/(6N) computed here.
    """
    table = scaling_fit.load_runs(path)
    raw = pd.read_csv(path)
    tokens = raw["Training FLOP"].to_numpy(float) / (6.0 * raw["Model Size"].to_numpy(float))
    if not np.allclose(table["tokens"].to_numpy(float), tokens, rtol=1e-12, atol=0.0):
        raise RuntimeError("load_runs tokens differ from Training FLOP / (6 * Model Size)")
    return table


def huber_objective_and_gradient(
    theta: np.ndarray, log_n: np.ndarray, log_d: np.ndarray, log_l: np.ndarray, delta: float
) -> tuple[float, np.ndarray]:
    """Summed Huber objective of the log-sum-exp Chinchilla model and its analytic gradient.

    With u = a − α log N, v = b − β log D, m = LSE(u, v, e) and r = m − log L, the objective
    is Σ ρ(r) with ρ(r) = r²/2 for |r| ≤ δ and δ(|r| − δ/2) otherwise.  Its gradient follows
    from ρ'(r) = r (|r| ≤ δ) or δ·sign(r), and ∂m/∂(u, v, e) = softmax weights (w_u, w_v, w_e):
    ∂/∂a = Σ ρ' w_u, ∂/∂b = Σ ρ' w_v, ∂/∂e = Σ ρ' w_e, ∂/∂α = −Σ ρ' w_u log N,
    ∂/∂β = −Σ ρ' w_v log D.

    Parameters
    ----------
    theta
        ``[a, b, e, alpha, beta]`` with A = exp(a), B = exp(b), E = exp(e).
    log_n, log_d, log_l
        Logs of parameters, tokens and observed losses, shape ``(n_points,)``.
    delta
        Huber threshold on the log residual.

    Returns
    -------
    tuple of float and numpy.ndarray
        Objective and gradient of shape ``(5,)``.
    """
    a, b, e, alpha, beta = theta
    u = a - alpha * log_n
    v = b - beta * log_d
    top = np.maximum(np.maximum(u, v), e)
    exp_u, exp_v, exp_e = np.exp(u - top), np.exp(v - top), np.exp(e - top)
    total = exp_u + exp_v + exp_e
    residual = top + np.log(total) - log_l
    size = np.abs(residual)
    inside = size <= delta
    objective = float(np.sum(np.where(inside, 0.5 * residual**2, delta * (size - 0.5 * delta))))
    slope = np.where(inside, residual, delta * np.sign(residual)) / total
    g_u, g_v = slope * exp_u, slope * exp_v
    gradient = np.array(
        [
            g_u.sum(),
            g_v.sum(),
            (slope * exp_e).sum(),
            -(g_u * log_n).sum(),
            -(g_v * log_d).sum(),
        ]
    )
    return objective, gradient


def hoffmann_grid(every: int = 1) -> np.ndarray:
    """Hoffmann et al.'s 4,500 starts ``[a, b, e, alpha, beta]`` (every ``every``-th one).

    Parameters
    ----------
    every
        Keep every ``every``-th start of the full grid (1: all 4,500).

    Returns
    -------
    numpy.ndarray
        Starts of shape ``(n_starts, 5)``.
    """
    a = b = np.arange(0.0, 25.0 + 1e-9, 5.0)
    e = np.arange(-1.0, 1.0 + 1e-9, 0.5)
    alpha = beta = np.arange(0.0, 2.0 + 1e-9, 0.5)
    grid = np.array(list(itertools.product(a, b, e, alpha, beta)))
    return grid[::every]


def gradient_check(
    function: Callable[[np.ndarray], tuple[float, np.ndarray]],
    points: np.ndarray,
    step: float = 1e-7,
) -> float:
    """Largest difference between analytic and central finite-difference gradients.

    Parameters
    ----------
    function
        Returns the objective and its analytic gradient at a point.
    points
        Points to check, shape ``(n_points, n_params)``.
    step
        Finite-difference step, relative to ``max(1, |theta_i|)``.  Small, because a residual
        crossing a Huber kink within the step makes the central difference's error O(step).

    Returns
    -------
    float
        max over points of max_i |analytic_i − fd_i| / max_i |fd_i|.
    """
    worst = 0.0
    for theta in points:
        analytic = function(theta)[1]
        numeric = np.empty_like(analytic)
        for i in range(len(theta)):
            h = step * max(1.0, abs(theta[i]))
            shift = np.zeros_like(theta)
            shift[i] = h
            numeric[i] = (function(theta + shift)[0] - function(theta - shift)[0]) / (2.0 * h)
        scale = max(float(np.max(np.abs(numeric))), 1e-300)
        worst = max(worst, float(np.max(np.abs(analytic - numeric))) / scale)
    return worst


def reference_fit(table: pd.DataFrame, starts: np.ndarray, delta: float = DELTA) -> ReferenceResult:
    """Hoffmann/Epoch recipe: L-BFGS-B (SciPy defaults, analytic gradient) from every start.

    Parameters
    ----------
    table
        Points to fit (``n_params``, ``tokens``, ``loss``).
    starts
        Starts ``[a, b, e, alpha, beta]``, shape ``(n_starts, 5)``.
    delta
        Huber threshold.

    Returns
    -------
    ReferenceResult
    """
    args = (
        np.log(table["n_params"].to_numpy(float)),
        np.log(table["tokens"].to_numpy(float)),
        np.log(table["loss"].to_numpy(float)),
        delta,
    )
    objectives = np.empty(len(starts))
    thetas = np.empty_like(starts)
    n_success = n_evaluations = 0
    begin, begin_cpu = time.perf_counter(), time.process_time()
    for k, start in enumerate(starts):
        result = minimize(
            huber_objective_and_gradient, start, args=args, jac=True, method="L-BFGS-B"
        )
        objectives[k], thetas[k] = result.fun, result.x
        n_success += bool(result.success)
        n_evaluations += int(result.nfev)
    seconds = time.perf_counter() - begin
    cpu_seconds = time.process_time() - begin_cpu
    objectives = np.where(np.isfinite(objectives), objectives, np.inf)
    best = int(np.argmin(objectives))
    at_best = np.abs(objectives - objectives[best]) <= 1e-8 * objectives[best]
    return ReferenceResult(
        theta=thetas[best],
        objective=float(objectives[best]),
        seconds=seconds,
        cpu_seconds=cpu_seconds,
        n_starts=len(starts),
        n_success=n_success,
        n_at_best=int(at_best.sum()),
        n_evaluations=n_evaluations,
    )


def natural(theta: np.ndarray) -> dict[str, float]:
    """Natural-unit parameters from ``[a, b, e, alpha, beta]``."""
    a, b, e, alpha, beta = (float(x) for x in theta)
    return {"E": np.exp(e), "A": np.exp(a), "B": np.exp(b), "alpha": alpha, "beta": beta}


def to_theta(params: dict[str, float]) -> np.ndarray:
    """``[a, b, e, alpha, beta]`` from natural-unit parameters."""
    return np.array(
        [
            np.log(params["A"]),
            np.log(params["B"]),
            np.log(params["E"]),
            params["alpha"],
            params["beta"],
        ]
    )


def timed(call: Callable[[], Any]) -> tuple[Any, float, float, list[str]]:
    """Run ``call`` once.

    Returns
    -------
    tuple
        Its value, wall-clock seconds, CPU seconds of this process (worker processes not
        included) and the messages of the warnings it raised.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        begin, begin_cpu = time.perf_counter(), time.process_time()
        value = call()
        seconds, cpu_seconds = time.perf_counter() - begin, time.process_time() - begin_cpu
    return value, seconds, cpu_seconds, [str(w.message) for w in caught]


def git_state() -> str:
    """Short commit of the working tree, marked ``+dirty`` when it has local changes."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def print_params(rows: dict[str, dict[str, float]]) -> None:
    """Print a parameter table, one row per fit."""
    print(f"{'':<34}" + "".join(f"{p:>14}" for p in PARAMS))
    for label, params in rows.items():
        print(f"{label:<34}" + "".join(f"{params[p]:>14.7g}" for p in PARAMS))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="reference fit from every 10th grid start only (smoke run, ~12 s)",
    )
    parser.add_argument(
        "--bootstrap", type=int, default=1000, help="bootstrap resamples (default 1000)"
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="timed runs of fit() and of each bootstrap setting (default 3)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the results."""
    options = parse_args(argv)
    every = 10 if options.quick else 1
    table = load_table()
    mask = scaling_fit.highest_loss_mask(table, N_EXCLUDED)
    kept = table.loc[~mask]

    print("Chinchilla fit benchmark (Epoch AI data, laws.md §1.2/§1.5)")
    print(
        f"date {datetime.date.today()}, scaling_fit {scaling_fit.__version__} ({git_state()}), "
        f"Python {platform.python_version()}, NumPy {np.__version__}, SciPy {scipy.__version__}, "
        f"{os.cpu_count()} CPUs, " + ", ".join(f"{v}={os.environ[v]}" for v in THREAD_VARIABLES)
    )
    print(f"points: {len(table)} read, {int(mask.sum())} highest-loss dropped, {len(kept)} fitted")
    print()

    # 1. Reference implementation.
    log_n = np.log(kept["n_params"].to_numpy(float))
    log_d = np.log(kept["tokens"].to_numpy(float))
    log_l = np.log(kept["loss"].to_numpy(float))

    def reference_objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        return huber_objective_and_gradient(theta, log_n, log_d, log_l, DELTA)

    check_points = np.vstack(
        [
            HOFFMANN_THETA,
            np.random.default_rng(0).uniform([0, 0, -1, 0, 0], [25, 25, 1, 2, 2], (8, 5)),
        ]
    )
    print(
        "analytic gradient vs central differences at 9 points: max |diff| / max |grad| = "
        f"{gradient_check(reference_objective, check_points):.2e}"
    )
    starts = hoffmann_grid(every)
    if options.quick:
        print(f"--quick: reference uses every 10th grid start ({len(starts)} of 4,500), unscaled")
    reference = reference_fit(kept, starts)
    print(
        f"reference: {reference.n_starts} L-BFGS-B starts in {reference.seconds:.2f} s "
        f"(CPU {reference.cpu_seconds:.2f} s), {reference.n_evaluations} evaluations, "
        f"{reference.n_success} report success, {reference.n_at_best} at the best objective"
    )

    # 2. scaling_fit.fit.
    walls, cpus = [], []
    for _ in range(max(1, options.repeats)):
        result, seconds, cpu_seconds, messages = timed(
            lambda: scaling_fit.fit(table, "chinchilla", exclude=mask)
        )
        walls.append(seconds)
        cpus.append(cpu_seconds)
    median, median_cpu = statistics.median(walls), statistics.median(cpus)
    print(
        f"ours: fit() first call {walls[0]:.3f} s, median of {len(walls)} {median:.3f} s "
        f"(CPU {median_cpu:.3f} s); {result.options['n_starts']} starts scored, "
        f"{result.options['n_refined']} refined, {result.options['n_at_best']} at best, "
        f"converged={result.converged}"
    )
    for message in messages:
        print(f"  warning: {message}")

    # 3. Comparison.
    ours_theta = to_theta(result.params)
    print()
    print(f"{'':<34}{'wall (s)':>10}{'CPU (s)':>10}{'best objective':>22}")
    print(
        f"{'reference (L-BFGS-B, analytic)':<34}{reference.seconds:>10.3f}"
        f"{reference.cpu_seconds:>10.3f}{reference.objective:>22.12g}"
    )
    print(f"{'ours: fit() median':<34}{median:>10.3f}{median_cpu:>10.3f}{result.objective:>22.12g}")
    print(
        f"{'ours, re-scored by the reference':<34}{'':>20}"
        f"{reference_objective(ours_theta)[0]:>22.12g}"
    )
    print(f"{'Epoch AI (cell 18)':<34}{'':>20}{EPOCH_OBJECTIVE:>22.12g}")
    print(
        f"speed-up reference/ours: {reference.seconds / median:.1f}x wall-clock, "
        f"{reference.cpu_seconds / median_cpu:.1f}x CPU (target >= 100x)"
    )
    difference = result.objective - reference.objective
    if abs(difference) <= 0.5e-12 * reference.objective:
        verdict = "equal to 12 significant digits"
    else:
        verdict = "ours <= reference" if difference <= 0 else "ours > reference"
    print(
        f"objective ours - reference: {difference:+.3e} ({verdict}); "
        f"ours - Epoch: {result.objective - EPOCH_OBJECTIVE:+.3e}"
    )
    print()
    print_params(
        {
            "reference": natural(reference.theta),
            "ours": result.params,
            "Epoch AI (cell 18)": EPOCH_PARAMS,
        }
    )

    # 4. Bootstrap.
    if options.bootstrap > 0:
        print()
        bootstrap_timings(table, mask, options)


def bootstrap_timings(table: pd.DataFrame, mask: Any, options: argparse.Namespace) -> None:
    """Time ``fit(bootstrap=…)`` with n_jobs 2 and 1, alternately, ``repeats`` times each.

    Alternating in one run spreads the load of a shared machine over both settings; the
    first n_jobs=2 call includes starting the worker processes (joblib reuses them later).
    """
    boot, seconds = {}, {1: [], 2: []}
    for _ in range(max(1, options.repeats)):
        for n_jobs in (2, 1):
            boot[n_jobs], elapsed, _, messages = timed(
                lambda n_jobs=n_jobs: scaling_fit.fit(
                    table, "chinchilla", exclude=mask, bootstrap=options.bootstrap, n_jobs=n_jobs
                )
            )
            seconds[n_jobs].append(elapsed)
            for message in messages:
                print(f"  warning: {message}")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    for n_jobs in (1, 2):
        runs = " ".join(f"{x:.2f}" for x in seconds[n_jobs])
        print(f"bootstrap {options.bootstrap} resamples, n_jobs={n_jobs}: {runs} s")
    one, two = statistics.median(seconds[1]), statistics.median(seconds[2])
    print(
        f"n_jobs=2 bootstrap median {two:.2f} s (first call {seconds[2][0]:.2f} s, includes "
        f"starting the workers) vs n_jobs=1 bootstrap median {one:.2f} s: ratio "
        f"{two / one:.2f} (goal <= 1); load average {load}"
    )
    same = np.allclose(boot[1].samples, boot[2].samples, rtol=1e-12, atol=0.0, equal_nan=True)
    print(f"n_jobs=1 and n_jobs=2 give identical samples: {same}")
    stderr = boot[2].stderr
    print(f"{'s.e.':<34}" + "".join(f"{p:>14}" for p in EPOCH_STDERR))
    print(
        f"{f'ours ({options.bootstrap} resamples, Huber)':<34}"
        + "".join(f"{stderr[p]:>14.4f}" for p in EPOCH_STDERR)
    )
    print(
        f"{'Epoch AI (4000 resamples, MLE)':<34}"
        + "".join(f"{EPOCH_STDERR[p]:>14.4f}" for p in EPOCH_STDERR)
    )


if __name__ == "__main__":
    main()
