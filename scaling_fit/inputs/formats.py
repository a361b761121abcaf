"""The logs people have → plain tables that :func:`~scaling_fit.load_runs` tidies.

Each reader returns a table of text or numbers with one row per observation and the column
names the log uses (``train/loss``, ``Step``, …); :mod:`.load` then maps them through its
aliases.  Formats, detected from the file name and header:

- **W&B panel export** (wide): a first column ``Step`` and one column ``<run> - <metric>`` per
  run, with ``<run> - <metric>__MIN`` / ``__MAX`` (ignored); several runs in one file.  The
  run name ends at the last `` - `` (run names may hold one, metric names do not).  It
  becomes ``run, step, <metric>``; a run's empty cells (steps it did not log) are left out.
- **W&B run-history export** (long: ``_step``, ``train/loss``, ``train/lr``, ``run``) and any
  other long CSV need no reshaping: the aliases read them.
- **TensorBoard scalar CSVs** (``Wall time,Step,Value``, one file per run and tag): named
  ``run-<run>-tag-<tag>.csv`` as TensorBoard's "download CSV" names them, or given as
  ``{"<run>": {"<tag>": path, …}}``.  The files of a run are joined on ``Step``; each tag
  becomes a column (``train_loss`` reads as ``loss``), ``Wall time`` is dropped.  Run ``.``
  (TensorBoard's name for the log directory itself) is named after the file's folder.
- **JSON lines** (``.jsonl``, ``.ndjson``): one JSON object per line; nested objects are
  flattened with ``/`` (``{"train": {"loss": 2.1}}`` → ``train/loss``).
- **Hugging Face Trainer state** (``trainer_state.json``, saved with every checkpoint): its
  ``log_history``, one object per logging event (training lines with ``loss`` and
  ``learning_rate``, evaluation lines with ``eval_loss``), read as JSON lines are; the run is
  named after the output folder (the checkpoint folder's parent).

Rows of reshaped tables are labelled for error messages by strings (``"line 3"``,
``"step 200"``) instead of CSV data-row numbers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from .validate import COMPRESSED, compression_error, is_compression_failure, not_utf8, open_text

TENSORBOARD_HEADER = ("Wall time", "Step", "Value")
TENSORBOARD_NAME = re.compile(r"^run-(?P<run>.+)-tag-(?P<tag>.+)$")
# W&B names a panel column "<run> - <metric>"; a run name may hold " - " itself
# ("lr=3e-4 - bs=256"), metric names do not: the run ends at the last " - ".
PANEL_COLUMN = re.compile(r"^(?P<run>.+) - (?P<metric>.+?)(?P<extreme>__MIN|__MAX)?$")
JSON_LINES = (".jsonl", ".ndjson")
TRAINER_STATE = "trainer_state.json"  # Hugging Face Trainer's file; its log is "log_history"
# Digits of the largest integer a float holds (1.8e308): a JSON integer with more is refused.
FLOAT_DIGITS = 309


def is_json_lines(path: str) -> bool:
    """A ``.jsonl`` / ``.ndjson`` name, possibly compressed (``runs.jsonl.gz``)."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] in COMPRESSED:
        suffixes.pop()
    return bool(suffixes) and suffixes[-1] in JSON_LINES


class _TooLarge(ValueError):
    """A JSON integer beyond the float range (raised by :func:`_json_int`)."""


def _json_int(text: str) -> int:
    """json's ``parse_int``: refuse integers no float can hold (float() would overflow)."""
    if len(text.lstrip("-")) >= FLOAT_DIGITS and abs(int(text)) > 1.7976931348623157e308:
        raise _TooLarge(text)
    return int(text)


# ----------------------------------------------------------------------- JSON lines
def read_json_lines(path: str) -> pd.DataFrame:
    """One row per JSON object of a JSON-lines file, rows labelled ``"line L"``.

    Raises
    ------
    DataError
        If a non-blank line is not a JSON object, or the file has none.
    """
    try:
        records, labels = _json_records(path)
    except UnicodeDecodeError as exc:
        raise not_utf8(path, exc) from None
    except Exception as exc:  # zlib.error, EOFError, LZMAError, ...: not one base class
        if is_compression_failure(exc):
            raise compression_error(path, exc) from None
        raise
    if not records:
        raise DataError(f"{path}: no JSON objects; expected one per line")
    frame = pd.json_normalize(records, sep="/").astype(object)
    frame.index = pd.Index(labels)
    return frame.where(frame.notna(), None)


def is_trainer_state(path: str) -> bool:
    """A Hugging Face ``trainer_state.json`` (possibly compressed), by its name."""
    name = Path(path).name.lower()
    for suffix in COMPRESSED:
        name = name.removesuffix(suffix)
    return name == TRAINER_STATE


def trainer_state_run(path: str) -> str:
    """The run a ``trainer_state.json`` belongs to: its folder, or the folder holding the
    ``checkpoint-N`` folder it was saved in."""
    folder = Path(path).resolve().parent
    if re.fullmatch(r"checkpoint-\d+", folder.name) and folder.parent.name:
        folder = folder.parent
    return folder.name or "trainer_state"


def read_trainer_state(path: str) -> pd.DataFrame:
    """One row per entry of a ``trainer_state.json``'s ``log_history``, labelled
    ``"log_history[I]"`` (0-based, as the file's list).

    Raises
    ------
    DataError
        If the file is not JSON, has no ``log_history`` list, or an entry is not an object.
    """
    try:
        with open_text(path, "utf-8-sig") as handle:
            text = handle.read()
    except UnicodeDecodeError as exc:
        raise not_utf8(path, exc) from None
    except Exception as exc:  # zlib.error, EOFError, LZMAError, ...: not one base class
        if is_compression_failure(exc):
            raise compression_error(path, exc) from None
        raise
    state = _loads(text, path, "expected Hugging Face Trainer's state file", "line")
    history = state.get("log_history") if isinstance(state, dict) else None
    if not isinstance(history, list) or not history:
        raise DataError(
            f"{path}: expected Hugging Face Trainer's state, an object with a non-empty "
            f"'log_history' list; found {_json_kind(state, history)}"
        )
    bad = next((i for i, entry in enumerate(history) if not isinstance(entry, dict)), None)
    if bad is not None:
        raise DataError(
            f"{path}: log_history[{bad}] is {type(history[bad]).__name__}, expected an object "
            '({"step": 100, "loss": 3.2, ...})'
        )
    frame = pd.json_normalize(history, sep="/").astype(object)
    frame.index = pd.Index([f"log_history[{i}]" for i in range(len(history))])
    return frame.where(frame.notna(), None)


def _json_kind(state: Any, history: Any) -> str:
    if not isinstance(state, dict):
        return f"a JSON {type(state).__name__}"
    if history is None:
        return f"keys {sorted(state)[:8]}"
    return f"log_history = {type(history).__name__} {str(history)[:40]!r}"


def _json_records(path: str) -> tuple[list[dict], list[str]]:
    """The JSON objects of a JSON-lines file and their labels (``"line L"``)."""
    records, labels = [], []
    with open_text(path, "utf-8-sig") as handle:  # a byte-order mark is not JSON
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            record = _json_line(line, path, number)
            records.append(record)
            labels.append(f"line {number}")
    return records, labels


def _loads(text: str, where: str, expected: str, position: str) -> Any:
    """``text`` parsed as JSON; a DataError at ``where`` for invalid JSON (the error's
    ``position``, ``"line"`` or ``"column"``, named) or an integer beyond the float range."""
    try:
        return json.loads(text, parse_int=_json_int)
    except _TooLarge as exc:
        digits = len(str(exc).lstrip("-"))
        raise DataError(
            f"{where}: the integer {str(exc)[:12]}... ({digits} digits) is too large for a "
            "float (largest 1.8e308); fix or remove that value"
        ) from None
    except json.JSONDecodeError as exc:
        at = exc.lineno if position == "line" else exc.colno
        raise DataError(
            f"{where}: not valid JSON ({exc.msg} at {position} {at}); {expected}"
        ) from None
    except RecursionError:
        raise DataError(f"{where}: not valid JSON (nested too deep); {expected}") from None


def _json_line(line: str, path: str, number: int) -> dict:
    """One line's JSON object; DataError naming the line when it is not one."""
    expected = 'expected one JSON object per line, e.g. {"step": 100, "loss": 3.2}'
    record = _loads(line, f"{path}, line {number}", expected, "column")
    if not isinstance(record, dict):
        raise DataError(
            f"{path}, line {number}: expected a JSON object ({{...}}), found "
            f"{type(record).__name__} {line.strip()[:40]!r}"
        )
    return record


def join_lines_on_step(table: pd.DataFrame, compared: list[str]) -> pd.DataFrame:
    """Rows of one ``step`` (and ``run``) merged into one, when they do not disagree.

    Logs that write each kind of metric on its own line (Hugging Face's Trainer: ``loss`` and
    ``learning_rate`` on training lines, ``eval_loss`` on evaluation lines, both with
    ``step``) become one row per step holding every metric logged at it.  Lines of one step
    that give one of the ``compared`` columns (the canonical ones) two different values (a
    resumed run logging a step twice) stay apart, for the loader's duplicate-step check to
    report; in other columns (a timestamp per line) the merged row keeps the first line's
    value.  A merged row is labelled ``"lines 10, 11"``; rows keep their first line's order.

    ``table`` has the canonical ``step`` column (numbers) and maybe ``run``.
    """
    keys = [c for c in ("run", "step") if c in table.columns]
    if "step" not in keys:
        return table
    shared = table.duplicated(keys, keep=False).to_numpy()
    if not shared.any():
        return table
    sub = table.loc[shared]
    group = sub.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
    cells = pd.DataFrame({c: sub[c].map(_comparable) for c in compared})
    distinct = cells.groupby(group).nunique().max(axis=1)
    clash = np.isin(group, distinct.index[distinct.to_numpy() > 1])
    kept = ~clash
    merged = sub.loc[kept].groupby(group[kept], sort=False).first()
    labels = pd.Series(sub.index[kept], dtype=object).groupby(group[kept], sort=False)
    first = pd.Series(np.flatnonzero(shared)[kept]).groupby(group[kept], sort=False).min()
    order = np.concatenate(
        [np.flatnonzero(~shared), np.flatnonzero(shared)[clash], first.loc[merged.index]]
    )
    merged.index = pd.Index(labels.agg(_lines_label).loc[merged.index].to_list())
    joined = pd.concat([table.loc[~shared], sub.loc[clash], merged[list(table.columns)]])
    return joined.iloc[np.argsort(order, kind="stable")]


def _comparable(value: Any) -> Any:
    """A cell as a hashable value for comparison (lists as their text); None when missing."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value if isinstance(value, str | int | float | bool) else repr(value)


def _lines_label(labels: pd.Series) -> str:
    """``"lines 10, 11"`` from the labels ``"line 10"``, ``"line 11"``."""
    return "lines " + ", ".join(str(label).removeprefix("line ") for label in labels)


# ----------------------------------------------------------------------- W&B panel
def is_wandb_panel(frame: pd.DataFrame) -> bool:
    """A ``Step`` column first and every other column ``<run> - <metric>[__MIN|__MAX]``."""
    columns = list(frame.columns)
    return (
        len(columns) > 1
        and columns[0] == "Step"
        and all(PANEL_COLUMN.match(c) for c in columns[1:])
    )


def melt_wandb_panel(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """W&B panel export → ``run, Step, <metric>…`` rows (keeping the CSV row labels).

    ``__MIN``/``__MAX`` columns are dropped, and a run's rows where all its metrics are
    empty (steps it did not log) are left out.  Runs keep the order of their columns.
    """
    parts: dict[str, dict[str, str]] = {}  # run -> metric -> column
    for column in frame.columns[1:]:
        match = PANEL_COLUMN.match(column)
        if match and not match["extreme"]:
            parts.setdefault(match["run"], {})[match["metric"]] = column
    if not parts:
        raise DataError(
            f"{name}: a W&B panel export with only __MIN/__MAX columns; expected a "
            "'<run> - <metric>' column per run"
        )
    metrics = list(dict.fromkeys(m for columns in parts.values() for m in columns))
    pieces = []
    for run, columns in parts.items():
        piece = pd.DataFrame({m: frame.get(columns.get(m), "") for m in metrics})
        piece = piece.fillna("")
        logged = ~(piece.apply(lambda c: c.str.strip()) == "").all(axis=1)
        pieces.append(piece[logged].assign(Step=frame["Step"][logged], run=run))
    return pd.concat(pieces)[["run", "Step", *metrics]]


# ----------------------------------------------------------------------- TensorBoard
def is_tensorboard(frame: pd.DataFrame) -> bool:
    """The header of a TensorBoard scalar export: ``Wall time,Step,Value``."""
    return tuple(frame.columns) == TENSORBOARD_HEADER


def tensorboard_name(path: str) -> tuple[str, str] | None:
    """``(run, tag)`` of a file named ``run-<run>-tag-<tag>.csv``, else None."""
    match = TENSORBOARD_NAME.match(Path(path).stem)
    return (match["run"], match["tag"]) if match else None


def join_tensorboard(run: str, tags: Mapping[str, tuple[str, pd.DataFrame]]) -> pd.DataFrame:
    """One run's TensorBoard scalar files (tag → (path, table)) → ``run, step, <tag>…``.

    Rows are the union of the files' steps in increasing order, labelled ``"step S"``; a tag
    not logged at a step is NaN there.

    Raises
    ------
    DataError
        If a file is not a TensorBoard scalar export, has a non-numeric step or value, or
        repeats a step.
    """
    series = [_tensorboard_values(tag, path, frame) for tag, (path, frame) in tags.items()]
    table = pd.concat(series, axis=1).sort_index()
    steps = table.index.to_numpy(float)
    table.index = pd.Index([f"step {s:.15g}" for s in steps])
    table.insert(0, "step", steps)
    table.insert(0, "run", run)
    return table


def _tensorboard_values(tag: str, path: str, frame: pd.DataFrame) -> pd.Series:
    if not is_tensorboard(frame):
        raise DataError(
            f"{path}: expected a TensorBoard scalar export with header "
            f"{','.join(TENSORBOARD_HEADER)}; found {list(frame.columns)}"
        )
    values = {}
    for column in ("Step", "Value"):
        text = frame[column].astype(str).str.strip()
        parsed = pd.to_numeric(text.mask(text.isin(("", "nan", "NaN")), "nan"), errors="coerce")
        bad = parsed.isna() & ~text.isin(("", "nan", "NaN") if column == "Value" else ())
        if bad.any():
            label = bad.index[int(np.argmax(bad.to_numpy()))]
            raise DataError(
                f"{path}, row {label} (line {label + 1}), column {column!r}: expected a number, "
                f"found {frame[column][label]!r}; fix or remove that row"
            )
        values[column] = parsed.to_numpy(float)
    steps = pd.Series(values["Step"], index=frame.index)
    repeated = steps.duplicated()
    if repeated.any():
        second = steps.index[int(np.argmax(repeated.to_numpy()))]
        first = steps.index[int(np.argmax((steps == steps[second]).to_numpy()))]
        raise DataError(
            f"{path}, row {second} (line {second + 1}): step {steps[second]:.15g} again (also "
            f"row {first}); expected one value per step (a resumed run logs steps twice): keep "
            "the rows of the run you mean and remove the others"
        )
    return pd.Series(values["Value"], index=values["Step"], name=tag)


def tensorboard_mapping(source: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Check ``{"run": {"tag": path, …}, …}`` and return it with paths as strings."""
    checked = {}
    for run, tags in source.items():
        if not isinstance(tags, Mapping) or not tags:
            raise DataError(
                f"load_runs({{...}}): run {run!r} maps to {tags!r}; expected a mapping tag → "
                "TensorBoard scalar CSV, e.g. {'run1': {'loss': 'loss.csv', 'lr': 'lr.csv'}}"
            )
        checked[str(run)] = {str(tag): str(path) for tag, path in tags.items()}
    if not checked:
        raise DataError("load_runs({}): no runs given; expected {'run': {'tag': 'file.csv'}}")
    return checked
