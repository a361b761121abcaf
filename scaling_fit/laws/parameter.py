"""The :class:`Parameter` record: one parameter of a law, its bounds and start grid.

Starts and bounds are both in natural units, whether or not the parameter is fitted as its
logarithm (``log=True``): ``Parameter("A", start=(1e2, 1e3), log=True, bounds=(0, np.inf))``.
:attr:`Parameter.fit_start` holds the starts in the space the optimiser works in.

Up to scaling_fit 0.1.0 the starts of a ``log=True`` parameter were given in log space. That form
is still read, with a :class:`DeprecationWarning`, when

- ``start_is_log=True`` says so, or
- the starts cannot be natural values while their exponentials can: some start is <= 0 or
  outside ``bounds``, and ``exp`` of every start lies inside ``bounds`` (e.g. ``start=(-1.0,
  0.0, 1.0)`` with ``log=True``: a log parameter's natural value is > 0).

Positive starts inside the bounds are read as natural values: ``start=(5.0, 10.0)`` with
``log=True`` means 5 and 10, not e⁵ and e¹⁰ (give ``start_is_log=True`` if old code meant
those).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

Array = np.ndarray


@dataclass(frozen=True)
class Parameter:
    """One parameter of a law.

    Parameters
    ----------
    name
        Keyword name in the law's formula.
    start
        Starting values for the multi-start search, in natural units like ``bounds`` (also
        when ``log`` is true). Starts outside the bounds are clipped into them.
    log
        Fit ``log(value)`` instead of the value (keeps scale parameters positive and makes
        the problem better conditioned); natural starts must then be > 0.
    bounds
        Lower and upper bound in natural units.
    description
        What the parameter means, with units.
    start_is_log
        Deprecated: ``start`` holds the logarithms of the starts of a ``log`` parameter (the
        form before starts were natural). Converted to natural values with a
        :class:`DeprecationWarning`; the module docstring says when the old form is also
        recognised without it.

    Attributes
    ----------
    fit_start
        The starts in fit space (their logarithms for a ``log`` parameter), as the
        optimiser's start grid uses them.
    """

    name: str
    start: tuple[float, ...]
    log: bool = False
    bounds: tuple[float, float] = (-np.inf, np.inf)
    description: str = ""
    start_is_log: bool = False
    fit_start: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        given = np.asarray(self.start, dtype=float).reshape(-1)
        if self.start_is_log and not self.log:
            raise ValueError(
                f"parameter {self.name!r}: start_is_log=True is for log=True parameters; "
                "give the starts of a log=False parameter as they are"
            )
        if self.log and (self.start_is_log or _looks_like_log_starts(given, self.bounds)):
            _warn_log_starts(self, given)
            fit, natural = given, np.exp(given)
        elif self.log:
            if np.any(~(given > 0)):
                raise ValueError(
                    f"parameter {self.name!r}: starts {given.tolist()} of a log=True parameter "
                    "must be natural values > 0"
                )
            fit, natural = np.log(given), given
        else:
            fit = natural = given
        object.__setattr__(self, "start", tuple(float(s) for s in natural))
        object.__setattr__(self, "fit_start", tuple(float(s) for s in fit))
        object.__setattr__(self, "start_is_log", False)  # converted: start is natural now

    def to_fit_space(self, value: float | Array) -> float | Array:
        """Map a natural value to the space the optimiser works in."""
        return np.log(value) if self.log else value

    def from_fit_space(self, value: float | Array) -> float | Array:
        """Map an optimiser value back to natural units."""
        return np.exp(value) if self.log else value

    def fit_bounds(self, bounds: tuple[float, float] | None = None) -> tuple[float, float]:
        """Bounds in fit space (``log`` of the natural bounds for log parameters)."""
        lo, hi = self.bounds if bounds is None else bounds
        if self.log:
            lo = -np.inf if lo <= 0 else float(np.log(lo))
            hi = np.inf if hi == np.inf else float(np.log(hi))
        return float(lo), float(hi)


def _looks_like_log_starts(given: Array, bounds: tuple[float, float]) -> bool:
    """Whether a log parameter's starts can only be log-space values: some start is <= 0 or
    outside ``bounds`` while the exponential of every start lies inside them."""
    lo, hi = bounds
    impossible = np.any(~(given > 0) | (given < lo) | (given > hi))
    with np.errstate(over="ignore"):
        natural = np.exp(given)
    return bool(impossible and np.all((natural >= lo) & (natural <= hi)))


def _warn_log_starts(parameter: Parameter, given: Array) -> None:
    natural = ", ".join(f"{v:.6g}" for v in np.exp(given))
    how = "start_is_log=True" if parameter.start_is_log else "starts <= 0 or outside the bounds"
    warnings.warn(
        f"parameter {parameter.name!r}: starts {given.tolist()} read as logarithms ({how}); "
        f"starts are now natural values like bounds=, also for log=True parameters. Give "
        f"start=({natural}) instead; log-space starts will stop being accepted",
        DeprecationWarning,
        stacklevel=4,
    )
