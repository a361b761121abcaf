"""load_runs(): CSV files or DataFrames → the tidy runs table of design.md §3.

One row per observation, canonical columns in this order, whichever apply:
``run, step, n_params, tokens, compute, lr, batch_size, loss``; other columns follow
unchanged.  Column names are matched through aliases, case- and punctuation-insensitively;
numbers may carry unit suffixes (``125M``, ``1.3B``, ``2T``); a missing ``tokens`` or
``compute`` is derived from ``compute = 6 · n_params · tokens`` and recorded in
``attrs["derived"]``.  Bad input raises :class:`DataError` naming file, row and column.
"""

from __future__ import annotations

import glob
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import DataError, ScalingFitWarning

CANONICAL = ("run", "step", "n_params", "tokens", "compute", "lr", "batch_size", "loss")
NUMERIC = CANONICAL[1:]
# Alias table: canonical name -> accepted spellings, compared after normalising
# (lowercase, every non-alphanumeric character removed).
ALIASES: dict[str, tuple[str, ...]] = {
    "run": ("run", "run_id", "run_name", "name"),
    "step": ("step", "steps", "global_step", "trainer/global_step", "iteration", "iter", "_step"),
    "n_params": (
        "n",
        "N",
        "params",
        "n_params",
        "num_params",
        "parameters",
        "Model Size",
        "model_size",
        "param_count",
    ),
    "tokens": ("D", "tokens", "Training tokens", "n_tokens", "num_tokens", "train_tokens"),
    "compute": ("C", "FLOPs", "flops", "compute", "Training FLOP", "training_flops"),
    "lr": ("lr", "learning_rate", "train/lr"),
    "batch_size": ("batch_size", "bs", "global_batch_size", "batch_size_tokens"),
    "loss": (
        "loss",
        "val_loss",
        "eval/loss",
        "validation_loss",
        "valid_loss",
        "eval_loss",
        "test_loss",
        "train_loss",
        "train/loss",
    ),
}
SUFFIXES = {"k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12}
NUMBER = re.compile(r"^\s*([-+]?(?:\d[\d,]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([kKmMbBgGtT]?)\s*$")
POSITIVE = ("n_params", "tokens", "compute", "batch_size", "loss")
FLOPS_PER_PARAM_TOKEN = 6.0
DATAFRAME = "<DataFrame>"
BLANKS = ("", "nan", "NaN", "NA", "None")


def _normalise(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


LOOKUP = {_normalise(a): canonical for canonical, names in ALIASES.items() for a in names}


def parse_number(text: Any) -> float:
    """Parse ``'125M'``, ``'1.3B'``, ``'2T'``, ``'6e20'``, ``'3k'``, ``'1,000'`` or a number.

    Raises
    ------
    ValueError
        If ``text`` is not a number with an optional K/M/B/G/T suffix.
    """
    if isinstance(text, int | float | np.integer | np.floating):
        return float(text)
    match = NUMBER.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not a number (examples: 125M, 1.3B, 2T, 6e20)")
    value = float(match.group(1).replace(",", ""))
    return value * SUFFIXES.get(match.group(2).lower(), 1.0)


def load_runs(
    source: Any, *, columns: Mapping[str, str] | None = None, nan_policy: str = "raise"
) -> pd.DataFrame:
    """Load runs from CSV paths, globs or a DataFrame into the tidy runs table.

    Parameters
    ----------
    source
        A path, a glob pattern (``"runs/*.csv"``), a list of them, or a DataFrame.
    columns
        Explicit mapping canonical name → your column, e.g. ``{"loss": "loss_c4_val"}``;
        wins over the aliases.
    nan_policy
        ``"raise"`` (default) or ``"omit"`` (drop rows with NaN in a canonical column, with a
        warning saying how many).

    Returns
    -------
    pandas.DataFrame
        With ``attrs["derived"]`` (derived columns and their formula) and
        ``attrs["sources"]`` (file paths read).
    """
    if nan_policy not in ("raise", "omit"):
        raise DataError(f"nan_policy={nan_policy!r} is not supported: use 'raise' or 'omit'")
    frames = [_tidy(frame, name, columns or {}, nan_policy) for name, frame in _read(source)]
    derived = {k: v for f in frames for k, v in f.attrs["derived"].items()}
    sources = [f.attrs["source"] for f in frames]
    table = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    table.attrs = {"derived": derived, "sources": sources}
    return table


def final_points(runs: pd.DataFrame) -> pd.DataFrame:
    """The last logged step of each run (all rows when there is no ``step`` column)."""
    if "step" not in runs.columns:
        return runs
    last = runs.groupby("run", sort=False)["step"].transform("max")
    return runs.loc[runs["step"] == last]


def _read(source: Any) -> list[tuple[str, pd.DataFrame]]:
    if isinstance(source, pd.DataFrame):
        return [(DATAFRAME, source.copy())]
    items = [source] if isinstance(source, str | Path) else list(source)
    paths: list[Path] = []
    for item in items:
        matches = sorted(glob.glob(str(item))) if glob.has_magic(str(item)) else [str(item)]
        if not matches:
            raise DataError(f"no file matches {str(item)!r}; check the pattern and directory")
        paths += [Path(m) for m in matches]
    return [(str(p), _read_csv(p)) for p in paths]


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"{path}: file not found; check the path (cwd: {Path.cwd()})")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty; expected a CSV header and rows") from None
    if frame.empty:
        raise DataError(f"{path}: no data rows below the header {list(frame.columns)}")
    return frame


def _tidy(frame: pd.DataFrame, name: str, columns: Mapping[str, str], policy: str) -> pd.DataFrame:
    renamed = frame.rename(columns=_column_map(frame, name, columns))
    table = renamed.copy()
    for column in NUMERIC:
        if column in table.columns:
            table[column] = _numbers(table[column], name, column)
    table = _handle_missing(table, name, policy)
    derived = _derive(table)
    _check_values(table, name)
    _check_duplicate_rows(table, name)
    if "run" not in table.columns:
        stem = Path(name).stem if name != DATAFRAME else "run"
        table["run"] = (
            stem if "step" in table.columns else [f"{stem}:{i + 1}" for i in range(len(table))]
        )
    table["run"] = table["run"].astype(str)
    _check_duplicate_steps(table, name)
    ordered = [c for c in CANONICAL if c in table.columns]
    table = table[ordered + [c for c in table.columns if c not in CANONICAL]]
    if "step" in table.columns and np.all(np.mod(table["step"], 1) == 0):
        table["step"] = table["step"].astype(np.int64)
    table.attrs = {"derived": derived, "source": name}
    return table


def _column_map(frame: pd.DataFrame, name: str, columns: Mapping[str, str]) -> dict[str, str]:
    unknown = sorted(set(columns) - set(CANONICAL))
    if unknown:
        raise DataError(f"columns= names {unknown}; canonical names are {list(CANONICAL)}")
    mapping: dict[str, str] = {}
    for canonical, column in columns.items():
        if column not in frame.columns:
            raise DataError(
                f"{name}: columns={{{canonical!r}: {column!r}}} but there is no column "
                f"{column!r}; the file has {list(frame.columns)}"
            )
        mapping[column] = canonical
    for column in frame.columns:
        canonical = LOOKUP.get(_normalise(column))
        if column in mapping or canonical is None or canonical in columns:
            continue
        clash = [c for c, k in mapping.items() if k == canonical]
        if clash:
            raise DataError(
                f"{name}: columns {clash[0]!r} and {column!r} both look like {canonical!r}; "
                f"say which to use with columns={{{canonical!r}: {column!r}}} "
                f"(CLI: --col {canonical}={column})"
            )
        mapping[column] = canonical
    if "loss" not in mapping.values():
        raise DataError(
            f"{name}: no loss column; expected one of loss, val_loss, eval/loss, …; found "
            f"{list(frame.columns)}. Name yours with columns={{'loss': '<column>'}} "
            "(CLI: --col loss=<column>)"
        )
    return mapping


def _where(name: str, index: Any, position: int) -> str:
    if name == DATAFRAME:
        return f"{name}, index {getattr(index, 'item', lambda: index)()!r}"
    return f"{name}, row {position + 1} (line {position + 2})"


def _numbers(values: pd.Series, name: str, column: str) -> pd.Series:
    """Parse a column to floats: plain numbers at once, suffixed ones (125M) cell by cell."""
    text = values.astype(str).str.strip()
    blank = values.isna().to_numpy() | text.isin(BLANKS).to_numpy()
    parsed = np.array(pd.to_numeric(values.where(~blank), errors="coerce"), dtype=float)
    for position in np.flatnonzero(np.isnan(parsed) & ~blank):
        cell = values.iloc[position]
        try:
            number = parse_number(cell)
        except ValueError:
            raise DataError(
                f"{_where(name, values.index[position], int(position))}, column {column!r}: "
                f"expected a number (e.g. 1.3e9, 125M, 2T), found {cell!r}; fix or remove "
                "that cell"
            ) from None
        parsed[position] = number
    return pd.Series(parsed, index=values.index)


def _handle_missing(table: pd.DataFrame, name: str, policy: str) -> pd.DataFrame:
    present = [c for c in NUMERIC if c in table.columns]
    missing = table[present].isna()
    if not missing.to_numpy().any():
        return table
    if policy == "omit":
        keep = ~missing.any(axis=1)
        warnings.warn(
            f"{name}: dropped {int((~keep).sum())} of {len(table)} rows with missing values "
            "(nan_policy='omit')",
            ScalingFitWarning,
            stacklevel=4,
        )
        return table.loc[keep].reset_index(drop=True)
    position = int(np.flatnonzero(missing.any(axis=1).to_numpy())[0])
    column = missing.columns[missing.iloc[position].to_numpy()][0]
    raise DataError(
        f"{_where(name, table.index[position], position)}, column {column!r}: expected a "
        "number, found an empty/NaN value; fill it in, or pass nan_policy='omit' to drop "
        "such rows"
    )


def _derive(table: pd.DataFrame) -> dict[str, str]:
    cols = set(table.columns)
    if {"n_params", "compute"} <= cols and "tokens" not in cols:
        table["tokens"] = table["compute"] / (FLOPS_PER_PARAM_TOKEN * table["n_params"])
        return {"tokens": "compute / (6 * n_params)"}
    if {"n_params", "tokens"} <= cols and "compute" not in cols:
        table["compute"] = FLOPS_PER_PARAM_TOKEN * table["n_params"] * table["tokens"]
        return {"compute": "6 * n_params * tokens"}
    return {}


def _check_values(table: pd.DataFrame, name: str) -> None:
    for column in [c for c in NUMERIC if c in table.columns]:
        values = table[column].to_numpy(float)
        bad_inf = ~np.isfinite(values)
        bad_sign = (values < 0) if column in ("lr", "step") else (values <= 0)
        bad = bad_inf | (bad_sign if column in (*POSITIVE, "lr", "step") else False)
        if bad.any():
            position = int(np.flatnonzero(bad)[0])
            expected = "a finite number ≥ 0" if column in ("lr", "step") else "a positive number"
            raise DataError(
                f"{_where(name, table.index[position], position)}, column {column!r}: expected "
                f"{expected}, found {float(values[position])!r}; fix or remove that row"
            )
    loss = table["loss"].to_numpy(float)
    if len(loss) > 1 and np.all(loss == loss[0]):
        raise DataError(
            f"{name}: column 'loss' has the same value {float(loss[0])!r} in all {len(loss)} rows; "
            "expected measured losses. Is the right column mapped (columns={'loss': …})?"
        )


def _check_duplicate_rows(table: pd.DataFrame, name: str) -> None:
    keys = [c for c in CANONICAL if c in table.columns]
    duplicated = table.duplicated(subset=keys, keep=False).to_numpy()
    if duplicated.any():
        first, second = np.flatnonzero(duplicated)[:2]
        raise DataError(
            f"{_where(name, table.index[second], int(second))} repeats "
            f"{_where(name, table.index[first], int(first)).split(', ', 1)[1]} exactly "
            f"(columns {keys}); remove the duplicate row"
        )


def _check_duplicate_steps(table: pd.DataFrame, name: str) -> None:
    if "step" in table.columns:
        repeat = table.duplicated(subset=["run", "step"], keep="first").to_numpy()
        if repeat.any():
            position = int(np.flatnonzero(repeat)[0])
            row = table.iloc[position]
            raise DataError(
                f"{_where(name, table.index[position], position)}: run {row['run']!r} logs "
                f"step {row['step']:g} twice with different values; keep one row per step"
            )
