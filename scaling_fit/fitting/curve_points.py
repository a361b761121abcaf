"""The points a loss-curve fit uses: every logged point after each run's warm-up.

A curve law (:mod:`scaling_fit.laws.multipower`, :mod:`scaling_fit.laws.lr_annealing`)
predicts the loss at every step from the whole LR history, so it needs, besides the
``run, step, loss`` table, the LR at every step of every run: ``schedules=`` (a mapping
run → :class:`~scaling_fit.schedules.Schedule`, spec string or per-step LR array, or one of
them for every run), or the table's ``lr`` column (:mod:`scaling_fit.inputs.lr_column`).

Warm-up points
--------------
By default a curve fit leaves out every point logged during the warm-up (``step <= warmup``;
warm-up = the schedule's ``warmup`` setting, or for an LR array its initial strictly rising
part) and says so in ``FitResult.options``: the laws describe the loss after warm-up, and the
very early part of training is noisy.  Pass ``points="all"`` to keep them.

Dense logs
----------
A run logged at every step (or every few) holds tens of thousands of noisy training-loss
points, and a curve fit's cost grows with the points.  By default (``points="after_warmup"``)
a run with more than :data:`DENSE` points after its warm-up is **binned**: its points are
cut, in step order, into :data:`BINS` groups of consecutive points (sizes differ by at most
one), each replaced by the mean loss at the group's mean step (rounded to a whole step).
Loss curves are smooth on that scale (a group spans 1/200 of the run), so this changes the
fitted curve by far less than the noise it averages out, and the fit costs the same for
6,000 or 72,000 logged points.  Validation-loss logs (a few hundred points a run) are fitted
as logged.  ``FitResult.options["binned"]`` records what was binned; ``points="unbinned"``
fits every point after the warm-up as logged.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, argument
from ..inputs.lr_column import lr_knots
from ..laws.base import Law
from ..schedules.by_run import schedules_by_run, warmup_of
from .bootstrap import MIN_RUNS

Array = np.ndarray
# Curves below which a bootstrap over curves says little (resampling 2-4 curves gives only
# a handful of distinct resamples).
MIN_BOOTSTRAP_CURVES = 5
POINTS = ("after_warmup", "all", "unbinned")
DENSE = 400  # runs with more points after warm-up than this are binned (default points)
BINS = 200  # groups of consecutive points a dense run is binned into


def curve_inputs(
    table: pd.DataFrame, law: Law, schedules: Any, points: str
) -> tuple[pd.DataFrame, str, tuple[Array, ...], dict[str, Any]]:
    """The fitted points, a note on them, the law's inputs and provenance for ``fit()``.

    ``points="after_warmup"`` (default) drops rows with ``step <= warmup`` of their run and
    bins dense runs; ``"unbinned"`` only drops the warm-up; ``"all"`` keeps every row.
    """
    if points not in POINTS:
        raise DataError(
            f"{argument('points', points)} is not supported by the loss-curve law "
            f"{law.name!r}: expected one of {', '.join(POINTS)} (curve laws fit every logged "
            "point)"
        )
    scheds = schedules_by_run(table["run"], schedules)
    warmup = {run: warmup_of(s) for run, s in scheds.items()}
    dropped = 0
    note = "every logged point"
    if points != "all":
        limit = table["run"].map(warmup).to_numpy()
        early = table["step"].to_numpy(float) <= limit
        dropped = int(early.sum())
        table = table.loc[~early].reset_index(drop=True)
        note = (
            f"every logged point after warm-up (step > warmup); {dropped} warm-up point(s) "
            "left out (points='all' keeps them)"
        )
    if table.empty:
        raise DataError(
            f"no points left: all {dropped} logged point(s) lie in the warm-up (step <= warmup "
            f"of their run, {warmup}); log past the warm-up, or keep them with "
            f"{argument('points', 'all')}"
        )
    binned: dict[str, str] = {}
    if points == "after_warmup":
        table, binned = bin_dense_runs(table)
        if binned:
            note += (
                f"; {len(binned)} dense run(s) binned into {BINS} means of consecutive points "
                "(points='unbinned' fits them as logged)"
            )
    inputs = law.features(table, {run: s.lr for run, s in scheds.items()})
    options = {
        "schedules": {run: s.spec or f"custom ({s.total} steps)" for run, s in scheds.items()},
        # what a forecast's prior was fitted on (scaling_fit.analysis.forecast_prior)
        "schedule_family": {run: s.name for run, s in scheds.items()},
        "peak_lr": {run: s.peak for run, s in scheds.items()},
        # LR arrays have no spec: their knots let figures and predictions redraw the fit
        "lr_history": {run: lr_knots(s.lr) for run, s in scheds.items() if not s.spec},
        "warmup": warmup,
        "warmup_points_dropped": dropped,
        "binned": binned,
    }
    return table, note, inputs, options


def bin_dense_runs(table: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """Each run with more than :data:`DENSE` rows as :data:`BINS` means of consecutive rows.

    Returns the table (``run``, ``step``, ``loss``; other columns dropped for binned runs)
    and, per binned run, a note like ``"24000 points -> 200 bins of 120"``. O(points).
    """
    runs = table["run"].to_numpy()
    counts = table["run"].value_counts(sort=False)
    if not (counts > DENSE).any():
        return table, {}
    parts, notes = [], {}
    for run in pd.unique(runs):
        rows = table.loc[runs == run].sort_values("step", kind="stable")
        if len(rows) <= DENSE:
            parts.append(rows)
            continue
        group = np.arange(len(rows)) * BINS // len(rows)  # BINS groups, sizes differ by <= 1
        size = np.bincount(group)
        step = np.bincount(group, rows["step"].to_numpy(float)) / size
        loss = np.bincount(group, rows["loss"].to_numpy(float)) / size
        parts.append(pd.DataFrame({"run": run, "step": np.round(step), "loss": loss}))
        notes[str(run)] = f"{len(rows)} points -> {BINS} bins of {size.min()}-{size.max()}"
    out = pd.concat(parts, ignore_index=True)
    out.attrs = dict(table.attrs)
    return out, notes


def bootstrap_note(table: pd.DataFrame, bootstrap: int) -> list[str]:
    """A warning when a bootstrap resamples too few curves to mean much."""
    n = table["run"].nunique()
    if bootstrap and MIN_RUNS <= n < MIN_BOOTSTRAP_CURVES:  # fewer: not run, said in fit()
        return [
            f"the bootstrap resamples whole curves and there are only {n} (fewer than "
            f"{MIN_BOOTSTRAP_CURVES}): its intervals are not meaningful; fit more curves"
        ]
    return []
