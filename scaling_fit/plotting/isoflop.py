"""Figures of an isoFLOP analysis: the profiles with their local parabolas, and N*(C)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import DataError
from .figure import target_axes
from .style import COMPUTE, LOSS, PARAMS, colours

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ..results.isoflop_result import IsoflopResult

KINDS = ("profiles", "frontier")


def plot_isoflop(result: IsoflopResult, ax: Axes | None = None, *, kind: str = "profiles") -> Any:
    """Draw the isoFLOP profiles (``kind="profiles"``) or N*(C) (``"frontier"``).

    Profiles: loss against N per budget (points and the local parabola), the optima as
    stars.  Frontier: N* ∝ C^a with its bootstrap band and the per-budget optima.  Optima of
    budgets left out of the fit are drawn as crosses.  Returns the figure drawn on.
    """
    if kind not in KINDS:
        raise DataError(f"kind={kind!r} is not supported: expected 'profiles' or 'frontier'")
    ax = target_axes(ax)
    opt, ok = result.budgets, result.budgets["used"].to_numpy()
    if kind == "frontier":
        line = result.frontier()
        columns = (line[c].to_numpy(float) for c in ("compute", "n_lower", "n_upper"))
        ax.fill_between(*columns, alpha=0.25)  # arrays: matplotlib 3.7 refuses some Series
        a, k = result.params["a"], result.params["k"]
        ax.plot(line["compute"], line["n_opt"], label=f"N* = {k:.3g}·C^{a:.3f}")
        x, y, labels = opt["budget"], opt["n_opt"], (COMPUTE, f"compute-optimal {PARAMS} (N*)")
        ax.set_title("Compute-optimal model size from the isoFLOP minima")
    else:
        curves = result.curves()
        groups = list(result.points.groupby("budget"))
        for (budget, pts), colour in zip(groups, colours(len(groups)), strict=True):
            ax.plot(pts["n_params"], pts["loss"], ".", color=colour, label=f"C = {budget:.3g}")
            fit = curves.loc[curves["budget"] == budget] if len(curves) else curves
            ax.plot(fit.get("n_params", []), fit.get("loss", []), "-", color=colour)
        x, y, labels = opt["n_opt"], opt["loss_opt"], (PARAMS, LOSS)
        ax.set_title("isoFLOP profiles: loss against N at fixed compute (FLOPs)")
    ax.plot(x[ok], y[ok], "k*", label="optima")
    ax.plot(x[~ok], y[~ok], "kx", label="left out (flagged)")
    ax.set(xscale="log", yscale="log" if kind == "frontier" else "linear")
    ax.set(xlabel=labels[0], ylabel=labels[1])
    ax.legend(fontsize="small", ncol=2 if kind == "profiles" else 1)
    return ax.figure
