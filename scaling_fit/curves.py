"""Loss curves: each run's LR schedule, the points a curve law fits, and curve predictions.

A curve law (:mod:`scaling_fit.laws.multipower`, :mod:`scaling_fit.laws.lr_annealing`)
predicts the loss at every step from the whole LR history, so it needs, besides the
``run, step, loss`` table, the LR at every step of every run.  Here that comes from
``schedules=``: a mapping run → :class:`~scaling_fit.schedules.Schedule`, spec string or
per-step LR array, or one of them for every run (:func:`scaling_fit.schedules.as_schedule`);
:func:`scaling_fit.fit` builds it from the table's ``lr`` column when ``schedules=`` is not
given (:mod:`scaling_fit.curve_data`).

Step convention (as :mod:`scaling_fit.schedules`): a row at ``step`` t is the loss after t
optimizer steps and uses ``lr[t]``; its schedule must have more than t steps.

Warm-up points
--------------
By default a curve fit leaves out every point logged during the warm-up (``step <= warmup``;
warm-up = the schedule's ``warmup`` setting, or for an LR array its initial strictly rising
part) and says so in ``FitResult.options``: the laws describe the loss after warm-up, and the
very early part of training is noisy (laws.md §9.4).  Pass ``points="all"`` to keep them.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from .errors import DataError
from .lr_history import PAD, Pairs, cached_on
from .schedules import Schedule, as_schedule

if TYPE_CHECKING:
    from .laws.base import Law
    from .result import FitResult

Array = np.ndarray
# Curves below which a bootstrap over curves says little (resampling 2-4 curves gives only
# a handful of distinct resamples).
MIN_BOOTSTRAP_CURVES = 5
# Points whose features are built and evaluated at once when predicting (bounds memory: a
# point holds ~100-250 pairs of 4 floats).
PREDICT_CHUNK = 1024
POINTS = ("after_warmup", "all")


# ---------------------------------------------------------------------- schedules
def schedules_by_run(runs: Any, schedules: Any) -> dict[str, Schedule]:
    """Resolve ``schedules=`` into one :class:`Schedule` per run name.

    Parameters
    ----------
    runs
        Run names (any iterable; duplicates are fine).
    schedules
        A mapping run → Schedule / spec / LR array, or one Schedule / spec for every run.
    """
    names = list(pd.unique(np.asarray(runs, dtype=object)))
    if schedules is None:
        raise DataError(
            "a loss-curve law needs the LR at every step of every run: pass schedules= as a "
            "mapping run -> schedule spec / Schedule / LR array, or one spec for all runs, "
            "e.g. schedules='cosine:peak=3e-4,total=24000,warmup=2160,final=3e-5', or give "
            "the runs table an 'lr' column"
        )
    if isinstance(schedules, Mapping):
        missing = [n for n in names if n not in schedules]
        if missing:
            raise DataError(
                f"schedules= has no schedule for runs {missing}; it has {sorted(schedules)}. "
                "Add them (keys are the values of the 'run' column)"
            )
        return {n: as_schedule(schedules[n]) for n in names}
    if isinstance(schedules, Schedule | str):
        sched = as_schedule(schedules)
        return dict.fromkeys(names, sched)
    raise DataError(
        f"schedules= must be a mapping run -> schedule, a Schedule or a spec string; found "
        f"{type(schedules).__name__}. For one LR array per run use {{run: array}}"
    )


def warmup_of(schedule: Schedule) -> int:
    """Warm-up steps: the schedule's setting, or the initial rising part of a custom array."""
    return int(schedule.warmup) if schedule.spec else rising_prefix(schedule.lr)


def rising_prefix(lr: Array) -> int:
    """Length of the initial strictly rising part of an LR array (its warm-up), 0 if none."""
    lr = np.asarray(lr, dtype=float)
    if lr.size < 2 or lr[1] <= lr[0]:
        return 0
    falls = np.flatnonzero(lr[1:] <= lr[:-1])
    return int(falls[0] + 1) if falls.size else int(lr.size)


def as_steps(steps: Array, n_steps: int, run: object = "") -> Array:
    """Integer LR indices of logged steps, checked to lie inside a schedule of n_steps."""
    values = np.asarray(steps, dtype=float)
    index = np.round(values).astype(np.int64)
    bad = (values != index) | (index < 0) | (index >= n_steps)
    if bad.any():
        raise DataError(
            f"run {run!r}: step {values[bad][0]:g} has no LR in its schedule of {n_steps} "
            f"steps; expected whole steps 0..{n_steps - 1} (a row at step t uses lr[t], the "
            "LR after t steps). Fix: give the run a schedule with total > its last step"
        )
    return index


# ---------------------------------------------------------------------- features
def stack(pairs: list[Pairs]) -> Pairs:
    """Concatenate pairs of several curves along the point axis, padding to one width."""
    if len(pairs) == 1:
        return pairs[0]
    width = max(p.width for p in pairs)
    fields = {}
    for name, fill in PAD.items():
        if getattr(pairs[0], name) is None:
            continue
        blocks = [
            np.pad(getattr(p, name), ((0, 0), (0, width - p.width)), constant_values=fill)
            for p in pairs
        ]
        fields[name] = np.concatenate(blocks)
    return Pairs(**fields)


class Packed:
    """The non-padding pairs of per-point pair arrays, flattened, for fast repeated sums.

    A fitter evaluates a law's formula thousands of times on the same arrays; packing once
    (cached on the identity of the ``weight`` array) skips the padding, often half of them.
    """

    _cache: ClassVar[dict[int, tuple[weakref.ref, Packed]]] = {}

    def __init__(self, weight: Array, *others: Array) -> None:
        weight = np.asarray(weight, dtype=float)
        mask = weight != 0
        counts = mask.sum(axis=-1)
        self.shape = weight.shape[:-1]
        self.weight = weight[mask]
        self.others = tuple(np.asarray(o, dtype=float)[mask] for o in others)
        self.rows = np.flatnonzero(counts)  # points with at least one pair
        self.starts = (np.cumsum(counts) - counts)[self.rows]

    @classmethod
    def of(cls, weight: Array, *others: Array) -> Packed:
        """The packed form of these arrays, built once per ``weight`` array object."""
        return cached_on(cls._cache, weight, lambda: cls(weight, *others))

    def row_sums(self, terms: Array) -> Array:
        """Per-point sums of ``terms`` (shape ``(..., n_pairs)``) → ``(..., n_points)``."""
        out = np.zeros((*terms.shape[:-1], *self.shape))
        if self.rows.size:
            out[..., self.rows] = np.add.reduceat(terms, self.starts, axis=-1)
        return out


def per_run(
    points: pd.DataFrame,
    lr_by_run: Mapping[str, Array],
    build: Callable[[Array, Array], tuple[Array | Pairs, ...]],
) -> tuple[Array, ...]:
    """A curve law's features for a points table, built run by run, in row order.

    ``build(lr, index)`` gets one run's LR array and its rows' LR indices (checked) and
    returns per-point arrays or :class:`~scaling_fit.lr_history.Pairs`; pairs of all runs
    are padded to one width and expanded in place into their four arrays.
    """
    runs = points["run"].to_numpy()
    blocks = []
    for run in pd.unique(runs):
        rows = np.flatnonzero(runs == run)
        lr = np.asarray(lr_by_run[run], dtype=float)
        index = as_steps(points["step"].to_numpy()[rows], lr.size, run)
        blocks.append((rows, build(lr, index)))
    if not blocks:
        raise DataError("no points to build curve features from")
    order = np.argsort(np.concatenate([rows for rows, _ in blocks]), kind="stable")
    if np.array_equal(order, np.arange(order.size)):  # runs are contiguous: no reordering
        order = slice(None)
    out: list[Array | None] = []
    for i in range(len(blocks[0][1])):
        column = [parts[i] for _, parts in blocks]
        if isinstance(column[0], Pairs):
            out += [None if a is None else a[order] for a in stack(column).as_tuple()]
        else:
            out.append(np.concatenate(column)[order])
    return tuple(out)


def curve_inputs(
    table: pd.DataFrame, law: Law, schedules: Any, points: str
) -> tuple[pd.DataFrame, str, tuple[Array, ...], dict[str, Any]]:
    """The fitted points, a note on them, the law's inputs and provenance for ``fit()``.

    ``points="after_warmup"`` (default) drops rows with ``step <= warmup`` of their run.
    """
    if points not in POINTS:
        raise DataError(
            f"points={points!r} is not supported by the loss-curve law {law.name!r}: "
            f"expected one of {', '.join(POINTS)} (curve laws fit every logged point)"
        )
    scheds = schedules_by_run(table["run"], schedules)
    warmup = {run: warmup_of(s) for run, s in scheds.items()}
    dropped = 0
    note = "every logged point"
    if points == "after_warmup":
        limit = table["run"].map(warmup).to_numpy()
        early = table["step"].to_numpy(float) <= limit
        dropped = int(early.sum())
        table = table.loc[~early].reset_index(drop=True)
        note = (
            f"every logged point after warm-up (step > warmup); {dropped} warm-up point(s) "
            "left out (points='all' keeps them)"
        )
    if table.empty:
        raise DataError("no points left after leaving out warm-up points (step <= warmup)")
    inputs = law.features(table, {run: s.lr for run, s in scheds.items()})
    options = {
        "schedules": {run: s.spec or f"custom ({s.total} steps)" for run, s in scheds.items()},
        "warmup": warmup,
        "warmup_points_dropped": dropped,
    }
    return table, note, inputs, options


def bootstrap_note(table: pd.DataFrame, bootstrap: int) -> list[str]:
    """A warning when a bootstrap resamples too few curves to mean much."""
    n = table["run"].nunique()
    if bootstrap and n < MIN_BOOTSTRAP_CURVES:
        return [
            f"the bootstrap resamples whole curves and there are only {n} (fewer than "
            f"{MIN_BOOTSTRAP_CURVES}): its intervals are not meaningful; fit more curves"
        ]
    return []


# ---------------------------------------------------------------------- predictions
def predict_runs(result: FitResult, runs: pd.DataFrame, schedules: Any) -> Array:
    """Predicted loss at every row (``run``, ``step``) of ``runs`` under their schedules.

    Parameters
    ----------
    result
        A fitted or :meth:`~scaling_fit.FitResult.from_params` result of a curve law.
    runs
        Table with ``run`` and ``step`` columns (any others are ignored).
    schedules
        As in :func:`scaling_fit.fit`: mapping run → schedule, or one for all runs.

    Returns
    -------
    numpy.ndarray
        One predicted loss per row, in row order.
    """
    law = _curve_law(result)
    table = runs[["run", "step"]].reset_index(drop=True)
    scheds = schedules_by_run(table["run"], schedules)
    lrs = {run: s.lr for run, s in scheds.items()}
    out = np.empty(len(table))
    for start in range(0, len(table), PREDICT_CHUNK):
        chunk = table.iloc[start : start + PREDICT_CHUNK]
        out[start : start + len(chunk)] = law.predict(*law.features(chunk, lrs), **result.params)
    return out


def predict_curve(
    result: FitResult, schedule: Any, steps: Any = None, *, every: int = 1
) -> pd.DataFrame:
    """Predicted loss curve of one schedule: a table of ``step``, ``lr``, ``loss``.

    Parameters
    ----------
    result
        A fitted or published-parameter result of a curve law.
    schedule
        A :class:`~scaling_fit.schedules.Schedule`, spec string or LR array.
    steps
        Steps to predict (0 ≤ t < total; the loss after t steps); default every multiple of
        ``every`` after the warm-up (the steps a fit uses: t > warm-up, see the module
        docstring) and the last step ``total − 1``. The laws do not describe the warm-up;
        pass ``steps`` explicitly to evaluate them there anyway.
    every
        Stride of the default steps.
    """
    sched = as_schedule(schedule)
    if steps is None:
        every = max(int(every), 1)
        first = (warmup_of(sched) // every + 1) * every
        steps = np.unique(np.append(np.arange(first, sched.total, every), sched.total - 1))
    steps = as_steps(np.atleast_1d(steps), sched.total, "curve")
    table = pd.DataFrame({"run": "curve", "step": steps})
    loss = predict_runs(result, table, {"curve": sched})
    return pd.DataFrame({"step": steps, "lr": sched.lr[steps], "loss": loss})


def _curve_law(result: FitResult) -> Law:
    if result.law.features is None:
        raise DataError(
            f"law {result.law.name!r} is not a loss-curve law (it has no schedule features); "
            "use FitResult.predict"
        )
    return result.law


# Parameter sets × points × pairs evaluated at once for a prediction band (~32 MB of floats).
BAND_TERMS = 4_000_000


def curve_band(
    result: FitResult, schedule: Any, steps: Any, samples: Array, level: float = 0.95
) -> tuple[Array, Array]:
    """Bootstrap percentile band of a predicted curve: one (lower, upper) pair per step.

    Every bootstrap parameter set (``samples``, rows in law order) predicts the curve; the
    band at a step is the ``level`` central percentile range of those predictions.  Work is
    chunked over points so that sets × points × pairs stays near :data:`BAND_TERMS`.
    """
    law = _curve_law(result)
    sched = as_schedule(schedule)
    steps = as_steps(np.atleast_1d(steps), sched.total, "curve")
    table = pd.DataFrame({"run": "curve", "step": steps})
    stacks = {n: samples[:, i, None] for i, n in enumerate(result.params)}
    chunk = max(1, BAND_TERMS // (len(samples) * 256))  # ≤ ~250 pairs per point
    lo, hi = np.empty(len(steps)), np.empty(len(steps))
    tail = 50.0 * (1.0 - level)
    for start in range(0, len(steps), chunk):
        part = table.iloc[start : start + chunk]
        draws = law.predict(*law.features(part, {"curve": sched.lr}), **stacks)
        lo[start : start + len(part)], hi[start : start + len(part)] = np.nanpercentile(
            draws, [tail, 100.0 - tail], axis=0
        )
    return lo, hi
