"""Shared labels, colours, size groups and the law's note drawn on every fit figure."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import DataError
from ..results.numbers import human

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ..results.fit_result import FitResult

LOSS = "loss (nats/token)"
COMPUTE = "training compute C = 6ND (FLOPs)"
PARAMS = "parameters N"
TOKENS = "training tokens D"
STEP = "step"
LR = "learning rate"
# At most this many size groups get their own colour and curve; more distinct N are binned.
MAX_GROUPS = 7
# Characters per line of the law's note under a plot.
NOTE_WIDTH = 90
# Average width of a character of the default sans-serif font, in ems (DejaVu Sans: ~0.55).
CHAR_EM = 0.6


def colours(count: int) -> list[Any]:
    """``count`` colours along viridis (dark to light, excluding the palest yellow)."""
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(0.9 * i / max(1, count - 1)) for i in range(count)]


def size_groups(n_params: pd.Series) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Group rows by model size: one group per distinct N, or log-spaced bins when many.

    Returns the group index of each row, a label per group and each group's representative
    N (the geometric mean of its sizes).
    """
    n = n_params.to_numpy(float)
    distinct = np.unique(n)
    if len(distinct) <= MAX_GROUPS:
        index = np.searchsorted(distinct, n)
        return index, [f"N = {human(v)}" for v in distinct], distinct
    edges = np.geomspace(distinct[0], distinct[-1], MAX_GROUPS + 1)
    index = np.clip(np.searchsorted(edges, n, side="right") - 1, 0, MAX_GROUPS - 1)
    used = np.unique(index)
    index = np.searchsorted(used, index)
    labels = [f"N {human(edges[g])}–{human(edges[g + 1])}" for g in used]
    centres = np.array([np.exp(np.log(n[index == g]).mean()) for g in range(len(used))])
    return index, labels, centres


def line_chars(width_in: float, points: float) -> int:
    """Characters of ``points``-point text that fit a line ``width_in`` inches wide (92 %)."""
    return max(20, int(0.92 * width_in * 72 / (CHAR_EM * points)))


def law_note(result: FitResult, width: int = 60) -> str:
    """The law's formula and fitted parameters, wrapped for a corner of a plot."""
    values = ", ".join(f"{k} = {v:.4g}" for k, v in result.params.items())
    head = f"{result.law.name}: {result.law.description}" if result.law.description else ""
    lines = textwrap.wrap(head, width) + textwrap.wrap(values, width)
    return "\n".join(lines)


def annotate_law(ax: Axes, result: FitResult) -> None:
    """Write :func:`law_note` beneath ``ax``, under its x label (the layout makes room)."""
    ax.annotate(
        law_note(result, width=NOTE_WIDTH),
        xy=(0, 0),
        xycoords="axes fraction",
        xytext=(0, -34),  # points: below the tick labels and the x label
        textcoords="offset points",
        va="top",
        ha="left",
        fontsize=8,
        color="0.25",
        wrap=True,  # within the figure, whatever size its text is drawn at
    )


def annotate_figure(fig: Any, result: FitResult) -> None:
    """Write :func:`law_note` along the bottom of a figure of several panels, wrapped to the
    figure's width (at up to 9-point text: a report may enlarge the note's 8 points)."""
    note = law_note(result, width=line_chars(fig.get_figwidth(), 9.0))
    fig.supxlabel(note, x=0.01, ha="left", fontsize=8, color="0.25", wrap=True)


def outside_legend(ax: Axes, title: str | None = None) -> None:
    """The legend to the right of ``ax``, clear of the data."""
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1), title=title)


def require_point_law(result: FitResult, what: str, other_inputs: bool = False) -> None:
    """Raise unless the law predicts final losses from ``n_params`` and ``tokens`` (and, when
    ``other_inputs`` is false, from them alone: the plot draws the loss against N and D)."""
    if result.law.fits_curves or not {"n_params", "tokens"} <= set(result.law.inputs):
        raise DataError(
            f"{what} needs a law of n_params and tokens; law {result.law.name!r} takes "
            f"{', '.join(result.law.inputs)}: use kind='curves' for a loss-curve law"
        )
    others = [c for c in result.law.inputs if c not in ("n_params", "tokens")]
    if others and not other_inputs:
        raise DataError(
            f"{what} draws the loss against n_params and tokens alone; law "
            f"{result.law.name!r} also reads {others}: use kind='residuals'"
        )
