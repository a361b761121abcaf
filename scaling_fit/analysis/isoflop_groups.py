"""isoflop_groups(): one isoFLOP analysis per group of runs (e.g. per configuration).

The grouped analysis of ``scaling-fit isoflop --group-by``, as an API function: the runs are
split by the values of ``group_by`` columns and :func:`scaling_fit.isoflop` runs on each.
An error names its group; each group's warnings are issued again with the group's name.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from ..errors import DataError, ScalingFitWarning, argument
from ..inputs.load import load_runs
from ..results.isoflop_groups import IsoflopGroupsResult, label
from .isoflop import isoflop


def isoflop_groups(
    runs: Any, group_by: str | Sequence[str] = (), **options: Any
) -> IsoflopGroupsResult:
    """:func:`~scaling_fit.isoflop` on each group of ``runs`` by the ``group_by`` columns.

    Parameters
    ----------
    runs
        A runs table or what :func:`~scaling_fit.load_runs` reads.
    group_by
        Column name(s); one analysis per distinct value (combination), in sorted order.
        Empty: one analysis of all runs.
    **options
        Passed to :func:`~scaling_fit.isoflop` (``grouping``, ``method``, ``bootstrap``,
        ``seed``, ``keep_flagged``, ``min_side``, …).

    Returns
    -------
    IsoflopGroupsResult

    Raises
    ------
    DataError
        A ``group_by`` column the runs lack, or a group that cannot be analysed (the
        message starts ``group column=value:``).
    """
    import pandas as pd

    table = runs if isinstance(runs, pd.DataFrame) else load_runs(runs)
    columns = [group_by] if isinstance(group_by, str) else list(group_by)
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataError(
            f"{argument('group_by', columns)} names missing column(s) {missing}; found "
            f"{list(table.columns)}"
        )
    if not columns:
        return IsoflopGroupsResult((), (({}, _one({}, table, options)),))
    groups = table.groupby(columns, sort=True, dropna=False)
    results = []
    for values, rows in groups:
        key = dict(zip(columns, map(_plain, values), strict=True))
        results.append((key, _one(key, rows, options)))
    return IsoflopGroupsResult(tuple(columns), tuple(results))


def _one(key: dict[str, Any], rows: Any, options: dict[str, Any]) -> Any:
    """isoflop() on one group; its errors and warnings naming the group."""
    prefix = f"{label(key)}: " if key else ""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScalingFitWarning)
        try:
            result = isoflop(rows, **options)
        except DataError as exc:
            raise DataError(f"group {prefix}{exc}" if key else str(exc)) from None
    for item in caught:
        ours = issubclass(item.category, ScalingFitWarning)
        warnings.warn(f"{prefix}{item.message}" if ours else item.message, item.category, 3)
    return result


def _plain(value: Any) -> Any:
    """A group value as a JSON-ready Python scalar."""
    return value.item() if hasattr(value, "item") else value
