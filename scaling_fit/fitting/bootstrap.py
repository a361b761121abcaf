"""Bootstrap by resampling runs, each resample refitted with the robust solver.

Runs, not points, are the independent units: the points of one loss curve are correlated,
so resampling them one by one would make intervals too narrow (docs/laws.md §9.3).  Each
resample is refitted by the same trust-region solver and tolerances as the main fit, started
from every distinct optimum the full-data multi-start found.  (A warm-started L-BFGS with
default tolerances barely moves and gives intervals about 20x too narrow: docs/laws.md §9.3.)
"""

from __future__ import annotations

import pickle
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs

from ..laws.base import Array
from ..progress import SILENT, progress_bar
from .multistart import refine
from .objective import Problem

# Chunks per worker: enough that the calling process can take some while the workers start,
# few enough that each is ~0.1-1 s of refits (joblib's per-task overhead is milliseconds).
TASKS_PER_WORKER = 8


def resample_indices(runs: Array, n_resamples: int, seed: int) -> list[Array]:
    """Point indices of ``n_resamples`` bootstrap resamples of the runs.

    Each resample draws as many runs as there are, with replacement, and takes all points
    of every drawn run (a run drawn twice contributes its points twice).
    """
    labels, codes = np.unique(np.asarray(runs), return_inverse=True)
    members = [np.flatnonzero(codes == k) for k in range(len(labels))]
    draws = np.random.default_rng(seed).integers(0, len(labels), (n_resamples, len(labels)))
    return [np.concatenate([members[k] for k in row]) for row in draws]


def refit(problem: Problem, index: Array, starts: list[Array]) -> Array:
    """Fit-space optimum of the problem on points ``index``; NaN if no start converged."""
    sub = problem.subset(index)
    best, best_objective = None, np.inf
    for start in starts:
        solution = refine(sub, start)
        if solution.converged and solution.objective < best_objective:
            best, best_objective = solution.theta, solution.objective
    return best if best is not None else np.full(len(starts[0]), np.nan)


def _refit_chunk(problem: Problem, chunk: list[Array], starts: list[Array], bar: Any) -> Array:
    thetas = []
    for index in chunk:
        thetas.append(refit(problem, index, starts))
        bar.update()
    return np.array(thetas)


def _refit_task(number: int, payload: bytes, chunk: list[Array]) -> tuple[int, Array]:
    """A worker's task: chunk ``number``, refitted on the pickled ``(problem, starts)``."""
    problem, starts = pickle.loads(payload)
    return number, _refit_chunk(problem, chunk, starts, SILENT)


def bootstrap_thetas(
    problem: Problem,
    runs: Array,
    starts: list[Array],
    n_resamples: int,
    seed: int = 0,
    n_jobs: int = 1,
    progress: bool | str = False,
) -> Array:
    """Fit-space parameters of every resample, shape ``(n_resamples, n_free)``.

    Resamples are drawn up front from ``seed`` and each is refitted alone, so the result does
    not depend on ``n_jobs``.  With ``n_jobs != 1`` they are refitted in parallel through
    joblib (``n_jobs=-1`` uses every core; see :func:`_parallel_refits`).  ``progress`` shows
    a bar per refitted resample (per finished chunk in parallel; :mod:`scaling_fit.progress`).
    """
    indices = resample_indices(runs, n_resamples, seed)
    workers = 1 if n_jobs == 1 else effective_n_jobs(n_jobs)
    with progress_bar(n_resamples, "bootstrap", "refit", progress) as bar:
        if workers == 1 or n_resamples < 2:
            return _refit_chunk(problem, indices, starts, bar)
        if _local_processes():
            return _parallel_refits(problem, indices, starts, workers, bar)
        return _backend_refits(problem, indices, starts, workers, bar)


def _local_processes() -> bool:
    """Whether joblib's active backend is its default, loky (worker processes started here
    on first use), rather than e.g. ``parallel_backend("dask")`` (a running cluster)."""
    from joblib.parallel import get_active_backend

    backend, _ = get_active_backend()
    return type(backend).__name__ == "LokyBackend"


def _backend_refits(
    problem: Problem, indices: list[Array], starts: list[Array], workers: int, bar: Any
) -> Array:
    """Refit the resamples as ``TASKS_PER_WORKER`` chunks per worker of joblib's active
    backend (a Dask cluster's workers are running already: nothing to hide)."""
    count = min(len(indices), TASKS_PER_WORKER * workers)
    payload, parts = _dumps((problem, starts)), {}
    numbers = np.array_split(np.arange(len(indices)), count)
    parallel = Parallel(workers, return_as="generator_unordered", max_nbytes=None)
    for number, thetas in parallel(
        delayed(_refit_task)(k, payload, [indices[i] for i in c]) for k, c in enumerate(numbers)
    ):
        parts[number] = thetas
        bar.update(len(thetas))
    return np.vstack([parts[k] for k in range(count)])


def _dumps(value: Any) -> bytes:
    """``value`` pickled as joblib pickles task arguments (cloudpickle: a law made from a
    formula pickles too); joblib ≥ 1.5 depends on cloudpickle, older ones bundle it."""
    try:
        import cloudpickle
    except ImportError:  # pragma: no cover - joblib < 1.5
        from joblib.externals import cloudpickle  # type: ignore[no-redef]
    return cloudpickle.dumps(value)


class _Chunks:
    """Numbers of the chunks not yet taken, handed out once each across threads."""

    def __init__(self, count: int) -> None:
        self._next, self._count, self._lock = 0, count, threading.Lock()

    def take(self) -> int | None:
        with self._lock:
            if self._next >= self._count:
                return None
            self._next += 1
            return self._next - 1

    def close(self) -> None:
        with self._lock:
            self._next = self._count


def _parallel_refits(
    problem: Problem, indices: list[Array], starts: list[Array], workers: int, bar: Any
) -> Array:
    """Refit the resamples in ``workers`` joblib workers, and here until the first of them
    answers.

    The resamples are split into ``TASKS_PER_WORKER`` chunks per worker; joblib's workers
    and this process take chunks from one queue.  Starting worker processes costs a second
    or more (a fresh Python importing NumPy, SciPy and scaling_fit): on a 1,000-resample
    bootstrap of a few seconds that made ``n_jobs=2`` slower than ``n_jobs=1``.  Here the
    calling process refits chunks meanwhile and stops once a worker has returned one; if it
    runs out of chunks before any worker answers, it refits the ones they were given too
    (same numbers) rather than wait.  So ``n_jobs=2`` is not slower than ``n_jobs=1`` even
    on the first call, and joblib keeps the workers for the next call.  Results go back in
    chunk order, so they do not depend on who refitted what.
    """
    count = min(len(indices), TASKS_PER_WORKER * workers)
    chunks = [[indices[i] for i in c] for c in np.array_split(np.arange(len(indices)), count)]
    queue, results = _Chunks(count), [None] * count
    payload = _dumps((problem, starts))  # once, here: no pickling from two threads
    lock, answered, finished = threading.Lock(), threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def tasks() -> Iterator[Any]:
        while (number := queue.take()) is not None:
            yield delayed(_refit_task)(number, payload, chunks[number])

    # Made here: joblib's backend settings (parallel_config) are per thread. max_nbytes=None:
    # arrays go pickled, never memory-mapped through /dev/shm, whose folders loky's resource
    # tracker must clean up: killed mid-run, it printed a KeyError traceback on our stderr.
    parallel = Parallel(
        workers, return_as="generator_unordered", pre_dispatch="n_jobs", max_nbytes=None
    )

    def collect() -> None:
        try:
            for number, thetas in parallel(tasks()):
                with lock:
                    if not finished.is_set() and results[number] is None:
                        results[number] = thetas
                        bar.update(len(thetas))
                answered.set()
        except BaseException as exc:  # re-raised in the calling thread
            failures.append(exc)
        finally:
            answered.set()

    def refit_here(number: int) -> None:
        thetas = _refit_chunk(problem, chunks[number], starts, SILENT)
        with lock:
            if results[number] is None:
                results[number] = thetas
                bar.update(len(thetas))

    thread = threading.Thread(target=collect, name="scaling_fit bootstrap", daemon=True)
    thread.start()
    try:
        while not answered.is_set() and (number := queue.take()) is not None:
            refit_here(number)
        if not answered.is_set():  # no worker has started yet: refit their chunks here too
            for number in range(count):
                if results[number] is None:
                    refit_here(number)
        while thread.is_alive() and any(r is None for r in results):
            thread.join(0.1)  # a timed wait: Ctrl-C still interrupts it
    finally:
        queue.close()  # done or interrupted: hand out no more chunks
        finished.set()
    if failures and any(r is None for r in results):
        raise failures[0]
    return np.vstack(results)
