"""Python values that strict JSON accepts: NaN → null, NumPy numbers → int/float, arrays → lists.

``json.dumps(..., allow_nan=False)`` rejects NaN and NumPy scalars; every result's
``to_dict`` passes its numbers through :func:`json_safe` first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd


def json_safe(value: Any) -> Any:
    """``value`` with NaN as None, NumPy scalars as Python ones, arrays and tuples as lists.

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
        return None if np.isnan(value) else float(value)
    return value


def json_floats(value: Any) -> Any:
    """Floats (nested lists for arrays) with NaN as None; None stays None."""
    if value is None:
        return None
    return json_safe(np.asarray(value, dtype=float).tolist())


def json_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """One JSON-safe dictionary per row of ``table``."""
    return [json_safe(row) for row in table.to_dict(orient="records")]


def json_columns(table: pd.DataFrame) -> dict[str, list[Any]]:
    """One JSON-safe list per column of ``table``."""
    return {column: json_safe(table[column].tolist()) for column in table.columns}
