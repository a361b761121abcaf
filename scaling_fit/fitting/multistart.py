"""Global search for one fitting problem: score a start grid, refine the best starts.

1. Every start of the grid (4,500 for Chinchilla, Hoffmann et al.'s grid) is scored in one
   vectorised pass, in chunks that keep memory small.
2. Up to ``n_refine`` of the best starts (after the law's and the user's own starts) are
   refined, best-scored first, with SciPy's trust-region reflective solver
   (``least_squares(method="trf")``), which minimises exactly the summed Huber objective
   (``loss="huber", f_scale=delta``), with bounds, at tight tolerances, using the law's
   analytic Jacobian when it has one. Refining stops early once ``AGREEMENT`` starts have
   reached the same best objective.
3. The refined solutions are sorted by objective; how many reached the best objective says
   whether the optimum was found reliably or by the luck of one start.

A start can also *stall*: the solver uses up its evaluations while still creeping down a
valley that leads to a limit of the law's parameters (the multi-power law's
``C -> 0, beta -> inf`` with ``C * beta`` finite, where its loss-drop term becomes
``1 - exp(-C beta x)``). Such starts reach the same objective to about 1e-7, lower than any
finite optimum, and every further start would creep down the same valley: refining stops once
``RIDGE_AGREEMENT`` stalled starts share an objective below every converged one. The best
stalled start is the fit when it lowers chi-square significantly below every converged start
(``SIGNIFICANT_CHI2``; otherwise the finite optimum stays the fit), and :func:`fit` then
reports it as not converged and says which parameters ran away.

Where the data cannot identify the law, the first starts stall in valleys with a near-flat
direction (Farseer's nine parameters on 4-6 model sizes, where a·N^p + b creeps towards its
power-law limit p -> 0, |a| -> inf): refining stops once ``RIDGE_AGREEMENT`` starts have
stalled there and none has converged (:func:`unidentified`). Every further start would
spend the solver's whole budget creeping down such a valley, and where it stops only says
how far it crept: :func:`fit` reports the fit as not converged and the parameters as not
identified, and its predictions are refused unless asked for.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from ..laws.base import Array
from ..progress import progress_bar
from .batched import XTOL, batchable, refit_weighted
from .identifiability import identified
from .objective import Problem, best_rows, rows_below, score_grid
from .varpro import best_projected

# Solver tolerances: tight enough to reach Epoch AI's best Chinchilla objective to 1e-11
# (loose defaults stop early on a summed Huber objective of ~1e-3).
TOLERANCE = 1e-14
# Above this many points, the search (start scoring, variable projection and refining of the
# candidates) runs on this many points evenly spaced through the data, and its best
# solutions are then polished on every point (:func:`multistart`). The search's cost is then
# flat in the number of points and only the polish grows, linearly: 10^6 points fit in
# seconds instead of running out of memory. Smaller fits (every published data set) are
# searched on all their points, exactly as before.
SEARCH_POINTS = 4_096
# Two solutions are "the same optimum" when their objectives agree to this relative tolerance,
# or to the absolute one for near-perfect fits (residuals of ~1e-7 give objectives ~1e-12).
SAME_OPTIMUM_RTOL = 1e-8
SAME_OPTIMUM_ATOL = 1e-12
# Refining stops once this many converged starts reach the same best objective: the optimum
# is then found from several starts, not by the luck of one (fit() reports how many did).
AGREEMENT = 5
# A stalled start outranks a converged one only when it fits significantly better: a
# likelihood-ratio test at 5 % with one degree of freedom (the limit the valley leads to),
# n * (f_converged - f_stalled) / f_stalled > 3.84 for n points (the objective is a sum of
# squared, or Huber, residuals, so n * (relative drop) is the drop in chi-square). On 22 points
# of three runs a valley 0.17 % lower (chi-square 0.04) led to L0 = 0.15 where the converged
# optimum has 2.41; on 957 noisy points the valley is 3x lower (chi-square ~1,900).
SIGNIFICANT_CHI2 = 3.84
# Stalled starts creep along one valley towards a limit of the parameters; after the solver's
# 700 evaluations their objectives agree to ~3e-8 (1,000 noisy multi-power points) or ~6e-5
# (218 points of another law's curves), not to ``SAME_OPTIMUM_RTOL``. 1e-4 of the objective is
# ~0.1 in chi-square on 1,000 points: not a better fit. Three such starts that agree below
# every converged optimum end the search; each costs ~2 s there, and all eleven used to be
# refined.
STALLED_RTOL = 1e-4
RIDGE_AGREEMENT = 3


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
    stalled: bool = False

    @property
    def usable(self) -> bool:
        """Converged, or stopped at the evaluation limit at a finite objective (a stalled
        start is still the lowest objective found from it)."""
        return (self.converged or self.stalled) and bool(np.isfinite(self.objective))


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
        stalled=result.status == 0 and bool(np.all(np.isfinite(result.x))),
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
    search = problem.thinned(SEARCH_POINTS)
    count, candidates = _candidates(search, grid, n_refine)
    starts = itertools.chain(extra or [], candidates)
    with progress_bar(len(extra or []) + count, "refining starts", "start", progress) as bar:
        # The first AGREEMENT starts at once where the law allows it: refining stops no
        # earlier than after AGREEMENT converged starts anyway.
        # Starts the batch does not settle go back in front of the others, so the stopping
        # rules below are checked before each of their trust-region refines.
        head = list(itertools.islice(starts, AGREEMENT)) if batchable(search) else []
        settled = settle_together(search, head)
        solutions = [s for s in settled if isinstance(s, Solution)]
        starts = itertools.chain([s for s in settled if not isinstance(s, Solution)], starts)
        bar.update(len(solutions))
        # Agreement is checked before the next start is taken: taking it may score the grid.
        while not (agreed(solutions) or on_ridge(solutions) or unidentified(solutions)):
            start = next(starts, None)
            if start is None:
                break
            solutions.append(refine(search, start))
            bar.update()
    if search is not problem:
        solutions = polish(problem, solutions)
    return ranked(solutions)


def refine_together(problem: Problem, starts: list[Array]) -> list[Solution]:
    """:func:`refine` of each start, for all of them at once where it converges.

    The starts are refined together by the vectorised Gauss-Newton of
    :mod:`~scaling_fit.fitting.batched` (one law evaluation per iteration for all of them),
    on the same objective as the trust-region solver, to the same optimum (the objectives
    agree to ~1e-14 relative). A start it does not bring to convergence, or that ends on a
    bound, is refined by the trust-region solver, as :func:`refine` always does.
    """
    return [
        s if isinstance(s, Solution) else refine(problem, s)
        for s in settle_together(problem, starts)
    ]


def settle_together(problem: Problem, starts: list[Array]) -> list[Solution | Array]:
    """Each start's :class:`Solution` where the vectorised Gauss-Newton brings it to
    convergence, else the start itself (moved strictly inside the bounds), for the
    trust-region solver; in the order of ``starts``."""
    if not starts:
        return []
    lower, upper = problem.space.fit_bounds()
    inside = np.array([_strictly_inside(np.asarray(s, dtype=float), lower, upper) for s in starts])
    weights = np.ones((len(starts), problem.n_points))
    thetas, _, converged, iterations = refit_weighted(problem, weights, inside)
    return [
        _batched_solution(problem, theta, int(n)) if ok else start
        for theta, ok, n, start in zip(thetas, converged, iterations, inside, strict=True)
    ]


def _batched_solution(problem: Problem, theta: Array, iterations: int) -> Solution:
    """The :class:`Solution` of a start the vectorised Gauss-Newton brought to convergence.

    Its Jacobian is the one the trust-region solver reports for the same optimum: for the
    Huber loss, SciPy's robust-loss rescaling keeps the rows of points within δ and scales
    the others' by sqrt(machine epsilon) (the loss has no curvature there)."""
    residuals = problem.residuals(theta)
    jacobian = problem.jacobian(theta)
    if problem.loss == "huber":
        outside = np.abs(residuals) > problem.delta
        jacobian[outside] *= np.sqrt(np.finfo(float).eps)
    return Solution(
        theta=theta,
        objective=float(problem.objective_of(residuals)),
        converged=True,
        message="vectorised Gauss-Newton converged: no parameter moves by more than "
        f"{XTOL:g} (relative)",
        residuals=residuals,
        jacobian=jacobian,
        n_evaluations=iterations,
    )


def ranked(solutions: list[Solution]) -> list[Solution]:
    """Solutions best first: converged ones and significantly better stalled ones by
    objective, then the other stalled ones, then failed starts.

    A stalled start whose objective is significantly below every converged one
    (``SIGNIFICANT_CHI2``) ranks first: the converged alternatives are worse local optima (on
    1,000 noisy multi-power points, one converged start reached 3x the stalled starts'
    objective with ``B = 3e16, C = 5e-23``). A stalled start only marginally lower does not
    displace a finite optimum. n is the number of residuals of the solution's problem."""
    converged = [s.objective for s in solutions if s.converged]
    best = min(converged) if converged else np.inf

    def preferred(s: Solution) -> bool:
        drop = len(s.residuals) * (best - s.objective)
        return s.converged or drop > SIGNIFICANT_CHI2 * s.objective

    return sorted(solutions, key=lambda s: (not s.usable, not preferred(s), s.objective))


def polish(problem: Problem, solutions: list[Solution]) -> list[Solution]:
    """The distinct optima of a search on a thinned problem, refined on all of ``problem``'s
    points, best first.

    Starts that agreed on the thinned problem share one optimum, so it is refined once (from
    nearby, in a few iterations): at 10^6 points one such refine is most of the fit's time.
    The fit's ``n_at_best`` then counts distinct optima that reach the best objective on all
    points, not the agreeing starts of the search.
    """
    return [refine(problem, theta) for theta in distinct_optima(ranked(solutions))]


def _candidates(problem: Problem, grid: Array, n_refine: int) -> tuple[int, Iterator[Array]]:
    """How many candidate starts there are and the starts, best-scored first.

    The candidates are the best variable-projection starts and the best of ``grid``, in one
    order by score (projected first among equal scores). The grid is scored first only where
    it can change that order: when no grid start scores below the worst projected candidate
    (:func:`~scaling_fit.fitting.objective.rows_below`, a screen on a few points), every
    grid candidate comes after the projected ones, and the grid's best are picked only if
    refining gets that far (on Epoch's data, five projected starts agree and it never does).
    """
    projected = best_projected(problem, (n_refine + 1) // 2)
    n_grid = min(max(n_refine - len(projected), 0), len(grid))
    count = len(projected) + n_grid

    def grid_best() -> Array:
        starts = grid[best_rows(problem, grid, n_grid)]
        return starts[np.argsort(score_grid(problem, starts), kind="stable")]

    if not projected:
        return count, iter(grid_best())
    projected = np.array(projected)
    scores = score_grid(problem, projected)
    if len(rows_below(problem, grid, float(np.max(scores)))):  # interleaved: sort them all
        starts = np.vstack([projected, grid_best()])
        return count, iter(starts[np.argsort(score_grid(problem, starts), kind="stable")])
    first = projected[np.argsort(scores, kind="stable")]

    def in_order() -> Iterator[Array]:
        yield from first
        yield from grid_best()  # only when refining gets past the projected starts

    return count, in_order()


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


def on_ridge(solutions: list[Solution]) -> bool:
    """Whether ``RIDGE_AGREEMENT`` stalled starts share an objective (to ``STALLED_RTOL``)
    below every converged one: the optimum is a limit the solver only creeps towards."""
    stalled = np.array([s.objective for s in solutions if s.stalled and s.usable])
    if len(stalled) < RIDGE_AGREEMENT:
        return False
    best = stalled.min()
    converged = [s.objective for s in solutions if s.converged]
    if converged and min(converged) <= best:
        return False
    return int(np.sum(stalled - best <= STALLED_RTOL * best + SAME_OPTIMUM_ATOL)) >= RIDGE_AGREEMENT


def unidentified(solutions: list[Solution]) -> bool:
    """Whether ``RIDGE_AGREEMENT`` starts have stalled, none has converged, and the best of
    them sits in a valley the data do not determine (a near-flat direction of the objective,
    :func:`~scaling_fit.fitting.identifiability.identified`): the law is not identified by
    these data, and every further start would only creep down such a valley.

    On all 35 of Gadre et al.'s RedPajama runs (6 sizes), Farseer's twelve starts stalled at
    objectives 3.18-3.52e-4 after 900 evaluations each; given 9,000, four of them (the 1st,
    2nd, 6th and 11th) all reached 3.1808e-4: one valley, where the search's answer only
    said which start had crept furthest."""
    stalled = [s for s in solutions if s.stalled and s.usable]
    if len(stalled) < RIDGE_AGREEMENT or any(s.converged for s in solutions):
        return False
    return not identified(min(stalled, key=lambda s: s.objective).jacobian)


def n_at_best(solutions: list[Solution]) -> int:
    """How many refined starts reached the best objective (to ``SAME_OPTIMUM_RTOL``, or to
    ``STALLED_RTOL`` when the best start stalled)."""
    best = solutions[0].objective
    rtol = STALLED_RTOL if solutions[0].stalled else SAME_OPTIMUM_RTOL
    tolerance = rtol * best + SAME_OPTIMUM_ATOL
    return sum(abs(s.objective - best) <= tolerance for s in solutions)


def distinct_optima(solutions: list[Solution], limit: int = 3) -> list[Array]:
    """Fit-space vectors of up to ``limit`` distinct usable optima, best first.

    Stalled starts stop at different points of one valley, so only the best of them is kept:
    refining each again (polishing, bootstrap refits) would cost the solver's full budget
    per start to creep down the same valley (10 bootstrap refits of 400 points: 43 s with
    three stalled starts)."""
    kept: list[Array] = []
    stalled = False
    for s in solutions:
        if not s.usable or (s.stalled and stalled):
            continue
        if all(not np.allclose(s.theta, k, rtol=1e-4, atol=1e-6) for k in kept):
            kept.append(s.theta)
            stalled = stalled or s.stalled
        if len(kept) == limit:
            break
    return kept or [solutions[0].theta]


def _strictly_inside(x: Array, lower: Array, upper: Array) -> Array:
    """Clip a start into the open box the solver needs."""
    span = np.where(np.isfinite(upper - lower), upper - lower, 1.0)
    margin = 1e-10 * np.maximum(span, 1.0)
    return np.clip(x, lower + margin, upper - margin)
