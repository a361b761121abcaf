"""What ``load_runs`` reads: paths, globs, TensorBoard mappings or a DataFrame → sources.

A source is ``(name, table, files)``: the name errors use (a path, ``<DataFrame>`` or
``run 'r1' (TensorBoard a.csv, b.csv)``), the table still in the log's own column names and
text, and the files it came from.  CSV tables are labelled by data row (1 = first row below
the header); reshaped logs by strings from :mod:`.formats`.
"""

from __future__ import annotations

import csv
import glob
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from . import formats, mlflow_store, tensorboard_events
from .store_runs import Canonical
from .validate import (
    check_archive,
    check_header,
    check_input_file,
    compression_error,
    is_compression_failure,
)

DATAFRAME = "<DataFrame>"
# Above this many columns a CSV is read by Python's csv module into one block of cells:
# pandas' reader builds one column at a time (46 s for a 200,000-column file, 0.3 s this way).
WIDE_COLUMNS = 2_000
CSV_OPTIONS = {"skip_blank_lines": False, "skipinitialspace": True, "index_col": False}
Source = tuple[str, pd.DataFrame, list[str]]
NumericColumn = Callable[[str], bool]


def read_sources(
    source: Any,
    columns: Mapping[str, str],
    numeric: NumericColumn | None = None,
    canonical: Canonical | None = None,
) -> list[Source]:
    """Sources as ``(name for messages, table to tidy, files read)``, reshaped by format.

    CSV columns for which ``numeric(name)`` is true are read by pandas' C parser as numbers
    when every cell is a plain number (the usual case, and ~10x faster and leaner than
    text); a column with any other cell (``125M``, blank, ``n/a``) is kept as text, as
    every other column is, for the loader's unit parser and its messages.  A TensorBoard
    log directory or event file and an MLflow store (:func:`_log_store`) give one source per
    run, holding the tags and run-level values that ``canonical(name)`` (the loader's
    aliases and ``columns``) names a canonical column.
    """
    if isinstance(source, pd.DataFrame):
        return [(DATAFRAME, source.copy(), [DATAFRAME])]
    if isinstance(source, Mapping):
        runs = formats.tensorboard_mapping(source)
        return [
            _tensorboard(run, {t: (p, _read_csv(p, numeric)) for t, p in tags.items()})
            for run, tags in runs.items()
        ]
    items = _paths_given(source)
    paths: dict[str, str] = {}  # real path -> path as given; a file matched twice is read once
    for item in items:
        matches = sorted(glob.glob(item)) if glob.has_magic(item) else [item]
        if not matches:
            raise DataError(f"no file matches {item!r} (cwd: {Path.cwd()}); check the pattern")
        paths.update({os.path.realpath(m): m for m in matches if os.path.realpath(m) not in paths})
    if not paths:
        raise DataError("no files given; expected a path, a glob pattern or a list of them")
    sources, boards = [], {}
    mapped_value = "Value" in columns.values()  # --col loss=Value: read the file as it is
    for path in paths.values():
        runs = _log_store(path, columns, canonical or (lambda _: None))
        if runs is not None:
            sources.extend(runs)
            continue
        frame = _read_file(path, numeric)
        board = formats.tensorboard_name(path)
        if board and formats.is_tensorboard(frame) and not mapped_value:
            _add_tensorboard(boards, path, frame, *board)
        elif formats.is_wandb_panel(frame):
            sources.append((path, formats.melt_wandb_panel(frame, path), [path]))
        else:
            sources.append((path, frame, [path]))
    return sources + [_tensorboard(run, tags) for run, tags in boards.items()]


def _log_store(path: str, columns: Mapping[str, str], canonical: Canonical) -> list[Source] | None:
    """The runs of a TensorBoard log directory or event file, or of an MLflow store (a
    ``sqlite:///`` URI, a SQLite file, an ``mlruns`` directory or a folder holding one);
    None for any other file."""
    if mlflow_store.is_sqlite_uri(path):
        return mlflow_store.read_store(path, columns, canonical)
    if os.path.isdir(path):
        if tensorboard_events.has_event_files(path):
            return tensorboard_events.read_log_dir(path, columns, canonical)
        store = mlflow_store.store_in(path)
        if store is not None:
            return mlflow_store.read_store(store, columns, canonical)
        raise DataError(
            f"{path}: is a directory with no TensorBoard event files (events.out.tfevents.*) "
            "below it and no MLflow store (mlflow.db, mlruns/); expected a log file (CSV, JSON "
            "lines), a TensorBoard log directory or an MLflow tracking store"
        )
    if tensorboard_events.is_event_file(path) and os.path.isfile(path):
        return tensorboard_events.read_log_dir(path, columns, canonical)
    if mlflow_store.is_sqlite_file(path):
        return mlflow_store.read_store(path, columns, canonical)
    return None


def _paths_given(source: Any) -> list[str]:
    """``source`` as a list of path strings (one path, or an iterable of them)."""
    try:
        items = [source] if isinstance(source, str | os.PathLike) else list(source)
        return [os.fspath(item) for item in items]
    except TypeError:
        raise DataError(
            f"expected runs as a DataFrame, a CSV path, a glob pattern or a list of them; "
            f"found {type(source).__name__} {str(source)[:60]!r}"
        ) from None


def _add_tensorboard(
    boards: dict[str, dict[str, tuple[str, pd.DataFrame]]],
    path: str,
    frame: pd.DataFrame,
    run: str,
    tag: str,
) -> None:
    """File the table of ``run-<run>-tag-<tag>.csv`` under its run (run ``.``, TensorBoard's
    name for the log directory itself, is named after the file's folder)."""
    if run == ".":
        run = Path(path).resolve().parent.name or run
    tags = boards.setdefault(run, {})
    if tag in tags:
        raise DataError(
            f"{tags[tag][0]} and {path} are both TensorBoard scalars of run {run!r}, tag "
            f"{tag!r}; expected one file per run and tag: load them apart, or name each "
            "file's run with {'<run>': {'<tag>': path}}"
        )
    tags[tag] = (path, frame)


def _tensorboard(run: str, tags: Mapping[str, tuple[str, pd.DataFrame]]) -> Source:
    files = [path for path, _ in tags.values()]
    name = f"run {run!r} (TensorBoard {', '.join(files)})"
    return name, formats.join_tensorboard(run, tags), files


def _read_file(path: str, numeric: NumericColumn | None) -> pd.DataFrame:
    if formats.is_json_lines(path) and Path(path).is_file():
        return formats.read_json_lines(path)
    if formats.is_trainer_state(path) and Path(path).is_file():
        return formats.read_trainer_state(path)
    return _read_csv(path, numeric)


def _read_csv(path: str, numeric: NumericColumn | None = None) -> pd.DataFrame:
    check_input_file(path)
    check_archive(path)
    check_header(path)
    try:
        return _parse_csv(path, numeric)
    except Exception as exc:  # zlib.error, EOFError, LZMAError, ...: not one base class
        if is_compression_failure(exc):
            raise compression_error(path, exc) from None
        raise


def _parse_csv(path: str, numeric: NumericColumn | None) -> pd.DataFrame:
    """The CSV at ``path`` as :func:`_read_csv` returns it (compression errors propagate)."""
    try:
        with warnings.catch_warnings():  # more fields than the header: an error, not data loss
            warnings.simplefilter("error", pd.errors.ParserWarning)
            if _header_width(path) > WIDE_COLUMNS:
                frame = _read_wide_csv(path)
            else:
                frame = _read_narrow_csv(path, numeric)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty; expected a CSV header and data rows") from None
    except (pd.errors.ParserError, pd.errors.ParserWarning, UnicodeDecodeError) as exc:
        raise DataError(
            f"{path}: not a readable CSV ({str(exc).strip()}); expected one header line and as "
            "many comma-separated fields on every line"
        ) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    frame.index = pd.RangeIndex(1, len(frame) + 1)  # data row numbers, blank lines included
    return frame[~_blank_rows(frame)]


def _read_narrow_csv(path: str, numeric: NumericColumn | None) -> pd.DataFrame:
    """Text cells, except the ``numeric`` columns that pandas reads as numbers throughout.

    A column pandas reads as booleans (``True``/``false`` cells) is not a number either: then
    the file is read again all as text, so messages quote the cells as written.
    """
    text = pd.read_csv(path, dtype=object, keep_default_na=False, nrows=0, **CSV_OPTIONS)
    keep = [c for c in text.columns if numeric is None or not numeric(str(c).strip())]
    if len(keep) == len(text.columns):
        return pd.read_csv(path, dtype=object, keep_default_na=False, **CSV_OPTIONS)
    frame = pd.read_csv(
        path, dtype=dict.fromkeys(keep, object), keep_default_na=False, **CSV_OPTIONS
    )
    for column in (c for c in frame.columns if c not in keep):
        if pd.api.types.is_bool_dtype(frame[column]):
            return pd.read_csv(path, dtype=object, keep_default_na=False, **CSV_OPTIONS)
        if not pd.api.types.is_numeric_dtype(frame[column]):  # pandas 3 "str": as before
            frame[column] = frame[column].astype(object)
    return frame


def _header_width(path: str) -> int:
    """Fields in the first line (0 if it cannot be read as text: pandas then says why)."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return len(next(csv.reader([handle.readline()]), []))
    except (UnicodeDecodeError, csv.Error):
        return 0


def _read_wide_csv(path: str) -> pd.DataFrame:
    """A CSV with more than ``WIDE_COLUMNS`` columns, as ``pd.read_csv`` with ``CSV_OPTIONS``
    reads it (text cells, short rows padded with "", blank lines kept as rows of ""), in one
    block of cells instead of one pandas column at a time."""
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, skipinitialspace=True))
    if not rows:
        raise pd.errors.EmptyDataError("No columns to parse from file")
    header, body = rows[0], rows[1:]
    cells = np.full((len(body), len(header)), "", dtype=object)
    for number, row in enumerate(body):
        if len(row) > len(header):
            raise pd.errors.ParserError(
                f"Error tokenizing data. Expected {len(header)} fields in line {number + 2}, "
                f"saw {len(row)}"
            )
        cells[number, : len(row)] = row
    return pd.DataFrame(cells, columns=header, dtype=object)


def _blank_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows whose every cell is empty or spaces. Only rows with a blank first cell can be,
    so only those are checked across columns: one column pass for a long file, a few rows
    for a wide one (a cell-by-cell check of a 200,000-column file took a minute)."""
    text = [pd.api.types.is_object_dtype(frame[c]) for c in frame.columns]
    if frame.shape[1] == 0 or not all(text):  # a blank line makes every column text
        return np.zeros(len(frame), dtype=bool)
    blank = (frame.iloc[:, 0].str.strip() == "").to_numpy(dtype=bool, copy=True)
    candidates = np.flatnonzero(blank)
    if len(candidates):
        cells = frame.iloc[candidates].to_numpy(str)
        blank[candidates] = (np.char.strip(cells) == "").all(axis=1)
    return blank


def _stem(name: str) -> str:
    if name == DATAFRAME:
        return "run"
    if formats.is_trainer_state(name):  # every run's file has this name: the folder's
        return formats.trainer_state_run(name)
    return Path(name).stem


def stems(names: Sequence[str]) -> list[str]:
    """Run-name prefix per source: the file stem, or the path when stems collide."""
    stems = [_stem(n) for n in names]
    if len(set(stems)) == len(stems):
        return stems
    common = os.path.commonpath([os.path.dirname(os.path.abspath(n)) for n in names])
    return [Path(os.path.relpath(os.path.abspath(n), common)).as_posix() for n in names]
