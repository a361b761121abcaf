"""HparamsResult: fitted optimal learning-rate and batch-size laws, per-cell table, JSON."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ..arguments import checked
from ..errors import DataError, ScalingFitWarning
from ..inputs.validate import check_positive_inputs
from .base import Result, Section
from .fit_result import FitResult
from .json_file import table_field
from .json_safe import json_columns, json_safe

JSON_FORMAT = "scaling_fit.HparamsResult/1"
LAWS = {"lr": "steplaw_lr", "batch": "steplaw_batch"}
INPUTS = ("n_params", "tokens")
CELL_COLUMNS = (*INPUTS, "penalty_fitted", "penalty_published")
TEXT_COLUMNS = ("edge", "smooth_fallback", "swept", "how_fitted", "how_published")


@dataclass(frozen=True, repr=False)
class HparamsResult(Result):
    """The outcome of :func:`scaling_fit.fit_hparams`.

    Attributes
    ----------
    lr
        Fitted η*(N, D) = c·N^a·D^b (law ``steplaw_lr``), with bootstrap samples over cells.
    batch
        Fitted B*(D) = c·D^b in tokens (law ``steplaw_batch``), or None when the sweep does
        not identify it (an LR-only sweep: no cell varies the batch size at two or more
        token counts; :attr:`batch_identified`).
    cells
        One row per (N, D) cell: runs, diverged runs, what it sweeps (``swept``), band size,
        best run, the rule's optimum (``lr_opt``, ``batch_opt``), ``edge`` (best run on the
        grid edge), and for the fitted and the published law the predicted ``lr_*``,
        ``batch_*`` and ``penalty_*`` (relative loss penalty versus the cell's best run;
        0.001 = 1 ‰) with ``how_*`` it was read (grid, lines, scattered, or why it is NaN).
    warnings
        Units, B* not identified, intervals not given, cells whose every run diverged, a
        law's choice next to a diverged run, grid-edge, single-run band and smooth-fallback
        messages.
    """

    FORMAT = JSON_FORMAT
    WHAT = "hyperparameter fit"
    EXPECTED = "the JSON written by `scaling-fit hparams` or HparamsResult.to_json()"

    lr: FitResult
    batch: FitResult | None
    cells: pd.DataFrame
    warnings: tuple[str, ...] = ()

    @property
    def rule(self) -> str:
        """The per-cell rule the laws were fitted with (``band`` or ``smooth``)."""
        return str(self.lr.options.get("rule"))

    @property
    def batch_identified(self) -> bool:
        """Whether the sweep identifies B*(D) (False for an LR-only sweep: ``batch`` is None
        and :meth:`predict` gives NaN batch sizes)."""
        return self.batch is not None

    @property
    def penalty(self) -> dict[str, float]:
        """Mean per-cell relative loss penalty of the fitted and the published law, over the
        cells where it is measured (NaN when it is measured in none)."""
        means = {}
        for label in ("fitted", "published"):
            values = self.cells[f"penalty_{label}"].to_numpy(float)
            values = values[np.isfinite(values)]
            means[label] = float(values.mean()) if len(values) else float("nan")
        return means

    @checked
    def predict(self, n_params: Any, tokens: Any, *, level: float = 0.95) -> pd.DataFrame:
        """Optimal peak LR and batch size (tokens) with bootstrap percentile intervals.

        Warns (:class:`~scaling_fit.ScalingFitWarning`) when N or D lies more than 10× outside
        the swept range, as :meth:`FitResult.predict` does.

        Parameters
        ----------
        n_params, tokens
            N and D of the planned runs (broadcast together).
        level
            Central probability of the bootstrap percentile intervals.

        Returns
        -------
        pandas.DataFrame
            ``n_params``, ``tokens``, ``lr``, ``batch_size`` and their ``_lower``/``_upper``
            bounds (NaN without bootstrap samples; ``batch_size`` NaN when B* is not
            identified).

        Raises
        ------
        DataError
            When ``level`` is not strictly between 0 and 1, or N or D is not finite and > 0.

        Warns
        -----
        ScalingFitWarning
            When the sweep could not give a law bootstrap samples (NaN bounds; the fit's
            reason is quoted), and
            when the lr law's cells share one tokens-per-parameter ratio (its exponents are
            then not separately determined) and the prediction is at another.
        """
        check_positive_inputs({"n_params": n_params, "tokens": tokens}, "HparamsResult.predict")
        try:
            n, d = (np.ravel(x).astype(float) for x in np.broadcast_arrays(n_params, tokens))
        except ValueError:
            raise DataError(
                f"HparamsResult.predict: n_params ({np.size(n_params)} values) and tokens "
                f"({np.size(tokens)} values) have different lengths; give each the same number "
                "of values, or one value to use for all"
            ) from None
        table = pd.DataFrame({"n_params": n, "tokens": d})
        _warn_other_ratio(self.lr, n, d)
        table["lr"] = self.lr.predict(n_params=n, tokens=d)
        table["batch_size"] = np.nan if self.batch is None else self.batch.predict(tokens=d)
        for column, fit, inputs in (
            ("lr", self.lr, (n, d)),
            ("batch_size", self.batch, (d,)),
        ):
            lower, upper = np.full(len(n), np.nan), np.full(len(n), np.nan)
            if fit is None:
                table[f"{column}_lower"], table[f"{column}_upper"] = lower, upper
                continue
            rows = _finite_rows(fit.samples)
            if not len(rows):
                _warn_no_interval(column, fit)
            if len(rows):
                params = {k: rows[:, i, None] for i, k in enumerate(fit.law.param_names)}
                draws = fit.law.predict(*inputs, **params)
                tail = 50.0 * (1.0 - level)
                lower, upper = np.percentile(draws, [tail, 100.0 - tail], axis=0)
            table[f"{column}_lower"], table[f"{column}_upper"] = lower, upper
        return table

    def sections(self) -> list[Section]:
        """The rule, then both laws with 95 % intervals, the penalties, warnings."""
        lines: list[str] = []
        for title, fit in (("lr*(N, D) = c N^a D^b", self.lr), ("B*(D) = c D^b", self.batch)):
            if fit is None:
                lines.append(f"{title}: not identified (no cell varies the batch size at two "
                             "or more token counts)")  # fmt: skip
                continue
            intervals = fit.ci95
            parts = []
            for name, value in fit.params.items():
                ci = intervals[name]
                parts.append(
                    f"{name} {value:.4g}" + ("" if ci is None else f" [{ci[0]:.4g}, {ci[1]:.4g}]")
                )
            lines.append(f"{title}: " + ", ".join(parts))
        shown = {
            label: "not measured" if np.isnan(value) else f"{1e3 * value:.2f} permille"
            for label, value in self.penalty.items()
        }
        lines.append(
            f"mean loss penalty per cell: fitted {shown['fitted']}, published Step Law "
            f"{shown['published']}"
        )
        lines += self._diverged_lines()
        lines += [f"warning: {m}" for m in self.warnings]
        title = f"rule {self.rule} ({len(self.cells)} cells, {self.lr.n_points} points)"
        return [Section(title, lines)]

    def _diverged_lines(self) -> list[str]:
        """The count of diverged runs left out, and their cells (none when no run diverged)."""
        if "n_diverged" not in self.cells or not (self.cells["n_diverged"] > 0).any():
            return []
        hit = self.cells[self.cells["n_diverged"] > 0]
        names = ", ".join(
            f"N={n:.3g} D={d:.3g} ({int(k)} of {int(r)})"
            for n, d, k, r in hit[["n_params", "tokens", "n_diverged", "n_runs"]].to_numpy(float)
        )
        total = int(self.cells["n_runs"].sum())
        return [
            f"diverged runs left out: {int(hit['n_diverged'].sum())} of {total} (NaN or inf "
            f"loss, or above 1.5x their cell's best), in {len(hit)} of {len(self.cells)} "
            f"cells: {names}"
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (the format :meth:`from_json` reads)."""
        return {
            "format": JSON_FORMAT,
            "rule": self.rule,
            "penalty": json_safe(self.penalty),
            "lr": self.lr.to_dict(),
            "batch": None if self.batch is None else self.batch.to_dict(),
            "cells": json_columns(self.cells),
            "warnings": list(self.warnings),
        }

    @classmethod
    def _from_dict(cls, raw: dict[str, Any]) -> HparamsResult:
        """The result of :meth:`to_dict` (ValueError naming a bad field)."""
        messages = raw["warnings"]
        if not isinstance(messages, list) or not all(isinstance(m, str) for m in messages):
            raise ValueError("field 'warnings': expected a list of messages")
        cells = table_field(raw["cells"], "cells", CELL_COLUMNS, text=TEXT_COLUMNS, positive=INPUTS)
        return cls(
            lr=_law_field(raw, "lr"),
            batch=None if raw["batch"] is None else _law_field(raw, "batch"),
            cells=cells,
            warnings=tuple(messages),
        )


# Cells whose tokens per parameter differ by less than this (in ln) share one ratio.
SAME_RATIO = 1e-3
# A prediction within this factor of the cells' shared ratio is at that ratio.
RATIO_SLACK = 1.01


def _warn_no_interval(column: str, fit: FitResult) -> None:
    """Warn that ``column``'s bounds are NaN, quoting why the sweep gave the fit no bootstrap
    samples (silent when it was fitted with ``bootstrap=0``, a choice, not a shortfall)."""
    if not fit.warnings:
        return
    reason = "; ".join(fit.warnings)
    warnings.warn(
        f"HparamsResult.predict: no interval for {column} ({column}_lower and "
        f"{column}_upper are NaN): {reason}",
        ScalingFitWarning,
        stacklevel=3,
    )


def _warn_other_ratio(fit: FitResult, n: np.ndarray, d: np.ndarray) -> None:
    """Warn when every cell of the lr law has one tokens-per-parameter ratio (a and b are
    then not separately determined) and some prediction is at another ratio."""
    if not len(n) or fit.data is None or not {"n_params", "tokens"} <= set(fit.data.columns):
        return
    ratios = np.log(fit.data["tokens"].to_numpy(float) / fit.data["n_params"].to_numpy(float))
    if not len(ratios) or np.ptp(ratios) > SAME_RATIO:
        return
    asked = np.log(d / n)
    off = np.abs(asked - ratios.mean()) > np.log(RATIO_SLACK)
    if off.any():
        warnings.warn(
            f"HparamsResult.predict: every cell of the lr law has {np.exp(ratios.mean()):.3g} "
            "tokens per parameter, so its exponents a and b are not separately determined, "
            f"and lr at {np.exp(asked[off][0]):.3g} tokens per parameter is a guess; add "
            "cells with other token counts at the same model size",
            ScalingFitWarning,
            stacklevel=3,
        )


def _finite_rows(samples: np.ndarray | None) -> np.ndarray:
    """The bootstrap rows without NaN (none when there are no samples)."""
    if samples is None:
        return np.empty((0, 0))
    return samples[np.all(np.isfinite(samples), axis=1)]


def _law_field(raw: dict[str, Any], field: str) -> FitResult:
    """The FitResult stored under ``field``, checked as a fit file is and of the expected
    law; bootstrap rows holding null are left out (they carry no draw)."""
    if not isinstance(raw[field], dict):
        raise ValueError(f"field {field!r}: expected the object of a fit result")
    try:
        fit = FitResult.from_json(json.dumps(raw[field]))
    except DataError as exc:
        detail = str(exc).removeprefix("the JSON text is not a scaling_fit fit result: ")
        raise ValueError(f"field {field!r}: {detail}") from None
    if fit.law.name != LAWS[field]:
        raise ValueError(f"field '{field}.law': expected {LAWS[field]!r}, found {fit.law.name!r}")
    rows = _finite_rows(fit.samples)
    return replace(fit, samples=rows if len(rows) else None)
