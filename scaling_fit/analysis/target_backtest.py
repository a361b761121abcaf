"""target_backtest(): the backtest ``sf.backtest(runs, laws, target={...})`` runs.

Every law is fitted on each rolling-origin split of
:func:`~scaling_fit.analysis.target_holdout.target_splits` and predicts the held-out runs
whose extrapolation is most like the target's; the summary pools those errors over the
splits.  The stability table holds each split's prediction at the target, so a law whose
prediction moves as the origin rolls shows it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from ..laws import Law, get_law
from ..results.backtest_result import BacktestResult
from ..results.json_safe import json_safe
from .backtest_fits import held_out_errors, options_per_law, run_fits, run_table, sweep_row
from .target_holdout import MAX_ORIGINS, MIN_SCALES, TargetSplit, target_inputs, target_splits


def target_backtest(
    runs: Any,
    laws: Sequence[str | Law],
    target: Mapping[str, float] | None,
    *,
    fit_options: Mapping[str, Any] | None = None,
    min_scales: int = MIN_SCALES,
    max_origins: int = MAX_ORIGINS,
    n_jobs: int = 1,
    progress: bool | str = False,
) -> BacktestResult:
    """Backtest shaped like the target: see :mod:`scaling_fit.analysis.target_holdout`.

    ``target`` gives two of ``n_params``, ``tokens``, ``compute`` (and ``loss`` to score the
    stability sweep).  The summary adds ``rms_log_error`` (root mean square of
    log(L̂/L) over the scored runs) and ``mean_signed_error``; the errors table adds
    ``origin`` (index of the split) and ``mismatch`` (decades from the target's distance).
    ``progress`` shows a bar of the fits (:mod:`scaling_fit.progress`).
    """
    if not isinstance(target, Mapping):
        raise DataError(
            f"holdout='target' needs target= as inputs such as "
            f"{{'n_params': 7e9, 'tokens': 2e12}}; found {target!r}"
        )
    laws = [get_law(law) for law in laws]
    names = [law.name for law in laws]
    if not laws or len(set(names)) != len(names):
        raise DataError(f"laws= needs one or more distinct laws; found {names}")
    options = options_per_law(names, fit_options)
    table, _ = run_table(runs, laws)
    goal = {"run": None, "loss": target.get("loss"), **target_inputs(target)}
    splits, emulation = target_splits(table, goal, min_scales=min_scales, max_origins=max_origins)
    tasks = [(law, table.loc[s.fit], options[law.name]) for law in laws for s in splits]
    done = iter(run_fits(tasks, n_jobs, progress))
    errors, summary, stability, fits, notes = [], [], [], {}, {}
    for law in laws:
        outcomes = [next(done) for _ in splits]
        fits[law.name] = outcomes[0][0]
        notes[law.name] = tuple(dict.fromkeys(m for o in outcomes for m in o[2]))
        rows = [
            held_out_errors(law, o[0], table.loc[s.scored]).assign(
                origin=k, mismatch=s.mismatch[s.scored]
            )
            for k, (s, o) in enumerate(zip(splits, outcomes, strict=True))
        ]
        errors.append(pd.concat(rows, ignore_index=True))
        summary.append(_pooled_summary(law, splits, outcomes, errors[-1]))
        stability += [
            sweep_row(law, k, table.loc[s.fit, "n_params"].max(), int(s.fit.sum()), o, goal)
            for k, (s, o) in enumerate(zip(splits, outcomes, strict=True))
        ]
    return BacktestResult(
        errors=pd.concat(errors, ignore_index=True),
        summary=pd.DataFrame(summary),
        stability=pd.DataFrame(stability),
        fits=fits,
        holdout="shaped like the target: " + "; ".join(s.description for s in splits),
        axis="n_params",
        target=json_safe(goal),
        warnings=notes,
        emulation={**emulation, "splits": [s.description for s in splits]},
    )


def _pooled_summary(
    law: Law, splits: list[TargetSplit], outcomes: list[tuple], errors: pd.DataFrame
) -> dict:
    relative = errors["relative_error"].to_numpy(float)
    log_error = np.log1p(errors["signed_error"].to_numpy(float))
    finite = np.isfinite(relative)
    failed = [o[1] for o in outcomes if o[1]]
    return {
        "law": law.name,
        "mean_relative_error": float(np.mean(relative)) if finite.all() else np.nan,
        "worst_relative_error": float(np.max(relative)) if finite.all() else np.nan,
        "worst_run": errors["run"].iloc[int(np.argmax(np.where(finite, relative, -1)))]
        if finite.any()
        else "",
        "n_fit": int(splits[0].fit.sum()),
        "n_held_out": len(errors),
        "objective": np.nan if outcomes[0][0] is None else outcomes[0][0].objective,
        "n_warnings": len(outcomes[0][2]),
        "error": failed[0] if failed else "",
        "rms_log_error": float(np.sqrt(np.mean(log_error**2))) if finite.all() else np.nan,
        "mean_signed_error": float(np.mean(errors["signed_error"])) if finite.all() else np.nan,
    }
