"""Progress bars for long work (tqdm, on stderr), shown only where someone is watching.

``progress`` arguments (:func:`scaling_fit.fit`, :func:`scaling_fit.backtest`) take:

- ``"auto"`` (default): a bar on a terminal (stderr is a TTY) once the work has lasted
  :data:`DELAY` seconds, so quick fits print nothing; nothing when stderr is piped, in a
  file or captured (notebooks, CI);
- ``True``: a bar at once, wherever stderr goes;
- ``False``: never.

Bars advance per unit of real work (one refined start, one bootstrap refit, one backtest
fit), never per evaluation of an objective, and vanish when done (``leave=False``).
:func:`progress_default` changes what ``"auto"`` means inside a block (the CLI's ``--quiet``
uses it).  tqdm is imported only when a bar is shown.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from .errors import DataError

# Seconds a bar waits before appearing under "auto": the work that takes less shows nothing.
DELAY = 2.0
FALLBACK_SIZE = {"ncols": 80, "nrows": 24}
CHOICES = (True, False, "auto")
_AUTO: ContextVar[bool | str] = ContextVar("scaling_fit_progress", default="auto")


class ProgressError(DataError):
    """A ``progress=`` value other than True, False or "auto"."""


def check_progress(progress: Any) -> None:
    """Raise :class:`ProgressError` unless ``progress`` is True, False or ``"auto"``."""
    if not any(progress is c or (isinstance(c, str) and progress == c) for c in CHOICES):
        raise ProgressError(f"progress={progress!r}: expected True, False or 'auto'")


def shown(progress: bool | str) -> bool:
    """Whether a bar is shown for this ``progress`` value (``"auto"``: stderr is a TTY)."""
    check_progress(progress)
    if progress == "auto":
        progress = _AUTO.get()
    if progress == "auto":
        try:
            return bool(sys.stderr.isatty())
        except (AttributeError, ValueError):  # no stderr, or a closed one
            return False
    return bool(progress)


@contextmanager
def progress_default(value: bool | str) -> Iterator[None]:
    """Inside the block, ``progress="auto"`` means ``value`` (e.g. False under ``--quiet``)."""
    check_progress(value)
    token = _AUTO.set(value)
    try:
        yield
    finally:
        _AUTO.reset(token)


class Silent:
    """The bar of work nobody watches (or of a worker process): every call does nothing."""

    def update(self, n: int = 1) -> None:
        """Do nothing."""

    def set_postfix_str(self, text: str) -> None:
        """Do nothing."""


SILENT = Silent()


@contextmanager
def progress_bar(total: int, description: str, unit: str, progress: bool | str) -> Iterator[Any]:
    """A tqdm bar of ``total`` units on stderr, or a silent stand-in (see the module doc)."""
    if not shown(progress):
        yield SILENT
        return
    from tqdm import tqdm

    delay = DELAY if progress == "auto" else 0.0
    # Follow the terminal's size; a terminal that reports none (some CI and container
    # pseudo-terminals say 0 x 0) would hide the bar, so it gets 80 x 24.
    columns, lines = _terminal_size()
    size = {"dynamic_ncols": True} if columns > 0 and lines > 0 else FALLBACK_SIZE
    with tqdm(
        total=total,
        desc=description,
        unit=unit,
        file=sys.stderr,
        delay=delay,
        leave=False,
        **size,
    ) as bar:
        yield bar


def _terminal_size() -> tuple[int, int]:
    """(columns, lines) of the terminal on stderr; (0, 0) when it reports none."""
    try:
        return tuple(os.get_terminal_size(sys.stderr.fileno()))
    except (AttributeError, OSError, ValueError):  # no fileno (captured stream), or no tty
        return 0, 0
