"""Synthetic study of choose_law: data from one law, fitted by all; pick rate and coverage.

Each replicate draws runs from a generating law (its published coefficients) on a grid of
5 sizes (1e7 … 4e8 parameters) × 4 token multipliers (5, 20, 80, 320) with lognormal noise
of sd ``--noise`` (0.5 % by default, about the seed-to-seed spread of small runs), and asks
``sf.choose_law`` about a target 10x beyond the largest size (4e9 parameters, 20 tokens per
parameter).  It records whether the recommended law is the generating one and whether the
true loss lies inside the recommended and the averaged 95 % intervals.  Seeded: replicate r of
law k uses seed 1000·k + r.  Farseer is not in the study: its nine parameters are not
identified by five sizes, so choose_law skips it.

    python benchmarks/choose_law_synthetic.py --replicates 50 [--n-jobs 2]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd

import scaling_fit as sf

LAWS = ("chinchilla", "kaplan", "overtraining")
SIZES = np.geomspace(1e7, 4e8, 5)
MULTIPLIERS = (5.0, 20.0, 80.0, 320.0)
TARGET = {"n_params": 4e9, "tokens": 8e10}


def runs(law: str, noise: float, seed: int) -> pd.DataFrame:
    n, m = (np.ravel(a) for a in np.meshgrid(SIZES, MULTIPLIERS, indexing="ij"))
    rule = sf.get_law(law)
    loss = rule.predict(n, m * n, **rule.published)
    loss = loss * np.exp(noise * np.random.default_rng(seed).standard_normal(loss.size))
    return pd.DataFrame({"run": [f"r{i}" for i in range(n.size)], "n_params": n,
                         "tokens": m * n, "loss": loss})  # fmt: skip


def replicate(law: str, seed: int, noise: float, n_jobs: int, bootstrap: int) -> dict:
    rule = sf.get_law(law)
    truth = float(rule.predict(TARGET["n_params"], TARGET["tokens"], **rule.published))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sf.ScalingFitWarning)
        result = sf.choose_law(
            runs(law, noise, seed), LAWS, TARGET, bootstrap=bootstrap, n_jobs=n_jobs, seed=seed
        )
    row = {"law": law, "seed": seed, "chosen": result.chosen,
           "top_ranked": result.ranking.loc[0, "law"]}  # fmt: skip
    for kind, pred in (("recommended", result.recommended), ("averaged", result.averaged)):
        row[f"{kind}_error"] = pred["loss"] / truth - 1
        row[f"{kind}_inside"] = pred["lower"] <= truth <= pred["upper"]
        row[f"{kind}_width"] = (pred["upper"] - pred["lower"]) / pred["loss"]
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replicates", type=int, default=50)
    parser.add_argument("--first", type=int, default=0, help="first replicate (seed offset)")
    parser.add_argument("--noise", type=float, default=0.005)
    parser.add_argument("--bootstrap", type=int, default=20)
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("-o", "--output", default=None, help="CSV of every replicate")
    args = parser.parse_args()
    rows = []
    for r in range(args.first, args.first + args.replicates):
        for k, law in enumerate(LAWS):
            rows.append(replicate(law, 1000 * k + r, args.noise, args.n_jobs, args.bootstrap))
            if args.output:
                pd.DataFrame(rows).to_csv(args.output, index=False)
    table = pd.DataFrame(rows)
    summary = table.groupby("law").agg(
        replicates=("seed", "size"),
        picks_generating=("chosen", lambda s: float(np.mean(s == s.name))),
        recommended_inside=("recommended_inside", "mean"),
        averaged_inside=("averaged_inside", "mean"),
        averaged_median_width=("averaged_width", "median"),
    )
    summary["picks_generating"] = [
        float(np.mean(table.loc[table["law"] == law, "chosen"] == law)) for law in summary.index
    ]
    summary["top_ranked_generating"] = [
        float(np.mean(table.loc[table["law"] == law, "top_ranked"] == law)) for law in summary.index
    ]
    print(summary.to_string(float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
