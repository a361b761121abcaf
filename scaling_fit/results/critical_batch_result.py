"""CriticalBatchResult: critical batch sizes per sweep, each labelled with its definition."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

JSON_FORMAT = "scaling_fit.CriticalBatchResult/1"
DEFINITIONS = {
    "b_noise": "Kaplan/McCandlish critical batch B_noise = E_min/S_min: reaching the target "
    "takes 2 x S_min steps (fit of S = S_min (1 + B_noise/B)); tokens per step",
    "b_20": "Zhang et al. 2024 critical batch: steps 20 % above linear scaling, = 0.2 B_noise "
    "under the same fit; tokens per step",
    "s_min": "minimum steps to the target (infinite batch)",
    "e_min": "minimum tokens to the target (infinitesimal batch) = S_min B_noise",
}


@dataclass(frozen=True, repr=False)
class CriticalBatchResult:
    """The outcome of :func:`scaling_fit.fit_critical_batch`.

    Attributes
    ----------
    fits
        One row per sweep (group): ``s_min``, ``b_noise`` (+ ``_lower``/``_upper``),
        ``e_min``, ``b_20`` (+ interval), ``rms_log_residual``, ``n_points`` and the group's
        ``n_params``/``tokens``/``target_loss`` when given.
    scaling
        B_noise = coefficient·X^exponent across groups for X = ``tokens`` / ``n_params``,
        with the exponent's interval.
    group, level
        The grouping column and the confidence level of the intervals.
    """

    fits: pd.DataFrame
    scaling: pd.DataFrame
    group: str
    level: float

    @property
    def definitions(self) -> dict[str, str]:
        """What each reported quantity means (which critical-batch definition)."""
        return dict(DEFINITIONS)

    def report(self) -> str:
        """The fits and the scaling, with the definitions, as text."""
        lines = [f"{k}: {v}" for k, v in DEFINITIONS.items() if k.startswith("b_")]
        shown = [self.group, "s_min", "b_noise", "b_noise_lower", "b_noise_upper", "b_20"]
        lines.append(self.fits[shown].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        if len(self.scaling):
            lines.append(self.scaling.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary: definitions, per-group fits, scaling."""
        return {
            "format": JSON_FORMAT,
            "definitions": self.definitions,
            "group": self.group,
            "level": self.level,
            "fits": _records(self.fits),
            "scaling": _records(self.scaling),
        }

    def to_json(self, path: str | Path | None = None, *, indent: int = 2) -> str:
        """Serialise to JSON text; also write it to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=indent, allow_nan=False)
        if path is not None:
            Path(path).write_text(text + "\n")
        return text


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    return table.astype(object).where(table.notna(), None).to_dict(orient="records")
