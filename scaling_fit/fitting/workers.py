"""Worker processes: no more than the work and the machine can use, none outliving its parent.

:func:`worker_count` turns ``n_jobs`` (joblib's meaning: ``-1`` all CPUs, ``-2`` all but one)
into the number of workers to start: at most one per task, and, for process backends (loky,
multiprocessing), at most the CPUs this process may use (``os.process_cpu_count()`` on
Python 3.13+, else the CPU affinity, and joblib's count, which reads cgroup CPU quotas), with
a :class:`ScalingFitWarning` when an explicit ``n_jobs`` is lowered to the machine's CPUs.

:func:`run_tasks` runs the tasks on that many workers.  Every worker process starts a daemon
thread that polls the parent's pid and ends the worker when the parent is gone — also after
SIGKILL, which no handler of the parent sees (loky's workers do not watch their parent: they
finish their task and then wait minutes for more).  With joblib's default backend the workers
come from this module's own loky pool (:func:`worker_pool`) with that watchdog as
initializer, so a worker is watched from its start; under another backend set by the user
(``joblib.parallel_config``) the tasks go through :class:`joblib.Parallel` and a worker
process starts watching with its first task.

The pool retires itself from this process: :data:`IDLE_SECONDS` after its last task, a timer
shuts it down (the next task starts a new one).  Its workers have no idle timeout of their own:
with one, a worker could decide to exit just as a task was submitted, and loky's manager thread
then warned "A worker stopped while some jobs were given to the executor" — and, where warnings
are errors (pytest's ``-W error``), died of that warning and left the task waiting forever.

The pool is not loky's process-wide reusable executor: joblib's ``Parallel`` reuses that one
for itself and expects attributes only the executors joblib made have, so a user's
``Parallel(n_jobs=2)`` after a fit with ``n_jobs=2`` failed with ``AttributeError:
'_ReusablePoolExecutor' object has no attribute '_temp_folder_manager'`` (joblib 1.4-1.6).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import joblib
from joblib import Parallel, delayed
from joblib.parallel import get_active_backend

from ..errors import ScalingFitWarning, argument

POLL_SECONDS = 0.25  # how often a worker checks that its parent is alive
PROCESS_BACKENDS = {"LokyBackend", "MultiprocessingBackend"}
# The thread pools of NumPy's BLAS and OpenMP, read when a worker imports NumPy.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# Seconds the pool stays up after its last task before a timer shuts it down.
IDLE_SECONDS = 10
_watching = threading.Event()
# "pool": the worker pool, "workers": its size, "busy": run_tasks calls using it, "timer":
# the pending idle shutdown.  All changed under _pool_lock; a forked child starts empty.
_pool: dict[str, Any] = {}
_pool_lock = threading.RLock()  # re-entrant: the CLI's signal handler calls stop_pool


def _forget_pool_in_child() -> None:
    """In a forked child: the pool, its timer and the lock's holder are the parent's."""
    global _pool_lock
    _pool.clear()
    _pool_lock = threading.RLock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_in_child)


def available_cpus() -> int:
    """The CPUs this process may use: affinity, ``process_cpu_count`` and cgroup quota."""
    counts = [os.cpu_count() or 1, joblib.cpu_count()]  # joblib's: cgroup quota, affinity
    if hasattr(os, "process_cpu_count"):  # Python 3.13+
        counts.append(os.process_cpu_count() or 1)
    if hasattr(os, "sched_getaffinity"):
        counts.append(len(os.sched_getaffinity(0)))
    return max(1, min(counts))


def worker_count(n_jobs: int, tasks: int) -> int:
    """The number of workers to start for ``tasks`` tasks and the user's ``n_jobs``.

    Parameters
    ----------
    n_jobs
        joblib's meaning: a positive count, ``-1`` for all CPUs, ``-k`` for all but ``k - 1``.
    tasks
        How many independent tasks there are (no worker is started without one).

    Returns
    -------
    int
        At least 1; 1 means run in this process.

    Warns
    -----
    ScalingFitWarning
        When a positive ``n_jobs`` exceeds the CPUs a process backend may use.
    """
    backend, _ = get_active_backend()
    if type(backend).__name__ not in PROCESS_BACKENDS:  # dask, threads: not our processes
        return max(1, min(joblib.effective_n_jobs(n_jobs), tasks))
    cpus = available_cpus()
    wanted = n_jobs if n_jobs > 0 else cpus + 1 + n_jobs
    if n_jobs > cpus and tasks > cpus:
        warnings.warn(
            f"{argument('n_jobs', n_jobs)} is more than the {cpus} CPUs this process may use; "
            f"using {cpus} worker processes (more would only compete for the same CPUs)",
            ScalingFitWarning,
            stacklevel=3,
        )
    return max(1, min(wanted, cpus, tasks))


def run_tasks(
    function: Callable[..., Any], tasks: Sequence[tuple[Any, ...]], workers: int
) -> Iterator[Any]:
    """``function(*task)`` for every task, yielded in order, on ``workers`` worker processes.

    Parameters
    ----------
    function
        A module-level function (pickled by reference).
    tasks
        The argument tuples.
    workers
        From :func:`worker_count`; 1 runs every task in this process.
    """
    if workers == 1:
        yield from (function(*task) for task in tasks)
        return
    backend, _ = get_active_backend()
    if type(backend).__name__ != "LokyBackend":  # dask, threads, multiprocessing: joblib's
        parallel = Parallel(n_jobs=workers, batch_size=1, return_as="generator", max_nbytes=None)
        yield from parallel(delayed(watched(function))(*task) for task in tasks)
        return
    executor = worker_pool(workers)
    try:
        futures = [executor.submit(function, *task) for task in tasks]
        for future in futures:
            yield future.result()
    except GeneratorExit:  # the caller stopped early: drop the tasks not yet started
        for future in futures:
            future.cancel()
        raise
    except BaseException:
        # A task failed, or Ctrl-C / SIGTERM: end the workers rather than let them compute
        # results nobody reads.  No future is cancelled first: loky's manager thread fails
        # every pending future as it shuts down, and a cancelled one makes it raise
        # InvalidStateError (a traceback on stderr).
        executor.shutdown(wait=False, kill_workers=True)
        raise
    finally:
        _release(executor)


def worker_pool(workers: int) -> Any:
    """This module's pool of ``workers`` loky processes, reused while it is usable.

    A new pool replaces the old one when the size changes or when the old one was shut down
    or broken (a task failed, Ctrl-C); a forked child starts without one
    (:func:`_forget_pool_in_child`).  The caller hands it back with
    :func:`_release`; :data:`IDLE_SECONDS` after the last release the pool is shut down.
    """
    from joblib.externals.loky import ProcessPoolExecutor

    with _pool_lock:
        _cancel_idle_timer()
        pool = _pool.get("pool")
        flags = getattr(pool, "_flags", None)
        usable = flags is not None and not (flags.broken or flags.shutdown)
        if pool is None or not usable or _pool["workers"] != workers:
            if pool is not None:
                pool.shutdown(wait=False, kill_workers=True)
            pool = ProcessPoolExecutor(
                max_workers=workers,
                initializer=_start_watchdog,
                initargs=(os.getpid(),),
                env=one_blas_thread(),
            )
            _pool.update(pool=pool, workers=workers, busy=0)
        _pool["busy"] += 1
        return pool


def _release(pool: Any) -> None:
    """Hand ``pool`` back; once nothing uses it, shut it down after :data:`IDLE_SECONDS`."""
    with _pool_lock:
        if _pool.get("pool") is not pool:
            return
        _pool["busy"] -= 1
        if _pool["busy"] == 0:
            timer = threading.Timer(IDLE_SECONDS, _shut_down_if_idle, args=(pool,))
            timer.daemon = True
            timer.start()
            _pool["timer"] = timer


def _shut_down_if_idle(pool: Any) -> None:
    with _pool_lock:
        if _pool.get("pool") is not pool or _pool["busy"]:
            return
        _pool.clear()
    pool.shutdown(wait=False)


def _cancel_idle_timer() -> None:
    timer = _pool.pop("timer", None)
    if timer is not None:
        timer.cancel()


def stop_pool() -> None:
    """Kill the workers of :func:`worker_pool`, if this process started any."""
    with _pool_lock:
        _cancel_idle_timer()
        pool = _pool.pop("pool", None)
        _pool.clear()
    kill_executor(pool)


def kill_executor(executor: Any) -> None:
    """Shut a loky executor down and kill its workers (nothing for None)."""
    if executor is None:
        return
    try:
        executor.shutdown(wait=True, kill_workers=True)
    except Exception:  # e.g. a signal landed while loky started its manager thread
        for process in list(getattr(executor, "_processes", {}).values()):
            with contextlib.suppress(Exception):
                process.kill()


def one_blas_thread() -> dict[str, str]:
    """Environment for worker processes: one BLAS/OpenMP thread each, unless the user set
    the variable. The workers already use every core between them; with BLAS threads of
    their own they oversubscribe it and spin (loky's executor, unlike joblib's ``Parallel``,
    does not limit them)."""
    return {name: "1" for name in THREAD_VARIABLES if name not in os.environ}


def watched(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` as a task that, run in a child process, ends it when this process dies."""
    return _Watched(function, os.getpid())


class _Watched:
    """A picklable task wrapper; see :func:`watched`."""

    def __init__(self, function: Callable[..., Any], parent: int) -> None:
        self.function, self.parent = function, parent

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if os.getpid() != self.parent and os.getppid() == self.parent:
            _start_watchdog(self.parent)
        return self.function(*args, **kwargs)


def _start_watchdog(parent: int) -> None:
    """Start (once per process) the thread that ends this process when ``parent`` is gone."""
    if _watching.is_set() or os.getpid() == parent:
        return
    _watching.set()
    threading.Thread(target=_watch, args=(parent,), name="parent-watchdog", daemon=True).start()


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(POLL_SECONDS)
    os._exit(1)  # the parent is gone: nobody will read this worker's result
