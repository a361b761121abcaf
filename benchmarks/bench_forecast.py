"""Benchmark: forecasting running jobs on the Schaipp et al. (2025) curves.

For every cosine and WSD run at peak LR 1e-4, 5e-4 and 2e-3 (77 runs, not the two training
runs below), ``scaling_fit.forecast`` sees the validation curve up to 25 %, 50 % and 75 % of
the run's steps and predicts its last curve point (step T − 200), with the run's exact
schedule, without a prior and with ``prior=`` an ``lr_annealing`` fit of the constant trunk and
its 20 % linear cool-down (T = 50k) at the same peak.  Printed: mean and worst relative error
per fraction seen, and by kind.  Goal of issue 8: ≤ 0.5 % mean at 50 % seen.

With ``--coverage`` it also asks each forecast at 50 % seen for its 95 % interval
(``n_boot=30``) and prints how often the interval contains the last point's loss, and the
interval's median width (the interval is moved from step T to the last point by the ratio of
the predicted losses).

Run: ``python benchmarks/bench_forecast.py [--coverage]`` (a few minutes; ~15 with
``--coverage`` on a loaded 2-core machine).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import scaling_fit as sf
from scaling_fit.results.curves import predict_runs

DATA = Path(__file__).resolve().parents[1] / "data" / "schaipp_lr_schedules"


def spec(run: pd.Series) -> str:
    p, total = run["peak_lr"], int(run["total"])
    head = f"peak={p},total={total},warmup=300"
    if run["kind"] == "constant":
        return f"constant:{head}"
    if run["kind"] == "cosine":
        return f"cosine:{head},final={p / 10 if run['cos_final'] < 0 else 0}"
    return f"wsd:{head},decay={run['cooldown']},final=0,shape={run['shape']}"


def main() -> None:
    coverage = "--coverage" in sys.argv[1:]
    runs = pd.read_csv(DATA / "runs.csv")
    val = pd.read_csv(DATA / "val_curves.csv.gz").rename(columns={"val_loss": "loss"})
    runs = runs.join(val.sort_values("step").groupby("run").tail(1).set_index("run"), on="run")
    specs = {r["run"]: spec(r) for _, r in runs.iterrows()}
    rows = []
    warnings.simplefilter("ignore")
    for peak in (1e-4, 5e-4, 2e-3):
        here = runs[np.isclose(runs["peak_lr"], peak)]
        cool = (here["kind"] == "wsd") & (here["total"] == 50000) & (here["cooldown"] == 0.2)
        cool &= here["shape"] == "linear"
        train = [here[here["kind"] == "constant"]["run"].iloc[0], here[cool]["run"].iloc[0]]
        prior = sf.fit(val[val["run"].isin(train)], "lr_annealing", schedules=specs)
        targets = here[here["kind"].isin(["cosine", "wsd"]) & ~here["run"].isin(train)]
        for _, r in targets.iterrows():
            curve = val[val["run"] == r["run"]]
            end = pd.DataFrame({"run": [r["run"]], "step": [int(r["step"])]})
            for fraction in (0.25, 0.5, 0.75):
                seen = curve[curve["step"] <= fraction * r["total"]]
                n_boot = 30 if coverage and fraction == 0.5 else 0
                for name, p in (("none", None), ("prior", prior)):
                    result = sf.forecast(seen, specs[r["run"]], prior=p, n_boot=n_boot)
                    predicted = predict_runs(result.fit, end, specs)[0]
                    error = abs(predicted / r["loss"] - 1)
                    inside = width = np.nan
                    if result.interval is not None:
                        lo, hi = np.asarray(result.interval) * predicted / result.final_loss
                        inside, width = float(lo <= r["loss"] <= hi), (hi - lo) / predicted
                    rows.append((r["kind"], fraction, name, error, inside, width))
    table = pd.DataFrame(rows, columns=["kind", "seen", "prior", "error", "inside", "width"])
    print(table.groupby(["seen", "prior"])["error"].agg(["mean", "max", "count"]).to_string())
    print(table.groupby(["kind", "seen", "prior"])["error"].mean().unstack().to_string())
    if coverage:
        at_half = table[table["seen"] == 0.5].groupby("prior")
        print(at_half.agg(inside=("inside", "mean"), median_width=("width", "median")).to_string())


if __name__ == "__main__":
    main()
