"""The parameter space a fit searches: free, fixed and tied parameters, bounds, start grid.

The optimiser sees a vector ``theta`` of the *free* parameters in fit space (``log`` of the
value for log parameters).  :class:`ParameterSpace` maps it back to the natural-unit keyword
arguments of the law's formula, filling in fixed values and tied parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ..errors import DataError, argument
from ..laws.base import Array, Law

# A fixed value beyond this magnitude is a typo or a unit slip, not a parameter of a loss law.
MAX_FIXED = 1e100


def cartesian(axes: list[Any]) -> Array:
    """Rows of the Cartesian product of ``axes``, in ``itertools.product`` order (the last axis
    varies fastest), built by NumPy (a Python product of 4,500 tuples took ~2 ms a fit)."""
    if not axes:
        return np.zeros((1, 0))
    mesh = np.meshgrid(*[np.asarray(a, dtype=float) for a in axes], indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)


@dataclass(frozen=True)
class ParameterSpace:
    """Free/fixed/tied split of a law's parameters, with fit-space bounds.

    Parameters
    ----------
    law
        The law being fitted.
    fixed
        Natural-unit values of parameters held fixed, e.g. ``{"E": 1.7}``.
    tie
        Parameters set equal to another one, e.g. ``{"beta": "alpha"}``.
    bounds
        Natural-unit bounds overriding the law's defaults, e.g. ``{"alpha": (0, 1)}``.
    """

    law: Law
    fixed: Mapping[str, float]
    tie: Mapping[str, str]
    bounds: Mapping[str, tuple[float, float]]

    def __post_init__(self) -> None:
        names = set(self.law.param_names)
        for label, keys in (("fixed", self.fixed), ("tie", self.tie), ("bounds", self.bounds)):
            unknown = sorted(set(keys) - names)
            if unknown:
                raise DataError(
                    f"{argument(label)} names {unknown} but law {self.law.name!r} has parameters "
                    f"{list(self.law.param_names)}; use those names"
                )
        for name, target in self.tie.items():
            if target not in names or target in self.tie or target in self.fixed:
                raise DataError(
                    f"{argument('tie', {name: target})}: expected the name of a free parameter of "
                    f"{self.law.name!r} ({', '.join(self.free)}), found {target!r}"
                )
        if not self.free:
            raise DataError("every parameter is fixed or tied: nothing is left to fit")
        for name, value in self.fixed.items():
            self._check_fixed(name, value)

    def _check_fixed(self, name: str, value: float) -> None:
        """DataError unless a fixed value is a finite number inside the parameter's bounds."""
        lo, hi = self.bounds.get(name, self.law.parameter(name).bounds)
        try:
            ok = bool(np.isfinite(value) and lo <= value <= hi and abs(value) <= MAX_FIXED)
        except TypeError:
            ok = False
        if not ok:
            raise DataError(
                f"{argument('fixed', {name: value})}: expected a finite value of {name} in its "
                f"bounds [{lo:g}, {hi:g}] (and |value| <= {MAX_FIXED:g}); fix {name} inside "
                "them, or widen them with bounds="
            )

    @cached_property
    def free(self) -> tuple[str, ...]:
        """Names of the parameters the optimiser varies, in law order."""
        return tuple(n for n in self.law.param_names if n not in self.fixed and n not in self.tie)

    @cached_property
    def _free_log(self) -> Array:
        """Whether each free parameter is fitted as its logarithm (solver hot path: an array,
        not converted again on every call of :meth:`natural`)."""
        return np.array([self.law.parameter(n).log for n in self.free])

    def fit_bounds(self) -> tuple[Array, Array]:
        """Lower and upper bounds of the free parameters in fit space."""
        pairs = [self.law.parameter(n).fit_bounds(self.bounds.get(n)) for n in self.free]
        return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])

    def natural(self, theta: Array) -> dict[str, Array]:
        """Keyword arguments of the formula for a fit-space vector (or a stack of them).

        ``theta`` of shape ``(n_free,)`` gives scalars; shape ``(n_starts, n_free)`` gives
        columns of shape ``(n_starts, 1)`` that broadcast against the data points.
        """
        theta = np.asarray(theta, dtype=float)
        # One exp for every parameter at once (the solver calls this ~20,000 times a Farseer
        # fit); inf at wild steps, which the residuals reject.
        with np.errstate(over="ignore"):
            natural = np.where(self._free_log, np.exp(theta), theta)
        values: dict[str, Array] = {}
        for i, name in enumerate(self.free):
            values[name] = natural[i] if theta.ndim == 1 else natural[:, i, None]
        for name, value in self.fixed.items():
            values[name] = float(value)
        for name, target in self.tie.items():
            values[name] = values[target]
        return values

    def to_theta(self, params: Mapping[str, float]) -> Array:
        """Fit-space vector of the free parameters from natural-unit values."""
        return np.array([self.law.parameter(n).to_fit_space(params[n]) for n in self.free])

    def start_grid(self) -> Array:
        """Cartesian product of the free parameters' start values, clipped into the bounds."""
        return self.clip(cartesian([self.law.parameter(n).fit_start for n in self.free]))

    def start_from(self, values: Mapping[str, float], label: str = "init") -> Array:
        """A start from natural-unit values of some free parameters.

        Parameters not given start at the middle of their start values; values of fixed or
        tied parameters are ignored only when ``label`` is not ``"init"`` (a user's ``init``
        naming them is an error).
        """
        unknown = sorted(set(values) - set(self.free))
        if unknown and label == "init":
            raise DataError(
                f"init= names {unknown}, which are not free parameters of "
                f"{self.law.name!r}; free parameters are {list(self.free)}"
            )
        start = [
            self.law.parameter(n).to_fit_space(values[n])
            if n in values
            else float(np.median(self.law.parameter(n).fit_start))
            for n in self.free
        ]
        return self.clip(np.asarray(start, dtype=float))

    def clip(self, theta: Array) -> Array:
        """Clip fit-space vectors into the bounds."""
        lower, upper = self.fit_bounds()
        return np.clip(theta, lower, upper)

    def at_bound(self, theta: Array, rtol: float = 1e-6) -> list[str]:
        """Names of free parameters sitting on (or within ``rtol`` of) a finite bound."""
        lower, upper = self.fit_bounds()
        hits = []
        for name, value, lo, hi in zip(self.free, theta, lower, upper, strict=True):
            for bound in (lo, hi):
                if np.isfinite(bound) and abs(value - bound) <= rtol * max(1.0, abs(bound)):
                    hits.append(name)
        return hits
