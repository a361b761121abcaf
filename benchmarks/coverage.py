"""Coverage of the bootstrap intervals on synthetic data from known Chinchilla parameters.

How often does a nominal 95 % interval of ``fit(..., bootstrap=B)`` contain the truth? Each
replicate draws a fresh data set from Epoch AI's Chinchilla parameters (Besiroglu et al. 2024:
E = 1.8172, A = 482.01, B = 2085.43, α = 0.3478, β = 0.3658), fits it with the run bootstrap,
and records whether each parameter's 95 % interval, and the interval of the loss extrapolated
to 10x the largest N (at 20 tokens per parameter), contains the true value.

**Design** (one replicate): 6 model sizes N from 3e7 to 3e9 (log-spaced) x 5 token budgets
D = N x (5, 10, 20, 40, 80) = 30 runs; each run logs 4 checkpoints at 25, 50, 75 and 100 % of
its tokens, all fitted (``points="all"``): 120 points.

**Noise model** (log loss): ``log L = log L_true(N, D) + u_run + e_point`` with a per-run
offset ``u_run ~ Normal(0, RUN_SD)`` shared by a run's checkpoints (seed, data order and
hyper-parameter luck: the points of one curve are correlated) and independent point noise
``e_point ~ Normal(0, POINT_SD)`` (evaluation noise). RUN_SD = 1 % and POINT_SD = 0.5 % are
the size of seed-to-seed spread and eval noise reported for small LMs.

Usage::

    python benchmarks/coverage.py                      # 500 replicates x 100 resamples
    python benchmarks/coverage.py --replicates 100 --resamples 100 --seed 1

Prints one row per quantity: the coverage, its binomial standard error and the mean
interval width relative to the truth. Each fit runs with ``n_jobs=1``; ``--n-jobs K`` runs K
replicates at a time.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np
import pandas as pd

import scaling_fit as sf

TRUTH = {"E": 1.8172, "A": 482.01, "B": 2085.43, "alpha": 0.3478, "beta": 0.3658}
SIZES = np.logspace(np.log10(3e7), np.log10(3e9), 6)
TOKENS_PER_PARAM = (5.0, 10.0, 20.0, 40.0, 80.0)
CHECKPOINTS = (0.25, 0.5, 0.75, 1.0)
RUN_SD = 0.01
POINT_SD = 0.005
TARGET_N = 10 * SIZES[-1]
TARGET_D = 20 * TARGET_N
LEVEL = 0.95


def true_loss(n: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Chinchilla loss at the true parameters."""
    return TRUTH["E"] + TRUTH["A"] / n ** TRUTH["alpha"] + TRUTH["B"] / d ** TRUTH["beta"]


def simulate(rng: np.random.Generator) -> pd.DataFrame:
    """One synthetic sweep: 30 runs x 4 checkpoints with run offsets and point noise."""
    rows = []
    for i, n in enumerate(SIZES):
        for j, ratio in enumerate(TOKENS_PER_PARAM):
            offset = rng.normal(0.0, RUN_SD)
            d = n * ratio * np.asarray(CHECKPOINTS)
            noise = rng.normal(0.0, POINT_SD, len(d))
            loss = true_loss(n, d) * np.exp(offset + noise)
            rows += [(f"r{i}_{j}", n, dk, lk) for dk, lk in zip(d, loss, strict=True)]
    return pd.DataFrame(rows, columns=["run", "n_params", "tokens", "loss"])


def replicate(seed: int, n_resamples: int) -> dict[str, float]:
    """Covered (1/0) and relative width of each quantity's interval in one replicate."""
    rng = np.random.default_rng(seed)
    table = simulate(rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sf.ScalingFitWarning)
        result = sf.fit(
            table, "chinchilla", points="all", bootstrap=n_resamples, seed=seed, progress=False
        )
        band = result.predict_interval(n_params=TARGET_N, tokens=TARGET_D, level=LEVEL)
    intervals = dict(result.interval(LEVEL))
    intervals["L(10x N)"] = (float(band["lower"].iloc[0]), float(band["upper"].iloc[0]))
    truth = {**TRUTH, "L(10x N)": float(true_loss(TARGET_N, TARGET_D))}
    out = {}
    for name, (lo, hi) in intervals.items():
        out[f"{name}:covered"] = float(lo <= truth[name] <= hi)
        out[f"{name}:width"] = (hi - lo) / abs(truth[name])
    return out


def study(
    replicates: int, n_resamples: int, seed: int = 0, every: int = 0, n_jobs: int = 1
) -> pd.DataFrame:
    """Coverage table over ``replicates`` seeded replicates (seeds seed, seed+1, ...).

    With ``every``, the table so far goes to stderr every ``every`` replicates. ``n_jobs``
    runs that many replicates at a time (joblib); each replicate has its own seed, so the
    table does not depend on it.
    """
    from joblib import Parallel, delayed

    seeds = range(seed, seed + replicates)
    chunk = every or replicates
    done: list[dict[str, float]] = []
    with Parallel(n_jobs=n_jobs) as parallel:
        for start in range(0, replicates, chunk):
            part = seeds[start : start + chunk]
            done += parallel(delayed(replicate)(s, n_resamples) for s in part)
            if every and len(done) < replicates:
                summary = summarise(pd.DataFrame(done))
                print(
                    f"after {len(done)}:", summary.to_dict("records"), file=sys.stderr, flush=True
                )
    return summarise(pd.DataFrame(done))


def summarise(records: pd.DataFrame) -> pd.DataFrame:
    """Coverage, its binomial s.e. and mean relative width of each quantity."""
    rows = []
    for name in [*TRUTH, "L(10x N)"]:
        covered = records[f"{name}:covered"]
        p = covered.mean()
        rows.append(
            {
                "quantity": name,
                "coverage": p,
                "se": np.sqrt(p * (1 - p) / len(covered)),
                "mean_rel_width": records[f"{name}:width"].mean(),
            }
        )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=500)
    parser.add_argument("--resamples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--every", type=int, default=0, help="running table to stderr")
    parser.add_argument("--n-jobs", type=int, default=1, help="replicates run at a time")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    table = study(args.replicates, args.resamples, args.seed, args.every, args.n_jobs)
    elapsed = time.perf_counter() - start
    print(
        f"nominal {LEVEL:.0%} run-bootstrap intervals, {args.replicates} replicates x "
        f"{args.resamples} resamples, seed {args.seed}, {elapsed:.0f} s"
    )
    print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    return table


if __name__ == "__main__":
    main()
