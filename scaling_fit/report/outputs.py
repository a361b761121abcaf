"""The report's checks before any work (output paths, options, the holdout) and its writes
after all of it: a report that fails leaves nothing behind."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..laws import Law

if TYPE_CHECKING:
    from .build import Report


def check_outputs(path: Path, overwrite: bool, figures: str | Path | None) -> None:
    """Refuse an HTML ``path`` or a ``figures`` folder that cannot be written, before any work
    (the output contract: :func:`~scaling_fit.results.atomic.check_target` and
    :func:`~scaling_fit.results.atomic.check_folder`).

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``overwrite`` is False.
    OutputPathError
        ``path`` is not a regular file or a new path in a writable folder; ``figures`` is
        not a folder, or it or the folder it would be made in is not writable.
    """
    from ..results.atomic import check_folder, check_target

    check_target(path, overwrite=overwrite)
    if figures is not None:
        check_folder(figures)


def check_holdout(table: pd.DataFrame, laws: list[Law], holdout: Any) -> None:
    """A ``holdout`` the user gave must split these runs (DataError before any fit)."""
    from ..analysis.backtest_fits import run_table
    from ..analysis.holdout import choose_holdout

    point = [law for law in laws if not law.fits_curves]
    if holdout is None or not point:
        return
    runs, rows = run_table(table, point)
    choose_holdout(runs, holdout, rows=rows)


def write_all(report: Report, text: str, overwrite: bool, figures: str | Path | None) -> None:
    """Write the figures (if asked) and then the page, everything computed beforehand."""
    from ..plotting.figure import figure_bytes
    from ..results.atomic import write_bytes_atomic, write_text_atomic

    if figures is not None:
        files = {f"{name}.png": png for name, png in report.images.items()}  # as embedded
        files |= {f"{name}.svg": figure_bytes(fig, "svg") for name, fig in report.figures.items()}
        folder = Path(figures)
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            write_bytes_atomic(folder / name, data, overwrite=True)
    write_text_atomic(report.path, text, overwrite=overwrite)
