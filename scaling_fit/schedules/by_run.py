"""Each run's LR schedule, and the step convention every curve law shares.

Step convention: a row at ``step`` t is the loss after t optimizer steps and uses ``lr[t]``;
its schedule must have more than t steps.  Warm-up steps are the schedule's ``warmup`` setting,
or for an LR array its initial strictly rising part.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, argument
from .builders import Schedule
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


def warmup_of(schedule: Schedule) -> int:
    """Warm-up steps: the schedule's setting, or the initial rising part of a custom array."""
    return int(schedule.warmup) if schedule.spec else rising_prefix(schedule.lr)


def rising_prefix(lr: Array) -> int:
    """Length of the initial strictly rising part of an LR array (its warm-up), 0 if none."""
    lr = np.asarray(lr, dtype=float)
    if lr.size < 2 or lr[1] <= lr[0]:
        return 0
    falls = np.flatnonzero(lr[1:] <= lr[:-1])
    return int(falls[0] + 1) if falls.size else int(lr.size)


def as_steps(steps: Array, n_steps: int, run: object = "") -> Array:
    """Integer LR indices of logged steps, checked to lie inside a schedule of n_steps."""
    values = np.asarray(steps, dtype=float)
    index = np.round(values).astype(np.int64)
    bad = (values != index) | (index < 0) | (index >= n_steps)
    if bad.any():
        raise DataError(
            f"run {run!r}: step {values[bad][0]:g} has no LR in its schedule of {n_steps} "
            f"steps; expected whole steps 0..{n_steps - 1} (a row at step t uses lr[t], the "
            "LR after t steps). Fix: give the run a schedule with total > its last step"
        )
    return index
