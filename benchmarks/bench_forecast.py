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

import numpy as np
import pandas as pd
from bench_schaipp_schedules import DATA, PEAKS, spec, split  # the same runs and split

import scaling_fit as sf
from scaling_fit.results.curves import predict_runs


def forecast_rows(
    run: pd.Series, curve: pd.DataFrame, prior: sf.FitResult, specs: dict, coverage: bool
) -> list[tuple]:
    """(kind, seen, prior, error, inside, width) of the run's forecasts at 25/50/75 % seen."""
    rows = []
    end = pd.DataFrame({"run": [run["run"]], "step": [int(run["step"])]})
    for fraction in (0.25, 0.5, 0.75):
        seen = curve[curve["step"] <= fraction * run["total"]]
        n_boot = 30 if coverage and fraction == 0.5 else 0
        for name, p in (("none", None), ("prior", prior)):
            result = sf.forecast(seen, specs[run["run"]], prior=p, n_boot=n_boot)
            predicted = predict_runs(result.fit, end, specs)[0]
            inside = width = np.nan
            if result.interval is not None:
                lo, hi = np.asarray(result.interval) * predicted / result.final_loss
                inside, width = float(lo <= run["loss"] <= hi), (hi - lo) / predicted
            error = abs(predicted / run["loss"] - 1)
            rows.append((run["kind"], fraction, name, error, inside, width))
    return rows


def main() -> None:
    coverage = "--coverage" in sys.argv[1:]
    runs = pd.read_csv(DATA / "runs.csv")
    val = pd.read_csv(DATA / "val_curves.csv.gz").rename(columns={"val_loss": "loss"})
    runs = runs.join(val.sort_values("step").groupby("run").tail(1).set_index("run"), on="run")
    specs = {r["run"]: spec(r) for _, r in runs.iterrows()}
    rows = []
    warnings.simplefilter("ignore")
    for peak in PEAKS:
        train, others = split(runs, peak)
        prior = sf.fit(val[val["run"].isin(train)], "lr_annealing", schedules=specs)
        for _, run in others[others["kind"].isin(["cosine", "wsd"])].iterrows():
            curve = val[val["run"] == run["run"]]
            rows += forecast_rows(run, curve, prior, specs, coverage)
    table = pd.DataFrame(rows, columns=["kind", "seen", "prior", "error", "inside", "width"])
    print(table.groupby(["seen", "prior"])["error"].agg(["mean", "max", "count"]).to_string())
    print(table.groupby(["kind", "seen", "prior"])["error"].mean().unstack().to_string())
    if coverage:
        at_half = table[table["seen"] == 0.5].groupby("prior")
        print(at_half.agg(inside=("inside", "mean"), median_width=("width", "median")).to_string())


if __name__ == "__main__":
    main()
