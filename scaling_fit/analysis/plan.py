"""plan(): the hyperparameters and expected outcome of one planned training run, as a table.

Every row names the law (or rule) it comes from and carries an interval:

* peak learning rate and batch size: Step Law (Li et al. 2025, arXiv:2503.04715), published
  (interval from the covariance of the authors' 1,000 bootstrap fits) or fitted to your sweep
  by :func:`scaling_fit.fit_hparams` (bootstrap percentiles);
* steps = D / B and the warm-up (a stated fraction of the steps: a convention, not a law);
* with an L(N, D) fit: the predicted loss, Kaplan's critical batch B_crit(L) at that loss
  (Kaplan et al. 2020, arXiv:2001.08361; a 2×-steps definition, on Kaplan's data), and the
  compute-optimal (N, D) and loss at the same compute.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..arguments import checked
from ..errors import DataError, ScalingFitWarning
from ..inputs.columns import FLOPS_PER_PARAM_TOKEN
from ..inputs.validate import check_positive_inputs
from ..laws import get_law
from ..laws.steplaw import BATCH_COVARIANCE, LR_COVARIANCE
from ..results.critical_batch_result import CriticalBatchResult
from ..results.fit_result import FitResult
from ..results.hparams_result import HparamsResult
from .hparams import SEQUENCE_LIKE

COLUMNS = ["quantity", "value", "lower", "upper", "unit", "law"]
# Warm-up as a share of the steps when not given: Kaplan et al. warmed up for 3,000 of
# 250,000 steps (1.2 %); a convention, not a fitted law.
WARMUP_FRACTION = 0.01


@checked
def plan(
    *,
    n_params: float | None = None,
    tokens: float | None = None,
    compute: float | None = None,
    seq_len: int = 2048,
    fit: FitResult | None = None,
    hparams: HparamsResult | None = None,
    cbs: CriticalBatchResult | None = None,
    warmup_fraction: float = WARMUP_FRACTION,
    level: float = 0.95,
) -> pd.DataFrame:
    """One table of choices and predictions for a planned run.

    Parameters
    ----------
    n_params, tokens, compute
        The run: N (non-embedding, Step Law's convention) and D, or N and a budget C = 6·N·D,
        or only C with ``fit`` (then the fit's compute-optimal N and D).
    seq_len
        Tokens per sequence, to express the batch in sequences.
    fit
        An L(N, D) :class:`~scaling_fit.FitResult`: adds the predicted loss (interval when the
        fit was bootstrapped), Kaplan's B_crit at that loss and the compute-optimal run.
    hparams
        A :func:`~scaling_fit.fit_hparams` result to use instead of the published Step Law.
    cbs
        A :func:`~scaling_fit.fit_critical_batch` result over sweeps at several token counts:
        adds B_noise and Zhang et al.'s B_20 at this run's D (B_noise = k·D^p across sweeps).
    warmup_fraction
        Warm-up steps as a share of the steps.
    level
        Level of every interval.

    Returns
    -------
    pandas.DataFrame
        Columns ``quantity, value, lower, upper, unit, law``.

    Warns
    -----
    ScalingFitWarning
        When the run lies more than 10× outside the range ``fit`` or ``hparams`` were fitted
        on (as :meth:`FitResult.predict`).
    """
    _check_results(fit=fit, hparams=hparams, cbs=cbs)
    if fit is not None and (fit.law.output != "loss" or fit.law.inputs != ("n_params", "tokens")):
        raise DataError(
            f"fit= must be an L(n_params, tokens) loss fit; law {fit.law.name!r} predicts "
            f"{fit.law.output} from {list(fit.law.inputs)}"
        )
    seq_len = int(seq_len)
    n_params, tokens, compute = _run(n_params, tokens, compute, fit)
    if not np.isfinite([n_params, tokens, compute]).all():
        raise DataError(
            f"plan: n_params={n_params:g}, tokens={tokens:g}, compute={compute:g} lie out of "
            "the range of floating-point numbers (C = 6 N D overflows); plan a run of a "
            "realistic size (e.g. --n-params 7B --tokens 1.4T)"
        )
    rows = [
        _row("n_params", n_params, np.nan, np.nan, "parameters", "given"),
        _row("tokens", tokens, np.nan, np.nan, "tokens", "given"),
        _row("compute", compute, np.nan, np.nan, "FLOPs", "C = 6 N D"),
    ]
    lr, batch, (lr_source, batch_source) = _hparams(n_params, tokens, hparams, level)
    rows.append(_row("peak_lr", *lr, "learning rate", f"steplaw_lr ({lr_source})"))
    rows.append(_row("batch_size", *batch, "tokens per step", f"steplaw_batch ({batch_source})"))
    rows += _step_rows(np.asarray(batch, dtype=float), tokens, seq_len, warmup_fraction)
    if cbs is not None:
        rows += _cbs_rows(cbs, tokens, level)
    if fit is not None:
        rows += _loss_rows(fit, n_params, tokens, compute, level)
    table = pd.DataFrame(rows, columns=COLUMNS)
    _check_finite(table, n_params, tokens, level)
    return table


def _check_results(**results: Any) -> None:
    """DataError unless each of fit=, hparams=, cbs= is None or a result of its kind."""
    kinds = {"fit": FitResult, "hparams": HparamsResult, "cbs": CriticalBatchResult}
    for name, value in results.items():
        if value is not None and not isinstance(value, kinds[name]):
            raise DataError(
                f"plan: {name}= expected a {kinds[name].__name__} (read a file with "
                f"{kinds[name].__name__}.from_json), found {type(value).__name__}"
            )


def _step_rows(
    batch: np.ndarray, tokens: float, seq_len: int, warmup_fraction: float
) -> list[dict[str, Any]]:
    """Rows of the batch in sequences, the steps and the warm-up, from (value, lower, upper)
    of the batch in tokens (an unbounded interval gives inf, refused by _check_finite)."""
    with np.errstate(divide="ignore", over="ignore"):
        sequences = batch / seq_len
        steps = tokens / batch[[0, 2, 1]]
    unit = f"sequences of {seq_len}"
    rule = f"{warmup_fraction:g} x steps (a convention, not a law)"
    return [
        _row("batch_sequences", *sequences, unit, "batch_size / seq_len"),
        _row("steps", *steps, "optimizer steps", "tokens / batch_size"),
        _row("warmup_steps", *(warmup_fraction * steps), "optimizer steps", rule),
    ]


def _check_finite(table: pd.DataFrame, n_params: float, tokens: float, level: float) -> None:
    """DataError naming the first quantity that overflowed (a run far out of every law's
    range, e.g. N = D = 1e300) or whose interval is unbounded (a level near 1), or a plan
    with less than one step."""
    values = table[["value", "lower", "upper"]].to_numpy(float)
    bad = ~np.isfinite(values[:, 0]) | np.isinf(values[:, 1:]).any(axis=1)
    if bad.any():
        row = table[bad].iloc[0]
        if np.isfinite(row["value"]):
            raise DataError(
                f"plan: the level={level!r} interval of {row['quantity']} is unbounded "
                f"({float(row['lower']):g} to {float(row['upper']):g}); pass a lower level=, "
                "e.g. 0.95"
            )
        raise DataError(
            f"plan: n_params={n_params:g}, tokens={tokens:g} lie out of the laws' range: "
            f"{row['quantity']} comes out as {float(row['value']):g} (interval "
            f"{float(row['lower']):g} to {float(row['upper']):g}); plan a run of a realistic "
            "size (e.g. --n-params 7B --tokens 1.4T)"
        )
    steps = float(table.set_index("quantity").at["steps", "value"])
    if steps < 1:
        raise DataError(
            f"plan: tokens={tokens:g} (--tokens) is less than one batch of the law "
            f"({float(table.set_index('quantity').at['batch_size', 'value']):.3g} tokens): "
            f"{steps:.3g} optimizer steps; plan at least one batch of tokens"
        )


def _run(
    n_params: float | None, tokens: float | None, compute: float | None, fit: FitResult | None
) -> tuple[float, float, float]:
    given = {"n_params": n_params, "tokens": tokens, "compute": compute}
    check_positive_inputs({k: v for k, v in given.items() if v is not None}, "plan")
    known = {k: float(v) for k, v in given.items() if v is not None}
    k = FLOPS_PER_PARAM_TOKEN
    if set(known) == {"n_params", "tokens"}:
        return known["n_params"], known["tokens"], k * known["n_params"] * known["tokens"]
    if set(known) == {"n_params", "compute"}:
        return known["n_params"], known["compute"] / (k * known["n_params"]), known["compute"]
    if set(known) == {"compute"} and fit is not None:
        optimum = fit.compute_optimal(known["compute"]).iloc[0]
        return float(optimum["n_params"]), float(optimum["tokens"]), known["compute"]
    raise DataError(
        "a plan needs the model size and the tokens, the model size and the compute, or the "
        f"compute and an L(N, D) fit; found {sorted(known) or 'none'}"
        f"{'' if fit is not None else ' and no fit'}"
    )


def _hparams(
    n: float, d: float, hparams: HparamsResult | None, level: float
) -> tuple[tuple[float, float, float], tuple[float, float, float], tuple[str, str]]:
    """(value, lower, upper) of the peak LR and of the batch in tokens, and their sources
    (the published batch law when ``hparams`` does not identify B*)."""
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + level / 2))
    published = "published; interval from the spread of the authors' bootstrap fits"
    batch_law = get_law("steplaw_batch")
    batch_value = batch_law.predict(d, **batch_law.published)
    batch = _published(batch_value, [1, np.log(d)], BATCH_COVARIANCE, z)
    if hparams is not None:
        _warn_sequences(hparams)
        row = hparams.predict(n, d, level=level).iloc[0]
        source = f"fitted by fit_hparams, rule {hparams.rule}, bootstrap percentiles"
        lr = (row["lr"], row["lr_lower"], row["lr_upper"])
        lr_source = source if np.isfinite(row["lr_lower"]) else _no_interval(hparams)
        if not hparams.batch_identified:
            warnings.warn(
                "hparams= does not identify B* (an LR-only sweep): the batch size is the "
                "published Step Law's, and the peak LR is the sweep's optimum at its own batch "
                "size; sweep the batch size to fit both",
                ScalingFitWarning,
                stacklevel=3,
            )
            return lr, batch, (lr_source, published)
        batch = (row["batch_size"], row["batch_size_lower"], row["batch_size_upper"])
        batch_source = source if np.isfinite(row["batch_size_lower"]) else _no_interval(hparams)
        return lr, batch, (lr_source, batch_source)
    lr_law = get_law("steplaw_lr")
    lr_value = lr_law.predict(n, d, **lr_law.published)
    lr = _published(lr_value, [1, np.log(n), np.log(d)], LR_COVARIANCE, z)
    return lr, batch, (published, published)


def _no_interval(hparams: HparamsResult) -> str:
    """The source of a fitted quantity without bootstrap bounds (fitted with bootstrap=0, or
    a warning of HparamsResult.predict says why)."""
    return f"fitted by fit_hparams, rule {hparams.rule}; no bootstrap interval"


def _warn_sequences(hparams: HparamsResult) -> None:
    """Warn when the sweep's batch sizes were fitted as given and look like sequences: the
    plan's batch_size (tokens) and steps would then be off by the sequence length."""
    if hparams.batch is not None:
        sizes = hparams.batch.data["batch_size"].to_numpy(float)
    else:
        sizes = hparams.cells.get("best_batch_size", pd.Series(dtype=float)).to_numpy(float)
    if hparams.lr.options.get("seq_len") is None and len(sizes) and sizes.max() < SEQUENCE_LIKE:
        warnings.warn(
            f"hparams= was fitted on batch sizes of {sizes.min():g} to {sizes.max():g} without "
            "seq_len=: they look like sequences, so this plan's batch_size, batch_sequences "
            "and steps are off by the sequence length; refit with seq_len= (--seq-len)",
            ScalingFitWarning,
            stacklevel=3,
        )


def _published(value: Any, x: list[float], covariance: Any, z: float) -> tuple[float, float, float]:
    """A log-linear prediction with its normal interval: log-variance x' S x."""
    x = np.asarray(x, dtype=float)
    spread = float(np.sqrt(x @ np.asarray(covariance) @ x))
    value = float(value)
    return value, value * np.exp(-z * spread), value * np.exp(z * spread)


def _cbs_rows(cbs: CriticalBatchResult, tokens: float, level: float) -> list[dict[str, Any]]:
    row = cbs.predict(tokens, level=level).iloc[0]
    across = "fit_critical_batch, B_noise = k D^p across your sweeps"
    return [
        _row("critical_batch_noise", row["b_noise"], row["b_noise_lower"], row["b_noise_upper"],
             "tokens per step", f"{across} (2x-steps definition)"),
        _row("critical_batch_20", row["b_20"], row["b_20_lower"], row["b_20_upper"],
             "tokens per step", f"{across}; Zhang et al. 20 % overhead = 0.2 B_noise"),
    ]  # fmt: skip


def _loss_rows(
    fit: FitResult, n: float, d: float, compute: float, level: float
) -> list[dict[str, Any]]:
    name = fit.law.name
    loss = _loss_with_interval(fit, n, d, level)
    rows = [_row("loss", *loss, "nats/token (the fit's loss)", f"{name} fit")]
    kaplan = get_law("kaplan_bcrit")
    # B_crit falls with the loss, so the interval's ends swap.
    crit = [float(kaplan.predict(v, **kaplan.published)) for v in (loss[0], loss[2], loss[1])]
    law = "kaplan_bcrit at the predicted loss (2x-steps definition, Kaplan's WebText2 data)"
    rows.append(_row("critical_batch", *crit, "tokens per step", law))
    optimum = fit.compute_optimal(compute, level=level).iloc[0]
    alt = f"{name} fit, compute-optimal at the same compute"
    for column, unit in (("n_params", "parameters"), ("tokens", "tokens")):
        values = (optimum[column], optimum[f"{column}_lower"], optimum[f"{column}_upper"])
        rows.append(_row(f"{column}_opt", *values, unit, alt))
    loss_opt = _loss_with_interval(fit, optimum["n_params"], optimum["tokens"], level)
    rows.append(_row("loss_opt", *loss_opt, "nats/token", alt + " (interval at that N, D)"))
    return rows


def _loss_with_interval(
    fit: FitResult, n: float, d: float, level: float
) -> tuple[float, float, float]:
    if fit.samples is None:
        return float(fit.predict(n_params=n, tokens=d)[()]), np.nan, np.nan
    fit.predict(n_params=n, tokens=d)  # warns when far outside the fitted range
    row = fit.predict_interval(n_params=n, tokens=d, level=level).iloc[0]
    return float(row["loss"]), float(row["lower"]), float(row["upper"])


def _row(quantity: str, value: Any, lower: Any, upper: Any, unit: str, law: str) -> dict[str, Any]:
    return {
        "quantity": quantity,
        "value": float(value),
        "lower": float(lower),
        "upper": float(upper),
        "unit": unit,
        "law": law,
    }
