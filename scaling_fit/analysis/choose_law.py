r"""choose_law(): which law to trust at a target, and a prediction that includes the choice.

1. **Rank** the laws by a backtest shaped like the target
   (:func:`~scaling_fit.analysis.target_backtest.target_backtest`).  A law's score is a
   log-error scale

   .. math:: s = \sqrt{(w r)^2 + \delta^2},

   with r the RMS of log(L̂/L) over the held-out runs most like the target, w ≥ 1 the
   *widening* for the distance the backtest could not reach (w = (d_target/d_scored)^k, k
   the growth of the law's error with distance measured on its held-out runs, at least 1;
   see :mod:`~scaling_fit.analysis.target_backtest`), and δ the *drift*:
   the RMS over the rolling origins of log(L̂_all/L̂_origin) at the target itself, i.e. how far
   the target's prediction moves when the fit window grows by the last scales.  r measures
   the error at the distance the data can emulate; δ measures the instability at the target's
   own distance, which r cannot when the target is further out than the data reaches.
   No rolling origin fits fewer runs than the laws' free parameters + 2: distance is given
   up first, and a warning says how far the usable splits reach.  A law the backtest could
   not score (a failed or non-finite rolling-origin fit) is ranked last with weight 0, the
   reason in the ranking's ``unscored`` column and in a warning.
2. **Fit** every ranked law on all runs with a bootstrap over runs; b is the sd of the log
   prediction over the bootstrap refits.  The law's predictive log sd is σ = √(s² + b²).
3. **Recommend** the over-training law (Gadre et al. 2024) unless the data says otherwise:
   another law's score must be below 1/``PREFER_MARGIN`` of its own *and* significantly
   lower — a one-sided F test of the ratio of squared scores s_ot²/s² (each a mean of n
   squared log errors, n the scored held-out errors) with (n, n) degrees of freedom, at level
   ``PREFER_ALPHA``: on 2 scored runs the ratio of scores must exceed 4.4, on 4 runs 2.5.
   Without the over-training law, the best-ranked law.  Why this default, when the backtest
   cannot tell laws apart: on semi-synthetic 4-5-size ladders with targets 5-20x beyond in N
   and 2-5x in tokens per parameter, it errs by 1.2 % on average on data from laws with an
   irreducible loss (Chinchilla's, the over-training law), against 1.6-1.8 % for the
   best-scored law, and by 2.9-8.8 % at worst against 11-14 % (the best-scored law is then
   often Kaplan's, which has no irreducible loss and undershoots far out); it costs 0.8
   points on Kaplan's own data and 13 on Farseer's (24.6 % against 11.6 %: no candidate has
   Farseer's form; docs/validation.md, "Small ladders").  Its interval is the hull of the
   law's own interval (log prediction ± z·σ) and the averaged one (4.), so that it holds the
   uncertainty of the choice too: on ladders drawn from a law none of the candidates has
   (Farseer's, on 4-5 sizes where Farseer is not identified), the law's own interval held the
   truth 70 % of the time, the hull 100 % (docs/validation.md, "Small ladders").
   Targets may be far more over-trained than the runs, and only a law with a term for it
   can be trusted there: a warning says so when the target's tokens per parameter lie more
   than ``FAR_TOKENS_PER_PARAM`` decades outside the fitted runs'.
4. **Average**: a mixture of the laws' log-normal predictive distributions with weights
   by default ∝ the Gaussian likelihood of the n scored log errors under σ,
   σ⁻ⁿ·exp(−n r²/2σ²) (``"likelihood"``), which concentrates on the best law as n grows;
   ``"inverse-variance"`` weighs ∝ 1/σ² (Bates & Granger 1969); ``"equal"`` and ``"best"``
   are the extremes.
   Its interval is the mixture's central ``level`` interval, so it contains each law's
   bootstrap spread, its backtest error and the spread between the laws; the averaged
   point is the weighted mean of the log predictions.

The warnings of the final fits of the laws the answer rests on (weight > 0, or chosen), e.g.
a parameter at its bound, are passed on, each prefixed with the law's name.

Laws whose parameters the runs cannot identify (fewer distinct N or D than
⌈free parameters / inputs⌉ + 1, e.g. Farseer's nine on four model sizes) are not fitted —
their fits are the slowest and their extrapolations the least stable — and the ranking says
why; ``fit_unidentified=True`` fits them anyway.  A law needing more runs per fit (free
parameters + 2) than the largest rolling-origin fit set holds cannot be backtested: it is
ranked with that reason (weight 0) and the other laws are answered without it.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..arguments import checked
from ..errors import DataError, ScalingFitWarning, argument
from ..inputs.validate import check_bootstrap
from ..laws import Law
from ..results.choose_law_result import ChooseLawResult
from .backtest_fits import free_parameters, get_laws, options_per_law, run_fits, run_table
from .target_backtest import target_backtest
from .target_holdout import (
    EXTRA_RUNS,
    MAX_ORIGINS,
    MIN_SCALES,
    check_origins,
    largest_fit_set,
    target_inputs,
    target_loss,
)

DEFAULT_LAWS = ("chinchilla", "kaplan", "farseer", "overtraining")
WEIGHTINGS = ("inverse-variance", "likelihood", "equal", "best")
# Target M = D/N this many decades outside the fitted runs' range counts as far (3.2x).
FAR_TOKENS_PER_PARAM = 0.5
# Another law overrides the over-training preference when its score is this many times lower
# and the difference is significant at this level (F test on the squared scores).
PREFER_MARGIN = 2.0
PREFER_ALPHA = 0.05
# Bootstrap refits per law for the predictive spread.
BOOTSTRAP = 40


@checked
def choose_law(
    runs: Any,
    laws: Sequence[str | Law] = DEFAULT_LAWS,
    target: Mapping[str, float] | None = None,
    *,
    level: float = 0.95,
    weighting: str = "likelihood",
    bootstrap: int = BOOTSTRAP,
    fit_options: Mapping[str, Any] | None = None,
    fit_unidentified: bool = False,
    seed: int = 0,
    n_jobs: int = 1,
    min_scales: int = MIN_SCALES,
    max_origins: int = MAX_ORIGINS,
    progress: bool | str = "auto",
) -> ChooseLawResult:
    """Rank laws by a backtest shaped like ``target`` and predict it, alone and averaged.

    Parameters
    ----------
    runs
        Tidy runs table or anything :func:`scaling_fit.load_runs` accepts (final points).
    laws
        L(N, D) law names or :class:`Law` objects (default: the four registered ones); one
        name alone is one law.
    target
        Two of ``n_params``, ``tokens``, ``compute`` (C = 6·N·D), e.g.
        ``{"n_params": 7e9, "tokens": 2e12}``; add ``"loss"`` to score the predictions.
    level
        Central probability of the intervals.
    weighting
        ``"likelihood"`` (default), ``"inverse-variance"``, ``"equal"`` or ``"best"`` (all
        on the top law).
    bootstrap
        Resamples of runs for each law's fit on all runs (at least 10).
    fit_options
        :func:`scaling_fit.fit` arguments, shared or per law, as for :func:`backtest`.
    fit_unidentified
        Fit laws the data cannot identify instead of skipping them.
    seed, n_jobs
        Bootstrap seed; parallel workers (joblib).
    min_scales, max_origins
        Rolling origins: fewest N scales fitted, most origins kept.
    progress
        ``"auto"`` (default): bars of the backtest fits and of the final bootstrapped fits on
        a terminal, for work lasting more than 2 s; ``True``: always; ``False``: never
        (:mod:`scaling_fit.progress`).

    Returns
    -------
    ChooseLawResult
    """
    if weighting not in WEIGHTINGS:
        raise DataError(f"weighting={weighting!r} is not supported: expected one of {WEIGHTINGS}")
    check_bootstrap(bootstrap, least=10)  # a weighting needs resamples (the rest: @checked)
    if not isinstance(target, Mapping):
        raise DataError(
            f"{argument('target', target)}: expected the target's inputs as a mapping, e.g. "
            "{'n_params': 7e9, 'tokens': 2e12}"
        )
    laws = get_laws(laws)
    if not laws:
        raise DataError(f"{argument('laws', [])}: no law to choose from; give one or more")
    goal = {**target_inputs(target), "loss": target_loss(target)}
    min_scales, max_origins = check_origins(min_scales, max_origins)
    options = options_per_law([law.name for law in laws], fit_options)
    table, _ = run_table(runs, laws)
    skipped = {} if fit_unidentified else _unidentified(laws, table, options)
    skipped |= _unbacktestable(laws, table, goal, options, min_scales, skipped)
    kept = [law for law in laws if law.name not in skipped]
    if not kept:
        raise DataError(f"no law can be fitted and backtested on these runs: {skipped}")
    bt = target_backtest(
        table, kept, goal, fit_options={law.name: options[law.name] for law in kept},
        min_scales=min_scales, max_origins=max_origins, n_jobs=n_jobs, progress=progress,
    )  # fmt: skip
    tasks = [
        (law, table, {**options[law.name], "bootstrap": bootstrap, "seed": seed}) for law in kept
    ]
    outcomes = run_fits(tasks, n_jobs, progress, f"fits with {bootstrap} bootstrap refits")
    finals = dict(zip([law.name for law in kept], outcomes, strict=True))
    rows = [_law_row(law, finals[law.name], bt, goal) for law in kept]
    rows += [_skipped_row(name, reason) for name, reason in skipped.items()]
    ranking = _rank(pd.DataFrame(rows), weighting, level)
    messages, reasons = _notes(bt, goal, table, ranking)
    chosen, why = _choose(ranking)
    reasons = (*reasons, why)
    messages += _fit_notes(ranking, finals, chosen)
    for message in messages:
        warnings.warn(message, ScalingFitWarning, stacklevel=2)
    best = ranking.set_index("law").loc[chosen]
    averaged = _average(ranking, level)
    recommended = {
        "loss": float(best["predicted"]),
        "lower": min(float(best["lower"]), averaged["lower"]),
        "upper": max(float(best["upper"]), averaged["upper"]),
        "level": level,
    }
    return ChooseLawResult(
        ranking=ranking,
        chosen=chosen,
        recommended=recommended,
        averaged=averaged | {"weighting": weighting},
        target=goal,
        reasons=reasons,
        backtest=bt,
        fits={name: outcome[0] for name, outcome in finals.items()},
        warnings=tuple(messages),
    )


def _unidentified(laws: list[Law], table: pd.DataFrame, options: dict) -> dict[str, str]:
    """Laws with fewer distinct values of an input than ⌈free/inputs⌉ + 1, and why."""
    out = {}
    for law in laws:
        free = free_parameters(law, options[law.name])
        needed = int(np.ceil(free / max(len(law.inputs), 1))) + 1
        for column in law.inputs:
            distinct = len(np.unique(table[column].to_numpy(float)))
            if distinct < needed:
                out[law.name] = (
                    f"not identified: {distinct} distinct {column} for {free} free parameters "
                    f"(needs {needed}); pass {argument('fit_unidentified', True)} to fit it anyway"
                )
                break
    return out


def _unbacktestable(
    laws: list[Law], table: pd.DataFrame, goal: dict, options: dict, min_scales: int, done: dict
) -> dict[str, str]:
    """Laws needing more runs per fit than the largest rolling-origin fit set holds, and why.

    Without this, one such law (Farseer's 9 parameters on 6 sizes x 2 multipliers) made the
    backtest of every law impossible.
    """
    largest = largest_fit_set(table, goal, min_scales)
    out = {}
    for law in laws:
        needed = free_parameters(law, options[law.name]) + EXTRA_RUNS
        if law.name not in done and needed > largest:
            out[law.name] = (
                f"not backtested: a fit needs {needed} runs (free parameters + {EXTRA_RUNS}), "
                f"the largest rolling-origin fit set holds {largest}; add runs or fix "
                f"parameters ({argument('fixed')})"
            )
    return out


def _law_row(law: Law, outcome: tuple, bt: Any, goal: dict) -> dict[str, Any]:
    result, error, _ = outcome
    summary = bt.summary.set_index("law").loc[law.name]
    origins = bt.stability.loc[bt.stability["law"] == law.name, "predicted"].to_numpy(float)
    row = {"law": law.name, "rms_log_error": float(summary["rms_log_error"]), "skipped": ""}
    row |= {"n_scored": int(summary["n_held_out"]), "widening": float(summary["widening"])}
    row["unscored"] = _unscored(summary, origins)
    if result is None:
        return row | {"predicted": np.nan, "drift": np.nan, "bootstrap_sd": np.nan,
                      "skipped": f"fit failed: {error}"}  # fmt: skip
    inputs = [np.atleast_1d(goal[c]) for c in law.inputs]
    with np.errstate(all="ignore"):
        predicted = float(law.predict(*inputs, **result.params)[0])
        samples = result.samples[np.all(np.isfinite(result.samples), axis=1)]
        draws = law.predict(*inputs, **{n: samples[:, i] for i, n in enumerate(result.params)})
    draws = np.log(draws[np.isfinite(draws) & (draws > 0)])
    drift = np.sqrt(np.mean(np.log(predicted / origins) ** 2))
    return row | {"predicted": predicted, "drift": float(drift), "bootstrap_sd": np.std(draws)}


def _unscored(summary: pd.Series, origins: np.ndarray) -> str:
    """Why the target-shaped backtest could not score a law ("" when it could)."""
    if np.isfinite(summary["rms_log_error"]) and np.isfinite(origins).all():
        return ""
    if summary["error"]:
        return f"backtest not scored: a rolling-origin fit failed ({summary['error']})"
    return "backtest not scored: its rolling-origin fits predict non-finite losses"


def _skipped_row(name: str, reason: str) -> dict[str, Any]:
    return {"law": name, "rms_log_error": np.nan, "n_scored": 0, "widening": np.nan,
            "unscored": "", "predicted": np.nan, "drift": np.nan, "bootstrap_sd": np.nan,
            "skipped": reason}  # fmt: skip


def _rank(table: pd.DataFrame, weighting: str, level: float) -> pd.DataFrame:
    from scipy.stats import norm

    table["rms_at_target"] = table["rms_log_error"] * table["widening"]
    table["score"] = np.hypot(table["rms_at_target"], table["drift"])
    table["sigma"] = np.hypot(table["score"], table["bootstrap_sd"])
    table = table.sort_values("score", na_position="last").reset_index(drop=True)
    table["rank"] = np.arange(1, len(table) + 1)
    usable = (np.isfinite(table["sigma"]) & np.isfinite(table["predicted"])).to_numpy()
    weight = np.zeros(len(table))
    if not usable.any():
        pass  # nothing to weigh: _choose says why
    elif weighting == "inverse-variance":
        weight[usable] = 1.0 / np.maximum(table.loc[usable, "sigma"].to_numpy(float), 1e-6) ** 2
    elif weighting == "likelihood":
        sigma, n = table.loc[usable, "sigma"].to_numpy(float), table.loc[usable, "n_scored"]
        r = table.loc[usable, "rms_at_target"].to_numpy(float)
        loglik = -n.to_numpy(float) * (np.log(sigma) + 0.5 * (r / sigma) ** 2)
        weight[usable] = np.exp(loglik - loglik.max())
    elif weighting == "equal":
        weight[usable] = 1.0
    else:
        weight[np.flatnonzero(usable)[:1]] = 1.0
    table["weight"] = weight / weight.sum() if weight.sum() > 0 else weight
    z = norm.ppf(0.5 + level / 2)
    log_pred = np.log(table["predicted"].to_numpy(float))
    table["lower"] = np.exp(log_pred - z * table["sigma"])
    table["upper"] = np.exp(log_pred + z * table["sigma"])
    columns = ["rank", "law", "score", "rms_log_error", "n_scored", "widening", "rms_at_target"]
    columns += ["drift", "bootstrap_sd", "sigma", "weight", "predicted", "lower", "upper"]
    return table[[*columns, "skipped", "unscored"]]


def _average(ranking: pd.DataFrame, level: float) -> dict[str, float]:
    """Weighted mean of log predictions; central interval of the log-normal mixture."""
    from scipy.optimize import brentq
    from scipy.stats import norm

    use = ranking.loc[ranking["weight"] > 0]
    w, mu = use["weight"].to_numpy(float), np.log(use["predicted"].to_numpy(float))
    sd = np.maximum(use["sigma"].to_numpy(float), 1e-9)

    def quantile(p: float) -> float:
        span = (mu.min() - 10 * sd.max(), mu.max() + 10 * sd.max())
        return brentq(lambda x: float(np.sum(w * norm.cdf((x - mu) / sd))) - p, *span)

    tail = 0.5 * (1.0 - level)
    return {
        "loss": float(np.exp(np.sum(w * mu))),
        "lower": float(np.exp(quantile(tail))),
        "upper": float(np.exp(quantile(1.0 - tail))),
        "level": level,
    }


def _notes(
    bt: Any, goal: dict, table: pd.DataFrame, ranking: pd.DataFrame
) -> tuple[list[str], tuple[str, ...]]:
    """Warnings (target far more or less over-trained than the runs, splits refused for their
    size, laws the backtest could not score) and reasons (emulation limits, widening)."""
    messages, reasons = [], []
    for law, why in ranking.loc[ranking["unscored"] != "", ["law", "unscored"]].values:
        messages.append(f"{law}: {why}; ranked last with weight 0")
    beyond = bt.emulation["target_distance"]["tokens_per_param"]
    if abs(beyond) > FAR_TOKENS_PER_PARAM:
        m = table["tokens"] / table["n_params"]
        advice = "add runs trained that long, and prefer a law built for over-training"
        if beyond < 0:  # below every run's M: an over-training term says nothing there
            advice = "add runs with that few tokens per parameter (the target is less trained)"
        messages.append(
            f"the target's tokens per parameter ({goal['tokens'] / goal['n_params']:.4g}) lie "
            f"{10 ** abs(beyond):.3g}x outside the fitted runs' range [{m.min():.4g}, "
            f"{m.max():.4g}]: laws disagree most there; {advice}"
        )
    if bt.emulation.get("note"):
        reasons.append(bt.emulation["note"])
        if bt.emulation.get("refused"):
            messages.append(bt.emulation["note"])
    wide = ranking.loc[ranking["widening"] > 1.0]
    if len(wide):
        spans = bt.emulation["target_span"], bt.emulation["scored_span"]
        growth = bt.summary.set_index("law")["distance_growth"]
        each = ", ".join(
            f"{law} x{w:.3g} (k = {growth[law]:.2g})" for law, w in wide[["law", "widening"]].values
        )
        reasons.append(
            f"the target lies {spans[0]:.2g} decades beyond the runs (N and tokens per "
            f"parameter combined), the scored runs {spans[1]:.2g} beyond their fits: each "
            "law's backtest error is scaled by (target / scored distance)^k, k the growth of "
            f"its error with distance measured on the held-out runs: {each}"
        )
    return messages, tuple(reasons)


def _fit_notes(ranking: pd.DataFrame, finals: dict[str, tuple], chosen: str) -> list[str]:
    """Warnings of the fits on all runs of the laws the answer rests on (weight > 0, or
    chosen): a parameter at its bound or not identified makes that law's prediction suspect."""
    used = set(ranking.loc[ranking["weight"] > 0, "law"]) | {chosen}
    return [
        f"{law} (fit on all runs): {message}"
        for law in ranking["law"]
        if law in used and law in finals
        for message in finals[law][2]
    ]


def _choose(ranking: pd.DataFrame) -> tuple[str, str]:
    """The recommended law and why: the over-training law unless another scores far better.

    Far better: a score below 1/PREFER_MARGIN of the over-training law's and a ratio of squared
    scores beyond the F distribution's 1 − PREFER_ALPHA quantile (df n, n the scored errors).
    """
    from scipy.stats import f as f_dist

    usable = ranking.loc[np.isfinite(ranking["sigma"])]
    if usable.empty:
        raise DataError(
            "every law failed, was skipped or could not be scored: "
            f"{dict(zip(ranking['law'], ranking['skipped'] + ranking['unscored'], strict=True))}"
        )
    best = usable.iloc[0]
    if "overtraining" not in set(usable["law"]) or best["law"] == "overtraining":
        return best["law"], f"{best['law']} has the lowest target-shaped backtest score"
    own = usable.set_index("law").loc["overtraining"]
    df_own, df_best = max(int(own["n_scored"]), 1), max(int(best["n_scored"]), 1)
    needed = max(PREFER_MARGIN, float(np.sqrt(f_dist.ppf(1 - PREFER_ALPHA, df_own, df_best))))
    if best["score"] * needed < own["score"]:
        return best["law"], (
            f"{best['law']} chosen over the over-training law: its score {best['score']:.3g} "
            f"is more than {needed:.3g}x below {own['score']:.3g} (margin {PREFER_MARGIN:g}x, "
            f"and significant at {PREFER_ALPHA:g} on {int(best['n_scored'])} scored runs)"
        )
    return "overtraining", (
        f"over-training law preferred: {best['law']} scores {best['score']:.3g}, not "
        f"{needed:.3g}x below its {own['score']:.3g} (margin {PREFER_MARGIN:g}x, or the ratio "
        f"a one-sided F test at {PREFER_ALPHA:g} needs on {int(best['n_scored'])} scored runs)"
    )
