"""Figures of a backtest: the stability sweep and the error of each held-out run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import DataError
from .figure import target_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ..analysis.backtest import BacktestResult

KINDS = ("stability", "errors")


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
        ax.set_xlabel(f"largest {result.axis} fitted")
        ax.set_ylabel(f"predicted loss at {result.target.get('run') or 'target'} (nats/token)")
        ax.set_title("Stability: prediction as the largest scales are dropped")
    else:
        for law, rows in result.errors.groupby("law", sort=False):
            ax.plot(rows["run"], 100 * rows["relative_error"], "o", label=law)
        ax.set_xlabel("held-out run")
        ax.tick_params(axis="x", labelrotation=20)
        ax.set_ylabel("relative error |pred - loss| / loss (%)")
        ax.set_title(f"Backtest: error on the runs held out ({result.holdout})")
    ax.legend()
    return ax.figure
