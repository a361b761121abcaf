"""PlanResult and SuggestionResult: the tables of :func:`scaling_fit.plan` and
:func:`scaling_fit.suggest_runs` with the surface of every result (JSON, report, HTML).

Both functions still return their :class:`pandas.DataFrame` (indexing, ``set_index`` and
``attrs`` work as before); wrap one to write or show it: ``PlanResult(sf.plan(...))``,
``SuggestionResult(sf.suggest_runs(...))``.  JSON tags ``scaling_fit.Plan/1`` and
``scaling_fit.Suggestion/1``: ``{"format", "rows": [...]}``, a suggestion adds its
``target``, ``start`` and ``sigma`` (the table's ``attrs``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from .base import Result, Section, Table
from .json_safe import json_records, json_safe


def _four(value: float) -> str:
    return f"{value:.4g}"


@dataclass(frozen=True, repr=False)
class PlanResult(Result):
    """The hyperparameters and expected outcome of one planned run (:func:`scaling_fit.plan`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per quantity: ``quantity, value, lower, upper, unit, law`` (and the
        ``source`` of each value), as :func:`~scaling_fit.plan` returns it.
    """

    FORMAT = "scaling_fit.Plan/1"
    WHAT = "plan"

    table: pd.DataFrame

    def sections(self) -> list[Section]:
        """One section: the table (values to four figures)."""
        return [Section("plan", [Table(self.table, float_format=_four)])]

    def __repr__(self) -> str:
        return self.report()

    def to_dict(self) -> dict[str, Any]:
        """``{"format": …, "rows": [one dictionary per row]}`` (NaN as None)."""
        return {"format": self.FORMAT, "rows": json_records(self.table)}

    @classmethod
    def _from_dict(cls, raw: dict[str, Any]) -> PlanResult:
        return cls(_rows(raw))


@dataclass(frozen=True, repr=False)
class SuggestionResult(Result):
    """Runs to train next to narrow a prediction (:func:`scaling_fit.suggest_runs`).

    Attributes
    ----------
    table : pandas.DataFrame
        The candidate runs, best first, as :func:`~scaling_fit.suggest_runs` returns it;
        its ``attrs`` hold ``target``, ``start`` (the target's value and interval now) and
        ``sigma``.
    """

    FORMAT = "scaling_fit.Suggestion/1"
    WHAT = "run suggestion"

    table: pd.DataFrame

    def sections(self) -> list[Section]:
        """The target and its current uncertainty, then the runs."""
        target = ", ".join(f"{k} = {v:.4g}" for k, v in self.table.attrs.get("target", {}).items())
        return [
            Section(f"runs to train next for {target}", [Table(self.table, float_format=_four)])
        ]

    def __repr__(self) -> str:
        return self.report()

    def to_dict(self) -> dict[str, Any]:
        """``{"format", "target", "start", "sigma", "rows"}`` (NaN as None)."""
        attrs = {key: json_safe(value) for key, value in self.table.attrs.items()}
        return {"format": self.FORMAT, **attrs, "rows": json_records(self.table)}

    @classmethod
    def _from_dict(cls, raw: dict[str, Any]) -> SuggestionResult:
        table = _rows(raw)
        table.attrs = {k: v for k, v in raw.items() if k not in ("format", "rows")}
        return cls(table)


def _rows(raw: dict[str, Any]) -> pd.DataFrame:
    rows = raw["rows"]
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ValueError("field 'rows': expected a list of {column: value} records")
    return pd.DataFrame.from_records(rows)
