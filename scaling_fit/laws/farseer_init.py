r"""Staged ("differential piecewise") starts for the Farseer law (Li et al. 2025,
docs/laws.md §3.2).

Farseer, :math:`L = e^{a_3 N^\gamma + b_3} + B(N) D^{-A(N)}` with
:math:`A(N) = e^{a_1 N^\alpha + b_1}` and :math:`B(N) = e^{a_2 N^\beta + b_2}`, has nine
parameters; the authors fit it in stages, each a linear least-squares problem after a
transform plus at most a 1-D search over one exponent:

1. **Per-N power laws in D.** Within each model size, L = c + B·D^(−A). The authors difference
   out c with successive loss drops on a √2 grid of D; here c is eliminated by solving it
   exactly (with B) by weighted linear least squares at each A of a 1-D grid, which is the
   same algebra for any D grid (``ΔL_j = B (D_j^(−A) − D_(j+1)^(−A))``) and uses every point
   once instead of every difference of neighbours.
2. **N-dependence of the exponent.** ln A(N) = a₁N^α + b₁: for each α of a grid, (a₁, b₁) by
   linear least squares on the per-N ln A; α is chosen by how well the resulting A(N)
   reproduces the data (c and B re-solved per N), the authors' criterion for later rounds.
3. **N-dependence of the amplitude.** With A(N) fixed, each size's B (and c) is linear; then
   ln B(N) = a₂N^β + b₂ the same way.
4. **Alternate once** (the authors' rounds R2/R3): re-estimate each size's A with B(N) fixed,
   refit A(N), then B(N).
5. **The N-only term.** The remainder L − B(N)·D^(−A(N)) of every point (sizes with too few
   runs included) gives ln(first term) = a₃N^γ + b₃, with γ on a grid; the least squares is
   weighted by remainder/L so that it minimises relative errors of L.

Relative errors (weights 1/L) are used throughout, as the robust fit does on log L.  When most
model sizes have too few runs to fit a power law in D (scattered N), consecutive sizes are
pooled into bins and each bin's fit gains a term linear in log N for the N-dependence of c
inside the bin.  The starts are returned after rounds 1 and 2; the fitter polishes both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar

Array = np.ndarray

# Points per model size for a power law in D: three unknowns (c, B, A) plus one to spare.
MIN_GROUP = 4
# Points per bin when sizes are scattered: four unknowns (c, its log-N slope, B, A) + 2.
BIN_POINTS = 6
MAX_BINS = 8
# Candidate data exponents A(N) > 0: 0.01-3 brackets every published data exponent
# (Chinchilla 0.28-0.37, Kaplan 0.095-0.103, Farseer ~0.3) with room on both sides.
EXPONENT_GRID = np.geomspace(0.01, 3.0, 241)
# Candidate powers of N (alpha, beta, gamma): the authors' range [-0.5, 0.5] in steps of
# 0.005, without 0 where N^p is collinear with the intercept (they step by 1e-4; a bounded 1-D
# refinement between grid neighbours follows here). On the Gadre runs the wider [-1, 1] put
# the exponent of A(N) at -1 with a1 ~ -6e6, a start the polish could not improve on.
POWER_GRID = np.concatenate([np.linspace(-0.5, -0.005, 100), np.linspace(0.005, 0.5, 100)])
# Power used when fewer than 3 sizes leave a power of N undetermined (any value fits them).
DEFAULT_POWER = -0.2
# Remainders below this share of the loss are too uncertain to take a logarithm of.
MIN_REMAINDER = 0.02

# a*N^p + b, stored as (a, p, b) with N in raw units as in the published form.
Triple = tuple[float, float, float]


@dataclass(frozen=True)
class Data:
    """The points in log space, and the groups (sizes or bins) the per-N fits use."""

    logn: Array
    logd: Array
    loss: Array
    groups: tuple[Array, ...]
    binned: bool

    @property
    def centers(self) -> Array:
        """Mean log N of each group."""
        return np.array([self.logn[g].mean() for g in self.groups])


def staged_starts(inputs: tuple[Array, ...], observed: Array) -> list[dict[str, float]]:
    """Starts for a Farseer fit from the authors' staged procedure (module docstring).

    Parameters
    ----------
    inputs
        ``(n_params, tokens)`` of the fitted points.
    observed
        Their losses.

    Returns
    -------
    list of dict
        Natural-unit values of the nine parameters after one and after two rounds of the
        procedure (best first); empty when no size has enough runs to start from.
    """
    n_params, tokens = (np.asarray(x, dtype=float) for x in inputs)
    data = group_points(np.log(n_params), np.log(tokens), np.asarray(observed, dtype=float))
    if not data.groups:
        return []
    with np.errstate(all="ignore"):
        first_round = _first_round(data)
        second_round = _alternate(data, *first_round) if first_round else None
    starts = [_as_params(data, *r) for r in (second_round, first_round) if r is not None]
    return [s for s in starts if all(np.isfinite(v) for v in s.values())]


def group_points(logn: Array, logd: Array, loss: Array) -> Data:
    """Group points by model size; pool consecutive sizes into bins when sizes are scattered."""
    sizes, labels = np.unique(logn, return_inverse=True)
    groups = [np.flatnonzero(labels == i) for i in range(len(sizes))]
    full = [g for g in groups if len(np.unique(logd[g])) >= MIN_GROUP]
    if sum(len(g) for g in full) * 2 >= len(loss):
        return Data(logn, logd, loss, tuple(full), binned=False)
    n_bins = min(MAX_BINS, len(loss) // BIN_POINTS)
    bins = np.array_split(np.argsort(logn, kind="stable"), n_bins) if n_bins else []
    return Data(logn, logd, loss, tuple(b for b in bins if len(b) >= BIN_POINTS), binned=True)


# ----------------------------------------------------------------------- the rounds
def _first_round(data: Data) -> tuple[Triple, Triple] | None:
    """Stages 1-3: free per-group power laws, then A(N), then B(N)."""
    per_group = [_free_power_law(data, g) for g in data.groups]
    log_exponents = np.log([p[0] for p in per_group])
    exponent = _smooth(data, log_exponents, lambda a: _score_exponent(data, a))
    amplitude = None if exponent is None else _fit_amplitude(data, exponent)
    return None if amplitude is None else (exponent, amplitude)


def _alternate(data: Data, exponent: Triple, amplitude: Triple) -> tuple[Triple, Triple] | None:
    """Stage 4: per-group A with B(N) fixed, then A(N), then B(N) again."""
    log_amplitude = _power(data.logn, *amplitude)
    log_exponents = [np.log(_exponent_given_amplitude(data, g, log_amplitude)) for g in data.groups]
    refitted = _smooth(data, np.array(log_exponents), lambda a: _score_exponent(data, a))
    amplitude = None if refitted is None else _fit_amplitude(data, refitted)
    return None if amplitude is None else (refitted, amplitude)


def _fit_amplitude(data: Data, exponent: Triple) -> Triple | None:
    """Stage 3: each group's ln B with A(N) fixed, then ln B(N) = a2 N^beta + b2."""
    a_points = np.exp(_power(data.logn, *exponent))
    log_amplitudes = np.array([_amplitude_given_exponent(data, g, a_points) for g in data.groups])
    return _smooth(
        data, log_amplitudes, lambda b: _score_amplitude(data, a_points, b), fallback=True
    )


def _as_params(data: Data, exponent: Triple, amplitude: Triple) -> dict[str, float]:
    """Stage 5: fit the N-only term to the remainders and name the nine parameters."""
    first = _first_term(data, exponent, amplitude)
    names = ("a1", "alpha", "b1", "a2", "beta", "b2", "a3", "gamma", "b3")
    return dict(zip(names, map(float, (*exponent, *amplitude, *first)), strict=True))


# ----------------------------------------------------------------------- per-group fits
def _columns(data: Data, group: Array) -> Array:
    """Columns of the group's c: a constant, and log N about the bin centre when binned."""
    ones = np.ones(len(group))
    if not data.binned or np.ptp(data.logn[group]) == 0:
        return ones[:, None]
    return np.column_stack([ones, data.logn[group] - data.logn[group].mean()])


def _solve(design: Array, target: Array, loss: Array) -> tuple[Array, Array]:
    """Weighted (1/L) least squares for stacks: design (J, m, k), target (J, m)."""
    weights = 1.0 / loss
    a = design * weights[None, :, None]
    y = target * weights[None, :]
    coef = np.einsum("jkm,jm->jk", np.linalg.pinv(a), y)
    ssr = np.sum((np.einsum("jmk,jk->jm", a, coef) - y) ** 2, axis=1)
    return coef, ssr


def _power_law_ssr(data: Data, group: Array, exponents: Array) -> tuple[Array, Array]:
    """Fit c + B·D^(−A) in a group for each A of ``exponents`` (J,) or (J, m) per point."""
    base = _columns(data, group)
    logd = data.logd[group]
    shift = logd.mean()
    a = np.broadcast_to(
        np.asarray(exponents, float).reshape(len(exponents), -1), (len(exponents), len(group))
    )
    decay = np.exp(-a * (logd - shift))
    design = np.concatenate(
        [np.broadcast_to(base, (*decay.shape, base.shape[1])), decay[..., None]], axis=2
    )
    loss = data.loss[group]
    coef, ssr = _solve(design, np.broadcast_to(loss, decay.shape), loss)
    feasible = (coef[:, 0] > 0) & (coef[:, -1] > 0)
    log_b = np.log(np.where(feasible, coef[:, -1], 1.0)) + a.mean(axis=1) * shift
    return np.where(feasible, ssr, np.inf), log_b


def _free_power_law(data: Data, group: Array) -> tuple[float, float]:
    """Stage 1: (A, ln B) of the best c + B·D^(−A) in a group (1-D search over A)."""
    best = _minimise_on_grid(
        lambda a: _power_law_ssr(data, group, a)[0], EXPONENT_GRID, log_scale=True
    )
    ssr, log_b = _power_law_ssr(data, group, np.array([best]))
    return (best, float(log_b[0])) if np.isfinite(ssr[0]) else (np.nan, np.nan)


def _amplitude_given_exponent(data: Data, group: Array, a_points: Array) -> float:
    """ln B of a group with its per-point A(N) fixed (c and B linear)."""
    ssr, log_b = _power_law_ssr(data, group, a_points[group][None, :])
    return float(log_b[0]) if np.isfinite(ssr[0]) else np.nan


def _remainder_ssr(data: Data, group: Array, model: Array) -> Array:
    """SSR of the group's c fitted to L − model, for stacks of ``model`` (J, m)."""
    base = _columns(data, group)
    design = np.broadcast_to(base, (len(model), *base.shape))
    coef, ssr = _solve(design, data.loss[group][None, :] - model, data.loss[group])
    return np.where(coef[:, 0] > 0, ssr, np.inf)


def _exponent_given_amplitude(data: Data, group: Array, log_amplitude: Array) -> float:
    """A of a group with B(N) fixed: 1-D search over A, c linear."""
    logd, log_b = data.logd[group], log_amplitude[group]

    def ssr(a: Array) -> Array:
        return _remainder_ssr(data, group, np.exp(log_b[None, :] - a[:, None] * logd[None, :]))

    return _minimise_on_grid(ssr, EXPONENT_GRID, log_scale=True)


# ----------------------------------------------------------------------- criteria
def _score_exponent(data: Data, log_a: Array) -> Array:
    """Data misfit of per-point ln A(N) candidates (J, n), c and B re-solved per group."""
    a = np.exp(log_a)
    return sum(_power_law_ssr(data, g, a[:, g])[0] for g in data.groups)


def _score_amplitude(data: Data, a_points: Array, log_b: Array) -> Array:
    """Data misfit of per-point ln B(N) candidates (J, n) with A(N) fixed, c per group."""
    model = np.exp(log_b - a_points[None, :] * data.logd[None, :])
    return sum(_remainder_ssr(data, g, model[:, g]) for g in data.groups)


# ----------------------------------------------------------------------- smooth fits in N
def _power(logn: Array, a: float, p: float, b: float) -> Array:
    """a·N^p + b at log N."""
    return a * np.exp(p * logn) + b


def _linear_in_power(logn: Array, values: Array, powers: Array) -> tuple[Array, Array]:
    """(a, b) of values ≈ a·N^p + b by least squares, for each p; a in raw-N units."""
    ref = logn.mean()
    x = np.exp(powers[:, None] * (logn[None, :] - ref))
    xm, ym = x.mean(axis=1, keepdims=True), values.mean()
    var = np.sum((x - xm) ** 2, axis=1)
    slope = np.where(
        var > 0, np.sum((x - xm) * (values - ym), axis=1) / np.where(var > 0, var, 1), 0
    )
    intercept = ym - slope * xm[:, 0]
    return slope * np.exp(-powers * ref), intercept


def _smooth(
    data: Data, values: Array, score: Callable[[Array], Array], fallback: bool = False
) -> Triple | None:
    """Fit values per group ≈ a·N^p + b: grid over p, (a, b) linear, p chosen by ``score``.

    ``score`` maps per-point values (J, n) of a·N^p + b to a data misfit (J,).  With fewer
    than 3 groups p cannot be told apart and is set to DEFAULT_POWER.
    """
    centers, ok = data.centers, np.isfinite(values)
    if ok.sum() == 0:
        return None
    if ok.sum() < 3:
        powers = np.array([DEFAULT_POWER])
        a, b = _linear_in_power(centers[ok], values[ok], powers)
        return float(a[0]), DEFAULT_POWER, float(b[0])

    def misfit(powers: Array) -> Array:
        a, b = _linear_in_power(centers[ok], values[ok], powers)
        curves = a[:, None] * np.exp(powers[:, None] * data.logn[None, :]) + b[:, None]
        return score(curves)

    p = _minimise_on_grid(misfit, POWER_GRID)
    if not np.isfinite(misfit(np.array([p]))[0]) and not fallback:
        return None
    a, b = _linear_in_power(centers[ok], values[ok], np.array([p]))
    return float(a[0]), p, float(b[0])


def _first_term(data: Data, exponent: Triple, amplitude: Triple) -> Triple:
    """(a3, gamma, b3) from ln(L − B(N)·D^(−A(N))) over all points, weighted remainder/L."""
    logn = data.logn
    model = np.exp(_power(logn, *amplitude) - np.exp(_power(logn, *exponent)) * data.logd)
    remainder = np.maximum(data.loss - model, MIN_REMAINDER * data.loss)
    target, weights = np.log(remainder), remainder / data.loss
    ref = logn.mean()

    def fitted(powers: Array) -> tuple[Array, Array]:
        x = np.exp(powers[:, None] * (logn[None, :] - ref))
        design = np.stack([x, np.ones_like(x)], axis=2) * weights[None, :, None]
        coef = np.einsum("jkm,m->jk", np.linalg.pinv(design), target * weights)
        ssr = np.sum((np.einsum("jmk,jk->jm", design, coef) - target * weights) ** 2, axis=1)
        return coef, ssr

    if len(np.unique(logn)) < 3:
        gamma = DEFAULT_POWER
    else:
        gamma = _minimise_on_grid(lambda p: fitted(p)[1], POWER_GRID)
    coef = fitted(np.array([gamma]))[0][0]
    return float(coef[0] * np.exp(-gamma * ref)), gamma, float(coef[1])


# ----------------------------------------------------------------------- 1-D search
def _minimise_on_grid(
    score: Callable[[Array], Array], grid: Array, log_scale: bool = False
) -> float:
    """Best grid value of a vectorised ``score``, refined between its grid neighbours."""
    values = score(grid)
    i = int(np.argmin(np.where(np.isfinite(values), values, np.inf)))
    if not np.isfinite(values[i]):
        return float(grid[i])
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    if log_scale:
        lo, hi = np.log(lo), np.log(hi)
    to_value = np.exp if log_scale else (lambda x: x)
    result = minimize_scalar(
        lambda x: float(score(np.array([to_value(x)]))[0]),
        bounds=(lo, hi),
        method="bounded",
        options={"xatol": 1e-6},
    )
    best = float(to_value(result.x))
    return best if result.fun <= values[i] else float(grid[i])
