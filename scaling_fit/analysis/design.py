"""suggest_runs(): which (N, D) runs to train next to pin down a target prediction.

Uses the fit's own uncertainty in the Gauss–Newton approximation: with J the Jacobian of the
log predictions of the fitted points with respect to the free fit-space parameters and σ² the
residual variance, the parameter covariance is Σ = σ²(JᵀJ)⁻¹ and a target quantity q(θ)
(the log loss at a target (N, D), or log N_opt at a target compute) has variance gᵀΣg with
g = ∂q/∂θ. A new run at x adds the row j(x) to J; by Sherman–Morrison its variance becomes
gᵀΣg − (gᵀΣj)²/(σ² + jᵀΣj), without refitting. Runs are chosen greedily by the shrinkage of
the target's standard deviation per FLOP (C = 6·N·D) until the budget is spent.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..arguments import checked
from ..errors import DataError, ScalingFitWarning
from ..fitting.space import ParameterSpace
from ..inputs.columns import FLOPS_PER_PARAM_TOKEN
from ..results.allocation import optimal_allocation
from ..results.fit_result import FitResult

# Default candidates: 10 model sizes from 1/3 of the smallest fitted N to 3x the largest, at
# 5 to 160 tokens per parameter (doubling): around and below the fitted range.
TOKENS_PER_PARAM = (5.0, 10.0, 20.0, 40.0, 80.0, 160.0)


@checked
def suggest_runs(
    fit: FitResult,
    *,
    target: Mapping[str, float],
    budget: float,
    candidates: pd.DataFrame | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Rank and choose candidate runs by how much they shrink a target's interval per FLOP.

    Parameters
    ----------
    fit
        An L(n_params, tokens) loss fit.
    target
        ``{"n_params": N, "tokens": D}`` (the loss there) or ``{"compute": C}`` (N_opt).
    budget
        FLOPs available for the new runs (C = 6·N·D each).
    candidates
        ``n_params, tokens`` of the runs to choose from; default a grid around and below the
        fitted range (:data:`TOKENS_PER_PARAM`).
    level
        Level of the reported intervals.

    Returns
    -------
    pandas.DataFrame
        The chosen runs in order: ``n_params, tokens, compute, cumulative_compute``, the
        target's standard deviation (in log units) after adding each, and its interval
        ``lower, upper`` in natural units. ``attrs`` hold the starting value and interval.
    """
    from scipy.stats import norm

    law = fit.law
    if law.output != "loss" or law.inputs != ("n_params", "tokens"):
        raise DataError(f"suggest_runs needs an L(n_params, tokens) loss fit; found {law.name!r}")
    if not fit.free or len(fit.data) == 0:
        raise DataError(
            "suggest_runs needs a fit of your runs (it weighs new runs against the fitted "
            "points and their residuals); this result has no fitted points (e.g. "
            "FitResult.from_params). Fit the runs you have with sf.fit first"
        )
    if not np.isfinite(budget) or budget < 0:
        raise DataError(f"suggest_runs: budget={budget!r} FLOPs; expected a finite number >= 0")
    space = ParameterSpace(law, dict(fit.fixed), dict(fit.tie), {})
    theta = space.to_theta(fit.params)
    data = fit.data
    n, d = data["n_params"].to_numpy(float), data["tokens"].to_numpy(float)
    jac = _jacobian(lambda t: law.log_predict(n, d, **space.natural(t)), theta)
    dof = max(len(n) - len(theta), 1)
    sigma2 = float(np.sum(np.asarray(fit.residuals, float) ** 2)) / dof
    cov = sigma2 * np.linalg.pinv(jac.T @ jac)
    quantity, grad = _target(fit, space, theta, target)
    pool = _candidates(data, candidates)
    cost = FLOPS_PER_PARAM_TOKEN * pool["n_params"].to_numpy() * pool["tokens"].to_numpy()
    rows = _jacobian(
        lambda t: law.log_predict(pool["n_params"].to_numpy(), pool["tokens"].to_numpy(),
                                  **space.natural(t)),
        theta,
    )  # fmt: skip
    z = float(norm.ppf(0.5 + level / 2))
    chosen, spent, available = [], 0.0, np.ones(len(pool), bool)
    sd = float(np.sqrt(grad @ cov @ grad))
    start = {"value": float(np.exp(quantity)), "sd": sd}
    start["lower"] = float(np.exp(quantity - z * sd))
    start["upper"] = float(np.exp(quantity + z * sd))
    while True:
        affordable = available & (cost <= budget - spent)
        if not affordable.any():
            break
        proj = rows @ cov  # (candidates, params)
        gain = (proj @ grad) ** 2 / (sigma2 + np.einsum("ij,ij->i", proj, rows))
        new_sd = np.sqrt(np.maximum(sd**2 - gain, 0.0))
        score = np.where(affordable, (sd - new_sd) / cost, -np.inf)
        k = int(np.argmax(score))
        cov = cov - np.outer(proj[k], proj[k]) / (sigma2 + proj[k] @ rows[k])
        sd, spent, available[k] = float(new_sd[k]), spent + cost[k], False
        chosen.append(
            {
                "n_params": pool["n_params"].iloc[k],
                "tokens": pool["tokens"].iloc[k],
                "compute": cost[k],
                "cumulative_compute": spent,
                "target_sd": sd,
                "lower": float(np.exp(quantity - z * sd)),
                "upper": float(np.exp(quantity + z * sd)),
                "sd_shrink_per_flop": float(score[k]),
            }
        )
    if budget > 0 and not chosen:
        warnings.warn(
            f"suggest_runs: budget={budget:g} FLOPs buys none of the candidate runs (the "
            f"cheapest costs {cost.min():.3g} FLOPs); no run is suggested",
            ScalingFitWarning,
            stacklevel=2,
        )
    table = pd.DataFrame(chosen, columns=[
        "n_params", "tokens", "compute", "cumulative_compute", "target_sd", "lower", "upper",
        "sd_shrink_per_flop",
    ])  # fmt: skip
    table.attrs = {"target": dict(target), "start": start, "sigma": float(np.sqrt(sigma2))}
    return table


def target_sd(fit: FitResult, target: Mapping[str, float]) -> float:
    """Gauss–Newton standard deviation of the target (log units) under ``fit`` alone."""
    return float(suggest_runs(fit, target=target, budget=0.0).attrs["start"]["sd"])


def _target(
    fit: FitResult, space: ParameterSpace, theta: np.ndarray, target: Mapping[str, float]
) -> tuple[float, np.ndarray]:
    law = fit.law
    if set(target) == {"n_params", "tokens"}:
        n, d = float(target["n_params"]), float(target["tokens"])
        function = lambda t: float(law.log_predict(n, d, **space.natural(t)))  # noqa: E731
    elif set(target) == {"compute"}:
        budget = np.array([float(target["compute"])])

        def function(t: np.ndarray) -> float:
            params = {k: float(v) for k, v in space.natural(t).items()}
            return float(np.log(optimal_allocation(law, params, budget)[0][0]))
    else:
        raise DataError(
            "target must be {'n_params': N, 'tokens': D} or {'compute': C}; found "
            f"{dict(target)}"
        )
    grad = _jacobian(lambda t: np.array([function(t)]), theta)[0]
    return function(theta), grad


def _candidates(data: pd.DataFrame, candidates: pd.DataFrame | None) -> pd.DataFrame:
    if candidates is not None:
        missing = [c for c in ("n_params", "tokens") if c not in candidates.columns]
        if missing:
            raise DataError(f"candidates need columns n_params and tokens; missing {missing}")
        return candidates[["n_params", "tokens"]].astype(float).reset_index(drop=True)
    sizes = np.geomspace(data["n_params"].min() / 3, data["n_params"].max() * 3, 10)
    grid = [(s, s * r) for s in sizes for r in TOKENS_PER_PARAM]
    return pd.DataFrame(grid, columns=["n_params", "tokens"])


def _jacobian(function: Any, theta: np.ndarray) -> np.ndarray:
    """Central differences of a vector function of the fit-space parameters."""
    base = np.atleast_1d(function(theta))
    out = np.empty((base.size, theta.size))
    for i in range(theta.size):
        step = 1e-5 * max(1.0, abs(theta[i]))
        up, down = theta.copy(), theta.copy()
        up[i] += step
        down[i] -= step
        out[:, i] = (np.atleast_1d(function(up)) - np.atleast_1d(function(down))) / (2 * step)
    return out
