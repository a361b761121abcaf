"""Compute-optimal model size and token count for a budget, under ``C = 6 N D``.

A law with a closed form (Chinchilla: Hoffmann et al. 2022, §3.3) uses it; any other
L(N, D) law is minimised numerically along the budget line ``D = C / (6 N)``: a log-spaced
scan of N brackets the minimum, then a vectorised golden-section search narrows it to
relative precision ~1e-9 in N.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .errors import DataError
from .laws.base import Array, Law

FLOPS_PER_PARAM_TOKEN = 6.0
# Scan N over sqrt(C/6) * 10^[-SPAN, SPAN]: tokens per parameter from 1e-12 to 1e12.
SPAN_DECADES = 6.0
SCAN_POINTS = 241
GOLDEN_ITERATIONS = 80
INV_PHI = (np.sqrt(5.0) - 1.0) / 2.0


def optimal_allocation(
    law: Law, params: Mapping[str, float], compute: Array
) -> tuple[Array, Array]:
    """Loss-minimising ``(n_params, tokens)`` for each budget in ``compute`` (FLOPs).

    Returns NaN where the loss has no interior minimum on the budget line (the minimum is at
    the edge of a 1e-12..1e12 tokens-per-parameter range).
    """
    if tuple(law.inputs) != ("n_params", "tokens"):
        raise DataError(
            f"compute-optimal allocation needs an L(n_params, tokens) law; {law.name!r} takes "
            f"{law.inputs}"
        )
    compute = np.asarray(compute, dtype=float)
    if np.any(~np.isfinite(compute) | (compute <= 0)):
        raise DataError(f"compute must be positive and finite FLOPs, found {compute.tolist()}")
    if law.allocation is not None:
        n_opt, d_opt = law.allocation(compute, **params)
        return np.asarray(n_opt, dtype=float), np.asarray(d_opt, dtype=float)
    return _numeric_allocation(law, params, compute)


def _numeric_allocation(
    law: Law, params: Mapping[str, float], compute: Array
) -> tuple[Array, Array]:
    flat = compute.reshape(-1)
    centre = 0.5 * np.log(flat / FLOPS_PER_PARAM_TOKEN)
    half = SPAN_DECADES * np.log(10.0)

    def loss_at(log_n: Array, budget: Array) -> Array:
        n = np.exp(log_n)
        with np.errstate(all="ignore"):
            value = law.log_predict(n, budget / (FLOPS_PER_PARAM_TOKEN * n), **params)
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
    d_opt = flat / (FLOPS_PER_PARAM_TOKEN * n_opt)
    return n_opt.reshape(compute.shape), d_opt.reshape(compute.shape)
