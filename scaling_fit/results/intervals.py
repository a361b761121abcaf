"""Percentile intervals from bootstrap samples: the one definition every result uses."""

from __future__ import annotations

import numpy as np

Array = np.ndarray


def percentile_interval(values: Array, level: float = 0.95, axis: int = 0) -> tuple[Array, Array]:
    """Central ``level`` percentile interval of ``values`` along ``axis``, NaN ignored.

    The bounds are the ``50 (1 − level)`` and ``100 − 50 (1 − level)`` percentiles (the
    bootstrap percentile interval, Efron & Tibshirani 1993, §13.3); resamples whose refit
    failed are NaN and left out.
    """
    tail = 50.0 * (1.0 - level)
    lo, hi = np.nanpercentile(values, [tail, 100.0 - tail], axis=axis)
    return lo, hi
