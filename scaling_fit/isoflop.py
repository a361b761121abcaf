"""isoflop(): compute-optimal N and D from isoFLOP profiles (Hoffmann et al. 2022, Approach 2).

Per compute budget the loss-optimal model size is the vertex of a parabola in ln N fitted
**locally** to the lowest point of the profile and its neighbours; then N*(C) = k·C^a and
D*(C) = k_D·C^b are fitted by ordinary least squares in log-log space.  A parabola over a wide
or off-centre grid is biased (laws.md §9.4), so only the points next to the minimum are used:
by default the exact parabola through three points, a smooth stand-in for the Akima
interpolation of Porian et al. (2024, arXiv:2406.19146), whose ``basic`` exponents it
reproduces (tests/test_isoflop.py).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._version import __version__
from .errors import DataError, ScalingFitWarning
from .io import final_points, load_runs

JSON_FORMAT = "scaling_fit.IsoflopResult/1"
FLOPS_PER_PARAM_TOKEN = 6.0
# Fewest distinct N that place a parabola (vertex) around a minimum.
MIN_POINTS = 3
# Budgets equal to this relative precision are one budget (float round-off of 6·N·D).
SAME_BUDGET_RTOL = 1e-9
PARAMS = ("a", "k", "b", "k_D")
Grouping = float | Callable[[np.ndarray], Any] | None


def isoflop(
    runs: Any,
    *,
    budget_column: str = "compute",
    grouping: Grouping = None,
    neighbours: int = 1,
    min_side: int = 2,
    duplicates: str = "min",
    keep_flagged: bool = False,
    bootstrap: int = 1000,
    seed: int = 0,
) -> IsoflopResult:
    """IsoFLOP analysis: loss-optimal N and D per compute budget, then power laws in C.

    Method (Hoffmann et al. 2022, arXiv:2203.15556, §3.2 "Approach 2"; Porian et al. 2024,
    arXiv:2406.19146): group the runs by budget; in each, fit loss = c₀ + c₁ ln N + c₂ (ln N)²
    to the lowest-loss N and its ``neighbours`` on each side (exact through 3 points by default)
    and take the vertex as N*; D* is the vertex of the same fit in ln D (= C/(6N*) when the data
    obey C = 6ND) and L* the parabola's minimum. Then ln N* = ln k + a ln C and
    ln D* = ln k_D + b ln C by OLS over the budgets, as Porian et al.'s ``basic`` fit.

    Flags, each warned (:class:`ScalingFitWarning`) and kept in ``result.warnings``:
    ``edge``, the lowest loss is at the smallest or largest N sampled, so the optimum lies
    outside the grid (N* is then that sampled N, a bound); ``near_edge``, the vertex has fewer
    than ``min_side`` sampled N on one side (it rests on one outer point); ``too_few``, fewer
    than 3 distinct N; ``not_convex``, the local fit has no minimum. Flagged budgets are left
    out of the power-law fit unless ``keep_flagged=True``.

    Parameters
    ----------
    runs
        Tidy table with ``n_params``, ``loss``, the budget column and optionally ``tokens``
        (else D = C/(6N)), or anything :func:`scaling_fit.load_runs` accepts.
    budget_column
        Column holding each run's training FLOPs.
    grouping
        How runs form budgets: None (equal values, to float round-off); a float ``r`` (values
        within a factor ``1 + r`` of a budget's smallest share it, labelled by their median);
        or a function of the compute array returning budget labels, e.g.
        ``lambda c: 2.0 ** np.round(np.log2(c))``.
    neighbours
        Points on each side of the lowest one used by the local parabola (1: three points).
    min_side
        Sampled N needed on each side of the vertex for it not to be ``near_edge``.
    duplicates
        Several runs at one (budget, N), e.g. a learning-rate sweep: ``"min"`` keeps the lowest
        loss (as Porian et al.), ``"mean"`` averages them (seeds).
    keep_flagged
        Fit the power laws on flagged budgets too.
    bootstrap
        Resamples for the percentile intervals on a, k, b, k_D (0: none). Budgets are
        resampled with replacement: they are the independent units of the OLS (each optimum
        comes from its own runs), whereas the points of a budget sit at chosen grid positions
        and a 3-point fit of a point resample is mostly degenerate. Resamples that draw one
        budget only are dropped (count in ``options["bootstrap_valid"]``).
    seed
        Seed of the resampling.

    Returns
    -------
    IsoflopResult
    """
    if duplicates not in ("min", "mean"):
        raise DataError(f"duplicates={duplicates!r} is not supported: expected 'min' or 'mean'")
    if neighbours < 1 or min_side < 1:
        raise DataError(f"neighbours and min_side must be ≥ 1; found {neighbours}, {min_side}")
    points, tokens_note = _prepare(runs, budget_column, grouping, duplicates)
    table = _optima(points, neighbours, min_side, keep_flagged)
    messages = _flag_messages(table, keep_flagged)
    used = table.loc[table["used"]]
    if len(used) < 2:
        raise DataError(
            f"isoFLOP fit needs at least 2 usable budgets; found {len(used)} of {len(table)} "
            f"(flags: {table['flag'].value_counts().to_dict()}). Add budgets, sample N around each "
            "minimum, pass grouping= if budgets differ by round-off, or keep_flagged=True"
        )
    params, r2, samples = _power_laws(used, bootstrap, seed, messages)
    for message in messages:
        warnings.warn(message, ScalingFitWarning, stacklevel=2)
    options = {
        "method": f"parabola in ln N through the lowest point and {neighbours} neighbour(s) "
        f"on each side; near_edge if fewer than {min_side} sampled N on one side of it",
        "budget_column": budget_column,
        "grouping": "exact" if grouping is None else getattr(grouping, "__name__", grouping),
        "duplicates": duplicates,
        "keep_flagged": bool(keep_flagged),
        "tokens": tokens_note,
        "budgets_used": len(used),
        "budgets_flagged": int((table["flag"] != "").sum()),
        "bootstrap": int(bootstrap),
        "bootstrap_unit": "budgets",
        "bootstrap_valid": 0 if samples is None else int(np.isfinite(samples[:, 0]).sum()),
        "seed": int(seed),
    }
    return IsoflopResult(
        params=params,
        r2=r2,
        budgets=table,
        points=points,
        warnings=tuple(messages),
        options=options,
        samples=samples,
        version=__version__,
    )


@dataclass(frozen=True, repr=False)
class IsoflopResult:
    """The outcome of :func:`isoflop`: per-budget optima and N*(C) = k·C^a, D*(C) = k_D·C^b.

    Attributes
    ----------
    params
        ``a``, ``k`` (N* = k·C^a) and ``b``, ``k_D`` (D* = k_D·C^b), C in FLOPs.
    r2
        R² of the log-log fits (``n``, ``tokens``).
    budgets
        One row per budget: ``budget, n_opt, tokens_opt, loss_opt, n_points, n_local, flag,
        note, curvature`` (L = loss_opt + curvature·ln²(N/n_opt)), ``fit_n_min, fit_n_max``
        (the local fit's N range), ``used, at_edge, too_few``.
    points
        One row per (budget, N): ``budget, compute, n_params, tokens, loss, local``.
    warnings, options
        Messages about flagged budgets; provenance of every choice.
    samples
        Bootstrap (a, k, b, k_D), shape ``(bootstrap, 4)``, NaN rows for degenerate
        resamples; None without a bootstrap.
    """

    params: dict[str, float]
    r2: dict[str, float]
    budgets: pd.DataFrame
    points: pd.DataFrame
    warnings: tuple[str, ...]
    options: dict[str, Any]
    samples: np.ndarray | None = None
    version: str = field(default="")

    def interval(self, level: float = 0.95) -> dict[str, tuple[float, float] | None]:
        """Bootstrap percentile interval of a, k, b, k_D (None without a bootstrap)."""
        if self.samples is None:
            return dict.fromkeys(PARAMS)
        lo, hi = np.nanpercentile(self.samples, (50 * (1 - level), 50 * (1 + level)), axis=0)
        return {p: (float(x), float(y)) for p, x, y in zip(PARAMS, lo, hi, strict=True)}

    @property
    def ci95(self) -> dict[str, tuple[float, float] | None]:
        """95 % bootstrap percentile intervals."""
        return self.interval(0.95)

    def frontier(self, compute: Any = None, *, level: float = 0.95) -> pd.DataFrame:
        """N*(C) and D*(C) from the power laws, with bootstrap percentile bands (else NaN).

        ``compute`` defaults to 50 budgets spanning the fitted ones.
        """
        used = self.budgets.loc[self.budgets["used"], "budget"]
        c = np.geomspace(used.min(), used.max(), 50) if compute is None else compute
        c = np.atleast_1d(np.asarray(c, dtype=float))
        p, table = self.params, pd.DataFrame({"compute": c})
        table["n_opt"], table["tokens_opt"] = p["k"] * c ** p["a"], p["k_D"] * c ** p["b"]
        for name, (exp, coef) in {"n": (0, 1), "tokens": (2, 3)}.items():
            bounds = (np.nan, np.nan)
            if self.samples is not None:
                s = self.samples[np.isfinite(self.samples[:, 0])]
                draws = s[:, [coef]] * c[None, :] ** s[:, [exp]]
                bounds = np.percentile(draws, (50 * (1 - level), 50 * (1 + level)), axis=0)
            table[f"{name}_lower"], table[f"{name}_upper"] = bounds
        return table

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

    def plot(self, ax: Axes | None = None, *, kind: str = "profiles") -> Axes:
        """Draw the isoFLOP profiles (``kind="profiles"``) or N*(C) (``"frontier"``).

        Matplotlib object API only: without ``ax`` a new ``Figure`` (no pyplot) is made.
        Optima of budgets left out of the fit are drawn as crosses.
        """
        if kind not in ("profiles", "frontier"):
            raise DataError(f"kind={kind!r} is not supported: expected 'profiles' or 'frontier'")
        ax = Figure().add_subplot() if ax is None else ax
        opt, ok = self.budgets, self.budgets["used"].to_numpy()
        if kind == "frontier":
            line = self.frontier()
            ax.fill_between(line["compute"], line["n_lower"], line["n_upper"], alpha=0.25)
            ax.plot(line["compute"], line["n_opt"], label=f"N* ∝ C^{self.params['a']:.3f}")
            x, y, labels = opt["budget"], opt["n_opt"], ("compute C (FLOPs)", "N*")
        else:
            curves, cmap = self.curves(), colormaps["viridis"]
            for j, (budget, pts) in enumerate(self.points.groupby("budget")):
                colour = cmap(j / max(1, len(opt) - 1))
                ax.plot(pts["n_params"], pts["loss"], ".", color=colour, label=f"C={budget:.3g}")
                fit = curves.loc[curves["budget"] == budget] if len(curves) else curves
                ax.plot(fit.get("n_params", []), fit.get("loss", []), "-", color=colour)
            x, y, labels = opt["n_opt"], opt["loss_opt"], ("parameters N", "loss")
        ax.plot(x[ok], y[ok], "k*", label="optima")
        ax.plot(x[~ok], y[~ok], "kx", label="left out (flagged)")
        ax.set(xscale="log", yscale="log" if kind == "frontier" else "linear")
        ax.set(xlabel=labels[0], ylabel=labels[1])
        ax.legend(fontsize="small")
        return ax

    def report(self) -> str:
        """Plain-text summary: exponents with 95 % intervals, then the per-budget table."""
        ci = self.ci95
        lines = ["[[isoFLOP]] Hoffmann et al. 2022 Approach 2: " + self.options["method"]]
        for name, value in self.params.items():
            note = "" if ci[name] is None else " [{:.6g}, {:.6g}]".format(*ci[name])
            lines.append(f"    {name:<4} = {value:.6g}{note}")
        lines.append(f"    R² N* = {self.r2['n']:.4f}, D* = {self.r2['tokens']:.4f}")
        columns = ["budget", "n_opt", "tokens_opt", "loss_opt", "n_points", "flag", "used"]
        lines += ["[[Budgets]]", self.budgets[columns].to_string(index=False)]
        return "\n".join(lines + [f"warning: {w}" for w in self.warnings])

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
        budgets = self.budgets.astype(object).where(self.budgets.notna(), None)
        return {
            "format": JSON_FORMAT,
            "params": params,
            "r2": dict(self.r2),
            "budgets": budgets.to_dict(orient="list"),
            "warnings": list(self.warnings),
            "options": dict(self.options),
            "version": self.version,
        }

    def to_json(self, path: str | Path | None = None, *, indent: int = 2) -> str:
        """Serialise to JSON text; also write it to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=indent, allow_nan=False)
        if path is not None:
            Path(path).write_text(text + "\n")
        return text


def _prepare(
    runs: Any, budget_column: str, grouping: Grouping, duplicates: str
) -> tuple[pd.DataFrame, str]:
    """Points as ``budget, compute, n_params, tokens, loss``, one per (budget, N), sorted."""
    table = runs if isinstance(runs, pd.DataFrame) else load_runs(runs)
    needed = [budget_column, "n_params", "loss"]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise DataError(
            f"isoflop needs columns {needed}; missing {missing} (found {list(table.columns)}). "
            "Rename your columns, pass budget_column=, or add the budget, e.g. "
            "runs.assign(compute=6 * runs.n_params * runs.tokens)"
        )
    if "run" in table.columns and "step" in table.columns:
        table = final_points(table)
    has_tokens = "tokens" in table.columns
    columns = {"compute": budget_column, "n_params": "n_params", "loss": "loss"}
    frame = pd.DataFrame({k: table[v].to_numpy(float) for k, v in columns.items()})
    frame["tokens"] = table["tokens"].to_numpy(float) if has_tokens else 1.0
    for column, values in frame.items():
        bad = ~(np.isfinite(values) & (values > 0))
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"row {table.index[i]!r}, column {columns.get(column, column)!r}: expected a "
                f"positive finite number, found {values.iloc[i]!r}; fix or drop that row"
            )
    if not has_tokens:
        frame["tokens"] = frame["compute"] / (FLOPS_PER_PARAM_TOKEN * frame["n_params"])
    frame.insert(0, "budget", _budget_labels(frame["compute"].to_numpy(), grouping))
    keys = ["budget", "n_params"]
    if duplicates == "min":
        frame = frame.loc[frame.groupby(keys)["loss"].idxmin()]
    else:
        frame = frame.groupby(keys, as_index=False).mean()
    note = "from the data" if has_tokens else "derived as compute / (6 n_params)"
    return frame.sort_values(keys).reset_index(drop=True), note


def _budget_labels(compute: np.ndarray, grouping: Grouping) -> np.ndarray:
    """Budget label of every run."""
    if callable(grouping):
        labels = np.asarray(grouping(compute), dtype=float)
        if labels.shape != compute.shape or not np.all(np.isfinite(labels) & (labels > 0)):
            raise DataError(
                "grouping(compute) must return one positive finite budget per run; found "
                f"shape {labels.shape} for {compute.shape[0]} runs"
            )
        return labels
    tol = SAME_BUDGET_RTOL if grouping is None else float(grouping)
    order = np.argsort(compute, kind="stable")
    ids, first, group = np.empty(len(order), dtype=int), compute[order[0]], 0
    for j, value in enumerate(compute[order]):
        if value > first * (1.0 + tol):
            first, group = value, group + 1
        ids[j] = group
    labels = np.empty_like(compute)
    labels[order] = pd.Series(compute[order]).groupby(ids).transform("median").to_numpy()
    return labels


def _locate(group: pd.DataFrame, neighbours: int, min_side: int) -> dict[str, Any]:
    """Optimum of one budget's profile by a parabola local to its lowest point."""
    n = group["n_params"].to_numpy(float)
    x = np.log(n)
    z, loss = np.log(group["tokens"].to_numpy(float)), group["loss"].to_numpy(float)
    i, m = int(np.argmin(loss)), len(x)
    lo, hi = max(0, i - neighbours), min(m, i + neighbours + 1)
    row = {
        "budget": float(group["budget"].iloc[0]),
        "n_opt": float(n[i]),
        "tokens_opt": float(group["tokens"].iloc[i]),
        "loss_opt": float(loss[i]),
        "n_points": m,
        "n_local": hi - lo,
        "flag": "",
        "note": "",
        "curvature": np.nan,
        "fit_n_min": float(n[lo]),
        "fit_n_max": float(n[hi - 1]),
    }
    if m < MIN_POINTS:
        return row | {"flag": "too_few", "note": f"{m} distinct N"}
    if i in (0, m - 1):
        side = "smallest" if i == 0 else "largest"
        return row | {"flag": "edge", "note": f"lowest loss at the {side} N sampled"}
    c2, c1, c0 = np.polyfit(x[lo:hi] - x[i], loss[lo:hi], 2)
    d2, d1, _ = np.polyfit(z[lo:hi] - z[i], loss[lo:hi], 2)
    if c2 <= 0 or d2 <= 0:
        return row | {"flag": "not_convex", "note": "the local parabola has no minimum"}
    vertex = x[i] - c1 / (2 * c2)
    row |= {
        "n_opt": float(np.exp(vertex)),
        "tokens_opt": float(np.exp(z[i] - d1 / (2 * d2))),
        "loss_opt": float(c0 - c1**2 / (4 * c2)),
        "curvature": float(c2),
    }
    below, above = int(np.sum(x < vertex)), int(np.sum(x > vertex))
    if min(below, above) < min_side:
        where = "below" if below < above else "above"
        note = f"optimum N={row['n_opt']:.3g} has {min(below, above)} sampled N {where} it"
        row |= {"flag": "near_edge", "note": note}
    return row


def _optima(
    points: pd.DataFrame, neighbours: int, min_side: int, keep_flagged: bool
) -> pd.DataFrame:
    """Per-budget table; marks in ``points["local"]`` the points each local fit used."""
    table = pd.DataFrame([_locate(g, neighbours, min_side) for _, g in points.groupby("budget")])
    table["used"] = (table["flag"] == "") | keep_flagged
    table["at_edge"] = table["flag"].isin(["edge", "near_edge"])
    table["too_few"] = table["flag"] == "too_few"
    span = table.set_index("budget").loc[points["budget"]]
    n = points["n_params"].to_numpy(float)
    points["local"] = (n >= span["fit_n_min"].to_numpy()) & (n <= span["fit_n_max"].to_numpy())
    points["local"] &= np.isfinite(span["curvature"].to_numpy())
    return table


def _power_laws(
    used: pd.DataFrame, bootstrap: int, seed: int, messages: list[str]
) -> tuple[dict[str, float], dict[str, float], np.ndarray | None]:
    """(a, k, b, k_D), the R² of both fits and the bootstrap samples (None without)."""
    logc = np.log(used["budget"].to_numpy(float))
    logs = np.log(used[["n_opt", "tokens_opt"]].to_numpy(float))
    (a, ln_k, r2_n), (b, ln_kd, r2_d) = _ols(logc, logs[:, 0]), _ols(logc, logs[:, 1])
    params = {"a": a, "k": float(np.exp(ln_k)), "b": b, "k_D": float(np.exp(ln_kd))}
    samples = None
    if bootstrap and len(used) < 3:
        messages.append(f"no bootstrap: {len(used)} budgets cannot give an interval (need ≥ 3)")
    elif bootstrap:
        samples = _bootstrap(logc, logs, int(bootstrap), seed)
    return params, {"n": r2_n, "tokens": r2_d}, samples


def _flag_messages(table: pd.DataFrame, keep_flagged: bool) -> list[str]:
    """One warning per kind of problem, naming the budgets."""
    fate = "kept in the N*(C) fit (keep_flagged=True)"
    if not keep_flagged:
        fate = "left out of the N*(C) fit (pass keep_flagged=True to keep them)"
    heads = {
        "edge": "the optimum sits at or near the edge of the sampled N range, so it is an "
        "extrapolation; sample N further beyond that edge",
        "too_few": f"fewer than {MIN_POINTS} points around the minimum, too few for a parabola",
        "not_convex": "the loss is not convex around its lowest point",
    }
    details: dict[str, list[str]] = {k: [] for k in heads}
    for row in table.loc[table["flag"] != ""].itertuples():
        details["edge" if row.flag == "near_edge" else row.flag].append(
            f"C={row.budget:.4g} ({row.note})"
        )
    return [f"isoFLOP budgets: {heads[k]}: {'; '.join(v)}; {fate}" for k, v in details.items() if v]


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Slope, intercept and R² of the least-squares line y = intercept + slope·x."""
    slope, intercept = np.polyfit(x, y, 1)
    total = np.sum((y - y.mean()) ** 2)
    r2 = 1.0 - np.sum((y - intercept - slope * x) ** 2) / total if total > 0 else np.nan
    return float(slope), float(intercept), float(r2)


def _bootstrap(logc: np.ndarray, logs: np.ndarray, n_resamples: int, seed: int) -> np.ndarray:
    """(a, k, b, k_D) of every resample of the budgets; NaN where one budget only was drawn.

    Each resample is an OLS weighted by how often each budget was drawn, all in one pass.
    """
    m = len(logc)
    draws = np.random.default_rng(seed).integers(0, m, (n_resamples, m))
    w = np.zeros((n_resamples, m))
    np.add.at(w, (np.arange(n_resamples)[:, None], draws), 1.0 / m)
    dx = logc[None, :] - (w @ logc)[:, None]
    sxx = np.sum(w * dx**2, axis=1)
    # A resample of one distinct budget has sxx = 0 up to round-off of the centred ln C.
    ok = sxx > 1e-12 * float(np.ptp(logc)) ** 2
    out = np.full((n_resamples, 4), np.nan)
    for j, column in enumerate(logs.T):
        slope = np.sum(w * dx * column[None, :], axis=1)[ok] / sxx[ok]
        intercept = (w @ column)[ok] - slope * (w @ logc)[ok]
        out[ok, 2 * j], out[ok, 2 * j + 1] = slope, np.exp(intercept)
    return out
