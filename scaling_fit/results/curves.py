"""Predicted loss curves of a fitted curve law under any schedule, with bootstrap bands."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import DataError, ScalingFitWarning, argument
from ..inputs.lr_column import lr_from_knots
from ..laws.base import Law
from ..schedules.builders import Schedule
from ..schedules.by_run import as_steps, history_lr, schedules_by_run, warmup_of
from ..schedules.spec import as_schedule
from .intervals import percentile_interval

if TYPE_CHECKING:
    from .fit_result import FitResult

Array = np.ndarray
# Points whose features are built and evaluated at once when predicting (bounds memory: a
# point holds ~100-250 pairs of 4 floats).
PREDICT_CHUNK = 1024


def predict_runs(result: FitResult, runs: pd.DataFrame, schedules: Any) -> Array:
    """Predicted loss at every row (``run``, ``step``) of ``runs`` under their schedules.

    Parameters
    ----------
    result
        A fitted or :meth:`~scaling_fit.FitResult.from_params` result of a curve law.
    runs
        Table with ``run`` and ``step`` columns (any others are ignored).
    schedules
        As in :func:`scaling_fit.fit`: mapping run → schedule, or one for all runs.

    Returns
    -------
    numpy.ndarray
        One predicted loss per row, in row order.
    """
    law = _curve_law(result)
    table = runs[["run", "step"]].reset_index(drop=True)
    scheds = schedules_by_run(table["run"], schedules)
    lrs = {run: s.lr for run, s in scheds.items()}
    out = np.empty(len(table))
    for start in range(0, len(table), PREDICT_CHUNK):
        chunk = table.iloc[start : start + PREDICT_CHUNK]
        with np.errstate(all="ignore"):  # overflow shows up as a non-finite loss, said below
            out[start : start + len(chunk)] = law.predict(
                *law.features(chunk, lrs), **result.params
            )
    _warn_not_finite(result, table, out)
    return out


def _warn_not_finite(result: FitResult, table: pd.DataFrame, predicted: Array) -> None:
    """Never return NaN/inf predictions silently: say how many, where, and why."""
    bad = ~np.isfinite(predicted)
    if not bad.any():
        return
    runs = pd.unique(table["run"].to_numpy()[bad])
    shown = ", ".join(repr(r) for r in runs[:5]) + (", ..." if len(runs) > 5 else "")
    params = ", ".join(f"{k}={v:.3g}" for k, v in result.params.items())
    warnings.warn(
        f"{int(bad.sum())} of {bad.size} predicted losses are not finite (runs {shown}): "
        f"the law {result.law.name!r} overflows at its parameters ({params}), a sign of a "
        "degenerate fit. Refit with more schedules or fixed= (--fix NAME=VALUE); these rows are "
        "NaN/inf",
        ScalingFitWarning,
        stacklevel=3,
    )


def predict_curve(
    result: FitResult, schedule: Any, steps: Any = None, *, every: int = 1
) -> pd.DataFrame:
    """Predicted loss curve of one schedule: a table of ``step``, ``lr``, ``loss``.

    Parameters
    ----------
    result
        A fitted or published-parameter result of a curve law.
    schedule
        A :class:`~scaling_fit.schedules.Schedule`, spec string or LR array.
    steps
        Steps to predict (0 ≤ t ≤ total; the loss after t updates); default every multiple
        of ``every`` after the warm-up (the steps a fit uses: t > warm-up) and the end of
        training, step ``total``. The laws do not describe the warm-up;
        ``steps`` inside it are evaluated anyway, with a warning.
    every
        Stride of the default steps.
    """
    sched = _schedule(schedule)
    if steps is None:
        every = max(int(every), 1)
        first = (warmup_of(sched) // every + 1) * every
        steps = np.unique(np.append(np.arange(first, sched.total, every), sched.total))
    else:
        _warn_warmup_steps(np.atleast_1d(steps), warmup_of(sched))
    steps = as_steps(np.atleast_1d(steps), sched.total, "curve")
    table = pd.DataFrame({"run": "curve", "step": steps})
    loss = predict_runs(result, table, {"curve": sched})
    lr = history_lr(sched.lr, int(steps.max(initial=0)))[steps]
    return pd.DataFrame({"step": steps, "lr": lr, "loss": loss})


def _warn_warmup_steps(steps: Array, warmup: int) -> None:
    """Say so when asked for losses inside the warm-up, which the laws do not describe."""
    inside = np.asarray(steps, dtype=float) <= warmup
    if warmup > 0 and inside.any():
        warnings.warn(
            f"{int(inside.sum())} of {inside.size} requested steps lie in the schedule's "
            f"warm-up (step <= {warmup}), where the law does not describe the loss (fits "
            "leave those points out): read those losses as extrapolations",
            ScalingFitWarning,
            stacklevel=3,
        )


def fitted_schedules(result: FitResult) -> tuple[dict[str, Schedule], list[str]]:
    """The schedule each fitted run trained under, and the runs whose LR is not recorded.

    A run fitted with a spec (``options["schedules"]``) gets that schedule back; a run whose
    LR was an array (an ``lr`` column, or ``schedules=`` arrays) gets it rebuilt from its
    knots in ``options["lr_history"]`` (within 1e-6 of its peak,
    :func:`scaling_fit.inputs.lr_column.lr_knots`).  Fits written before the knots were
    kept list such runs second.
    """
    knots = result.options.get("lr_history") or {}
    found: dict[str, Schedule] = {}
    missing: list[str] = []
    for run, spec in (result.options.get("schedules") or {}).items():
        if run in knots:
            found[run] = as_schedule(lr_from_knots(knots[run]))
        elif str(spec).startswith("custom"):
            missing.append(run)
        else:
            found[run] = _schedule(spec)
    return found, missing


def _schedule(schedule: Any) -> Any:
    """as_schedule(), its error saying that it came from ``schedule=``."""
    try:
        return as_schedule(schedule)
    except DataError as exc:
        raise DataError(f"{argument('schedule')}: {exc}") from None


def _curve_law(result: FitResult) -> Law:
    if not result.law.fits_curves:
        raise DataError(
            f"law {result.law.name!r} is not a loss-curve law (it has no schedule features); "
            "use FitResult.predict"
        )
    return result.law


# Parameter sets × points × pairs evaluated at once for a prediction band (~32 MB of floats).
BAND_TERMS = 4_000_000


def curve_band(
    result: FitResult, schedule: Any, steps: Any, samples: Array, level: float = 0.95
) -> tuple[Array, Array]:
    """Bootstrap percentile band of a predicted curve: one (lower, upper) pair per step.

    Every bootstrap parameter set (``samples``, rows in law order) predicts the curve; the
    band at a step is the ``level`` central percentile range of those predictions.  Work is
    chunked over points so that sets × points × pairs stays near :data:`BAND_TERMS`.
    """
    law = _curve_law(result)
    sched = _schedule(schedule)
    steps = as_steps(np.atleast_1d(steps), sched.total, "curve")
    table = pd.DataFrame({"run": "curve", "step": steps})
    stacks = {n: samples[:, i, None] for i, n in enumerate(result.params)}
    chunk = max(1, BAND_TERMS // (len(samples) * 256))  # ≤ ~250 pairs per point
    lo, hi = np.empty(len(steps)), np.empty(len(steps))
    for start in range(0, len(steps), chunk):
        part = table.iloc[start : start + chunk]
        draws = law.predict(*law.features(part, {"curve": sched.lr}), **stacks)
        lo[start : start + len(part)], hi[start : start + len(part)] = percentile_interval(
            draws, level, axis=0
        )
    return lo, hi
