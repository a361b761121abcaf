"""What fit() fits: the points, the law's inputs at them and their provenance.

The law's kind is decided here, once: a final-loss law (``law.fits_curves`` false) fits one
point per run (or every point, ``points="all"``) and reads its inputs from the table's
columns; a loss-curve law fits every logged point after warm-up and computes its inputs
from each run's LR history (:mod:`scaling_fit.fitting.curve_points`).  :func:`fit` then
reads straight through without asking which kind it has.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, argument
from ..inputs.points import as_table, select_points
from ..laws.base import Law


@dataclass(frozen=True)
class FitData:
    """The points of one fit.

    Attributes
    ----------
    table
        The fitted points: ``run``, the law's columns, ``loss`` (``attrs["excluded"]``
        counts the points ``exclude`` left out).
    inputs
        The law's inputs at the points, in ``law.inputs`` order (curve laws: its features).
    points, note
        The ``points`` choice in effect and a sentence saying which points were used.
    options
        Provenance the law's kind adds to ``FitResult.options`` (curve laws: schedules,
        warm-up, LR source).
    notes
        Warnings about the points (curve laws: LR interpolated, too few curves to bootstrap).
    """

    table: pd.DataFrame
    inputs: tuple[np.ndarray, ...]
    points: str
    note: str
    options: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def prepare_points(
    law: Law,
    runs: Any,
    *,
    schedules: Any = None,
    warmup: int | Mapping[str, int] | None = None,
    points: str | None = None,
    exclude: Any = None,
    bootstrap: int = 0,
) -> FitData:
    """The points ``law`` fits from ``runs``, as :func:`scaling_fit.fit` documents them."""
    points = points or law.default_points
    if law.fits_curves:
        return _curve_data(law, runs, schedules, warmup, points, exclude, bootstrap)
    if schedules is not None or warmup is not None:
        what = argument("schedules" if schedules is not None else "warmup")
        raise DataError(
            f"{what} is for loss-curve laws (multipower, lr_annealing); law {law.name!r} takes "
            f"{list(law.inputs)} and does not use it"
        )
    table, note = select_points(
        runs, law.inputs, law_name=law.name, exclude=exclude, points=points, output=law.output
    )
    inputs = tuple(table[c].to_numpy(float) for c in law.inputs)
    return FitData(table, inputs, points, note)


def _curve_data(
    law: Law, runs: Any, schedules: Any, warmup: Any, points: str, exclude: Any, bootstrap: int
) -> FitData:
    """Every logged point after warm-up, with the law's features from each run's LR history.

    The LR-column and schedule machinery (SciPy's interpolation among it) is imported here,
    so a final-loss fit never loads it.
    """
    from ..inputs.lr_column import lr_source
    from .curve_points import bootstrap_note, curve_inputs

    runs = as_table(runs)
    schedules, lr_options, lr_notes = lr_source(runs, schedules, warmup)
    table, _ = select_points(runs, law.inputs, law_name=law.name, exclude=exclude, points="all")
    table, note, inputs, options = curve_inputs(table, law, schedules, points)
    notes = lr_notes + bootstrap_note(table, bootstrap)
    return FitData(table, inputs, points, note, {**options, **lr_options}, notes)
