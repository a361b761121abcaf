"""target_backtest(): the backtest ``sf.backtest(runs, laws, target={...})`` runs.

Every law is fitted on each rolling-origin split of
:func:`~scaling_fit.analysis.target_holdout.target_splits` and predicts the held-out runs
whose extrapolation is most like the target's; the summary pools those errors over the
splits.  The stability table holds each split's prediction at the target, so a law whose
prediction moves as the origin rolls shows it.

**How the error grows with distance.**  Each law also predicts *every* held-out run of every
kept split, and the growth exponent k of |log error| ∝ d^k is measured on them, d the
held-out run's distance beyond its fit set in decades (Euclidean over the N and
tokens-per-parameter axes): the runs are cut at the median d into a near and a far half, and
k = log(rms_far / rms_near) / log(d̄_far / d̄_near) (d̄ geometric means), clipped to
[``GROWTH_MIN``, ``GROWTH_MAX``]; with fewer than 4 runs or halves closer than 1.12x in
distance k = ``GROWTH_MIN`` (the summary's ``growth_measured`` is k before clipping, NaN when
not measurable; ``distance_growth`` after).  The summary's ``widening`` is
(d_target / d_scored)^k when the target lies further than every scored run (d_scored the
farthest one's distance; ``emulation["target_span"]`` and ``["scored_span"]``), else 1: the
factor by which the backtest's RMS log error is expected to grow out to the target.
``GROWTH_MIN`` = 1 because a fitted exponent's error moves a log prediction in proportion to
the decades extrapolated; the data can only raise it (a law whose error grows faster).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from ..laws import Law
from ..results.backtest_result import BacktestResult
from ..results.json_safe import json_safe
from .backtest_fits import (
    free_parameters,
    get_laws,
    held_out_errors,
    options_per_law,
    run_fits,
    run_table,
    sweep_row,
)
from .target_holdout import (
    EXTRA_RUNS,
    MAX_ORIGINS,
    MIN_SCALES,
    TargetSplit,
    check_origins,
    distances,
    target_inputs,
    target_loss,
    target_splits,
)

# Bounds of the growth exponent k of |log error| with distance (see the module docstring).
GROWTH_MIN, GROWTH_MAX = 1.0, 3.0


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
    laws = get_laws(laws)
    names = [law.name for law in laws]
    if not laws or len(set(names)) != len(names):
        raise DataError(f"laws= needs one or more distinct laws; found {names}")
    options = options_per_law(names, fit_options)
    table, _ = run_table(runs, laws)
    goal = {"run": None, "loss": target_loss(target), **target_inputs(target)}
    min_scales, max_origins = check_origins(min_scales, max_origins)
    min_runs = max(free_parameters(law, options[law.name]) for law in laws) + EXTRA_RUNS
    try:
        splits, emulation = target_splits(
            table, goal, min_scales=min_scales, max_origins=max_origins, min_runs=min_runs
        )
    except DataError as exc:  # say which law asks for how many runs
        needs = ", ".join(
            f"{law.name} {free_parameters(law, options[law.name]) + EXTRA_RUNS}" for law in laws
        )
        raise DataError(f"{exc}; runs each law needs per fit: {needs}") from None
    spans = _spans(table, goal, splits)
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
        summary.append(
            _pooled_summary(law, splits, outcomes, errors[-1])
            | _growth(law, table, splits, outcomes, spans)
        )
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
        emulation={
            **emulation,
            "splits": [s.description for s in splits],
            "target_span": spans[0],
            "scored_span": spans[1],
        },
    )


def _span(fitted: pd.DataFrame, points: pd.DataFrame) -> np.ndarray:
    """Decades beyond the fit on the N and tokens-per-parameter axes, combined (Euclidean)."""
    return np.linalg.norm(distances(fitted, points)[:, :2], axis=1)


def _spans(table: pd.DataFrame, goal: dict, splits: list[TargetSplit]) -> tuple[float, float]:
    """The target's span beyond all runs, and the farthest scored run's span."""
    target = float(_span(table, pd.DataFrame([goal]))[0])
    scored = np.concatenate([_span(table[s.fit], table[s.scored]) for s in splits])
    return target, float(scored.max())


def _growth(
    law: Law, table: pd.DataFrame, splits: list[TargetSplit], outcomes: list, spans: tuple
) -> dict:
    """Growth exponent k of |log error| with distance over every held-out run of the splits,
    and the widening (d_target / d_scored)^k (at least 1)."""
    span, error = [], []
    for split, outcome in zip(splits, outcomes, strict=True):
        held = table.loc[~split.fit]
        rows = held_out_errors(law, outcome[0], held)
        span.append(_span(table[split.fit], held))
        error.append(np.log1p(rows["signed_error"].to_numpy(float)))
    span, error = np.concatenate(span), np.concatenate(error)
    measured, k = measured_growth(span, error), growth_exponent(span, error)
    widening = max((spans[0] / spans[1]) ** k, 1.0) if spans[1] > 0 else 1.0
    return {"growth_measured": measured, "distance_growth": k, "widening": float(widening)}


def growth_exponent(span: np.ndarray, log_error: np.ndarray) -> float:
    """The growth exponent used: :func:`measured_growth` clipped to [GROWTH_MIN, GROWTH_MAX],
    GROWTH_MIN when the runs cannot show it."""
    measured = measured_growth(span, log_error)
    return GROWTH_MIN if np.isnan(measured) else float(np.clip(measured, GROWTH_MIN, GROWTH_MAX))


def measured_growth(span: np.ndarray, log_error: np.ndarray) -> float:
    """k of |log error| ∝ span^k from the near and far halves (cut at the median span); NaN
    with fewer than 4 finite errors or halves less than 10^0.05 apart in span."""
    ok = np.isfinite(log_error) & (span > 0)
    span, log_error = span[ok], log_error[ok]
    far = span > np.median(span) if len(span) else span > 0
    if len(span) < 4 or far.all() or not far.any():
        return np.nan
    ratio = np.exp(np.mean(np.log(span[far])) - np.mean(np.log(span[~far])))
    near_rms, far_rms = (np.sqrt(np.mean(log_error[m] ** 2)) for m in (~far, far))
    if ratio < 10**0.05 or near_rms <= 0 or far_rms <= 0:
        return np.nan
    return float(np.log(far_rms / near_rms) / np.log(ratio))


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
