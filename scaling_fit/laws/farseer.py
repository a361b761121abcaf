r"""Farseer law of Li et al. (2025), "Predictable Scale: Part II" (arXiv:2506.10972).

.. math::

    L(N, D) = \exp(a_3 N^{\gamma} + b_3)
              + \exp(a_2 N^{\beta} + b_2)\, D^{-\exp(a_1 N^{\alpha} + b_1)}

The first term is the loss at infinite data for a model of N parameters (it absorbs the
irreducible loss and the model-size term of Chinchilla); the second is a power law in D whose
amplitude :math:`B(N) = \exp(a_2 N^\beta + b_2)` **and** exponent
:math:`A(N) = \exp(a_1 N^\alpha + b_1)` both depend on N, the cross term Chinchilla lacks.
Every term is positive by construction, so the nine parameters are unbounded reals (the
three exponents are bounded to [−1, 1], which spans 20 decades of N^exponent over 1e10).

Parameter names follow the paper (docs/laws.md §3.1); the authors' code (``ExpExpExpFit``)
names them differently, and its ``E`` is b₁, **not** an irreducible loss:

==========  ==========  ====================  =====================================
here        paper       authors' code         role
==========  ==========  ====================  =====================================
``a1``      a₁          ``A``                 data exponent A(N): coefficient
``alpha``   α           ``a``                 data exponent A(N): power of N
``b1``      b₁          ``E``                 data exponent A(N): intercept
``a2``      a₂          ``B``                 data amplitude B(N): coefficient
``beta``    β           ``b``                 data amplitude B(N): power of N
``b2``      b₂          ``Q``                 data amplitude B(N): intercept
``a3``      a₃          ``s``                 infinite-data loss: coefficient
``gamma``   γ           ``q``                 infinite-data loss: power of N
``b3``      b₃          ``S``                 infinite-data loss: intercept
==========  ==========  ====================  =====================================

Conventions: N is **non-embedding** parameters and D training tokens, as published; the
authors' loss is English **bits per character** on their held-out set, not nats/token.

``LAW.published`` holds the only coefficient set found (docs/laws.md §3.3), and it is
**unverified**: it comes from a third-party wrapper's defaults, not from the paper, and it is
in **bits per character** with non-embedding N (0.527 BPC at N = 1e9, D = 2e10).  Use it for
rough predictions of the authors' BPC only; it does not transfer to a nats/token fit, and no
test pins it.

Nine parameters do not fit reliably from a generic start grid; the law's ``initial_guess``
is the authors' staged ("differential piecewise") procedure,
:func:`scaling_fit.laws.farseer_init.staged_starts`, which the common fitter then polishes.
Each of A(N), B(N) and the first term has three parameters, so the fit needs well over three
model sizes (the authors had 25).  With few sizes the data often prefer a pure power law in N
for one of them, which this form reaches only in the limit p → 0, |a| → ∞ of a·N^p + b: the
fitter then warns that parameters are not identified and that it stopped at its evaluation
limit (e.g. the Gadre et al. runs, 4-6 sizes; ``tests/laws/test_farseer.py``).
"""

from __future__ import annotations

import numpy as np

from .base import Array, Law, Parameter, log_sum_exp
from .farseer_init import staged_starts


def infinite_data_loss(n_params: Array, a3: Array, gamma: Array, b3: Array) -> Array:
    r"""First term :math:`\exp(a_3 N^\gamma + b_3)`, the loss as D → ∞."""
    return np.exp(a3 * n_params**gamma + b3)


def data_exponent(n_params: Array, a1: Array, alpha: Array, b1: Array) -> Array:
    r"""Data exponent :math:`A(N) = \exp(a_1 N^\alpha + b_1)`."""
    return np.exp(a1 * n_params**alpha + b1)


def data_amplitude(n_params: Array, a2: Array, beta: Array, b2: Array) -> Array:
    r"""Data amplitude :math:`B(N) = \exp(a_2 N^\beta + b_2)`."""
    return np.exp(a2 * n_params**beta + b2)


def farseer(
    n_params: Array,
    tokens: Array,
    *,
    a1: Array,
    alpha: Array,
    b1: Array,
    a2: Array,
    beta: Array,
    b2: Array,
    a3: Array,
    gamma: Array,
    b3: Array,
) -> Array:
    r"""Farseer loss :math:`L = e^{a_3 N^\gamma + b_3} + e^{a_2 N^\beta + b_2}
    D^{-\exp(a_1 N^\alpha + b_1)}`.

    Parameters
    ----------
    n_params
        N, non-embedding parameters (as Li et al. count them).
    tokens
        D, training tokens (single epoch).
    a1, alpha, b1
        Data exponent A(N) = exp(a1·N^alpha + b1).
    a2, beta, b2
        Data amplitude B(N) = exp(a2·N^beta + b2).
    a3, gamma, b3
        Infinite-data loss exp(a3·N^gamma + b3).

    Returns
    -------
    numpy.ndarray
        Predicted loss, in the units of the fitted losses (the authors': bits per character).

    References
    ----------
    Li et al. (2025), "Predictable Scale: Part II, Farseer: A Refined Scaling Law in Large
    Language Models", arXiv:2506.10972 (code: ``ExpExpExpFit``).
    """
    exponent = data_exponent(n_params, a1, alpha, b1)
    return infinite_data_loss(n_params, a3, gamma, b3) + data_amplitude(
        n_params, a2, beta, b2
    ) * tokens ** (-exponent)


def farseer_log(
    n_params: Array,
    tokens: Array,
    *,
    a1: Array,
    alpha: Array,
    b1: Array,
    a2: Array,
    beta: Array,
    b2: Array,
    a3: Array,
    gamma: Array,
    b3: Array,
) -> Array:
    r"""Log of the Farseer loss in log-sum-exp form.

    :math:`\log L = \mathrm{LSE}(a_3 N^\gamma + b_3,\ a_2 N^\beta + b_2 - A(N)\log D)`,
    finite where either term alone would under- or overflow.
    """
    exponent = data_exponent(n_params, a1, alpha, b1)
    data_term = a2 * n_params**beta + b2 - exponent * np.log(tokens)
    return log_sum_exp(a3 * n_params**gamma + b3, data_term)


def farseer_log_gradient(
    n_params: Array,
    tokens: Array,
    *,
    a1: Array,
    alpha: Array,
    b1: Array,
    a2: Array,
    beta: Array,
    b2: Array,
    a3: Array,
    gamma: Array,
    b3: Array,
) -> dict[str, Array]:
    r"""Gradient of :func:`farseer_log` with respect to the nine (real) parameters.

    :math:`\log L = \mathrm{LSE}(u, v)`, :math:`u = a_3 N^\gamma + b_3`,
    :math:`v = a_2 N^\beta + b_2 - A(N)\log D`; with :math:`w_u = e^{u - \log L}` and
    :math:`w_v = e^{v - \log L}`, e.g. :math:`\partial/\partial\gamma = w_u a_3 N^\gamma
    \log N` and :math:`\partial/\partial a_1 = -w_v A(N) N^\alpha \log D`.
    """
    log_n, log_d = np.log(n_params), np.log(tokens)
    n_alpha, n_beta, n_gamma = n_params**alpha, n_params**beta, n_params**gamma
    exponent = np.exp(a1 * n_alpha + b1)
    size_term = a3 * n_gamma + b3
    data_term = a2 * n_beta + b2 - exponent * log_d
    log_loss = log_sum_exp(size_term, data_term)
    w_u, w_v = np.exp(size_term - log_loss), np.exp(data_term - log_loss)
    w_exponent = -w_v * exponent * log_d
    return {
        "a1": w_exponent * n_alpha,
        "alpha": w_exponent * a1 * n_alpha * log_n,
        "b1": w_exponent,
        "a2": w_v * n_beta,
        "beta": w_v * a2 * n_beta * log_n,
        "b2": w_v,
        "a3": w_u * n_gamma,
        "gamma": w_u * a3 * n_gamma * log_n,
        "b3": w_u,
    }


def _parameter(
    name: str, start: tuple[float, ...], description: str, exponent: bool = False
) -> Parameter:
    """A real parameter; the powers of N (``exponent``) are bounded to [-1, 1]."""
    bounds = (-1.0, 1.0) if exponent else (-np.inf, np.inf)
    return Parameter(name, start, bounds=bounds, description=description)


LAW = Law(
    name="farseer",
    formula=farseer,
    log_formula=farseer_log,
    log_gradient=farseer_log_gradient,
    initial_guess=staged_starts,
    inputs=("n_params", "tokens"),
    # A small generic grid (2^9 = 512 starts) only backs up the staged starts: typical
    # nats/token fits have A(N) ~ 0.2-0.6 (b1 ~ -1.5..-0.5), B(N) ~ e^3..e^8 and an
    # infinite-data loss ~ 1-3 (b3 ~ 0..1), with small powers of N of either sign.
    parameters=(
        _parameter("a1", (-0.5, 0.5), "data exponent A(N): coefficient of N^alpha"),
        _parameter("alpha", (-0.2, 0.2), "data exponent A(N): power of N", exponent=True),
        _parameter("b1", (-1.5, -0.5), "data exponent A(N): intercept (authors' code: E)"),
        _parameter("a2", (-1.0, 1.0), "data amplitude B(N): coefficient of N^beta"),
        _parameter("beta", (-0.2, 0.2), "data amplitude B(N): power of N", exponent=True),
        _parameter("b2", (3.0, 8.0), "data amplitude B(N): intercept"),
        _parameter("a3", (-0.5, 0.5), "infinite-data loss: coefficient of N^gamma"),
        _parameter("gamma", (-0.2, 0.2), "infinite-data loss: power of N", exponent=True),
        _parameter("b3", (0.0, 1.0), "infinite-data loss: intercept"),
    ),
    reference=(
        "Li et al. (2025), arXiv:2506.10972 (Farseer); published values: UNVERIFIED "
        "third-party coefficients in bits per character (docs/laws.md §3.3)"
    ),
    description=(
        "L = exp(a3*N^gamma + b3) + exp(a2*N^beta + b2) * D^-exp(a1*N^alpha + b1) "
        "(N non-embedding parameters, D tokens)"
    ),
    conventions={
        "n_params": "non-embedding parameters",
        "tokens": "training tokens",
        "loss": "bits per character in the paper (English held-out set); any unit when fitted",
    },
    # UNVERIFIED third-party values (docs/laws.md §3.3: a wrapper's "use_default_params", not found
    # in the paper), in BITS PER CHARACTER with N non-embedding: e.g. 0.527 BPC at N = 1e9,
    # D = 2e10. For predictions without a fit only; no test pins them. Far outside the
    # authors' window they misbehave: with a3 < 0 < gamma the first term falls to 0 as N grows,
    # so at a fixed compute C = 6ND the loss decreases without end in N and
    # compute_optimal() finds no interior minimum (NaN).
    published={
        "a1": -0.124,
        "alpha": 0.123,
        "b1": 0.424,
        "a2": 88.01,
        "beta": -0.1,
        "b2": -6.287,
        "a3": -0.021,
        "gamma": 0.169,
        "b3": -0.091,
    },
)
