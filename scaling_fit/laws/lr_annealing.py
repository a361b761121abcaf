r"""Scaling law with LR annealing for whole loss curves (Tissue, Wang & Wang 2024).

.. math::

    L(s) = L_0 + A\,S_1(s)^{-\alpha} - C\,S_2(s),\qquad
    S_2(s) = \sum_{k \le s} (\eta_{k-1} - \eta_k)\,\frac{1 - \lambda^{s-k+1}}{1 - \lambda},

the forward area :math:`S_1 = \sum_{i \le s} \eta_i` and the annealing area with momentum
:math:`S_2` (m_i = λ m_{i−1} + η_{i−1} − η_i, S₂ = Σ m_i; laws.md §4.2), λ the momentum decay.
A row at ``step`` t uses index t as in :mod:`scaling_fit.schedules`; S₂ equals
:func:`scaling_fit.schedules.annealing_area` there.

Options (:func:`make_law`)
--------------------------
* ``decay``: λ fixed (default 0.999, the value of every port of the authors' code), or
  ``None`` to fit it as the parameter ``lam``.  S₂ is written as a sum over LR changes through
  :mod:`scaling_fit.schedules.history`, so a fitted λ costs no more than a fixed one.
* ``warmup``: ``"constant"`` (default; the port "based on the official code": the warm-up
  steps count at the peak LR, adding w·η_max to S₁ and nothing to S₂) or ``"actual"`` (the
  real warm-up LR, as Luo et al. do for S₁).  The warm-up is the schedule's initial strictly
  rising part.

Known limitation (laws.md §4.4): appending steps at LR 0 keeps raising S₂ and so lowers the
predicted loss, and scaling the whole schedule up always helps; do not trust the law far
from the schedules it was fitted on, nor to choose the final LR.

Reference: Tissue, Wang, Wang (2024), "Scaling Law with Learning Rate Annealing",
arXiv:2408.11029.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from ..schedules.by_run import rising_prefix
from ..schedules.features import per_run
from ..schedules.history import History
from .base import Array, Law, Parameter

DEFAULT_DECAY = 0.999
WARMUPS = ("constant", "actual")
# Pair terms (starts × points × pairs) evaluated at once when λ is fitted (cache-sized).
CHUNK = 65_536
REFERENCE = "Tissue, Wang & Wang (2024), arXiv:2408.11029"


def annealing_lr(lr: Array, warmup: str = "constant") -> Array:
    """The LR array the law's S₁ and S₂ are built from (warm-up at peak for "constant")."""
    lr = np.array(lr, dtype=float)
    if warmup == "constant":
        w = rising_prefix(lr)
        if w:
            lr[:w] = lr[w - 1]
    return lr


def kernel(steps: Array, lam: Array) -> Array:
    r"""(1 − λ^steps)/(1 − λ), stable as λ → 1 (where it tends to ``steps``)."""
    log_lam = np.log(lam)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.expm1(steps * log_lam) / np.expm1(log_lam)
    return np.where(log_lam == 0, steps, ratio)


def annealing_sum(weight: Array, steps: Array, lam: Array) -> Array:
    """S₂ per point from change pairs, for a scalar λ or a column of shape (n_starts, 1)."""
    lam = np.asarray(lam, dtype=float)
    if lam.ndim < 2:
        return np.sum(weight * kernel(steps, lam), axis=-1)
    rows = max(1, CHUNK // max(weight.size, 1))
    return np.concatenate(
        [
            np.sum(weight * kernel(steps, lam[i : i + rows, ..., None]), axis=-1)
            for i in range(0, lam.shape[0], rows)
        ]
    )


def _features(decay: float | None, warmup: str) -> Callable[..., tuple[Array, ...]]:
    """Feature builder: (S₁, S₂) for a fixed λ, (S₁, weight, steps) for a fitted one."""

    def build(lr: Array, index: Array) -> tuple:
        lr = annealing_lr(lr, warmup)
        return np.cumsum(lr)[index], History(lr).pairs(index, ("steps",))

    def features(points: pd.DataFrame, lr_by_run: Mapping[str, Array]) -> tuple[Array, ...]:
        s1, weight, _eta, _area, steps = per_run(points, lr_by_run, build)
        if decay is None:
            return s1, weight, steps
        return s1, annealing_sum(weight, steps, decay)

    return features


def lr_annealing(s1: Array, s2: Array, *, L0: Array, A: Array, alpha: Array, C: Array) -> Array:
    r"""Annealing-law loss :math:`L_0 + A S_1^{-\alpha} - C S_2` (Tissue et al. 2024), fixed λ.

    Parameters
    ----------
    s1, s2
        Forward area and annealing area of each point (from the law's features).
    L0, A, alpha, C
        Scalars or columns of shape ``(n_starts, 1)``.

    Returns
    -------
    numpy.ndarray
        Predicted loss, shape ``(n_points,)`` or ``(n_starts, n_points)``.

    References
    ----------
    Tissue, Wang & Wang (2024), "Scaling Law with Learning Rate Annealing",
    arXiv:2408.11029 (form of the abstract); S₂ with momentum λ as in laws.md §4.2.
    """
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        return L0 + A * s1**-alpha - C * s2


def lr_annealing_log_gradient(
    s1: Array, s2: Array, *, L0: float, A: float, alpha: float, C: float
) -> dict[str, Array]:
    r"""Gradient of log L (:func:`lr_annealing`, fixed λ) in fit space (log L₀, log A, α, C).

    With the power term :math:`P = A S_1^{-\alpha}`: :math:`\partial L/\partial\log L_0 = L_0`,
    :math:`\partial L/\partial\log A = P`, :math:`\partial L/\partial\alpha = -P\log S_1`,
    :math:`\partial L/\partial C = -S_2`, each divided by L.  One evaluation per Jacobian
    instead of the eight of central differences.
    """
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        power = A * s1**-alpha
        loss = L0 + power - C * s2
        return {
            "L0": L0 / loss,
            "A": power / loss,
            "alpha": -power * np.log(s1) / loss,
            "C": -s2 / loss,
        }


def lr_annealing_lam(
    s1: Array,
    weight: Array,
    steps: Array,
    *,
    L0: Array,
    A: Array,
    alpha: Array,
    C: Array,
    lam: Array,
) -> Array:
    r"""Annealing-law loss with λ a parameter: S₂ = Σ_k Δ_k (1 − λ^(t−k+1))/(1 − λ).

    Parameters
    ----------
    s1
        Forward area of each point.
    weight, steps
        Change pairs of each point, shape ``(n_points, width)``: Δ_k and t − k + 1.
    L0, A, alpha, C, lam
        Scalars or columns of shape ``(n_starts, 1)``; ``lam`` is λ.

    Returns
    -------
    numpy.ndarray
        Predicted loss, shape ``(n_points,)`` or ``(n_starts, n_points)``.

    References
    ----------
    Tissue, Wang & Wang (2024), arXiv:2408.11029 (form of the abstract).
    """
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        return L0 + A * s1**-alpha - C * annealing_sum(weight, steps, lam)


def make_law(decay: float | None = DEFAULT_DECAY, warmup: str = "constant") -> Law:
    """The annealing law with λ fixed at ``decay`` (or fitted when None) and a warm-up option.

    The default, ``make_law()``, is the registered ``"lr_annealing"``; other variants get
    a name that says their options (pass the :class:`Law` itself to ``fit`` and, for JSON,
    ``FitResult.from_json(..., law=...)``).
    """
    if warmup not in WARMUPS:
        raise ValueError(f"warmup={warmup!r}: expected one of {WARMUPS}")
    if decay is not None and not 0.0 < decay < 1.0:
        raise ValueError(f"decay={decay!r}: expected λ in (0, 1), e.g. 0.999, or None to fit it")
    default = decay == DEFAULT_DECAY and warmup == "constant"
    label = "fitted" if decay is None else f"{decay:g}"
    name = "lr_annealing" if default else f"lr_annealing(decay={label},warmup={warmup})"
    parameters = _PARAMETERS
    if decay is None:
        parameters += (
            Parameter(
                "lam",
                (0.99, 0.999),
                bounds=(0.0, 1.0),
                description="momentum decay factor lambda of the annealing area",
            ),
        )
    return Law(
        name=name,
        formula=lr_annealing_lam if decay is None else lr_annealing,
        features=_features(decay, warmup),
        inputs=("step",),
        parameters=parameters,
        linear=("L0", "A", "C"),
        log_gradient=lr_annealing_log_gradient if decay is not None else None,
        stacked_gradient=decay is not None,
        reference=REFERENCE,
        description=(
            f"L(s) = L0 + A*S1^-alpha - C*S2, S2 annealing area with momentum "
            f"(lambda {label}); warm-up counted {'at peak LR' if warmup == 'constant' else 'as is'}"
        ),
        conventions={
            "step": "steps taken; a row at step t uses lr[t], S1 = sum(lr[:t+1])",
            "loss": "loss in nats/token",
            "warmup": warmup,
            "decay": label,
        },
    )


_PARAMETERS = (
    # 3 x 3 x 3 x 3 = 81 starts; L0, A and C are also solved exactly on a dense alpha grid
    # (variable projection), which finds the global basin.
    Parameter(
        "L0",
        (1.5, 2.5, 3.5),
        log=True,
        bounds=(0.0, np.inf),
        description="loss as S1 -> infinity without annealing, nats/token",
    ),
    Parameter(
        "A",
        (0.3, 1.0, 3.0),
        log=True,
        bounds=(0.0, np.inf),
        description="amplitude of the power law in the forward area S1",
    ),
    Parameter("alpha", (0.2, 0.5, 0.8), bounds=(0.0, np.inf), description="exponent of S1"),
    Parameter(
        "C",
        (0.1, 1.0, 10.0),
        bounds=(0.0, np.inf),
        description="loss drop per unit annealing area S2, nats/token per LR",
    ),
)

LAW = make_law()
