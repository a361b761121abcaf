"""choose_law on small ladders: data from each law, targets 5-20x beyond in N, 2-5x in M.

Each case draws a ladder from one generating law's published coefficients (``Law.published``)
with 0.5 % lognormal noise (about the seed-to-seed spread of small runs) and token counts
rounded to two significant digits, as logs record them.  Ladder shapes: 4 sizes (2e7-4e8)
or 5 sizes (2e7-8e8) x 3 token multipliers (5, 20, 80) or 5 (5, 10, 20, 40, 80).  Targets:
(N, M) factors beyond the largest size and the largest multiplier, (5, 2), (10, 3) and
(20, 5).  ``sf.choose_law`` with the four registered laws (Farseer is skipped as unidentified
on 4-5 sizes) predicts each target; the table gives, per generating law and shape, the
recommended and averaged predictions' mean and worst |error| and how many truths their 95 %
intervals hold, then the same per target.  Seeded: case (law k, seed r) uses noise seed
1000·k + r, and choose_law's bootstrap seed r.

    python benchmarks/choose_law_ladders.py            # 1 seed, 4x5 and 5x3: ~2 minutes
    python benchmarks/choose_law_ladders.py --full     # 4 shapes, 5 seeds each

To spread the work, run seed ranges and merge their CSVs:

    python benchmarks/choose_law_ladders.py --full --seeds 0:2 -o a.csv
    python benchmarks/choose_law_ladders.py --full --seeds 2:5 -o b.csv
    python benchmarks/choose_law_ladders.py --merge a.csv b.csv

``--real`` runs the same ladders cut from Gadre et al.'s runs instead (sets rpj, rw_original,
c4_original; loss = C4 validation): the runs below 1e9 parameters at multipliers (5, 20, 80)
or (5, 10, 20, 40, 80), 4 sizes (11M-411M), and as targets each set's 1.4B and 6.9B runs
(3.5x and 16.7x beyond in N; the 1.4B runs at M = 320 or 640 also 4-8x beyond in M).

``--extra-runs K`` sets the fewest runs a rolling origin fits to the laws' free parameters + K
(the library's ``EXTRA_RUNS`` is 2) and ``--shapes 4x3,4x5`` picks ladder shapes, to compare:

    python benchmarks/choose_law_ladders.py --seeds 0:2 --shapes 4x3,4x5 --extra-runs 1

``--details FILE`` keeps every ranking and backtest summary (a pickle) to study other rules
without refitting.  Wall-clock seconds per call are recorded; they depend on the load.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

import scaling_fit as sf

GENERATING = ("chinchilla", "kaplan", "farseer", "overtraining")
LAWS = ("chinchilla", "kaplan", "farseer", "overtraining")
SIZES = {4: np.geomspace(2e7, 4e8, 4), 5: np.geomspace(2e7, 8e8, 5)}
MULTIPLIERS = {3: (5.0, 20.0, 80.0), 5: (5.0, 10.0, 20.0, 40.0, 80.0)}
SHAPES = {"small": ((4, 5), (5, 3)), "full": ((4, 3), (4, 5), (5, 3), (5, 5))}
TARGETS = ((5.0, 2.0), (10.0, 3.0), (20.0, 5.0))
NOISE = 0.005


def ladder(law: str, sizes: int, multipliers: int, seed: int) -> pd.DataFrame:
    """Runs of one generating law: sizes x multipliers, tokens to 2 significant digits."""
    n, m = (np.ravel(a) for a in np.meshgrid(SIZES[sizes], MULTIPLIERS[multipliers], indexing="ij"))
    d = np.array([float(f"{v:.2g}") for v in m * n])
    rule = sf.get_law(law)
    loss = rule.predict(n, d, **rule.published)
    loss = loss * np.exp(NOISE * np.random.default_rng(seed).standard_normal(loss.size))
    return pd.DataFrame({"run": [f"r{i}" for i in range(n.size)], "n_params": n, "tokens": d,
                         "loss": loss})  # fmt: skip


def case(law: str, shape: tuple, factors: tuple, seed: int, k: int, details: list | None) -> dict:
    rule = sf.get_law(law)
    n = SIZES[shape[0]][-1] * factors[0]
    target = {"n_params": n, "tokens": n * MULTIPLIERS[shape[1]][-1] * factors[1]}
    truth = float(rule.predict(target["n_params"], target["tokens"], **rule.published))
    runs = ladder(law, *shape, seed=1000 * k + seed)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sf.ScalingFitWarning)
        result = sf.choose_law(runs, LAWS, target, seed=seed, n_jobs=1, progress=False)
    row = {"law": law, "shape": f"{shape[0]}x{shape[1]}", "n_factor": factors[0],
           "m_factor": factors[1], "seed": seed, "chosen": result.chosen,
           "seconds": time.perf_counter() - start,
           "refused": result.backtest.emulation["refused"]}  # fmt: skip
    for kind, pred in (("recommended", result.recommended), ("averaged", result.averaged)):
        row[f"{kind}_error"] = pred["loss"] / truth - 1
        row[f"{kind}_inside"] = bool(pred["lower"] <= truth <= pred["upper"])
        row[f"{kind}_width"] = (pred["upper"] - pred["lower"]) / pred["loss"]
    if details is not None:
        details.append(row | {"truth": truth, "ranking": result.ranking,
                              "summary": result.backtest.summary,
                              "emulation": result.backtest.emulation})  # fmt: skip
    return row


def real_cases() -> list[dict]:
    """Gadre et al.'s runs cut to 4-size ladders, predicting each set's 1.4B and 6.9B runs."""
    gadre = sf.load_runs(
        "data/gadre_overtraining/gadre_models_flat.csv", columns={"loss": "loss_c4_val"}
    )
    rows = []
    for name in ("rpj", "rw_original", "c4_original"):
        runs = gadre[gadre["dataset_name"] == name]
        multiplier = (runs["tokens"] / runs["n_params"]).round()
        for count, kept in MULTIPLIERS.items():
            train = runs[(runs["n_params"] < 1e9) & multiplier.isin(kept)]
            for _, run in runs[runs["n_params"] >= 1e9].iterrows():
                target = {"n_params": run["n_params"], "tokens": run["tokens"]}
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", sf.ScalingFitWarning)
                    result = sf.choose_law(train, LAWS, target, n_jobs=1, progress=False)
                m = run["tokens"] / run["n_params"]
                row = {"law": name, "shape": f"4x{count}",
                       "n_factor": round(run["n_params"] / 4.1e8, 1),
                       "m_factor": round(max(m / max(kept), 1.0), 1),
                       "seed": 0, "chosen": result.chosen, "seconds": time.perf_counter() - start,
                       "refused": result.backtest.emulation["refused"]}  # fmt: skip
                for kind, pred in (
                    ("recommended", result.recommended),
                    ("averaged", result.averaged),
                ):
                    row[f"{kind}_error"] = pred["loss"] / run["loss"] - 1
                    row[f"{kind}_inside"] = bool(pred["lower"] <= run["loss"] <= pred["upper"])
                    row[f"{kind}_width"] = (pred["upper"] - pred["lower"]) / pred["loss"]
                rows.append(row)
    return rows


def summarise(table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per group: cases, mean and worst |error| (%) and truths inside the 95 % intervals."""
    lines = []
    for key, part in table.groupby(by, sort=False):
        line = dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True))
        line["cases"] = len(part)
        line["overtraining chosen"] = int(np.sum(part["chosen"] == "overtraining"))
        for kind in ("recommended", "averaged"):
            error = 100 * np.abs(part[f"{kind}_error"])
            line[f"{kind} mean / worst %"] = f"{error.mean():.2f} / {error.max():.2f}"
            line[f"{kind} inside"] = f"{int(part[f'{kind}_inside'].sum())}/{len(part)}"
            line[f"{kind} width %"] = round(100 * part[f"{kind}_width"].median(), 1)
        lines.append(line)
    return pd.DataFrame(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="4 shapes, 5 seeds")
    parser.add_argument("--real", action="store_true", help="ladders cut from Gadre et al.")
    parser.add_argument("--shapes", default=None, help="e.g. 4x3,4x5 (default: by --full)")
    parser.add_argument("--extra-runs", type=int, default=None, help="study EXTRA_RUNS")
    parser.add_argument("--seeds", default=None, help="seeds a:b (default 0:1, --full 0:5)")
    parser.add_argument("-o", "--output", default=None, help="CSV of every case")
    parser.add_argument("--details", default=None, help="pickle of every ranking")
    parser.add_argument("--merge", nargs="+", default=None, help="summarise these CSVs only")
    args = parser.parse_args()
    pd.set_option("display.width", 250)
    if args.extra_runs is not None:  # a study of the rule: both modules read the constant
        import scaling_fit.analysis.target_backtest as backtest_module
        import scaling_fit.analysis.target_holdout as holdout_module

        backtest_module.EXTRA_RUNS = holdout_module.EXTRA_RUNS = args.extra_runs
    shapes = SHAPES["full" if args.full else "small"]
    if args.shapes:
        shapes = [tuple(int(v) for v in shape.split("x")) for shape in args.shapes.split(",")]
    if args.merge:
        table = pd.concat([pd.read_csv(f) for f in args.merge], ignore_index=True)
    elif args.real:
        table = pd.DataFrame(real_cases())
        if args.output:
            table.to_csv(args.output, index=False)
        print("Gadre et al.'s sets (column law) cut to 4-size ladders:")
        print(summarise(table, ["law", "shape"]).to_string(index=False))
        print(summarise(table, ["n_factor", "m_factor"]).to_string(index=False))
        return
    else:
        first, stop = (0, 5 if args.full else 1)
        if args.seeds:
            first, stop = (int(v) for v in args.seeds.split(":"))
        rows, details = [], ([] if args.details else None)
        for seed in range(first, stop):
            for shape in shapes:
                for k, law in enumerate(GENERATING):
                    for factors in TARGETS:
                        rows.append(case(law, shape, factors, seed, k, details))
                        if args.output:
                            pd.DataFrame(rows).to_csv(args.output, index=False)
                        if args.details:
                            pd.to_pickle(details, args.details)
        table = pd.DataFrame(rows)
    print(summarise(table, ["law", "shape"]).to_string(index=False))
    print(summarise(table, ["n_factor", "m_factor"]).to_string(index=False))
    print("without Farseer-generated ladders (a form none of the fitted laws has):")
    own = table[table["law"] != "farseer"]
    print(summarise(own, ["n_factor", "m_factor"]).to_string(index=False))
    inside = table[["recommended_inside", "averaged_inside"]].mean()
    print(f"all {len(table)} cases: recommended inside {inside.iloc[0]:.3f}, averaged inside "
          f"{inside.iloc[1]:.3f}; seconds per call: median {table['seconds'].median():.1f}, "
          f"max {table['seconds'].max():.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
