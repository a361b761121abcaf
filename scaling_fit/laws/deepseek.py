"""DeepSeek LLM (Bi et al. 2024): optimal learning rate η(C) and batch size B(C)."""

from __future__ import annotations

from .base import Array, Law
from .power import COEFFICIENT, exponent

# Status [C3]: four independent transcriptions of the paper's eq. 1 agree on these numbers;
# they were not read in the PDF itself.
REFERENCE = (
    "Bi et al. (2024), DeepSeek LLM, arXiv:2401.02954, §3.1 eq. 1 (coefficients from four "
    "agreeing transcriptions, not read in the paper itself)"
)
CONVENTIONS = {
    "compute": "C = M·D with M non-embedding FLOPs per token (attention included, "
    "vocabulary excluded), not 6·N·D",
    "batch_size": "tokens per optimizer step",
}


def deepseek_lr(compute: Array, *, c: Array, b: Array) -> Array:
    r"""Optimal peak learning rate :math:`\eta_{opt}(C) = c\,C^{b}`.

    Parameters
    ----------
    compute
        C = M·D FLOPs, M = non-embedding FLOPs per token (attention included).
    c, b
        Published: c = 0.3118, b = -0.1250.

    Returns
    -------
    numpy.ndarray
        Peak learning rate.

    References
    ----------
    Bi et al. (2024), "DeepSeek LLM: Scaling Open-Source Language Models with
    Longtermism", arXiv:2401.02954, §3.1.
    """
    return c * compute**b


def deepseek_batch(compute: Array, *, c: Array, b: Array) -> Array:
    r"""Optimal batch size :math:`B_{opt}(C) = c\,C^{b}` in tokens.

    Parameters
    ----------
    compute
        C = M·D FLOPs as for :func:`deepseek_lr`.
    c, b
        Published: c = 0.2920, b = 0.3271.

    Returns
    -------
    numpy.ndarray
        Batch size in tokens per step.

    References
    ----------
    Bi et al. (2024), arXiv:2401.02954, §3.1.
    """
    return c * compute**b


LR_LAW = Law(
    name="deepseek_lr",
    formula=deepseek_lr,
    inputs=("compute",),
    output="lr",
    parameters=(COEFFICIENT, exponent("b", "exponent of C")),
    reference=REFERENCE,
    description="lr_opt = c C^b (C = M·D, M non-embedding FLOPs per token)",
    conventions=CONVENTIONS,
    published={"c": 0.3118, "b": -0.1250},
)

BATCH_LAW = Law(
    name="deepseek_batch",
    formula=deepseek_batch,
    inputs=("compute",),
    output="batch_size",
    parameters=(COEFFICIENT, exponent("b", "exponent of C")),
    reference=REFERENCE,
    description="B_opt = c C^b tokens (C = M·D, M non-embedding FLOPs per token)",
    conventions=CONVENTIONS,
    published={"c": 0.2920, "b": 0.3271},
)
