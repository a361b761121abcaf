"""CriticalBatchResult: critical batch sizes per sweep, each labelled with its definition."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..arguments import checked
from ..errors import DataError, ScalingFitWarning
from ..inputs.validate import check_positive_inputs
from .base import Result, Section, Table
from .intervals import check_level
from .json_file import table_field
from .json_safe import json_records

JSON_FORMAT = "scaling_fit.CriticalBatchResult/1"
FIT_COLUMNS = ("s_min", "b_noise", "b_noise_lower", "b_noise_upper", "b_20")
# Columns of a stored fit that are counts or sizes: finite and > 0 when present.
POSITIVE = ("s_min", "b_noise", "b_20", "e_min", "n_params", "tokens", "target_loss")
DEFINITIONS = {
    "b_noise": "Kaplan/McCandlish critical batch B_noise = E_min/S_min: reaching the target "
    "takes 2 x S_min steps (fit of S = S_min (1 + B_noise/B)); tokens per step",
    "b_20": "Zhang et al. 2024 critical batch: steps 20 % above linear scaling, = 0.2 B_noise "
    "under the same fit; tokens per step",
    "s_min": "minimum steps to the target (infinite batch)",
    "e_min": "minimum tokens to the target (infinitesimal batch) = S_min B_noise",
}


@dataclass(frozen=True, repr=False)
class CriticalBatchResult(Result):
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

    FORMAT = JSON_FORMAT
    WHAT = "critical-batch result"
    EXPECTED = "the JSON written by `scaling-fit cbs`"

    fits: pd.DataFrame
    scaling: pd.DataFrame
    group: str
    level: float

    @property
    def definitions(self) -> dict[str, str]:
        """What each reported quantity means (which critical-batch definition)."""
        return dict(DEFINITIONS)

    @checked
    def predict(self, tokens: Any, *, level: float | None = None) -> pd.DataFrame:
        """B_noise and B_20 at other token counts, from B_noise = k·D^p across the sweeps.

        Least squares of log B_noise on log D over the groups (as :attr:`scaling`), with the
        Student-t interval of the fitted mean at each D (``level`` defaults to the result's).
        Warns when D lies more than 10× outside the groups' range.

        Parameters
        ----------
        tokens
            Token counts D to predict at (scalar or array).
        level
            Central interval probability; None for the result's ``level``.

        Returns
        -------
        pandas.DataFrame
            ``tokens``, ``b_noise`` with ``b_noise_lower``/``b_noise_upper``, and the same for
            ``b_20`` (= 0.2 B_noise), in tokens per step.

        Raises
        ------
        DataError
            When the sweeps lack a ``tokens`` column with at least 3 distinct values, when
            ``level`` is not strictly between 0 and 1, or a token count is not finite and > 0.
        """
        from scipy.stats import t as student

        level = self.level if level is None else level
        check_level(level)
        check_positive_inputs({"tokens": tokens}, "CriticalBatchResult.predict")
        if "tokens" not in self.fits or self.fits["tokens"].nunique() < 3:
            raise DataError(
                "predicting the critical batch at other token counts needs a 'tokens' column "
                "with at least 3 distinct values across the sweeps"
            )
        x = np.log(self.fits["tokens"].to_numpy(float))
        y = np.log(self.fits["b_noise"].to_numpy(float))
        design = np.column_stack([np.ones_like(x), x])
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        dof = len(x) - 2
        variance = float(np.sum((design @ coef - y) ** 2)) / dof
        inverse = np.linalg.inv(design.T @ design)
        d = np.atleast_1d(np.asarray(tokens, dtype=float)).ravel()
        factor = np.maximum(d.max() / np.exp(x.max()), np.exp(x.min()) / d.min())
        if factor > 10:
            warnings.warn(
                f"tokens extrapolates {factor:.3g}x beyond the sweeps' range "
                f"[{np.exp(x.min()):.3g}, {np.exp(x.max()):.3g}] (more than 10x): treat the "
                "critical batch as a guess",
                ScalingFitWarning,
                stacklevel=2,
            )
        at = np.column_stack([np.ones_like(d), np.log(d)])
        mean = at @ coef
        spread = np.sqrt(variance * np.einsum("ij,jk,ik->i", at, inverse, at))
        half = float(student.ppf(0.5 + level / 2, dof)) * spread
        table = pd.DataFrame({"tokens": d, "b_noise": np.exp(mean)})
        table["b_noise_lower"], table["b_noise_upper"] = np.exp(mean - half), np.exp(mean + half)
        for column in ("b_noise", "b_noise_lower", "b_noise_upper"):
            table[column.replace("b_noise", "b_20")] = 0.2 * table[column]
        return table

    def sections(self) -> list[Section]:
        """The definitions, then the fits and the scaling across groups."""
        lines = [f"{k}: {v}" for k, v in DEFINITIONS.items() if k.startswith("b_")]
        shown = [self.group, "s_min", "b_noise", "b_noise_lower", "b_noise_upper", "b_20"]
        body: list[str | Table] = [
            *lines[1:],
            Table(self.fits[shown], float_format=lambda v: f"{v:.4g}"),
        ]
        if len(self.scaling):
            body.append(Table(self.scaling, float_format=lambda v: f"{v:.4g}"))
        return [Section(lines[0], body)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary: definitions, per-group fits, scaling."""
        return {
            "format": JSON_FORMAT,
            "definitions": self.definitions,
            "group": self.group,
            "level": self.level,
            "fits": json_records(self.fits),
            "scaling": json_records(self.scaling),
        }

    @classmethod
    def _from_dict(cls, raw: dict[str, Any]) -> CriticalBatchResult:
        """The result of :meth:`to_dict` (ValueError naming a bad field)."""
        group, level = raw["group"], raw["level"]
        if not isinstance(group, str):
            raise ValueError(f"field 'group': expected a column name, found {group!r}")
        number = isinstance(level, int | float) and not isinstance(level, bool)
        if not (number and 0 < level < 1):
            raise ValueError(f"field 'level': expected a number in (0, 1), found {level!r}")
        fits = table_field(
            raw["fits"], "fits", (group, *FIT_COLUMNS), text=(group,), positive=POSITIVE
        )
        scaling = table_field(raw["scaling"], "scaling", (), text=("against",))
        return cls(fits=fits, scaling=scaling, group=group, level=float(level))
