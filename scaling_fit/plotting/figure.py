"""The Figure every plot returns: a matplotlib Figure that shows itself in Jupyter.

A bare :class:`matplotlib.figure.Figure` made without pyplot has no canvas manager, so a
notebook cell ending in one prints ``<Figure size 700x450 with 2 Axes>`` unless the inline
backend happens to be active.  :class:`Figure` adds ``_repr_png_``, which IPython calls for
any object, so the figure is drawn as a PNG whatever the backend.  No pyplot state is used.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure as _MatplotlibFigure

from ..results.atomic import check_folder, write_bytes_atomic
from .style import line_chars

# Resolution of PNGs shown in notebooks and embedded in reports (dots per inch).
PNG_DPI = 110
# Text of a figure must read at least this many CSS pixels tall ...
MIN_TEXT_PX = 10.0
# ... when the figure is shown this many CSS pixels wide (or at its own width, if smaller):
# the width a report's figure gets in an 800-pixel browser window.
NARROWEST_SHOWN_PX = 740.0


class Figure(_MatplotlibFigure):
    """A :class:`matplotlib.figure.Figure` that renders as a PNG in Jupyter (``_repr_png_``)."""

    def _repr_png_(self) -> bytes:
        return figure_bytes(self, "png")


def new_figure(width: float = 7.0, height: float = 4.5) -> Figure:
    """A new constrained-layout :class:`Figure` of ``width`` × ``height`` inches."""
    return Figure(figsize=(width, height), layout="constrained")


def target_axes(ax: Axes | None, width: float = 7.0, height: float = 4.5) -> Axes:
    """``ax`` itself, or the single Axes of a new :class:`Figure`."""
    return new_figure(width, height).add_subplot() if ax is None else ax


def text_px(fig: _MatplotlibFigure, points: float, shown_px: float) -> float:
    """CSS pixels of ``points``-point text when ``fig``'s PNG is shown ``shown_px`` wide."""
    return points / 72.0 * shown_px / fig.get_figwidth()


def smallest_text(fig: _MatplotlibFigure) -> float:
    """Size in points of the smallest visible, non-empty text of ``fig``."""
    from matplotlib.text import Text

    sizes = [
        t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()
    ]
    return min(sizes, default=np.inf)


def readable(fig: _MatplotlibFigure, shown_px: float = NARROWEST_SHOWN_PX) -> _MatplotlibFigure:
    """Enlarge every text of ``fig`` that would read smaller than :data:`MIN_TEXT_PX` pixels,
    and break a title or note too long for the figure's width into lines.

    The figure is assumed shown at its own PNG width (:data:`PNG_DPI`) or ``shown_px``,
    whichever is smaller (an HTML report never enlarges a figure).  Returns ``fig``.
    """
    from matplotlib.legend import Legend
    from matplotlib.text import Text

    shown = min(shown_px, fig.get_figwidth() * PNG_DPI)
    floor = MIN_TEXT_PX * 72.0 * fig.get_figwidth() / shown
    in_legends = {id(t) for legend in fig.findobj(Legend) for t in legend.findobj(Text)}
    for text in fig.findobj(Text):
        if text.get_fontsize() < floor:
            text.set_fontsize(np.ceil(floor * 4) / 4)  # quarter points, just above the floor
        if id(text) not in in_legends:  # legends lay out their own text
            _wrap(text, fig.get_figwidth())
    return fig


def _wrap(text: Any, width_in: float) -> None:
    """Break a horizontal text into lines that fit ``width_in`` inches (by character count:
    matplotlib 3.7's own ``wrap=`` misses titles under constrained layout)."""
    import textwrap

    content = text.get_text()
    if text.get_rotation() != 0 or "$" in content:  # vertical labels; mathtext stays whole
        return
    limit = line_chars(width_in, text.get_fontsize())
    lines = [part for line in content.split("\n") for part in textwrap.wrap(line, limit) or [""]]
    if "\n".join(lines) != content:
        text.set_text("\n".join(lines))


def figure_bytes(fig: _MatplotlibFigure, fmt: str = "png") -> bytes:
    """The figure encoded as ``fmt`` (``"png"`` or ``"svg"``)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=PNG_DPI, metadata=_metadata(fmt))
    return buffer.getvalue()


def _metadata(fmt: str) -> dict[str, Any]:
    # No creation date: the same figure gives the same bytes (reproducible reports).
    if fmt == "svg":
        return {"Date": None}
    if fmt == "png":
        return {"Software": None}
    return {}


def save_figure(fig: _MatplotlibFigure, directory: str | Path, name: str) -> list[Path]:
    """Write ``name.png`` and ``name.svg`` into ``directory``; return both paths."""
    directory = Path(check_folder(directory))
    files = {directory / f"{name}.{fmt}": figure_bytes(fig, fmt) for fmt in ("png", "svg")}
    directory.mkdir(parents=True, exist_ok=True)
    for path, data in files.items():
        write_bytes_atomic(path, data, overwrite=True)  # the output contract
    return list(files)
