"""The interval of a loss-curve prediction beyond the longest fitted run, and its warning.

A fit of a curve law measures, once, its own length extrapolation within the fitted runs
(:mod:`scaling_fit.fitting.length_check`, kept in ``options["length_check"]``): a backtest
that missed by e at a factor f_m beyond its fitted range, and a refit without the early
steps.  A prediction at a factor f > 1 beyond the fitted runs (in steps or in LR area S₁,
whichever is further, :func:`length_factor`) gets the band

    loss · exp(±h(f)),   h(f) = 2 · max(|e|, r) · max(1, (f − 1) / (f_m − 1)),

where r is the root mean square of the fit's log residuals (a backtest cannot be trusted to
miss by less than the noise).  Up to f_m the band is the backtest's own miss: a prediction
beyond the fitted runs carries at least that (on the shipped sets, runs 1.4x longer than the
fitted ones were missed by up to 1 % through their other schedules, while scaling the miss
down to 1.4x gave ±0.4 %).  Beyond f_m the error grows with the length beyond, f − 1, not with
log f: cutting each shipped constant-LR run at 1/2, 1/3, 1/4 and 1/8 of its length, the
error at its end grew as 1 : 2.1 : 3.4 : 8.5 (``benchmarks/curve_length_extrapolation.py``),
close to f − 1 (1 : 2 : 3 : 7) and far above log f (1 : 1.6 : 2 : 3); the issue's own
9.6 % at 2× and 22 % at 3× fit it too.  The factor 2 reads the one measured error as a
standard error, for a band of about 95 %.  The refit without early steps widens the band to
hold its own prediction; when that lies outside h(f), the exponents drifted (a regime change)
and the warning says by how much.  The drift is judged by its effect on the prediction, not by
the exponent alone: a curve fit has no standard error of its exponents without a bootstrap
(and the Gauss-Newton one treats neighbouring points of a curve as independent, so it is far
too small), while h(f) is the error the prediction is already allowed; on the shipped sets it
never fired (0 of 138 predictions), on curves with an early fast fall it does
(``tests/fitting/test_length_extrapolation.py``).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import ScalingFitWarning
from ..schedules.by_run import history_lr

if TYPE_CHECKING:
    from .fit_result import FitResult

# Factors up to this are "at the edge" of the fitted runs: the band is given, without a warning.
WARN_FACTOR = 1.1
# Standard errors in the band: one measured error is read as one standard error.  Checked:
# the set-weighted 95 % quantile of |log error| / (h / 2) over 187 predictions of 11 shipped
# sets is 1.92 (benchmarks/curve_length_extrapolation.py --part 4).
BAND_Z = 2.0


def area_at(lr: np.ndarray, step: int) -> float:
    """LR area S₁ after ``step`` steps: Σ of the first ``step`` LRs (warm-up included)."""
    return float(np.sum(history_lr(lr, step)[:step]))


def length_factor(step: Any, area: Any, fitted_step: float, fitted_area: float) -> Any:
    """How far beyond the fitted runs a point lies: max(step ratio, S₁ ratio, 1) (of arrays
    elementwise)."""
    factor = np.maximum(np.maximum(np.divide(step, fitted_step), np.divide(area, fitted_area)), 1.0)
    return float(factor) if np.ndim(factor) == 0 else factor


def length_band(
    result: FitResult, sched: Any, table: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray] | None:
    """``(lower, upper)`` of each row of a predicted curve, or None within the fitted runs.

    Warns when a row lies more than :data:`WARN_FACTOR` beyond the fitted runs, with the
    measured backtest and, where they part, the drift of the refit without early steps.
    """
    check = result.options.get("length_check") or {}
    if "longest_step" not in check:
        return None
    steps = table["step"].to_numpy()
    areas = np.cumsum(history_lr(sched.lr, int(steps.max(initial=0))))
    area = np.where(steps > 0, areas[np.maximum(steps, 1) - 1], 0.0)
    factors = length_factor(steps, area, check["longest_step"], check["longest_area"])
    if not (factors > 1.0).any():
        return None
    far = int(np.argmax(factors))
    check = {**check, "beyond": _beyond(steps[far], factors[far], check)}
    loss = table["loss"].to_numpy(float)
    backtest = check.get("backtest")
    if backtest is None:
        _warn_unmeasured(factors.max(), check)
        return None
    half = half_width(result, backtest, factors)
    lower, upper = loss * np.exp(-half), loss * np.exp(half)
    late = _late_prediction(result, sched, table, check, factors)
    if late is not None:
        lower, upper = np.fmin(lower, late), np.fmax(upper, late)
    if factors.max() > WARN_FACTOR:
        _warn(result, backtest, check, factors, loss, half, late, lower, upper, steps)
    return lower, upper


def half_width(result: FitResult, backtest: dict[str, Any], factors: np.ndarray) -> np.ndarray:
    """h(f) of the module docstring (log scale), per factor (0 within the fitted runs)."""
    noise = float(np.sqrt(np.mean(np.square(result.residuals)))) if result.residuals.size else 0.0
    measured = max(abs(backtest["error"]), noise)
    beyond = max(backtest["factor"] - 1.0, 1e-9)
    scale = np.where(factors > 1.0, np.maximum((factors - 1.0) / beyond, 1.0), 0.0)
    return BAND_Z * measured * scale


def _late_prediction(
    result: FitResult, sched: Any, table: pd.DataFrame, check: dict, factors: np.ndarray
) -> np.ndarray | None:
    """The refit without early steps predicts the rows beyond the fitted runs (NaN within)."""
    drift = check.get("drift")
    if not drift:
        return None
    from dataclasses import replace

    from .curves import predict_runs

    late_fit = replace(result, params={k: float(v) for k, v in drift["params"].items()})
    rows = pd.DataFrame({"run": "curve", "step": table["step"].to_numpy()})
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", ScalingFitWarning)
        late = predict_runs(late_fit, rows, {"curve": sched})
    return np.where((factors > 1.0) & np.isfinite(late) & (late > 0), late, np.nan)


def _warn(
    result: FitResult,
    backtest: dict,
    check: dict,
    factors: np.ndarray,
    loss: np.ndarray,
    half: np.ndarray,
    late: np.ndarray | None,
    lower: np.ndarray,
    upper: np.ndarray,
    steps: np.ndarray,
) -> None:
    far = int(np.argmax(factors))
    text = (
        f"predicting {check['beyond']}; the law's own backtest within your "
        f"runs ({backtest['method']}) missed by {backtest['error']:+.1%} at "
        f"{backtest['factor']:.1f}x, read as +/-{np.expm1(half[far]):.1%} at "
        f"{factors[far]:.1f}x (the error grows with the length beyond, x - 1): interval "
        f"{lower[far]:.4g}-{upper[far]:.4g} at step {int(steps[far])} (columns loss_lower, "
        "loss_upper)"
    )
    if late is not None and np.isfinite(late[far]):
        moved = late[far] / loss[far] - 1.0
        if abs(np.log1p(moved)) > half[far]:
            text += _drift_text(result, check, moved)
    warnings.warn(text, ScalingFitWarning, stacklevel=4)


def _drift_text(result: FitResult, check: dict, moved: float) -> str:
    drift = check["drift"]
    exponents = [
        f"{name} {result.params[name]:.3g} -> {float(drift['params'][name]):.3g}"
        for name in result.free
        if name in ("alpha", "beta", "gamma")
    ]
    return (
        f". Refitted without the steps before {drift['from_step']}, "
        f"{', '.join(exponents) or 'the parameters'} and the prediction moves by "
        f"{moved:+.1%}, beyond that error: the loss falls differently early in training (a "
        "regime change), so the interval is widened to hold both; to predict from the later "
        f"regime only, refit with exclude='step < {drift['from_step']}'"
    )


def _beyond(step: float, factor: float, check: dict) -> str:
    """Where the farthest row lies: ``factor`` times the longest fitted run, or, for a run of
    about its length (within :data:`WARN_FACTOR`), times its LR area S1 (a schedule that
    stays near its peak longer extrapolates in S1 at the same length)."""
    longest = check["longest_step"]
    if step / longest >= WARN_FACTOR:
        return f"{factor:.1f}x beyond the longest fitted run (step {longest})"
    return (
        f"{factor:.1f}x the LR area (S1) of the longest fitted run (step {longest}) at about "
        f"its length (step {int(step)})"
    )


def _warn_unmeasured(factor: float, check: dict) -> None:
    if factor <= WARN_FACTOR:
        return
    warnings.warn(
        f"predicting {check['beyond']}, and the law's length extrapolation "
        f"could not be measured within your runs ({check.get('note') or 'no backtest'}): a "
        "curve law fitted to short runs can predict a longer one far too low; fit runs of "
        "several lengths",
        ScalingFitWarning,
        stacklevel=4,
    )


def length_summary(result: FitResult) -> list[str]:
    """Lines of :meth:`FitResult.report` on the measured length extrapolation (none without)."""
    check = result.options.get("length_check") or {}
    if "longest_step" not in check:
        return []
    lines = [f"[[Length extrapolation]] (longest fitted run: step {check['longest_step']})"]
    backtest = check.get("backtest")
    if backtest:
        lines.append(
            f"    backtest       = {backtest['error']:+.2%} at {backtest['factor']:.2f}x "
            f"({backtest['method']} predicting {backtest['run']!r})"
        )
    drift = check.get("drift")
    if drift:
        moved = ", ".join(
            f"{name} {result.params[name]:.4g} -> {float(drift['params'][name]):.4g}"
            for name in result.free
        )
        lines.append(f"    without steps before {drift['from_step']}: {moved}")
    if check.get("note"):
        lines.append(f"    note           = {check['note']}")
    return lines
