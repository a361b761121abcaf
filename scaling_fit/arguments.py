"""The domain of every argument shared by the public functions, declared once, and
:func:`checked`, which checks them at the entry point before any work.

A public function decorated with :func:`checked` has each argument whose name is in
:data:`DOMAINS` checked against its domain when it is called, before its body runs; a value
outside it raises :class:`~scaling_fit.errors.DataError` naming the function, the argument
(and its ``scaling-fit`` flag), what was expected and what was found::

    isoflop: bootstrap=-5 (--bootstrap): expected a whole number of resamples in
    [0, 100,000] (0 for none, e.g. 1000)

``None`` passes where it is the parameter's default (``seq_len=None``: no conversion).  A
function may ask more of an argument in its body (``fit`` refuses 1 to 9 resamples: no
interval), never less.  Booleans are never numbers here (``bootstrap=True`` is refused).
:func:`checked` also keeps a renamed keyword working for one release: the old name is
accepted with a :class:`DeprecationWarning` naming the new one.

The idea is scikit-learn's ``validate_params``; this module imports nothing but the standard
library, so every layer may use it.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from .errors import DataError, argument
from .progress import CHOICES as PROGRESS_CHOICES
from .progress import ProgressError

F = TypeVar("F", bound=Callable[..., Any])

# Bootstrap resamples: 10⁵ already pins a 95 % percentile to ~0.1 %; more only costs hours.
MAX_BOOTSTRAP = 100_000
# Seeds: NumPy accepts any integer >= 0; 2³² is what most tools take, and plenty.
SEED_LIMIT = 2**32
# Huber δ on log residuals: above ~10 (a factor e¹⁰ in loss) every point is quadratic, so the
# objective is plain MSE; larger values only risk overflow.
MAX_DELTA = 1e3
# Below ~1e-12, far under the round-off of a fitted log loss, every point is in Huber's linear
# part already, and (r/δ)² overflows: δ = 1e-300 gave "array must not contain infs or NaNs".
MIN_DELTA = 1e-12
# Starts refined by the trust-region solver.
MAX_REFINE = 10_000
# Steps of one schedule (= scaling_fit.inputs.columns.MAX_STEPS).
MAX_STEPS = 100_000_000
# Tokens per sequence: 16M, far above any context length trained so far.
MAX_SEQ_LEN = 2**24
# Default stride of a predicted loss curve (``predictions``, ``scaling-fit predict``): a
# 24k-step schedule gives 240 rows.
DEFAULT_EVERY = 100
# The attribute :func:`checked` sets on the functions it wraps (tests/test_arguments.py).
MARK = "__checked_arguments__"


def is_whole(value: Any) -> bool:
    """A finite whole number, not a bool (``2.0`` and ``numpy.int64(2)`` are whole)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    number = float(value)
    return math.isfinite(number) and number.is_integer()


def is_real(value: Any) -> bool:
    """A finite real number, not a bool."""
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


@dataclass(frozen=True)
class Domain:
    """The values an argument may take: ``test(value)`` is True inside, and ``expected``
    says so in words (after ``expected`` in the message)."""

    expected: str
    test: Callable[[Any], bool]
    error: type[DataError] = DataError

    def check(self, name: str, value: Any, where: str = "") -> None:
        """Raise ``error`` naming ``where`` (a function), ``name`` and ``value`` unless the
        value lies in the domain."""
        if not self.test(value):
            prefix = f"{where}: " if where else ""
            raise self.error(f"{prefix}{argument(name, value)}: expected {self.expected}")


def whole(lo: int, hi: float, example: str) -> Domain:
    """Whole numbers from ``lo`` to ``hi`` (``inf``: no upper limit)."""
    interval = f">= {lo}" if math.isinf(hi) else f"in [{lo}, {int(hi):,}]"
    return Domain(
        f"a whole number {interval} ({example})",
        lambda v: is_whole(v) and lo <= float(v) <= hi,
    )


def _n_jobs(value: Any) -> bool:
    return is_whole(value) and int(value) != 0


def _level(value: Any) -> bool:
    return is_real(value) and 0.0 < float(value) < 1.0


def _positive(value: Any) -> bool:
    return is_real(value) and float(value) > 0


def _share(value: Any) -> bool:
    return is_real(value) and 0.0 <= float(value) <= 1.0


def _progress(value: Any) -> bool:
    return any(value is c or (isinstance(c, str) and value == c) for c in PROGRESS_CHOICES)


DOMAINS: dict[str, Domain] = {
    "bootstrap": whole(0, MAX_BOOTSTRAP, "0 for none, e.g. 1000"),
    "seed": whole(0, SEED_LIMIT - 1, "e.g. 0"),
    "n_jobs": Domain(
        "a whole number of workers other than 0 (1: no parallelism, -1: all cores)", _n_jobs
    ),
    "level": Domain(
        "the probability of a central interval, strictly between 0 and 1 (e.g. 0.95)", _level
    ),
    "every": whole(1, MAX_STEPS, "a stride in steps, e.g. 100"),
    "delta": Domain(
        f"a Huber threshold 0 < delta <= {MAX_DELTA:g} on log residuals, at least "
        f"{MIN_DELTA:g} (default 1e-3); for plain least squares pass loss='mse'",
        lambda v: is_real(v) and MIN_DELTA <= float(v) <= MAX_DELTA,
    ),
    "n_refine": whole(1, MAX_REFINE, "default 10"),
    "progress": Domain("True, False or 'auto'", _progress, ProgressError),
    "min_side": whole(1, 10_000, "sampled N on each side of the vertex, e.g. 2"),
    "neighbours": whole(1, 10_000, "points on each side of the lowest, e.g. 2"),
    "seq_len": Domain(
        f"the tokens per sequence, a whole number from 1 to {MAX_SEQ_LEN:,} (e.g. 2048)",
        lambda v: is_whole(v) and 1 <= float(v) <= MAX_SEQ_LEN,
    ),
    "min_scales": whole(2, 1000, "default 3"),
    "max_origins": whole(1, 1000, "default 3"),
    "max_dropped": whole(0, math.inf, "scales left out of the sweep, default 4"),
    "drop_top_loss": whole(0, math.inf, "highest-loss points to leave out, 0 for none"),
    "n_grid": whole(2, 100_000, "points per parabola, e.g. 50"),
    "target_compute": Domain("a finite budget in FLOPs > 0, e.g. 1e23", _positive),
    "warmup_fraction": Domain(
        "the share of the steps spent warming up, a number from 0 to 1 (e.g. 0.01)", _share
    ),
}


def check(name: str, value: Any, where: str = "") -> None:
    """Check one argument against its declared domain (DataError outside it)."""
    DOMAINS[name].check(name, value, where)


def checked(
    function: F | None = None, *, renamed: Mapping[str, str] | None = None
) -> F | Callable[[F], F]:
    """Decorator: check the arguments of ``function`` named in :data:`DOMAINS` on every
    call, before its body runs.

    Parameters
    ----------
    function
        A public function or method (``@checked`` or ``@checked(renamed=…)``).
    renamed
        Old keyword → new keyword, for names changed in this release: the old one is
        accepted, with a :class:`DeprecationWarning`, for one release.

    Returns
    -------
    callable
        The wrapped function, with the same signature and docstring; ``MARK`` on it names
        the checked parameters.
    """
    old_names = dict(renamed or {})

    def wrap(target: F) -> F:
        signature = inspect.signature(target)
        names = [n for n in signature.parameters if n in DOMAINS]
        nullable = {n for n in names if signature.parameters[n].default is None}
        label = target.__qualname__
        unknown = [new for new in old_names.values() if new not in signature.parameters]
        if unknown:
            raise TypeError(f"checked({label}): renamed to unknown parameters {unknown}")

        @functools.wraps(target)
        def call(*args: Any, **kwargs: Any) -> Any:
            if old_names:
                _rename(label, old_names, kwargs)
            bound = signature.bind_partial(*args, **kwargs).arguments
            for name in names:
                if name in bound and not (bound[name] is None and name in nullable):
                    DOMAINS[name].check(name, bound[name], label)
            return target(*args, **kwargs)

        setattr(call, MARK, tuple(names))
        return call  # type: ignore[return-value]

    return wrap(function) if function is not None else wrap


def _rename(label: str, old_names: Mapping[str, str], kwargs: dict[str, Any]) -> None:
    """Move the values of old keywords to their new names, warning once per call."""
    for old, new in old_names.items():
        if old not in kwargs:
            continue
        if new in kwargs:
            raise DataError(f"{label}: {old}= is the old name of {new}=; give only {new}=")
        warnings.warn(
            f"{label}: {old}= is renamed {new}= (the old name goes in the next release)",
            DeprecationWarning,
            stacklevel=3,
        )
        kwargs[new] = kwargs.pop(old)
