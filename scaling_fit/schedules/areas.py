"""Schedule features in O(steps): the forward area S₁ and the annealing area S₂.

Both are indexed like :attr:`Schedule.lr <scaling_fit.schedules.Schedule.lr>`: entry ``i``
is the value after step ``i + 1`` (:mod:`scaling_fit.schedules.builders`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .builders import Schedule, ScheduleLike, bad_value, check_lr
from .spec import as_schedule


def _lr_array(lr: ArrayLike | Schedule) -> np.ndarray:
    return lr.lr if isinstance(lr, Schedule) else check_lr(lr, "schedule feature")


def forward_area(lr: ArrayLike | Schedule) -> np.ndarray:
    """Forward area S₁(s) = Σ_{i=1..s} η_i, the area under the LR curve: a cumulative sum.

    Tissue, Wang & Wang (2024), arXiv:2408.11029; also S₁ of Luo et al. (2025),
    arXiv:2503.12811 (warm-up included).  O(steps) time and memory.

    Parameters
    ----------
    lr : array_like or Schedule
        One LR per step; ``lr[i]`` is η of step ``i + 1``.

    Returns
    -------
    numpy.ndarray
        ``S1[i]`` = S₁ after step ``i + 1``, its own η included.
    """
    return np.cumsum(_lr_array(lr))


def annealing_area(lr: ArrayLike | Schedule, decay: float = 0.999) -> np.ndarray:
    """Annealing area with momentum S₂(s) = Σ_{i=1..s} m_i (Tissue et al. 2024).

    m_i = λ·m_{i−1} + (η_{i−1} − η_i), m_0 = 0, and we take η_0 = η_1 (no drop before the
    first step), so S₂(s) = Σ_{i≤s} Σ_{2≤k≤i} (η_{k−1} − η_k)·λ^{i−k} (arXiv:2408.11029;
    docs/laws.md §4.2).  m is a
    first-order linear filter of the LR drops (``scipy.signal.lfilter``), then a cumulative
    sum: O(steps).  LR rises (re-warming, a warm-up kept as is) add negative increments.

    Parameters
    ----------
    lr : array_like or Schedule
        One LR per step (``lr[i]`` is η of step ``i + 1``).  For the annealing law, pass
        :func:`lr_for_annealing_law` to choose the warm-up treatment.
    decay : float
        The momentum factor λ in [0, 1]; 0.999 in every port of the paper's code.

    Returns
    -------
    numpy.ndarray
        ``S2[i]`` = S₂ after step ``i + 1``.
    """
    if not (np.isfinite(decay) and 0 <= decay <= 1):
        raise bad_value("annealing_area", "decay (λ) in [0, 1]", decay, "the paper uses 0.999.")
    eta = _lr_array(lr)
    drops = np.concatenate(([0.0], eta[:-1] - eta[1:]))
    from scipy.signal import lfilter  # imported here: scipy.signal takes ~1 s to import

    return np.cumsum(lfilter([1.0], [1.0, -decay], drops))


def lr_for_annealing_law(schedule: ScheduleLike, warmup: str = "constant") -> np.ndarray:
    """The LR array the annealing law's S₁ and S₂ are built from (docs/laws.md §4.2).

    Parameters
    ----------
    schedule : Schedule or spec string
    warmup : {"constant", "actual"}
        ``"constant"`` (default; the port based on the official code of Tissue et al. 2024)
        replaces the warm-up LRs by ``peak``: warm-up adds w·peak to S₁ and nothing to S₂.
        ``"actual"`` keeps the linear warm-up, as Luo et al. (2025) do for S₁.

    Returns
    -------
    numpy.ndarray
        A new, writable LR array.
    """
    if warmup not in ("constant", "actual"):
        raise bad_value(
            "lr_for_annealing_law", "warmup 'constant' or 'actual'", warmup, "pick one."
        )
    sched = as_schedule(schedule)
    lr = sched.lr.copy()
    if warmup == "constant":
        lr[: sched.warmup] = sched.peak
    return lr
