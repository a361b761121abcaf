"""Figures of a backtest: the stability sweep and the error of each held-out run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import DataError
from .figure import target_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ..results.backtest_result import BacktestResult

KINDS = ("stability", "errors")
# Runs are named on the x axis up to this many; more are placed at their scale instead.
MAX_NAMED_RUNS = 12
# A log axis spanning less than this factor gets plain tick labels ("1.5e+09").
NARROW_SPAN = 10.0


def plot_backtest(
    result: BacktestResult, ax: Axes | None = None, *, kind: str = "stability"
) -> Any:
    """Draw the stability sweep (``kind="stability"``) or the held-out errors (``"errors"``).

    Stability: the prediction at the target run against the largest fitted scale (log), one
    line per law, the actual loss dashed.  Errors: |L̂ − L|/L in % per held-out run and law.
    Returns the figure drawn on.
    """
    if kind not in KINDS:
        raise DataError(f"kind={kind!r} is not supported: expected 'stability' or 'errors'")
    ax = target_axes(ax, 6, 4)
    if kind == "stability":
        for law, rows in result.stability.groupby("law", sort=False):
            ax.plot(rows["largest_fitted"], rows["predicted"], "o-", label=law)
        if result.target.get("loss") is not None:
            ax.axhline(result.target["loss"], color="k", ls="--", lw=1, label="actual")
        ax.set_xscale("log")
        scales = result.stability["largest_fitted"]
        if scales.max() < NARROW_SPAN * scales.min():  # within a decade: plain, slanted labels
            from matplotlib.ticker import FuncFormatter

            plain = FuncFormatter(lambda value, _: f"{value:.3g}")
            ax.xaxis.set_major_formatter(plain)
            ax.xaxis.set_minor_formatter(plain)
            ax.tick_params(axis="x", which="both", labelrotation=30)
        ax.set_xlabel(f"largest {result.axis} fitted")
        ax.set_ylabel("predicted loss (nats/token)")
        target = result.target.get("run") or "the target"
        ax.set_title(f"Stability: prediction at {target} as the largest scales are dropped")
    else:
        by_value = result.errors["run"].nunique() > MAX_NAMED_RUNS and result.axis in result.errors
        for law, rows in result.errors.groupby("law", sort=False):
            x = rows[result.axis] if by_value else rows["run"]
            ax.plot(x, 100 * rows["relative_error"], "o", label=law)
        if by_value:  # too many runs to name: place each at its scale
            ax.set_xscale("log")
            ax.set_xlabel(f"held-out run's {result.axis}")
        else:
            ax.set_xlabel("held-out run")
            ax.tick_params(axis="x", labelrotation=20)
        ax.set_ylabel("relative error |pred - loss| / loss (%)")
        ax.set_title(f"Backtest: error on the runs held out ({result.holdout})")
    ax.legend()
    return ax.figure
