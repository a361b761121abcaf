"""choose_law on Epoch AI's digitised Chinchilla runs: fit on N < 2e9, predict larger runs.

The 5 highest-loss runs are dropped (as Epoch AI did).  Targets: at each model size of 4e9
parameters or more, the run with the most compute (5 runs, 4.5B-16B).  Same columns as
``choose_law_gadre.py``.  Run from the repository root:

    python benchmarks/choose_law_epoch.py [--n-jobs 2]

Each call takes 1-3 minutes (Farseer is identified and bootstrapped); to spread the work, run
subsets of the targets (in increasing compute) and merge their CSVs:

    python benchmarks/choose_law_epoch.py --targets 0:2 -o a.csv   # and 2:4, 4:6
    python benchmarks/choose_law_epoch.py --merge a.csv b.csv c.csv
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

import scaling_fit as sf

LAWS = ("chinchilla", "kaplan", "farseer", "overtraining")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--targets", default=None, help="targets a:b only (0-based)")
    parser.add_argument("-o", "--output", default=None, help="CSV of every target")
    parser.add_argument("--merge", nargs="+", default=None, help="summarise these CSVs only")
    args = parser.parse_args()
    if args.merge:
        summarise(pd.concat([pd.read_csv(f) for f in args.merge], ignore_index=True))
        return
    runs = sf.load_runs("data/epoch_chinchilla/svg_extracted_data.csv")
    runs = runs.loc[~sf.highest_loss_mask(runs, 5)].reset_index(drop=True)
    train = runs[runs["n_params"] < 2e9]
    big = runs[runs["n_params"] >= 4e9].assign(size=lambda t: t["n_params"].round(-8))
    targets = big.sort_values("compute").groupby("size").tail(1).sort_values("compute")
    if args.targets:
        first, stop = (int(v) for v in args.targets.split(":"))
        targets = targets.iloc[first:stop]
    rows = []
    for _, run in targets.iterrows():
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sf.ScalingFitWarning)
            result = sf.choose_law(
                train, LAWS, {"n_params": run["n_params"], "tokens": run["tokens"]},
                n_jobs=args.n_jobs,
            )  # fmt: skip
        row = {"n_params": run["n_params"], "tokens": run["tokens"], "loss": run["loss"]}
        row["law"] = result.chosen
        for kind, pred in (("chosen", result.recommended), ("averaged", result.averaged)):
            row[f"{kind}_error"] = (pred["loss"] - run["loss"]) / run["loss"]
            row[f"{kind}_inside"] = pred["lower"] <= run["loss"] <= pred["upper"]
            row[f"{kind}_width"] = (pred["upper"] - pred["lower"]) / pred["loss"]
        rows.append(row | {"seconds": time.perf_counter() - start})
        print(pd.DataFrame(rows[-1:]).to_string(index=False), flush=True)
        if args.output:
            pd.DataFrame(rows).to_csv(args.output, index=False)
    summarise(pd.DataFrame(rows))


def summarise(table: pd.DataFrame) -> None:
    for kind in ("chosen", "averaged"):
        error = 100 * np.abs(table[f"{kind}_error"])
        print(
            f"{kind}: mean {error.mean():.2f} %, worst {error.max():.2f} %, inside "
            f"{table[f'{kind}_inside'].sum()}/{len(table)}, median width "
            f"{100 * table[f'{kind}_width'].median():.1f} %"
        )


if __name__ == "__main__":
    main()
