"""Refits of a fitted law to its own points with other observed values, from its optimum.

A forecast's noise resamples (:mod:`scaling_fit.analysis.forecast`) perturb the losses of the
points a fit was made on by about the noise of the log.  The optimum of the unperturbed data
lies in the basin of each perturbed optimum, so the global search of
:func:`scaling_fit.fit` (a grid of starts scored, several refines, the length check) buys
nothing there and cost ~15 times one local refine each (issue 18: a forecast with its 30
resamples took 24-28 times one fit).  :func:`local_refits` prepares the points once and
refines every resample from the optimum: all at once by the batched Gauss-Newton of
:mod:`scaling_fit.fitting.batched` where the law's gradient allows it (the resamples differ
only in their observed values, i.e. by a shift of each residual), and by the trust-region
solver for the others and for any the batch does not settle.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..results.fit_result import FitResult
from .batched import batchable, refit_weighted
from .data import FitData, prepare_points
from .multistart import refine
from .objective import Problem
from .space import ParameterSpace


def local_refits(
    result: FitResult, schedules: Mapping[str, Any], observed: Iterable[np.ndarray]
) -> list[dict[str, float] | None]:
    """The parameters of one local refine from ``result``'s optimum, per array of losses.

    Parameters
    ----------
    result
        A fit; its points (``result.data``, one row per fitted point) are kept, only their
        losses change.
    schedules
        The fitted runs' schedules (curve laws), as given to :func:`scaling_fit.fit`.
    observed
        Arrays of losses, each one per row of ``result.data``.

    Returns
    -------
    list
        Natural-unit parameters of each refine, or None where it did not converge.
    """
    law = result.law
    data = prepare_points(law, result.data, schedules=schedules, points="unbinned")
    if len(data.table) != len(result.data):
        raise ValueError(
            f"local_refits: the fit's {len(result.data)} points prepare to {len(data.table)}; "
            "expected the same points"
        )
    problem, start = _problem_from(result, data)
    arrays = [np.asarray(values, dtype=float) for values in observed]
    thetas = np.full((len(arrays), len(start)), np.nan)
    settled = np.zeros(len(arrays), dtype=bool)
    if arrays and batchable(problem):
        offsets = np.array([_offset(problem, values) for values in arrays])
        weights = np.ones_like(offsets)
        thetas, _objective, settled, _iterations = refit_weighted(problem, weights, start, offsets)
    refits: list[dict[str, float] | None] = []
    for k, values in enumerate(arrays):
        theta = thetas[k]
        if not settled[k]:
            solution = refine(dataclasses.replace(problem, observed=values), start)
            theta = solution.theta if solution.converged else None
        if theta is None:
            refits.append(None)
            continue
        natural = problem.space.natural(theta)
        refits.append({name: float(natural[name]) for name in law.param_names})
    return refits


def refit_from_optimum(
    result: FitResult, table: pd.DataFrame, schedules: Mapping[str, Any]
) -> FitResult | None:
    """One local refine of ``result``'s law to other points, from ``result``'s optimum.

    For a refit of a subset of the fitted points that holds nothing out (the length check's
    refit without the early points, :mod:`scaling_fit.fitting.length_check`): the optimum
    of all the points lies in the basin of the subset's, so one trust-region refine from it
    replaces a global search (5 refines on a dense multi-power log), and the two fits stay in
    one basin, so their parameters compare.  Not for a refit that must predict the other
    points: the optimum already knows them (the length check's backtest is searched).
    Returns None where the refine does not converge (the caller then searches).

    The result holds the refit's parameters, objective, points and residuals; its other
    fields (options, warnings) are ``result``'s.
    """
    data = prepare_points(result.law, table, schedules=schedules, points="all")
    problem, start = _problem_from(result, data)
    solution = refine(problem, start)
    natural = problem.space.natural(solution.theta)
    params = {name: float(natural[name]) for name in result.law.param_names}
    if not solution.converged or not all(np.isfinite(v) for v in params.values()):
        return None
    return dataclasses.replace(
        result,
        params=params,
        objective=solution.objective,
        n_points=problem.n_points,
        residuals=solution.residuals,
        data=data.table.reset_index(drop=True),
        samples=None,
        correlation=None,
    )


def _problem_from(result: FitResult, data: FitData) -> tuple[Problem, np.ndarray]:
    """The problem of ``result``'s law, space and objective on ``data``, and its optimum as a
    fit-space start."""
    bounds = {k: tuple(v) for k, v in (result.options.get("bounds") or {}).items()}
    space = ParameterSpace(result.law, dict(result.fixed), dict(result.tie), bounds)
    start = space.start_from({k: v for k, v in result.params.items() if k in space.free})
    loss, delta = str(result.options.get("loss", "huber")), float(result.options["delta"])
    observed = data.table[result.law.output].to_numpy(float)
    return Problem(space, data.inputs, observed, loss, delta), start


def _offset(problem: Problem, values: np.ndarray) -> np.ndarray:
    """Residual shift that turns ``problem``'s observed losses into ``values``."""
    with np.errstate(all="ignore"):
        if problem.loss == "mse_linear":
            return problem.observed - values
        return problem.log_observed - np.log(values)
