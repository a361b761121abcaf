"""Backtests shaped like the question: hold out runs as far beyond the fit as the target is.

A default backtest holds out the largest runs of the fitted range, which are often 1.5–2×
beyond the rest, while the question (a 7B model on 2T tokens, fitted on runs up to 400M) is
10× or more beyond, and often far more over-trained.  Here the distance of the target from the
runs is measured on three axes, in decades (log10):

- ``n_params``: log10(N_t / largest fitted N) (0 when the target lies inside the range);
- ``tokens_per_param``: how far the target's M = D/N lies outside the fitted range of M
  (positive above, negative below, 0 inside);
- ``compute``: log10(C_t / largest fitted C), C = 6·N·D.

**Rolling origins.**  Each candidate split fits on the runs up to one N scale (and, when the
target is more over-trained than every run, up to one M scale) and holds out the rest: the
origin rolls over the scales.  Every held-out run gets the same three distances measured from
its own fit set, and its *mismatch* is the Euclidean distance (in decades) between its
distances and the target's.  The ``max_origins`` candidates whose closest held-out run matches
the target best are kept, and in each the held-out runs within ``TOLERANCE`` decades of its best
match are scored.  When no split can reach the target's distance on some axis (too few scales)
the result says so: the errors then measure a shorter extrapolation than the user's.

**Fit-set size before distance.**  A split is used only when it fits at least ``min_runs``
runs (:func:`~scaling_fit.analysis.target_backtest.target_backtest` asks for the laws' most
free parameters + ``EXTRA_RUNS``): the origins that reach furthest fit the fewest runs, and a
law fitted on as many runs as it has parameters interpolates them and scores NaN or noise.
Distance is given up first; the ``note`` says when a split reaching further was refused, and
how far the farthest usable one reaches on the N and tokens-per-parameter axes.  Tokens per
parameter are grouped into scales within ``M_SCALE_RTOL`` (logged token counts are rounded).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..errors import DataError, argument
from ..inputs.validate import check_whole
from .holdout import scale_ids

AXES = ("n_params", "tokens_per_param", "compute")
# Fewest N scales a rolling origin fits on: two scales pin no curvature at all.
MIN_SCALES = 3
# Held-out runs within this many decades of a split's best match are scored with it.
TOLERANCE = 0.3
# Candidate splits kept (each costs one fit per law).
MAX_ORIGINS = 3
# The emulated distance on an axis is "short" when the target lies more than this many
# decades further (2x).
SHORT = float(np.log10(2.0))
# Tokens per parameter less than 25 % apart are one M scale: logged token counts are rounded
# (a 5x multiplier of a 54M model recorded as 3e8 tokens is M = 5.5), while the multipliers of
# a ladder differ by 1.5x or more.
M_SCALE_RTOL = 0.25
# A split must fit this many runs more than the law's free parameters.  With p runs a p-parameter
# law interpolates them (no residual left to average the noise), with p + 1 one residual; from
# p + 2 on the fit averages over the noise of at least two runs.  On 4-size ladders p + 1
# raised the mean error 20x out from 1.7 to 3.0 % (worst 13 % against 4 %) and widened the
# intervals; p + 3 changed nothing (benchmarks/choose_law_ladders.py --extra-runs;
# docs/validation.md, "Fewest runs per rolling origin").
EXTRA_RUNS = 2


class TargetSplit(NamedTuple):
    """One rolling-origin split: which runs are fitted, which are scored, and how alike."""

    fit: np.ndarray  # boolean over the runs: fitted
    scored: np.ndarray  # boolean over the runs: held out and like the target
    mismatch: np.ndarray  # per run: decades between its distance and the target's (NaN = fitted)
    description: str


TARGET_KEYS = ("n_params", "tokens", "compute")


def target_inputs(target: Mapping[str, Any]) -> dict[str, float]:
    """The target's N, D and C from any two of ``n_params``, ``tokens``, ``compute`` (C = 6ND).

    All three may be given when they agree (C within 1 % of 6ND); ``loss`` (the target's
    known loss, for scoring) is allowed and ignored here.
    """
    shown = argument("target", dict(target))
    unknown = sorted(set(target) - {*TARGET_KEYS, "loss"})
    if unknown:
        raise DataError(
            f"{shown}: unknown key(s) {unknown}; expected two of {list(TARGET_KEYS)} "
            "(and optionally loss)"
        )
    try:
        given = {k: float(v) for k, v in target.items() if k in TARGET_KEYS}
    except (TypeError, ValueError):
        raise DataError(
            f"{shown}: expected numbers, e.g. {{'n_params': 7e9, 'tokens': 2e12}}"
        ) from None
    n, d, c = (given.get(k) for k in TARGET_KEYS)
    if None not in (n, d, c) and not np.isclose(c, 6.0 * n * d, rtol=0.01):
        raise DataError(
            f"{shown}: compute {c:.4g} disagrees with 6·N·D = {6.0 * n * d:.4g}; give two of "
            "them, or three that agree (C = 6·N·D)"
        )
    if n is not None and d is not None:
        c = 6.0 * n * d
    elif n is not None and c is not None:
        d = c / (6.0 * n)
    elif d is not None and c is not None:
        n = c / (6.0 * d)
    else:
        raise DataError(
            f"{argument('target', dict(target))} needs two of n_params, tokens and compute "
            "(C = 6·N·D), e.g. {'n_params': 7e9, 'tokens': 2e12}"
        )
    with np.errstate(over="ignore"):  # 6·N·D of N = D = 1e300 is inf: said below
        if min(n, d) <= 0 or not np.isfinite([n, d, c]).all():
            raise DataError(
                f"{argument('target', dict(target))}: N, D and C = 6·N·D must be positive and "
                f"finite; found N = {n:.4g}, D = {d:.4g}, C = {c:.4g}"
            )
    return {"n_params": n, "tokens": d, "compute": c}


def target_loss(target: Mapping[str, Any]) -> float | None:
    """The target's known loss (``target["loss"]``, to score the predictions), or None."""
    value = target.get("loss")
    if value is None:
        return None
    try:
        loss = float(value)
    except (TypeError, ValueError):
        loss = np.nan
    if not (np.isfinite(loss) and loss > 0):
        raise DataError(
            f"{argument('target', dict(target))}: loss must be the target's known loss, a "
            f"positive finite number; found {value!r}. Give it, or leave loss out"
        )
    return loss


def check_origins(min_scales: Any, max_origins: Any) -> tuple[int, int]:
    """``min_scales`` and ``max_origins`` as ints; DataError unless whole numbers, the first
    ≥ 2 (a law in N needs two sizes to fit) and the second ≥ 1."""
    check_whole("min_scales", min_scales, 2, 1000, f"default {MIN_SCALES}")
    check_whole("max_origins", max_origins, 1, 1000, f"default {MAX_ORIGINS}")
    return int(min_scales), int(max_origins)


def distances(fitted: pd.DataFrame, points: pd.DataFrame) -> np.ndarray:
    """Decades each point lies beyond the fitted runs on each of ``AXES`` (rows × 3)."""
    n, d = points["n_params"].to_numpy(float), points["tokens"].to_numpy(float)
    fit_n, fit_d = fitted["n_params"].to_numpy(float), fitted["tokens"].to_numpy(float)
    fit_m, m = fit_d / fit_n, d / n
    beyond_m = np.log10(np.maximum(m / fit_m.max(), 1.0)) - np.log10(
        np.maximum(fit_m.min() / m, 1.0)
    )
    return np.column_stack(
        [
            np.log10(np.maximum(n / fit_n.max(), 1.0)),
            beyond_m,
            np.log10(np.maximum(n * d / (fit_n * fit_d).max(), 1.0)),
        ]
    )


def target_splits(
    table: pd.DataFrame,
    target: Mapping[str, float],
    *,
    min_scales: int = MIN_SCALES,
    max_origins: int = MAX_ORIGINS,
    min_runs: int = 1,
) -> tuple[list[TargetSplit], dict[str, Any]]:
    """Rolling-origin splits of a one-row-per-run table most like the target's extrapolation.

    Only splits fitting at least ``min_runs`` runs are used.  Returns the splits, best match
    first, and an ``emulation`` record: the target's distances, the largest distances the kept
    splits reach, the best mismatch, ``min_runs``, ``refused`` (how many splits reaching closer
    to the target fitted too few runs) and a plain-text ``note`` (empty when the data can
    emulate the target).
    """
    goal = distances(table, pd.DataFrame([target]))[0]
    every = [_split(table, fit, goal) for fit in _fit_sets(table, goal, min_scales)]
    every = [c for c in every if c is not None]
    candidates = [c for c in every if c.fit.sum() >= min_runs]
    if not candidates:
        n_scales = scale_ids(table["n_params"].to_numpy(float)).max() + 1
        largest = max((int(c.fit.sum()) for c in every), default=0)
        raise DataError(
            f"cannot shape a backtest like the target: the runs have {n_scales} N scale(s) "
            f"and {len(table)} runs; a rolling origin needs at least {min_scales} scales and "
            f"{min_runs} runs (the laws' free parameters + {EXTRA_RUNS}) to fit, and one more "
            f"scale to predict (the largest fit set here holds {largest} runs). Add runs at "
            f"more model sizes, leave out the laws with most parameters, fit fewer parameters "
            f"({argument('fixed')}), or backtest without a target "
            f"({argument('holdout', 'largest-compute')})"
        )
    candidates.sort(key=lambda s: (np.nanmin(s.mismatch), -s.fit.sum()))
    kept = candidates[: max(int(max_origins), 1)]
    best = np.nanmin(kept[0].mismatch)
    refused = sum(np.nanmin(c.mismatch) < best - 1e-9 for c in every if c.fit.sum() < min_runs)
    return kept, _emulation(table, goal, kept, min_runs, refused)


def largest_fit_set(table: pd.DataFrame, target: Mapping[str, float], min_scales: int) -> int:
    """Runs in the largest rolling-origin fit set for this target (0 when there is none)."""
    goal = distances(table, pd.DataFrame([target]))[0]
    return max((int(mask.sum()) for mask in _fit_sets(table, goal, min_scales)), default=0)


def _fit_sets(table: pd.DataFrame, goal: np.ndarray, min_scales: int) -> list[np.ndarray]:
    """Fit masks: up to each N scale (≥ min_scales), and also up to each M scale when the
    target is more over-trained than every run."""
    n_scale = scale_ids(table["n_params"].to_numpy(float))
    m_scale = scale_ids((table["tokens"] / table["n_params"]).to_numpy(float), M_SCALE_RTOL)
    n_cuts = [s for s in range(min_scales - 1, n_scale.max() + 1)]
    m_cuts = [m_scale.max()]
    if goal[1] > 0:  # beyond the largest M: also roll the origin along M
        m_cuts += list(range(1, m_scale.max()))
    masks = []
    for s in n_cuts:
        for m in m_cuts:
            mask = (n_scale <= s) & (m_scale <= m)
            if 0 < mask.sum() < len(table) and len(np.unique(n_scale[mask])) >= min_scales:
                masks.append(mask)
    return masks


def _split(table: pd.DataFrame, fit: np.ndarray, goal: np.ndarray) -> TargetSplit | None:
    held = ~fit
    mismatch = np.full(len(table), np.nan)
    mismatch[held] = np.linalg.norm(distances(table[fit], table[held]) - goal, axis=1)
    if not held.any():
        return None
    scored = held & (mismatch <= np.nanmin(mismatch) + TOLERANCE)
    n_max = table.loc[fit, "n_params"].max()
    m = table.loc[fit, "tokens"] / table.loc[fit, "n_params"]
    text = f"fit N <= {n_max:.3g}, M = D/N in [{m.min():.3g}, {m.max():.3g}]"
    return TargetSplit(fit, scored, mismatch, f"{text} ({fit.sum()} runs)")


def _emulation(
    table: pd.DataFrame, goal: np.ndarray, splits: list[TargetSplit], min_runs: int, refused: int
) -> dict:
    reached = np.zeros(3)
    for split in splits:
        far = distances(table[split.fit], table[split.scored])
        reached = np.where(np.abs(far).max(axis=0) > np.abs(reached), _signed_max(far), reached)
    notes = []
    for axis, want, got in zip(AXES, goal, reached, strict=True):
        if abs(want) - abs(got) > SHORT:
            side = "below" if want < 0 else "beyond"  # M of an under-trained target: below
            notes.append(
                f"{axis}: the target lies {10 ** abs(want):.3g}x {side} the runs, the data can "
                f"emulate only {10 ** abs(got):.3g}x"
            )
    note = ""
    if notes:
        note = (
            "the backtest extrapolates less far than the target ("
            + "; ".join(notes)
            + "): its errors understate the error to expect at the target"
        )
    if refused:
        note = (note + "; " if note else "") + (
            f"{refused} split(s) reaching closer to the target's distance fit fewer than "
            f"{min_runs} runs (the laws' free parameters + {EXTRA_RUNS}) and were not used: "
            f"the farthest usable split reaches {10 ** abs(reached[0]):.3g}x of the target's "
            f"{10 ** abs(goal[0]):.3g}x in N and {10 ** abs(reached[1]):.3g}x of its "
            f"{10 ** abs(goal[1]):.3g}x in tokens per parameter"
        )
    return {
        "target_distance": dict(zip(AXES, map(float, goal), strict=True)),
        "emulated_distance": dict(zip(AXES, map(float, reached), strict=True)),
        "best_mismatch": float(np.nanmin(splits[0].mismatch)),
        "min_runs": int(min_runs),
        "refused": int(refused),
        "note": note,
    }


def _signed_max(far: np.ndarray) -> np.ndarray:
    """Per column, the entry of largest magnitude (keeping its sign)."""
    return far[np.argmax(np.abs(far), axis=0), np.arange(far.shape[1])]
