"""IsoflopResult: the outcome of :func:`scaling_fit.isoflop` and what it offers.

Per-budget optima and the power laws N*(C) = k·C^a, D*(C) = k_D·C^b, with bootstrap intervals
and bands (``interval``, ``ci95``, ``frontier``), the local parabolas (``curves``), plots
(``plot_data``, ``plot``), a text ``report`` and JSON (``to_dict``, ``to_json``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..arguments import checked
from ..inputs.validate import check_positive_inputs
from .base import Result, Section, Table
from .intervals import percentile_interval
from .json_file import table_field
from .json_safe import json_columns

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

JSON_FORMAT = "scaling_fit.IsoflopResult/1"
PARAMS = ("a", "k", "b", "k_D")
BUDGET_TEXT = ("window", "flag", "note", "used", "at_edge", "too_few")


@dataclass(frozen=True, repr=False)
class IsoflopResult(Result):
    """The outcome of :func:`isoflop`: per-budget optima and N*(C) = k·C^a, D*(C) = k_D·C^b.

    Attributes
    ----------
    params
        ``a``, ``k`` (N* = k·C^a) and ``b``, ``k_D`` (D* = k_D·C^b), C in FLOPs.
    r2
        R² of the log-log fits (``n``, ``tokens``).
    budgets
        One row per budget: ``budget, n_opt, tokens_opt, loss_opt, n_points, n_local``
        (points in the parabola's window), ``window`` (``"lowest -i/+j"``: the lowest point
        with i sampled N below and j above it; ``"whole profile"``), ``flag, note,
        curvature`` (L = loss_opt + curvature·ln²(N/n_opt)), ``fit_n_min, fit_n_max`` (the
        window's N range), ``used, at_edge, too_few``.
    points
        One row per (budget, N): ``budget, compute, n_params, tokens, loss, local``.
    warnings, options
        Messages about flagged budgets; provenance of every choice.
    samples
        Bootstrap (a, k, b, k_D), shape ``(bootstrap, 4)``, NaN rows for degenerate
        resamples; None without a bootstrap.
    """

    FORMAT = JSON_FORMAT
    WHAT = "isoFLOP result"

    params: dict[str, float]
    r2: dict[str, float]
    budgets: pd.DataFrame
    points: pd.DataFrame
    warnings: tuple[str, ...]
    options: dict[str, Any]
    samples: np.ndarray | None = None
    version: str = field(default="")

    @checked
    def interval(self, level: float = 0.95) -> dict[str, tuple[float, float] | None]:
        """Bootstrap percentile interval of a, k, b, k_D (None without a bootstrap)."""
        if self.samples is None:
            return dict.fromkeys(PARAMS)
        lo, hi = percentile_interval(self.samples, level, axis=0)
        return {p: (float(x), float(y)) for p, x, y in zip(PARAMS, lo, hi, strict=True)}

    @property
    def ci95(self) -> dict[str, tuple[float, float] | None]:
        """95 % bootstrap percentile intervals."""
        return self.interval(0.95)

    @checked
    def frontier(self, compute: Any = None, *, level: float = 0.95) -> pd.DataFrame:
        """N*(C) and D*(C) from the power laws, with bootstrap percentile bands (else NaN).

        Parameters
        ----------
        compute
            Budgets in FLOPs; None for 50 budgets spanning the fitted ones.
        level
            Central probability of the bootstrap percentile bands.

        Returns
        -------
        pandas.DataFrame
            ``compute``, ``n_opt``, ``tokens_opt``, ``n_lower``/``n_upper`` and
            ``tokens_lower``/``tokens_upper``.
        """
        used = self.budgets.loc[self.budgets["used"], "budget"]
        if compute is not None:  # "x", NaN or -1 gave numpy's error or rows of NaN
            check_positive_inputs({"compute": compute}, "IsoflopResult.frontier")
        c = np.geomspace(used.min(), used.max(), 50) if compute is None else compute
        c = np.atleast_1d(np.asarray(c, dtype=float))
        p, table = self.params, pd.DataFrame({"compute": c})
        table["n_opt"], table["tokens_opt"] = p["k"] * c ** p["a"], p["k_D"] * c ** p["b"]
        for name, (exp, coef) in {"n": (0, 1), "tokens": (2, 3)}.items():
            bounds = (np.nan, np.nan)
            if self.samples is not None:
                s = self.samples[np.isfinite(self.samples[:, 0])]
                draws = s[:, [coef]] * c[None, :] ** s[:, [exp]]
                bounds = percentile_interval(draws, level, axis=0)
            table[f"{name}_lower"], table[f"{name}_upper"] = bounds
        return table

    @checked
    def curves(self, n_grid: int = 50) -> pd.DataFrame:
        """Each budget's local parabola over the N range it was fitted on."""
        parts = []
        for row in self.budgets.loc[np.isfinite(self.budgets["curvature"])].itertuples():
            n = np.geomspace(row.fit_n_min, row.fit_n_max, n_grid)
            loss = row.loss_opt + row.curvature * np.log(n / row.n_opt) ** 2
            parts.append(pd.DataFrame({"budget": row.budget, "n_params": n, "loss": loss}))
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    def plot_data(self) -> dict[str, pd.DataFrame]:
        """Plot-ready tables: ``points``, ``curves`` (local fits), ``optima``, ``frontier``."""
        curves, frontier = self.curves(), self.frontier()
        return {
            "points": self.points,
            "curves": curves,
            "optima": self.budgets,
            "frontier": frontier,
        }

    def plot(self, ax: Axes | None = None, *, kind: str = "profiles") -> Figure:
        """Draw the isoFLOP profiles (``kind="profiles"``) or N*(C) (``"frontier"``).

        Matplotlib object API only: without ``ax`` a new figure (no pyplot) is made (see
        :func:`scaling_fit.plotting.plot_isoflop`).

        Parameters
        ----------
        ax
            Axes to draw on, or None for a new figure.
        kind
            ``"profiles"`` or ``"frontier"``.

        Returns
        -------
        matplotlib.figure.Figure
            The figure drawn on.
        """
        from ..plotting.isoflop import plot_isoflop

        return plot_isoflop(self, ax, kind=kind)

    def sections(self) -> list[Section]:
        """The exponents with 95 % intervals, then the per-budget table and warnings."""
        ci = self.ci95
        lines = []
        for name, value in self.params.items():
            note = "" if ci[name] is None else " [{:.6g}, {:.6g}]".format(*ci[name])
            lines.append(f"    {name:<4} = {value:.6g}{note}")
        lines.append(f"    R² N* = {self.r2['n']:.4f}, D* = {self.r2['tokens']:.4f}")
        columns = ["budget", "n_opt", "tokens_opt", "loss_opt", "n_points", "window", "flag"]
        columns.append("used")
        return [
            Section(
                "[[isoFLOP]] Hoffmann et al. 2022 Approach 2: " + self.options["method"], lines
            ),
            Section(
                "[[Budgets]]",
                [Table(self.budgets[columns]), *(f"warning: {w}" for w in self.warnings)],
            ),
        ]

    def __repr__(self) -> str:
        p = self.params
        return f"IsoflopResult(a={p['a']:.4f}, b={p['b']:.4f}, budgets={len(self.budgets)})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (NaN written as null; bootstrap samples not included)."""
        ci, std = self.ci95, [None] * len(PARAMS)
        if self.samples is not None:
            std = np.nanstd(self.samples, axis=0, ddof=1).tolist()
        params = {
            n: {"value": self.params[n], "stderr": e} for n, e in zip(PARAMS, std, strict=True)
        }
        for name, entry in params.items():
            entry["ci95"] = None if ci[name] is None else list(ci[name])
        return {
            "format": JSON_FORMAT,
            "params": params,
            "r2": dict(self.r2),
            "budgets": json_columns(self.budgets),
            "warnings": list(self.warnings),
            "options": dict(self.options),
            "version": self.version,
            **({} if self.samples is None else {"samples": self.samples.tolist()}),
        }

    @classmethod
    def _from_dict(cls, raw: dict[str, Any]) -> IsoflopResult:
        """The result of :meth:`to_dict` (without the points: ``plot`` needs the original)."""
        samples = raw.get("samples")
        return cls(
            params={name: float(raw["params"][name]["value"]) for name in PARAMS},
            r2={key: float(value) for key, value in raw["r2"].items()},
            budgets=table_field(raw["budgets"], "budgets", ("budget",), text=BUDGET_TEXT),
            points=pd.DataFrame(),
            warnings=tuple(raw["warnings"]),
            options=dict(raw["options"]),
            samples=None if samples is None else np.array(samples, dtype=float),
            version=str(raw.get("version", "")),
        )
