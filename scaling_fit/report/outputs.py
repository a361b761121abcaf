"""The report's checks before any work (output paths, options, the holdout) and its writes
after all of it: a report that fails leaves nothing behind."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import DataError
from ..inputs.validate import SEED_LIMIT, check_bootstrap, check_whole
from ..laws import Law

if TYPE_CHECKING:
    from .build import Report


def check_outputs(path: Path, overwrite: bool, figures: str | Path | None) -> None:
    """Refuse an HTML ``path`` or a ``figures`` folder that cannot be written, before any work.

    Raises
    ------
    FileExistsError
        ``path`` exists and ``overwrite`` is False.
    DataError
        ``path`` is a folder or lies in a missing or read-only folder; ``figures`` is a file,
        or it or the folder it would be made in is not writable.
    """
    if path.is_dir():
        raise DataError(f"report path {str(path)!r} (-o) is a folder; expected an .html file")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True or choose another path")
    _check_writable_folder(path.parent, f"the folder of report path {str(path)!r} (-o)")
    if figures is None:
        return
    folder = Path(figures)
    what = f"figures={str(figures)!r} (--figures)"
    if folder.exists() and not folder.is_dir():
        raise DataError(f"{what} is a file; expected a folder for the figures (or a new name)")
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    _check_writable_folder(
        existing, what if existing == folder else f"{existing}, where {what} would be made"
    )


def _check_writable_folder(folder: Path, what: str) -> None:
    folder = folder if str(folder) else Path(".")
    if not folder.is_dir():
        raise DataError(f"{what} is not a folder; choose a path in an existing folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DataError(f"{what} is not writable; choose a folder you can write to")


def check_options(bootstrap: Any, seed: Any, target_compute: Any) -> None:
    """DataError for a bootstrap size, seed or target budget outside its domain (up front)."""
    check_bootstrap(bootstrap)
    check_whole("seed", seed, 0, SEED_LIMIT - 1, "e.g. 0")
    if target_compute is None:
        return
    try:
        ok = bool(np.isfinite(float(target_compute)) and float(target_compute) > 0)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise DataError(
            f"target_compute={target_compute!r} (--target-compute): expected a finite budget "
            "in FLOPs > 0, e.g. 1e23"
        )


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
    from ..results.atomic import write_text_atomic

    if figures is not None:
        files = {f"{name}.png": png for name, png in report.images.items()}  # as embedded
        files |= {f"{name}.svg": figure_bytes(fig, "svg") for name, fig in report.figures.items()}
        folder = Path(figures)
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (folder / name).write_bytes(data)
    write_text_atomic(report.path, text, overwrite=overwrite)
