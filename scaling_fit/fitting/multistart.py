"""Global search for one fitting problem: score a start grid, refine the best starts.

1. Every start of the grid (4,500 for Chinchilla, Hoffmann et al.'s grid) is scored in one
   vectorised pass, in chunks that keep memory small.
2. Up to ``n_refine`` of the best starts (after the law's and the user's own starts) are
   refined, best-scored first, with SciPy's trust-region reflective solver
   (``least_squares(method="trf")``), which minimises exactly the summed Huber objective
   (``loss="huber", f_scale=delta``), with bounds, at tight tolerances, using the law's
   analytic Jacobian when it has one. Refining stops early once ``AGREEMENT`` starts have
   reached the same best objective.
3. The refined solutions are sorted; how many reached the best objective says whether the
   optimum was found reliably or by the luck of one start.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from ..laws.base import Array
from ..progress import progress_bar
from .objective import Problem
from .varpro import best_projected

# Solver tolerances: tight enough to reach Epoch AI's best Chinchilla objective to 1e-11
# (loose defaults stop early on a summed Huber objective of ~1e-3).
TOLERANCE = 1e-14
# Elements (starts x points) scored at once: the ~20 element-wise passes of a score then run
# on arrays of 512 kB that stay in a core's cache (about 1.5x faster than 16 MB chunks on the
# 4,500 x 240 Chinchilla grid, benchmarks/README.md) and memory stays small.
CHUNK_ELEMENTS = 65_536
# Two solutions are "the same optimum" when their objectives agree to this relative tolerance,
# or to the absolute one for near-perfect fits (residuals of ~1e-7 give objectives ~1e-12).
SAME_OPTIMUM_RTOL = 1e-8
SAME_OPTIMUM_ATOL = 1e-12
# Refining stops once this many converged starts reach the same best objective: the optimum
# is then found from several starts, not by the luck of one (fit() reports how many did).
AGREEMENT = 5


@dataclass(frozen=True)
class Solution:
    """One refined start: fit-space parameters, objective and solver diagnostics."""

    theta: Array
    objective: float
    converged: bool
    message: str
    residuals: Array
    jacobian: Array
    n_evaluations: int


def score_grid(problem: Problem, grid: Array) -> Array:
    """Objective of every row of ``grid`` (fit space), evaluated in vectorised chunks."""
    rows = max(1, CHUNK_ELEMENTS // max(problem.n_points, 1))
    scores = np.empty(len(grid))
    for start in range(0, len(grid), rows):
        scores[start : start + rows] = problem.objective(grid[start : start + rows])
    return np.where(np.isfinite(scores), scores, np.inf)


def refine(problem: Problem, start: Array, max_evaluations: int | None = None) -> Solution:
    """Minimise the problem's objective from ``start`` with the trust-region solver."""
    lower, upper = problem.space.fit_bounds()
    start = _strictly_inside(np.asarray(start, dtype=float), lower, upper)
    robust = problem.loss == "huber"
    result = least_squares(
        problem.residuals,
        start,
        jac=problem.jacobian,
        bounds=(lower, upper),
        method="trf",
        loss="huber" if robust else "linear",
        f_scale=problem.delta if robust else 1.0,
        x_scale="jac",
        ftol=TOLERANCE,
        xtol=TOLERANCE,
        gtol=TOLERANCE,
        max_nfev=max_evaluations,
    )
    residuals = problem.residuals(result.x)
    return Solution(
        theta=result.x,
        objective=float(problem.objective_of(residuals)),
        converged=bool(result.status > 0) and bool(np.all(np.isfinite(result.x))),
        message=str(result.message),
        residuals=residuals,
        jacobian=result.jac,
        n_evaluations=int(result.nfev),
    )


def multistart(
    problem: Problem,
    grid: Array,
    n_refine: int,
    extra: list[Array] | None = None,
    progress: bool | str = False,
) -> list[Solution]:
    """Refine the ``extra`` starts, then the best starts; solutions sorted best first.

    For laws with linear parameters, half of the ``n_refine`` candidate starts are the best
    variable-projection starts (:mod:`scaling_fit.fitting.varpro`) and half the best of ``grid``;
    otherwise all come from ``grid``. Candidates are refined best-scored first, after every
    ``extra`` start, and refining stops early once ``AGREEMENT`` converged solutions share the
    best objective (:func:`agreed`): the optimum has then been found from several starts, and
    further starts would only confirm it. Converged solutions sort before the others.
    ``progress`` shows a bar per refined start (:mod:`scaling_fit.progress`).
    """
    solutions: list[Solution] = []
    starts = [*(extra or []), *_candidates(problem, grid, n_refine)]
    with progress_bar(len(starts), "refining starts", "start", progress) as bar:
        for start in starts:
            solutions.append(refine(problem, start))
            bar.update()
            if agreed(solutions):
                break
    return sorted(solutions, key=lambda s: (not s.converged, s.objective))


def _candidates(problem: Problem, grid: Array, n_refine: int) -> Array:
    """The ``n_refine`` candidate starts (projected and grid), best-scored first."""
    projected = best_projected(problem, (n_refine + 1) // 2)
    order = np.argsort(score_grid(problem, grid), kind="stable")[: n_refine - len(projected)]
    starts = np.vstack([np.reshape(projected, (-1, grid.shape[1])), grid[order]])
    return starts[np.argsort(score_grid(problem, starts), kind="stable")]


def agreed(solutions: list[Solution], count: int | None = None) -> bool:
    """Whether at least ``count`` (default ``AGREEMENT``) converged solutions share the best
    converged objective (to ``SAME_OPTIMUM_RTOL``)."""
    objectives = np.array([s.objective for s in solutions if s.converged])
    needed = AGREEMENT if count is None else count
    if len(objectives) < needed:
        return False
    best = objectives.min()
    tolerance = SAME_OPTIMUM_RTOL * best + SAME_OPTIMUM_ATOL
    return int(np.sum(objectives - best <= tolerance)) >= needed


def n_at_best(solutions: list[Solution]) -> int:
    """How many refined starts reached the best objective (to ``SAME_OPTIMUM_RTOL``)."""
    best = solutions[0].objective
    tolerance = SAME_OPTIMUM_RTOL * best + SAME_OPTIMUM_ATOL
    return sum(abs(s.objective - best) <= tolerance for s in solutions)


def distinct_optima(solutions: list[Solution], limit: int = 3) -> list[Array]:
    """Fit-space vectors of up to ``limit`` distinct converged optima, best first."""
    kept: list[Array] = []
    for s in solutions:
        if s.converged and all(not np.allclose(s.theta, k, rtol=1e-4, atol=1e-6) for k in kept):
            kept.append(s.theta)
        if len(kept) == limit:
            break
    return kept or [solutions[0].theta]


def _strictly_inside(x: Array, lower: Array, upper: Array) -> Array:
    """Clip a start into the open box the solver needs."""
    span = np.where(np.isfinite(upper - lower), upper - lower, 1.0)
    margin = 1e-10 * np.maximum(span, 1.0)
    return np.clip(x, lower + margin, upper - margin)
