"""Percentile intervals from bootstrap samples: the one definition every result uses."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..arguments import check

Array = np.ndarray


def percentile_interval(values: Array, level: float = 0.95, axis: int = 0) -> tuple[Array, Array]:
    """Central ``level`` percentile interval of ``values`` along ``axis``, NaN ignored.

    The bounds are the ``50 (1 − level)`` and ``100 − 50 (1 − level)`` percentiles (the
    bootstrap percentile interval, Efron & Tibshirani 1993, §13.3); resamples whose refit
    failed are NaN and left out.
    """
    check_level(level)
    tail = 50.0 * (1.0 - level)
    values = np.asarray(values, dtype=float)
    if not np.isnan(values).any():  # numpy's nanpercentile loops per column: 50 s for 10⁶
        lo, hi = np.percentile(values, [tail, 100.0 - tail], axis=axis)
        return lo, hi
    return _nan_percentile(values, tail, axis), _nan_percentile(values, 100.0 - tail, axis)


def _nan_percentile(values: Array, q: float, axis: int) -> Array:
    """``np.nanpercentile(values, q, axis)`` (linear interpolation), vectorised: sort with NaN
    last, then interpolate at (finite count − 1)·q/100 in each column; NaN where none."""
    ordered = np.sort(np.moveaxis(values, axis, 0), axis=0)
    finite = np.sum(~np.isnan(ordered), axis=0)
    position = np.maximum(finite - 1, 0) * (q / 100.0)
    below = np.floor(position).astype(np.intp)
    above = np.minimum(below + 1, np.maximum(finite - 1, 0))
    low = np.take_along_axis(ordered, below[None], axis=0)[0]
    high = np.take_along_axis(ordered, above[None], axis=0)[0]
    weight = position - below
    with np.errstate(invalid="ignore"):
        result = np.where(weight == 0, low, low + (high - low) * weight)
    return np.where(finite > 0, result, np.nan)


def check_level(level: Any) -> None:
    """A DataError unless ``level`` is a probability strictly between 0 and 1 (the declared
    domain, :data:`scaling_fit.arguments.DOMAINS`)."""
    check("level", level)
