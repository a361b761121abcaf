"""Signs that a fit is degenerate: parameters that ran away, and pairs that move as one.

:func:`scaling_fit.fit` already warns about parameters at a bound and near-flat directions of
the objective.  Curve laws fail in two more ways on real logs, silently until now:

* a **runaway parameter**: a log-scale parameter that ends more than
  :data:`RUNAWAY_DECADES` decades outside the law's start range (``C = 1e-106`` or
  ``C = 7.7e83`` for the multi-power law, whose starts span 0.5-2), or a parameter bounded
  below by 0 that ends below :data:`VANISHING` times its smallest start (``beta = 1.4e-05``
  against starts 0.3-0.7).  The term it sits in has collapsed into another one, and
  predictions away from the fitted schedules are guesses (or overflow to NaN);
* **parameters that move as one**: a pair with |r| > :data:`CORRELATED` (from the bootstrap
  when there is one, else from the Jacobian at the optimum).  Sound multi-power fits of
  Luo et al.'s 24k-step curves reach |r| = 0.9988 (L₀, A), so the threshold sits above
  that, where a pair is indistinguishable to four digits (the issue's degenerate fit: ±1.0000).

:func:`degeneracy_messages` gives the warnings for :func:`scaling_fit.fit`;
:func:`runaway_parameters` lets :func:`scaling_fit.best_schedule` refuse to rank schedules
with a fit (or published parameters) whose law has collapsed.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..laws.base import Law

Array = np.ndarray
RUNAWAY_DECADES = 10.0
VANISHING = 1e-3
CORRELATED = 0.9999
# A free direction whose scaled Jacobian singular value is below this fraction of the
# largest is not determined by the data (relative precision of the fit ~1e-8).
UNIDENTIFIED_RATIO = 1e-7
# A free parameter whose Jacobian column is below this fraction of the largest column does
# not affect the fitted points.  Relative, not ``== 0``: the same data give an exact zero on
# one platform and 1e-20 on another (rounding in the loader and the BLAS), and both mean the
# parameter's term has vanished from the fit.
FLAT_COLUMN_RATIO = 1e-10


def flat_columns(jacobian: Array) -> Array:
    """Mask of the parameters whose Jacobian column is below ``FLAT_COLUMN_RATIO`` of the
    largest: they do not affect the fitted points."""
    norms = np.linalg.norm(np.asarray(jacobian, dtype=float), axis=0)
    largest = norms.max() if norms.size else 0.0
    return norms <= FLAT_COLUMN_RATIO * largest


def weakest_direction(jacobian: Array) -> tuple[float, Array]:
    """Relative curvature of the objective's flattest direction, and that direction.

    The ratio of the smallest to the largest singular value of the Jacobian with unit
    columns (independent of the parameters' scales), and the matching right singular vector;
    below ``UNIDENTIFIED_RATIO`` the data do not determine that combination of parameters.
    Call it on a Jacobian without :func:`flat_columns` (whose ratio is 0)."""
    jac = np.asarray(jacobian, dtype=float)
    singular, vectors = np.linalg.svd(jac / np.linalg.norm(jac, axis=0), full_matrices=False)[1:]
    return float(singular[-1] / singular[0]), vectors[-1]


def identified(jacobian: Array) -> bool:
    """Whether the data determine every free direction at this Jacobian: no flat column and
    no direction of relative curvature below ``UNIDENTIFIED_RATIO``."""
    jac = np.asarray(jacobian, dtype=float)
    if jac.ndim != 2 or jac.shape[1] == 0 or not np.all(np.isfinite(jac)):
        return False
    if np.any(flat_columns(jac)):
        return False
    return weakest_direction(jac)[0] >= UNIDENTIFIED_RATIO


def runaway_parameters(law: Law, params: Mapping[str, float], names: list[str]) -> list[str]:
    """Descriptions (``"C = 1.2e-16"``) of the parameters among ``names`` that ran away."""
    out = []
    for name in names:
        p, value = law.parameter(name), float(params[name])
        starts = np.asarray(p.fit_start, dtype=float)
        if not np.isfinite(value):
            out.append(f"{name} = {value}")
        elif p.log:
            lo, hi = np.min(starts) / np.log(10), np.max(starts) / np.log(10)
            decades = np.log10(value) if value > 0 else -np.inf
            if decades < lo - RUNAWAY_DECADES or decades > hi + RUNAWAY_DECADES:
                out.append(f"{name} = {value:.3g} (starts {10**lo:.3g}-{10**hi:.3g})")
        elif p.bounds[0] == 0 and np.min(starts) > 0 and value < VANISHING * np.min(starts):
            out.append(f"{name} = {value:.3g} (starts from {np.min(starts):.3g}; bound 0)")
    return out


def correlation_of(jacobian: Array, thetas: Array | None) -> Array | None:
    """Parameter correlations: of the bootstrap draws, else of the Gauss-Newton covariance."""
    if thetas is not None:
        finite = thetas[np.all(np.isfinite(thetas), axis=1)]
        if len(finite) > 2 and thetas.shape[1] > 1:
            return np.corrcoef(finite, rowvar=False)
    jac = np.asarray(jacobian, dtype=float)
    if jac.ndim != 2 or jac.shape[1] < 2 or not np.all(np.isfinite(jac)):
        return None
    # Correlations do not depend on the columns' scales: normalising them first keeps the
    # pseudo-inverse accurate when parameters differ by many orders of magnitude (else its
    # diagonal can round to ~0 under large off-diagonals and give |r| of 1e68).
    norms = np.linalg.norm(jac, axis=0)
    scaled = jac / np.where(norms > 0, norms, 1.0)
    cov = np.linalg.pinv(scaled.T @ scaled)
    diag = np.diag(cov)
    with np.errstate(divide="ignore", invalid="ignore"):
        correlation = cov / np.sqrt(np.outer(diag, diag))
    correlation[~np.isfinite(correlation)] = np.nan  # a direction the data do not see
    np.fill_diagonal(correlation, 1.0)
    return np.clip(correlation, -1.0, 1.0)


def correlated_pairs(names: list[str], correlation: Array | None) -> list[tuple[str, str, float]]:
    """Pairs of parameters with |r| > :data:`CORRELATED`."""
    if correlation is None:
        return []
    n = len(names)
    return [
        (names[i], names[j], float(correlation[i, j]))
        for i in range(n)
        for j in range(i + 1, n)
        if abs(correlation[i, j]) > CORRELATED
    ]


def degeneracy_messages(
    law: Law, params: Mapping[str, float], free: list[str], correlation: Array | None
) -> list[str]:
    """Warnings for a fit of a loss-curve law with runaway or inseparable parameters."""
    if not law.fits_curves:
        return []
    messages = []
    runaway = runaway_parameters(law, params, free)
    if runaway:
        messages.append(
            f"degenerate fit: parameter(s) {', '.join(runaway)} ran away from any plausible "
            "value (a term of the law has collapsed into another); predictions for other "
            "schedules are not reliable. Fit more schedules (a cool-down and a cosine), fix "
            "the parameter (fixed=, --fix NAME=VALUE) or bound it (bounds=)"
        )
    pairs = correlated_pairs(free, correlation)
    if pairs:
        listed = ", ".join(f"{a}/{b} r = {r:+.5f}" for a, b, r in pairs)
        messages.append(
            f"degenerate fit: parameters move as one ({listed}): the data determine only "
            "a combination of them, so each value (and extrapolation far from the fitted "
            "schedules) is unreliable. Fix one of each pair (fixed=, --fix NAME=VALUE) or fit more "
            "schedules"
        )
    return messages
