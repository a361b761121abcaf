"""A figure of the data alone: where the runs lie in (N, D), coloured by their loss."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DataError
from .figure import target_axes
from .style import LOSS, PARAMS, TOKENS

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes


def plot_runs(runs: pd.DataFrame, ax: Axes | None = None) -> Any:
    """Tokens against parameters (log-log) of every point, coloured by loss, with C = 6ND lines.

    Returns the figure drawn on.
    """
    missing = {"n_params", "tokens", "loss"} - set(runs.columns)
    if missing:
        raise DataError(f"plot_runs needs columns n_params, tokens, loss; missing {missing}")
    ax = target_axes(ax, 6.5, 4.5)
    n, d = runs["n_params"].to_numpy(float), runs["tokens"].to_numpy(float)
    dots = ax.scatter(n, d, c=runs["loss"], s=14, cmap="viridis_r")
    ax.figure.colorbar(dots, ax=ax, label=LOSS)
    compute = 6 * n * d
    n_grid = np.geomspace(n.min(), n.max(), 20)
    for c in np.geomspace(compute.min(), compute.max(), 4):
        ax.plot(n_grid, c / (6 * n_grid), ":", color="0.6", lw=0.8)
        ax.annotate(f"C={c:.1e}", (n_grid[0], c / (6 * n_grid[0])), fontsize=7, color="0.4")
    ax.set(xscale="log", yscale="log", xlabel=PARAMS, ylabel=TOKENS)
    ax.set_ylim(d.min() / 2, d.max() * 2)
    ax.set_title(f"{runs['run'].nunique() if 'run' in runs else len(runs)} runs; dotted: equal C")
    return ax.figure
