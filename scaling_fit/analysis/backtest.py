"""backtest(): how well each law predicts the runs it was not fitted on.

A law is chosen by how well it extrapolates, not by how well it fits (laws.md §9.5): fit every
law on the smaller runs, predict the held-out larger ones and report the relative error
|L̂ − L|/L per held-out run, its mean and its worst (Gadre et al. 2024 report 0.71 % and 0.73 %
on their 1.4B and 6.9B runs).  The **stability sweep** refits while dropping the largest
fitted scale, then the next, … (Farseer's ``gen_model_var_N``, Li et al. 2025) and records
how the prediction at one target run moves: a law whose extrapolation drifts as the window
grows is not trustworthy.  Each run contributes its final point (docs/laws.md §9.4).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..arguments import checked
from ..errors import DataError, argument
from ..laws import Law
from ..results.backtest_result import BacktestResult
from ..results.json_safe import json_safe
from .backtest_fits import (
    get_laws,
    held_out_errors,
    options_per_law,
    run_fits,
    run_table,
    sweep_row,
)
from .holdout import axis_values, choose_holdout, scale_ids

# Default cap on scales dropped by the stability sweep: each step refits every law.
MAX_DROPPED = 4
# fit() arguments that backtest() decides itself.


@checked
def backtest(
    runs: Any,
    laws: Sequence[str | Law] = ("chinchilla",),
    holdout: Any = None,
    *,
    fit_options: Mapping[str, Any] | None = None,
    target: str | Mapping[str, float] | None = None,
    axis: str | None = None,
    max_dropped: int = MAX_DROPPED,
    n_jobs: int = 1,
    progress: bool | str = "auto",
) -> BacktestResult:
    """Fit each law on the smaller runs, predict the held-out ones, sweep the fit window.

    Parameters
    ----------
    runs
        Tidy runs table or anything :func:`scaling_fit.load_runs` accepts; each run's final
        point is used. ``compute`` defaults to 6·N·D.
    laws
        Law names or :class:`Law` objects (distinct names); one name alone is one law.
    holdout
        Default: ``"target"`` when ``target`` gives inputs, else ``"largest-compute"``.
        ``"target"`` holds out runs so that the fit-to-holdout extrapolation matches the
        target's (rolling origins, :mod:`scaling_fit.analysis.target_holdout`). Or
        ``"largest-compute"``, ``"largest-n"``, ``"largest-d"`` (the runs at the largest
        distinct value), a threshold ``"n>=1e9"`` / ``"d>2e10"`` / ``"compute>=1e21"``, a
        fraction ``0.2`` or ``"0.2"`` (the top 20 % of runs by compute, rounded up, ties
        held out too) or a boolean mask over the rows of ``runs`` (a run is held out when its
        final row is).
    fit_options
        Keyword arguments of :func:`scaling_fit.fit` shared by every law
        (``{"loss": "mse"}``), per law (``{"overtraining": {"loss": "mse_linear"}}``), or
        both (per-law entries override shared ones).
    target
        Where the sweep predicts: a held-out run's name or inputs such as
        ``{"n_params": 7e9, "tokens": 1.4e11}`` (add ``"loss"`` to get errors). Default: the
        held-out run largest along ``axis`` (ties: largest compute).
    axis
        ``"n_params"``, ``"tokens"`` or ``"compute"``: the scales the sweep drops. Default:
        the holdout's axis (compute for fractions and masks).
    max_dropped
        Most scales the sweep drops; it always keeps at least 2 scales.
    n_jobs
        Parallel worker processes for the fits (joblib; -1 = all cores). The result does not
        depend on it.
    progress
        ``"auto"`` (default): a progress bar of the fits on a terminal, for backtests lasting
        more than 2 s; ``True``: always; ``False``: never (:mod:`scaling_fit.progress`).

    Returns
    -------
    BacktestResult
    """
    if (isinstance(holdout, str) and holdout == "target") or (
        holdout is None and isinstance(target, Mapping)
    ):
        from .target_backtest import target_backtest  # shaped like the question

        return target_backtest(
            runs, laws, target, fit_options=fit_options, n_jobs=n_jobs, progress=progress
        )
    holdout = "largest-compute" if holdout is None else holdout
    laws = get_laws(laws)
    names = [law.name for law in laws]
    if not laws or len(set(names)) != len(names):
        raise DataError(
            f"{argument('laws')} needs one or more distinct laws; found {names}: give each once"
        )
    options = options_per_law(names, fit_options)
    table, rows = run_table(runs, laws)
    split = choose_holdout(table, holdout, axis, rows=rows)
    train, held = table.loc[~split.held_out], table.loc[split.held_out]
    goal = _target(held, target, split.axis, laws)
    windows = _sweep_windows(train, split.axis, max_dropped)
    tasks = [(law, w, options[law.name]) for law in laws for w in windows]
    done = iter(run_fits(tasks, n_jobs, progress))
    errors, summary, stability, fits, notes = [], [], [], {}, {}
    for law in laws:
        outcomes = [next(done) for _ in windows]  # the main fit, then one per sweep step
        fits[law.name] = outcomes[0][0]
        notes[law.name] = tuple(dict.fromkeys(m for o in outcomes for m in o[2]))
        errors.append(held_out_errors(law, fits[law.name], held))
        summary.append(_summary(law, outcomes[0], len(train), errors[-1]))
        stability += [
            sweep_row(law, k, w[split.axis].max(), len(w), o, goal)
            for k, (w, o) in enumerate(zip(windows, outcomes, strict=True))
        ]
    return BacktestResult(
        errors=pd.concat(errors, ignore_index=True),
        summary=pd.DataFrame(summary),
        stability=pd.DataFrame(stability),
        fits=fits,
        holdout=split.description,
        axis=split.axis,
        target=goal,
        warnings=notes,
    )


def _sweep_windows(train: pd.DataFrame, axis: str, max_dropped: int) -> list[pd.DataFrame]:
    """Training sets after dropping the 0, 1, … largest scales along ``axis``."""
    scales = scale_ids(axis_values(train, axis))
    last = min(int(max_dropped), int(scales.max()) - 1)
    return [train.loc[scales <= scales.max() - k] for k in range(max(last, 0) + 1)]


def _summary(law: Law, outcome: tuple, n_fit: int, errors: pd.DataFrame) -> dict:
    result, error, notes = outcome
    relative = errors["relative_error"].to_numpy(float)
    finite = np.isfinite(relative)
    worst = errors["run"].iloc[int(np.argmax(np.where(finite, relative, -1)))]
    return {
        "law": law.name,
        "mean_relative_error": float(np.mean(relative)) if finite.all() else np.nan,
        "worst_relative_error": float(np.max(relative)) if finite.all() else np.nan,
        "worst_run": worst if finite.any() else "",
        "n_fit": n_fit,
        "n_held_out": len(errors),
        "objective": np.nan if result is None else result.objective,
        "n_warnings": len(notes),
        "error": error,
    }


def _target(held: pd.DataFrame, target: Any, axis: str, laws: list[Law]) -> dict[str, Any]:
    """Where the sweep predicts: a held-out run (default: largest along ``axis``) or inputs."""
    if target is None:
        target = held.sort_values([axis, "compute"])["run"].iloc[-1]
    if isinstance(target, str):
        if target not in set(held["run"]):
            raise DataError(f"target={target!r} is not a held-out run: {list(held['run'])}")
        row = held.loc[held["run"] == target].iloc[0]
        inputs = [c for law in laws for c in law.inputs]  # e.g. unique_tokens of a user's law
        columns = [
            c for c in dict.fromkeys(["n_params", "tokens", *inputs, "compute", "loss"]) if c in row
        ]
        return json_safe({"run": target, **row[columns].to_dict()})
    if isinstance(target, Mapping):
        missing = sorted({c for law in laws for c in law.inputs} - set(target))
        if missing:
            raise DataError(f"target={dict(target)} lacks inputs {missing} of the laws")
        return {"run": None, "loss": None, **json_safe(dict(target))}
    raise DataError(f"target={target!r}: expected a held-out run's name or a dict of inputs")
