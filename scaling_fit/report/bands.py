"""When the report shows a fit's bootstrap (bands, intervals) and when it says why not."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..results.fit_result import FitResult


def degenerate(result: FitResult) -> str:
    """Why ``result`` is degenerate by :func:`scaling_fit.fit`'s own test (parameters that ran
    away or move as one; loss-curve laws), or '' when it is not."""
    from ..fitting.identifiability import (
        correlated_pairs,
        degeneracy_messages,
        runaway_parameters,
    )

    free = list(result.free)
    if not degeneracy_messages(result.law, result.params, free, result.correlation):
        return ""
    runaway = runaway_parameters(result.law, result.params, free)
    pairs = correlated_pairs(free, result.correlation)
    reasons = [f"{', '.join(runaway)} ran away"] if runaway else []
    if pairs:
        reasons.append("parameters move as one: " + ", ".join(f"{a}/{b}" for a, b, _ in pairs))
    return "; ".join(reasons)


def no_band(result: FitResult) -> str:
    """Why the report draws no bootstrap band or interval for ``result`` ('' when it does).

    A degenerate fit's resamples wander along its degenerate direction; and with fewer than
    :data:`~scaling_fit.fitting.curve_points.MIN_BOOTSTRAP_CURVES` curves about a third of
    the resamples leave a run out and *predict* its curve instead of fitting it, so the band
    hangs to one side of the fitted line (2.620 in [2.506, 2.630]).
    """
    from ..fitting.curve_points import MIN_BOOTSTRAP_CURVES

    if result.samples is None:
        return ""
    why = degenerate(result)
    if why:
        return f"the fit is degenerate ({why})"
    curves = result.data["run"].nunique() if "run" in result.data else 0
    if result.law.fits_curves and curves < MIN_BOOTSTRAP_CURVES:
        return (
            f"the bootstrap resamples whole curves and there are only {curves} (fewer than "
            f"{MIN_BOOTSTRAP_CURVES}): a resample that leaves a run out predicts its curve "
            "instead of fitting it, which skews the band to one side of the fit"
        )
    return ""


def shown(result: FitResult) -> FitResult:
    """``result`` as the report shows it: without its bootstrap when :func:`no_band`."""
    import dataclasses

    return dataclasses.replace(result, samples=None) if no_band(result) else result
