"""Porian et al. (2024): optimal learning rate η*(N) and batch size B*(N)."""

from __future__ import annotations

from .base import Array, Law
from .power import COEFFICIENT, exponent

# Status [C3]: the coefficients are as quoted in Step Law's comparison table, not confirmed in
# Porian et al.'s text; the batch-size unit (tokens) is likely but not confirmed.
REFERENCE = (
    "Porian et al. (2024), Resolving Discrepancies in Compute-Optimal Scaling of Language "
    "Models, arXiv:2406.19146 (coefficients as quoted by Step Law, arXiv:2503.04715)"
)
CONVENTIONS = {
    "n_params": "non-embedding parameters plus one vocabulary x width matrix",
    "batch_size": "tokens per optimizer step (unit not confirmed in the paper)",
}


def porian_lr(n_params: Array, *, c: Array, a: Array) -> Array:
    r"""Optimal peak learning rate :math:`\eta^*(N) = c\,N^{a}`.

    Parameters
    ----------
    n_params
        N, non-embedding parameters plus one vocabulary×width matrix.
    c, a
        As quoted by Step Law: c = 3.7, a = -0.36.

    Returns
    -------
    numpy.ndarray
        Peak learning rate (AdamW).

    References
    ----------
    Porian et al. (2024), arXiv:2406.19146.
    """
    return c * n_params**a


def porian_batch(n_params: Array, *, c: Array, a: Array) -> Array:
    r"""Optimal batch size :math:`B^*(N) = c\,N^{a}`, tokens (unit not confirmed).

    Parameters
    ----------
    n_params
        N as for :func:`porian_lr`.
    c, a
        As quoted by Step Law: c = 0.7576, a = 0.703.

    Returns
    -------
    numpy.ndarray
        Batch size per step.

    References
    ----------
    Porian et al. (2024), arXiv:2406.19146.
    """
    return c * n_params**a


LR_LAW = Law(
    name="porian_lr",
    formula=porian_lr,
    inputs=("n_params",),
    output="lr",
    parameters=(COEFFICIENT, exponent("a", "exponent of N")),
    reference=REFERENCE,
    description="lr* = c N^a (N non-embedding + one vocab x width matrix)",
    conventions=CONVENTIONS,
    published={"c": 3.7, "a": -0.36},
)

BATCH_LAW = Law(
    name="porian_batch",
    formula=porian_batch,
    inputs=("n_params",),
    output="batch_size",
    parameters=(COEFFICIENT, exponent("a", "exponent of N")),
    reference=REFERENCE,
    description="B* = c N^a (tokens, unit not confirmed)",
    conventions=CONVENTIONS,
    published={"c": 0.7576, "a": 0.703},
)
