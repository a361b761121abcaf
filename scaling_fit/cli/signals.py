"""Signals of the CLI: SIGTERM ends a command like Ctrl-C, and no worker outlives it.

``kill PID`` (SIGTERM, what job schedulers and ``timeout`` send) raises :class:`Terminated`
in the main thread, as SIGINT raises KeyboardInterrupt, so an output being written is
abandoned whole (:mod:`.files`) and ``main`` prints one line and exits 143 (128 + 15).
:func:`stop_workers` kills joblib's worker processes (loky), which otherwise wait idle for
minutes after their parent is gone.

Python runs a signal's handler at its next check in the main thread, which can fall inside
code whose exceptions Python reports and drops: an ``os.fork`` callback (the lowest allowed
joblib starts each worker with ``os.fork``, and logging's after-fork callback then took the
:class:`Terminated`, so the command ran on for minutes), a ``__del__``, a weakref callback.
Within :func:`terminate_as_interrupt` such a dropped :class:`Terminated` or KeyboardInterrupt
is re-delivered (:func:`_redeliver_dropped_stop`) instead of being lost.
"""

from __future__ import annotations

import _thread
import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any


class Terminated(BaseException):
    """SIGTERM arrived (not an Exception, so ``except Exception`` blocks do not swallow it)."""


# The signal that raises each stop, and how long after Python dropped one it is raised again.
_STOP_SIGNALS = {Terminated: signal.SIGTERM, KeyboardInterrupt: signal.SIGINT}
REDELIVER_SECONDS = 0.01


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
    previous_hook = sys.unraisablehook
    sys.unraisablehook = _redeliver_dropped_stop(previous_hook)
    try:
        yield
    finally:
        sys.unraisablehook = previous_hook
        signal.signal(signal.SIGTERM, previous)


def _redeliver_dropped_stop(previous: Callable[[Any], object]) -> Callable[[Any], None]:
    """A ``sys.unraisablehook`` that raises a dropped stop again in the main thread.

    A short timer sends the signal again, to the main thread (:func:`_signal_main_thread`):
    sent from this hook, its handler would run at once, inside the hook, and be dropped
    again. Should the timer fire before the hook is done, the stop lands in the hook; it is
    caught and scheduled again. Other unraisable exceptions go to ``previous``.
    """

    def hook(unraisable: Any) -> None:
        signum = _STOP_SIGNALS.get(type(unraisable.exc_value))
        if signum is None:
            previous(unraisable)
            return
        while True:
            try:
                timer = threading.Timer(REDELIVER_SECONDS, _signal_main_thread, (signum,))
                timer.daemon = True
                timer.start()
                return
            except (Terminated, KeyboardInterrupt):  # delivered inside this hook: again
                continue

    return hook


def _signal_main_thread(signum: int) -> None:
    """Send ``signum`` to the main thread, so that a wait it is blocked in (a worker's
    result, a sleep) ends and the handler runs there."""
    if hasattr(signal, "pthread_kill"):
        signal.pthread_kill(threading.main_thread().ident, signum)
    else:  # Windows: runs the handler at the main thread's next bytecode
        _thread.interrupt_main(signum)


def stop_workers() -> None:
    """Kill the library's worker pool and joblib's reusable loky workers, if this process
    started any."""
    if "joblib" not in sys.modules:
        return
    from joblib.externals.loky import reusable_executor

    from ..fitting.workers import kill_executor, stop_pool

    stop_pool()
    kill_executor(getattr(reusable_executor, "_executor", None))
