"""Signals of the CLI: SIGTERM ends a command like Ctrl-C, and no worker outlives it.

``kill PID`` (SIGTERM, what job schedulers and ``timeout`` send) raises :class:`Terminated`
in the main thread, as SIGINT raises KeyboardInterrupt, so an output being written is
abandoned whole (:mod:`.files`) and ``main`` prints one line and exits 143 (128 + 15).
:func:`stop_workers` kills joblib's worker processes (loky), which otherwise wait idle for
minutes after their parent is gone.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator
from types import FrameType


class Terminated(BaseException):
    """SIGTERM arrived (not an Exception, so ``except Exception`` blocks do not swallow it)."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated(signum)


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` (main thread only)."""
    try:
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def stop_workers() -> None:
    """Kill the library's worker pool and joblib's reusable loky workers, if this process
    started any."""
    if "joblib" not in sys.modules:
        return
    from joblib.externals.loky import reusable_executor

    from ..fitting.workers import kill_executor, stop_pool

    stop_pool()
    kill_executor(getattr(reusable_executor, "_executor", None))
