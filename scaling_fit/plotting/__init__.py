"""Figures of fits and analyses (matplotlib object API; no pyplot state).

Every function returns a :class:`Figure`, a matplotlib Figure that also shows itself in
Jupyter.  The result objects' ``plot()`` methods call these; the report embeds them.
Above the analyses, below the report and the CLI: nothing below imports this package except
inside a method named ``plot``.
"""

from __future__ import annotations

from .backtest import plot_backtest
from .curves import plot_loss_curves, plot_schedule, plot_schedule_choice
from .data import plot_runs
from .figure import Figure, figure_bytes, new_figure, save_figure
from .fit import (
    plot_extrapolation,
    plot_fit,
    plot_frontier,
    plot_loss_vs_compute,
    plot_loss_vs_tokens,
    plot_residuals,
)
from .isoflop import plot_isoflop

__all__ = [
    "Figure",
    "figure_bytes",
    "new_figure",
    "plot_backtest",
    "plot_extrapolation",
    "plot_fit",
    "plot_frontier",
    "plot_isoflop",
    "plot_loss_curves",
    "plot_loss_vs_compute",
    "plot_loss_vs_tokens",
    "plot_residuals",
    "plot_runs",
    "plot_schedule",
    "plot_schedule_choice",
    "save_figure",
]
