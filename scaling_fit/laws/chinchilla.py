"""Chinchilla parametric loss (Hoffmann et al. 2022, Approach 3)."""

from __future__ import annotations

import numpy as np

from .base import Array, Law, Parameter, log_sum_exp


def chinchilla(
    n_params: Array, tokens: Array, *, E: Array, A: Array, B: Array, alpha: Array, beta: Array
) -> Array:
    r"""Chinchilla loss :math:`L(N, D) = E + A / N^\alpha + B / D^\beta`.

    Parameters
    ----------
    n_params
        N, total parameters (embeddings included, Hoffmann et al. App. F).
    tokens
        D, training tokens.
    E, A, B, alpha, beta
        Irreducible loss (nats/token), the two amplitudes and the two exponents.

    Returns
    -------
    numpy.ndarray
        Predicted final loss in nats/token.

    References
    ----------
    Hoffmann et al. (2022), "Training Compute-Optimal Large Language Models",
    arXiv:2203.15556, eq. 2.
    """
    return E + A / n_params**alpha + B / tokens**beta


def chinchilla_log(
    n_params: Array, tokens: Array, *, E: Array, A: Array, B: Array, alpha: Array, beta: Array
) -> Array:
    r"""Log of the Chinchilla loss in log-sum-exp form.

    :math:`\log L = \mathrm{LSE}(a - \alpha\log N,\ b - \beta\log D,\ e)` with
    :math:`a = \log A`, :math:`b = \log B`, :math:`e = \log E` (Hoffmann et al. 2022,
    App. D.2); stable for the very large and very small amplitudes a start grid visits.
    """
    with np.errstate(divide="ignore"):
        a, b, e = np.log(A), np.log(B), np.log(E)
    return log_sum_exp(a - alpha * np.log(n_params), b - beta * np.log(tokens), e)


def chinchilla_log_gradient(
    n_params: Array, tokens: Array, *, E: Array, A: Array, B: Array, alpha: Array, beta: Array
) -> dict[str, Array]:
    r"""Gradient of :func:`chinchilla_log` in fit space (log E, log A, log B, alpha, beta).

    With the softmax weights :math:`w_x = e^{x - \log L}` of the three log-sum-exp terms
    :math:`t_A = a - \alpha\log N`, :math:`t_B = b - \beta\log D`, :math:`e`:
    :math:`\partial\log L/\partial a = w_A`, :math:`\partial/\partial b = w_B`,
    :math:`\partial/\partial e = w_E`, :math:`\partial/\partial\alpha = -w_A\log N`,
    :math:`\partial/\partial\beta = -w_B\log D`.
    """
    with np.errstate(divide="ignore"):
        a, b, e = np.log(A), np.log(B), np.log(E)
    log_n, log_d = np.log(n_params), np.log(tokens)
    size_term, data_term = a - alpha * log_n, b - beta * log_d
    log_loss = log_sum_exp(size_term, data_term, e)
    w_a, w_b = np.exp(size_term - log_loss), np.exp(data_term - log_loss)
    return {
        "E": np.exp(e - log_loss),
        "A": w_a,
        "B": w_b,
        "alpha": -w_a * log_n,
        "beta": -w_b * log_d,
    }


def chinchilla_allocation(
    compute: Array, *, E: float, A: float, B: float, alpha: float, beta: float
) -> tuple[Array, Array]:
    r"""Loss-minimising N and D for a budget :math:`C = 6ND` (Hoffmann et al. §3.3).

    :math:`N_{opt} = G (C/6)^{\beta/(\alpha+\beta)}`,
    :math:`D_{opt} = G^{-1} (C/6)^{\alpha/(\alpha+\beta)}`,
    :math:`G = (\alpha A / (\beta B))^{1/(\alpha+\beta)}`.
    """
    g = (alpha * A / (beta * B)) ** (1.0 / (alpha + beta))
    c6 = np.asarray(compute, dtype=float) / 6.0
    return g * c6 ** (beta / (alpha + beta)), c6 ** (alpha / (alpha + beta)) / g


LAW = Law(
    name="chinchilla",
    formula=chinchilla,
    log_formula=chinchilla_log,
    log_gradient=chinchilla_log_gradient,
    allocation=chinchilla_allocation,
    linear=("E", "A", "B"),
    linear_terms={"E": (), "A": ("alpha",), "B": ("beta",)},
    inputs=("n_params", "tokens"),
    parameters=(
        # Start grid: Hoffmann et al. App. D.2 (5 x 5 x 5 x 6 x 6 = 4,500 starts), whose
        # E, A, B values are logarithms: exp of them here (starts are natural units).
        Parameter(
            "E",
            tuple(np.exp(np.linspace(-1.0, 1.0, 5))),
            log=True,
            bounds=(0.0, np.inf),
            description="irreducible loss, nats/token",
        ),
        Parameter(
            "A",
            tuple(np.exp(np.linspace(0.0, 25.0, 6))),
            log=True,
            bounds=(0.0, np.inf),
            description="model-size amplitude",
        ),
        Parameter(
            "B",
            tuple(np.exp(np.linspace(0.0, 25.0, 6))),
            log=True,
            bounds=(0.0, np.inf),
            description="data amplitude",
        ),
        Parameter(
            "alpha",
            tuple(np.linspace(0.0, 2.0, 5)),
            bounds=(0.0, np.inf),
            description="model-size exponent",
        ),
        Parameter(
            "beta",
            tuple(np.linspace(0.0, 2.0, 5)),
            bounds=(0.0, np.inf),
            description="data exponent",
        ),
    ),
    reference="Hoffmann et al. (2022), arXiv:2203.15556, Approach 3",
    description="L = E + A/N^alpha + B/D^beta (N total parameters, D tokens)",
    conventions={"n_params": "total parameters, embeddings included", "loss": "nats/token"},
    # Unrounded values from the paper's TeX source, as used by Epoch AI (docs/laws.md §1.3):
    # log-space [a, b, e] = [6.0073404, 6.0179186, 0.5267228]. The rounded App. D.2 values
    # (E 1.69, A 406.4, B 410.7, alpha 0.34, beta 0.28) move N_opt(5.76e23) from 40 B to 32 B.
    published={
        "E": float(np.exp(0.5267228)),
        "A": float(np.exp(6.0073404)),
        "B": float(np.exp(6.0179186)),
        "alpha": 0.33917084,
        "beta": 0.2849083,
    },
)
