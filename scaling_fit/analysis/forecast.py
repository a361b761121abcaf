"""Forecast a running job: the rest of its loss curve and its final loss, from what is logged.

:func:`forecast` fits a loss-curve law to the part of one run seen so far (its logged
``step, loss`` after warm-up) under the run's **full planned schedule**, then predicts the
loss at every later step and at the end of training (step ``total``).

* ``prior=`` borrows the law's shape from a fit of other runs (a :class:`FitResult` or its
  JSON file): every parameter except ``refit`` (default L₀ and A, the level and scale of the
  power law in the LR area) is held at the prior's value.  Early in a run the seen part
  cannot pin the exponents and the annealing strength, which other schedules can.  The
  prior records the schedule family and peak LR of its runs; a run at another peak LR gets a
  warning and the wider band measured for that case (:mod:`.forecast_prior`: a prior from
  peak 5e-4 forecast runs at 2e-3 ~10 % off).
* The interval has two parts.  The **noise** part (``noise_interval``) is a moving-block
  bootstrap of the fit's log residuals (blocks of a tenth of the points, keeping the
  correlation of neighbouring points): each resample is refined locally from the best
  parameters (:func:`scaling_fit.fitting.local_refit.local_refits`, no global search),
  and it is the ``level`` central range of the resamples' final losses.  It covers the noise
  of the seen part only: on Schaipp et al.'s 77 cosine and WSD runs seen to 50 %, it held the
  final loss for 12 of 77 runs with a prior.  The **law** part (``error_band``) is what the
  noise misses, the law or the prior not matching the unseen schedule: with a prior fitted
  to shorter runs, the prior's own length band (:func:`.forecast_prior.prior_length_band`),
  and the ``level`` quantile, each calibration set weighing the same, of the errors it left
  unexplained when forecasting 126 runs of 11 sets of real curves (published runs at
  25M-400M and our tiny ladder) at the same fraction seen, with or without a prior
  (:mod:`scaling_fit.analysis.forecast_errors`).  The parts are added in quadrature on the
  log scale.  Measured for ``lr_annealing`` only; for another law
  the interval is the noise part and a warning says so.

Reference: the curve laws of :mod:`scaling_fit.laws.lr_annealing` (Tissue et al. 2024) and
:mod:`scaling_fit.laws.multipower` (Luo et al. 2025).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..arguments import checked
from ..errors import DataError, ScalingFitWarning, argument
from ..fitting.fit import fit as fit_law
from ..fitting.local_refit import local_refits
from ..inputs.load import load_runs
from ..laws import get_law
from ..results.curves import predict_curve, predict_runs
from ..results.fit_result import FitResult
from ..results.forecast_result import ForecastResult
from ..schedules import ScheduleLike, as_schedule
from ..schedules.by_run import warmup_of
from .forecast_errors import ERRORS, LAW
from .forecast_peak_errors import PEAK_ERRORS
from .forecast_prior import compare_with_prior, peak_band, prior_length_band

DEFAULT_REFIT = ("L0", "A")
BLOCKS = 10  # a resampled block holds about 1/BLOCKS of the seen points


@checked(renamed={"n_boot": "bootstrap"})
def forecast(
    log: Any,
    schedule: ScheduleLike,
    law: Any = None,
    *,
    prior: FitResult | str | Path | None = None,
    refit: Sequence[str] | None = None,
    bootstrap: int = 30,
    level: float = 0.95,
    seed: int = 0,
    every: int = 100,
) -> ForecastResult:
    """Predict the rest of a run's loss curve and its final loss from its first part.

    Parameters
    ----------
    log
        One run's logged curve: a table with ``step`` and ``loss`` (and ``run``, one value),
        or a CSV path :func:`scaling_fit.load_runs` reads.
    schedule
        The run's full planned schedule (spec, Schedule or LR array); the log must lie in it.
    law
        Loss-curve law (``"lr_annealing"``, default, or ``"multipower"``); with ``prior``,
        the prior's law (another law is an error).
    prior
        A fit of other runs (FitResult or JSON path) whose parameters other than ``refit``
        are held fixed.
    refit
        Parameters fitted to the seen part when a prior is given (default L0 and A); an
        error without ``prior`` (every parameter is fitted then).
    bootstrap
        Block-bootstrap resamples for the noise part of the interval (0: none).  Its old
        name ``n_boot=`` is accepted until the next release, with a DeprecationWarning.
    level
        Central coverage of the interval.
    seed
        Seed of the resampling.
    every
        Stride of the predicted curve.
    """
    table = _one_run(log)
    sched = as_schedule(schedule)
    run = str(table["run"].iloc[0])
    warmup = warmup_of(sched)  # the fit leaves out the same points
    if table["step"].max() <= warmup:
        raise DataError(
            f"forecast: the log ends at step {int(table['step'].max())}, within the "
            f"schedule's warm-up ({warmup} steps), and the laws describe the loss after "
            "it; forecast once losses after the warm-up are logged"
        )
    fixed, ratio = {}, None
    if prior is None and refit is not None:
        raise DataError(
            f"{argument('refit', tuple(refit))} holds parameters at a prior's values, but "
            "no prior= (--prior) was given: without one every parameter is fitted to the "
            "log. Pass prior= (--prior FIT.json), or leave out refit= (--refit)"
        )
    refit = DEFAULT_REFIT if refit is None else refit
    prior_given = prior
    if prior is not None:
        prior = prior if isinstance(prior, FitResult) else FitResult.from_json(prior)
        if law is not None and get_law(law).name != prior.law.name:
            raise DataError(
                f"{argument('law', str(law))}: the prior is a fit of law {prior.law.name!r}, "
                f"and a forecast with a prior uses the prior's law; leave out law= (--law) or "
                "pass a prior of this law"
            )
        law = prior.law
        if not law.fits_curves:
            raise DataError(
                f"{argument('prior')}: a fit of law {law.name!r}, which does not predict loss "
                "curves; expected a fit of a loss-curve law (multipower, lr_annealing) to "
                "other runs, e.g. from `scaling-fit fit RUNS.csv --law lr_annealing -o FIT.json`"
            )
        unknown = sorted(set(refit) - set(law.param_names))
        if unknown or not refit:
            raise DataError(
                f"{argument('refit', tuple(refit))}: "
                f"{f'unknown parameter(s) {unknown}' if unknown else 'no parameter'}; expected "
                f"one or more parameters of law {law.name!r}: {list(law.param_names)} "
                f"(default {list(DEFAULT_REFIT)})"
            )
        fixed = {k: v for k, v in prior.params.items() if k not in set(refit)}
        if not fixed:
            raise DataError(
                f"{argument('refit', tuple(refit))} names every parameter of law "
                f"{law.name!r}, so the prior holds none and does nothing; refit fewer "
                f"(default {list(DEFAULT_REFIT)}) or leave out prior= (--prior)"
            )
        ratio = compare_with_prior(prior, sched)
    law = "lr_annealing" if law is None else law
    # the forecast's own band measures its extrapolation: no length check of the fit
    fitted = fit_law(table, law, schedules={run: sched}, fixed=fixed or None, length_check=False)
    seen = int(table["step"].max())
    steps = np.unique(np.append(np.arange(seen, sched.total, max(int(every), 1)), sched.total))
    curve = predict_curve(fitted, sched, steps)
    final = float(curve["loss"].iloc[-1])
    band = error_band(fitted.law.name, seen / sched.total, prior is not None, level, ratio or 1.0)
    length = prior_length_band(prior, sched, seen) if prior is not None else None
    # no interval beyond a prior whose length error is unmeasured, or from an unconverged one
    unbounded = length is not None and length[0] is None
    unbounded = unbounded or _unconverged(prior)
    if band is not None and length is not None and not unbounded:
        band = _with_prior_length(band, length[0])
    if not (np.isfinite(final) and final > 0):
        _warn_not_a_loss(final, seen / sched.total, prior is not None)
        return ForecastResult(
            final, None, curve, seen, fitted, None, band, ratio, level, _prior_name(prior_given)
        )
    noise = _interval(fitted, sched, run, bootstrap, level, seed) if bootstrap else None
    interval = None if unbounded else _combined(final, noise, band)
    return ForecastResult(
        final, interval, curve, seen, fitted, noise, band, ratio, level, _prior_name(prior_given)
    )


def error_band(
    law: str, seen_fraction: float, with_prior: bool, level: float, peak_ratio: float = 1.0
) -> float | None:
    """Relative half-width of the law part of a forecast's interval.

    The ``level`` quantile (:func:`band_quantile`) of the errors measured at 25 %, 50 % and
    75 % seen (:mod:`scaling_fit.analysis.forecast_errors`), each at least those measured
    later (:func:`earlier_is_wider`), interpolated linearly in the fraction seen; after
    75 %, the 75 % band (errors shrink as more is seen).  Before 25 % the 25 % band, with a
    warning that it is likely too narrow.  None for a law other than the measured one, with
    a warning that the interval then covers noise only.  With a prior from another peak LR
    (``peak_ratio`` = run peak / prior peak, not 1), the band measured at that ratio
    (:func:`scaling_fit.analysis.forecast_prior.peak_band`).
    """
    if law != LAW:
        warnings.warn(
            f"forecast: no measured error band for law {law!r} (only {LAW!r} was measured on "
            "published runs), so its interval covers the noise of the seen part only and is "
            "far narrower than the forecast's real error",
            ScalingFitWarning,
            stacklevel=3,
        )
        return None
    fractions = sorted({fraction for fraction, _ in ERRORS})
    if seen_fraction < fractions[0]:
        warnings.warn(
            f"forecast: {seen_fraction:.0%} of the run seen; the error band was measured from "
            f"{fractions[0]:.0%} seen on, so this early it is likely too narrow",
            ScalingFitWarning,
            stacklevel=3,
        )

    def at_fraction(errors: Callable[[float], Any]) -> float:
        bands = earlier_is_wider([band_quantile(errors(f), level) for f in fractions])
        return float(np.interp(seen_fraction, fractions, bands))

    same_peak = at_fraction(lambda f: ERRORS[(f, with_prior)])
    if with_prior and peak_ratio != 1.0:
        knots = {knot for knot, _ in PEAK_ERRORS}
        measured = {k: at_fraction(lambda f, k=k: PEAK_ERRORS[(k, f)]) for k in knots}
        return peak_band(same_peak, measured, peak_ratio)
    return same_peak


def _unconverged(prior: FitResult | None) -> bool:
    """True, with a warning, when ``prior`` is a fit that did not converge (a result of
    given parameters, :meth:`FitResult.from_params`, fitted nothing and is not one)."""
    if prior is None or prior.converged or not prior.free:
        return False
    warnings.warn(
        f"forecast: the prior (a fit of law {prior.law.name!r}) did not converge: its "
        "parameters are where the optimiser stopped, its length extrapolation was not "
        "measured, and nothing bounds the forecast's error, so no interval is given "
        "(interval=None). Refit the prior (more runs, runs of several lengths, fixed or "
        "tied parameters) until it converges",
        ScalingFitWarning,
        stacklevel=3,
    )
    return True


def _with_prior_length(band: float, length: float) -> float:
    """The measured band and the prior's length band added in quadrature on the log scale."""
    return float(np.expm1(np.hypot(np.log1p(band), np.log1p(length))))


def earlier_is_wider(bands: Sequence[float]) -> np.ndarray:
    """Bands at increasing fractions seen, each raised to the widest band measured later.

    A forecast that has seen less of a run cannot be expected to miss by less than one that
    has seen more of it (it sees a part of the same log), so the band measured at 75 % seen
    bounds those at 25 and 50 % from below.  Quantiles of a few sets' errors need not keep
    that order (a set of few forecasts can move one quantile alone).
    """
    return np.maximum.accumulate(np.asarray(bands, dtype=float)[::-1])[::-1]


def band_quantile(errors: Sequence[float] | Mapping[str, Sequence[float]], level: float) -> float:
    """The ``level`` quantile of measured absolute errors.

    A sequence: the split-conformal quantile, the ⌈(n + 1)·level⌉-th smallest of n.  For a
    new run exchangeable with the measured ones, its error lies within this with probability
    at least ``level`` (Vovk et al. 2005); when ⌈(n + 1)·level⌉ > n the largest error is the
    best the measurements can say.

    A mapping of calibration sets (a model size or peak LR of one dataset) to their errors:
    each set weighs the same, its runs sharing its weight, and the band is the smallest error
    whose weighted share reaches ``level``.  Runs of one set are alike, so a set of 77 runs
    must not outvote one of 4: the band then holds for a new set of runs, not only for a new
    run of the sets measured (on the curve sets shipped, left out one at a time:
    ``benchmarks/bench_forecast.py``).
    """
    if isinstance(errors, Mapping):
        sets = [np.abs(np.asarray(v, dtype=float)) for v in errors.values() if len(v)]
        values = np.concatenate(sets)
        weights = np.concatenate([np.full(v.size, 1.0 / (v.size * len(sets))) for v in sets])
        order = np.argsort(values, kind="stable")
        share = np.cumsum(weights[order])
        # the first error whose share reaches level (a tolerance for the sum's rounding)
        return float(values[order][min(np.searchsorted(share, level - 1e-12), values.size - 1)])
    ordered = np.sort(np.abs(np.asarray(errors, dtype=float)))
    rank = int(np.ceil((len(ordered) + 1) * level))
    return float(ordered[min(rank, len(ordered)) - 1])


def _warn_not_a_loss(final: float, seen_fraction: float, with_prior: bool) -> None:
    """Say that a forecast of a final loss <= 0 (or not finite) is no forecast at all."""
    hint = (
        "refit fewer parameters (refit=, --refit) or forecast later in the run"
        if with_prior
        else "pass prior= (--prior FIT.json, a fit of other runs) so the seen part only sets "
        "the level, or forecast later in the run"
    )
    warnings.warn(
        f"forecast: the law fitted to the first {seen_fraction:.0%} of the run predicts a "
        f"final loss of {final:.4g}, which no loss can be (the seen part does not pin the "
        f"law's shape); no interval is given (interval=None). {hint[0].upper()}{hint[1:]}",
        ScalingFitWarning,
        stacklevel=3,
    )


def _combined(
    final: float, noise: tuple[float, float] | None, band: float | None
) -> tuple[float, float] | None:
    """Noise interval and law band added in quadrature on the log scale, around ``final``.

    Multiplicative on a final loss > 0 (:func:`forecast` gives no interval otherwise), so
    both bounds are finite and > 0 whatever the noise interval holds.
    """
    if band is None:
        return noise
    low = high = 0.0
    if noise is not None:  # the bootstrap's spread below and above the forecast, in log
        high = max(np.log(noise[1] / final), 0.0) if noise[1] > 0 else 0.0
        # a lower bound <= 0 says nothing on the log scale: the spread above, mirrored
        low = max(np.log(final / noise[0]), 0.0) if noise[0] > 0 else high
    law = np.log1p(band)
    return float(final * np.exp(-np.hypot(low, law))), float(final * np.exp(np.hypot(high, law)))


def _one_run(log: Any) -> pd.DataFrame:
    table = log if isinstance(log, pd.DataFrame) else load_runs(log)
    missing = [c for c in ("step", "loss") if c not in table.columns]
    if missing:
        raise DataError(
            f"forecast: the log needs columns step and loss; missing {missing} (found "
            f"{list(table.columns)}). Map them with load_runs(..., columns=...) "
            "(--col NAME=COLUMN)"
        )
    if "run" not in table.columns:
        table = table.assign(run="run")
    runs = pd.unique(table["run"])
    if len(runs) != 1:
        raise DataError(
            f"forecast: the log holds {len(runs)} runs ({list(runs)[:5]}); expected one "
            f"running job. Select it: log[log['run'] == {runs[0]!r}] "
            f'(--where "run == {runs[0]!r}")'
        )
    return table[["run", "step", "loss"]].reset_index(drop=True)


def _interval(
    fitted: FitResult, sched: Any, run: str, n_boot: int, level: float, seed: int
) -> tuple[float, float] | None:
    """Moving-block bootstrap of log residuals: refit each resample, spread of final losses."""
    data = fitted.data
    predicted = predict_runs(fitted, data, {run: sched})
    residual = np.log(data["loss"].to_numpy(float)) - np.log(predicted)
    n, rng = len(residual), np.random.default_rng(seed)
    block = max(1, n // BLOCKS)
    starts = np.arange(n - block + 1)
    end = pd.DataFrame({"run": [run], "step": [sched.total]})
    resamples = []
    for _ in range(n_boot):
        picks = rng.choice(starts, size=-(-n // block))
        noise = np.concatenate([residual[s : s + block] for s in picks])[:n]
        resamples.append(predicted * np.exp(noise))
    # each resample refined from the fit's optimum (a failed refine: NaN, left out below);
    # the end point's schedule features are built once for all of them
    features = fitted.law.features(end, {run: sched.lr})
    with np.errstate(all="ignore"):
        finals = [
            np.nan if params is None else float(fitted.law.predict(*features, **params)[0])
            for params in local_refits(fitted, {run: sched}, resamples)
        ]
    return _positive_percentiles(np.asarray(finals), level)


def _positive_percentiles(finals: np.ndarray, level: float) -> tuple[float, float] | None:
    """The ``level`` central range of the resamples' final losses, from those that are a loss.

    A resample whose refit predicts a final loss <= 0 or not finite is a failed refit, left
    out like one (a percentile through it gave a lower bound <= 0, and NaN once logged); when
    more than the interval's lower tail failed, a warning says the noise part is unreliable.
    None when fewer than 2 resamples are left.
    """
    usable = finals[np.isfinite(finals) & (finals > 0)]
    failed = finals.size - usable.size
    if failed > 0.5 * (1.0 - level) * finals.size:
        warnings.warn(
            f"forecast: {failed} of {finals.size} bootstrap refits predicted a final loss "
            "<= 0 or not finite and were left out, more than the interval's tail: its noise "
            "part is unreliable (the seen part barely pins the law; a prior= helps)",
            ScalingFitWarning,
            stacklevel=4,
        )
    if usable.size < 2:
        return None
    tail = 50.0 * (1.0 - level)
    lo, hi = np.percentile(usable, [tail, 100.0 - tail])
    return float(lo), float(hi)


def _prior_name(prior: FitResult | str | Path | None) -> str:
    """How the forecast's report names the prior: its file, or the law of a given fit."""
    if prior is None:
        return ""
    return f"a fit of law {prior.law.name}" if isinstance(prior, FitResult) else str(prior)


def __getattr__(name: str) -> Any:
    if name == "Forecast":
        warnings.warn(
            "Forecast is renamed ForecastResult; the old name goes in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        return ForecastResult
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
