"""An MLflow tracking store read in place with MLflow's own client (``MlflowClient``).

Three forms, as MLflow writes them: a ``sqlite:///path/mlflow.db`` URI, the SQLite file's
path itself (MLflow 3's default store), or a legacy ``mlruns/`` directory (the file store,
in maintenance mode since MLflow 3, which refuses to open one unless
``MLFLOW_ALLOW_FILE_STORE=true``: set for this read only).  Every run of every active
experiment is one run of the table, named by its MLflow run name (a name two runs share is
followed by the run id's first 8 characters); its metrics' histories are the scalar series
(a step logged twice keeps the later write, by timestamp) and its params the run-level
values (``n_params``, ``batch_size``, ``lr``, …), both read through the loader's aliases.

The store is only read: a SQLite file without MLflow's tables is refused before MLflow sees
it (MLflow would create its tables in it), and a missing one is not created.  MLflow stores
an infinite metric as ±1.8e308 (the largest float); it is read back as infinite.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError, ScalingFitWarning
from .store_runs import Canonical, check_same_tags, columns_used, require, run_table, wanted

EXTRA = "mlflow"
SQLITE_MAGIC = b"SQLite format 3\x00"
TABLES = {"experiments", "runs", "metrics", "params"}  # MLflow's, in every schema version
LARGEST = np.finfo(float).max  # MLflow's stand-in for an infinite metric
PAGE = 1000  # runs per search request


def is_sqlite_uri(text: str) -> bool:
    """A ``sqlite:///…`` tracking URI."""
    return text.startswith("sqlite:")


def is_sqlite_file(path: str) -> bool:
    """A SQLite database file, by its first 16 bytes."""
    try:
        with open(path, "rb") as handle:
            return handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def is_file_store(path: str) -> bool:
    """An ``mlruns/`` directory: experiment folders holding ``meta.yaml``."""
    return any(Path(path).glob("*/meta.yaml"))


def store_in(folder: str) -> str | None:
    """The MLflow store a directory is or holds (itself as ``mlruns``, its ``mlflow.db`` or
    ``mlruns/``), or None."""
    if is_file_store(folder):
        return folder
    for name in ("mlflow.db", "mlruns"):
        inside = os.path.join(folder, name)
        if (name == "mlruns" and is_file_store(inside)) or is_sqlite_file(inside):
            return inside
    return None


def read_store(
    where: str, columns: Mapping[str, str], canonical: Canonical
) -> list[tuple[str, Any, list[str]]]:
    """An MLflow store → sources ``(name, table, files)``, one per run.

    Raises
    ------
    DataError
        If the store is missing, not an MLflow store or holds no runs, a run has no metric
        that reads as the loss or lacks a mapped one (listing the keys it has), or two runs
        read one column from different keys.
    MissingExtraError
        Without the ``mlflow`` extra.
    """
    uri, label = _tracking_uri(where)
    tracking = require("mlflow.tracking", EXTRA, "an MLflow tracking store")
    with _quiet(), _file_store_allowed():
        try:
            client = tracking.MlflowClient(tracking_uri=uri)
            runs = _runs(client)
        except Exception as exc:  # MlflowException, SQLAlchemy's errors: one line, with why
            raise DataError(
                f"{label}: MLflow could not read it ({_first_line(exc)}); expected an MLflow "
                "tracking store (mlflow.db, sqlite:///mlflow.db or an mlruns directory)"
            ) from None
        if not runs:
            raise DataError(f"{label}: the MLflow store holds no runs; expected logged runs")
        return _sources(client, runs, label, columns, canonical)


def _sources(
    client: Any, runs: list[Any], label: str, columns: Mapping[str, str], canonical: Canonical
) -> list[tuple[str, Any, list[str]]]:
    names = _run_names(runs)
    sources, used = [], []
    for run, run_name in zip(runs, names, strict=True):
        name = f"run {run_name!r} (MLflow {label}, run id {run.info.run_id})"
        keys = list(run.data.metrics)
        read = [k for k in keys if wanted(k, canonical) or k in columns.values()]
        series = {key: _history(client, run.info.run_id, key) for key in read}
        series |= {key: _EMPTY for key in keys if key not in series}  # listed in messages
        table, repeated = run_table(run_name, name, series, run.data.params, columns, canonical)
        if repeated:
            warnings.warn(
                f"{name}: {repeated} steps were logged more than once (a restarted run); "
                "the later write of each (by timestamp) is kept",
                ScalingFitWarning,
                stacklevel=4,
            )
        sources.append((name, table, [label]))
        used.append((name, columns_used(read, canonical)))
    check_same_tags(used)
    return sources


_EMPTY = (np.zeros(0, np.int64), np.zeros(0))  # a metric not read: only its key is listed


def _tracking_uri(where: str) -> tuple[str, str]:
    """The URI MLflow opens for ``where`` (absolute), and the name messages use."""
    path = where.removeprefix("sqlite:///") if is_sqlite_uri(where) else where
    if is_sqlite_uri(where) and path == where:
        raise DataError(f"{where!r}: expected a SQLite URI sqlite:///path/to/mlflow.db")
    if not os.path.exists(path):
        raise DataError(f"{where}: file not found; expected an MLflow store (mlflow.db)")
    if os.path.isdir(path):
        return Path(path).resolve().as_uri(), where
    _check_tables(path, where)
    return f"sqlite:///{Path(path).resolve()}", where


def _check_tables(path: str, label: str) -> None:
    """DataError unless the SQLite file holds MLflow's tables (read-only look)."""
    try:
        with contextlib.closing(
            sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
        ) as db:
            found = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    except sqlite3.Error as exc:
        raise DataError(f"{label}: not a readable SQLite database ({exc})") from None
    if not TABLES <= found:
        raise DataError(
            f"{label}: a SQLite database without MLflow's tables (found {sorted(found)[:8]}); "
            "expected an MLflow tracking store (mlflow.db)"
        )


def _runs(client: Any) -> list[Any]:
    """Every run of every active experiment, oldest first."""
    experiments = [e.experiment_id for e in client.search_experiments()]
    runs, token = [], None
    while experiments:
        page = client.search_runs(experiments, max_results=PAGE, page_token=token)
        runs.extend(page)
        token = page.token
        if not token:
            break
    return sorted(runs, key=lambda r: (r.info.start_time or 0, r.info.run_id))


def _run_names(runs: list[Any]) -> list[str]:
    """Each run's MLflow name (its id if unnamed); a shared name + the id's first 8 chars."""
    names = [r.info.run_name or r.info.run_id for r in runs]
    shared = {n for n in names if names.count(n) > 1}
    return [
        f"{n} ({r.info.run_id[:8]})" if n in shared else n for n, r in zip(names, runs, strict=True)
    ]


def _history(client: Any, run_id: str, key: str) -> tuple[np.ndarray, np.ndarray]:
    """A metric's steps and values in the order written (by timestamp)."""
    metrics = sorted(client.get_metric_history(run_id, key), key=lambda m: m.timestamp)
    steps = np.array([m.step for m in metrics], np.int64)
    values = np.array([m.value for m in metrics], float)
    big = np.abs(values) >= LARGEST
    values[big] = np.copysign(np.inf, values[big])
    return steps, values


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """MLflow's and Alembic's INFO lines off stderr while reading (the CLI's errors stay
    one line)."""
    loggers = [logging.getLogger(name) for name in ("mlflow", "alembic")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            # MLflow's own deprecations, and SQLAlchemy's about MLflow's queries: not ours
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


@contextlib.contextmanager
def _file_store_allowed() -> Iterator[None]:
    """``MLFLOW_ALLOW_FILE_STORE=true`` while reading (MLflow 3 refuses mlruns without it)."""
    before = os.environ.get("MLFLOW_ALLOW_FILE_STORE")
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        yield
    finally:
        if before is None:
            del os.environ["MLFLOW_ALLOW_FILE_STORE"]
        else:
            os.environ["MLFLOW_ALLOW_FILE_STORE"] = before
