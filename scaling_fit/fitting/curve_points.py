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
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, argument
from ..laws.base import Law
from ..schedules.by_run import schedules_by_run, warmup_of

Array = np.ndarray
# Curves below which a bootstrap over curves says little (resampling 2-4 curves gives only
# a handful of distinct resamples).
MIN_BOOTSTRAP_CURVES = 5
POINTS = ("after_warmup", "all")


def curve_inputs(
    table: pd.DataFrame, law: Law, schedules: Any, points: str
) -> tuple[pd.DataFrame, str, tuple[Array, ...], dict[str, Any]]:
    """The fitted points, a note on them, the law's inputs and provenance for ``fit()``.

    ``points="after_warmup"`` (default) drops rows with ``step <= warmup`` of their run.
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
    if points == "after_warmup":
        limit = table["run"].map(warmup).to_numpy()
        early = table["step"].to_numpy(float) <= limit
        dropped = int(early.sum())
        table = table.loc[~early].reset_index(drop=True)
        note = (
            f"every logged point after warm-up (step > warmup); {dropped} warm-up point(s) "
            "left out (points='all' keeps them)"
        )
    if table.empty:
        raise DataError("no points left after leaving out warm-up points (step <= warmup)")
    inputs = law.features(table, {run: s.lr for run, s in scheds.items()})
    options = {
        "schedules": {run: s.spec or f"custom ({s.total} steps)" for run, s in scheds.items()},
        "warmup": warmup,
        "warmup_points_dropped": dropped,
    }
    return table, note, inputs, options


def bootstrap_note(table: pd.DataFrame, bootstrap: int) -> list[str]:
    """A warning when a bootstrap resamples too few curves to mean much."""
    n = table["run"].nunique()
    if bootstrap and n < MIN_BOOTSTRAP_CURVES:
        return [
            f"the bootstrap resamples whole curves and there are only {n} (fewer than "
            f"{MIN_BOOTSTRAP_CURVES}): its intervals are not meaningful; fit more curves"
        ]
    return []
