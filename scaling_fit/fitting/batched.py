"""Refit many weightings of one problem at once: a vectorised Gauss-Newton on the robust
objective, for the bootstrap.

A bootstrap resample of runs is the same points with integer weights (how many times each
point was drawn), so its objective is Σᵢ wᵢ ρ(rᵢ(θ)) over the full data.  All resamples are
refitted together from one start: each iteration evaluates the residuals of every resample
in one vectorised call (and the law's analytic Jacobian of those whose last step was taken),
forms each such resample's gradient g = Jᵀ(w ρ'(r)) and Gauss-Newton matrix
H = Jᵀ diag(w ρ''(r)) J, and takes a Levenberg-Marquardt step (H + λ diag H) s = −g.  ρ'' is
1 inside the Huber threshold and 0 outside: exactly the curvature SciPy's trust-region solver
uses for ``loss="huber"`` (its robust-loss rescaling gives the points beyond δ no curvature).
A step is kept only where it lowers that resample's objective; λ shrinks after a kept step and
grows after a refused one (the resample's g and H are then reused).

A resample *converges* when the next step, barely damped, would move no parameter by more than
``XTOL`` (relative to ``max(1, |θ|)``).  On Epoch AI's 240 points, 1,000 resamples: every one
converges (in 10-45 iterations), each objective within 2e-14 (relative) of the trust-region
solver's and each parameter within 1e-6, the solver's own spread along the flattest direction
(log A, log B); the standard errors agree to 8 digits.  A resample that does not
converge within ``MAX_ITERATIONS``, whose damping runs away, that ends on a bound of the
parameters, or whose optimum leaves a direction undetermined (``MIN_CURVATURE``) is reported
as not converged, and the caller refits it with the full solver.
"""

from __future__ import annotations

import numpy as np

from ..laws.base import Array
from .objective import Problem, huber

# A kept step smaller than this (relative to max(1, |theta|)) in every parameter ends a refit.
XTOL = 1e-9
MAX_ITERATIONS = 60
# Levenberg-Marquardt damping: start, factors after a refused / kept step, and the largest
# damping before the refit is given up (its steps have shrunk to nothing without converging).
LAMBDA_START = 1e-3
LAMBDA_UP = 4.0
LAMBDA_DOWN = 3.0
LAMBDA_MAX = 1e12
# A refit is settled only where the scaled Gauss-Newton matrix has no eigenvalue below this
# fraction of its largest: (1e-7)^2, the square of the singular-value ratio below which
# fit() reports parameters as not identified (identifiability.UNIDENTIFIED_RATIO).
MIN_CURVATURE = 1e-14
# Resamples x points x parameters in one Jacobian: batches of resamples keep memory ~32 MB.
BATCH_ELEMENTS = 4_000_000


def batchable(problem: Problem) -> bool:
    """Whether :func:`refit_weighted` applies: a law whose analytic Jacobian broadcasts.

    The final-loss laws' gradients broadcast over a stack of parameter vectors, and so does a
    loss-curve law's that says so (``Law.stacked_gradient``: the annealing law's); the
    others take one vector at a time, so their bootstrap keeps the one-resample-at-a-time
    solver."""
    law = problem.law
    return law.log_gradient is not None and (not law.fits_curves or law.stacked_gradient)


def refit_weighted(
    problem: Problem, weights: Array, start: Array, offsets: Array | None = None
) -> tuple[Array, Array, Array, Array]:
    """Minimise Σᵢ wₖᵢ ρ(rᵢ(θ) + oₖᵢ) for every row k of ``weights``, from ``start`` (or from
    row k of ``start``).

    Parameters
    ----------
    problem
        The full-data problem (its law must be :func:`batchable`).
    weights
        Non-negative weights of the points, shape ``(n_resamples, n_points)``.
    start
        Fit-space start shared by every resample, shape ``(n_free,)``, or one per resample,
        shape ``(n_resamples, n_free)``.
    offsets
        Shifts of the residuals per resample, shape ``(n_resamples, n_points)`` (default
        none): other observed values of the same points, as ``log L_i − log L'_ki`` (or
        ``L_i − L'_ki`` for ``"mse_linear"``), so the Jacobian is the problem's own.

    Returns
    -------
    tuple of numpy.ndarray
        Fit-space optima ``(n_resamples, n_free)``, their objectives ``(n_resamples,)``,
        whether each converged ``(n_resamples,)`` and its iterations ``(n_resamples,)``.
    """
    weights = np.asarray(weights, dtype=float)
    starts = np.broadcast_to(np.asarray(start, dtype=float), (len(weights), np.shape(start)[-1]))
    shifts = np.zeros_like(weights) if offsets is None else np.asarray(offsets, dtype=float)
    rows = max(1, BATCH_ELEMENTS // max(problem.n_points * starts.shape[1], 1))
    parts = [
        _refit_batch(problem, weights[k : k + rows], starts[k : k + rows], shifts[k : k + rows])
        for k in range(0, len(weights), rows)
    ]
    if not parts:
        empty = np.empty(0)
        return np.empty((0, starts.shape[1])), empty, empty.astype(bool), empty.astype(int)
    return tuple(np.concatenate(p) for p in zip(*parts, strict=True))  # type: ignore[return-value]


def _objective(problem: Problem, residuals: Array, weights: Array) -> Array:
    """Weighted summed objective of each row of residuals."""
    if problem.loss == "huber":
        return np.sum(weights * huber(residuals, problem.delta), axis=-1)
    return 0.5 * np.sum(weights * residuals**2, axis=-1)


def _slopes(problem: Problem, residuals: Array) -> tuple[Array, Array]:
    """ρ'(r) and the Gauss-Newton curvature ρ''(r) of the loss, element-wise."""
    if problem.loss == "huber":
        return np.clip(residuals, -problem.delta, problem.delta), (
            np.abs(residuals) <= problem.delta
        ).astype(float)
    return residuals, np.ones_like(residuals)


def _refit_batch(
    problem: Problem, weights: Array, starts: Array, offsets: Array
) -> tuple[Array, Array, Array, Array]:
    """:func:`refit_weighted` on one batch of resamples, row k from ``starts[k]``.

    Each row's gradient and Gauss-Newton matrix are kept until its step is taken: a refused
    step leaves them as they were, so only the rows that moved are evaluated again (an
    iteration where every step was refused evaluates the law not at all)."""
    lower, upper = problem.space.fit_bounds()
    count = len(weights)
    theta = np.array(starts, dtype=float)
    residuals = problem.residuals(theta) + offsets
    objective = _objective(problem, residuals, weights)
    damping = np.full(count, LAMBDA_START)
    converged = np.zeros(count, dtype=bool)
    failed = ~np.isfinite(objective)
    iterations = np.zeros(count, dtype=int)
    gradient = np.empty_like(theta)
    hessian = np.empty((count, theta.shape[1], theta.shape[1]))
    moved = np.ones(count, dtype=bool)  # rows whose gradient and hessian are out of date
    for _ in range(MAX_ITERATIONS):
        active = np.flatnonzero(~(converged | failed))
        if not len(active):
            break
        iterations[active] += 1
        stale = active[moved[active]]
        if len(stale):
            gradient[stale], hessian[stale] = _gauss_newton(
                problem, theta[stale], residuals[stale], weights[stale]
            )
            moved[stale] = False
        current, lam = theta[active], damping[active]  # the active rows, gathered once
        step = _step(gradient[active], hessian[active], lam)
        trial = np.clip(current + step, lower, upper)
        trial_residuals = problem.residuals(trial) + offsets[active]
        trial_objective = _objective(problem, trial_residuals, weights[active])
        kept = np.isfinite(trial_objective) & (trial_objective <= objective[active])
        # Converged: the proposed step, (near) undamped Gauss-Newton, moves no parameter by
        # more than XTOL. Judged on the step, not on the objective, whose changes that close
        # to the optimum are below its rounding (a kept or refused step alike).
        small = np.abs(step) <= XTOL * np.maximum(1.0, np.abs(current))
        done = small.all(axis=1) & (lam <= 1.0)
        take = active[kept]
        theta[take], residuals[take] = trial[kept], trial_residuals[kept]
        objective[take] = trial_objective[kept]
        moved[take] = True
        damping[active] = np.where(kept, lam / LAMBDA_DOWN, lam * LAMBDA_UP)
        converged[active[done]] = True
        failed |= damping > LAMBDA_MAX
    on_bound = np.any((theta <= lower) | (theta >= upper), axis=1)
    settled = converged & ~on_bound & ~failed
    rows = np.flatnonzero(settled)
    stale = rows[moved[rows]]
    if len(stale):
        hessian[stale] = _gauss_newton(problem, theta[stale], residuals[stale], weights[stale])[1]
    settled[rows] = _determined(hessian[rows])
    return theta, objective, settled, iterations


def _determined(hessian: Array) -> Array:
    """Whether the data determine every direction at each optimum: its Gauss-Newton matrix
    ``hessian``, scaled to a unit diagonal, has no eigenvalue below ``MIN_CURVATURE`` of its
    largest.

    Along a direction the data do not determine, the objective is flat and the damped steps
    run far (to the edge of the float range, where a parameter of 1e-320 is 0); such a
    resample or start is left to the trust-region solver, whose steps stay in a trust region.
    """
    if not len(hessian):
        return np.zeros(0, dtype=bool)
    diagonal = np.diagonal(hessian, axis1=1, axis2=2)
    flat = np.any(~(diagonal > 0), axis=1)
    norms = np.sqrt(np.where(flat[:, None], 1.0, diagonal))
    scaled = hessian / (norms[:, :, None] * norms[:, None, :])
    eigen = np.linalg.eigvalsh(np.where(flat[:, None, None], np.eye(hessian.shape[1]), scaled))
    return ~flat & (eigen[:, 0] > MIN_CURVATURE * eigen[:, -1])


def _gauss_newton(
    problem: Problem, theta: Array, residuals: Array, weights: Array
) -> tuple[Array, Array]:
    """Gradient ``(k, n_free)`` and Gauss-Newton matrix ``(k, n_free, n_free)`` of the
    weighted objective of a stack of resamples."""
    jacobian = problem.stacked_jacobians(theta)  # (k, p, n)
    slope, curvature = _slopes(problem, residuals)
    gradient = (jacobian @ (weights * slope)[:, :, None])[..., 0]
    weighted = jacobian * (weights * curvature)[:, None, :]
    return gradient, weighted @ jacobian.transpose(0, 2, 1)


def _step(gradient: Array, hessian: Array, damping: Array) -> Array:
    """Levenberg-Marquardt steps of a stack of resamples, shape ``(k, n_free)``."""
    diagonal = np.diagonal(hessian, axis1=1, axis2=2)
    # A parameter with no curvature (every point beyond δ moves it) still gets a damped step.
    floor = 1e-12 * np.maximum(diagonal.max(axis=1, keepdims=True), 1e-300)
    scale = np.maximum(diagonal, floor)
    system = hessian + (damping[:, None] * scale)[:, :, None] * np.eye(gradient.shape[1])
    with np.errstate(all="ignore"):
        try:
            step = -np.linalg.solve(system, gradient[..., None])[..., 0]
        except np.linalg.LinAlgError:  # one singular system: solve them one by one
            step = np.stack([_solve_or_nan(a, b) for a, b in zip(system, gradient, strict=True)])
    return step


def _solve_or_nan(system: Array, gradient: Array) -> Array:
    """−system⁻¹ gradient, or NaN if singular: the NaN step's objective is not finite, so it
    is refused and the damping grows."""
    try:
        return -np.linalg.solve(system, gradient)
    except np.linalg.LinAlgError:
        return np.full_like(gradient, np.nan)
