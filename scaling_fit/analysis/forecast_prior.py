"""What a forecast's prior was fitted on, and the error band when the run differs from it.

A prior borrows the law's shape (exponent, annealing strength) from other runs.  That shape
depends on the peak learning rate: on Schaipp et al.'s (2025) 124M runs at peak LR 1e-4,
5e-4 and 2e-3, a prior fitted at another peak forecast the last point 8-11 % off on average
when the run's peak was 4-5 times the prior's, 41-51 % off at 20 times, and 2.4-3.3 % off
at a fourth or a fifth (against 0.4-0.5 % at the same peak), at 25-75 % seen.  Measured by
``python benchmarks/bench_forecast.py --peaks`` (errors in
:mod:`scaling_fit.analysis.forecast_peak_errors`).

* :func:`prior_schedules`: each prior run's schedule family and peak LR, from the fit's
  ``options`` (``schedule_family`` and ``peak_lr``, recorded by every curve-law fit; older
  fits: parsed from their schedule specs).
* :func:`compare_with_prior`: the run's peak over the nearest prior peak, with a warning
  when the peak differs by more than :data:`PEAK_TOLERANCE` or the family is one the prior
  never saw.  Other families at the same peak are what the measured band of
  :mod:`scaling_fit.analysis.forecast_errors` already covers (priors fitted to constant,
  cosine and multi-stage runs forecasting WSD runs, and to constant and WSD runs forecasting
  cosine runs), so they warn but do not widen it.
* :func:`peak_band`: the band interpolated in log peak ratio between the same-peak band and
  the measured ratios; beyond ×20 or ÷20 the end value, with a warning that it is likely too
  narrow.
* :func:`prior_length_band`: a run longer than every run the prior was fitted on (in steps or
  LR area) extrapolates the prior's shape in length; the prior's own length check (its
  backtest within its runs, :mod:`scaling_fit.fitting.length_check`) gives the band of that
  extrapolation at the run's end, as for any curve prediction beyond the fitted runs
  (:mod:`scaling_fit.results.length_band`).  On a small real ladder whose priors were fitted
  to the same size's shorter runs, forecasts at 25 % seen were 8-10 % off while the band
  measured on published runs (whose priors were as long as the forecast runs or nearly)
  was under 2 % (issue 24).
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import ScalingFitWarning
from ..results.fit_result import FitResult
from ..results.length_band import WARN_FACTOR, area_at, half_width, length_factor
from ..schedules import Schedule
from ..schedules.spec import from_spec

PEAK_TOLERANCE = 0.1  # peaks within 10 % count as the same


def prior_schedules(prior: FitResult) -> dict[str, tuple[str, float]]:
    """Run → (schedule family, peak LR) of the runs ``prior`` was fitted on.

    Read from ``prior.options["schedule_family"]`` and ``["peak_lr"]``; for fits saved before
    they were recorded, from the specs in ``options["schedules"]`` (custom schedules have
    none and are left out).
    """
    options = prior.options
    families, peaks = options.get("schedule_family"), options.get("peak_lr")
    if isinstance(families, dict) and isinstance(peaks, dict):
        recorded = {run: (str(families[run]), _lr(peaks[run])) for run in families if run in peaks}
        return {run: (family, lr) for run, (family, lr) in recorded.items() if lr is not None}
    found = {}
    for run, spec in (options.get("schedules") or {}).items():
        try:
            schedule = from_spec(str(spec))
        except ValueError:  # "custom (N steps)": an LR array, no spec
            continue
        found[run] = (schedule.name, schedule.peak)
    return found


def compare_with_prior(prior: FitResult, schedule: Schedule, stacklevel: int = 3) -> float:
    """The run's peak LR over the nearest peak of ``prior``'s runs (1.0 when unknown or
    within :data:`PEAK_TOLERANCE`).

    Warns (:class:`~scaling_fit.errors.ScalingFitWarning`) when the peaks differ by more than
    :data:`PEAK_TOLERANCE`, when the family is one the prior was not fitted on, and when the
    prior does not say what it was fitted on.
    """
    seen = prior_schedules(prior)
    if not seen:
        _warn(
            "forecast: prior= (--prior) does not record the schedules it was fitted on, so "
            "whether this run's peak LR differs cannot be checked; a prior from another peak "
            "LR forecasts several % off (see scaling_fit.analysis.forecast_prior)",
            stacklevel,
        )
        return 1.0
    families = sorted({family for family, _ in seen.values()})
    peaks = np.array(sorted({peak for _, peak in seen.values()}))
    nearest = float(peaks[np.argmin(np.abs(np.log(peaks / schedule.peak)))])
    ratio = schedule.peak / nearest
    if abs(np.log(ratio)) <= np.log1p(PEAK_TOLERANCE):
        ratio = 1.0
    else:
        _warn(
            f"forecast: the run's peak LR {schedule.peak:.3g} differs from the prior's "
            f"({nearest:.3g}, x{ratio:.3g}); a prior's shape does not carry over between peak "
            "LRs (measured: 8-15 % off at 4-5x the prior's peak, 2-5 % at a fourth), so the "
            "interval's law part is widened to the error measured at this ratio. Fit the "
            "prior to runs at this run's peak LR",
            stacklevel,
        )
    if schedule.name not in families and schedule.name != "custom":
        _warn(
            f"forecast: the run's schedule family {schedule.name!r} is not among the prior's "
            f"{families}; the interval's law part was measured on such forecasts (priors "
            "from other families at the same peak LR)",
            stacklevel,
        )
    return float(ratio)


def peak_band(same_peak: float, measured: dict[float, float], ratio: float) -> float:
    """The law part of the interval for a prior from peak LR ``peak / ratio``.

    Parameters
    ----------
    same_peak
        The band of a prior at the run's own peak.
    measured
        Peak ratio → the band measured at that ratio (the knots of ``PEAK_ERRORS``: ÷20,
        ÷4-5, ×4-5, ×20), at the run's fraction seen and level.
    ratio
        Run peak over prior peak (:func:`compare_with_prior`).

    Returns
    -------
    float
        The band interpolated linearly in ``log(ratio)`` between ``same_peak`` (ratio 1) and
        the measured ones; the end value beyond them, with a warning.
    """
    knots = sorted(measured)
    if not knots[0] <= ratio <= knots[-1]:
        _warn(
            f"forecast: the run's peak LR is x{ratio:.3g} the prior's, beyond the measured "
            f"x{knots[0]:.3g} to x{knots[-1]:.3g}, so the widened interval is likely too narrow",
            4,
        )
    x = np.log([*knots, 1.0])
    y = np.array([*(measured[k] for k in knots), same_peak])
    order = np.argsort(x)
    return float(np.interp(np.log(ratio), x[order], y[order]))


def prior_length_band(
    prior: FitResult, schedule: Schedule, seen_step: int = 0
) -> tuple[float | None, float] | None:
    """``(band, factor)``: the prior's length band at the run's last step, or None.

    ``factor`` is how far the run's end lies beyond both the prior's longest fitted run and
    the seen part (``seen_step``, to which the forecast refits the level: what it has seen
    is not extrapolated), in steps or LR area S₁, whichever is further, and ``band`` the
    relative half-width expm1(h(factor)) of :mod:`scaling_fit.results.length_band`, from the
    prior's own backtest, with a warning beyond 1.1x (``WARN_FACTOR``).  None when the run
    lies within the prior's runs and the seen part, or the prior has no length check (fitted
    with ``length_check=False`` or saved before it existed).  ``band`` is None when the run
    lies beyond 1.1x and the prior's backtest could not be measured: nothing bounds that
    extrapolation, so the forecast gives no interval, and a warning says so.
    """
    check = prior.options.get("length_check") or {}
    if "longest_step" not in check:
        return None
    total, seen_step = schedule.total, min(int(seen_step), schedule.total)
    longest = max(check["longest_step"], seen_step)
    longest_area = max(check["longest_area"], area_at(schedule.lr, seen_step))
    factor = length_factor(total, area_at(schedule.lr, total), longest, longest_area)
    backtest = check.get("backtest")
    if factor <= 1.0 or (not backtest and factor <= WARN_FACTOR):
        return None
    if not backtest:
        _warn(
            f"forecast: the run ends {factor:.1f}x beyond the longest run the prior was fitted "
            f"on (step {check['longest_step']}) and the part seen (step {seen_step}), and the "
            f"prior's length extrapolation could not be measured "
            f"({check.get('note') or 'no backtest'}), so nothing bounds the forecast's error "
            "and no interval is given (interval=None); fit the prior to runs of several "
            "lengths, or forecast later in the run",
            3,
        )
        return None, float(factor)
    band = float(np.expm1(half_width(prior, backtest, np.array([factor]))[0]))
    if factor > WARN_FACTOR:
        _warn(
            f"forecast: the run ends {factor:.1f}x beyond the longest run the prior was fitted "
            f"on (step {check['longest_step']}) and the part seen (step {seen_step}), in steps "
            f"or LR area, so the prior's shape is extrapolated; its own backtest "
            f"({backtest['method']}) missed by {backtest['error']:+.1%} at "
            f"{backtest['factor']:.1f}x, read as +/-{band:.1%} at {factor:.1f}x and added to "
            "the interval. A prior fitted to runs as long as this one gives a tighter forecast",
            3,
        )
    return band, float(factor)


def _lr(value: object) -> float | None:
    """A recorded peak LR as a float, or None when it is not a positive finite number."""
    try:
        lr = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return lr if np.isfinite(lr) and lr > 0 else None


def _warn(message: str, stacklevel: int) -> None:
    warnings.warn(message, ScalingFitWarning, stacklevel=stacklevel + 1)
