"""Choose an LR schedule before training: search a family's settings with a fitted curve law.

:func:`best_schedule` builds every schedule of a grid over one family's free settings (same
length, peak LR and warm-up), predicts each one's loss at its last step with a fitted
loss-curve law (:mod:`scaling_fit.laws.multipower`, :mod:`scaling_fit.laws.lr_annealing`),
keeps the lowest, and compares it with a baseline schedule (cosine to peak/10 by default).
Only the last step of each candidate is predicted during the search; the full curves
(every ``every`` steps) are predicted for the winner and the baseline only.

Free settings per family (fractions, so one grid fits any length and peak):

* ``wsd``: ``decay`` (cool-down length as a fraction of the total), ``shape`` (linear, exp,
  sqrt, cosine) and ``final`` (final LR as a fraction of the peak);
* ``cosine`` and ``linear``: ``final``;
* ``multistage`` (two stages): ``switch`` (fraction of the total after which the LR drops)
  and ``lr`` (the second stage's LR as a fraction of the peak).

A law's choice is only as good as its extrapolation.  The annealing-area law of Tissue et al.
(2024, arXiv:2408.11029) rewards long low-LR tails and appended zero-LR steps (its annealing
area keeps growing), so its choices lean to final LRs near zero: a warning says so.
A winner on the edge of the grid (where the grid could be widened) is also warned about.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import schedules
from ..arguments import checked
from ..errors import DataError, FitError, ScalingFitWarning, argument
from ..fitting.identifiability import correlated_pairs, runaway_parameters
from ..progress import progress_bar
from ..results.curves import predict_curve, predict_runs
from ..results.fit_result import FitResult
from ..results.length_band import length_band
from ..results.schedule_choice import ScheduleChoiceResult
from ..schedules import Schedule, ScheduleLike, as_schedule
from .forecast_prior import prior_schedules

# Default grids of the free settings (fractions of the total steps or of the peak LR).
GRIDS: dict[str, dict[str, tuple]] = {
    "wsd": {
        "decay": tuple(np.round(np.arange(0.05, 0.951, 0.05), 2)),
        "shape": schedules.WSD_SHAPES,
        "final": (0.0, 0.01, 0.1),
    },
    "cosine": {"final": (0.0, 0.01, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5)},
    "linear": {"final": (0.0, 0.01, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5)},
    "multistage": {
        "switch": tuple(np.round(np.arange(0.3, 0.951, 0.05), 2)),
        "lr": (0.01, 0.03, 0.1, 0.2, 0.3, 0.5),
    },
}
BASELINES = ("cosine", "linear", "constant")
PEAK_REACH = 2.0  # a peak LR beyond x/÷2 of the fit's training peaks is warned about
BASELINE_FINAL = 0.1  # final LR of a baseline given by family name, as a fraction of peak
BATCH = 32  # candidate schedules held in memory at once during the search
# Longest schedule searched: time and memory grow with candidates × steps (the default WSD
# grid at 10⁶ steps: ~45 s and ~0.8 GB on one core), so 10⁸ (the longest schedule that can be
# built) would take hours and tens of GB.  2·10⁶ steps is longer than any published run.
MAX_SEARCH_STEPS = 2_000_000


@checked
def best_schedule(
    fit: FitResult,
    total_steps: int,
    family: str = "wsd",
    *,
    peak: float | None = None,
    warmup: int | None = None,
    grid: Mapping[str, Sequence[Any]] | None = None,
    baseline: ScheduleLike = "cosine",
    every: int = 100,
    progress: bool | str = "auto",
) -> ScheduleChoiceResult:
    """The schedule of a family with the lowest predicted final loss under a fitted curve law.

    Parameters
    ----------
    fit
        A fitted (or :meth:`~scaling_fit.FitResult.from_params`) loss-curve law.
    total_steps
        Length of the schedules compared (steps); more than ``warmup``.
    family
        ``"wsd"``, ``"cosine"``, ``"linear"`` or ``"multistage"`` (see the module docstring).
    peak, warmup
        Peak LR and linear warm-up steps of every candidate.  Default: the values shared by
        the fit's training schedules (``fit.options["schedules"]``); required otherwise.
    grid
        Values of the family's free settings, replacing the defaults (:data:`GRIDS`) key by
        key, e.g. ``{"decay": [0.1, 0.2, 0.3], "shape": ["linear"]}``.
    baseline
        A family in ``cosine``, ``linear``, ``constant`` (same length, peak and warm-up,
        final LR ``BASELINE_FINAL``·peak), or a Schedule / spec / LR array of
        ``total_steps`` steps.
    every
        Stride of the predicted curves of the winner and the baseline.
    progress
        A bar of the candidates predicted (:mod:`scaling_fit.progress`; default ``"auto"``).

    Returns
    -------
    ScheduleChoiceResult

    Warns
    -----
    ScalingFitWarning
        When the law is the annealing-area law (it rewards low-LR tails), and when the
        winner sits on an edge of the grid that could be widened.

    Raises
    ------
    DataError
        Unknown family or grid key, total_steps ≤ warmup + 1 or > :data:`MAX_SEARCH_STEPS`,
        peak/warmup neither given nor
        recorded in the fit, a baseline of another length, or a non-curve law.
    """
    if family not in GRIDS:
        raise DataError(
            f"best_schedule: {argument('family', family)} is not searchable; expected one "
            f"of {', '.join(GRIDS)}. Fix: pick one, e.g. family='wsd'"
        )
    if not fit.law.fits_curves:
        raise DataError(
            f"best_schedule: law {fit.law.name!r} is not a loss-curve law (it cannot predict "
            "a loss curve from a schedule); fit 'multipower' or 'lr_annealing' to curves"
        )
    _refuse_degenerate(fit)
    peak, warmup = _peak_and_warmup(fit, peak, warmup)
    total = _total(total_steps, warmup)
    axes = _axes(family, grid)
    specs, rows = _candidates(family, axes, peak, total, warmup)
    loss = _final_losses(fit, specs, total, progress)
    table = pd.DataFrame(rows).assign(spec=specs, final_loss=loss)
    table = table[["spec", *axes, "final_loss"]]
    table = table.sort_values("final_loss", kind="stable").reset_index(drop=True)
    if not np.isfinite(table["final_loss"].iloc[0]):
        raise DataError(
            f"best_schedule: the law {fit.law.name!r} predicts no finite final loss for any "
            f"of the {len(table)} candidates; check the fit's parameters"
        )
    best = table.iloc[0]
    _warn_law(fit)
    _warn_edges(best, axes, total, warmup)
    chosen = schedules.from_spec(best["spec"])
    base = _baseline(baseline, peak, total, warmup)
    curve = predict_curve(fit, chosen, every=every)
    band = length_band(fit, chosen, curve)  # longer than the fitted runs: interval, warning
    if band is not None:
        curve["loss_lower"], curve["loss_upper"] = band
    base_curve = predict_curve(fit, base, every=every)
    final, base_final = float(curve["loss"].iloc[-1]), float(base_curve["loss"].iloc[-1])
    return ScheduleChoiceResult(
        schedule=chosen,
        curve=curve,
        final_loss=final,
        baseline=base,
        baseline_curve=base_curve,
        baseline_loss=base_final,
        improvement=base_final - final,
        candidates=table,
        improvement_interval=_improvement_interval(fit, chosen, base),
        law=fit.law.name,
        family=family,
    )


def _refuse_degenerate(fit: FitResult) -> None:
    """Raise for a law whose parameters ran away; warn loudly for inseparable pairs."""
    runaway = runaway_parameters(fit.law, fit.params, list(fit.params))
    if runaway:
        raise FitError(
            f"best_schedule: the fit is degenerate ({', '.join(runaway)} ran away from any "
            "plausible value), so its ranking of schedules is meaningless and its predicted "
            "improvement arbitrary. Refit with more schedules (a cool-down and a cosine), or "
            "fix the parameter (fixed=, --fix NAME=VALUE), then search again"
        )
    pairs = correlated_pairs(list(fit.free), fit.correlation)
    if pairs:
        listed = ", ".join(f"{a}/{b} r = {r:+.5f}" for a, b, r in pairs)
        warnings.warn(
            f"best_schedule: the fit is degenerate (parameters move as one: {listed}); its "
            "predicted improvement may be far off. Refit with bootstrap= and check "
            "improvement_interval, or fit more schedules",
            ScalingFitWarning,
            stacklevel=3,
        )


def _improvement_interval(
    fit: FitResult, chosen: Schedule, base: Schedule, level: float = 0.95
) -> tuple[float, float] | None:
    """Bootstrap percentile interval of baseline − chosen final loss (None: no samples)."""
    if fit.samples is None:
        return None
    table = pd.DataFrame({"run": ["chosen", "base"], "step": [chosen.total, base.total]})
    features = fit.law.features(table, {"chosen": chosen.lr, "base": base.lr})
    stacks = {n: fit.samples[:, i, None] for i, n in enumerate(fit.params)}
    draws = fit.law.predict(*features, **stacks)
    diff = draws[:, 1] - draws[:, 0]
    diff = diff[np.isfinite(diff)]
    if diff.size < 2:
        return None
    tail = 50.0 * (1.0 - level)
    lo, hi = np.percentile(diff, [tail, 100.0 - tail])
    return float(lo), float(hi)


# ---------------------------------------------------------------------- settings
def _peak_and_warmup(fit: FitResult, peak: float | None, warmup: int | None) -> tuple[float, int]:
    """The given peak and warm-up, or those shared by the fit's training schedules."""
    if peak is None or warmup is None:
        recorded = _recorded_settings(fit)
        for key, value in (("peak", peak), ("warmup", warmup)):
            if value is None and len(recorded[key]) != 1:
                found = sorted(recorded[key]) or "none recorded"
                raise DataError(
                    f"best_schedule: {argument(key)} not given and the fit's training "
                    f"schedules do not share one (found {found}); pass it, e.g. peak=3e-4, "
                    "warmup=2160"
                )
        peak = recorded["peak"].pop() if peak is None else peak
        warmup = recorded["warmup"].pop() if warmup is None else warmup
    if not (isinstance(peak, int | float) and math.isfinite(peak) and peak > 0):
        raise DataError(
            f"best_schedule: {argument('peak', peak)}; expected a finite LR > 0, e.g. 3e-4"
        )
    if not (float(warmup).is_integer() and warmup >= 0):
        raise DataError(f"best_schedule: {argument('warmup', warmup)}; expected whole steps >= 0")
    _warn_far_peak(fit, float(peak))
    return float(peak), int(warmup)


def _warn_far_peak(fit: FitResult, peak: float) -> None:
    """Warn when ``peak`` lies beyond ×/÷ PEAK_REACH of every peak LR the fit was trained on."""
    trained = sorted({p for _, p in prior_schedules(fit).values()})
    if trained and not trained[0] / PEAK_REACH <= peak <= trained[-1] * PEAK_REACH:
        warnings.warn(
            f"best_schedule: {argument('peak', peak)} lies beyond {PEAK_REACH:g}x the peak LRs "
            f"the fit was trained on ({', '.join(f'{p:.3g}' for p in trained)}): the law's "
            "shape does not carry over between peak LRs (forecasts with a prior from 4x "
            "another peak were ~10 % off), so these predictions are extrapolation. Fit runs "
            "at this peak LR",
            ScalingFitWarning,
            stacklevel=4,
        )


def _recorded_settings(fit: FitResult) -> dict[str, set]:
    """Peaks and warm-ups of the spec strings in ``fit.options["schedules"]``."""
    found: dict[str, set] = {"peak": set(), "warmup": set()}
    for spec in (fit.options.get("schedules") or {}).values():
        try:
            settings = schedules.from_spec(spec).settings
        except DataError:  # "custom (N steps)": an LR array, no settings recorded
            continue
        found["peak"].add(float(settings["peak"]))
        found["warmup"].add(int(settings["warmup"]))
    return found


def _total(total_steps: Any, warmup: int) -> int:
    try:
        ok = float(total_steps).is_integer() and warmup + 1 < total_steps <= MAX_SEARCH_STEPS
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise DataError(
            f"best_schedule: {argument('total_steps', total_steps)}; expected whole steps in "
            f"warmup + 2 = {warmup + 2} .. {MAX_SEARCH_STEPS:,} (the search predicts every "
            "candidate over every step: longer runs take hours). Fix: a run length in that "
            f"range (or a shorter {argument('warmup')})"
        )
    return int(total_steps)


def _axes(family: str, grid: Mapping[str, Sequence[Any]] | None) -> dict[str, tuple]:
    """The family's grid with the user's axes in place of the defaults."""
    axes = dict(GRIDS[family])
    for key, values in (grid or {}).items():
        if key not in axes:
            raise DataError(
                f"best_schedule: grid key {key!r} is not a setting of family {family!r}; "
                f"expected keys {', '.join(axes)}"
            )
        values = tuple(np.atleast_1d(np.asarray(values, dtype=object)).tolist())
        if not values:
            raise DataError(f"best_schedule: grid[{key!r}] is empty; give at least one value")
        axes[key] = values
    return axes


def _candidates(
    family: str, axes: dict[str, tuple], peak: float, total: int, warmup: int
) -> tuple[list[str], list[dict[str, Any]]]:
    """Spec strings and settings of every buildable point of the grid."""
    specs, rows = [], []
    for values in itertools.product(*axes.values()):
        setting = dict(zip(axes, values, strict=True))
        spec = _spec(family, setting, peak, total, warmup)
        if spec is not None:
            specs.append(spec)
            rows.append(setting)
    if not specs:
        raise DataError(
            f"best_schedule: no schedule of the grid {axes} fits {total} steps with warmup "
            f"{warmup}; widen the grid or lengthen the run"
        )
    return specs, rows


def _spec(family: str, s: dict[str, Any], peak: float, total: int, warmup: int) -> str | None:
    """Canonical spec of one grid point, or None when the family cannot build it."""
    try:
        if family == "wsd":
            steps = round(float(s["decay"]) * total)
            if s["shape"] == "exp" and float(s["final"]) <= 0:
                return None  # a geometric decay needs a final LR > 0
            if not 1 <= steps <= total - warmup:
                return None
            sched = schedules.wsd(
                peak, total, decay=steps, final=_lr(s["final"], peak), shape=s["shape"],
                warmup=warmup,
            )  # fmt: skip
        elif family in ("cosine", "linear"):
            builder = schedules.cosine if family == "cosine" else schedules.linear
            sched = builder(peak, total, final=_lr(s["final"], peak), warmup=warmup)
        else:
            start = round(float(s["switch"]) * total)
            if not warmup <= start < total:
                return None
            stages = [(start, _lr(s["lr"], peak))]
            sched = schedules.multistage(peak, total, stages, warmup=warmup)
    except DataError as err:
        point = ", ".join(f"{key}={value}" for key, value in s.items())
        raise DataError(f"best_schedule: grid point {point} of family {family!r}: {err}") from None
    return sched.spec


def _lr(fraction: Any, peak: float) -> float:
    """An LR given as a fraction of the peak, rounded to 12 digits (3e-05, not 2.99…e-05)."""
    return float(f"{float(fraction) * peak:.12g}")


def _baseline(baseline: ScheduleLike, peak: float, total: int, warmup: int) -> Schedule:
    if isinstance(baseline, str) and baseline in BASELINES:
        if baseline == "constant":
            return schedules.constant(peak, total, warmup=warmup)
        builder = schedules.cosine if baseline == "cosine" else schedules.linear
        return builder(peak, total, final=_lr(BASELINE_FINAL, peak), warmup=warmup)
    sched = as_schedule(baseline)
    if sched.total != total:
        raise DataError(
            f"best_schedule: {argument('baseline')} has {sched.total} steps; expected "
            f"total_steps = {total}. Fix: give a baseline of the same length, or one of "
            f"{', '.join(BASELINES)}"
        )
    return sched


# ---------------------------------------------------------------------- search
def _final_losses(
    fit: FitResult, specs: list[str], total: int, progress: bool | str = False
) -> np.ndarray:
    """Predicted loss of every candidate at the end of training (step ``total``), in batches."""
    out = np.empty(len(specs))
    last = total
    with progress_bar(len(specs), "schedule search", "schedule", progress) as bar:
        for start in range(0, len(specs), BATCH):
            batch = specs[start : start + BATCH]
            names = [str(i) for i in range(len(batch))]
            table = pd.DataFrame({"run": names, "step": last})
            scheds = {n: schedules.from_spec(s) for n, s in zip(names, batch, strict=True)}
            out[start : start + len(batch)] = predict_runs(fit, table, scheds)
            bar.update(len(batch))
    return out


def _warn_law(fit: FitResult) -> None:
    if fit.law.name.startswith("lr_annealing"):
        warnings.warn(
            "best_schedule with the annealing-area law (lr_annealing): the law rewards "
            "low-LR tails and even appended zero-LR steps (its annealing area S2 keeps "
            "growing; Tissue et al. 2024, known limitation), so its choice leans to final LRs "
            "near zero and long low-LR tails. Check the choice with the multi-power law",
            ScalingFitWarning,
            stacklevel=3,
        )


def _warn_edges(best: pd.Series, axes: dict[str, tuple], total: int, warmup: int) -> None:
    """Warn when the winner is at a numeric grid edge that is not a hard limit."""
    limits = {  # values beyond which the family cannot go
        "decay": (0.0, (total - warmup) / total),
        "final": (0.0, 1.0),
        "switch": (warmup / total, 1.0),
        "lr": (0.0, 1.0),
    }
    for key, values in axes.items():
        numeric = [float(v) for v in values if isinstance(v, int | float)]
        if key not in limits or len(numeric) < 2:
            continue
        value, lo, hi = float(best[key]), min(numeric), max(numeric)
        hard_lo, hard_hi = limits[key]
        step = 0.5 / total  # a grid edge within half a step of a limit is that limit
        at_lo = value == lo and lo > hard_lo + step
        at_hi = value == hi and hi < hard_hi - step
        if at_lo or at_hi:
            warnings.warn(
                f"best_schedule: the best {key}={value:g} is at the edge of the searched grid "
                f"[{lo:g}, {hi:g}]; the optimum may lie beyond it. Widen grid={{{key!r}: ...}}",
                ScalingFitWarning,
                stacklevel=3,
            )
