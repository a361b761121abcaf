"""The LR at every step of every run, when it comes from the runs table's ``lr`` column.

A loss-curve law needs each run's whole LR history.  :func:`scaling_fit.fit` takes it from
``schedules=`` when given (it wins over an ``lr`` column); otherwise from the table's ``lr``
column (:func:`lr_source`):

* **logged every step** — a run whose rows cover every step ``0..last``: the logged values
  are the LR array as they are (``lr[t]`` is the LR of the row at step ``t``).
* **logged sparsely** — the LR between logged steps is interpolated (a
  :class:`~scaling_fit.errors.ScalingFitWarning` says so, with the spacing):

  - by the monotone piecewise-cubic Hermite interpolant (PCHIP; Fritsch & Carlson 1980):
    it never overshoots, keeps flat stretches flat, is exact inside linear stretches (it
    rounds their ends, where the slope jumps) and, unlike straight lines, has no kink at
    every logged step.  Kinks would make the curve laws' quadrature
    (:mod:`scaling_fit.schedules.history`) split its panels: on the MultiPowerLaw cosine runs,
    straight lines give 5.4x the pairs and a ~6x slower multi-power fit, and are 20-200x
    further from the true S₁;
  - an LR that changes between two logged steps and is constant over the logged intervals
    on both sides is a *stage switch* (a multi-stage schedule): it steps at the later logged
    step ``b`` (``lr[a:b]`` old value, ``lr[b:]`` new), as
    :func:`scaling_fit.schedules.multistage` does, rather than ramping over the gap.

Warm-up (``warmup=`` is the run's warm-up length in steps, as in a schedule spec)
  The warm-up of a run is ``warmup=w`` (or ``{run: w}``) when declared, else **detected**
  from the log: the logged LR's initial strictly rising part ends at the peak, at logged
  step p, so the warm-up is p steps (a log from step 0 that does not rise: none).  The
  rebuilt per-step LR rises exactly over the warm-up, and a curve fit leaves out the points
  logged during that rise (step <= its length; :mod:`scaling_fit.fitting.curve_points`),
  recorded per run in ``FitResult.options["warmup"]`` and ``["lr_source"]``.  A log of
  every step is used as is (its warm-up is its rising part; a declaration is not needed).

  LR before the first logged step f (W&B logs the LR from step 10, the MultiPowerLaw CSVs
  from the end of the warm-up):

  - a log that is still rising at f (the warm-up is visible): the line through the first
    two logged LRs, extended back to step 0 and clipped at 0 (a linear warm-up from 0, or
    from the logged fraction of the peak, is rebuilt exactly);
  - a log that starts flat at f after a declared warm-up ``w <= f``: the convention of
    :mod:`scaling_fit.schedules`, ``lr[:w] = linspace(0, η_first, w)``, η_first held from
    step ``w - 1`` to f (``warmup=0``: the LR before f is η_first);
  - a log that starts flat after step 1 with no declaration: the warm-up is unknown and the
    fit asks for ``warmup=`` (a declared warm-up longer than f contradicts a flat log and
    is refused too).  One that starts flat at step 1 (the first update, where W&B and
    Hugging Face start counting) has no warm-up: its LR at step 0 is the first logged one.

  A log of every step from a first step f > 0 is completed the same way, without the
  warning about interpolation (there is nothing between its logged steps to interpolate).

For the MultiPowerLaw CSVs (logged every 128 steps from step 2160 or 2176, warm-up 2160
steps to 3e-4) ``warmup=2160`` rebuilds the warm-up, constant and two-stage schedules exactly
and the cosine ones within 2e-9 (S₁ within 1.3e-7); only the WSD decays, where the log has a
gap at the decay start, differ by up to 8e-6 in LR.  ``FitResult.options["lr_source"]``
records, per run, where its LR and warm-up came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy.interpolate import PchipInterpolator

from ..errors import DataError, argument
from .columns import MAX_STEPS

Array = np.ndarray
EXACT = "logged every step"
FROM_SCHEDULES = "schedules="


def lr_source(
    table: pd.DataFrame, schedules: Any, warmup: int | Mapping[str, int] | None
) -> tuple[Any, dict[str, Any], list[str]]:
    """Where a curve fit takes each run's LR from: schedules to use, provenance, warnings.

    Parameters
    ----------
    table
        The runs table (``run``, ``step``, ``loss`` and maybe ``lr``), before any exclusion.
    schedules
        ``schedules=`` of :func:`scaling_fit.fit` (wins over the ``lr`` column when given).
    warmup
        Declared warm-up steps of sparsely logged runs: one int for all, or run → int.

    Returns
    -------
    schedules, options, messages
        What to pass on as ``schedules=`` (a mapping run → LR array when the column is used),
        ``{"lr_source": ...}`` for ``FitResult.options`` and warnings to emit.
    """
    has_lr = "lr" in table.columns
    if schedules is not None:
        if warmup is not None:
            raise DataError(
                f"{argument('warmup')} declares the warm-up of an LR interpolated from a sparse "
                f"'lr' column; with {argument('schedules')} the warm-up is in each schedule "
                "spec (e.g. 'cosine:...,warmup=2160'). Drop warmup= or put the warm-up in "
                "the schedules"
            )
        note = " (the table's 'lr' column was ignored: schedules= wins)" if has_lr else ""
        return schedules, {"lr_source": FROM_SCHEDULES + note}, []
    if not has_lr:
        return None, {}, []  # curves.schedules_by_run explains what to pass
    lrs, sources, sparse = {}, {}, {}
    for run, rows in table.groupby("run", sort=False):
        steps, lr = _logged(rows, run)
        declared = _declared_warmup(warmup, run)
        if _every_step(steps):
            lrs[run], how = lr, "its rising part"
            sources[run] = f"{EXACT}; warm-up {rising_prefix(lr)} steps ({how})"
            continue
        w = _sparse_warmup(steps, lr, declared, run)
        lrs[run] = interpolated_lr(steps, lr, w)
        how = "declared" if declared is not None else "detected from the rising logged LR"
        logged = f"every-{_spacing(steps)}-step log"
        if np.all(np.diff(steps) == 1):  # every step from a later first step: nothing to blur
            logged = f"every-step log from step {steps[0]}"
        else:
            sparse[run] = steps
        sources[run] = (
            f"interpolated from {logged}; warm-up {rising_prefix(lrs[run])} steps ({how})"
        )
    return lrs, {"lr_source": sources}, _sparse_messages(sparse)


def rising_prefix(lr: Array) -> int:
    """Length of the initial strictly rising part of an LR array (its warm-up), 0 if none."""
    lr = np.asarray(lr, dtype=float)
    if lr.size < 2 or lr[1] <= lr[0]:
        return 0
    falls = np.flatnonzero(lr[1:] <= lr[:-1])
    return int(falls[0] + 1) if falls.size else int(lr.size)


def interpolated_lr(steps: Array, lr: Array, warmup: int) -> Array:
    """Per-step LR ``0..steps[-1]`` from a sparse log (steps sorted, unique, whole).

    PCHIP between logged steps, stage switches as steps.  Before the first logged step f:
    for ``warmup > f`` (the log starts inside the warm-up) the line through the first two
    logged LRs extended back to step 0, clipped to [0, η_first]; else
    ``lr[:warmup] = linspace(0, η_first, warmup)`` as :mod:`scaling_fit.schedules` builds a
    warm-up, and η_first from ``warmup`` to f.
    """
    grid = np.arange(int(steps[-1]) + 1)
    first = int(steps[0])
    if steps.size < 2:
        out = np.full(grid.size, lr[0], dtype=float)
    else:
        out = np.clip(PchipInterpolator(steps, lr)(grid), 0.0, None)
        out[grid < first] = lr[0]
    for i in stage_switches(lr):
        out[steps[i] : steps[i + 1]] = lr[i]
    if warmup > first and steps.size >= 2:
        slope = (lr[1] - lr[0]) / (steps[1] - steps[0])
        out[:first] = np.clip(lr[0] + slope * (grid[:first] - first), 0.0, lr[0])
    else:
        out[:warmup] = np.linspace(0.0, lr[0], warmup)
    return out


def stage_switches(lr: Array) -> Array:
    """Indices i of logged LRs where ``lr[i] != lr[i+1]`` and the LR is flat on both sides.

    Flat means equal to 1e-9 relative on the logged interval before (``lr[i-1] == lr[i]``)
    and after (``lr[i+1] == lr[i+2]``).
    """
    lr = np.asarray(lr, dtype=float)
    if lr.size < 4:
        return np.zeros(0, dtype=np.int64)
    flat = np.isclose(lr[1:], lr[:-1], rtol=1e-9, atol=0.0)
    i = np.arange(1, lr.size - 2)
    return i[~flat[i] & flat[i - 1] & flat[i + 1]]


def _logged(rows: pd.DataFrame, run: object) -> tuple[Array, Array]:
    """A run's logged (step, lr), sorted by step, checked whole, unique and finite."""
    if "step" not in rows.columns:
        raise DataError(
            "a loss-curve law needs a 'step' column (the optimizer steps of each row); found "
            f"columns {list(rows.columns)}. Map it with columns={{'step': '<your column>'}}"
        )
    rows = rows.sort_values("step", kind="stable")
    steps, lr = rows["step"].to_numpy(float), rows["lr"].to_numpy(float)
    bad = ~np.isfinite(lr) | (lr < 0)
    if bad.any():
        raise DataError(
            f"run {run!r}: column 'lr' is {lr[bad][0]} at step {steps[bad][0]:g}; expected "
            f"the LR (>= 0) at every logged step. Fill it in, or pass {argument('schedules')} "
            "instead"
        )
    whole = (steps == np.round(steps)) & (steps >= 0)
    if not whole.all():
        raise DataError(
            f"run {run!r}: step {steps[~whole][0]:g} is not a whole step >= 0; the LR column "
            "is indexed by optimizer step (a row at step t has the LR after t steps)"
        )
    if steps[-1] > MAX_STEPS:
        raise DataError(
            f"run {run!r}: step {steps[-1]:,.0f} is logged, beyond the {MAX_STEPS:,} steps a "
            "schedule may have; expected optimizer steps (not tokens or samples) in the step "
            "column"
        )
    if not (lr > 0).any():
        raise DataError(
            f"run {run!r}: column 'lr' is 0 at every logged step; expected the learning rate "
            "of each step (a run that trained has some LR > 0). Map the right column with "
            "columns={'lr': '<your column>'}, or drop the lr column and pass "
            f"{argument('schedules')}"
        )
    repeated = steps[1:][np.diff(steps) == 0]
    if repeated.size:
        raise DataError(
            f"run {run!r}: step {repeated[0]:g} is logged twice; expected one row per step. "
            "Give each curve its own run name"
        )
    return steps.astype(np.int64), lr


def _every_step(steps: Array) -> bool:
    return steps[0] == 0 and steps[-1] == steps.size - 1


def _declared_warmup(warmup: int | Mapping[str, int] | None, run: object) -> int | None:
    """The warm-up declared for a run (None: not declared), checked to be whole and >= 0."""
    value = warmup.get(run) if isinstance(warmup, Mapping) else warmup
    if value is None:
        return None
    try:
        w = int(value) if float(value).is_integer() else -1
    except (TypeError, ValueError):
        w = -1
    if w < 0:
        raise DataError(
            f"run {run!r}: {argument('warmup', value)} is not a whole number of steps >= 0; "
            "expected the run's warm-up length in steps (linear from LR 0; 0: none)"
        )
    return w


def _sparse_warmup(steps: Array, lr: Array, declared: int | None, run: object) -> int:
    """Warm-up of a sparsely logged run: declared, or detected from its rising logged LR."""
    first = int(steps[0])
    rising = rising_prefix(lr)
    if declared is not None:
        if declared > first and rising < 2:
            raise DataError(
                f"run {run!r}: {argument('warmup', declared)} says the LR rises until step "
                f"{declared}, but "
                f"its logged LR does not rise after its first logged step {first}; expected "
                f"a warm-up in 0..{first} (it ended before the log starts) or a log that "
                "shows it. Declare the run's warm-up length in steps"
            )
        return declared
    if rising >= 2:
        return int(steps[rising - 1])
    if first <= 1:  # from step 0 or 1 (the first update) and flat: no warm-up to rebuild
        return 0
    raise DataError(
        f"a loss-curve law needs the LR at every step, and run {run!r} logs 'lr' from step "
        f"{first} on, already flat: its warm-up is unknown. Declare it with "
        f"{argument('warmup')}: the run's warm-up length N in steps (N <= {first}: linear "
        "from LR 0 to the first logged LR; 0: none; in Python also a dict run -> N), or pass "
        f"{argument('schedules')} with each run's exact schedule"
    )


def _spacing(steps: Array) -> int:
    return int(np.median(np.diff(steps))) if steps.size > 1 else int(steps[0])


def _sparse_messages(sparse: dict[Any, Array]) -> list[str]:
    if not sparse:
        return []
    gaps = np.concatenate([np.diff(s) for s in sparse.values()])
    spread = f" (gaps {gaps.min()}-{gaps.max()})" if gaps.size and np.ptp(gaps) else ""
    runs = ", ".join(f"{r!r} every {_spacing(s)} steps" for r, s in sparse.items())
    return [
        f"the 'lr' column is logged sparsely, not at every step: {runs}{spread}. Their LR is "
        "interpolated between logged steps (monotone cubic; a switch between two flat "
        "stretches as a step at the later logged step; the warm-up before the first), "
        f"which blurs LR changes between logged steps; pass {argument('schedules')} for the "
        "exact LR"
    ]


# Piecewise-linear knots kept per run (FitResult.options["lr_history"]): the LR between
# knots is within LR_KNOT_TOLERANCE x its peak of the array the fit used (a cosine needs
# ~800 knots whatever its length; the loss it predicts moves by ~1e-6 relative).  An LR
# that needs more than MAX_LR_KNOTS (a log rounded to few digits: every rounding step a
# knot) is kept to a coarser tolerance, doubled until it fits.
LR_KNOT_TOLERANCE = 1e-6
MAX_LR_KNOTS = 2000


def lr_knots(lr: Array) -> dict[str, Any]:
    """Knots ``{"step": [...], "lr": [...], "tolerance": t}`` of a per-step LR array.

    ``np.interp(np.arange(len(lr)), step, lr)`` (:func:`lr_from_knots`) rebuilds the array
    to within ``t`` times its largest value (``t`` = :data:`LR_KNOT_TOLERANCE` unless more
    than :data:`MAX_LR_KNOTS` knots were needed); the first and last steps are knots.
    Douglas-Peucker simplification (Douglas & Peucker 1973) with an absolute tolerance.
    """
    lr = np.asarray(lr, dtype=float)
    scale = float(np.max(np.abs(lr), initial=0.0)) or 1.0
    tolerance = LR_KNOT_TOLERANCE
    knots = _simplify(lr, tolerance * scale, MAX_LR_KNOTS)
    while knots is None:
        tolerance *= 2
        knots = _simplify(lr, tolerance * scale, MAX_LR_KNOTS)
    return {"step": knots.tolist(), "lr": lr[knots].tolist(), "tolerance": tolerance}


def lr_from_knots(knots: Mapping[str, Any]) -> Array:
    """The per-step LR array that :func:`lr_knots` stored (``0..last knot``).

    Raises
    ------
    DataError
        If the knots are not increasing whole steps from 0 with one finite LR >= 0 each.
    """
    try:
        steps = np.asarray(knots["step"], dtype=float)
        lr = np.asarray(knots["lr"], dtype=float)
    except (KeyError, TypeError, ValueError):
        steps = lr = np.zeros(0)
    ok = (
        steps.ndim == 1
        and steps.size >= 1
        and lr.shape == steps.shape
        and steps[0] == 0
        and bool(np.all(np.diff(steps) > 0))
        and bool(np.all(steps == np.round(steps)))
        and steps[-1] < MAX_STEPS
        and bool(np.all(np.isfinite(lr) & (lr >= 0)))
    )
    if not ok:
        raise DataError(
            "a fit's options['lr_history'] entry is not the knots of an LR (increasing whole "
            "steps from 0, one finite LR >= 0 each); the fit file was edited or damaged: "
            "refit to rebuild it"
        )
    return np.interp(np.arange(int(steps[-1]) + 1), steps, lr)


def _simplify(values: Array, tolerance: float, most: int) -> Array | None:
    """Indices of the Douglas-Peucker knots of ``values`` (sorted; first and last kept), or
    None once more than ``most`` are needed."""
    last = values.size - 1
    if last <= 0:
        return np.zeros(1, dtype=np.int64)
    keep = np.zeros(values.size, dtype=bool)
    keep[[0, last]] = True
    stack = [(0, last)]
    while stack:
        a, b = stack.pop()
        if b - a < 2:
            continue
        t = np.arange(a + 1, b)
        line = values[a] + (values[b] - values[a]) * (t - a) / (b - a)
        errors = np.abs(values[a + 1 : b] - line)
        worst = int(np.argmax(errors))
        if errors[worst] > tolerance:
            k = a + 1 + worst
            keep[k] = True
            most -= 1
            if most < 2:
                return None
            stack += [(a, k), (k, b)]
    return np.flatnonzero(keep)
