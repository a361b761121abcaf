"""The result of :func:`scaling_fit.best_schedule`: the chosen schedule against a baseline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..schedules import Schedule


@dataclass(frozen=True)
class ScheduleChoice:
    """The schedule :func:`best_schedule` chose, its predicted curve and the baseline's.

    Attributes
    ----------
    schedule : Schedule
        The candidate with the lowest predicted final loss.
    curve : pandas.DataFrame
        Its predicted curve: ``step``, ``lr``, ``loss`` (and ``loss_lower``, ``loss_upper``
        when it is longer than the fitted runs: :mod:`scaling_fit.results.length_band`).
    final_loss : float
        Its predicted loss at the end of training (step ``total_steps``).
    baseline : Schedule
        The schedule it is compared with.
    baseline_curve : pandas.DataFrame
        The baseline's predicted curve.
    baseline_loss : float
        The baseline's predicted final loss.
    improvement : float
        ``baseline_loss − final_loss`` in loss units (positive: the choice is better).
    candidates : pandas.DataFrame
        Every schedule searched: ``spec``, the grid settings and ``final_loss``, best first.
    improvement_interval : tuple of float or None
        95 % bootstrap interval of ``improvement``: both schedules' final losses predicted by
        every bootstrap parameter set of the fit (None when it was fitted without
        ``bootstrap=``).
    """

    schedule: Schedule
    curve: pd.DataFrame
    final_loss: float
    baseline: Schedule
    baseline_curve: pd.DataFrame
    baseline_loss: float
    improvement: float
    candidates: pd.DataFrame
    improvement_interval: tuple[float, float] | None = None

    def plot(self) -> Any:
        """The chosen curve against the baseline's, LRs beneath (a matplotlib Figure)."""
        from ..plotting.curves import plot_schedule_choice

        return plot_schedule_choice(self)
