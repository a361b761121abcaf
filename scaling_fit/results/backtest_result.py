"""BacktestResult: the outcome of :func:`scaling_fit.backtest` and what it offers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .base import Result, Section, Table, render_text
from .fit_result import FitResult
from .json_safe import json_records, json_safe

JSON_FORMAT = "scaling_fit.BacktestResult/1"


@dataclass(frozen=True, repr=False)
class BacktestResult(Result):
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

    FORMAT = JSON_FORMAT
    WHAT = "backtest"

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
        return render_text(self.sections(per_run=per_run))

    def sections(self, *, per_run: bool = False) -> list[Section]:
        """The summary, (with ``per_run``) the errors per run, and the stability sweep."""
        summary = self.summary.assign(
            mean_pct=100 * self.summary["mean_relative_error"],
            worst_pct=100 * self.summary["worst_relative_error"],
        )[["law", "mean_pct", "worst_pct", "worst_run", "n_fit", "n_held_out", "error"]]
        sweep = self.stability.pivot(index="dropped", columns="law", values="predicted")
        target = self.target.get("run") or "given inputs"
        sections = [
            Section(
                f"backtest: held out {self.holdout}; relative error |pred - loss|/loss in %",
                [Table(summary, float_format=lambda v: f"{v:.4f}"), ""],
            )
        ]
        if per_run:
            table = self.errors.pivot(index="run", columns="law", values="relative_error")
            table = (100 * table)[list(self.summary["law"])]
            sections.append(
                Section(
                    "relative error per held-out run, in %",
                    [Table(table, index=True, float_format=lambda v: f"{v:.4f}"), ""],
                )
            )
        origin = (
            "from each rolling origin (row = origin, as in the errors table)"
            if self.emulation
            else f"after dropping the k largest {self.axis} scales"
        )
        note = ["", f"note: {self.emulation['note']}"] if self.emulation.get("note") else []
        sections.append(
            Section(
                f"stability: predicted loss at {target} (actual {self.target.get('loss')}) "
                + origin,
                [Table(sweep, index=True, float_format=lambda v: f"{v:.5f}"), *note],
            )
        )
        return sections

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

    @classmethod
    def _from_dict(cls, raw: dict[str, Any]) -> BacktestResult:
        """The result of :meth:`to_dict`; each law's fit comes back from its parameters."""
        fits = {
            law: None if params is None else FitResult.from_params(law, params)
            for law, params in raw["params"].items()
        }
        return cls(
            errors=pd.DataFrame.from_records(raw["errors"]),
            summary=pd.DataFrame.from_records(raw["summary"]),
            stability=pd.DataFrame.from_records(raw["stability"]),
            fits=fits,
            holdout=str(raw["holdout"]),
            axis=str(raw["axis"]),
            target=dict(raw["target"]),
            warnings={law: tuple(messages) for law, messages in raw["warnings"].items()},
            emulation=dict(raw.get("emulation", {})),
        )

    def plot(self, ax: Any = None, *, kind: str = "stability") -> Any:
        """Draw the stability sweep (``kind="stability"``) or the errors (``"errors"``).

        Uses matplotlib's object API only; without ``ax`` a new figure is made (no pyplot
        state). Returns the figure drawn on (:func:`scaling_fit.plotting.plot_backtest`).
        """
        from ..plotting.backtest import plot_backtest

        return plot_backtest(self, ax, kind=kind)
