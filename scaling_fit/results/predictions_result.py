"""PredictionsResult: a table of predictions of a fit (``scaling-fit predict``).

JSON tag ``scaling_fit.Predictions/1``: ``{"format", "columns": {name: [values]}}``, the
layout the command line wrote before the class existed.  Wrap any prediction table:
``PredictionsResult(fit.predict_interval(...))``, ``PredictionsResult(fit.predict_curve(...))``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from .base import Result, Section, Table
from .json_file import table_field
from .json_safe import json_columns

SHOWN = 20  # rows in the report


def _six(value: float) -> str:
    return f"{value:.6g}"


@dataclass(frozen=True, repr=False)
class PredictionsResult(Result):
    """A table of predictions (one row per input point or step).

    Attributes
    ----------
    table : pandas.DataFrame
        The predictions, as the function that made them returns them.
    """

    FORMAT = "scaling_fit.Predictions/1"
    WHAT = "table of predictions"

    table: pd.DataFrame

    def sections(self) -> list[Section]:
        """The first 20 rows, then how many are left out."""
        shown = self.table.head(SHOWN)
        more = len(self.table) - len(shown)
        body: list[str | Table] = [Table(shown, float_format=_six)]
        if more > 0:
            body.append(f"… {more} more rows (all: --format csv or json)")
        return [Section(f"predictions: {len(self.table)} rows", body)]

    def __repr__(self) -> str:
        return self.report()

    def to_dict(self) -> dict[str, Any]:
        """``{"format": …, "columns": {name: [values]}}`` (NaN as None)."""
        return {"format": self.FORMAT, "columns": json_columns(self.table)}

    @classmethod
    def _from_dict(cls, raw: dict[str, Any]) -> PredictionsResult:
        columns = raw["columns"]
        text = tuple(
            name
            for name, values in (columns.items() if isinstance(columns, dict) else ())
            if isinstance(values, list) and any(isinstance(v, str) for v in values)
        )
        return cls(table_field(columns, "columns", (), text=text))
