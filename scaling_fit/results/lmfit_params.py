"""Conversion between a :class:`FitResult` and :class:`lmfit.Parameters`.

``to_lmfit_params`` hands a fit to lmfit's tooling (reports, ``conf_interval``, further
fitting with ``lmfit.Model``): values, bounds, fixed parameters as ``vary=False``, ties as
``expr``, bootstrap standard errors as ``stderr`` and correlations as ``correl``.
``from_lmfit`` turns lmfit parameters (or a ``ModelResult``/``MinimizerResult``, through its
``.params``) back into a result that predicts. lmfit is imported inside the functions, so
``import scaling_fit`` does not pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._version import __version__
from ..errors import DataError
from ..laws import Law, get_law

if TYPE_CHECKING:
    import lmfit

    from .fit_result import FitResult


def to_lmfit_params(result: FitResult) -> lmfit.Parameters:
    """The result's parameters as :class:`lmfit.Parameters`."""
    import lmfit

    params = lmfit.Parameters()
    errors = result.stderr
    for name, value in result.params.items():
        lo, hi = _bounds(result, name)
        params.add(name, value=value, min=float(lo), max=float(hi), vary=name in result.free)
    for name, target in result.tie.items():
        params[name].expr = target
    for name in result.free:
        if errors[name] is not None:
            params[name].stderr = errors[name]
    if result.correlation is not None and len(result.free) > 1:
        for i, a in enumerate(result.free):
            params[a].correl = {
                b: float(result.correlation[i, j]) for j, b in enumerate(result.free) if j != i
            }
    return params


def from_lmfit(
    cls: type[FitResult],
    params: Any,
    law: str | Law,
    *,
    data: pd.DataFrame | None = None,
    reference: str = "",
) -> FitResult:
    """A :class:`FitResult` from lmfit parameters, to predict with a fit made by lmfit.

    Parameters
    ----------
    cls
        The result class to build (:class:`FitResult`; passed in so that this module does
        not import it back).
    params
        :class:`lmfit.Parameters`, or an object with a ``.params`` attribute
        (``lmfit.model.ModelResult``, ``lmfit.minimizer.MinimizerResult``).
    law
        The law (name or :class:`Law`) whose parameters these are; names must match.
    data
        Optional fitted points (``run``, the law's inputs, ``loss``), used to warn about
        extrapolation.
    reference
        Where the parameters come from, stored in ``options["source"]``.

    Notes
    -----
    Parameters with ``vary=False`` become ``fixed``, an ``expr`` naming another parameter
    becomes a ``tie``; any other ``expr`` is held at its value (with a note in ``warnings``).
    lmfit's ``stderr`` values are kept in ``options["lmfit_stderr"]`` (the result's own
    ``stderr`` and intervals come from a bootstrap, which lmfit does not provide).
    """
    law = get_law(law)
    params = getattr(params, "params", params)
    names = list(law.param_names)
    missing = [n for n in names if n not in params]
    extra = [n for n in params if n not in names and not params[n].expr]
    if missing or extra:
        raise DataError(
            f"lmfit parameters {list(params)} do not match law {law.name!r}'s parameters "
            f"{names}: missing {missing}, unknown {extra}; name the lmfit parameters as the law"
        )
    free, fixed, tie, notes = [], {}, {}, []
    for name in names:
        p = params[name]
        expr = (p.expr or "").strip()
        if expr in names and expr != name:
            tie[name] = expr
        elif expr:
            fixed[name] = float(p.value)
            notes.append(f"{name} was the lmfit expression {expr!r}; held at {p.value:.6g}")
        elif p.vary:
            free.append(name)
        else:
            fixed[name] = float(p.value)
    bounds = {
        n: [float(params[n].min), float(params[n].max)]
        for n in free
        if (params[n].min, params[n].max) != tuple(law.parameter(n).bounds)
    }
    return cls(
        law=law,
        params={n: float(params[n].value) for n in names},
        free=tuple(free),
        fixed=fixed,
        tie=tie,
        objective=float("nan"),
        converged=False,
        n_points=0 if data is None else len(data),
        residuals=np.empty(0),
        warnings=tuple(notes),
        options={
            "source": f"lmfit parameters{f' ({reference})' if reference else ''}",
            "bounds": {n: _json_bounds(b) for n, b in bounds.items()},
            "lmfit_stderr": {n: params[n].stderr for n in free if params[n].stderr is not None},
        },
        data=data if data is not None else pd.DataFrame(columns=["run", *law.inputs, "loss"]),
        correlation=_correlation(params, free),
        version=__version__,
    )


def _correlation(params: Any, free: list[str]) -> np.ndarray | None:
    """Correlation matrix of the free parameters from lmfit's ``correl``, if all have it."""
    if len(free) < 2 or any(not params[n].correl for n in free):
        return None
    matrix = np.eye(len(free))
    for i, a in enumerate(free):
        for j, b in enumerate(free):
            if i != j:
                matrix[i, j] = params[a].correl.get(b, np.nan)
    return matrix


def _json_bounds(bounds: list[float]) -> list[float | None]:
    """Bounds for strict JSON: an infinite bound is written as null."""
    return [float(b) if np.isfinite(b) else None for b in bounds]


def _bounds(result: FitResult, name: str) -> tuple[float, float]:
    """A parameter's bounds: the fit's ``bounds=`` (null = infinite) or the law's default."""
    given = result.options.get("bounds", {}).get(name)
    if given is None:
        return result.law.parameter(name).bounds
    lo, hi = given
    return (-np.inf if lo is None else float(lo), np.inf if hi is None else float(hi))
