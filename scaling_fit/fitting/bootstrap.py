"""Bootstrap by resampling runs, each resample refitted with the robust solver.

Runs, not points, are the independent units: the points of one loss curve are correlated,
so resampling them one by one would make intervals too narrow (docs/laws.md §9.3).  Each
resample is refitted to convergence, started from every distinct optimum the full-data
multi-start found.  (A warm-started L-BFGS with default tolerances barely moves and gives
intervals about 20x too narrow: docs/laws.md §9.3.)  A resample is the same points with integer
weights, so for final-loss laws with an analytic Jacobian all resamples are refitted at once by
a vectorised Gauss-Newton on the same objective (:mod:`~scaling_fit.fitting.batched`); the few
it does not settle, and the other laws' resamples, go one by one through the main fit's
trust-region solver and tolerances.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..laws.base import Array
from ..progress import SILENT, progress_bar
from .batched import batchable, refit_weighted
from .multistart import ranked, refine
from .objective import Problem

# Fewest runs a bootstrap over runs resamples: with one run every resample is that run (zero
# spread, a false "parameters move as one" correlation of +-1); with two, three distinct
# resamples, two of them a single run repeated.
MIN_RUNS = 3


def too_few_runs(runs: Array, n_resamples: int) -> str | None:
    """Why a bootstrap of ``n_resamples`` over these runs is not run (None: it is run).

    Runs are the bootstrap's units (the points of one curve are correlated: resampling
    them one by one gives intervals far too narrow, docs/laws.md §9.3).  Below
    :data:`MIN_RUNS` runs the resamples repeat the same run or two, and their spread says
    nothing about the uncertainty; the fit then has no bootstrap, rather than intervals
    of zero width.
    """
    n_runs = len(np.unique(np.asarray(runs)))
    if not n_resamples or n_runs >= MIN_RUNS:
        return None
    there = "there is only 1 run" if n_runs == 1 else f"there are only {n_runs} runs"
    return (
        f"bootstrap={n_resamples} (--bootstrap) was not run: it resamples whole runs, and "
        f"{there} (fewer than {MIN_RUNS}), so every resample repeats the same data and its "
        "intervals would have no width. The fit has no standard errors or intervals (null); "
        f"fit {MIN_RUNS} or more runs (for loss curves: runs under other schedules) to get them"
    )


# Parallel resamples go in this many chunks per worker: each finished chunk moves the bar
# (1/8 of a worker's share at a time), while each chunk still amortises sending the problem.
CHUNKS_PER_WORKER = 8


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
    """Fit-space optimum of the problem on points ``index``, ranked as the main fit ranks
    its starts (:func:`~scaling_fit.fitting.multistart.ranked`); NaN if no start converged
    or stalled."""
    sub = problem.subset(index)
    best = ranked([refine(sub, start) for start in starts])[0]
    return best.theta if best.usable else np.full(len(starts[0]), np.nan)


def _refit_chunk(problem: Problem, chunk: list[Array], starts: list[Array], bar: Any) -> Array:
    thetas = []
    for index in chunk:
        thetas.append(refit(problem, index, starts))
        bar.update()
    return np.array(thetas)


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

    Resamples are drawn up front from ``seed``, so the result does not depend on ``n_jobs``.
    For a final-loss law with an analytic Jacobian, every resample is first refitted at once
    from each distinct start (:func:`batched_thetas`; with ``n_jobs != 1``, one part of the
    resamples per worker);
    the resamples it does not settle, and every resample of other laws, are refitted one at a
    time by the trust-region solver (:func:`refit`).  With ``n_jobs != 1`` those are split
    into :data:`CHUNKS_PER_WORKER` chunks per worker and refitted in parallel on watched
    worker processes (:func:`~scaling_fit.fitting.workers.run_tasks`; ``n_jobs=-1`` uses every
    core); the bar advances as each chunk comes back (:mod:`scaling_fit.progress`), so it
    moves from the first few percent on instead of jumping to 1/workers.
    """
    indices = resample_indices(runs, n_resamples, seed)
    # Workers for the resamples asked for (and its warning when n_jobs exceeds the CPUs),
    # whether or not the batch leaves any of them to refit one by one.
    workers = 1 if n_jobs == 1 else _workers(n_jobs, n_resamples)
    with progress_bar(n_resamples, "bootstrap", "refit", progress) as bar:
        thetas = np.full((n_resamples, len(starts[0])), np.nan)
        pending = np.arange(n_resamples)
        if batchable(problem):
            thetas, settled = _batched_parts(problem, indices, starts, workers)
            pending = np.flatnonzero(~settled)
            bar.update(n_resamples - len(pending))
        if len(pending):
            thetas[pending] = _refit_pending(
                problem, [indices[i] for i in pending], starts, workers, bar
            )
        return thetas


def _batched_parts(
    problem: Problem, indices: list[Array], starts: list[Array], workers: int
) -> tuple[Array, Array]:
    """:func:`batched_thetas`, in this process or split in one part per worker.

    One task per worker: the problem is sent to each worker once. Each resample's refit is
    independent of the others in its batch (element-wise and per-resample operations only),
    so the parts give the same bits as one batch, whatever ``n_jobs``.
    """
    if workers == 1:
        return batched_thetas(problem, indices, starts)
    from .workers import run_tasks

    parts = np.array_split(np.arange(len(indices)), min(workers, len(indices)))
    tasks = [(problem, [indices[i] for i in part], starts) for part in parts]
    done = list(run_tasks(batched_thetas, tasks, len(tasks)))
    return np.vstack([t for t, _ in done]), np.concatenate([s for _, s in done])


def _workers(n_jobs: int, n_resamples: int) -> int:
    from .workers import worker_count  # joblib loads only for a parallel bootstrap

    return worker_count(n_jobs, n_resamples)


def batched_thetas(
    problem: Problem, indices: list[Array], starts: list[Array]
) -> tuple[Array, Array]:
    """Every resample refitted at once from each start (:mod:`~scaling_fit.fitting.batched`).

    Returns the best optimum of each resample over the starts and whether it is settled:
    only a resample whose refits converged from *every* start is, so that its answer is the
    best of the same starts :func:`refit` would compare (as :func:`ranked` does).
    """
    weights = np.stack([np.bincount(i, minlength=problem.n_points) for i in indices])
    thetas = np.full((len(indices), len(starts[0])), np.nan)
    best = np.full(len(indices), np.inf)
    settled = np.ones(len(indices), dtype=bool)
    for start in starts:
        theta, objective, converged, _ = refit_weighted(problem, weights, start)
        better = converged & (objective < best)
        thetas[better], best[better] = theta[better], objective[better]
        settled &= converged
    return thetas, settled


def _refit_pending(
    problem: Problem, indices: list[Array], starts: list[Array], workers: int, bar: Any
) -> Array:
    """:func:`refit` of each resample, in this process or in chunks on worker processes."""
    count = len(indices)
    workers = min(workers, count)
    if workers == 1:
        return _refit_chunk(problem, indices, starts, bar)
    from .workers import run_tasks

    pieces = min(count, workers * CHUNKS_PER_WORKER)
    chunks = [c for c in np.array_split(np.arange(count), pieces) if len(c)]
    parts = []  # workers get the silent bar: the parent counts finished chunks
    # Arrays go pickled (run_tasks), never memory-mapped through /dev/shm folders, which
    # loky's resource tracker must clean up (killed mid-run, it printed tracebacks).
    tasks = [(problem, [indices[i] for i in c], starts, SILENT) for c in chunks]
    for part in run_tasks(_refit_chunk, tasks, workers):  # in order, as chunks finish
        parts.append(part)
        bar.update(len(part))
    return np.vstack(parts)
