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
from .columns import FLOPS_PER_PARAM_TOKEN, NUMERIC
from .load import canonical_of, load_runs, parse_number
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
    check_law_columns(table, needed, law_name)
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
    selected = with_other_numbers(table[["run", *needed]].copy(), inputs, law_name)
    selected.attrs = {"excluded": int(dropped.sum())}
    return selected, note


def check_law_columns(table: pd.DataFrame, needed: Sequence[str], law_name: str) -> None:
    """DataError naming the law, the columns it needs that ``table`` lacks and those it has,
    with how to map a canonical column or add another."""
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise DataError(_missing_columns(law_name, list(needed), missing, list(table.columns)))


def with_other_numbers(table: pd.DataFrame, inputs: Sequence[str], law_name: str) -> pd.DataFrame:
    """``table`` with the non-canonical ``inputs`` of a law (e.g. ``unique_tokens``) as floats,
    checked by :func:`other_numbers` (a CSV's other columns are read as text)."""
    for column in (c for c in inputs if c not in NUMERIC):
        table[column] = other_numbers(table, column, law_name)
    return table


def _missing_columns(law_name: str, needed: list[str], missing: list[str], found: list[str]) -> str:
    """Why a law cannot read ``missing``: how to map a canonical column, how to add another."""
    message = f"law {law_name!r} needs columns {needed}; missing {missing} (found {found})."
    canonical = [c for c in missing if c in NUMERIC]
    if canonical:
        message += (
            f" Map your columns with columns={{'{canonical[0]}': '<your column>'}} in load_runs "
            "(--col on the CLI)"
        )
    others = [c for c in missing if c not in NUMERIC]
    renamed = {c: canonical_of(c) for c in others if canonical_of(c)}
    if renamed:
        column, name = next(iter(renamed.items()))
        message += (
            f" load_runs reads a column named {column!r} as the canonical {name!r}: make the "
            f"law read {name!r}, or give the column another name"
        )
    elif others:
        message += (
            f" Add column {others[0]!r} to the runs (load_runs keeps every column it does not "
            "rename), or make the law read a column they hold"
        )
    return message


def other_numbers(table: pd.DataFrame, column: str, law_name: str) -> pd.Series:
    """A non-canonical column a law reads, as floats; DataError naming the row and run of the
    first value that is not a finite number (suffixed numbers such as ``1.5B`` are read)."""
    values = table[column]
    if pd.api.types.is_bool_dtype(values):
        numbers = np.full(len(values), np.nan)
    elif pd.api.types.is_numeric_dtype(values):
        numbers = values.to_numpy(float)
    else:
        numbers = np.array([_number(v) for v in values], dtype=float)
    bad = ~np.isfinite(numbers)
    if bad.any():
        first = int(np.argmax(bad))
        raise DataError(
            f"law {law_name!r} reads column {column!r}: runs table row {table.index[first]!r} "
            f"(run {table['run'].iloc[first]!r}) holds {values.iloc[first]!r}; expected a "
            f"finite number ({int(bad.sum())} of {len(values)} fitted points are bad). Fix or "
            "remove those rows"
        )
    return pd.Series(numbers, index=table.index)


def _number(value: Any) -> float:
    """``value`` as a float (``"1.5B"`` too); NaN when it is not a number."""
    if isinstance(value, bool | np.bool_):
        return np.nan
    try:
        return parse_number(value)
    except (ValueError, TypeError):
        return np.nan


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
