"""Figures of a final-loss law L(N, D): the data and the fit, residuals, extrapolation, frontier.

Every function takes a :class:`~scaling_fit.FitResult` and returns the
:class:`~scaling_fit.plotting.Figure` it drew on (``ax.figure`` when ``ax`` is given).
Compute is C = 6ND FLOPs, loss in nats/token; N and D span decades, so their axes are log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DataError
from ..inputs.columns import FLOPS_PER_PARAM_TOKEN
from .figure import new_figure, target_axes
from .style import (
    COMPUTE,
    LOSS,
    PARAMS,
    TOKENS,
    annotate_figure,
    annotate_law,
    colours,
    human,
    outside_legend,
    require_point_law,
    size_groups,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ..results.fit_result import FitResult

KINDS = ("compute", "tokens", "residuals", "extrapolation", "frontier", "curves")


def plot_fit(result: FitResult, kind: str | None = None, **options: Any) -> Any:
    """The figure of ``kind`` for a fit; the default suits the law.

    ``"compute"`` (default for L(N, D) laws): loss against compute per model size with the
    fitted curves; ``"tokens"``: loss against D per size; ``"residuals"`` (default for a law
    that reads other columns too, e.g. ``unique_tokens``): residuals by size;
    ``"extrapolation"``: prediction towards ``n_params=``, ``tokens=`` with its band;
    ``"frontier"``: N_opt(C) and D_opt(C); ``"curves"`` (default for loss-curve laws):
    observed, fitted and predicted loss curves with the LR schedules beneath.
    """
    if kind is None:
        kind = "curves" if result.law.fits_curves else _default_kind(result.law.inputs)
    if kind == "curves":
        from .curves import plot_loss_curves

        return plot_loss_curves(result, **options)
    functions = {
        "compute": plot_loss_vs_compute,
        "tokens": plot_loss_vs_tokens,
        "residuals": plot_residuals,
        "extrapolation": plot_extrapolation,
        "frontier": plot_frontier,
    }
    if kind not in functions:
        raise DataError(f"kind={kind!r} is not a fit plot: expected one of {', '.join(KINDS)}")
    return functions[kind](result, **options)


def _default_kind(inputs: tuple[str, ...]) -> str:
    """``"compute"`` for an L(N, D) law; ``"residuals"`` for one that reads other columns too."""
    return "compute" if set(inputs) <= {"n_params", "tokens"} else "residuals"


def plot_loss_vs_compute(result: FitResult, ax: Axes | None = None) -> Any:
    """Loss against compute C = 6ND, points coloured by model size, the fit per size."""
    require_point_law(result, "plot_loss_vs_compute")
    ax = target_axes(ax)
    data = result.data
    compute = FLOPS_PER_PARAM_TOKEN * data["n_params"] * data["tokens"]
    groups, labels, sizes = size_groups(data["n_params"])
    for g, colour in enumerate(colours(len(labels))):
        rows = groups == g
        ax.scatter(compute[rows], data["loss"][rows], s=12, color=colour, label=labels[g])
        grid = np.geomspace(compute[rows].min(), compute[rows].max(), 60)
        tokens = grid / (FLOPS_PER_PARAM_TOKEN * sizes[g])
        ax.plot(grid, _predict(result, sizes[g], tokens), "-", color=colour, lw=1.2)
    _draw_frontier_loss(ax, result, compute)
    ax.set(xscale="log", xlabel=COMPUTE, ylabel=LOSS, title="Loss against compute, by model size")
    outside_legend(ax, "points; lines: fit")
    annotate_law(ax, result)
    return ax.figure


def _draw_frontier_loss(ax: Axes, result: FitResult, compute: Any) -> None:
    grid = np.geomspace(np.min(compute), np.max(compute), 60)
    try:
        table = result.compute_optimal(grid, max_extrapolation=np.inf)
    except Exception:  # a law without a finite optimum: no frontier to draw
        return
    ax.plot(table["compute"], table["loss"], "k--", lw=1, label="compute-optimal")


def plot_loss_vs_tokens(result: FitResult, ax: Axes | None = None) -> Any:
    """Loss against training tokens D, one colour per model size, the fitted L(N, D) per size."""
    require_point_law(result, "plot_loss_vs_tokens")
    ax = target_axes(ax)
    data = result.data
    groups, labels, sizes = size_groups(data["n_params"])
    for g, colour in enumerate(colours(len(labels))):
        rows = groups == g
        tokens = data["tokens"][rows]
        ax.scatter(tokens, data["loss"][rows], s=12, color=colour, label=labels[g])
        grid = np.geomspace(tokens.min(), tokens.max(), 60)
        ax.plot(grid, _predict(result, sizes[g], grid), "-", color=colour, lw=1.2)
    ax.set(xscale="log", xlabel=TOKENS, ylabel=LOSS, title="Loss against data, by model size")
    outside_legend(ax, "points; lines: fit")
    annotate_law(ax, result)
    return ax.figure


def plot_residuals(result: FitResult, ax: Axes | None = None) -> Any:
    """Residual of every fitted point against its model size (log N), by size group."""
    require_point_law(result, "plot_residuals", other_inputs=True)
    ax = target_axes(ax)
    data = result.data
    groups, labels, _ = size_groups(data["n_params"])
    linear = result.options.get("loss") == "mse_linear"
    scale = 1.0 if linear else 100.0
    for g, colour in enumerate(colours(len(labels))):
        rows = groups == g
        ax.scatter(
            data["n_params"][rows],
            scale * result.residuals[rows],
            s=12,
            color=colour,
            label=labels[g],
        )
    ax.axhline(0, color="k", lw=0.8)
    ylabel = "residual L̂ − L (nats/token)" if linear else "residual log L̂ − log L (≈ %)"
    ax.set(xscale="log", xlabel=PARAMS, ylabel=ylabel, title="Residuals by model size")
    outside_legend(ax)
    annotate_law(ax, result)
    return ax.figure


def plot_extrapolation(
    result: FitResult,
    n_params: float,
    tokens: float,
    *,
    level: float = 0.95,
    ax: Axes | None = None,
) -> Any:
    """Predicted loss from the data out to a target (N, D) at its tokens per parameter.

    The line follows D = N·(tokens/n_params) from the smallest fitted N to the target; with
    a bootstrapped fit the ``level`` band of the bootstrap predictions is shaded and the
    target gets its interval as an error bar.
    """
    require_point_law(result, "plot_extrapolation")
    ax = target_axes(ax)
    data, ratio = result.data, tokens / n_params
    ax.scatter(
        FLOPS_PER_PARAM_TOKEN * data["n_params"] * data["tokens"],
        data["loss"],
        s=10,
        color="0.6",
        label="fitted runs",
    )
    n = np.geomspace(min(data["n_params"].min(), n_params), n_params, 80)
    compute = FLOPS_PER_PARAM_TOKEN * n * n * ratio
    loss = _predict(result, n, n * ratio)
    ax.plot(compute, loss, "C0-", label=f"prediction at D/N = {ratio:.3g}")
    target_c = FLOPS_PER_PARAM_TOKEN * n_params * tokens
    headline = _predict(result, n_params, tokens)[0]
    text = f"L̂(N = {human(n_params)}, D = {human(tokens)}) = {headline:.4f}"
    if result.samples is not None:
        band = result.predict_interval(n_params=n, tokens=n * ratio, level=level)
        ax.fill_between(  # plain float arrays: matplotlib 3.7 refuses some pandas Series
            compute,
            band["lower"].to_numpy(float),
            band["upper"].to_numpy(float),
            color="C0",
            alpha=0.25,
            label=f"{100 * level:g}% bootstrap band",
        )
        lo, hi = band["lower"].iloc[-1], band["upper"].iloc[-1]
        ax.vlines(target_c, lo, hi, color="C3")  # the interval (it need not contain L̂)
        text += f" [{lo:.4f}, {hi:.4f}]"
    ax.plot([target_c], [headline], "C3*", ms=12, label=text)
    ax.set(xscale="log", xlabel=COMPUTE, ylabel=LOSS, title="Extrapolation to the target")
    ax.legend(fontsize="small", loc="upper right")
    annotate_law(ax, result)
    return ax.figure


def plot_frontier(result: FitResult, compute: Any = None, *, level: float = 0.95) -> Any:
    """Compute-optimal N_opt(C) and D_opt(C), each with its bootstrap interval when there is one.

    ``compute`` defaults to 60 budgets from the smallest fitted run's compute to 1000 times
    the largest; the fitted range is shaded.
    """
    require_point_law(result, "plot_frontier")
    data = result.data
    fitted = FLOPS_PER_PARAM_TOKEN * data["n_params"] * data["tokens"]
    grid = np.geomspace(fitted.min(), 1e3 * fitted.max(), 60) if compute is None else compute
    table = result.compute_optimal(grid, level=level, max_extrapolation=np.inf)
    fig = new_figure(7, 6.4)
    top, bottom = fig.subplots(2, 1, sharex=True)
    for ax, column, label in ((top, "n_params", "N_opt"), (bottom, "tokens", "D_opt")):
        ax.plot(table["compute"], table[column], "C0-", label=f"{label}(C)")
        if table[f"{column}_lower"].notna().any():
            ax.fill_between(
                table["compute"].to_numpy(float),
                table[f"{column}_lower"].to_numpy(float),
                table[f"{column}_upper"].to_numpy(float),
                color="C0",
                alpha=0.25,
                label=f"{100 * level:g}% bootstrap interval",
            )
        ax.axvspan(fitted.min(), fitted.max(), color="0.92", zorder=0, label="fitted compute")
        unit = PARAMS if column == "n_params" else TOKENS
        ax.set(xscale="log", yscale="log", ylabel=f"compute-optimal {unit}")
        ax.legend(fontsize="small", loc="upper left")
    bottom.set_xlabel(COMPUTE)
    top.set_title(f"Compute-optimal allocation ({table['cost_model'].iloc[0]})", wrap=True)
    annotate_figure(fig, result)
    return fig


def _predict(result: FitResult, n_params: Any, tokens: Any) -> np.ndarray:
    """Loss from the fitted law without the extrapolation warning (plots show the range)."""
    return np.atleast_1d(result.predict(n_params=n_params, tokens=tokens, max_extrapolation=np.inf))
