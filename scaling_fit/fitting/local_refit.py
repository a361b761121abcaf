"""Refits of a fitted law to its own points with other observed values, from its optimum.

A forecast's noise resamples (:mod:`scaling_fit.analysis.forecast`) perturb the losses of the
points a fit was made on by about the noise of the log.  The optimum of the unperturbed data
lies in the basin of each perturbed optimum, so the global search of
:func:`scaling_fit.fit` (a grid of starts scored, several refines, the length check) buys
nothing there and cost ~15 times one local refine each (issue 18: a forecast with its 30
resamples took 24-28 times one fit).  :func:`local_refits` prepares the points once and
refines each resample from the optimum with the same trust-region solver.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ..results.fit_result import FitResult
from .data import prepare_points
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
    bounds = {k: tuple(v) for k, v in (result.options.get("bounds") or {}).items()}
    space = ParameterSpace(law, dict(result.fixed), dict(result.tie), bounds)
    start = space.start_from({k: v for k, v in result.params.items() if k in space.free})
    loss, delta = str(result.options.get("loss", "huber")), float(result.options["delta"])
    refits: list[dict[str, float] | None] = []
    for values in observed:
        problem = Problem(space, data.inputs, np.asarray(values, dtype=float), loss, delta)
        solution = refine(problem, start)
        natural = space.natural(solution.theta)
        params = {name: float(natural[name]) for name in law.param_names}
        refits.append(params if solution.converged else None)
    return refits
