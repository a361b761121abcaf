"""Learning-rate schedules as per-step arrays: the :class:`Schedule` record and its families.

Step convention
---------------
Defined once in :mod:`scaling_fit.schedules.by_run`: a row at ``step`` t is the loss after t
optimizer updates, evaluated from the LR history ``lr[0..t]`` (``forward_area(lr)[t]``,
``annealing_area(lr)[t]``); closed forms below are written in ``t``, the index into ``lr``.
Settings count steps:
``warmup=w`` covers steps 1..w, ``stages=8000@9e-5`` switches after 8000 steps (``lr[8000:]``),
``decay=4000`` is the last 4000 steps.  Warm-up is ``linspace(0, peak, warmup)`` on
``lr[:warmup]`` (``lr[0] = 0``, ``lr[warmup - 1] = peak``) as Luo et al. (2025,
arXiv:2503.12811) build it; decays start at ``peak`` and, as in their code, stop one step
short of ``final``.  Spec strings that name these families: :mod:`scaling_fit.schedules.spec`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..errors import DataError
from ..inputs.columns import MAX_STEPS

WSD_SHAPES = ("linear", "exp", "sqrt", "cosine")


@dataclass(frozen=True, eq=False)
class Schedule:
    """A learning-rate schedule: one LR per optimizer step.

    Attributes
    ----------
    name : str
        Family (``"cosine"``, ``"wsd"``, ...; ``"custom"`` for arrays and callables).
    settings : dict
        The family's settings (``peak``, ``total``, ``warmup``, ...).
    lr : numpy.ndarray
        Read-only float64 array of length ``total`` (step convention: :mod:`.by_run`).
    warmup : int
        Number of linear warm-up steps at the start of ``lr``.
    spec : str
        Canonical spec (``from_spec(spec)`` rebuilds the schedule); empty for custom ones.
    """

    name: str
    settings: Mapping[str, Any]
    lr: np.ndarray = field(repr=False)
    warmup: int = 0
    spec: str = ""

    def __post_init__(self) -> None:
        lr = check_lr(self.lr, f"Schedule {self.name!r}").copy()
        lr.setflags(write=False)
        object.__setattr__(self, "lr", lr)
        object.__setattr__(self, "settings", dict(self.settings))
        whole_number(self.warmup, "warmup", f"Schedule {self.name!r}", 0, lr.size)

    @property
    def total(self) -> int:
        """Number of steps."""
        return int(self.lr.size)

    @property
    def steps(self) -> np.ndarray:
        """The 1-based step numbers ``1..total`` matching :attr:`lr`."""
        return np.arange(1, self.total + 1)

    @property
    def peak(self) -> float:
        """The ``peak`` setting; the largest LR for custom schedules."""
        return float(self.settings.get("peak", self.lr.max()))

    def plot(self, ax: Any = None) -> Any:
        """LR against the step (a matplotlib Figure; :func:`scaling_fit.plotting.plot_schedule`)."""
        from ..plotting.curves import plot_schedule

        return plot_schedule(self, ax)


ScheduleLike = Schedule | str | Callable[[np.ndarray], ArrayLike] | ArrayLike
"""Anything :func:`as_schedule` accepts."""


# ------------------------------------------------------------------------------ checks
def bad_value(where: str, expected: str, found: Any, fix: str) -> DataError:
    """A DataError in the package's pattern: where, what was expected and found, the fix."""
    return DataError(f"{where}: expected {expected}; found {found!r}. Fix: {fix}")


def check_lr(lr: Any, what: str) -> np.ndarray:
    """``lr`` as a float array of per-step learning rates; DataError naming ``what`` unless it
    is a non-empty 1-D array of finite values >= 0."""
    try:
        arr = np.asarray(lr, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an int beyond a float
        arr = np.full(1, np.nan)
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        want = "a non-empty 1-D array of finite learning rates >= 0, one per step"
        fix = "pass an LR array, a Schedule, a spec string, or a callable with total."
        raise bad_value(what, want, f"{type(lr).__name__} {str(lr)[:60]}", fix)
    return arr


def whole_number(value: Any, key: str, where: str, lo: int, hi: float) -> int:
    """``value`` as an int; DataError naming ``key`` and ``where`` unless it is a whole
    number of steps in ``[lo, hi]``."""
    try:
        ok = float(value).is_integer() and lo <= value <= hi
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        want = f"{key} = a whole number of steps in [{lo}, {hi}]"
        raise bad_value(where, want, value, f"pass an integer {key} in that range.")
    return int(value)


def _positive(value: Any, key: str, where: str) -> float:
    try:
        ok = bool(np.isfinite(value) and value > 0)
    except TypeError:
        ok = False
    if not ok:
        raise bad_value(where, f"{key} = a finite number > 0", value, f"pass a positive {key}.")
    return float(value)


def _steps(where: str, total: Any, warmup: Any) -> tuple[int, int]:
    total = whole_number(total, "total", where, 1, MAX_STEPS)
    return total, whole_number(warmup, "warmup", where, 0, total - 1)


# ---------------------------------------------------------------------------- builders
def _build(
    family: str, post: Callable[..., Any], peak: float, total: int, warmup: int, **extra: Any
) -> Schedule:
    """Check the shared settings, evaluate ``post(t, total, warmup)`` at t = 0..total-1, put
    the linear warm-up in front and wrap the result in a :class:`Schedule`."""
    _positive(peak, "peak (the LR after warm-up)", family)
    total, warmup = _steps(family, total, warmup)
    final = extra.get("final", 0.0)
    if not (np.isfinite(final) and 0 <= final <= peak):
        raise bad_value(family, f"final in [0, peak={peak!r}]", final, "the end LR, e.g. peak/10.")
    t = np.arange(total, dtype=np.float64)
    lr = np.array(np.broadcast_to(post(t, total, warmup), t.shape), dtype=np.float64)
    lr[:warmup] = np.linspace(0.0, peak, warmup)
    settings = {"peak": peak, "total": total, "warmup": warmup, **extra}
    body = ",".join(f"{k}={_fmt(v)}" for k, v in settings.items())
    return Schedule(family, settings, lr, warmup, f"{family}:{body}")


def _fmt(value: Any) -> str:
    if isinstance(value, tuple):
        return ";".join(f"{a}@{b!r}" for a, b in value)
    return repr(value) if isinstance(value, float) else str(value)


def _shape(shape: str, t: np.ndarray, d: int, total: int, peak: float, final: float) -> Any:
    """Decay from ``peak`` at t = d towards ``final`` at t = total; ``peak`` before d."""
    x = np.clip((t - d) / (total - d), 0.0, None)
    if shape == "exp":  # geometric, in the form of the MultiPowerLaw code
        return peak ** ((total - np.maximum(t, d)) / (total - d)) * final**x
    if shape == "sqrt":
        return final + (peak - final) * (1 - np.sqrt(x))
    if shape == "cosine":
        return final + 0.5 * (peak - final) * (1 + np.cos(np.pi * x))
    return peak * (1 - x) + final * x


def constant(peak: float, total: int, *, warmup: int = 0) -> Schedule:
    """Constant η(t) = ``peak`` after ``warmup`` linear warm-up steps; ``total`` steps."""
    return _build("constant", lambda t, T, w: peak, peak, total, warmup)


def cosine(peak: float, total: int, *, final: float = 0.0, warmup: int = 0) -> Schedule:
    """Cosine decay η(t) = final + ½(peak − final)(1 + cos(π(t − w)/(T − w))), t ≥ w."""
    post = lambda t, T, w: _shape("cosine", t, w, T, peak, final)  # noqa: E731
    return _build("cosine", post, peak, total, warmup, final=final)


def linear(peak: float, total: int, *, final: float = 0.0, warmup: int = 0) -> Schedule:
    """Linear decay η(t) = peak·(1 − x) + final·x with x = (t − w)/(T − w), t ≥ w."""
    post = lambda t, T, w: _shape("linear", t, w, T, peak, final)  # noqa: E731
    return _build("linear", post, peak, total, warmup, final=final)


def wsd(
    peak: float,
    total: int,
    *,
    decay: float,
    final: float = 0.0,
    shape: str = "linear",
    warmup: int = 0,
) -> Schedule:
    """Warmup-stable-decay: ``peak`` until d = T − n, then decay over the last n steps.

    ``decay`` < 1 is a fraction of ``total`` (n = round(decay·T)), ≥ 1 is n itself.  With
    x = (t − d)/(T − d): ``linear`` peak(1 − x) + final·x; ``exp`` (geometric)
    peak^((T − t)/(T − d))·final^x; ``sqrt`` final + (peak − final)(1 − √x); ``cosine``
    final + ½(peak − final)(1 + cos πx).
    """
    if shape not in WSD_SHAPES:
        raise bad_value("wsd", f"shape in {', '.join(WSD_SHAPES)}", shape, "use one of those.")
    if shape == "exp" and not final > 0:
        raise bad_value("wsd", "final > 0 for shape=exp (geometric decay)", final, "e.g. peak/10.")
    total, warmup = _steps("wsd", total, warmup)
    _positive(decay, "decay (a fraction < 1 or a number of steps)", "wsd")
    n = round(decay * total) if decay < 1 else whole_number(decay, "decay", "wsd", 1, np.inf)
    if not 1 <= n <= total - warmup:
        want = f"a decay of 1..total-warmup = {total - warmup} steps"
        raise bad_value("wsd", want, f"{n} steps", "shorten the decay or the warm-up.")
    decay = decay if decay < 1 else n
    post = lambda t, T, w: _shape(shape, t, T - n, T, peak, final)  # noqa: E731
    return _build("wsd", post, peak, total, warmup, decay=decay, final=final, shape=shape)


def _stages(stages: Any, warmup: int, total: int) -> tuple[tuple[int, float], ...]:
    try:
        pairs = [(float(a), float(b)) for a, b in stages]
    except (TypeError, ValueError):
        pairs = []
    ok = bool(pairs) and all(
        a.is_integer() and warmup <= a < total and np.isfinite(b) and b >= 0 for a, b in pairs
    )
    if not ok or any(x[0] >= y[0] for x, y in pairwise(pairs)):
        want = f"(start, lr) pairs, starts whole, increasing, in [{warmup}, {total}), lr >= 0"
        raise bad_value(
            "multistage", want, stages, "e.g. [(8000, 9e-5)]; spec 8000@9e-5;12000@3e-5"
        )
    return tuple((int(a), b) for a, b in pairs)


def multistage(
    peak: float, total: int, stages: Sequence[tuple[int, float]], *, warmup: int = 0
) -> Schedule:
    """Piecewise constant: ``peak`` after warm-up, η(t) = lr_k for start_k ≤ t < start_k+1.

    ``stages`` = [(start, lr), ...], starts whole and strictly increasing in [warmup, total).
    The MultiPowerLaw two-stage (wsdcon) runs are
    ``multistage(3e-4, 16000, [(8000, k * 1e-5)], warmup=2160)``.
    """
    total, warmup = _steps("multistage", total, warmup)
    stages = _stages(stages, warmup, total)
    starts, values = np.array([a for a, _ in stages]), np.array([peak] + [b for _, b in stages])
    post = lambda t, T, w: values[np.searchsorted(starts, t, side="right")]  # noqa: E731
    return _build("multistage", post, peak, total, warmup, stages=stages)


def step_decay(
    peak: float, total: int, *, every: int, factor: float = 0.1, warmup: int = 0
) -> Schedule:
    """Step decay η(t) = peak·factor^⌊(t − w)/every⌋, t ≥ w (spec family ``step``)."""
    every = whole_number(every, "every", "step", 1, np.inf)
    factor = _positive(factor, "factor", "step")
    post = lambda t, T, w: peak * factor ** np.floor(np.maximum(t - w, 0) / every)  # noqa: E731
    return _build("step", post, peak, total, warmup, every=every, factor=factor)


def inverse_sqrt(
    peak: float, total: int, *, warmup: int = 0, timescale: float | None = None
) -> Schedule:
    """Inverse square root η(t) = peak·√(τ/(τ + t − w)), t ≥ w (spec family ``invsqrt``).

    τ = ``timescale`` defaults to max(warmup, 1), which gives the usual peak·√(w/t).
    """
    total, warmup = _steps("invsqrt", total, warmup)
    tau = _positive(max(warmup, 1) if timescale is None else timescale, "timescale", "invsqrt")
    post = lambda t, T, w: peak * np.sqrt(tau / (tau + np.maximum(t - w, 0)))  # noqa: E731
    return _build("invsqrt", post, peak, total, warmup, timescale=tau)
