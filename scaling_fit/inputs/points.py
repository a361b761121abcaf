"""Runs → the points a law fits: the one place that selects, excludes and completes them.

A fit, a backtest and an isoFLOP analysis all start from the tidy runs table
(:func:`scaling_fit.load_runs`) and need the same few steps: accept a table or load one
(:func:`as_table`), keep each run's final logged point (:func:`final_points`,
:func:`final_point_per_run`), leave out points (:func:`exclusion_mask`,
:func:`highest_loss_mask`), fill in ``compute = 6 N D`` (:func:`with_compute`) and keep the
columns a law reads (:func:`select_points`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, argument
from .columns import FLOPS_PER_PARAM_TOKEN
from .load import load_runs
from .query import Query, parse_query, query_mask

# Columns that make a DataFrame a tidy runs table taken as is (anything else is loaded).
TIDY = ("run", "loss")


def as_table(runs: Any, tidy: Sequence[str] = TIDY) -> pd.DataFrame:
    """``runs`` itself if a DataFrame with the ``tidy`` columns, else ``load_runs(runs)``."""
    if isinstance(runs, pd.DataFrame) and set(tidy) <= set(runs.columns):
        return runs
    return load_runs(runs)


def final_points(runs: pd.DataFrame) -> pd.DataFrame:
    """The rows at the last logged step of each run; ``runs`` itself when there is no step.

    Parameters
    ----------
    runs
        A tidy runs table (see :func:`scaling_fit.load_runs`).

    Returns
    -------
    pandas.DataFrame
        The selected rows, unchanged, in their original order and index.
    """
    if "step" not in runs.columns:
        return runs
    key = runs["run"] if "run" in runs.columns else np.zeros(len(runs))
    return runs[runs["step"] == runs.groupby(key, sort=False)["step"].transform("max")]


def final_point_per_run(table: pd.DataFrame) -> pd.DataFrame:
    """Each run's final logged row when some run logs several steps, else ``table`` itself."""
    return final_points(table) if _logs_several_steps(table) else table


def _logs_several_steps(table: pd.DataFrame) -> bool:
    return {"run", "step"} <= set(table.columns) and bool(table["run"].duplicated().any())


def with_compute(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with ``compute`` = 6·N·D added when it is missing and N, D are present."""
    if "compute" not in table.columns and {"n_params", "tokens"} <= set(table.columns):
        return table.assign(compute=FLOPS_PER_PARAM_TOKEN * table["n_params"] * table["tokens"])
    return table


def select_points(
    runs: Any,
    inputs: Sequence[str],
    *,
    law_name: str,
    exclude: Any = None,
    points: str = "final",
    output: str = "loss",
) -> tuple[pd.DataFrame, str]:
    """The points a law fits (``run``, its ``inputs``, its ``output``: ``loss``, or ``lr`` /
    ``batch_size`` for hyperparameter laws) and a note saying which.

    ``exclude`` refers to the rows of ``runs``; it applies after the final point of each run
    is chosen, so leaving out a run's last row leaves the run out rather than promoting a
    mid-schedule point. ``attrs["excluded"]`` counts the points left out.
    """
    if isinstance(exclude, str):  # checked before the runs are read
        exclude = parse_query(exclude, "exclude")
    table = as_table(runs, ("run", output)).reset_index(drop=True)
    needed = [*inputs, output]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise DataError(
            f"law {law_name!r} needs columns {needed}; missing {missing} (found "
            f"{list(table.columns)}). Map your columns with columns={{'{missing[0]}': "
            "'<your column>'} in load_runs (--col on the CLI)"
        )
    excluded = np.zeros(len(table), bool) if exclude is None else exclusion_mask(table, exclude)
    if points not in ("final", "all"):
        raise DataError(
            f"{argument('points', points)} is not supported by the L(N, D) law {law_name!r}: "
            "expected 'final' (default) or 'all'"
        )
    note = "every logged point" if points == "all" else "one point per run"
    if points == "final" and _logs_several_steps(table):
        table = final_points(table)
        note = "final logged step of each run"
    dropped = excluded[table.index.to_numpy()]
    table = table.loc[~dropped]
    if "run" not in table.columns:
        table = table.assign(run=[f"row{i}" for i in range(len(table))])
    selected = table[["run", *needed]].copy()
    selected.attrs = {"excluded": int(dropped.sum())}
    return selected, note


def exclusion_mask(table: pd.DataFrame, exclude: Any) -> np.ndarray:
    """Rows of ``table`` to leave out: a boolean mask as given, or the rows a query selects."""
    if isinstance(exclude, (str, Query)):
        return query_mask(table, exclude, "exclude")
    mask = np.asarray(exclude)
    if mask.dtype != bool or mask.shape != (len(table),):
        raise DataError(
            f"exclude must be a boolean mask with one entry per row ({len(table)} rows) or a "
            f"query string; found {mask.dtype} of shape {mask.shape}"
        )
    return mask


def highest_loss_mask(runs: pd.DataFrame, k: int) -> np.ndarray:
    """Boolean mask of the ``k`` highest-loss rows (ties included), as Epoch AI dropped.

    Parameters
    ----------
    runs
        Table with a ``loss`` column.
    k
        How many of the highest-loss rows to mark; 0 or less marks none.

    Returns
    -------
    numpy.ndarray
        True on the rows to drop.

    Raises
    ------
    DataError
        When ``k`` leaves no row.
    """
    loss = runs["loss"].to_numpy(float)
    if isinstance(k, bool) or not float(k).is_integer():
        raise DataError(f"k={k!r}: expected a whole number of points to drop")
    if k <= 0:
        return np.zeros(len(loss), dtype=bool)
    if k >= len(loss):
        raise DataError(
            f"cannot drop the {k} highest-loss points of {len(loss)}; drop fewer than "
            f"{len(loss)} so that points are left to fit"
        )
    return loss >= np.sort(loss)[-k]


def top_loss_rows(runs: pd.DataFrame, k: int, *, final: bool) -> tuple[np.ndarray, str]:
    """Rows to leave out for ``drop_top_loss=k`` (``--drop-top-loss K``): the ``k``
    highest-loss *fitted points*, one meaning in ``fit`` and ``report``.

    With ``final`` (the final-point fits of L(N, D) laws) on loss curves the points are run
    ends, and a dropped run end drops its whole run (otherwise an earlier step would become
    that run's final point); otherwise every row is a point.

    Returns
    -------
    tuple
        Boolean mask over the rows of ``runs`` (True: leave out), and a note saying what
        was left out.
    """
    fitted = final_points(runs) if final else runs
    worst = fitted.loc[highest_loss_mask(fitted, k)]
    curves = final and "step" in runs.columns
    mask = runs["run"].isin(worst["run"]) if curves else runs.index.isin(worst.index)
    what = f"runs ending at the {len(worst)}" if curves else f"the {len(worst)}"
    note = f"dropped {what} highest-loss points (loss >= {worst['loss'].min():.6g})"
    return np.asarray(mask, dtype=bool), note
