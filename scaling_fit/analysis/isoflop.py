"""isoflop(): compute-optimal N and D from isoFLOP profiles (Hoffmann et al. 2022, Approach 2).

Per compute budget the loss-optimal model size is the vertex of a parabola in ln N fitted to
a window of the profile around its lowest point; then N*(C) = k·C^a and D*(C) = k_D·C^b are
fitted by ordinary least squares in log-log space.  The window is a trade-off: a parabola over
a wide or off-centre grid is biased (laws.md §9.4), one through three points of a dense noisy
profile throws most of the data away.  ``method="local"`` is the parabola through the lowest
point and its neighbours (through three points: a smooth stand-in for the Akima interpolation
of Porian et al. 2024, arXiv:2406.19146); ``"quadratic"`` fits every point of the budget
(Hoffmann et al.'s Approach 2 as published); ``"auto"`` (default) chooses, per budget, the window
around the lowest point with the least estimated error, bias² (on a cubic fitted to the
budget's basin) + variance (under the noise the profiles show; :func:`_auto_window`).
benchmarks/isoflop_methods.py measures the three.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from .._version import __version__
from ..arguments import checked
from ..errors import DataError, ScalingFitWarning, argument
from ..inputs.columns import FLOPS_PER_PARAM_TOKEN
from ..inputs.points import as_table, final_point_per_run
from ..inputs.validate import check_bootstrap
from ..results.isoflop_result import IsoflopResult

# Fewest distinct N that place a parabola (vertex) around a minimum.
MIN_POINTS = 3
METHODS = ("auto", "local", "quadratic")
# "auto" chooses each budget's window within its basin, the run of points around the lowest
# whose losses are within BASIN_RISE of it (beyond, a profile's walls are no cubic either).
# Chosen with benchmarks/isoflop_methods.py and Porian et al.'s 15 configurations
# (tests/analysis/test_isoflop.py): 30 % loses one Porian configuration.
BASIN_RISE = 0.15
# Points of the grid on which the reference cubic's minimum is searched.
REFERENCE_GRID = 2001
# Fewest usable budgets for a bootstrap interval: over 3 budgets (27 resamples, 3 degenerate)
# the 95 % percentile interval of the exponent held the truth in 53-70 % of simulated cases,
# over 4 in 87-97 % (benchmarks/isoflop_few_budgets.py).
MIN_BOOTSTRAP_BUDGETS = 4
# "No usable budget" suggests grouping= when consecutive budgets are this close (median).
GROUPING_HINT = 0.1
# Budgets equal to this relative precision are one budget (float round-off of 6·N·D).
SAME_BUDGET_RTOL = 1e-9
Grouping = float | Callable[[np.ndarray], Any] | None


@checked
def isoflop(
    runs: Any,
    *,
    budget_column: str = "compute",
    grouping: Grouping = None,
    method: str = "auto",
    neighbours: int | None = None,
    min_side: int = 2,
    duplicates: str = "min",
    keep_flagged: bool = False,
    bootstrap: int = 1000,
    seed: int = 0,
) -> IsoflopResult:
    """IsoFLOP analysis: loss-optimal N and D per compute budget, then power laws in C.

    Method (Hoffmann et al. 2022, arXiv:2203.15556, §3.2 "Approach 2"; Porian et al. 2024,
    arXiv:2406.19146): group the runs by budget; in each, fit loss = c₀ + c₁ ln N + c₂ (ln N)²
    to a window of points around the lowest-loss N (``method``) and take the vertex as N*; D*
    is the vertex of the same fit in ln D (= C/(6N*) when the data obey C = 6ND) and L* the
    parabola's minimum. The window each budget used is its ``window`` column. Then
    ln N* = ln k + a ln C and ln D* = ln k_D + b ln C by OLS over the budgets, as Porian et
    al.'s ``basic`` fit.

    Flags, each warned (:class:`ScalingFitWarning`) and kept in ``result.warnings``:
    ``edge``, the lowest loss is at the smallest or largest N sampled, so the optimum lies
    outside the grid (N* is then that sampled N, a bound); ``near_edge``, the vertex has fewer
    than ``min_side`` sampled N on one side (it rests on one outer point); ``too_few``, fewer
    than 3 distinct N; ``not_convex``, the local fit has no minimum (or every loss of the
    budget is equal: a flat profile). Flagged budgets are left
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
    method
        How each budget's window is chosen. ``"auto"`` (default): among the windows of the
        lowest point ± k neighbours inside the budget's basin (the points whose losses are
        within 15 % of the lowest), the one whose vertex has the least estimated squared
        error: bias² on a cubic in ln N fitted to the basin, plus the vertex's variance under
        the loss noise (the scatter about cubics through each budget's 5 lowest-centred
        points, pooled over budgets). Dense noisy profiles get wide windows, smooth skewed
        ones three points. ``"local"``: the lowest point and ``neighbours`` on each side.
        ``"quadratic"``: every point of the budget (Hoffmann et al.'s Approach 2 as
        published).
    neighbours
        Points on each side of the lowest one for ``method="local"`` (default 1: three
        points); giving it with the default method selects ``"local"``.
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
        budget only are dropped (count in ``options["bootstrap_valid"]``). With fewer than
        ``MIN_BOOTSTRAP_BUDGETS`` (4) usable budgets there is no interval, and a warning says
        so: over 3 the interval is far too narrow.
    seed
        Seed of the resampling.

    Returns
    -------
    IsoflopResult
    """
    if duplicates not in ("min", "mean"):
        raise DataError(f"duplicates={duplicates!r} is not supported: expected 'min' or 'mean'")
    check_bootstrap(bootstrap)
    method, neighbours = _check_method(method, neighbours)
    neighbours, min_side = int(neighbours), int(min_side)
    if not isinstance(keep_flagged, (bool, np.bool_)):
        raise DataError(f"{argument('keep_flagged', keep_flagged)}: expected True or False")
    points, tokens_note = _prepare(runs, budget_column, grouping, duplicates)
    table = _optima(points, method, neighbours, min_side, keep_flagged)
    messages = _flag_messages(table, keep_flagged)
    used = table.loc[table["used"]]
    if len(used) < 2:
        hint = _no_fit_hint(table, min_side)
        raise DataError(
            f"isoFLOP fit needs at least 2 usable budgets; found {len(used)} of {len(table)} "
            f"(flags: {table['flag'].value_counts().to_dict()}). {hint}Add "
            f"budgets, sample N around each minimum, pass {argument('grouping')} if budgets "
            f"differ by round-off, or {argument('keep_flagged', True)}"
        )
    params, r2, samples = _power_laws(used, bootstrap, seed, messages)
    for message in messages:
        warnings.warn(message, ScalingFitWarning, stacklevel=2)
    options = {
        "method": f"{_describe(method, neighbours)}; near_edge if fewer than {min_side} "
        "sampled N on one side of the vertex",
        "window": method,
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


def _no_fit_hint(table: pd.DataFrame, min_side: int) -> str:
    """What the flags of a table without 2 usable budgets point to (may be "")."""
    hints = []
    single = int((table["n_points"] == 1).sum())
    budgets = np.sort(table["budget"].to_numpy(float))
    gaps = budgets[1:] / budgets[:-1] - 1.0
    if single > len(table) / 2 and len(gaps) and np.median(gaps) < GROUPING_HINT:
        hints.append(  # compute values a few % apart: one budget each, unless grouped
            f"{single} budgets hold a single run: runs whose compute differs at all are "
            f"separate budgets; group them, e.g. {argument('grouping', 0.05)}. "
        )
    elif single > len(table) / 2:  # far apart: a ladder of sizes, not isoFLOP profiles
        hints.append(
            f"{single} budgets hold a single run, their compute far apart: isoFLOP profiles "
            "need several model sizes trained with the same compute (for a ladder of sizes, "
            "fit a law: scaling-fit fit / compare). "
        )
    near = int((table["flag"] == "near_edge").sum())
    if near:
        hints.append(
            f"{near} budget(s) are near_edge, their vertex with fewer than {min_side} sampled N "
            f"on one side: sample N further out, or accept one with {argument('min_side', 1)}. "
        )
    return "".join(hints)


def _check_method(method: Any, neighbours: int | None) -> tuple[str, int]:
    """The window rule and the local neighbours; DataError for values that make no sense."""
    if not isinstance(method, str) or method not in METHODS:
        raise DataError(
            f"{argument('method', method)} is not a window rule: expected one of "
            f"{', '.join(map(repr, METHODS))} ('auto' chooses per budget from the data)"
        )
    if neighbours is None:
        return method, 1
    if method == "auto":
        return "local", neighbours
    if method == "quadratic":
        raise DataError(
            f"neighbours={neighbours!r} applies to {argument('method', 'local')}, not "
            f"{argument('method', method)}, which fits every point; drop one of them"
        )
    return method, neighbours


def _describe(method: str, neighbours: int) -> str:
    """One line saying how the windows were chosen."""
    if method == "local":
        return (
            f"parabola in ln N through the lowest point and {neighbours} neighbour(s) on each side"
        )
    if method == "quadratic":
        return "parabola in ln N over every point of each budget (Approach 2 as published)"
    return (
        "parabola in ln N over the window around the lowest point with the least estimated "
        f"bias² + noise variance, within the points {BASIN_RISE:.0%} above the lowest loss "
        "(method='auto')"
    )


def _prepare(
    runs: Any, budget_column: str, grouping: Grouping, duplicates: str
) -> tuple[pd.DataFrame, str]:
    """Points as ``budget, compute, n_params, tokens, loss``, one per (budget, N), sorted."""
    table = as_table(runs, tidy=())  # any DataFrame as is: the budget column may be named
    needed = [budget_column, "n_params", "loss"]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise DataError(
            f"isoflop needs columns {needed}; missing {missing} (found {list(table.columns)}). "
            "Map your columns (columns= of load_runs, --col NAME=COLUMN), pass "
            "budget_column=, or read a table with n_params and tokens through load_runs, "
            "which derives compute = 6 * n_params * tokens"
        )
    table = final_point_per_run(table)
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
    try:
        tol = SAME_BUDGET_RTOL if grouping is None else float(grouping)
    except (TypeError, ValueError):
        tol = np.nan
    if not 0 <= tol < 1:  # runs a factor 2 apart are not one budget (and 1e300 overflows)
        raise DataError(
            f"{argument('grouping', grouping)}: expected a relative tolerance >= 0 and < 1 "
            "(e.g. 0.05: runs within a factor 1.05 share a budget), None or a function of "
            "the compute"
        )
    order = np.argsort(compute, kind="stable")
    ids, first, group = np.empty(len(order), dtype=int), compute[order[0]], 0
    for j, value in enumerate(compute[order]):
        if value > first * (1.0 + tol):
            first, group = value, group + 1
        ids[j] = group
    labels = np.empty_like(compute)
    labels[order] = pd.Series(compute[order]).groupby(ids).transform("median").to_numpy()
    return labels


def _locate(
    group: pd.DataFrame, method: str, neighbours: int, min_side: int, noise: float
) -> dict[str, Any]:
    """Optimum of one budget's profile by a parabola over a window around its lowest point."""
    n = group["n_params"].to_numpy(float)
    x = np.log(n)
    z, loss = np.log(group["tokens"].to_numpy(float)), group["loss"].to_numpy(float)
    i, m = int(np.argmin(loss)), len(x)
    interior = m >= MIN_POINTS and 0 < i < m - 1
    lo, hi = _window(x, loss, method, neighbours, noise) if interior else (0, m)
    if not interior:
        k = 1 if method == "auto" else m if method == "quadratic" else neighbours
        lo, hi = max(0, i - k), min(m, i + k + 1)
    row = {
        "budget": float(group["budget"].iloc[0]),
        "n_opt": float(n[i]),
        "tokens_opt": float(group["tokens"].iloc[i]),
        "loss_opt": float(loss[i]),
        "n_points": m,
        "n_local": hi - lo,
        "window": "whole profile" if (lo, hi) == (0, m) else f"lowest -{i - lo}/+{hi - 1 - i}",
        "flag": "",
        "note": "",
        "curvature": np.nan,
        "fit_n_min": float(n[lo]),
        "fit_n_max": float(n[hi - 1]),
    }
    if m < MIN_POINTS:
        return row | {"flag": "too_few", "note": f"{m} distinct N"}
    if np.ptp(loss) == 0:  # argmin would call the smallest N the optimum, "at the edge"
        note = f"every sampled N has the same loss ({loss[0]:.6g}): a flat profile has no minimum"
        return row | {"flag": "not_convex", "note": note}
    if not interior:
        side = "smallest" if i == 0 else "largest"
        return row | {"flag": "edge", "note": f"lowest loss at the {side} N sampled"}
    c2, c1, c0 = np.polyfit(x[lo:hi] - x[i], loss[lo:hi], 2)
    d2, d1, _ = np.polyfit(z[lo:hi] - z[i], loss[lo:hi], 2)
    if c2 <= 0 or d2 <= 0:
        return row | {"flag": "not_convex", "note": "the fitted parabola has no minimum"}
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


def _window(
    x: np.ndarray, loss: np.ndarray, method: str, neighbours: int, noise: float
) -> tuple[int, int]:
    """Index range [lo, hi) of the points the parabola of one budget is fitted to."""
    i, m = int(np.argmin(loss)), len(x)
    if method == "quadratic":
        return 0, m
    if method == "local":
        return max(0, i - neighbours), min(m, i + neighbours + 1)
    return _auto_window(x, loss, noise)


def _pooled_noise(points: pd.DataFrame) -> float:
    """Loss noise σ: scatter about cubics through each budget's lowest point ± 2, pooled.

    A cubic through 5 consecutive points leaves 1 degree of freedom; it follows a smooth
    profile's skew near its minimum, so what is left is noise, not the shape of the walls.
    0 when no budget has 2 sampled N on each side of its lowest point.
    """
    squares, dof = 0.0, 0
    for _, group in points.groupby("budget"):
        x, loss = np.log(group["n_params"].to_numpy(float)), group["loss"].to_numpy(float)
        i = int(np.argmin(loss))
        if 2 <= i <= len(x) - 3:
            u, y = x[i - 2 : i + 3] - x[i], loss[i - 2 : i + 3]
            residuals = y - np.polyval(np.polyfit(u, y, 3), u)
            squares, dof = squares + float(residuals @ residuals), dof + 1
    return float(np.sqrt(squares / dof)) if dof > 0 else 0.0


def _basin(x: np.ndarray, loss: np.ndarray) -> tuple[int, int]:
    """Lowest point ± k, k as large as keeps every loss within ``BASIN_RISE`` (k ≥ 2)."""
    i, m = int(np.argmin(loss)), len(x)
    lo, hi = max(0, i - 2), min(m, i + 3)
    for k in range(3, max(i, m - 1 - i) + 1):
        wider = max(0, i - k), min(m, i + k + 1)
        if loss[wider[0] : wider[1]].max() > loss[i] * (1 + BASIN_RISE):
            break
        lo, hi = wider
    return lo, hi


def _auto_window(x: np.ndarray, loss: np.ndarray, noise: float) -> tuple[int, int]:
    """The window (lowest ± k points, within the basin) with the least estimated error.

    A cubic in ln N over the budget's basin (:func:`_basin`) stands in for the profile. For
    each window, the bias is how far the vertex of a parabola fitted to the cubic's values
    there lies from the cubic's minimum (the skew a wide parabola misreads), the variance
    the delta method's gᵀ σ² (XᵀX)⁻¹ g, g = ∂vertex/∂(c₀, c₁, c₂), under the pooled noise
    σ (:func:`_pooled_noise`). The window with the least bias² + variance wins: smooth skewed
    profiles keep few points, noisy ones average many.
    """
    i = int(np.argmin(loss))
    u = x - x[i]
    lo, hi = _basin(x, loss)
    reference = np.polyfit(u[lo:hi], loss[lo:hi], 3 if hi - lo >= 5 else 2)
    grid = np.linspace(u[lo], u[hi - 1], REFERENCE_GRID)
    target = grid[int(np.argmin(np.polyval(reference, grid)))]
    smooth = np.polyval(reference, u)
    best, best_error = (i - 1, i + 2), np.inf
    for k in range(1, max(i - lo, hi - 1 - i) + 1):
        window = slice(max(lo, i - k), min(hi, i + k + 1))
        design = np.vander(u[window], 3, increasing=True)
        c1, c2 = np.linalg.lstsq(design, smooth[window], rcond=None)[0][1:]
        if c2 <= 0:
            continue
        gradient = np.array([0.0, -1.0 / (2 * c2), c1 / (2 * c2**2)])
        variance = noise**2 * gradient @ np.linalg.pinv(design.T @ design) @ gradient
        error = (-c1 / (2 * c2) - target) ** 2 + variance
        if error < best_error - 1e-12:  # a tie (e.g. an exact parabola) keeps the narrower
            best, best_error = (window.start, window.stop), error
    return best


def _optima(
    points: pd.DataFrame, method: str, neighbours: int, min_side: int, keep_flagged: bool
) -> pd.DataFrame:
    """Per-budget table; marks in ``points["local"]`` the points each window fit used."""
    noise = _pooled_noise(points) if method == "auto" else 0.0
    table = pd.DataFrame(
        [_locate(g, method, neighbours, min_side, noise) for _, g in points.groupby("budget")]
    )
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
    if bootstrap and len(used) < MIN_BOOTSTRAP_BUDGETS:
        messages.append(
            f"no bootstrap: {len(used)} budgets cannot give a trustworthy interval (need ≥ "
            f"{MIN_BOOTSTRAP_BUDGETS}: over 3, a 95 % interval of the exponent held the truth in "
            "53-70 % of simulated cases); add budgets"
        )
    elif bootstrap:
        samples = _bootstrap(logc, logs, int(bootstrap), seed)
    return params, {"n": r2_n, "tokens": r2_d}, samples


def _flag_messages(table: pd.DataFrame, keep_flagged: bool) -> list[str]:
    """One warning per kind of problem, naming the budgets."""
    fate = f"kept in the N*(C) fit ({argument('keep_flagged', True)})"
    if not keep_flagged:
        fate = f"left out of the N*(C) fit (pass {argument('keep_flagged', True)} to keep them)"
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
