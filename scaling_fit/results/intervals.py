"""Percentile intervals from bootstrap samples: the one definition every result uses."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DataError, argument

Array = np.ndarray


def percentile_interval(values: Array, level: float = 0.95, axis: int = 0) -> tuple[Array, Array]:
    """Central ``level`` percentile interval of ``values`` along ``axis``, NaN ignored.

    The bounds are the ``50 (1 − level)`` and ``100 − 50 (1 − level)`` percentiles (the
    bootstrap percentile interval, Efron & Tibshirani 1993, §13.3); resamples whose refit
    failed are NaN and left out.
    """
    check_level(level)
    tail = 50.0 * (1.0 - level)
    lo, hi = np.nanpercentile(values, [tail, 100.0 - tail], axis=axis)
    return lo, hi


def check_level(level: Any) -> None:
    """A DataError unless ``level`` is a probability strictly between 0 and 1."""
    try:
        ok = 0.0 < float(level) < 1.0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise DataError(
            f"{argument('level', level)}: expected the probability of a central interval, "
            "strictly between 0 and 1 (e.g. 0.95)"
        )
