"""Forecast a running job: the rest of its loss curve and its final loss, from what is logged.

:func:`forecast` fits a loss-curve law to the part of one run seen so far (its logged
``step, loss`` after warm-up) under the run's **full planned schedule**, then predicts the
loss at every later step and at the end of training (step ``total``).

* ``prior=`` borrows the law's shape from a fit of other runs (a :class:`FitResult` or its
  JSON file): every parameter except ``refit`` (default L₀ and A, the level and scale of the
  power law in the LR area) is held at the prior's value.  Early in a run the seen part
  cannot pin the exponents and the annealing strength, which other schedules can.
* The interval is a moving-block bootstrap of the fit's log residuals (blocks of a tenth of
  the points, keeping the correlation of neighbouring points): each resample is refitted from
  the best parameters, and the interval is the ``level`` central range of the resamples'
  final losses.  It covers the noise of the seen part, not a wrong law or a wrong prior, so
  it is far narrower than the forecast's real error: on Schaipp et al.'s 77 cosine and WSD
  runs seen to 50 %, the 95 % interval held the final loss for 12 of 77 runs with a prior
  and 10 of 77 without (``python benchmarks/bench_forecast.py --coverage``).  Judge a
  forecast by the measured errors in the README, not by this interval.

Reference: the curve laws of :mod:`scaling_fit.laws.lr_annealing` (Tissue et al. 2024) and
:mod:`scaling_fit.laws.multipower` (Luo et al. 2025).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, ScalingFitWarning, argument
from ..fitting.fit import fit as fit_law
from ..inputs.load import load_runs
from ..results.curves import predict_curve, predict_runs
from ..results.fit_result import FitResult
from ..schedules import ScheduleLike, as_schedule

DEFAULT_REFIT = ("L0", "A")
BLOCKS = 10  # a resampled block holds about 1/BLOCKS of the seen points


@dataclass(frozen=True)
class Forecast:
    """Where a running job will end, from the part seen so far.

    Attributes
    ----------
    final_loss : float
        Predicted loss at the end of training (step ``total`` of the schedule).
    interval : tuple of float or None
        ``level`` bootstrap interval of ``final_loss`` (None when ``n_boot=0``).
    curve : pandas.DataFrame
        ``step, lr, loss`` predicted from the last seen step to the end.
    seen_steps : int
        The last logged step used.
    fit : FitResult
        The fit of the seen part (``fit.fixed`` holds what the prior supplied).
    """

    final_loss: float
    interval: tuple[float, float] | None
    curve: pd.DataFrame
    seen_steps: int
    fit: FitResult


def forecast(
    log: Any,
    schedule: ScheduleLike,
    law: Any = "lr_annealing",
    *,
    prior: FitResult | str | Path | None = None,
    refit: Sequence[str] = DEFAULT_REFIT,
    n_boot: int = 30,
    level: float = 0.95,
    seed: int = 0,
    every: int = 100,
) -> Forecast:
    """Predict the rest of a run's loss curve and its final loss from its first part.

    Parameters
    ----------
    log
        One run's logged curve: a table with ``step`` and ``loss`` (and ``run``, one value),
        or a CSV path :func:`scaling_fit.load_runs` reads.
    schedule
        The run's full planned schedule (spec, Schedule or LR array); the log must lie in it.
    law
        Loss-curve law (``"lr_annealing"``, default, or ``"multipower"``); with ``prior``,
        the prior's law.
    prior
        A fit of other runs (FitResult or JSON path) whose parameters other than ``refit``
        are held fixed.
    refit
        Parameters fitted to the seen part when a prior is given.
    n_boot
        Block-bootstrap resamples for the interval (0: none).
    level
        Central coverage of the interval.
    seed
        Seed of the resampling.
    every
        Stride of the predicted curve.
    """
    table = _one_run(log)
    sched = as_schedule(schedule)
    run = str(table["run"].iloc[0])
    fixed = {}
    if prior is not None:
        prior = prior if isinstance(prior, FitResult) else FitResult.from_json(prior)
        law = prior.law
        if not law.fits_curves:
            raise DataError(
                f"{argument('prior')}: a fit of law {law.name!r}, which does not predict loss "
                "curves; expected a fit of a loss-curve law (multipower, lr_annealing) to "
                "other runs, e.g. from `scaling-fit fit RUNS.csv --law lr_annealing -o FIT.json`"
            )
        fixed = {k: v for k, v in prior.params.items() if k not in set(refit)}
    fitted = fit_law(table, law, schedules={run: sched}, fixed=fixed or None)
    seen = int(table["step"].max())
    steps = np.unique(np.append(np.arange(seen, sched.total, max(int(every), 1)), sched.total))
    curve = predict_curve(fitted, sched, steps)
    final = float(curve["loss"].iloc[-1])
    interval = _interval(fitted, sched, run, n_boot, level, seed) if n_boot else None
    return Forecast(final, interval, curve, seen, fitted)


def _one_run(log: Any) -> pd.DataFrame:
    table = log if isinstance(log, pd.DataFrame) else load_runs(log)
    missing = [c for c in ("step", "loss") if c not in table.columns]
    if missing:
        raise DataError(
            f"forecast: the log needs columns step and loss; missing {missing} (found "
            f"{list(table.columns)}). Map them with load_runs(..., columns=...)"
        )
    if "run" not in table.columns:
        table = table.assign(run="run")
    runs = pd.unique(table["run"])
    if len(runs) != 1:
        raise DataError(
            f"forecast: the log holds {len(runs)} runs ({list(runs)[:5]}); expected one "
            "running job. Select it, e.g. log[log['run'] == name]"
        )
    return table[["run", "step", "loss"]].reset_index(drop=True)


def _interval(
    fitted: FitResult, sched: Any, run: str, n_boot: int, level: float, seed: int
) -> tuple[float, float] | None:
    """Moving-block bootstrap of log residuals: refit each resample, spread of final losses."""
    data = fitted.data
    predicted = predict_runs(fitted, data, {run: sched})
    residual = np.log(data["loss"].to_numpy(float)) - np.log(predicted)
    n, rng = len(residual), np.random.default_rng(seed)
    block = max(1, n // BLOCKS)
    starts = np.arange(n - block + 1)
    end = pd.DataFrame({"run": [run], "step": [sched.total]})
    free = {k: v for k, v in fitted.params.items() if k in fitted.free}
    finals = []
    for _ in range(n_boot):
        picks = rng.choice(starts, size=-(-n // block))
        noise = np.concatenate([residual[s : s + block] for s in picks])[:n]
        resample = data.assign(loss=predicted * np.exp(noise))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ScalingFitWarning)
            refitted = fit_law(
                resample,
                fitted.law,
                schedules={run: sched},
                fixed=fitted.fixed or None,
                init=free,
                points="unbinned",
                n_refine=2,
            )
        finals.append(predict_runs(refitted, end, {run: sched})[0])
    finals = np.asarray(finals)
    finals = finals[np.isfinite(finals)]
    if finals.size < 2:
        return None
    tail = 50.0 * (1.0 - level)
    lo, hi = np.percentile(finals, [tail, 100.0 - tail])
    return float(lo), float(hi)
