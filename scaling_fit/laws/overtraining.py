r"""Over-training law of Gadre et al. (2024): Chinchilla with one shared exponent.

Gadre et al. write the loss of a model of N parameters trained on D = M·N tokens (M is the
token multiplier; Chinchilla-optimal is M ≈ 20) as

.. math:: L(N, M) = E + A\,N^{-\eta} + B\,6^{-\eta/2}\,(M N)^{-\eta},\qquad \eta > 0,

which is Chinchilla's :math:`E + A/N^\alpha + B_{ch}/D^\beta` with a shared exponent
:math:`\alpha = \beta = \eta` and :math:`B_{ch} = B\,6^{-\eta/2}`.  On the budget line
C = 6ND (N = √(C/6M), D = √(CM/6)) it reads

.. math:: L = E + \left(A\,6^{\eta/2} M^{\eta/2} + B\,M^{-\eta/2}\right) C^{-\eta/2},

so for a fixed multiplier M the loss is a power law in compute with exponent η/2; the
factor :math:`6^{-\eta/2}` makes B exactly the coefficient of :math:`M^{-\eta/2} C^{-\eta/2}`.

Parameter names and their counterparts (docs/laws.md §8):

========  ==============================  =======================================
here      Gadre et al. code (``laws.py``)   Chinchilla (Hoffmann et al. 2022, eq. 2)
========  ==============================  =======================================
``E``     ``E``                            ``E``
``A``     ``α`` (``alpha``)                ``A``
``B``     ``β`` (``beta``)                 ``B`` = β·6^(−η/2)
``eta``   ``−b`` (their b < 0)             ``alpha`` = ``beta`` = η
========  ==============================  =======================================

The paper prints the same law as E + (a·M^η' + b·M^(−η'))·C^(−η') with η' = η/2
(docs/laws.md §8.1; the code form above is the one the reference numbers come from).

The law takes ``n_params`` (N, total parameters, embeddings included) and ``tokens`` (D); the
multiplier M = D/N is implicit, so it works wherever an L(N, D) law does, compute-optimal
allocation included (closed form: :func:`overtraining_allocation`).
"""

from __future__ import annotations

import numpy as np

from .base import Array, Law, Parameter, log_sum_exp
from .chinchilla import chinchilla_allocation, chinchilla_log_gradient

LOG_SQRT6 = 0.5 * float(np.log(6.0))


def overtraining(
    n_params: Array, tokens: Array, *, E: Array, A: Array, B: Array, eta: Array
) -> Array:
    r"""Over-training loss :math:`L = E + A N^{-\eta} + B\,6^{-\eta/2} (M N)^{-\eta}`.

    Parameters
    ----------
    n_params
        N, total parameters (embeddings included, as Gadre et al. count them).
    tokens
        D = M·N, training tokens (M = D/N is the token multiplier).
    E, A, B, eta
        Irreducible loss (nats/token), model-size amplitude (Gadre's α), multiplier amplitude
        (Gadre's β) and the shared exponent η = −b > 0.

    Returns
    -------
    numpy.ndarray
        Predicted final loss in nats/token.

    References
    ----------
    Gadre et al. (2024), "Language models scale reliably with over-training and on downstream
    tasks", arXiv:2403.08540 (code: ``scaling/laws.py::powlaw_ours``).
    """
    # M·N = D: the data term is B·6^(−η/2)·D^(−η) = B·(√6·D)^(−η).
    return E + A * n_params ** (-eta) + B * (np.sqrt(6.0) * tokens) ** (-eta)


def overtraining_log(
    n_params: Array, tokens: Array, *, E: Array, A: Array, B: Array, eta: Array
) -> Array:
    r"""Log of the over-training loss in log-sum-exp form.

    :math:`\log L = \mathrm{LSE}(\log A - \eta\log N,\ \log B - \eta(\log D + \tfrac12\log 6),
    \ \log E)`, stable for the extreme amplitudes a start grid visits.
    """
    with np.errstate(divide="ignore"):
        a, b, e = np.log(A), np.log(B), np.log(E)
    return log_sum_exp(a - eta * np.log(n_params), b - eta * (np.log(tokens) + LOG_SQRT6), e)


def overtraining_log_gradient(
    n_params: Array, tokens: Array, *, E: Array, A: Array, B: Array, eta: Array
) -> dict[str, Array]:
    r"""Gradient of :func:`overtraining_log` in fit space (log E, log A, log B, eta).

    The law is Chinchilla at :math:`D\sqrt6` with :math:`\alpha = \beta = \eta`, so the
    gradient is :func:`~scaling_fit.laws.chinchilla.chinchilla_log_gradient` there, with
    :math:`\partial\log L/\partial\eta = \partial/\partial\alpha + \partial/\partial\beta`.
    """
    tokens_sqrt6 = np.asarray(tokens) * np.exp(LOG_SQRT6)
    grad = chinchilla_log_gradient(n_params, tokens_sqrt6, E=E, A=A, B=B, alpha=eta, beta=eta)
    return {"E": grad["E"], "A": grad["A"], "B": grad["B"], "eta": grad["alpha"] + grad["beta"]}


def overtraining_allocation(
    compute: Array, *, E: float, A: float, B: float, eta: float
) -> tuple[Array, Array]:
    r"""Loss-minimising N and D for a budget :math:`C = 6ND`.

    Chinchilla's closed form (Hoffmann et al. 2022, §3.3) with α = β = η and
    :math:`B_{ch} = B\,6^{-\eta/2}`: :math:`N_{opt} = G\sqrt{C/6}`,
    :math:`D_{opt} = G^{-1}\sqrt{C/6}`, :math:`G = (A/B_{ch})^{1/(2\eta)}`; the optimal
    multiplier :math:`M^* = D/N = G^{-2} = (B/A)^{1/\eta}/\sqrt6` does not depend on C
    (7.4 for Gadre et al.'s fitted values).
    """
    return chinchilla_allocation(compute, E=E, A=A, B=B * 6.0 ** (-eta / 2.0), alpha=eta, beta=eta)


LAW = Law(
    name="overtraining",
    formula=overtraining,
    log_formula=overtraining_log,
    log_gradient=overtraining_log_gradient,
    allocation=overtraining_allocation,
    # Linear in (E, A, B) for fixed eta: variable projection searches eta alone (docs/laws.md §9.2).
    linear=("E", "A", "B"),
    inputs=("n_params", "tokens"),
    parameters=(
        # Start grid after Gadre et al.'s curve_fit grid (docs/laws.md §8.2): amplitudes
        # {1e2, 3e2, 1e3, 3e3}; their E0 = 0 is replaced by 0.5 (E is fitted as log E);
        # exponents {0.1, 0.3} widened to 0.05..0.8 so the projected eta grid brackets the
        # usual 0.25..0.4.
        Parameter(
            "E",
            (0.5, 1.0, 2.0, 10.0),
            log=True,
            bounds=(0.0, np.inf),
            description="irreducible loss, nats/token",
        ),
        Parameter(
            "A",
            (1e2, 3e2, 1e3, 3e3),
            log=True,
            bounds=(0.0, np.inf),
            description="model-size amplitude (Gadre's alpha)",
        ),
        Parameter(
            "B",
            (1e2, 3e2, 1e3, 3e3),
            log=True,
            bounds=(0.0, np.inf),
            description="multiplier amplitude (Gadre's beta; Chinchilla's B is B*6^(-eta/2))",
        ),
        Parameter(
            "eta",
            (0.05, 0.1, 0.3, 0.8),
            bounds=(0.0, np.inf),
            description="shared exponent of N and D (Gadre's -b)",
        ),
    ),
    reference="Gadre et al. (2024), arXiv:2403.08540, scaling/laws.py::powlaw_ours",
    description="L = E + A*N^-eta + B*6^(-eta/2)*(M*N)^-eta, M = D/N (N total parameters)",
    conventions={
        "n_params": "total parameters, embeddings included",
        "tokens": "training tokens D = M*N",
        "loss": "nats/token (C4 validation in the paper)",
    },
    # Gadre et al.'s fit on their 5-run set (notebook scaling_explorer.ipynb, cell 2;
    # docs/laws.md §8.2; re-derived in data/gadre_overtraining/SOURCE.md).
    published={"E": 1.836648, "A": 166.211, "B": 366.687, "eta": 0.272851},
)
