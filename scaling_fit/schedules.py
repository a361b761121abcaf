"""Learning-rate schedules as per-step arrays, and the schedule features loss-curve laws use.

Step convention
---------------
Steps are 1-based like the papers: ``Schedule.lr[i]`` is the LR of optimizer step
``s = i + 1`` (η_s is ``lr[s - 1]``).  Closed forms are written in ``t = s - 1 = i``, the
number of steps already taken: what a 0-based training-loop counter shows and what the
``step`` column of the MultiPowerLaw CSVs holds.  So a CSV row with ``step`` t has LR
``lr[t]`` and features ``forward_area(lr)[t]``, ``annealing_area(lr)[t]`` (with that index the
published MPL parameters reproduce the paper's test errors).  Settings count steps:
``warmup=w`` covers steps 1..w, ``stages=8000@9e-5`` switches after 8000 steps (``lr[8000:]``),
``decay=4000`` is the last 4000 steps.  Warm-up is ``linspace(0, peak, warmup)`` on
``lr[:warmup]`` (``lr[0] = 0``, ``lr[warmup - 1] = peak``) as Luo et al. (2025,
arXiv:2503.12811) build it; decays start at ``peak`` and, as in their code, stop one step
short of ``final``.

Spec grammar (:func:`from_spec`)
--------------------------------
::

    spec    := family ":" setting ("," setting)*      (spaces are ignored)
    setting := key "=" value
    family  := constant | cosine | linear | wsd | multistage | step | invsqrt
    stages  := start "@" lr ((";" | "+") start "@" lr)*

Every family takes ``peak`` and ``total`` (required) and ``warmup`` (default 0).  Extra keys
(:data:`FAMILIES`): cosine, linear ``final``; wsd ``decay`` (required; < 1 a fraction of
``total``, >= 1 a number of steps), ``final``, ``shape`` (linear | exp | sqrt | cosine);
multistage ``stages`` (required); step ``every`` (required), ``factor``; invsqrt
``timescale``.  Numbers use Python syntax; step counts must be whole.  Example:
``wsd:peak=3e-4,total=24000,warmup=2160,decay=4000,final=3e-5,shape=exp``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike
from scipy.signal import lfilter

from .errors import DataError

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
        Read-only float64 array of length ``total``; ``lr[i]`` is the LR of step ``i + 1``.
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
        lr = _check_lr(self.lr, f"Schedule {self.name!r}").copy()
        lr.setflags(write=False)
        object.__setattr__(self, "lr", lr)
        object.__setattr__(self, "settings", dict(self.settings))
        _whole(self.warmup, "warmup", f"Schedule {self.name!r}", 0, lr.size)

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


ScheduleLike = Schedule | str | Callable[[np.ndarray], ArrayLike] | ArrayLike
"""Anything :func:`as_schedule` accepts."""


# ------------------------------------------------------------------------------ checks
def _bad(where: str, expected: str, found: Any, fix: str) -> DataError:
    """A DataError in the package's pattern: where, what was expected and found, the fix."""
    return DataError(f"{where}: expected {expected}; found {found!r}. Fix: {fix}")


def _check_lr(lr: Any, what: str) -> np.ndarray:
    try:
        arr = np.asarray(lr, dtype=np.float64)
    except (TypeError, ValueError):
        arr = np.full(1, np.nan)
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        want = "a non-empty 1-D array of finite learning rates >= 0, one per step"
        fix = "pass an LR array, a Schedule, a spec string, or a callable with total."
        raise _bad(what, want, f"{type(lr).__name__} {str(lr)[:60]}", fix)
    return arr


def _whole(value: Any, key: str, where: str, lo: int, hi: float) -> int:
    try:
        ok = float(value).is_integer() and lo <= value <= hi
    except (TypeError, ValueError):
        ok = False
    if not ok:
        want = f"{key} = a whole number of steps in [{lo}, {hi}]"
        raise _bad(where, want, value, f"pass an integer {key} in that range.")
    return int(value)


def _positive(value: Any, key: str, where: str) -> float:
    try:
        ok = bool(np.isfinite(value) and value > 0)
    except TypeError:
        ok = False
    if not ok:
        raise _bad(where, f"{key} = a finite number > 0", value, f"pass a positive {key}.")
    return float(value)


def _steps(where: str, total: Any, warmup: Any) -> tuple[int, int]:
    total = _whole(total, "total", where, 1, np.inf)
    return total, _whole(warmup, "warmup", where, 0, total - 1)


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
        raise _bad(family, f"final in [0, peak={peak!r}]", final, "the end LR, e.g. peak/10.")
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
        raise _bad("wsd", f"shape in {', '.join(WSD_SHAPES)}", shape, "use one of those.")
    if shape == "exp" and not final > 0:
        raise _bad("wsd", "final > 0 for shape=exp (geometric decay)", final, "e.g. peak/10.")
    total, warmup = _steps("wsd", total, warmup)
    _positive(decay, "decay (a fraction < 1 or a number of steps)", "wsd")
    n = round(decay * total) if decay < 1 else _whole(decay, "decay", "wsd", 1, np.inf)
    if not 1 <= n <= total - warmup:
        want = f"a decay of 1..total-warmup = {total - warmup} steps"
        raise _bad("wsd", want, f"{n} steps", "shorten the decay or the warm-up.")
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
        raise _bad("multistage", want, stages, "e.g. [(8000, 9e-5)]; spec 8000@9e-5;12000@3e-5")
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
    every = _whole(every, "every", "step", 1, np.inf)
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


# ------------------------------------------------------------------------------- specs
FAMILIES: dict[str, tuple[Callable[..., Schedule], tuple[str, ...], tuple[str, ...]]] = {
    # family: (builder, its extra keys, the required ones among them)
    "constant": (constant, (), ()),
    "cosine": (cosine, ("final",), ()),
    "linear": (linear, ("final",), ()),
    "wsd": (wsd, ("decay", "final", "shape"), ("decay",)),
    "multistage": (multistage, ("stages",), ("stages",)),
    "step": (step_decay, ("every", "factor"), ("every",)),
    "invsqrt": (inverse_sqrt, ("timescale",), ()),
}
_EXAMPLE = "cosine:peak=3e-4,total=24000,warmup=2160,final=3e-5"


def _parse_value(key: str, text: str, where: str) -> Any:
    try:
        if key == "shape":
            return text
        if key != "stages":
            return float(text)
        items = [p for part in text.split(";") for p in re.split(r"(?<![eE])\+", part)]
        return [(float(a), float(b)) for a, b in (item.split("@") for item in items)]
    except ValueError:
        stages = key == "stages"
        want = f"{key} = " + ("start@lr items joined by ';' or '+'" if stages else "a number")
        raise _bad(
            where, want, text, "e.g. 8000@9e-5;12000@3e-5." if stages else "e.g. 3e-4."
        ) from None


def from_spec(spec: str, *, total: int | None = None) -> Schedule:
    """Build a schedule from a spec string (grammar in the module docstring).

    Parameters
    ----------
    spec : str
        E.g. ``"wsd:peak=3e-4,total=24000,warmup=2160,decay=0.2,final=3e-5,shape=linear"``.
    total : int, optional
        Number of steps, used when the spec has no ``total``.

    Raises
    ------
    DataError
        Unknown family or key, missing or malformed value; the message lists what is valid.
    """
    where, fix = f"schedule spec {spec!r}", f"write 'family:key=value,...', e.g. {_EXAMPLE!r}."
    if not isinstance(spec, str):
        raise _bad("schedule spec", "a string", spec, fix)
    family, colon, body = "".join(spec.split()).partition(":")
    if not colon:
        raise _bad(where, "'family:key=value,...'", spec, fix)
    if family not in FAMILIES:
        raise _bad(where, f"a family in {', '.join(FAMILIES)}", family, fix)
    builder, extra, required = FAMILIES[family]
    keys, kwargs = ("peak", "total", "warmup", *extra), {}
    for item in filter(None, body.split(",")):
        key, eq, text = item.partition("=")
        if not eq or key in kwargs or key not in keys:
            want = f"key=value settings, each key once, keys of {family}: {', '.join(keys)}"
            raise _bad(where, want, item, f"use only those keys, e.g. {_EXAMPLE!r}.")
        kwargs[key] = _parse_value(key, text, where)
    if total is not None:
        kwargs.setdefault("total", total)
    missing = [k for k in ("peak", "total", *required) if k not in kwargs]
    if missing:
        want = f"the keys {', '.join(('peak', 'total', *required))}"
        found = f"no {', '.join(missing)}"
        raise _bad(where, want, found, f"add {missing[0]}=..., e.g. {_EXAMPLE!r}.")
    return builder(kwargs.pop("peak"), kwargs.pop("total"), **kwargs)


def as_schedule(obj: ScheduleLike, total: int | None = None) -> Schedule:
    """Turn a Schedule, spec string, callable or LR array into a :class:`Schedule`.

    Parameters
    ----------
    obj : Schedule, str, callable or array_like
        A callable is called once with the 1-based steps ``1..total`` and returns their LRs
        (a scalar is broadcast).  An array holds one LR per step (``lr[i]`` is step i + 1).
        Callables and arrays give ``name="custom"``, ``warmup=0`` and an empty ``spec``.
    total : int, optional
        Number of steps: needed for a callable, fills in a spec without ``total``, and
        otherwise must equal the schedule's length.
    """
    if isinstance(obj, str):
        obj = from_spec(obj, total=total)
    elif not isinstance(obj, Schedule):
        if callable(obj):
            if total is None:
                raise _bad("as_schedule", "total (steps) with a callable", None, "pass total=.")
            steps = np.arange(1, _whole(total, "total", "as_schedule", 1, np.inf) + 1)
            values = np.asarray(obj(steps), dtype=np.float64)
            obj = np.broadcast_to(values, steps.shape) if values.ndim == 0 else values
        lr = _check_lr(obj, "as_schedule")
        obj = Schedule("custom", {"total": lr.size}, lr)
    if total is not None and obj.total != total:
        fix = "drop total or make the two agree."
        raise _bad("as_schedule", f"total={total} steps", f"{obj.total} steps", fix)
    return obj


# ---------------------------------------------------------------------------- features
def _lr_array(lr: ArrayLike | Schedule) -> np.ndarray:
    return lr.lr if isinstance(lr, Schedule) else _check_lr(lr, "schedule feature")


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
    laws.md §4.2).  m is a
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
        raise _bad("annealing_area", "decay (λ) in [0, 1]", decay, "the paper uses 0.999.")
    eta = _lr_array(lr)
    drops = np.concatenate(([0.0], eta[:-1] - eta[1:]))
    return np.cumsum(lfilter([1.0], [1.0, -decay], drops))


def lr_for_annealing_law(schedule: ScheduleLike, warmup: str = "constant") -> np.ndarray:
    """The LR array the annealing law's S₁ and S₂ are built from (laws.md §4.2).

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
        raise _bad("lr_for_annealing_law", "warmup 'constant' or 'actual'", warmup, "pick one.")
    sched = as_schedule(schedule)
    lr = sched.lr.copy()
    if warmup == "constant":
        lr[: sched.warmup] = sched.peak
    return lr


# ---------------------------------------------------------------------------- plotting
def plot_schedule(
    schedules: Schedule | str | Iterable[Schedule | str], ax: Axes | None = None
) -> Axes:
    """Plot LR against the 1-based step, one line per schedule labelled by its spec.

    Uses the matplotlib object API only: without ``ax`` a new ``Figure`` (no pyplot) is
    made.  Returns the Axes.
    """
    items = [schedules] if isinstance(schedules, (Schedule, str)) else list(schedules)
    if ax is None:
        ax = Figure().add_subplot()
    for item in items:
        sched = as_schedule(item)
        ax.plot(sched.steps, sched.lr, label=sched.spec or sched.name)
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    if items:
        ax.legend(fontsize="small")
    return ax
