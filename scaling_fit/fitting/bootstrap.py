"""Bootstrap by resampling runs, each resample refitted with the robust solver.

Runs, not points, are the independent units: the points of one loss curve are correlated,
so resampling them one by one would make intervals too narrow (docs/laws.md §9.3).  Each
resample is refitted by the same trust-region solver and tolerances as the main fit, started
from every distinct optimum the full-data multi-start found.  (A warm-started L-BFGS with
default tolerances barely moves and gives intervals about 20x too narrow: docs/laws.md §9.3.)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs

from ..laws.base import Array
from ..progress import SILENT, progress_bar
from .multistart import ranked, refine
from .objective import Problem

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


def _refit_numbered(
    number: int, problem: Problem, chunk: list[Array], starts: list[Array]
) -> tuple[int, Array]:
    """A worker's chunk, returned with its number (chunks come back as they finish)."""
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

    Resamples are drawn up front from ``seed``, so the result does not depend on ``n_jobs``.
    With ``n_jobs != 1`` the resamples are split into :data:`CHUNKS_PER_WORKER` chunks per
    worker and refitted in parallel through joblib (``n_jobs=-1`` uses every core); the bar
    advances as each chunk finishes, in whatever order (:mod:`scaling_fit.progress`), so it
    moves from the first few percent on instead of jumping to 1/workers.
    """
    indices = resample_indices(runs, n_resamples, seed)
    with progress_bar(n_resamples, "bootstrap", "refit", progress) as bar:
        if n_jobs == 1:
            return _refit_chunk(problem, indices, starts, bar)
        workers = effective_n_jobs(n_jobs)
        pieces = min(n_resamples, workers * CHUNKS_PER_WORKER)
        chunks = [c for c in np.array_split(np.arange(n_resamples), pieces) if len(c)]
        parts: dict[int, Array] = {}  # workers get the silent bar: the parent counts chunks
        # max_nbytes=None: arrays go pickled, never memory-mapped through /dev/shm folders,
        # which loky's resource tracker must clean up (killed mid-run, it printed tracebacks).
        parallel = Parallel(n_jobs=workers, return_as="generator_unordered", max_nbytes=None)
        for number, part in parallel(
            delayed(_refit_numbered)(k, problem, [indices[i] for i in c], starts)
            for k, c in enumerate(chunks)
        ):
            parts[number] = part
            bar.update(len(part))
        return np.vstack([parts[k] for k in range(len(chunks))])
