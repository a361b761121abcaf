"""Checks of arguments and tables at the edge of the API, each done once, with the fix.

:func:`check_fit_arguments` holds the domains of :func:`scaling_fit.fit`'s numeric arguments
(δ > 0, ``n_jobs`` ≠ 0, seeds ≥ 0, bootstrap sizes with a sane upper limit);
:func:`check_runs_frame` checks a tidy DataFrame given directly to ``fit`` as
:func:`~scaling_fit.load_runs` checks files; :func:`check_positive_inputs` checks the inputs of
a prediction.  Every failure is a :class:`~scaling_fit.errors.DataError` naming the argument
(and its CLI flag) or the row and column.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import lzma
import numbers
import os
import tarfile
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..arguments import MAX_BOOTSTRAP, check
from ..arguments import MAX_DELTA as MAX_DELTA
from ..arguments import MIN_DELTA as MIN_DELTA
from ..errors import DataError, argument
from .columns import CANONICAL, NON_NEGATIVE, NUMERIC

# Fewer resamples give "intervals" of no meaning: with 1 a zero-width interval that may not
# hold the estimate, with < 10 the 2.5 % and 97.5 % percentiles are the extreme resamples.
MIN_BOOTSTRAP = 10


def check_fit_arguments(
    *, delta: Any, bootstrap: Any, seed: Any, n_jobs: Any, n_refine: Any = 1
) -> None:
    """DataError unless the numeric arguments of ``fit`` lie in their domains (the declared
    ones of :mod:`scaling_fit.arguments`, and 0 or at least 10 resamples); for the
    ``fit_options`` of a backtest, which reach ``fit`` only later."""
    for name, value in (("delta", delta), ("seed", seed), ("n_refine", n_refine)):
        check(name, value)
    check_bootstrap(bootstrap)
    check("n_jobs", n_jobs)


def check_n_jobs(n_jobs: Any) -> None:
    """DataError unless ``n_jobs`` is a whole number of joblib workers other than 0."""
    check("n_jobs", n_jobs)


def check_bootstrap(bootstrap: Any, least: int = 0) -> None:
    """DataError unless ``bootstrap`` is a whole number of resamples in [least, MAX], and
    0 (none) or at least :data:`MIN_BOOTSTRAP`."""
    example = "0 for none, e.g. 1000" if least == 0 else f"at least {least}, e.g. 1000"
    check_whole("bootstrap", bootstrap, least, MAX_BOOTSTRAP, example)
    if 0 < int(bootstrap) < MIN_BOOTSTRAP:
        raise DataError(
            f"{argument('bootstrap', bootstrap)}: {int(bootstrap)} resamples cannot give an "
            f"interval (its bounds would be the extreme resamples); expected 0 for none or at "
            f"least {MIN_BOOTSTRAP} (e.g. 1000)"
        )


# A logged lr column may be sparse (NaN between logged steps): lr_column checks it itself.
CHECKED = tuple(c for c in NUMERIC if c != "lr")


def check_runs_frame(frame: Any, columns: Any) -> None:
    """DataError for a non-finite, non-positive (negative for step, lr) or missing value.

    ``columns`` are the columns the fit reads; canonical numeric ones but ``lr`` are checked, as
    :func:`scaling_fit.load_runs` checks files, naming the first bad row and column.
    """
    for column in (c for c in columns if c in CHECKED and c in frame.columns):
        try:
            values = np.asarray(frame[column], dtype=float)
        except (TypeError, ValueError, OverflowError) as exc:
            found = (
                "an integer too large for a float (largest 1.8e308)"
                if isinstance(exc, OverflowError)
                else "non-numeric values"
            )
            raise DataError(
                f"DataFrame column {column!r} holds {found}; expected numbers "
                "(load text with units such as 125M through load_runs)"
            ) from None
        sign_ok = values >= 0 if column in NON_NEGATIVE else values > 0
        bad = ~(np.isfinite(values) & sign_ok)
        if bad.any():
            first = int(np.argmax(bad))
            expected = ">= 0" if column in NON_NEGATIVE else "> 0"
            raise DataError(
                f"DataFrame index {frame.index[first]!r}, column {column!r}: expected a finite "
                f"number {expected}, found {float(values[first])!r}; fix or drop that row "
                f"({int(bad.sum())} of {len(values)} rows are bad)"
            )
    if "run" in frame.columns and frame["run"].isna().any():
        first = int(np.argmax(frame["run"].isna().to_numpy()))
        raise DataError(
            f"DataFrame index {frame.index[first]!r}, column 'run': expected a run name, "
            "found a missing value"
        )


def check_positive_inputs(inputs: Mapping[str, Any], where: str) -> None:
    """DataError unless every value of the canonical inputs is finite and > 0 (≥ 0 for step),
    and every value of any other input (a column such as ``unique_tokens`` a user's law reads)
    is a finite number."""
    for name, values in inputs.items():
        if name == "run":
            continue
        try:
            array = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            raise DataError(
                f"{where}: {argument(name)} expected numbers (e.g. 7e10); found "
                f"{str(values)[:60]!r}"
            ) from None
        if name not in CANONICAL:
            sign_ok, expected = np.ones(array.shape, bool), "a finite number"
        elif name in NON_NEGATIVE:
            sign_ok, expected = array >= 0, "finite and >= 0"
        else:
            sign_ok, expected = array > 0, "finite and > 0"
        bad = ~(np.isfinite(array) & sign_ok)
        if bad.any():
            raise DataError(
                f"{where}: {argument(name)} must be {expected}; found "
                f"{float(array.reshape(-1)[np.argmax(bad.reshape(-1))])!r}"
            )


def check_input_file(path: str) -> None:
    """DataError unless ``path`` is a regular file: says what it is instead (missing,
    a directory, a device such as /dev/null)."""
    if os.path.isfile(path):
        return
    if not os.path.exists(path):
        found = f"file not found (cwd: {os.getcwd()}); check the path"
    elif os.path.isdir(path):
        found = "is a directory; expected a CSV file (pass a glob such as dir/*.csv)"
    else:
        found = "is not a regular file (a device or a pipe); expected a CSV file"
    raise DataError(f"{path}: {found}")


# What a corrupt or cut-short compressed file raises while it is read (gzip, bz2, xz, zip).
COMPRESSION_ERRORS: tuple[type[BaseException], ...] = (
    EOFError,
    zlib.error,
    lzma.LZMAError,
    zipfile.BadZipFile,
    gzip.BadGzipFile,
    tarfile.TarError,
)
COMPRESSED = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


def compression_error(path: str, exc: BaseException) -> DataError:
    """The DataError for a compressed input that cannot be decompressed (``exc`` says why)."""
    reason = str(exc).strip() or type(exc).__name__
    if isinstance(exc, EOFError):
        reason = f"the compressed data ends early ({reason})"
        what = "it was cut short (an interrupted download or copy)"
    else:
        what = "it is corrupt or not in the format its name says"
    return DataError(
        f"{path}: the compressed file cannot be read: {reason}; {what}. Copy or download it "
        "again, or decompress it yourself and load the result"
    )


def is_compression_failure(exc: BaseException) -> bool:
    """Whether ``exc``, raised while reading a file, says its compressed data is broken.

    bz2 reports a corrupt stream as a bare ``OSError("Invalid data stream")``, without the
    file name and error number an operating-system error carries.
    """
    if isinstance(exc, COMPRESSION_ERRORS) or type(exc).__name__ == "ZstdError":
        return True
    return type(exc) is OSError and exc.errno is None and "data stream" in str(exc)


def open_text(path: str, encoding: str = "utf-8") -> IO[str]:
    """``path`` opened as text, decompressed by its suffix (``.gz``, ``.bz2``, ``.xz``)."""
    opener = COMPRESSED.get(Path(path).suffix.lower())
    if opener is None:
        return open(path, encoding=encoding, newline="")
    return opener(path, "rt", encoding=encoding, newline="")


def check_archive(path: str) -> None:
    """DataError unless an archive pandas would read (``.zip``, ``.tar``, ``.tar.gz``, …) is
    readable and holds exactly one file, or a ``.zst`` file can be decompressed here."""
    name = path.lower()
    if name.endswith(".zst"):
        _check_zstandard(path)
    if not name.endswith((".zip", ".tar", ".tar.gz", ".tar.bz2", ".tar.xz")):
        return
    try:
        names = _archive_members(path)
    except (*COMPRESSION_ERRORS, OSError) as exc:
        raise compression_error(path, exc) from None
    if len(names) != 1:
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        found = f"{len(names)} files ({shown})" if names else "no file"
        raise DataError(
            f"{path}: an archive is read as one CSV and must hold exactly one file; found "
            f"{found}. Unpack it and load the files you mean (a list or a glob such as "
            "dir/*.csv)"
        )


def _archive_members(path: str) -> list[str]:
    """Names of the files (not folders) in a zip or tar archive."""
    if path.lower().endswith(".zip"):
        with zipfile.ZipFile(path) as archive:
            return [i.filename for i in archive.infolist() if not i.is_dir()]
    with tarfile.open(path) as archive:
        return [m.name for m in archive.getmembers() if m.isfile()]


def _check_zstandard(path: str) -> None:
    """DataError when a ``.zst`` file cannot be read for want of the zstandard package."""
    try:
        import zstandard  # noqa: F401  (pandas reads .zst through it)
    except ImportError:
        raise DataError(
            f"{path}: a Zstandard-compressed file, and the zstandard package that reads it is "
            "not installed; install it (pip install zstandard) or decompress the file "
            "(zstd -d) and load the result"
        ) from None


def not_utf8(path: str, exc: UnicodeDecodeError) -> DataError:
    """The DataError for a file that is not UTF-8 text."""
    return DataError(
        f"{path}: not UTF-8 text (byte {exc.object[exc.start : exc.start + 1]!r} at byte "
        f"{exc.start} of a line); save the file as UTF-8 (most editors and `iconv -t utf-8` "
        "do)"
    )


def check_header(path: str) -> None:
    """DataError when two columns of a CSV's header have the same name.

    pandas would rename the second ``loss`` to ``loss.1`` and the fit would silently use the
    first; the user must say which one is meant.
    """
    try:
        with open_text(path, "utf-8-sig") as handle:
            header = next(csv.reader([handle.readline()]), [])
    except (UnicodeDecodeError, csv.Error, *COMPRESSION_ERRORS):
        return  # not text or not readable: the CSV reader reports it
    except OSError as exc:
        if is_compression_failure(exc):
            return
        raise
    names = [name.strip() for name in header]
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if name in seen:
            raise DataError(
                f"{path}: column {name!r} appears twice in the header (columns {seen[name]} "
                f"and {position}); expected unique names: rename or delete one of them"
            )
        seen[name] = position


# Below these every value of a column is implausible as a count: the smallest models in
# scaling studies have ~10³ parameters (Kaplan et al. 2020) and runs see ≥ 10⁶ tokens.
SMALLEST = {"n_params": 1e3, "tokens": 1e5}


# Tokens per parameter above this (median over the runs) say N is not in parameters: 10⁶ is
# ~500x Chinchilla's most over-trained runs (Gadre et al.: 640) and 3x Kaplan's tiniest models.
MOST_TOKENS_PER_PARAM = 1e6


def unit_warnings(table: Any) -> list[str]:
    """Messages for columns whose every value is too small to be a count (``1.3`` meant as
    1.3B), or for n_params far too small beside the tokens (N in millions, D in tokens):
    the fit would run, with parameters in the wrong units."""
    messages = _ratio_warning(table)
    for column, smallest in SMALLEST.items():
        if column in table.columns and len(table) and table[column].max() < smallest:
            top = float(table[column].max())
            messages.append(
                f"every {column} value is below {smallest:g} (largest {top:g}): they look like "
                f"millions or billions without a unit; write 1.3B or 1.3e9, not 1.3"
            )
    return messages


def _ratio_warning(table: Any) -> list[str]:
    """A message when the median tokens per parameter is implausibly large (N in millions)."""
    if not {"n_params", "tokens"} <= set(table.columns) or not len(table):
        return []
    ratio = float(
        np.median(np.asarray(table["tokens"], float) / np.asarray(table["n_params"], float))
    )
    if not ratio > MOST_TOKENS_PER_PARAM:
        return []
    return [
        f"the runs see a median {ratio:.3g} tokens per parameter (above {MOST_TOKENS_PER_PARAM:g}; "
        "compute-optimal training is ~20): n_params look like millions or billions without "
        "a unit; write 125M or 1.25e8, or name the column with its unit, e.g. 'params (M)'"
    ]


def _real(value: Any) -> bool:
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and bool(np.isfinite(float(value)))
    )


def _integer(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    return bool(np.isfinite(float(value))) and float(value).is_integer()


def check_whole(name: str, value: Any, lo: int, hi: int, example: str) -> None:
    """DataError unless the argument ``name`` is a whole number in [lo, hi]."""
    if not _integer(value) or not lo <= int(value) <= hi:
        raise DataError(
            f"{argument(name, value)}: expected a whole number in [{lo}, {hi:,}] ({example})"
        )
