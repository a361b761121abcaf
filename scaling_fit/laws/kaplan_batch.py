"""Kaplan et al. (2020) critical batch size as a function of the loss, B_crit(L)."""

from __future__ import annotations

import numpy as np

from .base import Array, Law, Parameter


def kaplan_critical_batch(loss: Array, *, B_star: Array, alpha_B: Array) -> Array:
    r"""Critical batch size :math:`B_{crit}(L) = B_* / L^{1/\alpha_B}` in tokens.

    Definition (Kaplan/McCandlish): B_crit = E_min/S_min, the batch at which reaching the loss
    L takes twice the minimum number of steps and twice the minimum number of examples.

    Parameters
    ----------
    loss
        L, the loss reached (nats/token; WebText2 in the paper, so other data shift it).
    B_star, alpha_B
        Published: B_* ≈ 2e8 tokens, alpha_B ≈ 0.21 (eq. 1.4 / 5.3).

    Returns
    -------
    numpy.ndarray
        Critical batch size in tokens; L = 3.0 gives 1.07e6.

    References
    ----------
    Kaplan et al. (2020), "Scaling Laws for Neural Language Models", arXiv:2001.08361,
    eqs. 1.4 and 5.1-5.3; McCandlish et al. (2018), arXiv:1812.06162.
    """
    return B_star / loss ** (1.0 / alpha_B)


LAW = Law(
    name="kaplan_bcrit",
    formula=kaplan_critical_batch,
    inputs=("loss",),
    output="batch_size",
    parameters=(
        Parameter(
            "B_star",
            tuple(np.logspace(4, 12, 5)),
            log=True,
            bounds=(0.0, np.inf),
            description="critical batch at L = 1, tokens",
        ),
        Parameter(
            "alpha_B", (0.05, 0.1, 0.2, 0.4, 0.8), bounds=(1e-3, np.inf), description="exponent"
        ),
    ),
    reference="Kaplan et al. (2020), arXiv:2001.08361, eq. 1.4 / 5.3",
    description="B_crit = B_star / L^(1/alpha_B) tokens (2x-steps definition, E_min/S_min)",
    conventions={"loss": "nats/token (WebText2)", "batch_size": "tokens per optimizer step"},
    published={"B_star": 2e8, "alpha_B": 0.21},
)
