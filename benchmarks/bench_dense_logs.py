"""Benchmark: multi-power fits of dense training logs, binned (default) against unbinned.

Synthetic W&B-style logs (three 24,000-step runs: constant, WSD 20 % linear cool-down,
cosine to peak/10; 1,000-step warm-up; multi-power law at Luo et al.'s 400M parameters with
0.5 % log-normal noise, like a per-step training loss; LR logged with the loss) are fitted by
``scaling_fit.fit(table, "multipower")`` from the file alone:

1. **Logged every 10 steps** (7,200 points) and **every step** (72,000 points), with the
   default points (dense runs binned, ``scaling_fit.fitting.curve_points``).  Targets of
   issue 8: ≤ 5 s and ≤ 20 s.  The reference in the same run: the same 7,200-point fit with
   the Jacobian by central differences (the law without its analytic ``log_gradient``, as
   before it had one), printed as a ratio, so a loaded machine does not hide the change.
2. **Time per point** from 10³ to 10⁵ logged points (default points; at 10³ the runs have
   fewer than 400 points each and are fitted unbinned).
3. ``--unbinned``: the unbinned fit (``points="unbinned"``) at 1,000 and 2,000 points, what a
   fit of every point costs (noisy per-step points leave the loss-drop term unidentified:
   starts run to the evaluation limit, and the search stops after three of them agree).
4. **Accuracy** (``--accuracy``, slow: the unbinned fit of 4,800 points): the held-out error
   (cosine run fitted from constant + WSD) binned against unbinned, so the binning's effect is
   measured, not assumed.  ``tests/fitting/test_real_logs.py`` measures it for the annealing law.

Rows are printed as they are measured.

The script asserts nothing about time; it prints a table.

Run: ``python benchmarks/bench_dense_logs.py [--quick] [--unbinned] [--accuracy]``
"""

from __future__ import annotations

import argparse
import dataclasses
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import platform  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import scaling_fit as sf  # noqa: E402
from scaling_fit.laws import multipower  # noqa: E402
from scaling_fit.results import curves  # noqa: E402
from scaling_fit.schedules import from_spec  # noqa: E402
from scaling_fit.schedules.by_run import history_lr  # noqa: E402

TOTAL, WARMUP = 24000, 1000
TRUTH = {"L0": 2.3747, "A": 0.6542, "alpha": 0.4288, "B": 523.42, "C": 2.0246, "beta": 0.5935,
         "gamma": 0.6347}  # fmt: skip
SPECS = {
    "constant": f"constant:peak=3e-4,total={TOTAL},warmup={WARMUP}",
    "wsd": f"wsd:peak=3e-4,total={TOTAL},warmup={WARMUP},decay=0.2,final=0",
    "cosine": f"cosine:peak=3e-4,total={TOTAL},warmup={WARMUP},final=3e-5",
}


def log(every: int, names: list[str], seed: int = 0) -> pd.DataFrame:
    steps = np.arange(every, TOTAL + 1, every)
    table = pd.concat([pd.DataFrame({"run": n, "step": steps}) for n in names], ignore_index=True)
    clean = curves.predict_runs(sf.FitResult.from_params("multipower", TRUTH), table, SPECS)
    table["lr"] = np.concatenate([history_lr(from_spec(SPECS[n]).lr, TOTAL)[steps] for n in names])
    rng = np.random.default_rng(seed)
    return table.assign(loss=clean * np.exp(rng.normal(0.0, 5e-3, len(table))))


def timed_fit(
    table: pd.DataFrame, points: str | None = None, law: sf.Law = multipower.LAW
) -> tuple[float, sf.FitResult]:
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = sf.fit(table, law, points=points, progress=False)
    return time.perf_counter() - start, result


def row(what: str, n_points: int, seconds: float) -> None:
    print(f"{what:<34}{n_points:>9}{seconds:>10.2f}{1e3 * seconds / n_points:>10.4f}", flush=True)


def held_out(result: sf.FitResult) -> float:
    steps = np.arange(WARMUP + 100, TOTAL + 1, 100)
    table = pd.DataFrame({"run": "cosine", "step": steps})
    truth = sf.FitResult.from_params("multipower", TRUTH)
    got, want = (curves.predict_runs(r, table, SPECS) for r in (result, truth))
    return float(np.mean(np.abs(got / want - 1)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="only the 7,200-point fits")
    parser.add_argument("--unbinned", action="store_true", help="unbinned fits (minutes)")
    parser.add_argument("--accuracy", action="store_true", help="binned vs unbinned error")
    args = parser.parse_args()
    print(f"{platform.platform()}, {platform.processor()}, {os.cpu_count()} cores")
    print(f"load average {os.getloadavg()[0]:.1f} at start")
    names = list(SPECS)
    print(f"{'fit':<34}{'points':>9}{'seconds':>10}{'ms/point':>10}", flush=True)
    reference = dataclasses.replace(multipower.LAW, log_gradient=None)  # central differences
    sizes = [(10, None), (1, None), (72, None), (8, None)] if not args.quick else [(10, None)]
    sizes += [(72, "unbinned"), (36, "unbinned")] if args.unbinned else []
    for every, points in sizes:  # 7,200 / 72,000 / 1,000 / 9,000 points; unbinned fits
        table = log(every, names)
        seconds, result = timed_fit(table, points)
        row("default (binned)" if points is None else "unbinned", len(table), seconds)
        if every == 10 and points is None:
            ref_seconds, ref = timed_fit(table, points, reference)
            row("reference: central differences", len(table), ref_seconds)
            change = max(abs(result.params[n] / ref.params[n] - 1) for n in TRUTH)
            print(
                f"  analytic Jacobian {ref_seconds / seconds:.1f}x faster; objectives "
                f"{result.objective:.10g} vs {ref.objective:.10g}; parameters differ by "
                f"<= {change:.1e} relative",
                flush=True,
            )
    print(f"load average {os.getloadavg()[0]:.1f} at end")
    if not args.accuracy:
        return
    train = log(10, ["constant", "wsd"])
    binned = held_out(timed_fit(train)[1])
    unbinned = held_out(timed_fit(train, "unbinned")[1])
    print(f"held-out cosine error, 4,800 points: binned {binned:.5f}, unbinned {unbinned:.5f}")


if __name__ == "__main__":
    main()
