"""choose_holdout(): which runs a backtest holds out, and along which axis it drops scales.

A holdout choice (the runs at the largest compute, N or D; a threshold such as ``n>=1e9``; the
top share of runs by compute; or a boolean mask over the rows of the runs) becomes a
:class:`Split` of a one-row-per-run table.  Also here: what one *scale* of an axis is (values
within ``SAME_SCALE_RTOL``), shared with the stability sweep of :func:`scaling_fit.backtest`.
"""

from __future__ import annotations

import math
import re
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..errors import DataError, argument
from ..inputs.load import parse_number

NAMED = {"largest-compute": "compute", "largest-n": "n_params", "largest-d": "tokens"}
AXES = {"n": "n_params", "n_params": "n_params", "d": "tokens", "tokens": "tokens"}
AXES |= {"c": "compute", "compute": "compute"}
THRESHOLD = re.compile(r"^\s*([a-z_]+)\s*(>=|>)\s*(\S+)\s*$", re.IGNORECASE)
CHOICES = (
    "'largest-compute', 'largest-n', 'largest-d', a threshold such as 'n>=1e9', 'd>2e10' or "
    "'compute>=1e21' (suffixes K/M/B/T allowed), a fraction in (0, 1) (the top share of runs "
    "by compute), or a boolean mask with one entry per row of runs"
)
# Values of an axis within this relative distance are one scale (float noise in logged
# sizes); real scales in a sweep differ by far more than 1e-6.
SAME_SCALE_RTOL = 1e-6


class Split(NamedTuple):
    """Which runs are held out, along which axis the sweep drops scales, and why."""

    held_out: np.ndarray
    axis: str
    description: str


def choose_holdout(
    table: pd.DataFrame,
    holdout: Any,
    axis: str | None = None,
    *,
    rows: tuple[int, np.ndarray] | None = None,
) -> Split:
    """The held-out runs of a one-row-per-run table for a ``holdout`` choice.

    ``rows`` maps a boolean mask over the rows of the original runs onto the table: (number
    of rows, the row of each run's final point); default: the table's own rows.

    Raises :class:`DataError` for an unknown choice (listing the choices) and for a split
    that holds out no run or every run.
    """
    if isinstance(holdout, str) and re.fullmatch(r"\s*0?\.\d+\s*", holdout):
        holdout = float(holdout)  # "0.2" from a command line is a fraction
    if isinstance(holdout, str) and holdout in NAMED:
        column = NAMED[holdout]
        values = axis_values(table, column)
        mask = scale_ids(values) == scale_ids(values).max()
        split = Split(mask, column, f"{holdout} ({column} = {values[mask].max():.4g})")
    elif isinstance(holdout, str) and THRESHOLD.match(holdout):
        split = _threshold_split(table, holdout)
    elif isinstance(holdout, float | np.floating) and 0.0 < holdout < 1.0:
        compute = axis_values(table, "compute")
        count = math.ceil(holdout * len(table))
        mask = compute >= np.sort(compute)[::-1][count - 1]
        split = Split(mask, "compute", f"top {holdout:g} of runs by compute ({mask.sum()} runs)")
    elif isinstance(holdout, str | int | float | np.number) or holdout is None:
        raise DataError(f"{argument('holdout', holdout)} is not supported: expected {CHOICES}")
    else:
        rows = rows or (len(table), np.arange(len(table)))
        split = Split(_mask(holdout, *rows), "compute", "runs marked by the mask")
    if axis is not None:
        if axis not in ("n_params", "tokens", "compute"):
            raise DataError(f"axis={axis!r}: expected 'n_params', 'tokens' or 'compute'")
        split = Split(split.held_out, axis, split.description)
    count = int(split.held_out.sum())
    if count == 0 or count == len(table):
        raise DataError(
            f"{argument('holdout')}: {split.description} holds out {count} of {len(table)} "
            "runs: need at least one run to fit and one to predict"
        )
    return split


def _threshold_split(table: pd.DataFrame, holdout: str) -> Split:
    name, operator, number = THRESHOLD.match(holdout).groups()
    if name.lower() not in AXES:
        raise DataError(
            f"{argument('holdout', holdout)}: unknown axis {name!r}; use n, d or compute "
            f"(expected {CHOICES})"
        )
    try:
        limit = parse_number(number)
    except ValueError:
        raise DataError(f"{argument('holdout', holdout)}: {number!r} is not a number") from None
    column = AXES[name.lower()]
    values = axis_values(table, column)
    mask = values >= limit if operator == ">=" else values > limit
    return Split(mask, column, f"{column} {operator} {limit:g}")


def _mask(holdout: Any, n_rows: int, final_rows: np.ndarray) -> np.ndarray:
    mask = np.asarray(holdout)
    if mask.dtype != bool or mask.shape != (n_rows,):
        raise DataError(
            f"holdout mask must be boolean with one entry per row of runs ({n_rows} rows); "
            f"found {mask.dtype} of shape {mask.shape}; other choices: {CHOICES}"
        )
    return mask[final_rows]


def axis_values(table: pd.DataFrame, column: str) -> np.ndarray:
    """The values of a holdout axis column as floats; DataError naming it when missing."""
    if column not in table.columns:
        raise DataError(f"holdout needs column {column!r}; found {list(table.columns)}")
    return table[column].to_numpy(float)


def scale_ids(values: np.ndarray, rtol: float = SAME_SCALE_RTOL) -> np.ndarray:
    """Rank of each value's scale: sorted values less than ``rtol`` apart (relative) share one
    (0 = smallest)."""
    order = np.sort(np.unique(values))
    new = np.r_[True, order[1:] > order[:-1] * (1.0 + rtol)]
    return np.cumsum(new)[np.searchsorted(order, values)] - 1
