"""Step Law (Li et al. 2025): optimal peak learning rate η*(N, D) and batch size B*(D)."""

from __future__ import annotations

import numpy as np

from .base import Array, Law
from .power import COEFFICIENT, exponent

REFERENCE = (
    "Li et al. (2025), Predictable Scale: Part I (Step Law), arXiv:2503.04715; coefficients: "
    "means of the 1,000 bootstrap fits the authors released (data/steplaw/SOURCE.md)"
)
# Means of the released bootstrap rows (1004_fitted_lr_bs_scaling_model_parameters.csv):
# ln-intercepts 0.586308 (lr) and -0.543542 (batch), exponents -0.712922, 0.307491, 0.570944.
LR_PUBLISHED = {"c": float(np.exp(0.586308)), "a": -0.712922, "b": 0.307491}
BATCH_PUBLISHED = {"c": float(np.exp(-0.543542)), "b": 0.570944}
# Covariance of the 1,000 released bootstrap rows in (ln c, a, b) and (ln c, b), computed from
# the same file: the planner's interval of a published-law prediction (a prediction is linear
# in these, so its bootstrap variance is x' S x).
LR_COVARIANCE = (
    (3.890621115e-01, -1.355893897e-02, -5.132493532e-03),
    (-1.355893897e-02, 8.914857372e-04, -1.743317885e-04),
    (-5.132493532e-03, -1.743317885e-04, 3.663118429e-04),
)
BATCH_COVARIANCE = (
    (1.911796359e-01, -8.151572248e-03),
    (-8.151572248e-03, 3.485179395e-04),
)


def steplaw_lr(n_params: Array, tokens: Array, *, c: Array, a: Array, b: Array) -> Array:
    r"""Optimal peak learning rate :math:`\eta^*(N, D) = c\,N^{a} D^{b}`.

    Parameters
    ----------
    n_params
        N, **non-embedding** parameters (``n_layer·(4h² + 3h·ffn_h)`` in the released data).
    tokens
        D, training tokens.
    c, a, b
        Published: c = 1.797, a = -0.7129, b = 0.3075 (means of the released bootstrap).

    Returns
    -------
    numpy.ndarray
        Peak learning rate of AdamW.

    References
    ----------
    Li et al. (2025), "Predictable Scale: Part I — Optimal Hyperparameter Scaling Law in
    Large Language Model Pretraining", arXiv:2503.04715.
    """
    return c * n_params**a * tokens**b


def steplaw_batch(tokens: Array, *, c: Array, b: Array) -> Array:
    r"""Optimal batch size :math:`B^*(D) = c\,D^{b}`, in **tokens** per step.

    Parameters
    ----------
    tokens
        D, training tokens.
    c, b
        Published: c = 0.5807, b = 0.5709 (means of the released bootstrap).

    Returns
    -------
    numpy.ndarray
        Batch size in tokens (the authors convert sequences × 2048).

    References
    ----------
    Li et al. (2025), arXiv:2503.04715.
    """
    return c * tokens**b


LR_LAW = Law(
    name="steplaw_lr",
    formula=steplaw_lr,
    inputs=("n_params", "tokens"),
    output="lr",
    parameters=(COEFFICIENT, exponent("a", "exponent of N"), exponent("b", "exponent of D")),
    reference=REFERENCE,
    description="lr* = c N^a D^b (N non-embedding, D tokens; peak LR of AdamW)",
    conventions={"n_params": "non-embedding parameters", "tokens": "training tokens"},
    published=LR_PUBLISHED,
)

BATCH_LAW = Law(
    name="steplaw_batch",
    formula=steplaw_batch,
    inputs=("tokens",),
    output="batch_size",
    parameters=(COEFFICIENT, exponent("b", "exponent of D")),
    reference=REFERENCE,
    description="B* = c D^b tokens per step (D training tokens)",
    conventions={"tokens": "training tokens", "batch_size": "tokens per optimizer step"},
    published=BATCH_PUBLISHED,
)
