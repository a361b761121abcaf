"""Variable-projection starts for laws that are linear in some of their parameters.

Chinchilla, L = E + A/N^α + B/D^β, is linear in (E, A, B) once (α, β) are fixed.  For every
point of a dense grid over the non-linear parameters, the linear ones are solved exactly by
non-negative least squares on relative errors, Σ((L̂ − L)/L)² ≈ Σ(log L̂ − log L)², so each
grid point carries its best amplitudes.  Starting the robust fit from the best of these
removes most local-minimum trouble (Open-Athena's "VPNLS"; laws.md §9.2).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
from scipy.optimize import nnls

from ..laws.base import Array
from .objective import Problem, best_rows
from .space import cartesian

# Points per non-linear axis, capped so the dense grid stays below MAX_POINTS starts.
POINTS_PER_AXIS = 41
MAX_POINTS = 4096
# Floor for a linear coefficient that NNLS sets to zero (log-parameters need a positive value).
TINY = 1e-12
# Elements (starts x linear parameters x points) of the design built at once: the grid is
# projected in chunks of starts, so memory stays at ~8 MB whatever the number of points
# (one 1,681 x 3 x n array needed 37.6 GiB at n = 10^6). Each start's solve is independent
# of the others in its chunk, so chunking does not change the result.
DESIGN_ELEMENTS = 1_048_576
# Largest condition number of a (column-scaled) normal-equation matrix solved directly: its
# solution then has relative error <= ~1e-16 * 1e8 = 1e-8, ample for a start.
MAX_CONDITION = 1e8
# Systems with a negative unconstrained coefficient and at most this many unknowns are solved
# by trying every support (2^k - 1 batched solves, :func:`_nnls_by_support`); more go to SciPy.
MAX_SUPPORT_UNKNOWNS = 4


def projected_starts(problem: Problem) -> Array:
    """Fit-space starts with the linear parameters solved at each non-linear grid point.

    Returns an empty ``(0, n_free)`` array when the law declares no linear parameters, or
    when one of them is fixed or tied (the projection then no longer applies as is).
    """
    space, law = problem.space, problem.law
    free = list(space.free)
    linear = list(law.linear)
    if not linear or any(n not in free for n in linear):
        return np.empty((0, len(free)))
    nonlinear = [n for n in free if n not in linear]
    grid = _dense_grid(problem, nonlinear)
    theta = np.zeros((len(grid), len(free)))
    for j, name in enumerate(nonlinear):
        theta[:, free.index(name)] = grid[:, j]
    coefficients = _solve_linear(problem, theta, linear)
    for j, name in enumerate(linear):
        parameter = law.parameter(name)
        value = np.maximum(coefficients[:, j], TINY) if parameter.log else coefficients[:, j]
        theta[:, free.index(name)] = parameter.to_fit_space(value)
    return space.clip(theta)


def _dense_grid(problem: Problem, nonlinear: list[str]) -> Array:
    """Evenly spaced fit-space values spanning each non-linear parameter's start values."""
    if not nonlinear:
        return np.zeros((1, 0))
    per_axis = max(2, min(POINTS_PER_AXIS, int(MAX_POINTS ** (1.0 / len(nonlinear)))))
    axes = []
    for name in nonlinear:
        start = problem.law.parameter(name).fit_start
        axes.append(np.linspace(min(start), max(start), per_axis))
    return cartesian(axes)


def _solve_linear(problem: Problem, theta: Array, linear: list[str]) -> Array:
    """Non-negative least-squares coefficients on relative errors, one row per grid point,
    solved in chunks of at most ``DESIGN_ELEMENTS`` design entries."""
    terms = _separable_terms(problem, theta, linear)
    if len(terms) == len(linear):
        return _solve_separable(problem, linear, terms)
    rows = max(1, DESIGN_ELEMENTS // (len(linear) * max(problem.n_points, 1)))
    parts = [
        _solve_linear_chunk(problem, theta, slice(start, start + rows), linear, terms)
        for start in range(0, len(theta), rows)
    ]
    return np.vstack(parts) if parts else np.empty((0, len(linear)))


def _term(problem: Problem, theta: Array, name: str, linear: list[str]) -> Array:
    """The design column of linear parameter ``name`` (its term with unit coefficient, the
    other linear terms zero, over the observed loss) at each row of ``theta``."""
    params = problem.space.natural(theta)
    unit = {**params, **{n: (1.0 if n == name else 0.0) for n in linear}}
    with np.errstate(all="ignore"):
        return problem.law.predict(*problem.inputs, **unit) / problem.observed


def _separable_terms(
    problem: Problem, theta: Array, linear: list[str]
) -> dict[str, tuple[Array, Array]]:
    """For each linear parameter whose term's non-linear parameters the law declares
    (``law.linear_terms``): its column at each distinct value of those parameters, and the
    index of each row of ``theta`` into them.

    The term does not depend on the other parameters, so evaluating it at a representative
    row of each distinct value gives bit-identical columns: Chinchilla's A/N^alpha at 41
    values of alpha instead of 1,681 (alpha, beta) pairs.
    """
    declared = problem.law.linear_terms
    free = list(problem.space.free)
    terms = {}
    for name in linear:
        if name not in declared or any(n not in free for n in declared[name]):
            continue
        columns = [free.index(n) for n in declared[name]]
        # One parameter: the 1-D unique, the same answer as axis=0 at a fifth of its cost.
        one = len(columns) == 1
        values = theta[:, columns[0]] if one else theta[:, columns]
        _, first, inverse = np.unique(
            values, axis=None if one else 0, return_index=True, return_inverse=True
        )
        terms[name] = (_term(problem, theta[first], name, linear), np.ravel(inverse))
    return terms


def _solve_separable(
    problem: Problem, linear: list[str], terms: dict[str, tuple[Array, Array]]
) -> Array:
    """:func:`_solve_linear` when every term is separable: the normal equations of every grid
    point are gathered from products of the terms' distinct columns (Chinchilla: A's 41
    columns against B's 41, one 41 x 41 product) instead of from a design of grid points x
    terms x points, which is then built only for systems SciPy's NNLS must solve."""
    values = {n: np.where(np.isfinite(v), v, 0.0) for n, (v, _) in terms.items()}
    index = {n: i for n, (_, i) in terms.items()}
    count, k = len(index[linear[0]]), len(linear)
    gram, rhs = np.empty((count, k, k)), np.empty((count, k))
    with np.errstate(over="ignore", invalid="ignore"):  # huge rows are masked as unusable
        for j, a in enumerate(linear):
            rhs[:, j] = values[a].sum(axis=1)[index[a]]
            for b in linear[: j + 1]:
                if len(values[a]) * len(values[b]) <= count:
                    products = (values[a] @ values[b].T)[index[a], index[b]]
                else:  # too many distinct pairs for one product table: grid point by point
                    products = np.einsum("gn,gn->g", values[a][index[a]], values[b][index[b]])
                gram[:, j, linear.index(b)] = gram[:, linear.index(b), j] = products

    def system(i: int) -> tuple[Array, Array]:
        design = np.array([values[n][index[n][i]] for n in linear])
        return design.T, np.ones(problem.n_points)

    return _nnls_normal(gram, rhs, system)


def _solve_linear_chunk(
    problem: Problem,
    theta: Array,
    rows: slice,
    linear: list[str],
    terms: dict[str, tuple[Array, Array]],
) -> Array:
    """:func:`_solve_linear` on the grid points ``rows``."""
    chunk = theta[rows]
    design = np.empty((len(chunk), len(linear), problem.n_points))
    for j, name in enumerate(linear):
        if name in terms:
            values, index = terms[name]
            design[:, j, :] = values[index[rows]]
        else:
            design[:, j, :] = _term(problem, chunk, name, linear)
    if not np.isfinite(design).all():
        design = np.where(np.isfinite(design), design, 0.0)
    return _batched_nnls(design, np.ones(problem.n_points))


def _batched_nnls(design: Array, target: Array) -> Array:
    """Non-negative least squares of ``design[i].T @ x ≈ target`` for every ``i`` at once.

    ``design`` has shape ``(systems, unknowns, equations)``; see :func:`_nnls_normal`.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # huge rows are masked as unusable
        gram = np.einsum("gkn,gln->gkl", design, design)
        rhs = design @ target
    return _nnls_normal(gram, rhs, lambda i: (design[i].T, target))


def _nnls_normal(gram: Array, rhs: Array, system: Callable[[int], tuple[Array, Array]]) -> Array:
    """Non-negative least squares of many small systems from their normal equations.

    ``gram`` ``(systems, k, k)`` and ``rhs`` ``(systems, k)`` are AᵀA and Aᵀb of each system;
    ``system(i)`` gives A and b of system ``i``. Where the unconstrained solution is
    non-negative it is also the NNLS solution (the problem is convex and its KKT conditions
    then hold), so all systems are first solved together, scaled to a unit diagonal. Only
    systems with a negative coefficient are solved again, all at once, on every support
    (:func:`_nnls_by_support`); systems too ill-conditioned for normal equations (scaled
    condition number above ``MAX_CONDITION``) go to :func:`scipy.optimize.nnls` one by one.
    """
    k = gram.shape[1]
    with np.errstate(over="ignore", invalid="ignore"):
        norms = np.sqrt(np.diagonal(gram, axis1=1, axis2=2))
    usable = np.all((norms > 0) & np.isfinite(norms), axis=1) & np.all(np.isfinite(rhs), axis=1)
    scale = np.where(usable[:, None], norms, 1.0)
    scaled = gram / (scale[:, :, None] * scale[:, None, :])
    solvable = usable & _well_conditioned(np.where(usable[:, None, None], scaled, np.eye(k)))
    coefficients = np.zeros(rhs.shape)
    if solvable.any():
        target = rhs[solvable] / scale[solvable]
        solved = np.linalg.solve(scaled[solvable], target[..., None])[..., 0]
        coefficients[solvable] = solved / scale[solvable]
    negative = solvable & np.any(coefficients < 0, axis=1)
    if k > MAX_SUPPORT_UNKNOWNS:  # too many supports to try: SciPy solves these too
        solvable &= ~negative
    elif negative.any():
        target = rhs[negative] / scale[negative]
        coefficients[negative] = _nnls_by_support(scaled[negative], target) / scale[negative]
    for i in np.flatnonzero(~solvable):
        coefficients[i] = nnls(*system(i))[0]
    return coefficients


def _well_conditioned(scaled: Array) -> Array:
    """Whether each symmetric positive semi-definite ``scaled`` matrix (unit diagonal) has a
    condition number of at most ``MAX_CONDITION``.

    A determinant bound settles most matrices without their eigenvalues: with a unit diagonal
    the largest eigenvalue is at most the trace k, so the smallest is at least det / k^(k-1)
    and the condition number at most k^k / det. Only matrices the bound cannot clear get
    their eigenvalues computed (five times the cost of the determinant).
    """
    k = scaled.shape[1]
    good = np.linalg.det(scaled) > k**k / MAX_CONDITION
    unsure = np.flatnonzero(~good)
    if len(unsure):
        eigen = np.linalg.eigvalsh(scaled[unsure])
        good[unsure] = eigen[:, 0] > eigen[:, -1] / MAX_CONDITION
    return good


def _nnls_by_support(gram: Array, rhs: Array) -> Array:
    """Non-negative least squares of well-conditioned normal equations ``gram x = rhs``,
    every system at once, by trying every support.

    The NNLS solution is the unconstrained least-squares solution on its support (the
    coefficients it leaves non-zero). Each candidate support's solution that is
    non-negative is a feasible point, and the one with the lowest objective,
    ``xᵀ gram x − 2 xᵀ rhs = −xᵀ rhs`` at a support's least-squares solution, is the optimum
    (the empty support, x = 0, scores 0). With k ≤ ``MAX_SUPPORT_UNKNOWNS`` unknowns that is
    at most 2ᵏ − 1 batched solves, in place of one SciPy ``nnls`` call per system (161
    systems of Epoch's 1,681 Chinchilla grid points: ~2 ms of a ~12 ms fit). A principal
    submatrix of a matrix is no worse conditioned than the matrix, so each solve is as
    accurate as the unconstrained one.
    """
    count, k = rhs.shape
    best, best_value = np.zeros((count, k)), np.zeros(count)
    for support in itertools.product([False, True], repeat=k):
        columns = np.flatnonzero(support)
        if not len(columns):
            continue
        sub = gram[:, columns[:, None], columns[None, :]]
        solved = np.linalg.solve(sub, rhs[:, columns, None])[..., 0]
        value = -np.sum(solved * rhs[:, columns], axis=1)
        better = np.all(solved >= 0, axis=1) & (value < best_value)
        best[better] = 0.0
        best[np.ix_(better, columns)] = solved[better]
        best_value[better] = value[better]
    return best


def best_projected(problem: Problem, count: int) -> list[Array]:
    """The ``count`` best variable-projection starts by the problem's own objective."""
    starts = projected_starts(problem)
    if len(starts) == 0:
        return []
    return [starts[i] for i in best_rows(problem, starts, count)]
