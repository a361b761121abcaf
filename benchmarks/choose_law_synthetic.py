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

To spread the work over processes, run seed ranges and merge their CSVs:

    python benchmarks/choose_law_synthetic.py --seeds 0:25 -o a.csv
    python benchmarks/choose_law_synthetic.py --seeds 25:50 -o b.csv
    python benchmarks/choose_law_synthetic.py --merge a.csv b.csv
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


def _all_held_out(calls: list) -> pd.DataFrame:
    """Errors of every split fit on *all* its held-out runs (the backtest scores only some)."""
    from scaling_fit.analysis.backtest_fits import held_out_errors

    (splits, table, laws), outcomes = calls[0], iter(calls[1])
    rows = []
    for law in laws:
        for k, split in enumerate(splits):
            result = next(outcomes)[0]
            held = table.loc[~split.fit]
            mismatch, scored = split.mismatch[~split.fit], split.scored[~split.fit]
            errors = held_out_errors(law, result, held)
            rows.append(errors.assign(origin=k, mismatch=mismatch, scored=scored))
    return pd.concat(rows, ignore_index=True)


def recording(calls: list) -> None:
    """Patch target_backtest to keep its splits and fits (results unchanged; run_fits returns
    the outcomes in task order, law by law, split by split)."""
    import scaling_fit.analysis.target_backtest as tb

    splits_fn, fits_fn = tb.target_splits, tb.run_fits

    def splits(table, *args, **kwargs):
        out = splits_fn(table, *args, **kwargs)
        calls[:] = [[out[0], table, None]]
        return out

    def fits(tasks, n_jobs, progress=False):
        out = fits_fn(tasks, n_jobs, progress)
        laws = {t[0].name: t[0] for t in tasks}
        calls[0][2] = list(laws.values())
        calls.append(out)
        return out

    tb.target_splits, tb.run_fits = splits, fits


CALLS: list = []


def replicate(
    law: str, seed: int, noise: float, n_jobs: int, bootstrap: int, details: list | None = None
) -> dict:
    rule = sf.get_law(law)
    truth = float(rule.predict(TARGET["n_params"], TARGET["tokens"], **rule.published))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sf.ScalingFitWarning)
        result = sf.choose_law(
            runs(law, noise, seed), LAWS, TARGET, bootstrap=bootstrap, n_jobs=n_jobs, seed=seed
        )
    if details is not None:  # kept to study other choice rules without refitting
        details.append({"law": law, "seed": seed, "truth": truth, "ranking": result.ranking,
                        "errors": _all_held_out(CALLS), "emulation": result.backtest.emulation,
                        "chosen": result.chosen})  # fmt: skip
    row = {"law": law, "seed": seed, "chosen": result.chosen,
           "top_ranked": result.ranking.loc[0, "law"]}  # fmt: skip
    for kind, pred in (("recommended", result.recommended), ("averaged", result.averaged)):
        row[f"{kind}_error"] = pred["loss"] / truth - 1
        row[f"{kind}_inside"] = pred["lower"] <= truth <= pred["upper"]
        row[f"{kind}_width"] = (pred["upper"] - pred["lower"]) / pred["loss"]
    return row


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Per generating law: replicates, pick rates, coverage, median width, mean |error|."""
    lines = []
    for law, part in table.groupby("law"):
        lines.append({
            "law": law,
            "replicates": len(part),
            "picks_generating": int(np.sum(part["chosen"] == law)),
            "top_ranked_generating": int(np.sum(part["top_ranked"] == law)),
            "recommended_inside": int(part["recommended_inside"].sum()),
            "averaged_inside": int(part["averaged_inside"].sum()),
            "recommended_median_width": float(part["recommended_width"].median()),
            "averaged_median_width": float(part["averaged_width"].median()),
            "recommended_mean_error": float(np.abs(part["recommended_error"]).mean()),
            "averaged_mean_error": float(np.abs(part["averaged_error"]).mean()),
        })  # fmt: skip
    return pd.DataFrame(lines).set_index("law")


def main() -> None:
    from scaling_fit.analysis.choose_law import BOOTSTRAP

    parser = argparse.ArgumentParser()
    parser.add_argument("--replicates", type=int, default=50)
    parser.add_argument("--first", type=int, default=0, help="first replicate (seed offset)")
    parser.add_argument("--seeds", default=None, help="replicates a:b (overrides --first)")
    parser.add_argument("--noise", type=float, default=0.005)
    parser.add_argument("--bootstrap", type=int, default=BOOTSTRAP, help="choose_law's default")
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("-o", "--output", default=None, help="CSV of every replicate")
    parser.add_argument("--details", default=None, help="pickle of every ranking and backtest")
    parser.add_argument("--merge", nargs="+", default=None, help="summarise these CSVs only")
    args = parser.parse_args()
    pd.set_option("display.width", 200)
    if args.merge:
        table = pd.concat([pd.read_csv(f) for f in args.merge], ignore_index=True)
        table = table.drop_duplicates(["law", "seed"])
    else:
        first, stop = args.first, args.first + args.replicates
        if args.seeds:
            first, stop = (int(v) for v in args.seeds.split(":"))
        rows, details = [], ([] if args.details else None)
        if args.details:
            recording(CALLS)
        for r in range(first, stop):
            for k, law in enumerate(LAWS):
                seed = 1000 * k + r
                rows.append(replicate(law, seed, args.noise, args.n_jobs, args.bootstrap, details))
                if args.output:
                    pd.DataFrame(rows).to_csv(args.output, index=False)
                if args.details:
                    pd.to_pickle(details, args.details)
        table = pd.DataFrame(rows)
    print(summarise(table).to_string(float_format=lambda v: f"{v:.4f}"))
    print(f"all: recommended inside {table['recommended_inside'].mean():.3f}, "
          f"averaged inside {table['averaged_inside'].mean():.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
