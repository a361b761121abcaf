"""How far a loss-curve law extrapolates in length, measured within the fitted runs.

A curve law fitted to short runs can predict a longer run far too low (issue 24: on a small
real ladder, 500-2,000-step curves predicted 6,000 steps 22 % low), because early in
training the loss falls faster in LR area than later.  Two extra fits of the same data
measure this, once, when the law is fitted (:func:`length_check`):

* **backtest**: the law refitted to the shorter runs (those at most 1/1.5 of the longest's
  steps) predicts the final loss of the longest; with no such run, every run is cut at half
  the longest one's steps (:data:`TRUNCATE`) and the refit predicts the ends.  It records the
  relative error and how far beyond its fitted range the backtest predicted (the factor,
  :func:`length_factor`).
* **drift**: the law refitted without the points before :data:`DRIFT_DROP` of the longest
  run's steps.  Its parameters are kept: where a prediction goes beyond the fitted runs,
  :mod:`scaling_fit.results.length_band` compares the two fits there (a regime change shows
  up as exponents that move and predictions that part).

The measurement is stored in ``FitResult.options["length_check"]`` (JSON-ready) and read by
:meth:`scaling_fit.FitResult.predict_curve`.  Why 20 % is dropped and how the error grows
with the length: ``benchmarks/curve_length_extrapolation.py`` and docs/validation.md.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ScalingFitError
from ..results.curves import fitted_schedules, predict_runs
from ..results.fit_result import FitResult
from ..results.length_band import area_at, length_factor

# A backtest from the shorter runs needs them at most this fraction of the longest's length,
# so that it extrapolates by a factor worth measuring.
MIN_BACKTEST_RATIO = 1.5
# With no shorter run, every run is cut at this fraction of the longest run's steps.
TRUNCATE = 0.5
# The drift refit leaves out the points before this fraction of the longest run's steps: the
# one choice that extrapolated best on every shipped set held out in turn (docs/validation.md,
# "Predicting runs longer than the fitted ones": 11 sets, 0/5/10/20/30/40 % tried; 20 % was
# best on the other ten every time, judged by each set's worst error relative to its own with
# nothing left out).
DRIFT_DROP = 0.2

# refit(table, schedules, from_optimum): the fit's law refitted to some of its points, by
# the global search, or (from_optimum) by one refine from the fit's optimum, searching only
# where that refine does not converge.
Refit = Callable[[pd.DataFrame, dict[str, Any], bool], FitResult]


def length_check(result: FitResult, refit: Refit) -> dict[str, Any]:
    """The backtest and drift refits of a curve fit (see the module docstring).

    ``refit(table, schedules, from_optimum)`` fits ``table`` (``run, step, loss``) with the
    fit's options (see :data:`Refit`).
    Returns a JSON-ready dictionary; ``backtest`` or ``drift`` is None, with a ``note``
    saying why, when the data cannot support it.
    """
    table = result.data[["run", "step", "loss"]].reset_index(drop=True)
    schedules, missing = fitted_schedules(result)
    runs = pd.unique(table["run"])
    if missing or any(run not in schedules for run in runs):
        return {"note": "the LR schedules of some fitted runs are not recorded"}
    last = table.groupby("run", sort=False)["step"].max()
    longest = int(last.max())
    area = max(area_at(schedules[run].lr, int(last[run])) for run in runs)
    out: dict[str, Any] = {"longest_step": longest, "longest_area": float(area)}
    out["backtest"], backtest_note = _backtest(table, schedules, last, refit)
    cut = int(np.ceil(DRIFT_DROP * longest))
    kept = table[table["step"] >= cut]
    # The drift refit holds nothing out, so it starts from the fit's optimum: one refine
    # instead of a search, and both fits in one basin, so their exponents compare.
    drift = _quiet_fit(refit, kept, schedules, from_optimum=True)
    out["drift"] = None if drift is None else {"from_step": cut, "params": drift.params}
    notes = [backtest_note] + ([] if drift else [f"no fit without the steps before {cut}"])
    out["note"] = "; ".join(n for n in notes if n)
    return out


def _backtest(
    table: pd.DataFrame, schedules: dict[str, Any], last: pd.Series, refit: Refit
) -> tuple[dict[str, Any] | None, str]:
    """Refit shorter runs (or every run cut at half) and predict the longest runs' ends."""
    longest = int(last.max())
    shorter = last.index[last <= longest / MIN_BACKTEST_RATIO]
    if len(shorter):
        train, method = table[table["run"].isin(shorter)], "the shorter runs"
    else:
        train = table[table["step"] <= TRUNCATE * longest]
        method = f"every run cut at {TRUNCATE:.0%} of the longest"
    if train.empty or train.groupby("run")["step"].size().max() < 3:
        return None, f"too few points for a backtest from {method}"
    # Searched, not refined from the fit's optimum: the optimum of every run knows the runs
    # the backtest predicts, and a refine from it keeps what the shorter runs leave
    # undetermined (runs cut before their LR drop: the drop term), so it would backtest
    # too well (Luo et al.'s 3 x 16k-step runs: misses of 3-5 % became 0.5-0.8 %).
    fitted = _quiet_fit(refit, train, schedules, from_optimum=False)
    if fitted is None:
        return None, f"the backtest fit of {method} failed"
    fitted_last = train.groupby("run")["step"].max()
    fitted_area = max(area_at(schedules[r].lr, int(s)) for r, s in fitted_last.items())
    worst: dict[str, Any] | None = None
    for run in last.index[last == longest]:
        end = table[(table["run"] == run) & (table["step"] == longest)]
        with np.errstate(all="ignore"):
            predicted = predict_runs(fitted, end, {run: schedules[run]})[0]
        error = float(predicted / end["loss"].iloc[0] - 1.0)
        if not np.isfinite(error):
            return None, f"the backtest fit of {method} predicts no finite loss"
        if worst is None or abs(error) > abs(worst["error"]):
            factor = length_factor(
                longest, area_at(schedules[run].lr, longest), fitted_last.max(), fitted_area
            )
            worst = {"method": method, "run": str(run), "factor": factor, "error": error}
    return worst, ""


def _quiet_fit(
    refit: Refit, table: pd.DataFrame, schedules: dict[str, Any], from_optimum: bool
) -> FitResult | None:
    """The refit, its warnings silenced (the user sees the check's verdict), or None."""
    if table.empty:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fitted = refit(table, {r: schedules[r] for r in pd.unique(table["run"])}, from_optimum)
        except (ScalingFitError, ValueError):
            return None
    finite = all(np.isfinite(v) for v in fitted.params.values())
    return fitted if fitted.converged and finite else None
