"""The fitting problem: data, residuals and the robust objective the optimiser minimises.

Residuals are ``log L̂ − log L`` (relative errors) for ``loss="huber"`` and ``loss="mse"``,
and ``L̂ − L`` for ``loss="mse_linear"`` (plain least squares on the loss, as Gadre et al.
fitted with ``curve_fit``).  The objective is the **sum** over points of ρ(r): Huber_δ for
``"huber"`` (Hoffmann et al. 2022, App. D.2; δ = 1e-3 by default), ½r² otherwise.  A sum, not a
mean, keeps the objective large enough that optimisers do not stop early (Besiroglu et al.
2024).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..laws.base import Array, Law
from .space import ParameterSpace

LOSSES = ("huber", "mse", "mse_linear")

# Residual given to the optimiser where a law predicts a non-positive or non-finite loss:
# large enough (e^10 in relative error) that no trust-region step is accepted there.
MISFIT = 10.0
# Residuals are clipped here so that sums of squares of wild grid starts cannot overflow.
MAX_RESIDUAL = 1e6
# Elements (starts x points) scored at once: the ~20 element-wise passes of a score then run
# on arrays of 512 kB that stay in a core's cache (about 1.5x faster than 16 MB chunks on the
# 4,500 x 240 Chinchilla grid, benchmarks/README.md) and memory stays small.
CHUNK_ELEMENTS = 65_536
# best_rows and rows_below add the points to the starts' objectives in SCREEN_FRACTION
# interleaved blocks (a lower bound after each block), when blocks keep MIN_SCREEN_POINTS
# points: on Epoch's 240, 12 blocks of 20 were the fastest of 8, 12, 16 and 24 (fit 12.2 ms
# against 14.5 ms with 8; benchmarks/bench_floor.py --rows profile).
SCREEN_FRACTION = 12
MIN_SCREEN_POINTS = 16
# rows_below, whose threshold is given, screens first on every QUICK_SCREEN_STRIDE-th point of
# the first block (5 of Epoch's 240 points): most starts are ruled out there, and the rows
# left get the rest of that block, then the others. Against the threshold of the 5 best
# projected Chinchilla starts, 427 of the 4,500 grid starts pass those 5 points, none the 20
# of the first block: 1.3 ms instead of 3.0 ms (best_rows, whose threshold comes from its
# first block, is fastest with the 20).
QUICK_SCREEN_STRIDE = 4
# best_rows takes its threshold from this many times ``count`` rows best on the first block:
# for the 5 best of Epoch's 1,681 projected starts, 10 rows give the exact 5th best (5 gave a
# threshold 15 % higher), so the screen scores 4,705 row-blocks of 20 points instead of 5,378.
THRESHOLD_CANDIDATES = 2
JACOBIAN_STEP = float(np.finfo(float).eps ** (1.0 / 3.0))


def huber(residuals: Array, delta: float) -> Array:
    r"""Huber loss :math:`\rho(r) = r^2/2` for :math:`|r| \le \delta`, else
    :math:`\delta(|r| - \delta/2)`, element-wise."""
    # With s = min(|r|, δ): s·(|r| − s/2) is r²/2 inside and δ(|r| − δ/2) outside, in fewer
    # array passes than a np.where of the two branches.
    size = np.abs(residuals)
    inner = np.minimum(size, delta)
    return inner * (size - 0.5 * inner)


@dataclass(frozen=True)
class Problem:
    """Everything one fit minimises: law, parameter space, data and objective.

    Parameters
    ----------
    space
        The free/fixed/tied parameter space of the law.
    inputs
        Input columns in the law's order, each of shape ``(n_points,)``.
    observed
        Observed losses, shape ``(n_points,)``.
    loss
        ``"huber"``, ``"mse"`` or ``"mse_linear"``.
    delta
        Huber threshold on the residual (ignored by the MSE losses).
    """

    space: ParameterSpace
    inputs: tuple[Array, ...]
    observed: Array
    loss: str = "huber"
    delta: float = 1e-3

    @property
    def law(self) -> Law:
        """The law being fitted."""
        return self.space.law

    @property
    def n_points(self) -> int:
        """Number of observations."""
        return int(self.observed.shape[0])

    @cached_property
    def log_observed(self) -> Array:
        """Logarithm of the observed losses (computed once)."""
        with np.errstate(all="ignore"):
            return np.log(self.observed)

    def subset(self, index: Array) -> Problem:
        """The same problem on the points ``index`` (repeats allowed: bootstrap)."""
        return Problem(
            self.space,
            tuple(x[index] for x in self.inputs),
            self.observed[index],
            self.loss,
            self.delta,
        )

    def thinned(self, count: int) -> Problem:
        """The problem on at most ``count`` points, evenly spaced through the data."""
        if self.n_points <= count:
            return self
        return self.subset(np.linspace(0, self.n_points - 1, count).round().astype(int))

    def residuals(self, theta: Array) -> Array:
        """Residuals for one fit-space vector, or a stack of them (rows)."""
        with np.errstate(all="ignore"):
            params = self.space.natural(theta)
            if self.loss == "mse_linear":
                r = self.law.predict(*self.inputs, **params) - self.observed
            else:
                r = self.law.log_predict(*self.inputs, **params) - self.log_observed
        # r is a new array: set its non-finite entries and clip it in place (the common case,
        # every entry finite, then costs one pass fewer than np.where and no new array).
        bad = ~np.isfinite(r)
        if bad.any():
            r[bad] = MISFIT
        return np.clip(r, -MAX_RESIDUAL, MAX_RESIDUAL, out=r)

    def jacobian(self, theta: Array) -> Array:
        """Jacobian of the residuals at one fit-space vector, shape ``(n_points, n_free)``.

        Analytic when the law has a ``log_gradient`` (:meth:`analytic_jacobian`), else by
        central differences (:meth:`difference_jacobian`).
        """
        if self.law.log_gradient is not None:
            return self.analytic_jacobian(theta)
        return self.difference_jacobian(theta)

    def difference_jacobian(self, theta: Array) -> Array:
        """Central-difference Jacobian of the residuals, all 2·n_free shifts in one call.

        Steps of eps^(1/3)·max(1, |theta|) balance truncation and rounding error (~1e-10
        relative); stacking the shifted vectors lets a vectorised law evaluate them at once.
        """
        theta = np.asarray(theta, dtype=float)
        step = JACOBIAN_STEP * np.maximum(1.0, np.abs(theta))
        shifts = np.diag(step)
        stacked = self.residuals(np.vstack([theta + shifts, theta - shifts]))
        n = len(theta)
        return ((stacked[:n] - stacked[n:]) / (2.0 * step[:, None])).T

    def analytic_jacobian(self, theta: Array) -> Array:
        """Jacobian of the residuals from the law's ``log_gradient``.

        A tied parameter adds its column to its target's (chain rule through the shared
        natural value); fixed parameters have none. For ``"mse_linear"`` residuals
        L̂ − L the columns are scaled by L̂. Entries where the gradient is not finite are
        0 (the residual is then the constant ``MISFIT``).
        """
        theta = np.asarray(theta, dtype=float)
        params = self.space.natural(theta)
        with np.errstate(all="ignore"):
            gradient = self.law.log_gradient(*self.inputs, **params)
            jac = np.empty((self.n_points, len(theta)))
            for j, name in enumerate(self.space.free):
                jac[:, j] = gradient[name]
            for tied, target in self.space.tie.items():
                j = self.space.free.index(target)
                jac[:, j] += gradient[tied] * self._tie_factor(tied, target, params)
            if self.loss == "mse_linear":
                jac *= np.exp(self.law.log_predict(*self.inputs, **params))[:, None]
        return np.where(np.isfinite(jac), jac, 0.0)

    def stacked_jacobians(self, thetas: Array) -> Array:
        """Transposed :meth:`analytic_jacobian` of every row of ``thetas``, from one call of
        the law's ``log_gradient``: shape ``(n_rows, n_free, n_points)``, row k holding the
        derivatives of every residual by each free parameter (the law's gradient must
        broadcast over a column of parameter values, as the final-loss laws' do)."""
        thetas = np.asarray(thetas, dtype=float)
        params = self.space.natural(thetas)  # columns of shape (n_rows, 1)
        with np.errstate(all="ignore"):
            gradient = self.law.log_gradient(*self.inputs, **params)
            jac = np.empty((len(thetas), thetas.shape[1], self.n_points))
            for j, name in enumerate(self.space.free):
                jac[:, j, :] = gradient[name]  # the assignment broadcasts a column or a row
            for tied, target in self.space.tie.items():
                j = self.space.free.index(target)
                jac[:, j, :] += gradient[tied] * self._tie_factor(tied, target, params)
            if self.loss == "mse_linear":
                jac *= np.exp(self.law.log_predict(*self.inputs, **params))[:, None, :]
            np.copyto(jac, 0.0, where=~np.isfinite(jac))
        return jac

    def _tie_factor(self, tied: str, target: str, params: dict[str, Array]) -> Array:
        """d(fit value of ``tied``) / d(fit value of ``target``) for ``tied`` = ``target``."""
        factor = 1.0
        if self.law.parameter(tied).log:
            factor = factor / params[target]
        if self.law.parameter(target).log:
            factor = factor * params[target]
        return factor

    def objective_of(self, residuals: Array) -> Array:
        """Summed objective over the last axis of ``residuals``."""
        if self.loss == "huber":
            return huber(residuals, self.delta).sum(axis=-1)
        return 0.5 * (residuals**2).sum(axis=-1)

    def objective(self, theta: Array) -> Array:
        """Summed objective for one fit-space vector or a stack of them."""
        return self.objective_of(self.residuals(theta))


def score_grid(problem: Problem, grid: Array) -> Array:
    """Objective of every row of ``grid`` (fit space), evaluated in vectorised chunks."""
    rows = max(1, CHUNK_ELEMENTS // max(problem.n_points, 1))
    scores = np.empty(len(grid))
    for start in range(0, len(grid), rows):
        scores[start : start + rows] = problem.objective(grid[start : start + rows])
    return np.where(np.isfinite(scores), scores, np.inf)


def best_rows(problem: Problem, grid: Array, count: int) -> Array:
    """Indices of the ``count`` best-scoring rows of ``grid``, best first: exactly
    ``np.argsort(score_grid(problem, grid), kind="stable")[:count]``, at a fraction of its cost.

    The threshold is the ``count``-th best full objective among the ``THRESHOLD_CANDIDATES x
    count`` rows with the lowest objective on the first block of points (no lower than the
    ``count``-th best of all rows, so no row of the answer is dropped); :func:`_screen` drops
    the rows that cannot reach it, and the rows left are scored on every point.
    """
    if count <= 0:
        return np.empty(0, dtype=int)
    blocks = _blocks(problem)
    if count >= len(grid) or not blocks:
        return np.argsort(score_grid(problem, grid), kind="stable")[:count]
    bound = score_grid(blocks[0], grid)
    first = np.argsort(bound, kind="stable")[: THRESHOLD_CANDIDATES * count]
    threshold = np.sort(score_grid(problem, grid[first]))[count - 1]
    rows = _screen(grid, blocks, bound, threshold)
    scores = score_grid(problem, grid[rows])
    return rows[np.argsort(scores, kind="stable")[:count]]


def rows_below(problem: Problem, grid: Array, threshold: float) -> Array:
    """Indices (ascending) of the rows of ``grid`` whose objective is below ``threshold``,
    scoring on every point only the rows :func:`_screen` cannot rule out."""
    blocks = _blocks(problem)
    if not blocks:
        return np.flatnonzero(score_grid(problem, grid) < threshold)
    first = np.arange(blocks[0].n_points)
    quick = first[::QUICK_SCREEN_STRIDE]
    blocks = [blocks[0].subset(quick), blocks[0].subset(np.setdiff1d(first, quick)), *blocks[1:]]
    rows = _screen(grid, blocks, score_grid(blocks[0], grid), threshold)
    return rows[score_grid(problem, grid[rows]) < threshold]


def _blocks(problem: Problem) -> list[Problem]:
    """The points in ``SCREEN_FRACTION`` interleaved blocks (none when blocks would have
    fewer than ``MIN_SCREEN_POINTS`` points)."""
    n_blocks = min(SCREEN_FRACTION, problem.n_points // MIN_SCREEN_POINTS)
    if n_blocks < 2:
        return []
    return [problem.subset(np.arange(b, problem.n_points, n_blocks)) for b in range(n_blocks)]


def _screen(grid: Array, blocks: list[Problem], bound: Array, threshold: float) -> Array:
    """Rows (ascending) that may score at most ``threshold``, from their objective on the
    first block (``bound``) and the others added one block at a time.

    Each point adds a non-negative term to the objective, so a row's sum over the blocks
    seen so far bounds its objective from below; a row whose bound exceeds the threshold
    is dropped. On Epoch's 240 points in 12 blocks, for the threshold of the worst of the 5 best
    projected starts, none of Hoffmann et al.'s 4,500 starts is left after the first block.
    """
    threshold = threshold * (1.0 + 1e-9)  # rounding of the same terms summed in another order
    bound = np.array(bound, dtype=float)
    rows = np.flatnonzero(bound <= threshold)
    for block in blocks[1:]:
        if not len(rows):
            break
        bound[rows] += score_grid(block, grid[rows])
        rows = rows[bound[rows] <= threshold]
    return rows
