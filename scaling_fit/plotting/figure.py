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

from matplotlib.axes import Axes
from matplotlib.figure import Figure as _MatplotlibFigure

from ..results.atomic import check_folder, write_bytes_atomic

# Resolution of PNGs shown in notebooks and embedded in reports (dots per inch).
PNG_DPI = 110


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
