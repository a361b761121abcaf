"""load_runs(): log files or DataFrames → the tidy runs table (:mod:`.columns`).

One row per observation, canonical columns in this order, whichever apply:
``run, step, n_params, tokens, compute, lr, batch_size, loss``; other columns follow
unchanged.  Column names are matched through :data:`ALIASES`, case- and
punctuation-insensitively; numbers may carry unit suffixes (``125M``, ``1.3B``, ``2T``); a
missing ``tokens`` is derived from ``step · batch_size`` (tokens per step) or else from
``compute / (6 · n_params)``, a missing ``compute`` from ``6 · n_params · tokens``, a missing
``n_params`` from ``compute / (6 · tokens)`` (isoFLOP data read off figures); each is
recorded in ``attrs["derived"]``.  Log formats (W&B, TensorBoard, JSON lines) are reshaped
first by :mod:`.formats`; TensorBoard event files and MLflow stores are read by
:mod:`.tensorboard_events` and :mod:`.mlflow_store` into one table per run
(:mod:`.store_runs`).  Bad input raises :class:`DataError` naming the file, the
row (``row R (line L)``: R-th data row, line L = R + 1 of the CSV) and the column.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, ScalingFitWarning
from .columns import CANONICAL, FLOPS_PER_PARAM_TOKEN, NON_NEGATIVE, NUMERIC
from .formats import TENSORBOARD_HEADER, is_json_lines, is_trainer_state, join_lines_on_step
from .query import Query, parse_query, query_mask
from .sources import DATAFRAME, read_sources, stems

# canonical name -> other accepted spellings (the canonical name itself is always accepted),
# compared after _normalise (lowercase, alphanumerics only): "eval/loss" also covers eval_loss.
ALIASES: dict[str, tuple[str, ...]] = {
    "run": ("run_id", "run_name", "name"),
    "step": ("steps", "global_step", "trainer/global_step", "iteration", "iter", "_step"),
    "n_params": ("N", "params", "num_params", "parameters", "Model Size", "param_count"),
    "tokens": ("D", "Training tokens", "n_tokens", "num_tokens", "train_tokens", "tokens_seen"),
    "compute": ("C", "FLOPs", "Training FLOP", "training_flops", "budget", "compute_budget"),
    "lr": ("learning_rate", "train/lr", "train/learning_rate"),
    "batch_size": ("bs", "global_batch_size", "batch_size_tokens"),
    "loss": (
        "val_loss",
        "eval/loss",
        "validation_loss",
        "valid_loss",
        "test_loss",
        "train/loss",
        "final_loss",
        "L",
    ),
}
SUFFIXES = {"": 1.0, "k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12}
NUMBER = re.compile(
    r"([-+]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?)\s*([kmbgt]?)", re.I
)
BLANKS = ("", "nan", "NaN", "NA", "None")
MAX_DROP_NOTES = 3  # sources named one by one in the nan_policy="omit" warning
OMIT = "nan_policy='omit' (--nan-policy omit)"  # the API argument and its CLI flag


def _normalise(name: Any) -> str:
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


LOOKUP = {_normalise(a): c for c, names in ALIASES.items() for a in (c, *names)}
# A unit in a column's name: "params (M)", "tokens [B]", "Model Size (millions)".  Counts
# only (not step, lr or loss): their values are multiplied out and the formula recorded.
UNIT_IN_NAME = re.compile(
    r"^(?P<name>.*?)\s*[(\[]\s*(?P<unit>[kmbgt]|thousands?|millions?|billions?|trillions?)"
    r"\s*[)\]]\s*$",
    re.I,
)
UNIT_WORDS = {"thousand": "k", "million": "m", "billion": "b", "trillion": "t"}
COUNTS = ("n_params", "tokens", "compute", "batch_size")


def canonical_of(column: Any) -> str | None:
    """The canonical column a column's name stands for (its aliases, or with a unit in it)."""
    canonical = LOOKUP.get(_normalise(column))
    if canonical is None and (unit := _name_unit(column)):
        canonical = LOOKUP.get(_normalise(unit[0]))
        return canonical if canonical in COUNTS else None
    return canonical


def _name_unit(column: Any) -> tuple[str, float] | None:
    """``("params", 1e6)`` for a column named ``"params (M)"``; None without a unit."""
    match = UNIT_IN_NAME.match(str(column))
    if not match:
        return None
    unit = match["unit"].lower().rstrip("s")
    return match["name"], SUFFIXES[UNIT_WORDS.get(unit, unit)]


def parse_number(text: Any) -> float:
    """Parse ``'125M'``, ``'1.3B'``, ``'2T'``, ``'6e20'``, ``'3k'``, ``'1,000'`` or a number.

    Suffixes K, M, B (or G), T are case-insensitive; commas must group thousands.

    Raises
    ------
    ValueError
        If ``text`` is not a number with an optional K/M/B/G/T suffix.
    """
    if isinstance(text, int | float | np.integer | np.floating):
        try:
            return float(text)
        except OverflowError:  # a Python int beyond 1.8e308
            raise ValueError(f"{_short(text)} is too large for a float (largest 1.8e308)") from None
    match = NUMBER.fullmatch(str(text).strip())
    if not match:
        raise ValueError(f"{text!r} is not a number (examples: 125M, 1.3B, 2T, 6e20, 1,000)")
    return float(match.group(1).replace(",", "")) * SUFFIXES[match.group(2).lower()]


def _short(value: Any) -> str:
    """``repr(value)``, cut to 40 characters (a 400-digit number is not read in full)."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:30]}... ({len(text)} characters)"


def load_runs(
    source: Any,
    *,
    columns: Mapping[str, str] | None = None,
    nan_policy: str = "raise",
    where: str | None = None,
) -> pd.DataFrame:
    """Load runs from log files or a DataFrame into the tidy runs table.

    Parameters
    ----------
    source
        A path, a glob pattern (``"runs/*.csv"``), a list of them, or a DataFrame (copied).
        Files may be plain CSVs, W&B panel or run-history exports, TensorBoard scalar CSVs
        named ``run-<run>-tag-<tag>.csv`` or JSON lines (``.jsonl``), detected from the name
        and header (:mod:`scaling_fit.inputs.formats`).  A TensorBoard log directory (or
        event file) and an MLflow tracking store (``sqlite:///mlflow.db``, ``mlflow.db``, an
        ``mlruns`` directory) are read in place, one run per run directory or MLflow run,
        their tags and params named as columns (:mod:`.tensorboard_events`,
        :mod:`.mlflow_store`; extras ``[tensorboard]``, ``[mlflow]``).  TensorBoard CSVs
        with other names: ``{"<run>": {"<tag>": path, …}, …}``, e.g.
        ``{"r1": {"loss": "a.csv", "lr": "b.csv"}}``.
    columns
        Explicit mapping canonical name → your column, e.g. ``{"loss": "loss_c4_val"}``;
        wins over the aliases.  An unmapped column that is itself named like the canonical
        column it lost to is kept as ``<name>_unused``.
    nan_policy
        ``"raise"`` (default) or ``"omit"``: drop rows with an empty/NaN canonical value and
        emit a :class:`ScalingFitWarning` saying how many, per file.
    where
        Keep only the rows matching this filter on the tidy table's columns, e.g.
        ``"n_params >= 1e8"`` or ``"run != 'crashed'"``: column names, numbers, strings,
        comparisons, ``and``/``or``/``not``, ``in [...]`` and arithmetic, nothing else
        (:mod:`scaling_fit.inputs.query`; the language of ``fit(exclude=…)``, which selects
        rows to leave out).  It is checked before any file is read.

    Returns
    -------
    pandas.DataFrame
        Canonical columns first, then the others; a fresh RangeIndex.  Without a ``run``
        column, each row of a file is its own run ``"<stem>:<row>"``, or, when there is a
        ``step`` column, the file is one run ``"<stem>"`` (files sharing a stem are named by
        their path instead).  ``attrs["derived"]`` maps each derived column to its formula;
        ``attrs["sources"]`` lists the files read (``["<DataFrame>"]`` for a DataFrame);
        with ``where``, ``attrs["where"]`` is ``{"query", "kept", "of"}`` (rows).

    Raises
    ------
    DataError
        For missing or empty files, ambiguous or missing columns, unparseable, non-finite,
        non-positive or missing values, duplicate rows or steps, a bad ``where`` query or
        one that keeps no row.
    MissingExtraError
        For a TensorBoard log directory or MLflow store without its extra installed.
    """
    if nan_policy not in ("raise", "omit"):
        raise DataError(f"nan_policy={nan_policy!r} is not supported: use 'raise' or 'omit'")
    query = None if where is None else parse_query(where, "where")  # before any file is read
    mapping = columns or {}
    sources = read_sources(source, mapping, _numeric_column(mapping), _canonical_column(mapping))
    names = [name for name, _, _ in sources]
    frames, derived, steps_distinct, drops = [], {}, True, []
    for (name, raw, _), stem in zip(sources, stems(names), strict=True):
        table, dropped, formulas, distinct = _tidy(raw, name, stem, columns or {}, nan_policy)
        steps_distinct &= distinct
        if dropped:
            drops.append((name, dropped, len(table) + dropped))
        frames.append(table)
        derived.update(formulas)
    _warn_dropped(drops, len(sources))
    _check_same_columns(frames, names)
    table = pd.concat(frames, keys=range(len(frames)))
    if len(frames) > 1 or not steps_distinct:  # one file's own check found none: skip it
        _check_duplicate_steps(table, names)
    table = table.reset_index(drop=True)
    # Through object: pandas 2.0 casts a categorical column to str via numpy and warns
    # "invalid value encountered in cast" (fixed in later releases).
    table["run"] = table["run"].astype(object).astype(str)
    integral = "step" in table.columns and pd.api.types.is_integer_dtype(table["step"])
    if "step" in table.columns and not integral and np.all(np.mod(table["step"], 1) == 0):
        table["step"] = table["step"].astype(np.int64)
    files = [file for _, _, read in sources for file in read]
    attrs: dict[str, Any] = {"derived": derived, "sources": files}
    if query is not None:
        table, attrs["where"] = _select(table, query)
    table.attrs = attrs
    return table


def canonical_frame(frame: pd.DataFrame, columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """A copy of ``frame`` with its columns named as :func:`load_runs` names them (aliases,
    ``columns=``, a unit in a count column's name multiplied out), its values unchecked.

    For callers that accept values :func:`load_runs` refuses: :func:`scaling_fit.fit_hparams`
    takes a NaN or infinite loss as a diverged run and checks the rest itself.
    """
    mapping = _column_map(frame, DATAFRAME, columns or {})
    labels = {canonical: column for column, canonical in mapping.items() if canonical in CANONICAL}
    table = frame.rename(columns=mapping)
    for column in (c for c in COUNTS if c in table.columns and _name_unit(labels[c])):
        table[column] = _numbers(table[column], DATAFRAME, labels)
    _apply_name_units(table, labels)
    return table


def _numeric_column(columns: Mapping[str, str]) -> Callable[[str], bool]:
    """Whether a CSV column (by its header name) will be a numeric canonical column: then
    pandas may read it as numbers; any other column stays text as written."""
    mapped = {column: canonical for canonical, column in columns.items()}

    def numeric(column: str) -> bool:
        canonical = mapped.get(column) or canonical_of(column)
        named = column in mapped or canonical not in columns
        return named and canonical in NUMERIC

    return numeric


def _canonical_column(columns: Mapping[str, str]) -> Callable[[str], str | None]:
    """The canonical column a log store's tag, key or param will be read as (``columns``
    first, then the aliases a mapped column does not override), or None."""
    mapped = {column: canonical for canonical, column in columns.items()}

    def canonical(name: str) -> str | None:
        if name in mapped:
            return mapped[name]
        found = canonical_of(name)
        return None if found in columns else found

    return canonical


def _select(table: pd.DataFrame, query: Query) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The rows matching the filter ``query``, and what it kept."""
    where = query.text
    kept = table.loc[query_mask(table, query)]
    if kept.empty:
        raise DataError(
            f"where={where!r} keeps none of the {len(table)} rows; expected at least one "
            "(check the column names and values)"
        )
    return kept.reset_index(drop=True), {"query": where, "kept": len(kept), "of": len(table)}


def _warn_dropped(drops: list[tuple[str, int, int]], n_sources: int) -> None:
    """One warning per source that lost rows to ``nan_policy="omit"``; one in all when more
    than :data:`MAX_DROP_NOTES` did (a log directory of 45 runs gave 45 lines)."""
    if len(drops) <= MAX_DROP_NOTES:
        for name, dropped, rows in drops:
            message = f"{name}: dropped {dropped} of {rows} rows with an empty/NaN value ({OMIT})"
            warnings.warn(message, ScalingFitWarning, stacklevel=3)
        return
    dropped, rows = sum(d for _, d, _ in drops), sum(r for _, _, r in drops)
    most = max(drops, key=lambda d: d[1])
    warnings.warn(
        f"dropped {dropped} of {rows} rows with an empty/NaN value from {len(drops)} of "
        f"{n_sources} sources, most from {most[0]} ({most[1]} of {most[2]}) ({OMIT})",
        ScalingFitWarning,
        stacklevel=3,
    )


def _tidy(
    frame: pd.DataFrame, name: str, stem: str, columns: Mapping[str, str], policy: str
) -> tuple[pd.DataFrame, int, dict[str, str], bool]:
    """One source → tidy table indexed by row location, rows dropped, derived formulas, and
    whether its (run, step) pairs are known distinct."""
    if frame.empty:
        raise DataError(f"{name}: no data rows below the header {list(frame.columns)}")
    mapping = _column_map(frame, name, columns)
    labels = {canonical: column for column, canonical in mapping.items() if canonical in CANONICAL}
    table = frame.rename(columns=mapping)
    for column in (c for c in NUMERIC if c in table.columns):
        table[column] = _numbers(table[column], name, labels)
    units = _apply_name_units(table, labels)
    if is_json_lines(name) or is_trainer_state(name):  # metrics on separate lines: one row
        table = join_lines_on_step(table, [c for c in CANONICAL if c in table.columns])
    if "run" in table.columns:
        table["run"] = _run_names(table["run"])
    table, dropped = _drop_missing(table, name, labels, policy)
    _check_values(table, name, labels)
    formulas = units | _derive(table)
    distinct = _check_duplicate_rows(table, name)
    if "run" not in table.columns:
        many = "step" not in table.columns
        names = _row_names(stem, table.index, name) if many else [stem] * len(table)
        table["run"] = _run_names(pd.Series(names, index=table.index, dtype=object))
    ordered = [c for c in CANONICAL if c in table.columns]
    others = [c for c in table.columns if c not in CANONICAL]
    return table[ordered + others], dropped, formulas, distinct


def _apply_name_units(table: pd.DataFrame, labels: Mapping[str, str]) -> dict[str, str]:
    """Multiply out the unit a count column's name gives (``params (M)``: × 1e6) in place;
    the formula of each, e.g. ``{"n_params": "'params (M)' * 1e6"}``."""
    formulas = {}
    for column in (c for c in COUNTS if c in table.columns):
        unit = _name_unit(labels[column])
        if unit:
            table[column] = table[column] * unit[1]
            formulas[column] = f"{labels[column]!r} * 1e{round(np.log10(unit[1]))}"
    return formulas


def _row_names(stem: str, index: pd.Index, name: str) -> list[str]:
    """``stem:ROW`` of each row of a file of final losses, ROW its data row as messages count
    it (1-based, blank lines included, rows dropped by nan_policy='omit' skipped); a
    DataFrame's rows by position from 1."""
    if name != DATAFRAME and pd.api.types.is_integer_dtype(index):
        return [f"{stem}:{label}" for label in index]
    return [f"{stem}:{i + 1}" for i in range(len(index))]


def _run_names(values: pd.Series) -> pd.Series:
    """Run names as text, blank ones NaN; categorical, so that a long file's few runs are
    stripped and compared once each rather than once per row."""
    codes, uniques = pd.factorize(values)  # a NaN cell: code -1
    names = np.array([str(u) for u in uniques], dtype=object)
    blank = np.array([name.strip() == "" for name in names], dtype=bool)
    recoded, categories = pd.factorize(names)  # 1 and "1" are one run "1"
    recoded[blank] = -1
    codes = np.where(codes >= 0, recoded[codes], -1)
    return pd.Series(pd.Categorical.from_codes(codes, categories), index=values.index)


def _column_map(frame: pd.DataFrame, name: str, columns: Mapping[str, str]) -> dict[str, str]:
    """Your column → canonical name (unmapped columns named like a canonical one: renamed)."""
    unknown = sorted(set(columns) - set(CANONICAL))
    if unknown:
        raise DataError(f"columns= names {unknown}; expected canonical names {list(CANONICAL)}")
    absent = {k: v for k, v in columns.items() if v not in frame.columns}
    if absent:
        raise DataError(f"{name}: columns={absent} but no such column; found {list(frame.columns)}")
    mapping = {column: canonical for canonical, column in columns.items()}
    if len(mapping) < len(columns):
        raise DataError(
            f"columns={dict(columns)} maps two canonical names to one column; use one each"
        )
    for column in frame.columns:
        canonical = canonical_of(column)
        if column in mapping or canonical is None or canonical in columns:
            continue
        clash = [c for c, k in mapping.items() if k == canonical]
        if clash:
            raise DataError(
                f"{name}: columns {clash[0]!r} and {column!r} both look like {canonical!r}; "
                f"expected one. Say which with columns={{{canonical!r}: {column!r}}} or "
                f"columns={{{canonical!r}: {clash[0]!r}}} (CLI: --col {canonical}=<column>)"
            )
        mapping[column] = canonical
    if "loss" not in mapping.values():
        raise DataError(
            f"{name}: no loss column; expected 'loss' or one of {list(ALIASES['loss'])}; found "
            f"{list(frame.columns)}. Name yours with columns={{'loss': '<column>'}} "
            f"(CLI: --col loss=<column>){_tensorboard_hint(frame)}"
        )
    shadowed = [c for c in frame.columns if c in CANONICAL and c not in mapping]
    return mapping | {c: f"{c}_unused" for c in shadowed}


def _tensorboard_hint(frame: pd.DataFrame) -> str:
    if tuple(frame.columns) != TENSORBOARD_HEADER:
        return ""
    return (
        ". This looks like a TensorBoard scalar export: name it run-<run>-tag-<tag>.csv "
        "(TensorBoard's own download name) or load {'<run>': {'loss': path, 'lr': path}}"
    )


def _row(name: str, label: Any) -> str:
    """Where a row is: DataFrame index, reshaped-log label (``"line 3"``) or CSV data row."""
    label = label.item() if isinstance(label, np.generic) else label
    if name == DATAFRAME:
        return f"index {label!r}"
    return label if isinstance(label, str) else f"row {label} (line {label + 1})"


def _at(name: str, label: Any, labels: Mapping[str, str], column: str) -> str:
    shown = repr(column) if labels[column] == column else f"{labels[column]!r} ({column})"
    return f"{name}, {_row(name, label)}, column {shown}"


def _numbers(values: pd.Series, name: str, labels: Mapping[str, str]) -> pd.Series:
    """Parse a column to floats: plain numbers at once, suffixed ones (125M) cell by cell.

    A column pandas' CSV reader already read as numbers is used as is; a column of plain
    numbers is converted in one C-level pass; only the cells that pass cannot read (blank,
    ``125M``, ``1,000``) go through the slower parser.
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype(float)
    plain = _plain_numbers(values.to_numpy(object))
    if plain is not None:
        return pd.Series(plain, index=values.index)
    text = values.astype(str).str.strip()
    blank = values.isna().to_numpy() | text.isin(BLANKS).to_numpy()
    try:
        parsed = np.array(pd.to_numeric(values.where(~blank), errors="coerce"), dtype=float)
    except OverflowError:  # a Python int beyond a float: find it cell by cell
        parsed = np.full(len(values), np.nan)
    for position in np.flatnonzero(np.isnan(parsed) & ~blank):
        cell = values.iloc[position]
        try:
            parsed[position] = parse_number(cell)
        except ValueError as exc:
            why = " (too large for a float: largest 1.8e308)" if "too large" in str(exc) else ""
            raise DataError(
                f"{_at(name, values.index[position], labels, str(values.name))}: expected a "
                f"number (e.g. 1.3e9, 125M, 2T), found {_short(cell)}{why}; fix or remove that "
                "cell"
            ) from None
    return pd.Series(parsed, index=values.index)


def _plain_numbers(cells: np.ndarray) -> np.ndarray | None:
    """``cells`` as floats when every one is a plain number (Python's float syntax, no
    ``_`` digit separators, no NaN text), else None: then the cell-by-cell path decides."""
    try:
        parsed = np.array(cells, dtype=float)
    except (TypeError, ValueError, OverflowError):  # overflow: a Python int beyond a float
        return None
    if np.isnan(parsed).any():  # "nan", None: blank cells, handled (and counted) as such
        return None
    if cells.dtype == object and any("_" in c for c in cells if isinstance(c, str)):
        return None
    return parsed


def _drop_missing(
    table: pd.DataFrame, name: str, labels: Mapping[str, str], policy: str
) -> tuple[pd.DataFrame, int]:
    present = [c for c in CANONICAL if c in table.columns]
    missing = table[present].isna().to_numpy()
    rows = missing.any(axis=1)
    if not rows.any():
        return table, 0
    if policy == "omit" and not rows.all():
        return table[~rows], int(rows.sum())
    first = int(np.argmax(rows))
    column = present[int(np.argmax(missing[first]))]
    where = f"{_at(name, table.index[first], labels, column)}: expected a value, found an empty/NaN"
    if policy == "omit":
        raise DataError(f"{where} cell {_nothing_left(labels, present, missing)}")
    raise DataError(
        f"{where} cell ({int(rows.sum())} of {len(table)} rows have one); fill them in, or "
        f"drop such rows with {OMIT} (unless that leaves none)"
    )


def _nothing_left(labels: Mapping[str, str], present: list[str], missing: np.ndarray) -> str:
    """Why ``nan_policy='omit'`` cannot help: every row lacks a value, in these columns."""
    counts = missing.sum(axis=0)
    empty = [
        f"{labels.get(c, c)!r}{'' if labels.get(c, c) == c else f' ({c})'} in {n}"
        for c, n in zip(present, counts, strict=True)
        if n
    ]
    return (
        f"({len(missing)} of {len(missing)} rows have one; empty cells: {', '.join(empty)}), "
        f"so {OMIT} would drop every row. Metrics logged on different lines share a row only "
        "when logged at the same step: map the columns you mean to fit with columns= "
        "(--col NAME=COLUMN), load the metrics from files that log them together, or fill "
        "the cells in"
    )


def _check_values(table: pd.DataFrame, name: str, labels: Mapping[str, str]) -> None:
    for column in (c for c in NUMERIC if c in table.columns):
        values = table[column].to_numpy(float)
        sign_ok = values >= 0 if column in NON_NEGATIVE else values > 0
        bad = ~(np.isfinite(values) & sign_ok)
        if bad.any():
            first = int(np.argmax(bad))
            expected = "≥ 0" if column in NON_NEGATIVE else "> 0"
            diverged = ""
            if column == "loss" and np.isinf(values[first]):  # a run that diverged
                diverged = f" (a diverged run: leave its loss empty and pass {OMIT})"
            raise DataError(
                f"{_at(name, table.index[first], labels, column)}: expected a finite number "
                f"{expected}, found {float(values[first])!r}; fix or remove that row{diverged}"
            )
    loss = table["loss"].to_numpy(float)
    if len(loss) > 1 and np.all(loss == loss[0]):
        raise DataError(
            f"{name}: column {labels['loss']!r} (loss) has the same value {float(loss[0])!r} in "
            f"all {len(loss)} rows; expected measured losses. Map the right column with "
            "columns={'loss': '<column>'}"
        )


def _derive(table: pd.DataFrame) -> dict[str, str]:
    """Add the missing tokens and compute that the other columns determine; their formulas."""
    formulas = {}
    have = set(table.columns)
    if "tokens" not in have and {"step", "batch_size"} <= have:
        table["tokens"] = table["step"] * table["batch_size"]
        formulas["tokens"] = "step * batch_size"
    elif "tokens" not in have and {"n_params", "compute"} <= have:
        table["tokens"] = table["compute"] / (FLOPS_PER_PARAM_TOKEN * table["n_params"])
        formulas["tokens"] = "compute / (6 * n_params)"
    if "compute" not in have and {"n_params", "tokens"} <= set(table.columns):
        table["compute"] = FLOPS_PER_PARAM_TOKEN * table["n_params"] * table["tokens"]
        formulas["compute"] = "6 * n_params * tokens"
    elif {"compute", "tokens"} <= set(table.columns) and "n_params" not in table.columns:
        # isoFLOP data read off figures often comes as (compute, tokens, loss).
        table["n_params"] = table["compute"] / (FLOPS_PER_PARAM_TOKEN * table["tokens"])
        formulas["n_params"] = "compute / (6 * tokens)"
    return formulas


def _first_repeat(table: pd.DataFrame, keys: list[str]) -> tuple[int, int] | None:
    """Positions of the first row that repeats an earlier one on ``keys``, and of that one."""
    later = table[keys].duplicated(keep="first").to_numpy()  # not all columns: wide files
    if not later.any():
        return None
    second = int(np.argmax(later))
    same = (table[keys] == table[keys].iloc[second]).all(axis=1).to_numpy()
    return int(np.argmax(same)), second


def _check_duplicate_rows(table: pd.DataFrame, name: str) -> bool:
    """DataError for a row repeating another exactly; whether every (run, step) is distinct
    (then the steps check of :func:`_check_duplicate_steps` has nothing to find here)."""
    keys = [c for c in CANONICAL if c in table.columns]
    steps = [c for c in ("run", "step") if c in keys]
    if "step" in steps and not table[steps].duplicated().any():
        return True  # rows differ in run or step already: no row can repeat another
    pair = _first_repeat(table, keys)
    if pair:
        first, second = (_row(name, table.index[p]) for p in pair)
        raise DataError(
            f"{name}, {second} repeats {first} exactly (same {keys}); expected distinct "
            "observations: remove one of the two rows"
        )
    return False


def _check_same_columns(frames: Sequence[pd.DataFrame], names: Sequence[str]) -> None:
    first = [c for c in CANONICAL if c in frames[0].columns]
    for frame, name in zip(frames[1:], names[1:], strict=True):
        found = [c for c in CANONICAL if c in frame.columns]
        if found != first:
            raise DataError(
                f"{name} has columns {found} but {names[0]} has {first}; expected the same "
                "in every file: add or map the missing ones (columns=…) or load them apart"
            )


def _check_duplicate_steps(table: pd.DataFrame, names: Sequence[str]) -> None:
    pair = _first_repeat(table, ["run", "step"]) if "step" in table.columns else None
    if pair:
        (i, first), (j, second) = table.index[list(pair)]
        run, step = table["run"].iloc[pair[1]], table["step"].iloc[pair[1]]
        raise DataError(
            f"{names[j]}, {_row(names[j], second)}: run {run!r} logs step {step:.15g} again "
            f"(also at {names[i]}, {_row(names[i], first)}); expected one row per step of a "
            "run: remove the repeat, or give the runs distinct names in a 'run' column"
        )
