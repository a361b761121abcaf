"""Each run's LR schedule, and the step convention every curve law shares.

Step convention (the one place it is defined; loaders, schedules and laws follow it)
------------------------------------------------------------------------------------
A row at ``step`` t is the loss **after t optimizer updates**: what a training loop's
counter shows once update t is done (W&B's ``_step``, Hugging Face's ``global_step``, the
``step``/``iter`` columns of the MultiPowerLaw and Schaipp et al. logs).  Steps run from 0 (no
update yet) to T, the schedule's ``total`` (the end of training: a last logged step equal to
``total`` is accepted).

A schedule of total T is T learning rates ``lr[0..T-1]``.  Curve laws evaluate step t from the
LR history ``lr[0..t]`` (S₁(t) = Σ_{i≤t} lr[i], as in Luo et al.'s code, with which the
published multi-power parameters reproduce the paper's test errors); under a linear warm-up
``lr[0] = 0``, so ``lr[i]`` is the LR of update i.  Step T, the end of training, uses the
history extended by its final LR (``lr[T] := lr[T-1]``, :func:`history_lr`): one step held
at the last LR, a shift far below any law's accuracy.

Warm-up steps are the schedule's ``warmup`` setting, or for an LR array (e.g. one rebuilt from
a logged ``lr`` column, :mod:`scaling_fit.inputs.lr_column`) its initial strictly rising
part.  A curve fit leaves out the points with step <= warm-up by default.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, argument
from ..inputs.lr_column import rising_prefix
from .builders import Schedule
from .history import cached_on
from .spec import as_schedule

Array = np.ndarray


def schedules_by_run(runs: Any, schedules: Any) -> dict[str, Schedule]:
    """Resolve ``schedules=`` into one :class:`Schedule` per run name.

    Parameters
    ----------
    runs
        Run names (any iterable; duplicates are fine).
    schedules
        A mapping run → Schedule / spec / LR array, or one Schedule / spec for every run.
    """
    names = list(pd.unique(np.asarray(runs, dtype=object)))
    if schedules is None:
        raise DataError(
            "a loss-curve law needs the LR at every step of every run: pass "
            f"{argument('schedules')}: a mapping run -> schedule spec / Schedule / LR array, "
            "or one spec for all runs, e.g. 'cosine:peak=3e-4,total=24000,warmup=2160,"
            "final=3e-5'; or give the runs table an 'lr' column"
        )
    if isinstance(schedules, Mapping):
        missing = [n for n in names if n not in schedules]
        if missing:
            raise DataError(
                f"{argument('schedules')} has no schedule for runs {missing}; it has "
                f"{sorted(schedules)}. Add them (keys are the values of the 'run' column: the "
                "CSV file stems unless the data has a 'run' column)"
            )
        return {n: _schedule(schedules[n], f", run {n!r}") for n in names}
    if isinstance(schedules, Schedule | str):
        sched = _schedule(schedules)
        return dict.fromkeys(names, sched)
    raise DataError(
        f"{argument('schedules')} must be a mapping run -> schedule, a Schedule or a spec "
        f"string; found {type(schedules).__name__}. For one LR array per run use {{run: array}}"
    )


def _schedule(schedule: Any, where: str = "") -> Schedule:
    """as_schedule(), its error saying that it came from ``schedules=`` (and which run)."""
    try:
        return as_schedule(schedule)
    except DataError as exc:
        raise DataError(f"{argument('schedules')}{where}: {exc}") from None


_EXTENDED: dict = {}  # LR arrays extended by one step, cached on the array object


def warmup_of(schedule: Schedule) -> int:
    """Warm-up steps: the schedule's setting, or the initial rising part of a custom array."""
    return int(schedule.warmup) if schedule.spec else rising_prefix(schedule.lr)


def history_lr(lr: Array, last_step: int) -> Array:
    """The LR history that steps up to ``last_step`` use: ``lr``, extended by its final LR
    when ``last_step`` is the schedule's total (step T, the end of training).

    The extension is cached on the array object, so repeated calls return the same array
    (the curve laws' change structures are cached on it too).
    """
    lr = np.asarray(lr, dtype=float)
    if last_step < lr.size:
        return lr
    return cached_on(_EXTENDED, lr, lambda: np.append(lr, lr[-1]))


def as_steps(steps: Array, n_steps: int, run: object = "") -> Array:
    """Integer steps of logged rows, checked to lie in 0..n_steps (a schedule's total).

    Index the LR with :func:`history_lr` (step ``n_steps`` needs the one-step extension).
    """
    values = np.asarray(steps, dtype=float)
    inside = np.isfinite(values) & (values >= 0) & (values <= n_steps)
    index = np.round(np.where(inside, values, 0)).astype(np.int64)  # no cast of 1e30 or inf
    bad = ~inside | (values != index)
    if bad.any():
        raise DataError(
            f"run {run!r}: step {values[bad][0]:g} lies outside its schedule of {n_steps} "
            f"steps; expected whole steps 0..{n_steps} (a row at step t is the loss after t "
            "updates). Fix: give the run a schedule with total >= its last step"
        )
    return index
