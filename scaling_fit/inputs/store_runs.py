"""One run of a log store (TensorBoard event files, an MLflow tracking store) → a plain table.

The store readers (:mod:`.tensorboard_events`, :mod:`.mlflow_store`) hand over each run as
its scalar series (tag → steps and values, in the order they were written) and its run-level
values (MLflow params, TensorBoard hparams).  :func:`run_table` keeps the series and values
that :func:`~scaling_fit.load_runs` will read as canonical columns (by the same aliases and
``columns=`` mapping as a CSV's header: ``--col loss=eval/loss``) and joins the series on
``step``, as :func:`.formats.join_tensorboard` joins TensorBoard's CSV exports: rows are the
union of the logged steps, a tag not logged at a step is empty there (nothing is
interpolated; the loader then refuses or, with ``nan_policy='omit'``, drops and counts such
rows).  A step written twice (a run restarted from a checkpoint logs the steps after it
again) keeps the later write, and the run's note says how many; an infinite value (a run
that diverged) is read as missing, as NaN is.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, MissingExtraError
from .columns import NUMERIC

# canonical name of a tag, key or param (aliases and columns= applied); None: not one
Canonical = Callable[[str], str | None]
Series = tuple[np.ndarray, np.ndarray]  # steps (int64), values (float64), in write order
SHOWN_TAGS = 20  # tags listed in a message; more are counted


def require(module: str, extra: str, what: str) -> ModuleType:
    """Import ``module`` (a package an extra installs), or one line naming the install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(
            f"reading {what} needs the optional package {module.split('.')[0]!r}: "
            f'pip install "scaling_fit[{extra}]"'
        ) from None


def wanted(name: str, canonical: Canonical) -> str | None:
    """The numeric canonical column a tag or param fills (not ``step``: a store's own), or
    None for the ones the loader would not read."""
    column = canonical(name)
    return column if column in NUMERIC and column != "step" else None


def tag_list(tags: Sequence[str]) -> str:
    """``['a', 'b', …] (N more)``, or ``none`` for no tags."""
    tags = sorted(tags)
    if not tags:
        return "none"
    more = f" ({len(tags) - SHOWN_TAGS} more)" if len(tags) > SHOWN_TAGS else ""
    return f"{tags[:SHOWN_TAGS]}{more}"


def run_table(
    run: str,
    name: str,
    series: Mapping[str, Series],
    values: Mapping[str, Any],
    columns: Mapping[str, str],
    canonical: Canonical,
) -> tuple[pd.DataFrame, int]:
    """One run → ``run, step, <tag>…, <value>…`` rows labelled ``"step S"``, and how many
    steps it wrote more than once (the later write kept).

    Only the tags and run-level values the loader reads as canonical columns are kept; a
    run-level value whose column a tag already fills is left out (the per-step series wins).

    Raises
    ------
    DataError
        If ``columns`` names a tag the run lacks, or no tag reads as the loss; both list
        the tags the run has.
    """
    _check_mapped(name, series, values, columns)
    tags = {tag: column for tag in series if (column := wanted(tag, canonical))}
    if "loss" not in tags.values():
        raise DataError(
            f"{name}: no scalar reads as the loss; expected a tag named 'loss' or an alias "
            f"('eval/loss', 'train/loss', 'val_loss', …); its tags: {tag_list(list(series))}. "
            "Name yours with columns={'loss': '<tag>'} (CLI: --col loss=<tag>)"
        )
    joined, repeated = _join_on_step({tag: series[tag] for tag in tags})
    filled = set(tags.values())
    for key, value in values.items():
        column = wanted(key, canonical)
        if column and column not in filled and key not in joined.columns:
            joined[key] = value
    joined.insert(0, "step", joined.index.to_numpy())
    joined.insert(0, "run", run)
    joined.index = pd.Index([f"step {s}" for s in joined["step"]])
    return joined, repeated


def _check_mapped(
    name: str, series: Mapping[str, Series], values: Mapping[str, Any], columns: Mapping[str, str]
) -> None:
    """DataError for a ``columns=`` tag (of a numeric canonical column) the run lacks."""
    absent = {
        canonical: tag
        for canonical, tag in columns.items()
        if canonical in NUMERIC and canonical != "step" and tag not in series and tag not in values
    }
    if absent:
        params = f"; its run-level values: {tag_list(list(values))}" if values else ""
        raise DataError(
            f"{name}: columns={absent} but the run has no such tag; its tags: "
            f"{tag_list(list(series))}{params}"
        )


def _join_on_step(series: Mapping[str, Series]) -> tuple[pd.DataFrame, int]:
    """Tags joined on step (the union of their steps, in order), the later write of a
    repeated step kept; and the number of distinct steps some tag wrote more than once."""
    columns, repeated = {}, set()
    for tag, (steps, values) in series.items():
        again = pd.Index(steps).duplicated(keep="last")
        if again.any():
            repeated.update(steps[again].tolist())
        values = np.where(np.isinf(values), np.nan, values)  # a diverged run: missing
        columns[tag] = pd.Series(values[~again], index=steps[~again])
    joined = pd.concat(columns, axis=1).sort_index()
    joined.index = joined.index.astype(np.int64)
    return joined, len(repeated)


def columns_used(tags: Iterable[str], canonical: Canonical) -> dict[str, list[str]]:
    """Canonical column → the tags read as it (for :func:`check_same_tags`)."""
    used: dict[str, list[str]] = {}
    for tag in tags:
        if column := wanted(tag, canonical):
            used.setdefault(column, []).append(tag)
    return used


def check_same_tags(runs: Sequence[tuple[str, Mapping[str, Sequence[str]]]]) -> None:
    """DataError when two runs read a canonical column from different tags (one logged
    ``eval/loss``, another only ``train/loss``): mixing them would fit apples to pears.

    ``runs`` holds, per run, its name and canonical column → the tags read as it.
    """
    first_name, first = runs[0]
    for name, used in runs[1:]:
        for column in sorted(set(first) | set(used)):
            mine, theirs = sorted(used.get(column, [])), sorted(first.get(column, []))
            if mine != theirs and mine and theirs:
                tag = theirs[0]
                raise DataError(
                    f"{name} reads {column} from tag(s) {mine} but {first_name} from {theirs}; "
                    "expected the same tag in every run: name it with "
                    f"columns={{{column!r}: {tag!r}}} (CLI: --col {column}={tag})"
                )
