"""Benchmark: ``scaling_fit.fit_hparams`` on the Step Law dense sweep, 1,000-resample bootstrap.

Measured in one run on ``data/steplaw/dense_lr_bs_loss.csv.gz`` (1,911 runs, 17 cells):

1. a **plain per-cell loop** written here: for each cell, select the runs within 0.25 % of its
   best; OLS of ln lr on (ln N, ln D) and ln B on ln D; then 1,000 bootstrap resamples of
   cells, each concatenating the chosen cells' runs and solving with ``numpy.linalg.lstsq``;
2. ``scaling_fit.fit_hparams(sweep, seq_len=2048, bootstrap=1000)`` (median of ``--repeats``),
   which also computes both laws' per-cell loss penalties.

It prints both times, their ratio, and checks that both give the same exponents and
bootstrap standard errors (same seed, same resamples). It asserts nothing about time.
Run ``python benchmarks/bench_hparams.py`` (a few seconds). Results: ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # tiny matrices: one BLAS thread (see bench_chinchilla)

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import scaling_fit as sf  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "data" / "steplaw" / "dense_lr_bs_loss.csv.gz"


def reference(sweep: pd.DataFrame, n_boot: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Plain loop: band per cell, OLS, and a bootstrap that re-concatenates cells."""
    cells = []
    for _, runs in sweep.groupby(["n_params", "tokens"], sort=True):
        best = runs["loss"].min()
        cells.append(runs[runs["loss"] <= best * 1.0025])

    def ols(chosen: list[pd.DataFrame]) -> np.ndarray:
        pts = pd.concat(chosen)
        x = np.column_stack([np.ones(len(pts)), np.log(pts["n_params"]), np.log(pts["tokens"])])
        lr = np.linalg.lstsq(x, np.log(pts["lr"]), rcond=None)[0]
        batch = np.linalg.lstsq(x[:, [0, 2]], np.log(pts["batch_size"]), rcond=None)[0]
        return np.concatenate([lr, batch])

    estimate = ols(cells)
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(len(cells), np.full(len(cells), 1.0 / len(cells)), size=n_boot)
    draws = np.array(
        [ols([c for c, k in zip(cells, row, strict=True) for _ in range(k)]) for row in counts]
    )
    return estimate, draws


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sweep = sf.load_runs(DATA, columns={"loss": "smooth loss"})
    sweep["batch_size"] = sweep["batch_size"] * 2048.0

    start = time.perf_counter()
    estimate, draws = reference(sweep, args.bootstrap, seed=0)
    t_reference = time.perf_counter() - start

    sf.fit_hparams(sweep, bootstrap=10)  # warm-up: first-use imports (scipy.spatial)
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        result = sf.fit_hparams(sweep, bootstrap=args.bootstrap, seed=0)
        times.append(time.perf_counter() - start)
    t_ours = statistics.median(times)

    ours = [result.lr.params["a"], result.lr.params["b"], result.batch.params["b"]]
    theirs = [estimate[1], estimate[2], estimate[4]]
    se_ours = [result.lr.stderr["a"], result.lr.stderr["b"], result.batch.stderr["b"]]
    se_theirs = list(np.std(draws[:, [1, 2, 4]], axis=0, ddof=1))
    print(f"data: {len(sweep)} runs, {sweep.groupby(['n_params', 'tokens']).ngroups} cells")
    print(f"plain per-cell loop, {args.bootstrap} resamples: {t_reference:.3f} s")
    print(f"fit_hparams, {args.bootstrap} resamples (median of {args.repeats}): {t_ours:.3f} s")
    print(f"ratio reference / fit_hparams: {t_reference / t_ours:.1f}x")
    print("exponents  lr:N  lr:D  B:D")
    print("  ours      " + "  ".join(f"{v:.4f}" for v in ours))
    print("  reference " + "  ".join(f"{v:.4f}" for v in theirs))
    print("bootstrap s.e.")
    print("  ours      " + "  ".join(f"{v:.4f}" for v in se_ours))
    print("  reference " + "  ".join(f"{v:.4f}" for v in se_theirs))
    print(
        f"mean penalty: fitted {1e3 * result.penalty['fitted']:.2f} permille, published "
        f"{1e3 * result.penalty['published']:.2f} permille"
    )


if __name__ == "__main__":
    main()
