"""IsoflopGroupsResult: one :class:`~scaling_fit.IsoflopResult` per group of runs
(:func:`scaling_fit.isoflop_groups`, ``scaling-fit isoflop --group-by``).

JSON tag ``scaling_fit.IsoflopGroups/1``: ``{"format", "group_by": [columns], "groups":
[{"group": {column: value}, **IsoflopResult.to_dict()}]}`` (as the command line wrote it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .base import Result, Section
from .isoflop_result import IsoflopResult

SHOWN = 20  # groups in the report
OPTIMA = ["budget", "n_opt", "tokens_opt", "loss_opt", "n_points", "n_local", "flag", "note"]
TABLES = ("optima", "fits")


@dataclass(frozen=True, repr=False)
class IsoflopGroupsResult(Result):
    """The isoFLOP analysis of each group of runs.

    Attributes
    ----------
    group_by : tuple of str
        The grouping columns (empty: one analysis of all runs).
    groups : tuple of (dict, IsoflopResult)
        Each group's key (``{column: value}``) and its result, in sorted key order.
    """

    FORMAT = "scaling_fit.IsoflopGroups/1"
    WHAT = "grouped isoFLOP result"

    group_by: tuple[str, ...]
    groups: tuple[tuple[dict[str, Any], IsoflopResult], ...]

    def sections(self) -> list[Section]:
        """One line per group (the fitted exponents), at most 20, then a count."""
        lines = [f"{label(key) or 'isoflop'}: {summary_line(r)}" for key, r in self.groups]
        if len(lines) > SHOWN:
            how = "all: --format json or csv"
            lines = [*lines[:SHOWN], f"… {len(lines) - SHOWN} more groups ({how})"]
        return [Section(lines[0], lines[1:])]

    def __repr__(self) -> str:
        return self.report()

    def table(self, name: str = "optima") -> pd.DataFrame:
        """Every group's per-budget optima (``"optima"``) or fits (``"fits"``), one table,
        the group columns first."""
        if name not in TABLES:
            raise ValueError(f"table {name!r}: expected one of {TABLES}")
        rows = _optima if name == "optima" else _fits
        return pd.concat([rows(key, result) for key, result in self.groups], ignore_index=True)

    def plot(self, ax: Any = None, *, kind: str = "frontier") -> Any:
        """Each group's N*(C) frontier on one axes (a matplotlib Figure)."""
        from ..plotting.figure import target_axes

        ax = target_axes(ax)
        for key, result in self.groups:
            budgets = result.budgets[result.budgets["used"].astype(bool)]
            ax.loglog(budgets["budget"], budgets["n_opt"], "o-", label=label(key) or "all runs")
        ax.set_xlabel("compute C (FLOPs)")
        ax.set_ylabel("N* (parameters)")
        ax.legend()
        return ax.figure

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary: the grouping columns and each group's result."""
        groups = [{"group": key, **result.to_dict()} for key, result in self.groups]
        return {"format": self.FORMAT, "group_by": list(self.group_by), "groups": groups}

    @classmethod
    def _from_dict(cls, raw: dict[str, Any]) -> IsoflopGroupsResult:
        groups = []
        for entry in raw["groups"]:
            inner = {k: v for k, v in entry.items() if k != "group"}
            groups.append((dict(entry["group"]), IsoflopResult._from_dict(inner)))
        return cls(group_by=tuple(raw["group_by"]), groups=tuple(groups))


def summary_line(result: IsoflopResult) -> str:
    """``N* = k*C^a with a = … [lo, hi], …; B budgets used, F flagged``."""
    p, ci = result.params, result.ci95

    def show(name: str) -> str:
        bounds = "" if ci[name] is None else " [{:.4g}, {:.4g}]".format(*ci[name])
        return f"{name} = {p[name]:.4g}{bounds}"

    used, flagged = result.options["budgets_used"], result.options["budgets_flagged"]
    return (
        f"N* = k*C^a with {show('a')}, {show('k')}; D* = k_D*C^b with {show('b')}, "
        f"{show('k_D')}; {used} budgets used, {flagged} flagged"
    )


def label(key: dict[str, Any]) -> str:
    """``column=value, …`` of a group's key ("" for all runs)."""
    return ", ".join(f"{column}={value}" for column, value in key.items())


def _optima(key: dict[str, Any], result: IsoflopResult) -> pd.DataFrame:
    """Per-budget optima of one group, group columns first."""
    table = result.budgets[[*OPTIMA, "used"]]
    return pd.concat([pd.DataFrame([key] * len(table)), table.reset_index(drop=True)], axis=1)


def _fits(key: dict[str, Any], result: IsoflopResult) -> pd.DataFrame:
    """One row: group columns, a, k, b, k_D with 95 % bounds, R², budgets used."""
    row: dict[str, Any] = dict(key)
    for name, interval in result.ci95.items():
        row[name] = result.params[name]
        row[f"{name}_lower"], row[f"{name}_upper"] = interval or (math.nan, math.nan)
    row["r2_n"], row["r2_tokens"] = result.r2["n"], result.r2["tokens"]
    row["budgets_used"] = result.options["budgets_used"]
    row["budgets_flagged"] = result.options["budgets_flagged"]
    return pd.DataFrame([row])
