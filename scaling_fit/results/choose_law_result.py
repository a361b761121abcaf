"""ChooseLawResult: the outcome of :func:`scaling_fit.choose_law`.

Holds the ranking of the laws by the backtest shaped like the target, the recommended
prediction (one law) and the model-averaged prediction, each with its interval, and the
backtest behind them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from .backtest_result import BacktestResult
from .base import Result, Section, Table
from .json_safe import json_safe

JSON_FORMAT = "scaling_fit.ChooseLawResult/1"


@dataclass(frozen=True, repr=False)
class ChooseLawResult(Result):
    """Ranking of laws for one target, a recommended and a model-averaged prediction.

    Attributes
    ----------
    ranking
        One row per law, best first: ``law, rank, score`` (the ranking score, a log-error
        scale: √(rms_log_error² + drift²)), ``rms_log_error`` (target-shaped backtest),
        ``n_scored``, ``widening`` (factor by which the backtest error is expected to grow
        out to the target's distance, ≥ 1), ``rms_at_target`` (their product),
        ``drift`` (RMS of log(full-fit prediction / rolling-origin prediction) at the target),
        ``bootstrap_sd`` (sd of the log prediction over bootstrap refits), ``sigma`` (the
        law's predictive log sd: √(score² + bootstrap_sd²)), ``weight`` (model averaging),
        ``predicted``, ``lower``, ``upper``, ``skipped`` (why a law was not fitted) and
        ``unscored`` (why the backtest could not score a fitted law: it is ranked last with
        weight 0, and a warning says so).
    chosen
        The recommended law.
    recommended, averaged
        ``{"loss", "lower", "upper", "level"}``; ``averaged`` adds ``weighting``.
    target
        The target's ``n_params``, ``tokens``, ``compute`` (and ``loss`` when given).
    reasons
        Plain-text notes on the choice (over-training preference, emulation limits).
    backtest
        The :class:`~scaling_fit.BacktestResult` shaped like the target.
    fits
        Each fitted law's :class:`~scaling_fit.FitResult` on all runs (with bootstrap).
    warnings
        Warnings about the choice (also issued as :class:`~scaling_fit.ScalingFitWarning`).
    """

    FORMAT = JSON_FORMAT
    WHAT = "law choice"

    ranking: pd.DataFrame
    chosen: str
    recommended: dict[str, Any]
    averaged: dict[str, Any]
    target: dict[str, Any]
    reasons: tuple[str, ...]
    backtest: Any
    fits: dict[str, Any]
    warnings: tuple[str, ...]

    def sections(self) -> list[Section]:
        """The target, then the ranking, both predictions and the reasons."""
        columns = ["rank", "law", "score", "rms_log_error", "widening", "drift", "bootstrap_sd"]
        shown = self.ranking[[*columns, "weight", "predicted", "lower", "upper"]]
        why = self.ranking["skipped"] + self.ranking["unscored"]
        shown = shown.assign(note=why) if (why != "").any() else shown
        level = round(100 * self.recommended["level"])
        target = ", ".join(f"{k} = {v:.4g}" for k, v in self.target.items() if v is not None)
        body: list[str | Table] = [
            Table(shown, float_format=lambda v: f"{v:.4g}"),
            "",
            _line(f"recommended ({self.chosen})", self.recommended, level),
            _line(f"averaged ({self.averaged['weighting']})", self.averaged, level),
        ]
        body += [f"- {reason}" for reason in self.reasons]
        body += [f"warning: {message}" for message in self.warnings]
        return [
            Section(f"choose_law: target {target}"),
            Section("laws ranked by the backtest shaped like the target (log-error scales):", body),
        ]

    def table(self, name: str = "ranking") -> pd.DataFrame:
        """A table by name: the ``ranking``, or the backtest's ``summary``, ``errors`` or
        ``stability`` (``scaling-fit compare --format csv --table NAME``)."""
        return self.ranking if name == "ranking" else getattr(self.backtest, name)

    def __repr__(self) -> str:
        return self.report()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (NaN as None)."""
        return {
            "format": JSON_FORMAT,
            "target": json_safe(self.target),
            "chosen": self.chosen,
            "recommended": json_safe(self.recommended),
            "averaged": json_safe(self.averaged),
            "ranking": [json_safe(r) for r in self.ranking.to_dict(orient="records")],
            "reasons": list(self.reasons),
            "warnings": list(self.warnings),
            "backtest": self.backtest.to_dict(),
        }

    @classmethod
    def _from_dict(cls, raw: dict[str, Any]) -> ChooseLawResult:
        """The result of :meth:`to_dict`; ``fits`` (not in the JSON) comes back empty."""
        return cls(
            ranking=pd.DataFrame.from_records(raw["ranking"]),
            chosen=str(raw["chosen"]),
            recommended=dict(raw["recommended"]),
            averaged=dict(raw["averaged"]),
            target=dict(raw["target"]),
            reasons=tuple(raw["reasons"]),
            backtest=BacktestResult._from_dict(raw["backtest"]),
            fits={},
            warnings=tuple(raw["warnings"]),
        )


def _line(name: str, prediction: dict[str, Any], level: int) -> str:
    return (
        f"{name}: loss {prediction['loss']:.4f}, {level} % interval "
        f"[{prediction['lower']:.4f}, {prediction['upper']:.4f}]"
    )
