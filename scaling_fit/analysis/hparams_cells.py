"""Per-cell optima of a learning-rate × batch-size sweep, and which of its runs diverged.

A *cell* is one (N, D) pair of a sweep; its runs differ in peak LR and batch size. Two rules
give a cell's optimum:

* ``band`` (Step Law, Li et al. 2025, arXiv:2503.04715): every run whose loss is within
  ``band`` % of the cell's best is near-optimal; the power laws are fitted to all of them.
* ``smooth``: a quadratic in (log lr, log batch) fitted by least squares to the runs within
  ``SMOOTH_WINDOW`` of the best, and its minimum (one point per cell). It falls back to the
  best run when the quadratic has no minimum inside the swept range. A cell that is not a
  2-D grid (a cross, an LR-only line) gets a parabola along each of its lines instead.

A run *diverged* when its loss is NaN or infinite, or above ``DIVERGED_RATIO`` times its
cell's best: it is counted, kept out of the optimum, and marks where the loss surface is not
measured (:mod:`scaling_fit.analysis.hparams_penalty` never interpolates across it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Runs within 2 % of a cell's best loss feed the smooth rule's quadratic: 35-86 runs per cell
# of the Step Law dense sweep, all with a positive-definite fit whose minimum is inside the grid.
SMOOTH_WINDOW = 0.02
RULES = ("band", "smooth")
# A run whose loss exceeds this multiple of its cell's best diverged. On the Step Law dense
# sweep (1,911 runs) no run lies between 1.22x and 1.70x its cell's best: the converged runs
# reach 1.20x ("smooth loss"; 1.22x raw), the 180 diverged ones 1.70x-8x (loss 4-11). On its
# MoE sweep every run is within 1.11x. 1.5x sits in that gap.
DIVERGED_RATIO = 1.5
# Two lr (or batch) values closer than this in log space are the same value (rounding in CSVs).
SAME = 1e-6


def diverged(loss: np.ndarray) -> np.ndarray:
    """Which runs of one cell diverged: NaN or infinite loss, or above ``DIVERGED_RATIO``
    times the best finite loss (all of them when none is finite)."""
    loss = np.asarray(loss, dtype=float)
    finite = np.isfinite(loss)
    if not finite.any():
        return np.ones(len(loss), dtype=bool)
    return ~finite | (loss > DIVERGED_RATIO * loss[finite].min())


def swept(runs: pd.DataFrame) -> str:
    """Which of lr and batch size the runs try more than one value of: ``"lr, batch"``,
    ``"lr"``, ``"batch"`` or ``""``."""
    names = [
        name
        for column, name in (("lr", "lr"), ("batch_size", "batch"))
        if np.ptp(np.log(runs[column].to_numpy(float))) > SAME
    ]
    return ", ".join(names)


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

    Diverged runs (:func:`diverged`) are counted (``n_diverged``) and left out; a cell whose
    every run diverged is left out. ``swept`` says which of lr and batch size the cell's
    converged runs vary: a law is fitted only to the cells that vary its quantity.
    """
    rows, points = [], []
    groups = [(key, runs) for key, runs in sweep.groupby(["n_params", "tokens"], sort=True)]
    groups = [(key, runs) for key, runs in groups if not diverged(runs["loss"]).all()]
    for index, ((n, d), every) in enumerate(groups):
        runs = every[~diverged(every["loss"])]
        loss = runs["loss"].to_numpy(float)
        best = runs.iloc[int(np.argmin(loss))]
        near = runs[loss <= loss.min() * (1.0 + band / 100.0)]
        row = {
            "cell": index,
            "n_params": float(n),
            "tokens": float(d),
            "n_runs": len(every),
            "n_diverged": len(every) - len(runs),
            "swept": swept(runs),
            "n_band": len(near),
            "best_loss": float(loss.min()),
            "best_lr": float(best["lr"]),
            "best_batch_size": float(best["batch_size"]),
            "edge": _edge(every, best),
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
        if np.ptp(np.log(values)) <= SAME:
            continue  # one value swept: no edge to be on
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
        return _line_minima(runs, best, fallback)
    design = np.column_stack([np.ones_like(x), x, y, x * x, x * y, y * y])
    if np.linalg.matrix_rank(design) < design.shape[1]:  # a cross or lines: no 2-D quadratic
        return _line_minima(runs, best, fallback)
    coef = np.linalg.lstsq(design, near["loss"].to_numpy(float), rcond=None)[0]
    hessian = np.array([[2 * coef[3], coef[4]], [coef[4], 2 * coef[5]]])
    if np.any(np.linalg.eigvalsh(hessian) <= 0):
        return fallback
    mx, my = np.linalg.solve(hessian, -coef[1:3])
    if not (x.min() <= mx <= x.max() and y.min() <= my <= y.max()):
        return fallback
    return float(np.exp(mx)), float(np.exp(my)), False


def _line_minima(
    runs: pd.DataFrame, best: pd.Series, fallback: tuple[float, float, bool]
) -> tuple[float, float, bool]:
    """Smooth minimum of a cell that is not a 2-D grid (a cross, an LR-only line): a parabola
    in log lr along the runs at the best batch size, and one in log batch along the runs at
    the best lr; each coordinate falls back to the best run's when its line has no minimum
    inside (fewer than 3 values within ``SMOOTH_WINDOW``, or no interior vertex)."""
    loss = runs["loss"].to_numpy(float)
    near = runs[loss <= loss.min() * (1.0 + SMOOTH_WINDOW)]
    found = []
    for column, other in (("lr", "batch_size"), ("batch_size", "lr")):
        line = near[np.abs(np.log(near[other] / best[other])) < SAME]
        x = np.log(line[column].to_numpy(float))
        vertex = np.nan
        if len(np.unique(np.round(x, 6))) >= 3:
            a, b, _ = np.polyfit(x, line["loss"].to_numpy(float), 2)
            vertex = -b / (2 * a) if a > 0 else np.nan
        inside = np.isfinite(vertex) and x.min() <= vertex <= x.max()
        found.append((float(np.exp(vertex)) if inside else float(best[column]), inside))
    (lr, lr_found), (batch, batch_found) = found
    if not (lr_found or batch_found):
        return fallback
    return lr, batch, False
