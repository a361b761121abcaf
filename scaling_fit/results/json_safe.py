"""Python values that strict JSON accepts: NaN and ±inf → null, NumPy numbers → int/float,
arrays → lists.

``json.dumps(..., allow_nan=False)`` rejects NaN and NumPy scalars; every result's
``to_dict`` passes its numbers through :func:`json_safe` first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError


def json_safe(value: Any) -> Any:
    """``value`` with NaN and ±inf as None (strict JSON has neither; a result that must not
    carry an infinity refuses it first, :func:`check_finite`), NumPy scalars as Python ones,
    arrays and tuples as lists.

    Mappings and sequences are converted item by item; strings, None and other objects are
    returned unchanged.
    """
    if isinstance(value, Mapping):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, np.ndarray | list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    return value


def json_floats(value: Any) -> Any:
    """Floats (nested lists for arrays) with NaN and ±inf as None; None stays None."""
    if value is None:
        return None
    return json_safe(np.asarray(value, dtype=float).tolist())


def json_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """One JSON-safe dictionary per row of ``table``."""
    return [json_safe(row) for row in table.to_dict(orient="records")]


def json_columns(table: pd.DataFrame) -> dict[str, list[Any]]:
    """One JSON-safe list per column of ``table``."""
    return {column: json_safe(table[column].tolist()) for column in table.columns}


def check_finite(
    table: Mapping[str, Any],
    inputs: Sequence[str],
    outputs: Sequence[str],
    where: str,
    fix: str,
    bounds: Sequence[str] = (),
) -> None:
    """DataError when an output of a result is inf or NaN, or an interval bound is inf.

    A value that overflowed is no answer: strict JSON cannot hold it, and a CSV would show
    ``inf`` as if it were one. Interval bounds may be NaN (not computed), not infinite.

    Parameters
    ----------
    table
        A DataFrame or a mapping of column name to values.
    inputs
        Columns that name the row in the message (e.g. ``["compute"]``).
    outputs
        Columns that must be finite.
    where
        What computed the table, for the message (e.g. ``"compute_optimal"``).
    fix
        How to get a finite answer, ending the message.
    bounds
        Columns that must be finite or NaN.
    """
    checks = [(c, True) for c in outputs] + [(c, False) for c in bounds]
    for column, answer in checks:
        values = np.asarray(table[column], dtype=float).reshape(-1)
        bad = ~np.isfinite(values) if answer else np.isinf(values)
        if bad.any():
            first = int(np.argmax(bad))
            shown = ", ".join(
                f"{name}={float(np.asarray(table[name], float).reshape(-1)[first]):g}"
                for name in inputs
            )
            raise DataError(
                f"{where}: {column} comes out as {float(values[first])!r} at {shown}: out of "
                f"the range where it is a finite number; {fix}"
            )
