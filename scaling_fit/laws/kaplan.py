"""Kaplan et al. (2020) joint law in model size and data, L(N, D)."""

from __future__ import annotations

import numpy as np

from .base import Array, Law, Parameter, log_sum_exp


def kaplan(
    n_params: Array, tokens: Array, *, N_c: Array, D_c: Array, alpha_N: Array, alpha_D: Array
) -> Array:
    r"""Kaplan loss :math:`L(N, D) = [(N_c/N)^{\alpha_N/\alpha_D} + D_c/D]^{\alpha_D}`.

    Parameters
    ----------
    n_params
        N, non-embedding parameters (Kaplan et al. §2.1).
    tokens
        D, training tokens.
    N_c, D_c, alpha_N, alpha_D
        Scales (parameters, tokens) and exponents; Table 2 gives N_c = 6.4e13,
        D_c = 1.8e13, alpha_N = 0.076, alpha_D = 0.103.

    Returns
    -------
    numpy.ndarray
        Predicted test loss in nats/token.

    References
    ----------
    Kaplan et al. (2020), "Scaling Laws for Neural Language Models", arXiv:2001.08361,
    eq. 1.5 / 4.1 and Table 2.
    """
    return ((N_c / n_params) ** (alpha_N / alpha_D) + D_c / tokens) ** alpha_D


def kaplan_log(
    n_params: Array, tokens: Array, *, N_c: Array, D_c: Array, alpha_N: Array, alpha_D: Array
) -> Array:
    r"""Log of the Kaplan loss, :math:`\alpha_D\,\mathrm{LSE}((\alpha_N/\alpha_D)\log(N_c/N),
    \log(D_c/D))`, stable for the extreme scales a start grid visits."""
    size_term = (alpha_N / alpha_D) * (np.log(N_c) - np.log(n_params))
    data_term = np.log(D_c) - np.log(tokens)
    return alpha_D * log_sum_exp(size_term, data_term)


# No analytic log_gradient: the best starts of the grid below often lie on a plateau where the
# data term is negligible (its gradient underflows to exactly 0), where an exact Jacobian lets
# the solver stop at once; the rounding noise of central differences moves it off (with an
# exact Jacobian, tests/laws/test_laws.py's recovery of Table 2's values fails).
LAW = Law(
    name="kaplan",
    formula=kaplan,
    log_formula=kaplan_log,
    inputs=("n_params", "tokens"),
    parameters=(
        # Start grid: 6 x 6 x 5 x 5 = 900 starts spanning scales 1e7..1e16 and exponents
        # 0.03..0.6 (Table 2's values sit inside it).
        Parameter(
            "N_c",
            tuple(np.logspace(7, 16, 6)),
            log=True,
            bounds=(0.0, np.inf),
            description="model-size scale, non-embedding parameters",
        ),
        Parameter(
            "D_c",
            tuple(np.logspace(7, 16, 6)),
            log=True,
            bounds=(0.0, np.inf),
            description="data scale, tokens",
        ),
        Parameter(
            "alpha_N",
            (0.03, 0.08, 0.15, 0.3, 0.6),
            bounds=(0.0, np.inf),
            description="model-size exponent",
        ),
        Parameter(
            "alpha_D",
            (0.03, 0.08, 0.15, 0.3, 0.6),
            bounds=(1e-6, np.inf),
            description="data exponent",
        ),
    ),
    reference="Kaplan et al. (2020), arXiv:2001.08361, eq. 1.5, Table 2",
    description="L = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D (N non-embedding)",
    conventions={"n_params": "non-embedding parameters", "loss": "nats/token"},
    published={"N_c": 6.4e13, "D_c": 1.8e13, "alpha_N": 0.076, "alpha_D": 0.103},  # Table 2
)
