"""PredictionsResult: a table of predictions of a fit (``scaling-fit predict``).

JSON tag ``scaling_fit.Predictions/1``: ``{"format", "columns": {name: [values]}}``, the
layout the command line wrote before the class existed.  :func:`predictions` makes the
table ``scaling-fit predict`` writes (a grid, budgets or a loss curve) in one call; any other
prediction table can be wrapped: ``PredictionsResult(fit.predict_interval(...))``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..arguments import DEFAULT_EVERY, checked
from ..errors import DataError, NoAnswerError, argument
from ..inputs.columns import FLOPS_PER_PARAM_TOKEN
from .allocation import SPAN_DECADES, describe_cost
from .base import Result, Section, Table
from .json_file import table_field
from .json_safe import check_finite, json_columns

if TYPE_CHECKING:
    from .fit_result import FitResult

SHOWN = 20  # rows in the report


def _six(value: float) -> str:
    return f"{value:.6g}"


@dataclass(frozen=True, repr=False)
class PredictionsResult(Result):
    """A table of predictions (one row per input point or step).

    Attributes
    ----------
    table : pandas.DataFrame
        The predictions, as the function that made them returns them.
    """

    FORMAT = "scaling_fit.Predictions/1"
    WHAT = "table of predictions"

    table: pd.DataFrame

    def sections(self) -> list[Section]:
        """The first 20 rows, then how many are left out."""
        shown = self.table.head(SHOWN)
        more = len(self.table) - len(shown)
        body: list[str | Table] = [Table(shown, float_format=_six)]
        if more > 0:
            body.append(f"… {more} more rows (all: --format csv or json)")
        return [Section(f"predictions: {len(self.table)} rows", body)]

    def __repr__(self) -> str:
        return self.report()

    def to_dict(self) -> dict[str, Any]:
        """``{"format": …, "columns": {name: [values]}}`` (NaN as None)."""
        return {"format": self.FORMAT, "columns": json_columns(self.table)}

    @classmethod
    def _from_dict(cls, raw: dict[str, Any]) -> PredictionsResult:
        columns = raw["columns"]
        text = tuple(
            name
            for name, values in (columns.items() if isinstance(columns, dict) else ())
            if isinstance(values, list) and any(isinstance(v, str) for v in values)
        )
        return cls(table_field(columns, "columns", (), text=text))


# Interval columns of L(N, D) predictions, when the fit has bootstrap samples.
DEFAULT_LEVEL = 0.95
CURVE_ONLY = ("schedule", "every", "steps")
POINTS_ONLY = ("n_params", "tokens", "compute", "flops_per_param_token")


@checked
def predictions(
    fit: FitResult,
    *,
    n_params: Any = None,
    tokens: Any = None,
    compute: Any = None,
    flops_per_param_token: float | None = None,
    schedule: Any = None,
    steps: Any = None,
    every: int | None = None,
    level: float | None = None,
    allow_unconverged: bool = False,
) -> PredictionsResult:
    """The table of predictions ``scaling-fit predict`` writes, from one call.

    An L(N, D) fit predicts the loss over the grid ``n_params`` × ``tokens`` (columns
    ``n_params, tokens, loss, lower, upper``; the interval at ``level``, default 0.95, when
    the fit has bootstrap samples, else empty) or, with ``compute``, the compute-optimal
    allocation per budget (:meth:`FitResult.compute_optimal`, cost model
    C = K·N·D with K = ``flops_per_param_token``, default 6).  A loss-curve fit predicts
    ``step, lr, loss`` under ``schedule`` at ``steps`` or every ``every`` steps (default
    100) after the warm-up (:meth:`FitResult.predict_curve`); with ``level`` the bootstrap
    band is in ``lower, upper``.

    Parameters
    ----------
    fit
        A fit of any law (``FitResult.from_json(path)`` reads a saved one).
    n_params, tokens
        Model sizes and token counts of the grid (one row per pair).
    compute
        Budgets in FLOPs: the compute-optimal N, D and loss of each.
    flops_per_param_token
        K of the cost model of ``compute``.
    schedule, steps, every
        The LR schedule of a loss-curve prediction, and which of its steps to predict.
    level
        Level of the bootstrap interval (needs a fit with ``bootstrap``).
    allow_unconverged
        Predict from a fit that did not converge, with a warning.

    Returns
    -------
    PredictionsResult

    Raises
    ------
    DataError
        Arguments that do not suit the fit's law or each other (``schedule`` for an L(N, D)
        law, ``n_params`` without ``tokens``, …), or a prediction that overflows.
    NoAnswerError
        A budget at which the law has no compute-optimal allocation (its loss keeps falling
        as N grows or shrinks at fixed compute).
    """
    given = {
        "n_params": n_params,
        "tokens": tokens,
        "compute": compute,
        "flops_per_param_token": flops_per_param_token,
        "schedule": schedule,
        "steps": steps,
        "every": every,
    }
    _check_options(fit, given)
    if fit.law.fits_curves:
        table = fit.predict_curve(
            schedule,
            steps,
            every=DEFAULT_EVERY if every is None else every,
            level=level,
            allow_unconverged=allow_unconverged,
        ).rename(columns={"loss_lo": "lower", "loss_hi": "upper"})
    elif compute is not None:
        k = FLOPS_PER_PARAM_TOKEN if flops_per_param_token is None else flops_per_param_token
        table = _allocation(fit, compute, k, level, allow_unconverged)
    else:
        table = _grid(fit, n_params, tokens, level, allow_unconverged)
    return PredictionsResult(pd.DataFrame(table))


def _check_options(fit: FitResult, given: dict[str, Any]) -> None:
    """DataError for arguments (``given``: name → value, None when not given) that do not
    suit the law (curve vs L(N, D)) or each other."""
    name = fit.law.name
    used = [key for key in (*POINTS_ONLY, *CURVE_ONLY) if given[key] is not None]
    if fit.law.fits_curves:
        wrong = [key for key in used if key in POINTS_ONLY]
        if wrong or given["schedule"] is None:
            what = f"{argument(wrong[0])} is for L(N, D) laws; " if wrong else ""
            raise DataError(
                f"predictions: {what}law {name!r} is a loss-curve law: predict its curve with "
                f"{argument('schedule')} and {argument('every')} or {argument('steps')}"
            )
        if given["every"] is not None and given["steps"] is not None:
            raise DataError(
                f"predictions: give {argument('every')} or {argument('steps')}, not both"
            )
        return
    wrong = [key for key in used if key in CURVE_ONLY]
    if wrong:
        raise DataError(
            f"predictions: {argument(wrong[0])} is for loss-curve laws (multipower, "
            f"lr_annealing); law {name!r} takes {list(fit.law.inputs)}: give "
            f"{argument('n_params')} and {argument('tokens')}, or {argument('compute')}"
        )
    others = [c for c in fit.law.inputs if c not in ("n_params", "tokens")]
    if others:
        raise DataError(
            f"predictions: law {name!r} also reads {others}, which predictions takes no "
            f"values of: predict it with fit.predict(n_params=..., tokens=..., {others[0]}=...)"
        )
    grid = given["n_params"] is not None or given["tokens"] is not None
    if grid == (given["compute"] is not None):
        raise DataError(
            f"predictions: give either {argument('n_params')} and {argument('tokens')}, or "
            f"{argument('compute')}"
        )
    if grid and (given["n_params"] is None or given["tokens"] is None):
        raise DataError(f"predictions: {argument('n_params')} and {argument('tokens')} go together")
    if grid and given["flops_per_param_token"] is not None:
        raise DataError(
            f"predictions: {argument('flops_per_param_token')} sets the cost model of "
            f"{argument('compute')}; a grid of n_params and tokens has none"
        )


def _grid(
    fit: FitResult, n_params: Any, tokens: Any, level: float | None, allow: bool
) -> dict[str, Any]:
    """Losses over the N × D grid, with bootstrap intervals when the fit has samples.

    Without samples the interval columns are empty, unless ``level`` asks for them (then
    :meth:`FitResult.predict_interval` says that the fit needs a bootstrap).
    """
    n_params, tokens = np.atleast_1d(n_params), np.atleast_1d(tokens)
    n = np.repeat(n_params, len(tokens))
    d = np.tile(tokens, len(n_params))
    loss = fit.predict(n_params=n, tokens=d, allow_unconverged=allow)
    table = {"n_params": n, "tokens": d, "loss": loss}
    table["lower"] = table["upper"] = np.full(len(n), np.nan)
    if fit.samples is not None or level is not None:
        interval = fit.predict_interval(
            n_params=n,
            tokens=d,
            level=DEFAULT_LEVEL if level is None else level,
            allow_unconverged=allow,
        )
        table["lower"], table["upper"] = interval["lower"], interval["upper"]
    check_finite(
        table,
        ["n_params", "tokens"],
        ["loss"],
        "predict",
        f"law {fit.law.name!r} overflows there; predict at sizes nearer its fitted range",
        bounds=["lower", "upper"],
    )
    return table


def _allocation(
    fit: FitResult, compute: Any, k: float, level: float | None, allow: bool
) -> pd.DataFrame:
    """Compute-optimal table; NoAnswerError where the law has no finite optimum."""
    table = fit.compute_optimal(
        compute,
        flops_per_param_token=k,
        level=DEFAULT_LEVEL if level is None else level,
        allow_unconverged=allow,
    )
    missing = table["n_params"].isna().to_numpy()
    if missing.any():
        raise NoAnswerError(_no_optimum(fit, float(table["compute"][missing].iloc[0]), k))
    return table


def _no_optimum(fit: FitResult, budget: float, k: float) -> str:
    """Why a budget has no optimum: the loss falls towards the small or the large N end."""
    n = np.sqrt(budget / k) * 10.0 ** np.array([-SPAN_DECADES, SPAN_DECADES])
    with np.errstate(all="ignore"):
        loss = fit.law.predict(n, budget / (k * n), **fit.params)
    way = "grows" if loss[1] < loss[0] else "shrinks"
    return (
        f"law {fit.law.name!r} with these parameters has no compute-optimal allocation at "
        f"C={budget:.4g} FLOPs under {describe_cost(k)}: at fixed compute its predicted loss "
        f"keeps falling as N {way} (no minimum between 1e-12 and 1e12 tokens per parameter). "
        f"Predict chosen sizes with {argument('n_params')} and {argument('tokens')} instead"
    )
