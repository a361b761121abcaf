"""Per-point schedule features of loss-curve laws, built run by run (below the laws).

A curve law's ``features`` hook turns a points table (``run``, ``step``) and each run's
per-step LR into the arrays its formula takes; :func:`per_run` does the run-by-run part and
pads :class:`~scaling_fit.schedules.history.Pairs` of several runs to one width, and
:class:`Packed` drops the padding once for the many evaluations of a fit.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from typing import ClassVar

import numpy as np
import pandas as pd

from ..errors import DataError
from .by_run import as_steps, history_lr
from .history import PAD, Pairs, cached_on

Array = np.ndarray


def stack(pairs: list[Pairs]) -> Pairs:
    """Concatenate pairs of several curves along the point axis, padding to one width."""
    if len(pairs) == 1:
        return pairs[0]
    width = max(p.width for p in pairs)
    fields = {}
    for name, fill in PAD.items():
        if getattr(pairs[0], name) is None:
            continue
        blocks = [
            np.pad(getattr(p, name), ((0, 0), (0, width - p.width)), constant_values=fill)
            for p in pairs
        ]
        fields[name] = np.concatenate(blocks)
    return Pairs(**fields)


class Packed:
    """The non-padding pairs of per-point pair arrays, flattened, for fast repeated sums.

    A fitter evaluates a law's formula thousands of times on the same arrays; packing once
    (cached on the identity of the ``weight`` array) skips the padding, often half of them.
    """

    _cache: ClassVar[dict[int, tuple[weakref.ref, Packed]]] = {}

    def __init__(self, weight: Array, *others: Array) -> None:
        weight = np.asarray(weight, dtype=float)
        mask = weight != 0
        counts = mask.sum(axis=-1)
        self.shape = weight.shape[:-1]
        self.weight = weight[mask]
        self.others = tuple(np.asarray(o, dtype=float)[mask] for o in others)
        self.rows = np.flatnonzero(counts)  # points with at least one pair
        self.starts = (np.cumsum(counts) - counts)[self.rows]

    @classmethod
    def of(cls, weight: Array, *others: Array) -> Packed:
        """The packed form of these arrays, built once per ``weight`` array object."""
        return cached_on(cls._cache, weight, lambda: cls(weight, *others))

    def row_sums(self, terms: Array) -> Array:
        """Per-point sums of ``terms`` (shape ``(..., n_pairs)``) → ``(..., n_points)``."""
        out = np.zeros((*terms.shape[:-1], *self.shape))
        if self.rows.size:
            out[..., self.rows] = np.add.reduceat(terms, self.starts, axis=-1)
        return out


def per_run(
    points: pd.DataFrame,
    lr_by_run: Mapping[str, Array],
    build: Callable[[Array, Array], tuple[Array | Pairs, ...]],
) -> tuple[Array, ...]:
    """A curve law's features for a points table, built run by run, in row order.

    ``build(lr, index)`` gets one run's LR array and its rows' LR indices (checked) and
    returns per-point arrays or :class:`~scaling_fit.schedules.history.Pairs`; pairs of all runs
    are padded to one width and expanded in place into their four arrays.
    """
    runs = points["run"].to_numpy()
    blocks = []
    for run in pd.unique(runs):
        rows = np.flatnonzero(runs == run)
        lr = np.asarray(lr_by_run[run], dtype=float)
        index = as_steps(points["step"].to_numpy()[rows], lr.size, run)
        lr = history_lr(lr, int(index.max(initial=0)))
        blocks.append((rows, build(lr, index)))
    if not blocks:
        raise DataError("no points to build curve features from")
    order = np.argsort(np.concatenate([rows for rows, _ in blocks]), kind="stable")
    if np.array_equal(order, np.arange(order.size)):  # runs are contiguous: no reordering
        order = slice(None)
    out: list[Array | None] = []
    for i in range(len(blocks[0][1])):
        column = [parts[i] for _, parts in blocks]
        if isinstance(column[0], Pairs):
            out += [None if a is None else a[order] for a in stack(column).as_tuple()]
        else:
            out.append(np.concatenate(column)[order])
    return tuple(out)
