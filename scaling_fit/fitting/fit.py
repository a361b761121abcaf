"""fit(): robust multi-start least squares of a scaling law, with bootstrap uncertainty."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._version import __version__
from ..arguments import checked
from ..errors import DataError, ScalingFitWarning, argument
from ..inputs.points import highest_loss_mask
from ..inputs.validate import check_bootstrap, check_runs_frame, unit_warnings
from ..laws import Law, get_law
from ..results.fit_result import FitResult
from .bootstrap import bootstrap_thetas, too_few_runs
from .data import FitData, prepare_points
from .identifiability import (
    UNIDENTIFIED_RATIO,
    correlation_of,
    degeneracy_messages,
    flat_columns,
    weakest_direction,
)
from .local_refit import refit_from_optimum
from .multistart import Solution, distinct_optima, multistart, n_at_best, unidentified
from .objective import LOSSES, Problem
from .space import ParameterSpace

# highest_loss_mask lives with the other point selection (inputs.points); re-exported for
# the CLI, which imports it from here.
__all__ = ["fit", "highest_loss_mask"]

# Share of failed bootstrap refits above which the intervals are flagged.
MAX_FAILED_SHARE = 0.01
# A scale parameter (fitted as its log) below this or above its inverse has run to the edge of
# the float range: the data did not determine it (losses of 1e-300 or 1e308, wrong units).
FLOAT_EDGE = 1e-300


@checked
def fit(
    runs: Any,
    law: str | Law = "chinchilla",
    *,
    loss: str = "huber",
    delta: float = 1e-3,
    fixed: Mapping[str, float] | None = None,
    tie: Mapping[str, str] | None = None,
    init: Mapping[str, float] | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    exclude: Any = None,
    points: str | None = None,
    schedules: Any = None,
    warmup: int | Mapping[str, int] | None = None,
    bootstrap: int = 0,
    seed: int = 0,
    n_jobs: int = 1,
    n_refine: int = 10,
    progress: bool | str = "auto",
    length_check: bool = True,
) -> FitResult:
    """Fit a scaling law to runs by robust multi-start least squares.

    The objective is Σ Huber_δ(log L̂ − log L) over the points (Hoffmann et al. 2022,
    App. D.2). Every start of the law's grid is scored in one vectorised pass and the
    ``n_refine`` best are refined by a trust-region solver; the best optimum is kept and the
    result records how many starts reached it.

    Parameters
    ----------
    runs
        A tidy DataFrame or anything :func:`scaling_fit.load_runs` accepts (path, glob, list).
    law
        Registered law name or a :class:`Law`.
    loss
        ``"huber"`` (default), ``"mse"`` (squares of log residuals) or ``"mse_linear"``
        (squares of L̂ − L, plain least squares as in Gadre et al. 2024).
    delta
        Huber threshold on log residuals; 1e-3 is Hoffmann et al.'s.
    fixed
        Parameters held at a value, e.g. ``{"E": 1.7}``.
    tie
        Parameters set equal to another, e.g. ``{"beta": "alpha"}``.
    init
        Extra start (natural units), refined in addition to the grid's best starts.
    bounds
        Natural-unit bounds overriding the law's defaults, e.g. ``{"alpha": (0, 1)}``.
    exclude
        Points to leave out: a boolean mask over the rows of ``runs`` (True = leave out) or a
        filter string selecting the rows to leave out (the language of ``load_runs(where=…)``:
        columns, numbers, strings, comparisons, and/or/not, ``in [...]``, arithmetic).
    points
        ``"final"`` (default): the last logged step of each run, because mid-schedule losses
        of a decaying LR are not the losses of shorter runs; ``"all"``: every logged point.
        Loss-curve laws (``multipower``, ``lr_annealing``) fit every logged point and by
        default leave out warm-up points (``"after_warmup"``: step <= warmup of the run);
        ``"all"`` keeps them. See :mod:`scaling_fit.fitting.curve_points`.
    schedules
        Loss-curve laws only: each run's LR schedule, as a mapping run → Schedule / spec
        string / per-step LR array, or one Schedule / spec for every run. Without it, the
        table's ``lr`` column: used as is where logged at every step, else interpolated
        between logged steps with a warning (:mod:`scaling_fit.inputs.lr_column`).
    warmup
        Loss-curve laws, LR from the ``lr`` column: the runs' warm-up length in steps, one
        for all runs or a mapping run → steps. By default it is detected from a rising
        logged LR; it must be declared for a log that starts flat after step 0
        (:mod:`scaling_fit.inputs.lr_column`).
    bootstrap
        Number of bootstrap resamples of runs (0: none).
    seed
        Seed of the bootstrap resampling.
    n_jobs
        Parallel workers for the bootstrap (joblib; -1 = all cores).
    n_refine
        Number of best grid starts refined by the trust-region solver.
    progress
        ``"auto"`` (default): a progress bar of the refined starts and of the bootstrap on a
        terminal, for work lasting more than 2 s; ``True``: always; ``False``: never (see
        :mod:`scaling_fit.progress`).
    length_check
        Loss-curve laws: measure how the law extrapolates in length within these runs (two
        extra fits: the shorter runs predict the longest, and a refit from the optimum
        without the first 20 % of steps), kept in ``options["length_check"]``;
        :meth:`FitResult.predict_curve` turns it into an interval and a warning beyond the
        longest run (:mod:`scaling_fit.fitting.length_check`).  False skips it.

    Returns
    -------
    FitResult
    """
    law = get_law(law)
    check_bootstrap(bootstrap)  # 0 or at least 10 resamples (the rest: @checked)
    if isinstance(runs, pd.DataFrame):  # a tidy frame skips load_runs, not its checks
        check_runs_frame(runs, (*law.inputs, law.output))
    if loss not in LOSSES:
        raise DataError(
            f"{argument('loss', loss)} is not supported: expected one of {', '.join(LOSSES)}"
        )
    data = prepare_points(
        law,
        runs,
        schedules=schedules,
        warmup=warmup,
        points=points,
        exclude=exclude,
        bootstrap=bootstrap,
    )
    space = ParameterSpace(law, dict(fixed or {}), dict(tie or {}), dict(bounds or {}))
    left_out = int(data.options.get("warmup_points_dropped", 0))
    thin_data = _check_identifiable_data(data.table, law, space, left_out) + data.notes
    thin_data += unit_warnings(data.table)  # n_params of 1.3 meant as 1.3B
    observed = data.table[law.output].to_numpy(float)  # "loss", or "lr"/"batch_size"
    problem = Problem(space, data.inputs, observed, loss, float(delta))
    grid = space.start_grid()
    extra = _extra_starts(problem, init)
    solutions = multistart(problem, grid, max(1, n_refine), extra, progress)
    best = solutions[0]
    thetas = None
    skipped = too_few_runs(data.table["run"].to_numpy(), bootstrap)
    if skipped:  # one or two runs: no bootstrap rather than intervals of zero width
        thin_data.append(skipped)
        bootstrap = 0
    if bootstrap:
        runs_of_points = data.table["run"].to_numpy()
        starts = distinct_optima(solutions)
        thetas = bootstrap_thetas(
            problem, runs_of_points, starts, bootstrap, seed, n_jobs, progress
        )
    degenerate = _degenerate(problem, best)
    correlation = correlation_of(best.jacobian, thetas)  # for the warnings and the result
    messages = thin_data + degenerate + _diagnose(space, solutions, thetas, correlation)
    for message in messages:
        warnings.warn(message, ScalingFitWarning, stacklevel=2)
    chosen = {"loss": loss, "delta": delta, "bounds": bounds, "init": init}
    options = _options(data, chosen, len(grid) + len(extra), solutions, bootstrap, seed)
    result = FitResult(
        law=law,
        params=_natural_dict(space, best.theta),
        free=space.free,
        fixed=dict(space.fixed),
        tie=dict(space.tie),
        objective=best.objective,
        converged=best.converged and not degenerate,
        n_points=problem.n_points,
        residuals=best.residuals,
        warnings=tuple(messages),
        options=options,
        data=data.table.reset_index(drop=True),
        samples=None if thetas is None else _natural_samples(space, thetas),
        correlation=correlation,
        version=__version__,
    )
    if law.fits_curves and length_check and result.converged:
        settings = {"loss": loss, "delta": delta, "fixed": fixed, "tie": tie, "bounds": bounds}
        result = _with_length_check(result, {**settings, "n_refine": n_refine})
    return result


def _with_length_check(result: FitResult, settings: dict[str, Any]) -> FitResult:
    """``result`` with ``options["length_check"]``: its backtest and drift refits, made with
    the same settings (:mod:`scaling_fit.fitting.length_check`, imported here: only curve
    laws need it).  A refit ``from_optimum`` is one local refine from ``result``'s optimum
    (:func:`~scaling_fit.fitting.local_refit.refit_from_optimum`), and the global search
    where that refine does not converge; the others are searched."""
    from .length_check import length_check as measure_length

    def refit(table: pd.DataFrame, schedules: dict[str, Any], from_optimum: bool) -> FitResult:
        local = refit_from_optimum(result, table, schedules) if from_optimum else None
        if local is not None:
            return local
        return fit(
            table,
            result.law,
            **settings,
            points="all",  # the table holds the fitted points, warm-up already left out
            schedules=schedules,
            init=result.params,
            progress=False,
            length_check=False,
        )

    measured = measure_length(result, refit)
    return dataclasses.replace(result, options={**result.options, "length_check": measured})


def _options(
    data: FitData,
    chosen: Mapping[str, Any],
    n_starts: int,
    solutions: list[Solution],
    bootstrap: int,
    seed: int,
) -> dict[str, Any]:
    """``FitResult.options``: every choice and count that produced the fit, in a fixed order."""
    return {
        "loss": chosen["loss"],
        "delta": float(chosen["delta"]),
        "points": data.points,
        "points_note": data.note,
        "excluded": data.table.attrs["excluded"],
        "bounds": {k: list(v) for k, v in (chosen["bounds"] or {}).items()},
        "init": dict(chosen["init"] or {}),
        "n_starts": n_starts,
        "n_refined": len(solutions),
        "n_at_best": n_at_best(solutions),
        "bootstrap": int(bootstrap),
        "seed": int(seed),
        **data.options,
    }


def _extra_starts(problem: Problem, init: Mapping[str, float] | None) -> list[np.ndarray]:
    """The user's ``init`` and the law's data-driven starts, in fit space."""
    space, starts = problem.space, []
    if init:
        starts.append(space.start_from(init))
    if problem.law.initial_guess is not None:
        guesses = problem.law.initial_guess(problem.inputs, problem.observed)
        starts += [space.start_from(g, label="initial_guess") for g in guesses]
    return [s for s in starts if np.all(np.isfinite(s))]


def _degenerate(problem: Problem, best: Solution) -> list[str]:
    """Why the best solution is unusable: a parameter or objective that is not finite, a
    scale parameter at the edge of the float range (0 or > 1e300), or a prediction at a
    fitted point that is not a finite loss > 0 (e.g. losses of 1e-300 or 1e308)."""
    space = problem.space
    params = _natural_dict(space, best.theta)
    bad = {n: v for n, v in params.items() if not np.isfinite(v)}
    bad |= {
        n: v
        for n in space.free
        if space.law.parameter(n).log and not FLOAT_EDGE < abs(v := params[n]) < 1 / FLOAT_EDGE
    }
    with np.errstate(all="ignore"):
        predicted = np.asarray(problem.law.predict(*problem.inputs, **params), dtype=float)
    usable = np.all(np.isfinite(predicted) & (predicted > 0)) and np.isfinite(best.objective)
    if not bad and usable:
        return []
    what = (
        f"parameters {bad} are at the edge of the float range"
        if bad
        else ("its predictions at the fitted points are not finite losses > 0")
    )
    return [
        f"the fit is degenerate ({what}), so it is not converged; check the losses (values "
        "near 0 or overflowing the float range) and the units of the inputs"
    ]


def _check_identifiable_data(
    table: pd.DataFrame, law: Law, space: ParameterSpace, warmup_left_out: int = 0
) -> list[str]:
    """Raise for data that cannot determine the law; return warnings for thin data.

    ``warmup_left_out`` warm-up points of a curve fit were dropped before: the messages say
    so, since the user counts the rows they logged.
    """
    messages = []
    after = (
        f" ({warmup_left_out} warm-up point(s) left out, step <= warmup; "
        f"{argument('points', 'all')} keeps them)"
        if warmup_left_out
        else ""
    )
    needed = _distinct_values_needed(law, space)
    for column in law.inputs:
        values = table[column].to_numpy(float)
        distinct = len(np.unique(values))
        if distinct < 2:
            found = f"one value ({values[0]:.6g})" if len(values) else "no values"
            raise DataError(
                f"column {column!r} has {found} in all {len(values)} fitted points{after}; law "
                f"{law.name!r} needs at least 2 distinct values to fit how the loss depends on "
                "it. Add runs that vary it, or fix the parameters that depend on it "
                f"({argument('fixed')})"
            )
        if distinct < needed:
            messages.append(
                f"only {distinct} distinct {column} values for {len(space.free)} free "
                f"parameters of {law.name!r} (want at least {needed}): its dependence on "
                f"{column} is barely constrained; add runs at other {column} values"
            )
    if len(table) < len(space.free):
        raise DataError(
            f"{len(table)} points{after} cannot determine {len(space.free)} free parameters "
            f"{list(space.free)}; add runs or fix parameters ({argument('fixed')})"
        )
    return messages


def _distinct_values_needed(law: Law, space: ParameterSpace) -> int:
    """Distinct values per input a law needs: its free parameters shared over its inputs, +1."""
    return int(np.ceil(len(space.free) / max(len(law.inputs), 1))) + 1


def _natural_dict(space: ParameterSpace, theta: np.ndarray) -> dict[str, float]:
    values = space.natural(theta)
    return {n: float(values[n]) for n in space.law.param_names}


def _natural_samples(space: ParameterSpace, thetas: np.ndarray) -> np.ndarray:
    values = space.natural(thetas)
    return np.column_stack(
        [np.broadcast_to(np.ravel(values[n]), len(thetas)) for n in space.law.param_names]
    )


def _diagnose(
    space: ParameterSpace,
    solutions: list[Solution],
    thetas: np.ndarray | None,
    correlation: np.ndarray | None,
) -> list[str]:
    best = solutions[0]
    messages = []
    stopped = unidentified(solutions)  # every start stalled where the data determine nothing
    if best.stalled:
        message = (
            f"optimizer did not converge: the best start used its {best.n_evaluations} "
            "evaluations still creeping down a valley of the objective, towards a limit of the "
            "parameters rather than a finite optimum (below every converged start's objective); "
            "the parameters that run away are not determined by these data"
        )
        if stopped:
            message += (
                f". {sum(s.stalled for s in solutions)} refined starts stalled in such valleys, "
                "flat in some direction, and none converged, so the search stopped there (more "
                "starts would only creep further): "
                "the law is not identified by these data; fix or tie parameters (fixed=, tie=) "
                "or add runs at more sizes"
            )
        messages.append(message)
    elif not best.converged:
        messages.append(f"optimizer did not converge: {best.message}")
    for name in space.at_bound(best.theta):
        value = _natural_dict(space, best.theta)[name]
        messages.append(
            f"parameter {name} = {value:.6g} is at its bound: the optimum may lie beyond it; "
            "check the data or widen bounds="
        )
    messages += _identification(space, best)
    params = _natural_dict(space, best.theta)
    messages += degeneracy_messages(space.law, params, list(space.free), correlation)
    at_best = n_at_best(solutions)
    if at_best == 1 and len(solutions) > 1 and not stopped:
        messages.append(
            f"only 1 of {len(solutions)} refined starts reached the best objective: the optimum "
            "may depend on the start; try n_refine= larger or init="
        )
    if thetas is not None:
        failed = int(np.sum(~np.all(np.isfinite(thetas), axis=1)))
        if failed > MAX_FAILED_SHARE * len(thetas):
            messages.append(
                f"{failed} of {len(thetas)} bootstrap refits failed to converge and were "
                "left out of the intervals"
            )
    return messages


def _identification(space: ParameterSpace, best: Solution) -> list[str]:
    flat = [n for n, f in zip(space.free, flat_columns(best.jacobian), strict=True) if f]
    if flat:
        return [f"parameters {flat} do not affect the fitted points: they are not identified"]
    curvature, direction = weakest_direction(best.jacobian)
    if curvature >= UNIDENTIFIED_RATIO:
        return []
    names = [n for n, w in zip(space.free, np.abs(direction), strict=True) if w > 0.3]
    return [
        f"parameters {names} are not identified by the data (a near-flat direction of the "
        f"objective, relative curvature {curvature:.1e}); fix one of them "
        "or add runs that separate them"
    ]
