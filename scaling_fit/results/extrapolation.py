"""How far inputs lie outside the range a law was fitted on, as a factor (1 = inside)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

Array = np.ndarray


def extrapolation_factors(fitted: Array, values: Array) -> Array:
    """Per value x: max(x/hi, lo/x, 1) against the fitted range [lo, hi] of ``fitted``."""
    fitted, x = np.asarray(fitted, dtype=float), np.asarray(values, dtype=float)
    return np.maximum(np.maximum(x / fitted.max(), fitted.min() / x), 1.0)


def row_extrapolation(fitted: pd.DataFrame, table: pd.DataFrame, inputs: Sequence[str]) -> Array:
    """Per row of ``table``: the largest factor over ``inputs`` against ``fitted``'s ranges."""
    factor = np.ones(len(table))
    for name in inputs:
        factor = np.maximum(factor, extrapolation_factors(fitted[name], table[name]))
    return factor
