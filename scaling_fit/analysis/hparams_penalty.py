"""The loss penalty of running a sweep cell at a given (lr, batch), read off the cell's runs.

The Step Law paper's "relative error" of a law (Li et al. 2025, arXiv:2503.04715) is the
loss at the law's (lr, batch) over the cell's best run, minus one. The loss there is read
from the measured runs, in (log lr, log batch), by the first of these that applies:

* ``grid``: the point lies in a rectangle of the sweep's grid whose four corners are
  converged runs (or on an edge between two): the mean of the linear interpolations over
  the rectangle's two diagonals (:func:`_two_diagonals`), so no triangulation tie-break can
  move it;
* ``lines``: along the LR line and the batch line of a "cross" sweep (or of a grid with a
  hole), through their crossing c (the best run when both its lines were swept):
  L(lr, B_c) + L(lr_c, B) - L(lr_c, B_c), each read by 1-D interpolation; this assumes the
  two effects add near the optimum;
* ``scattered``: runs sharing no lr or batch size with the best (a random search): linear
  interpolation in the Delaunay triangle of the converged runs that holds the point.

A diverged run (:func:`~scaling_fit.analysis.hparams_cells.diverged`) is never interpolated
across: a point next to one, or outside the measured runs, has no penalty (NaN), and the
reason says which.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .hparams_cells import SAME, diverged

# Shear of the (log lr, log batch) points before triangulating a scattered cell, as a
# fraction of the spans: far above Qhull's rounding (1e-13), far below a cell's width.
SHEAR = 1e-3
OUTSIDE = "outside the swept runs"
NEXT_TO_DIVERGED = "next to a diverged run"


def relative_penalty(runs: pd.DataFrame, lr: float, batch_size: float) -> float:
    """Loss at (lr, batch) read off the cell's runs, over its best converged loss, minus 1
    (NaN when it cannot be read; :func:`cell_penalty` says why)."""
    return cell_penalty(runs, lr, batch_size)[0]


def cell_penalty(runs: pd.DataFrame, lr: float, batch_size: float) -> tuple[float, str]:
    """The relative penalty at (lr, batch) and how it was read.

    Parameters
    ----------
    runs
        The cell's runs: ``lr``, ``batch_size`` and ``loss`` (diverged runs included).
    lr, batch_size
        The choice to score; ``batch_size`` NaN scores ``lr`` at the best run's batch size
        (an LR-only sweep, whose optimal batch is not identified).

    Returns
    -------
    tuple
        ``(penalty, how)``: ``how`` is ``"grid"``, ``"lines"`` or ``"scattered"``, or for a
        NaN penalty the reason (outside the swept runs, next to a diverged run).
    """
    x = np.log(runs["lr"].to_numpy(float))
    y = np.log(runs["batch_size"].to_numpy(float))
    loss = runs["loss"].to_numpy(float)
    bad = diverged(loss)
    if bad.all():
        return float("nan"), "every run diverged"
    best = int(np.argmin(np.where(bad, np.inf, loss)))
    point = (float(np.log(lr)), y[best] if np.isnan(batch_size) else float(np.log(batch_size)))
    value, how = _grid(x, y, loss, bad, point)
    if np.isnan(value):
        value, reason = _lines(x, y, loss, bad, best, point)
        how = "lines" if np.isfinite(value) else reason
        if np.isnan(value) and _scattered(x, y, best):
            value, how = _delaunay(x, y, loss, bad, point)
    return float(value / loss[best] - 1.0), how


def _grid(
    x: np.ndarray, y: np.ndarray, loss: np.ndarray, bad: np.ndarray, point: tuple[float, float]
) -> tuple[float, str]:
    """Interpolation in the grid rectangle holding ``point`` when its corners are converged
    runs (NaN when the point is off the grid or a corner is missing or diverged)."""
    xs, ys = _bracket(np.unique(x), point[0]), _bracket(np.unique(y), point[1])
    if xs is None or ys is None:
        return float("nan"), OUTSIDE
    corners = []
    for yv in (ys[0], ys[-1]):
        for xv in (xs[0], xs[-1]):
            at = (np.abs(x - xv) < SAME) & (np.abs(y - yv) < SAME)
            if not at.any() or bad[at].any():
                return float("nan"), "not a grid here"
            corners.append(float(loss[at].mean()))
    u = 0.0 if len(xs) == 1 else (point[0] - xs[0]) / (xs[1] - xs[0])
    v = 0.0 if len(ys) == 1 else (point[1] - ys[0]) / (ys[1] - ys[0])
    return _two_diagonals(*corners, u, v), "grid"


def _bracket(values: np.ndarray, at: float) -> list[float] | None:
    """The grid value equal to ``at``, or the two around it (None outside the values)."""
    if at < values[0] - SAME or at > values[-1] + SAME:
        return None
    near = int(np.argmin(np.abs(values - at)))
    if abs(values[near] - at) < SAME:
        return [float(values[near])]
    upper = int(np.searchsorted(values, at))
    return [float(values[upper - 1]), float(values[upper])]


def _two_diagonals(l00: float, l10: float, l01: float, l11: float, u: float, v: float) -> float:
    """Mean of the linear interpolations at (u, v) in the unit square split along either
    diagonal (corner losses l<x><y>). Qhull splits a rectangle of a grid along whichever
    diagonal its rounding favours, differently across SciPy versions (the held-out penalty
    of the Step Law dense sweep read 1.08 permille with one, 1.10 with another); the mean
    is the same everywhere."""
    if u >= v:  # diagonal (0, 0)-(1, 1)
        first = l00 + u * (l10 - l00) + v * (l11 - l10)
    else:
        first = l00 + v * (l01 - l00) + u * (l11 - l01)
    if u + v <= 1:  # diagonal (1, 0)-(0, 1)
        second = l00 + u * (l10 - l00) + v * (l01 - l00)
    else:
        second = l11 + (1 - u) * (l01 - l11) + (1 - v) * (l10 - l11)
    return 0.5 * (first + second)


def _lines(
    x: np.ndarray,
    y: np.ndarray,
    loss: np.ndarray,
    bad: np.ndarray,
    best: int,
    point: tuple[float, float],
) -> tuple[float, str]:
    """L(lr, B_c) + L(lr_c, B) - L(lr_c, B_c) along the LR line and the batch line through
    the cross's centre c (:func:`_centre`: the best run when both its lines were swept)."""
    centre = _centre(x, y, bad, best)
    total = loss[centre]
    for along, across, at in ((x, y, point[0]), (y, x, point[1])):
        if abs(at - along[centre]) < SAME:
            continue  # on the centre's value: no change along this line
        line = np.abs(across - across[centre]) < SAME
        value, reason = _along(along[line], loss[line], bad[line], at)
        if np.isnan(value):
            return value, reason
        total += value - loss[centre]
    return total, "lines"


def _centre(x: np.ndarray, y: np.ndarray, bad: np.ndarray, best: int) -> int:
    """The best run when both its lines were swept; else the converged run with the most
    swept lines through it (the crossing of a cross whose centre was not the best run), the
    one with the most distinct values on them on ties."""

    def spread(i: int) -> tuple[int, bool, int]:
        lr_line = np.unique(np.round(x[np.abs(y - y[i]) < SAME] / SAME)).size
        batch_line = np.unique(np.round(y[np.abs(x - x[i]) < SAME] / SAME)).size
        return (lr_line > 1) + (batch_line > 1), i == best, lr_line + batch_line

    return max(np.flatnonzero(~bad), key=spread)


def _along(where: np.ndarray, loss: np.ndarray, bad: np.ndarray, at: float) -> tuple[float, str]:
    """1-D linear interpolation at ``at`` between the neighbouring runs of one line (NaN
    outside them, or when a neighbour diverged)."""
    lower, upper = where[where <= at + SAME], where[where >= at - SAME]
    if not len(lower) or not len(upper):
        return float("nan"), OUTSIDE
    ends = []
    for end in (lower.max(), upper.min()):
        here = np.abs(where - end) < SAME
        if bad[here].any():
            return float("nan"), NEXT_TO_DIVERGED
        ends.append((end, float(loss[here].mean())))
    (x0, l0), (x1, l1) = ends
    return (l0 if x1 - x0 < SAME else l0 + (at - x0) / (x1 - x0) * (l1 - l0)), "lines"


def _scattered(x: np.ndarray, y: np.ndarray, best: int) -> bool:
    """Whether no other run shares the best run's lr or its batch size (no lines to read)."""
    return (
        int(np.sum(np.abs(x - x[best]) < SAME)) == 1
        and int(np.sum(np.abs(y - y[best]) < SAME)) == 1
    )


def _delaunay(
    x: np.ndarray, y: np.ndarray, loss: np.ndarray, bad: np.ndarray, point: tuple[float, float]
) -> tuple[float, str]:
    """Linear interpolation in the Delaunay triangle of the converged runs holding ``point``,
    averaged over two opposite shears (:func:`_sheared`); NaN outside the runs or when a
    diverged run lies inside the triangle."""
    from scipy.spatial import Delaunay, QhullError

    where = np.column_stack([x, y])[~bad]
    good = loss[~bad]
    if len(where) < 3 or np.linalg.matrix_rank(where - where.mean(axis=0)) < 2:
        return float("nan"), OUTSIDE
    values = []
    for shear in (SHEAR, -SHEAR):
        try:
            simplices = Delaunay(_sheared(where, shear)).simplices
        except QhullError:
            return float("nan"), OUTSIDE
        corners = where[simplices]
        weights = _barycentric(corners, np.asarray(point))
        inside = np.flatnonzero(np.all(weights >= -1e-12, axis=1))
        if not len(inside):
            return float("nan"), OUTSIDE
        k = inside[0]
        failed = np.column_stack([x, y])[bad]
        if len(failed) and np.any(np.all(_barycentric(corners[[k]], failed) >= 0, axis=-1)):
            return float("nan"), NEXT_TO_DIVERGED
        values.append(float(weights[k] @ good[simplices[k]]))
    return float(np.mean(values)), "scattered"


def _sheared(where: np.ndarray, shear: float) -> np.ndarray:
    """The points with a slight shear (``shear`` times y, in units of the spans), so that
    four points on a circle have one Delaunay triangulation; the interpolation itself uses
    the unsheared points."""
    span = np.ptp(where, axis=0)
    scale = span[0] / span[1] if span[1] > 0 else 1.0
    return np.column_stack([where[:, 0] + shear * scale * where[:, 1], where[:, 1]])


def _barycentric(corners: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Barycentric weights of ``points`` (shape (2,) or (m, 2)) in each triangle of
    ``corners`` (t, 3, 2): shape (t, 3) or (t, m, 3); NaN/inf for flat triangles."""
    a, b, c = (corners[:, i, None, :] for i in range(3))
    p = np.atleast_2d(points)[None, :, :]
    v0, v1, v2 = b - a, c - a, p - a
    det = v0[..., 0] * v1[..., 1] - v0[..., 1] * v1[..., 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        wb = (v2[..., 0] * v1[..., 1] - v2[..., 1] * v1[..., 0]) / det
        wc = (v0[..., 0] * v2[..., 1] - v0[..., 1] * v2[..., 0]) / det
        weights = np.stack([1.0 - wb - wc, wb, wc], axis=-1)
    return weights[:, 0, :] if np.ndim(points) == 1 else weights
