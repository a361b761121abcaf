"""choose_law on Gadre et al.'s runs: fit on N < 1e9, predict the 1.4B and 6.9B runs.

For each training set (rpj, rw_original, c4_original; loss = C4 validation) and each held-out
run, ``sf.choose_law`` gets the run's N and D as the target (not its loss) and the table
records the recommended law's and the averaged prediction's relative error, whether the truth
is inside the 95 % interval, and the interval's relative width.  Run from the repository root:

    python benchmarks/choose_law_gadre.py [--weighting likelihood|inverse-variance] [--n-jobs 2]

Wall-clock seconds per call are printed too; they depend on the machine's load.

``--seen`` instead fits the over-training law to *every* run of each set, the 6.9B run
included (default Huber objective and least squares on log loss; all sizes, and only
N >= 1e8), and prints each fit's residual at the 6.9B run: whether a fit that sees the run
can reach it, i.e. whether the run lies on the trend of the runs below it.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

import scaling_fit as sf

SETS = ("rpj", "rw_original", "c4_original")
LAWS = ("chinchilla", "kaplan", "farseer", "overtraining")


def rows(weighting: str, n_jobs: int) -> pd.DataFrame:
    gadre = sf.load_runs(
        "data/gadre_overtraining/gadre_models_flat.csv", columns={"loss": "loss_c4_val"}
    )
    out = []
    for name in SETS:
        runs = gadre[gadre["dataset_name"] == name]
        train, held = runs[runs["n_params"] < 1e9], runs[runs["n_params"] >= 1e9]
        for _, run in held.iterrows():
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", sf.ScalingFitWarning)
                result = sf.choose_law(
                    train,
                    LAWS,
                    target={"n_params": run["n_params"], "tokens": run["tokens"]},
                    weighting=weighting,
                    n_jobs=n_jobs,
                )
            seconds = time.perf_counter() - start
            row = {"set": name, "run": run["run"], "loss": run["loss"], "law": result.chosen}
            for kind, pred in (("chosen", result.recommended), ("averaged", result.averaged)):
                row[f"{kind}_error"] = (pred["loss"] - run["loss"]) / run["loss"]
                row[f"{kind}_inside"] = pred["lower"] <= run["loss"] <= pred["upper"]
                row[f"{kind}_width"] = (pred["upper"] - pred["lower"]) / pred["loss"]
            out.append(row | {"seconds": seconds})
    return pd.DataFrame(out)


def seen_residuals() -> pd.DataFrame:
    """Residual (predicted - measured) / measured at each set's 6.9B run of over-training
    law fits that include that run."""
    gadre = sf.load_runs(
        "data/gadre_overtraining/gadre_models_flat.csv", columns={"loss": "loss_c4_val"}
    )
    out = []
    for name in SETS:
        runs = gadre[gadre["dataset_name"] == name]
        for smallest, loss in ((0.0, "huber"), (0.0, "mse"), (1e8, "huber"), (1e8, "mse")):
            part = runs[runs["n_params"] >= smallest]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", sf.ScalingFitWarning)
                fit = sf.fit(part, "overtraining", loss=loss)
            predicted = fit.predict(part, max_extrapolation=np.inf, allow_unconverged=True)
            relative = (predicted - part["loss"].to_numpy()) / part["loss"].to_numpy()
            big = part["n_params"].to_numpy() > 5e9
            out.append(
                {
                    "set": name,
                    "runs": f"N >= {smallest:.0e}" if smallest else "all",
                    "objective": loss,
                    "n": len(part),
                    "6.9B residual %": 100 * relative[big][0],
                    "others rms %": 100 * np.sqrt(np.mean(relative[~big] ** 2)),
                }
            )
    return pd.DataFrame(out)


def summary(table: pd.DataFrame) -> pd.DataFrame:
    lines = []
    for name, part in table.groupby("set", sort=False):
        line = {"set": name}
        for kind in ("chosen", "averaged"):
            error = np.abs(part[f"{kind}_error"])
            line[f"{kind} mean %"] = 100 * error.mean()
            line[f"{kind} worst %"] = 100 * error.max()
            line[f"{kind} inside"] = f"{part[f'{kind}_inside'].sum()}/{len(part)}"
            line[f"{kind} median width %"] = 100 * part[f"{kind}_width"].median()
        lines.append(line)
    return pd.DataFrame(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--weighting", default="likelihood")  # choose_law's default
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--seen", action="store_true", help="fits that include the 6.9B run")
    args = parser.parse_args()
    if args.seen:
        print(seen_residuals().to_string(index=False, float_format=lambda v: f"{v:+.2f}"))
        raise SystemExit(0)
    table = rows(args.weighting, args.n_jobs)
    pd.set_option("display.width", 200)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(summary(table).to_string(index=False, float_format=lambda v: f"{v:.2f}"))
