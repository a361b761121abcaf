"""BacktestResult: the outcome of :func:`scaling_fit.backtest` and what it offers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .fit_result import FitResult
from .json_file import JsonResult
from .json_safe import json_records, json_safe

JSON_FORMAT = "scaling_fit.BacktestResult/1"


@dataclass(frozen=True, repr=False)
class BacktestResult(JsonResult):
    """Outcome of :func:`backtest`. Relative errors are fractions (0.007 = 0.7 %).

    Attributes
    ----------
    errors
        One row per law × held-out run: ``law, run``, the law's inputs, ``loss``,
        ``predicted``, ``relative_error`` = |L̂ − L|/L, ``signed_error`` = (L̂ − L)/L and
        ``extrapolation`` (largest factor by which an input lies outside the fitted range).
    summary
        One row per law: ``mean_relative_error``, ``worst_relative_error``, ``worst_run``,
        ``n_fit``, ``n_held_out``, ``objective``, ``n_warnings`` (of the main fit) and
        ``error`` (the message of a failed fit, empty otherwise); shaped like a target, also
        ``rms_log_error``, ``mean_signed_error``, ``growth_measured`` and ``distance_growth``
        (growth exponent of the error with distance, before and after clipping) and
        ``widening`` (:mod:`scaling_fit.analysis.target_backtest`).
    stability
        One row per law × number of largest scales dropped (0 = the main fit): ``dropped``,
        ``largest_fitted`` (largest axis value left), ``n_fit``, ``predicted`` (loss at the
        target), ``relative_error`` (against the target's loss when known), ``n_warnings``
        and ``error``.
    fits
        The main fit of each law (None when it failed).
    holdout, axis, target
        Description of the split, the sweep axis, and the target (``run``, inputs, ``loss``).
    warnings
        Warnings raised while fitting each law (all sweep steps), in order, deduplicated.
    emulation
        Only for a backtest shaped like the target (``target=`` inputs, see
        :mod:`scaling_fit.analysis.target_holdout`): the target's distance beyond the runs,
        the distance the held-out runs reach, ``min_runs`` and ``refused`` (splits too small
        to fit), ``target_span`` and ``scored_span`` (decades, N and tokens per parameter
        combined), and a ``note`` when the data cannot emulate it.
    """

    errors: pd.DataFrame
    summary: pd.DataFrame
    stability: pd.DataFrame
    fits: dict[str, FitResult | None]
    holdout: str
    axis: str
    target: dict[str, Any]
    warnings: dict[str, tuple[str, ...]]
    emulation: dict[str, Any] = field(default_factory=dict)

    def report(self, *, per_run: bool = False) -> str:
        """Plain-text tables: the summary (errors in %) and the stability sweep.

        With ``per_run``, a table of each law's relative error (%) per held-out run goes
        between them (as ``scaling-fit compare`` prints).
        """
        summary = self.summary.assign(
            mean_pct=100 * self.summary["mean_relative_error"],
            worst_pct=100 * self.summary["worst_relative_error"],
        )[["law", "mean_pct", "worst_pct", "worst_run", "n_fit", "n_held_out", "error"]]
        sweep = self.stability.pivot(index="dropped", columns="law", values="predicted")
        target = self.target.get("run") or "given inputs"
        lines = [
            f"backtest: held out {self.holdout}; relative error |pred - loss|/loss in %",
            summary.to_string(index=False, float_format=lambda v: f"{v:.4f}"),
            "",
            *(self._per_run_lines() if per_run else []),
            f"stability: predicted loss at {target} (actual {self.target.get('loss')}) "
            + (
                "from each rolling origin (row = origin, as in the errors table)"
                if self.emulation
                else f"after dropping the k largest {self.axis} scales"
            ),
            sweep.to_string(float_format=lambda v: f"{v:.5f}"),
        ]
        if self.emulation.get("note"):
            lines += ["", f"note: {self.emulation['note']}"]
        return "\n".join(lines)

    def _per_run_lines(self) -> list[str]:
        table = self.errors.pivot(index="run", columns="law", values="relative_error")
        table = (100 * table)[list(self.summary["law"])]
        return [
            "relative error per held-out run, in %",
            table.to_string(float_format=lambda v: f"{v:.4f}"),
            "",
        ]

    def __repr__(self) -> str:
        return self.report()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (NaN as None)."""
        return {
            "format": JSON_FORMAT,
            "holdout": self.holdout,
            "axis": self.axis,
            "target": json_safe(self.target),
            "summary": json_records(self.summary),
            "errors": json_records(self.errors),
            "stability": json_records(self.stability),
            "params": {k: None if f is None else f.params for k, f in self.fits.items()},
            "warnings": {k: list(v) for k, v in self.warnings.items()},
            **({"emulation": json_safe(self.emulation)} if self.emulation else {}),
        }

    def plot(self, ax: Any = None, *, kind: str = "stability") -> Any:
        """Draw the stability sweep (``kind="stability"``) or the errors (``"errors"``).

        Uses matplotlib's object API only; without ``ax`` a new figure is made (no pyplot
        state). Returns the figure drawn on (:func:`scaling_fit.plotting.plot_backtest`).
        """
        from ..plotting.backtest import plot_backtest

        return plot_backtest(self, ax, kind=kind)
