"""The short text of a fit (:meth:`scaling_fit.FitResult.summary`, ``scaling-fit fit``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .fit_result import FitResult


def fit_summary(result: FitResult, warnings: list[str]) -> str:
    """A few lines for humans: law, points, objective, convergence, parameters, warnings."""
    lines = [
        f"law {result.law.name}: {result.n_points} points, objective {result.objective:.10g}, "
        f"{'converged' if result.converged else 'NOT converged'}"
    ]
    errors, intervals = result.stderr, result.ci95
    for name, value in result.params.items():
        note = ""
        if name in result.fixed:
            note = "  (fixed)"
        elif name in result.tie:
            note = f"  (tied to {result.tie[name]})"
        elif errors[name] is not None:
            lo, hi = intervals[name]
            note = f"  s.e. {errors[name]:.4g}  95% CI [{lo:.6g}, {hi:.6g}]"
        lines.append(f"  {name:<8} = {value:.8g}{note}")
    return "\n".join(lines + [f"warning: {message}" for message in warnings])
