"""Critical batch size from batch-size sweeps, loss curves or gradient statistics.

Definitions (each number the toolkit reports names one of them):

``b_noise`` — Kaplan/McCandlish critical batch (McCandlish et al. 2018, arXiv:1812.06162;
    Kaplan et al. 2020, arXiv:2001.08361 §5): steps and examples to reach a loss trade off as
    S = S_min·(1 + B_noise/B) and E = E_min·(1 + B/B_noise), so B_noise = E_min/S_min, the
    batch at which reaching the target takes twice the minimum number of steps.
``b_20`` — Zhang et al. (2024, arXiv:2410.21676): the batch at which the steps exceed ideal
    linear scaling by 20 %. Linear scaling is the small-batch asymptote S_min·B_noise/B, so
    S/S_lin = 1 + B/B_noise and, under the same model, B_20 = 0.2·B_noise.
``b_simple`` — McCandlish et al.'s simple noise scale tr(Σ)/|G|² from gradient statistics
    (:func:`noise_scale`).
"""

from __future__ import annotations

import os
import warnings
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd

from ..arguments import checked
from ..errors import DataError, ScalingFitWarning
from ..inputs.sources import DATAFRAME, read_sources
from ..results.critical_batch_result import CriticalBatchResult

# Zhang et al.'s overhead: 20 % more steps than linear scaling.
OVERHEAD = 0.2
DEFAULT_GROUP = "model"
# Steps that grow faster than B^0.1 with the batch (7 % per doubling) contradict
# S = S_min (1 + B_noise/B), which never rises: the columns are likely wrong.
RISING = 0.1
# Batch sizes (tokens per step) and step counts above this are not training runs; the fit's
# exponentials would overflow on values near the float limit.
LARGEST = 1e15
# Per-group columns: one value per sweep, each a size or a loss.
GROUP_COLUMNS = ("n_params", "tokens", "target_loss")


@checked
def fit_critical_batch(
    steps: Any, *, group: str = DEFAULT_GROUP, level: float = 0.95
) -> CriticalBatchResult:
    """Fit S = S_min·(1 + B_noise/B) to steps-to-target against batch size, per group.

    Parameters
    ----------
    steps
        DataFrame or CSV path with ``batch_size`` (tokens per step), ``steps`` (steps to reach
        the target loss, e.g. from :func:`steps_to_target`) and, for several models, a
        ``group`` column; optional ``n_params`` and ``tokens`` per group give the scaling of
        B_noise across groups.
    group
        Column that separates the sweeps (default ``model``; absent = one sweep).
    level
        Confidence level of the intervals.

    Returns
    -------
    CriticalBatchResult
        Per group ``s_min``, ``b_noise`` (with ``b_noise_lower``/``_upper``), ``e_min``,
        ``b_20`` (with interval) and the RMS log residual; ``scaling`` fits
        B_noise = k·X^p for X = tokens and n_params when they vary across groups.

    Notes
    -----
    Least squares of log S on log(1 + B_noise/B) (McCandlish et al. 2018 App. D; laws.md of
    the project): for each B_noise the best log S_min is the mean residual, so a bounded 1-D
    search over log B_noise finds the optimum. Intervals: Gauss–Newton covariance of
    (log S_min, log B_noise) with the residual variance, Student t with n − 2 degrees of
    freedom.
    """
    table = _steps_table(steps)
    where = DATAFRAME if isinstance(steps, pd.DataFrame) else os.fspath(steps)
    if group not in table.columns:
        if group != DEFAULT_GROUP:
            raise DataError(
                f"{where}: group={group!r} (--group) names no column; found "
                f"{list(table.columns)}. Name the column that separates the sweeps, or leave "
                "it out for one sweep"
            )
        table[group] = "all"
    _check_groups(table, group, where)
    rows = []
    for name, every in table.groupby(group, sort=False):
        sweep = every[np.isfinite(every["steps"].astype(float))]
        if len(sweep) < len(every) and sweep["batch_size"].nunique() < 3:
            raise DataError(
                f"group {name!r}: {every['batch_size'].nunique()} batch sizes, of which "
                f"{sweep['batch_size'].nunique()} reached the target (blank steps: never "
                "reached); fitting S_min and B_noise needs at least 3 that reach it. Choose a "
                "higher target loss (steps_to_target), or train those runs longer"
            )
        rows.append({group: name, **_fit_one(sweep, name, level)})
        for column in ("n_params", "tokens", "target_loss"):
            if column in sweep.columns:
                rows[-1][column] = float(sweep[column].iloc[0])
    fits = pd.DataFrame(rows)
    return CriticalBatchResult(fits=fits, scaling=_scaling(fits, level), group=group, level=level)


def _steps_table(steps: Any) -> pd.DataFrame:
    """The steps-to-target table from a DataFrame or a CSV path, with ``batch_size`` > 0 and
    ``steps`` > 0 or blank (a batch that never reached the target) as floats."""
    if isinstance(steps, pd.DataFrame):
        table, where = steps.copy(), DATAFRAME
    elif not isinstance(steps, str | os.PathLike):
        raise DataError(
            f"fit_critical_batch: steps= expected a DataFrame or the path of a CSV file, found "
            f"{type(steps).__name__}"
        )
    else:
        where = os.fspath(steps)
        sources = read_sources(where, {})  # the loader's file checks and messages
        if len(sources) != 1:
            raise DataError(f"{where}: matches {len(sources)} files; expected one CSV file")
        table = sources[0][1]
    for column in ("batch_size", "steps"):
        if column not in table.columns:
            raise DataError(
                f"{where}: a steps-to-target table needs columns 'batch_size' (tokens per "
                f"step) and 'steps'; missing {column!r} (found {list(table.columns)})"
            )
        table[column] = _positive_column(table, column, where, blank_ok=column == "steps")
    if not len(table):
        raise DataError(f"{where}: the steps-to-target table has no rows")
    return table


def _positive_column(table: pd.DataFrame, column: str, where: str, *, blank_ok: bool) -> Any:
    """``table[column]`` as floats; DataError naming the first cell that is not a number in
    (0, LARGEST] (blank allowed when ``blank_ok``: a batch that never reached the target)."""
    cells = table[column]
    values = pd.to_numeric(cells, errors="coerce").astype(float)
    blank = cells.isna() | (cells.astype(str).str.strip() == "")
    good = (values > 0) & (values <= LARGEST)  # NaN and inf compare False
    bad = ~(good | (blank & blank_ok))
    if bad.any():
        label = table.index[np.argmax(bad.to_numpy())]
        row = f"index {label!r}" if where == DATAFRAME else f"row {label}"
        cell = cells.at[label]  # a number as written, text quoted
        number = values.at[label]
        text = isinstance(cell, str)  # text as written, quoted; a number as a number
        shown = str(cell).strip() if np.isfinite(number) else repr(cell) if text else f"{number:g}"
        blank_text = " (blank: never reached the target)" if blank_ok else ""
        raise DataError(
            f"{where}, {row}, column {column!r}: expected a positive number up to "
            f"{LARGEST:g}{blank_text}, found {shown}; fix or remove that row"
        )
    return values


def _check_groups(table: pd.DataFrame, group: str, where: str) -> None:
    """DataError for a blank group name, or a per-group column that is not one positive
    number per group (``n_params``, ``tokens``, ``target_loss``)."""
    blank = table[group].isna() | (table[group].astype(str).str.strip() == "")
    if blank.any():
        label = table.index[np.argmax(blank.to_numpy())]
        raise DataError(
            f"{where}, row {label}, column {group!r}: expected the name of the sweep, found a "
            "blank cell; fill it in (rows without a group would be left out)"
        )
    for column in (c for c in GROUP_COLUMNS if c in table.columns):
        table[column] = _positive_column(table, column, where, blank_ok=False)
        counts = table.groupby(group, sort=False)[column].nunique()
        if counts.max() > 1:
            name = counts.index[np.argmax(counts.to_numpy() > 1)]
            name = name.item() if isinstance(name, np.generic) else name
            raise DataError(
                f"{where}: column {column!r} takes {counts.max()} values in group {name!r}; "
                f"expected one per sweep (split the sweep, or name another --group)"
            )


def _fit_one(sweep: pd.DataFrame, name: Any, level: float) -> dict[str, float]:
    from scipy.optimize import minimize_scalar
    from scipy.stats import t as student

    batch = sweep["batch_size"].to_numpy(float)
    log_steps = np.log(sweep["steps"].to_numpy(float))
    if len(batch) < 3 or len(np.unique(batch)) < 3:
        raise DataError(
            f"group {name!r} has {len(np.unique(batch))} distinct batch sizes; fitting "
            "S_min and B_noise needs at least 3 (better 6 or more, spanning B_noise)"
        )
    slope = np.polyfit(np.log(batch), log_steps, 1)[0]
    if slope > RISING:
        raise DataError(
            f"group {name!r}: the steps to the target grow with the batch size (log-log slope "
            f"{slope:+.2f}); S = S_min (1 + B_noise/B) needs steps that fall or level off. "
            "Check the columns: steps to reach the target loss, batch_size in tokens per step"
        )

    def profile(u: float) -> tuple[float, np.ndarray]:
        shape = np.log1p(np.exp(u) / batch)
        offset = float(np.mean(log_steps - shape))
        return offset, offset + shape - log_steps

    lo, hi = np.log(batch.min()) - np.log(1e3), np.log(batch.max()) + np.log(1e3)
    search = minimize_scalar(
        lambda u: float(np.sum(profile(u)[1] ** 2)),
        bounds=(lo, hi),
        method="bounded",
        options={"xatol": 1e-10},
    )
    u = float(search.x)
    offset, residuals = profile(u)
    ratio = np.exp(u) / batch
    jacobian = np.column_stack([np.ones_like(batch), ratio / (1.0 + ratio)])
    dof = len(batch) - 2
    variance = float(np.sum(residuals**2)) / dof if dof > 0 else np.nan
    covariance = variance * np.linalg.pinv(jacobian.T @ jacobian)
    half = float(student.ppf(0.5 + level / 2, dof)) * np.sqrt(covariance[1, 1])
    if min(u - lo, hi - u) < 1e-3:
        warnings.warn(
            f"group {name!r}: B_noise is at the edge of the search (steps do not level off "
            "or do not fall with the batch): the sweep does not bracket it",
            ScalingFitWarning,
            stacklevel=3,
        )
    b_noise = np.exp(u)
    if min(u - lo, hi - u) >= 1e-3 and not batch.min() <= b_noise <= batch.max():
        warnings.warn(
            f"group {name!r}: B_noise = {b_noise:.3g} lies outside the fitted batch sizes "
            f"({batch.min():.3g} to {batch.max():.3g}, those that reached the target): they do "
            "not bracket it, so it is an extrapolation of S = S_min (1 + B_noise/B); add "
            "batch sizes around it",
            ScalingFitWarning,
            stacklevel=3,
        )
    with np.errstate(over="ignore"):
        upper = b_noise * np.exp(half)
    if not np.isfinite(upper):
        raise DataError(
            f"group {name!r}: the level={level!r} interval of B_noise is unbounded (its upper end "
            f"overflows; {len(batch)} batch sizes, {dof} degrees of freedom): the sweep cannot "
            "bound B_noise at this level. Pass a lower level= (--level), e.g. 0.95, or add "
            "batch sizes around B_noise"
        )
    return {
        "n_points": len(batch),
        "s_min": float(np.exp(offset)),
        "b_noise": float(b_noise),
        "b_noise_lower": float(b_noise * np.exp(-half)),
        "b_noise_upper": float(b_noise * np.exp(half)),
        "e_min": float(np.exp(offset) * b_noise),
        "b_20": OVERHEAD * float(b_noise),
        "b_20_lower": OVERHEAD * float(b_noise * np.exp(-half)),
        "b_20_upper": OVERHEAD * float(b_noise * np.exp(half)),
        "rms_log_residual": float(np.sqrt(np.mean(residuals**2))),
    }


def _scaling(fits: pd.DataFrame, level: float) -> pd.DataFrame:
    """B_noise = k·X^p by OLS in log space across groups, for X = tokens and n_params."""
    from scipy.stats import t as student

    rows = []
    for column in ("tokens", "n_params"):
        if column not in fits.columns or fits[column].nunique() < 3:
            continue
        x, y = np.log(fits[column].to_numpy(float)), np.log(fits["b_noise"].to_numpy(float))
        design = np.column_stack([np.ones_like(x), x])
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        dof = len(x) - 2
        variance = float(np.sum((design @ coef - y) ** 2)) / dof
        se = float(np.sqrt(variance * np.linalg.inv(design.T @ design)[1, 1]))
        half = float(student.ppf(0.5 + level / 2, dof)) * se
        rows.append(
            {
                "against": column,
                "coefficient": float(np.exp(coef[0])),
                "exponent": float(coef[1]),
                "exponent_lower": float(coef[1] - half),
                "exponent_upper": float(coef[1] + half),
                "n_groups": len(x),
            }
        )
    columns = ["against", "coefficient", "exponent", "exponent_lower", "exponent_upper"]
    return pd.DataFrame(rows, columns=[*columns, "n_groups"])


def steps_to_target(curves: pd.DataFrame, target: float) -> pd.DataFrame:
    """Steps each run needs to reach ``target`` loss, read off its loss curve.

    Parameters
    ----------
    curves
        ``run``, ``step``, ``loss`` and ``batch_size`` (one value per run) per logged point.
    target
        The loss to reach.

    Returns
    -------
    pandas.DataFrame
        ``run, batch_size, steps``: the first crossing, linearly interpolated between the two
        logged points around it (the first logged step if the run starts below the target).
        Runs that never reach the target are left out with a warning.
    """
    missing = [c for c in ("run", "step", "loss", "batch_size") if c not in curves.columns]
    if missing:
        raise DataError(f"loss curves need columns run, step, loss, batch_size; missing {missing}")
    if isinstance(target, bool) or not isinstance(target, Real) or not 0 < target < np.inf:
        raise DataError(f"steps_to_target: target={target!r}; expected a loss, a number > 0")
    rows, never = [], []
    for run, curve in curves.sort_values(["run", "step"]).groupby("run", sort=False):
        step, loss = curve["step"].to_numpy(float), curve["loss"].to_numpy(float)
        below = np.flatnonzero(loss <= target)
        if not len(below):
            never.append(str(run))
            continue
        i = below[0]
        if i == 0:
            crossing = step[0]
        else:
            fraction = (loss[i - 1] - target) / (loss[i - 1] - loss[i])
            crossing = step[i - 1] + fraction * (step[i] - step[i - 1])
        rows.append(
            {"run": run, "batch_size": float(curve["batch_size"].iloc[0]), "steps": crossing}
        )
    if never:
        warnings.warn(
            f"{len(never)} runs never reach loss {target:g} and are left out: {', '.join(never)}",
            ScalingFitWarning,
            stacklevel=2,
        )
    return pd.DataFrame(rows, columns=["run", "batch_size", "steps"])


def noise_scale(
    sq_norm_small: Any,
    sq_norm_big: Any,
    batch_small: float,
    batch_big: float,
    *,
    smoothing: float = 0.99,
) -> pd.DataFrame:
    r"""Simple gradient noise scale B_simple = tr(Σ)/|G|² from gradient norms at two batches.

    With |G_B|² the squared norm of the mean gradient over a batch of B examples,
    E|G_B|² = |G|² + tr(Σ)/B, so the unbiased estimators (McCandlish et al. 2018, App. A.1) are

    .. math:: |G|^2 \approx \frac{B_{big}|G_{big}|^2 - B_{small}|G_{small}|^2}{B_{big} - B_{small}},
              \quad \mathrm{tr}\,\Sigma \approx
              \frac{|G_{small}|^2 - |G_{big}|^2}{1/B_{small} - 1/B_{big}}.

    Each is smoothed by an exponential moving average before dividing (a ratio of noisy
    per-step estimates is biased and heavy-tailed); both averages start at 0, so their
    start-up bias cancels in the ratio.

    Parameters
    ----------
    sq_norm_small, sq_norm_big
        Per-step squared norms of the mean gradient at ``batch_small`` and ``batch_big``
        (same steps).
    batch_small, batch_big
        The two batch sizes (examples or tokens; B_simple comes out in the same unit).
    smoothing
        EMA decay per step (0.99: about 100 steps of memory).

    Returns
    -------
    pandas.DataFrame
        Per step: ``grad_sq`` and ``trace`` (raw estimates), ``b_simple`` (EMA ratio).

    References
    ----------
    McCandlish, Kaplan, Amodei et al. (2018), "An Empirical Model of Large-Batch Training",
    arXiv:1812.06162.
    """
    try:
        small, big = (np.asarray(x, dtype=float).ravel() for x in (sq_norm_small, sq_norm_big))
    except (TypeError, ValueError):
        raise DataError(
            "noise_scale: sq_norm_small and sq_norm_big must be arrays of numbers (squared "
            "gradient norms per step)"
        ) from None
    norms = np.concatenate([small, big])
    if not np.all(np.isfinite(norms) & (norms >= 0)):
        raise DataError(
            "noise_scale: squared gradient norms must be finite and >= 0; check that the "
            "columns hold |G|², not |G| in log space or a loss"
        )
    if small.shape != big.shape or not 0 < batch_small < batch_big or not 0 <= smoothing < 1:
        raise DataError(
            "noise_scale needs norms of equal length at two batch sizes 0 < batch_small < "
            f"batch_big and 0 <= smoothing < 1; found lengths {small.size} and {big.size}, "
            f"batches {batch_small} and {batch_big}, smoothing {smoothing}"
        )
    grad_sq = (batch_big * big - batch_small * small) / (batch_big - batch_small)
    trace = (small - big) / (1.0 / batch_small - 1.0 / batch_big)
    ratio = _ema(trace, smoothing) / _ema(grad_sq, smoothing)
    return pd.DataFrame({"grad_sq": grad_sq, "trace": trace, "b_simple": ratio})


def _ema(values: np.ndarray, decay: float) -> np.ndarray:
    """Zero-started exponential moving average, by scipy.signal.lfilter (O(n))."""
    from scipy.signal import lfilter

    return lfilter([1.0 - decay], [1.0, -decay], values)
