"""ReportSummaryResult: what :func:`scaling_fit.write_report` wrote, in a few lines.

JSON tag ``scaling_fit.ReportSummary/1`` (the layout ``scaling-fit report --format json``
printed before the class existed).  Made by :meth:`scaling_fit.Report.summary`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .base import Result, Section
from .json_safe import json_safe
from .numbers import count


@dataclass(frozen=True, repr=False)
class ReportSummaryResult(Result):
    """The page written, the law chosen, the headline prediction, notes and warnings.

    Attributes
    ----------
    path : str
        The HTML page.
    bytes : int
        Its size.
    best_law : str or None
        The law the page leads with (the best by backtest when ``ranked``).
    laws : dict of str to bool
        Each law asked for and whether it was fitted.
    headline : dict
        The headline prediction: ``compute``, ``n_params``, ``tokens``, ``loss`` and its
        bounds ``loss_lower``, ``loss_upper`` (empty without one).
    figures : list of str
        Names of the figures written to ``figures_dir``.
    notes, warnings : list of str
        The page's notes; the warnings of the run (deduplicated).
    ranked : bool
        Whether a backtest ranked the laws.
    figures_dir : str or None
        Where the figures went (None: not written).
    """

    FORMAT = "scaling_fit.ReportSummary/1"
    WHAT = "report summary"

    path: str
    bytes: int
    best_law: str | None
    laws: dict[str, bool]
    headline: dict[str, Any]
    figures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    ranked: bool = False
    figures_dir: str | None = None

    def sections(self) -> list[Section]:
        """The page written; the law, the headline prediction, the figures and the notes."""
        lines = []
        if self.best_law is not None and self.ranked:
            lines.append(f"best law: {self.best_law} (lowest backtest error)")
        elif self.best_law is not None:
            fitted = sum(self.laws.values())
            why = "the only law fitted" if fitted == 1 else "not ranked: no backtest"
            lines.append(f"law: {self.best_law} ({why})")
        head = self.headline
        if head.get("loss") is not None:
            lower, upper = head.get("loss_lower"), head.get("loss_upper")
            band = "" if lower is None or lower != lower else f" [{lower:.4f}, {upper:.4f}]"
            lines.append(
                f"predicted loss at C = {head['compute']:.3g} FLOPs (N = "
                f"{count(head['n_params'])}, D = {count(head['tokens'])}): {head['loss']:.4f}"
                + band
            )
        if self.figures_dir is not None:
            lines.append(f"{len(self.figures)} figures written to {self.figures_dir} (PNG and SVG)")
        title = f"report written to {self.path} ({self.bytes:,} bytes)"
        return [Section(title, lines + list(self.notes))]

    def __repr__(self) -> str:
        return self.report()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (NaN as None)."""
        return json_safe(
            {
                "format": self.FORMAT,
                "path": self.path,
                "bytes": self.bytes,
                "best_law": self.best_law,
                "laws": dict(self.laws),
                "headline": dict(self.headline),
                "figures": list(self.figures),
                "notes": list(self.notes),
                "warnings": list(self.warnings),
                "ranked": self.ranked,
                "figures_dir": self.figures_dir,
            }
        )

    @classmethod
    def _from_dict(cls, raw: dict[str, Any]) -> ReportSummaryResult:
        return cls(
            path=str(raw["path"]),
            bytes=int(raw["bytes"]),
            best_law=raw["best_law"],
            laws={str(k): bool(v) for k, v in raw["laws"].items()},
            headline=dict(raw["headline"]),
            figures=list(raw.get("figures", [])),
            notes=list(raw.get("notes", [])),
            warnings=list(raw.get("warnings", [])),
            ranked=bool(raw.get("ranked", False)),
            figures_dir=raw.get("figures_dir"),
        )
