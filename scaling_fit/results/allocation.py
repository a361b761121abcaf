"""Compute-optimal model size and token count for a budget under a stated cost model.

The cost model says how many FLOPs a token costs: ``C = 6 N D`` by default (Kaplan et al.
2020; Hoffmann et al. 2022), ``C = k N D`` for another constant ``k`` (e.g. 8 with activation
recomputation), or ``C = M(N) D`` for a user function ``M`` of the model size (e.g. DeepSeek's
non-embedding FLOPs per token with attention, Bi et al. 2024).  A law with a closed form
(Chinchilla: Hoffmann et al. 2022, §3.3) uses it whenever the cost is ``k N D``; otherwise the
loss is minimised numerically along the budget line ``D = C / M(N)``: a log-spaced scan of N
brackets the minimum, then a vectorised golden-section search narrows it until the loss no
longer tells the points apart: N to ~1e-9-1e-7 relative (the loss is flat to rounding within
~sqrt(machine epsilon) of its minimum, so the last digits depend on the platform).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from ..errors import DataError, argument
from ..inputs.columns import FLOPS_PER_PARAM_TOKEN
from ..laws.base import Array, Law

# Scan N over sqrt(C/6) * 10^[-SPAN, SPAN]: tokens per parameter from 1e-12 to 1e12.
SPAN_DECADES = 6.0
SCAN_POINTS = 241
GOLDEN_ITERATIONS = 80
INV_PHI = (np.sqrt(5.0) - 1.0) / 2.0


FlopsPerToken = Callable[[Array], Array]


def describe_cost(
    flops_per_param_token: float = FLOPS_PER_PARAM_TOKEN,
    flops_per_token: FlopsPerToken | None = None,
) -> str:
    """One-line statement of a cost model, for reports and CLI output."""
    if flops_per_token is not None:
        return "C = flops_per_token(N) * D (user function)"
    return f"C = {float(flops_per_param_token):g} * N * D"


def optimal_allocation(
    law: Law,
    params: Mapping[str, float],
    compute: Array,
    *,
    flops_per_param_token: float = FLOPS_PER_PARAM_TOKEN,
    flops_per_token: FlopsPerToken | None = None,
) -> tuple[Array, Array]:
    """Loss-minimising ``(n_params, tokens)`` for each budget in ``compute`` (FLOPs).

    Parameters
    ----------
    law, params
        An L(n_params, tokens) law and its natural-unit parameters.
    compute
        Budgets in FLOPs.
    flops_per_param_token
        ``k`` of the cost model ``C = k N D`` (6 by default: forward and backward pass).
    flops_per_token
        A function ``M(n_params)`` giving the FLOPs per training token, for the cost model
        ``C = M(N) D``; replaces ``flops_per_param_token``.

    Returns NaN where the loss has no interior minimum on the budget line (the minimum is at
    the edge of a 1e-12..1e12 tokens-per-parameter range).
    """
    _check_allocatable(law)
    compute = np.asarray(compute, dtype=float)
    if np.any(~np.isfinite(compute) | (compute <= 0)):
        raise DataError(f"compute must be positive and finite FLOPs, found {compute.tolist()}")
    k = float(flops_per_param_token)
    if not np.isfinite(k) or k <= 0:
        raise DataError(
            f"{argument('flops_per_param_token')} must be a positive number of FLOPs (6 for "
            f"C = 6ND); found {k:g}"
        )
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused below
        if law.allocation is not None and flops_per_token is None:
            # The closed form assumes C = 6 N D; C = k N D is the same problem at budget 6C/k.
            try:
                n_opt, d_opt = law.allocation(compute * FLOPS_PER_PARAM_TOKEN / k, **params)
            except OverflowError:  # Python floats in a closed form: the allocation overflows
                n_opt = d_opt = np.full(compute.shape, np.inf)
        else:
            per_token = flops_per_token or (lambda n: k * np.asarray(n, dtype=float))
            n_opt, d_opt = _numeric_allocation(law, params, compute, per_token)
    n_opt, d_opt = np.asarray(n_opt, dtype=float), np.asarray(d_opt, dtype=float)
    _check_overflow(compute, n_opt, d_opt)
    return n_opt, d_opt


def _check_allocatable(law: Law) -> None:
    """DataError unless ``law`` is an L(n_params, tokens) loss law; for a law that also reads
    other columns, says that a budget does not fix them and what to do instead."""
    if tuple(law.inputs) == ("n_params", "tokens") and law.output == "loss":
        return
    message = (
        f"compute-optimal allocation needs an L(n_params, tokens) loss law; {law.name!r} "
        f"predicts {law.output} from {list(law.inputs)}"
    )
    others = [c for c in law.inputs if c not in ("n_params", "tokens")]
    if law.output == "loss" and {"n_params", "tokens"} <= set(law.inputs) and others:
        message += (
            f". A compute budget does not determine {others}: predict the loss of candidate "
            f"(n_params, tokens) pairs at the {others[0]} you plan with FitResult.predict, "
            "or fix those columns in a law of (n_params, tokens) alone"
        )
    raise DataError(message)


def _check_overflow(compute: Array, n_opt: Array, d_opt: Array) -> None:
    """DataError for a budget whose optimal N or D is infinite (C = 1e308, or a tiny cost
    per token); NaN (no interior optimum) is left to the caller."""
    overflow = np.isinf(np.broadcast_to(n_opt, compute.shape)) | np.isinf(
        np.broadcast_to(d_opt, compute.shape)
    )
    if overflow.any():
        budget = float(compute[overflow].reshape(-1)[0])
        raise DataError(
            f"compute_optimal: at compute={budget:g} FLOPs (--compute) the optimal n_params "
            "and tokens overflow a float (inf); give a smaller budget, or a larger cost per "
            "token (flops_per_param_token=, --flops-per-param-token)"
        )


def _numeric_allocation(
    law: Law, params: Mapping[str, float], compute: Array, per_token: FlopsPerToken
) -> tuple[Array, Array]:
    flat = compute.reshape(-1)
    centre = 0.5 * np.log(flat / FLOPS_PER_PARAM_TOKEN)
    half = SPAN_DECADES * np.log(10.0)

    def loss_at(log_n: Array, budget: Array) -> Array:
        n = np.exp(log_n)
        with np.errstate(all="ignore"):
            value = law.log_predict(n, budget / np.asarray(per_token(n), float), **params)
        return np.where(np.isfinite(value), value, np.inf)

    offsets = np.linspace(-half, half, SCAN_POINTS)
    scan = centre[:, None] + offsets[None, :]
    best = np.argmin(loss_at(scan, flat[:, None]), axis=1)
    interior = (best > 0) & (best < SCAN_POINTS - 1)
    step = offsets[1] - offsets[0]
    lo = scan[np.arange(len(flat)), best] - step
    hi = lo + 2 * step
    for _ in range(GOLDEN_ITERATIONS):
        a = hi - INV_PHI * (hi - lo)
        b = lo + INV_PHI * (hi - lo)
        left_better = loss_at(a, flat) < loss_at(b, flat)
        hi = np.where(left_better, b, hi)
        lo = np.where(left_better, lo, a)
    n_opt = np.where(interior, np.exp(0.5 * (lo + hi)), np.nan)
    d_opt = flat / np.asarray(per_token(n_opt), dtype=float)
    return n_opt.reshape(compute.shape), d_opt.reshape(compute.shape)
