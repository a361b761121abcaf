"""Per-cell optima of a learning-rate × batch-size sweep, and the loss at any (lr, batch).

A *cell* is one (N, D) pair of a sweep; its runs differ in peak LR and batch size. Two rules
give a cell's optimum:

* ``band`` (Step Law, Li et al. 2025, arXiv:2503.04715): every run whose loss is within
  ``band`` % of the cell's best is near-optimal; the power laws are fitted to all of them.
* ``smooth``: a quadratic in (log lr, log batch) fitted by least squares to the runs within
  ``SMOOTH_WINDOW`` of the best, and its minimum (one point per cell). It falls back to the
  best run when the quadratic has no minimum inside the swept range.

The loss at a predicted (lr, batch) is read off the cell's runs by linear interpolation over
(log lr, log batch) (NaN outside the swept region): the Step Law paper's "relative error" of a
law is that loss over the cell's best run, minus one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Runs within 2 % of a cell's best loss feed the smooth rule's quadratic: 35-86 runs per cell
# of the Step Law dense sweep, all with a positive-definite fit whose minimum is inside the grid.
SMOOTH_WINDOW = 0.02
RULES = ("band", "smooth")
# Shear of the (log lr, log batch) points before triangulating, as a fraction of the spans:
# far above Qhull's rounding (1e-13), far below a cell's width (a sweep has < 100 values).
SHEAR = 1e-3


def cell_optima(sweep: pd.DataFrame, rule: str, band: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-cell summary and the points the power laws are fitted to.

    Returns
    -------
    cells
        One row per (n_params, tokens): runs, band size, best run, optimum by the rule, and
        where the best run sits on the swept grid (``edge``, empty when inside).
    points
        ``cell, run, n_params, tokens, lr, batch_size``: the band runs (``band``) or each
        cell's smooth minimum (``smooth``).
    """
    rows, points = [], []
    for index, ((n, d), runs) in enumerate(sweep.groupby(["n_params", "tokens"], sort=True)):
        loss = runs["loss"].to_numpy(float)
        best = runs.iloc[int(np.argmin(loss))]
        near = runs[loss <= loss.min() * (1.0 + band / 100.0)]
        row = {
            "cell": index,
            "n_params": float(n),
            "tokens": float(d),
            "n_runs": len(runs),
            "n_band": len(near),
            "best_loss": float(loss.min()),
            "best_lr": float(best["lr"]),
            "best_batch_size": float(best["batch_size"]),
            "edge": _edge(runs, best),
        }
        if rule == "band":
            chosen = near[["run", "lr", "batch_size"]].assign(cell=index, n_params=n, tokens=d)
            row["lr_opt"] = float(np.exp(np.log(near["lr"]).mean()))
            row["batch_opt"] = float(np.exp(np.log(near["batch_size"]).mean()))
            row["smooth_fallback"] = False
        else:
            lr, batch, fallback = smooth_minimum(runs)
            row.update(lr_opt=lr, batch_opt=batch, smooth_fallback=fallback)
            chosen = pd.DataFrame(
                {"run": [f"cell{index}"], "lr": [lr], "batch_size": [batch]}
            ).assign(cell=index, n_params=n, tokens=d)
        rows.append(row)
        points.append(chosen)
    columns = ["cell", "run", "n_params", "tokens", "lr", "batch_size"]
    table = pd.concat(points, ignore_index=True)[columns]
    table[["n_params", "tokens"]] = table[["n_params", "tokens"]].astype(float)
    return pd.DataFrame(rows), table


def _edge(runs: pd.DataFrame, best: pd.Series) -> str:
    """Where the best run sits on the swept grid: 'lr low', 'batch high', … or ''."""
    sides = []
    for column, name in (("lr", "lr"), ("batch_size", "batch")):
        values = runs[column].to_numpy(float)
        if np.isclose(best[column], values.min(), rtol=1e-3):
            sides.append(f"{name} low")
        elif np.isclose(best[column], values.max(), rtol=1e-3):
            sides.append(f"{name} high")
    return ", ".join(sides)


def smooth_minimum(runs: pd.DataFrame) -> tuple[float, float, bool]:
    """Minimum of a quadratic in (log lr, log batch) fitted to the runs near the best.

    Returns ``(lr, batch, fallback)``; ``fallback`` is True when the quadratic has no minimum
    inside the range of the runs it was fitted to, and the best run is returned instead.
    """
    loss = runs["loss"].to_numpy(float)
    near = runs[loss <= loss.min() * (1.0 + SMOOTH_WINDOW)]
    x, y = np.log(near["lr"].to_numpy(float)), np.log(near["batch_size"].to_numpy(float))
    best = runs.iloc[int(np.argmin(loss))]
    fallback = (float(best["lr"]), float(best["batch_size"]), True)
    if len(near) < 6 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return fallback
    design = np.column_stack([np.ones_like(x), x, y, x * x, x * y, y * y])
    coef = np.linalg.lstsq(design, near["loss"].to_numpy(float), rcond=None)[0]
    hessian = np.array([[2 * coef[3], coef[4]], [coef[4], 2 * coef[5]]])
    if np.any(np.linalg.eigvalsh(hessian) <= 0):
        return fallback
    mx, my = np.linalg.solve(hessian, -coef[1:3])
    if not (x.min() <= mx <= x.max() and y.min() <= my <= y.max()):
        return fallback
    return float(np.exp(mx)), float(np.exp(my)), False


def relative_penalty(runs: pd.DataFrame, lr: float, batch_size: float) -> float:
    """Loss at (lr, batch) interpolated from the cell's runs, over its best loss, minus 1.

    Linear interpolation over (log lr, log batch) inside the Delaunay triangles of the runs,
    so the penalty is never below 0; NaN when the point lies outside the swept region, or
    the runs do not span one (fewer than 3, or one lr or one batch size only). On a grid,
    the mean of the interpolations over a cell's two diagonals (:func:`_sheared`), the same
    on every platform.
    """
    from scipy.spatial import Delaunay, QhullError

    where = np.column_stack([np.log(runs["lr"]), np.log(runs["batch_size"])])
    loss = runs["loss"].to_numpy(float)
    if len(where) < 3 or np.linalg.matrix_rank(where - where.mean(axis=0)) < 2:
        return float("nan")  # the runs vary lr or batch size only: no region to read from
    point = np.log([lr, batch_size])
    values = []
    for shear in (SHEAR, -SHEAR):  # both diagonals of a grid cell (see _sheared)
        try:
            simplices = Delaunay(_sheared(where, shear)).simplices
        except QhullError:
            return float("nan")
        values.append(_barycentric_value(where[simplices], loss, point, simplices))
    return float(np.mean(values)) / loss.min() - 1.0


def _sheared(where: np.ndarray, shear: float) -> np.ndarray:
    """The points with a slight shear, so that a sweep's rectangular grid has one Delaunay
    triangulation.

    The four corners of a grid cell lie on a circle, so either diagonal is a Delaunay edge
    and Qhull picks one by rounding, differently across SciPy versions (the held-out penalty
    of the dense StepLaw sweep was 1.08 permille with one, 1.10 with another). Shearing x by
    ``shear`` times y (in units of the spans) makes every cell a parallelogram with a unique
    short diagonal; :func:`relative_penalty` interpolates over both shears and averages, so
    neither diagonal is preferred. Points in general position triangulate the same either
    way; the interpolation itself uses the unsheared points.
    """
    span = np.ptp(where, axis=0)
    scale = span[0] / span[1] if span[1] > 0 else 1.0
    return np.column_stack([where[:, 0] + shear * scale * where[:, 1], where[:, 1]])


def _barycentric_value(
    corners: np.ndarray, values: np.ndarray, point: np.ndarray, simplices: np.ndarray
) -> float:
    """Linear interpolation at ``point`` in the first triangle that contains it (NaN if none);
    barycentric weights of all triangles at once (scipy's lazy per-triangle transform is
    orders of magnitude slower on a busy machine)."""
    a, b, c = corners[:, 0], corners[:, 1], corners[:, 2]
    v0, v1, v2 = b - a, c - a, point - a
    det = v0[:, 0] * v1[:, 1] - v0[:, 1] * v1[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        wb = (v2[:, 0] * v1[:, 1] - v2[:, 1] * v1[:, 0]) / det
        wc = (v0[:, 0] * v2[:, 1] - v0[:, 1] * v2[:, 0]) / det
        weights = np.column_stack([1.0 - wb - wc, wb, wc])  # inf/NaN for flat triangles
    inside = np.flatnonzero(np.all(weights >= -1e-12, axis=1) & (det != 0))
    if not len(inside):
        return float("nan")
    k = inside[0]
    return float(weights[k] @ values[simplices[k]])
