"""The result of :func:`scaling_fit.best_schedule`: the chosen schedule against a baseline.

``ScheduleChoiceResult`` (JSON tag ``scaling_fit.ScheduleChoice/1``, the tag the command line
wrote before it moved here); ``ScheduleChoice`` is its deprecated old name.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..schedules import Schedule
from .base import Result, Section
from .json_file import table_field
from .json_safe import json_columns

SHOWN = 5  # candidates in the report


@dataclass(frozen=True, repr=False)
class ScheduleChoiceResult(Result):
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
    law, family : str
        The fitted law's name and the family searched ("" when not recorded).
    """

    FORMAT = "scaling_fit.ScheduleChoice/1"
    WHAT = "schedule choice"

    schedule: Schedule
    curve: pd.DataFrame
    final_loss: float
    baseline: Schedule
    baseline_curve: pd.DataFrame
    baseline_loss: float
    improvement: float
    candidates: pd.DataFrame
    improvement_interval: tuple[float, float] | None = None
    law: str = ""
    family: str = ""

    def plot(self, ax: Any = None, *, kind: str = "curves") -> Any:
        """The chosen curve against the baseline's, LRs beneath (a matplotlib Figure).

        ``ax`` is not used (the figure has two panels); ``kind`` is ``"curves"`` only.
        """
        from ..plotting.curves import plot_schedule_choice

        return plot_schedule_choice(self)

    def sections(self) -> list[Section]:
        """The choice against the baseline, then the best candidates."""
        baseline = self.baseline.spec or self.baseline.name
        interval = ""
        if self.improvement_interval is not None:
            interval = " [{:.4g}, {:.4g}] (95 %)".format(*self.improvement_interval)
        top = self.candidates.head(SHOWN)
        family = self.family or self.schedule.name
        pairs = zip(top["final_loss"], top["spec"], strict=True)
        return [
            Section(
                f"best {family} schedule: {self.schedule.spec}",
                [
                    f"  predicted final loss {self.final_loss:.6g}; baseline {baseline}: "
                    f"{self.baseline_loss:.6g}; improvement {self.improvement:.4g}{interval}"
                ],
            ),
            Section(
                f"best {len(top)} of {len(self.candidates)} candidates "
                "(all: --format json or csv):",
                [f"  {loss:<9.6g} {spec}" for loss, spec in pairs],
            ),
        ]

    def __repr__(self) -> str:
        return self.report()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (NaN as None)."""
        interval = self.improvement_interval
        return {
            "format": self.FORMAT,
            "law": self.law,
            "family": self.family,
            "total_steps": int(self.schedule.total),
            "schedule": self.schedule.spec,
            "final_loss": self.final_loss,
            "baseline": self.baseline.spec or self.baseline.name,
            "baseline_loss": self.baseline_loss,
            "improvement": self.improvement,
            "improvement_interval": None if interval is None else list(interval),
            "curve": json_columns(self.curve),
            "baseline_curve": json_columns(self.baseline_curve),
            "candidates": json_columns(self.candidates),
        }

    @classmethod
    def _from_dict(cls, raw: dict[str, Any]) -> ScheduleChoiceResult:
        from ..schedules import from_spec

        baseline_curve = table_field(raw["baseline_curve"], "baseline_curve", ("step", "lr"))
        interval = raw.get("improvement_interval")  # the CLI's first files lacked it
        return cls(
            schedule=from_spec(raw["schedule"]),
            curve=table_field(raw["curve"], "curve", ("step", "lr", "loss")),
            final_loss=float(raw["final_loss"]),
            baseline=_baseline(raw["baseline"], int(raw["total_steps"]), baseline_curve),
            baseline_curve=baseline_curve,
            baseline_loss=float(raw["baseline_loss"]),
            improvement=float(raw["improvement"]),
            candidates=table_field(
                raw["candidates"],
                "candidates",
                ("spec", "final_loss"),
                text=_text(raw["candidates"]),
            ),
            improvement_interval=None if interval is None else (interval[0], interval[1]),
            law=str(raw.get("law", "")),
            family=str(raw.get("family", "")),
        )


def _text(columns: Any) -> tuple[str, ...]:
    """The columns of a stored table that hold text (the spec, a grid's shape)."""
    if not isinstance(columns, dict):
        return ()
    return tuple(
        name
        for name, values in columns.items()
        if isinstance(values, list) and any(isinstance(v, str) for v in values)
    )


def _baseline(spec: str, total: int, curve: pd.DataFrame) -> Schedule:
    """The baseline from its spec; a schedule given as LRs comes back from its curve."""
    from ..errors import DataError
    from ..schedules import from_spec

    try:
        return from_spec(spec, total=total)
    except DataError:
        lr = np.interp(np.arange(1, total + 1), curve["step"], curve["lr"])
        return Schedule(name=spec, settings={}, lr=lr)


def __getattr__(name: str) -> Any:
    if name == "ScheduleChoice":
        warnings.warn(
            "ScheduleChoice is renamed ScheduleChoiceResult; the old name goes in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        return ScheduleChoiceResult
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
