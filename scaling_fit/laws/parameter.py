"""The :class:`Parameter` record: one parameter of a law, its bounds and start grid."""

from __future__ import annotations

from dataclasses import dataclass

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
        Starting values for the multi-start search, in *fit space*: the logarithm of the
        value when ``log`` is true, the value itself otherwise.
    log
        Fit ``log(value)`` instead of the value (keeps scale parameters positive and makes
        the problem better conditioned).
    bounds
        Lower and upper bound in natural units.
    description
        What the parameter means, with units.
    """

    name: str
    start: tuple[float, ...]
    log: bool = False
    bounds: tuple[float, float] = (-np.inf, np.inf)
    description: str = ""

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
