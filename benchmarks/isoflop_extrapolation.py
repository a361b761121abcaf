"""Which isoFLOP optimum extrapolates: fit on all budgets but the largest two, predict their N*.

For each of Porian et al.'s 15 configurations (data/porian_isoflop), three ways of turning
the smaller budgets' points into N*(C) are scored by the relative error of N* at the two
largest budgets that have an optimum in the authors' ``optimal_pairs.csv`` (their
interpolated optimum is the truth here):

- ``auto``: ``sf.isoflop``'s default window (a dense budget's basin, else 3 points);
- ``local``: ``sf.isoflop(method="local")``, a parabola in ln N through the lowest point and
  its 1 neighbour on each side, then N* = k·C^a;
- ``whole``: the same with a parabola through every point of a budget (``method="quadratic"``);
- ``lnd``: Chinchilla's L(N, D) fitted to every point of the smaller budgets (Huber on log
  loss), then its compute-optimal N at the large budgets.

    python benchmarks/isoflop_extrapolation.py
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

import scaling_fit as sf

KEYS = ["dataset", "hparams", "warmup", "decay", "param_count", "val"]


def main() -> None:
    points = sf.load_runs(
        "data/porian_isoflop/isoflop_points.csv", columns={"n_params": "n", "tokens": "t"}
    )
    optima = pd.read_csv("data/porian_isoflop/optimal_pairs.csv")
    rows = []
    for key, config in points.groupby(KEYS):
        truth = optima.set_index(KEYS).loc[key].sort_values("flops")
        budgets = np.sort(config["compute"].unique())
        large = [c for c in truth["flops"].to_numpy()[-2:] if c in set(budgets)]
        small = config[config["compute"] < min(large)]
        actual = truth.set_index("flops").loc[large, "n"].to_numpy(float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            predicted = {
                "auto": sf.isoflop(small, bootstrap=0).frontier(large)["n_opt"].to_numpy(),
                "local": sf.isoflop(small, method="local", bootstrap=0)
                .frontier(large)["n_opt"]
                .to_numpy(),
                "whole": sf.isoflop(small, method="quadratic", bootstrap=0)
                .frontier(large)["n_opt"]
                .to_numpy(),
                "lnd": sf.fit(small, "chinchilla").compute_optimal(large)["n_params"].to_numpy(),
            }
        for method, values in predicted.items():
            for c, p, a in zip(large, values, actual, strict=True):
                rows.append({"config": " ".join(map(str, key)), "method": method, "budget": c,
                             "error": p / a - 1})  # fmt: skip
        print(key, {m: np.round(100 * (v / actual - 1), 1) for m, v in predicted.items()})
    table = pd.DataFrame(rows)
    table["abs"] = 100 * table["error"].abs()
    print(table.groupby("method")["abs"].agg(["mean", "median", "max"]).round(1))


if __name__ == "__main__":
    main()
