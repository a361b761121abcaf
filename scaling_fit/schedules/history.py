r"""Sums over earlier learning-rate changes, in O(steps) memory: the engine of the curve laws.

Curve laws add up, at every evaluated step t, one term per earlier change of the LR,
Σ(t) = Σ_{k=1..t} Δ_k·φ(η_k, S_t − S_{k−1}, t − k + 1) with Δ_k = η_{k−1} − η_k and
S_j = Σ_{i≤j} η_i (indices as in :mod:`scaling_fit.schedules`: ``lr[k]`` is η_k, a row at
``step`` t is index t).  The multi-power loss drop has φ = G(η_k^(−γ)(S_t − S_{k−1})) (Luo et
al. 2025, arXiv:2503.12811), the annealing area φ = (1 − λ^(t−k+1))/(1 − λ) (Tissue et al.
2024, arXiv:2408.11029).  φ depends on the fitted parameters; the rest is computed here once
per schedule as *pairs* (weight, eta, area, steps) per point:
Σ(t) ≈ Σ_j weight[t, j]·φ(eta[t, j], area[t, j], steps[t, j]).

How the sum is reduced
----------------------
* Isolated changes (step drops, short or irregular runs) are kept exactly, one pair each.
* A *run* (the LR moves every step in one direction: warm-up ramp, cosine or WSD decay) is
  split into a binary tree of panels of LEAF·2^ℓ steps.  For a point t, a panel is summed by
  an ORDER-node Gauss rule of the *discrete* measure Σ_k |Δ_k|·δ_k (exact for polynomials in
  k of degree 2·ORDER − 1: no sum-versus-integral error) when it is admissible (distance to t
  ≥ its width w) and smooth (Δ changes by ≤ SMOOTHNESS/w per step and η by ≤ SMOOTHNESS·η
  over the panel: no kink, √-start or zero LR nearby).  Other panels are split; leaves near
  t are summed exactly.  A point gets O(ORDER·log steps) pairs (~50-250), and LR and area
  at the nodes come from cubic interpolation on the run's integer steps.

Error bound
-----------
A 4-node Gauss rule errs by at most 64·M/(15(ρ²−1)ρ⁸) of a panel's |Δ| mass for an integrand
analytic, with |φ| ≤ M, in the Bernstein ellipse of parameter ρ (Trefethen 2008).
Admissibility gives ρ ≥ 3 + √8 in the distance to t (≤ 1.1e-7·M); smoothness gives ρ ≥ 2 + √3
for the LR's own singularities (≤ 9e-6 of the far smaller η-dependent part of φ).  Measured
against the exact sum: ≤ 2e-9 of the multi-power loss for every schedule family and the
parameter box of ``tests/laws/test_curve_laws.py`` (which checks ≤ 1e-7); annealing area S₂ within
7e-8 of its maximum.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..errors import DataError
from .gauss import ORDER, gauss_rules, merge_moments

Array = np.ndarray

LEAF = 8  # steps per leaf panel (leaves near t are summed exactly)
MIN_RUN = 2 * LEAF  # shorter runs of changes are summed exactly
# A smooth panel of w steps has |Δ_{k+1} − Δ_k| ≤ SMOOTHNESS·|Δ_k|/w and w·|Δ| ≤ SMOOTHNESS·η.
SMOOTHNESS = 2.0
ADMISSIBLE = 1.0  # a panel of w steps needs distance ≥ ADMISSIBLE·w from t
CACHE = 16  # packed pair arrays and histories kept (keyed on the array object)
CACHE_STEPS = 2_000_000  # schedule steps of the cached histories (~75 MB per million)
# Pads of the per-point pair arrays: zero weight, finite harmless values elsewhere.
PAD = {"weight": 0.0, "eta": 1.0, "area": 1.0, "steps": 1.0}


@dataclass(frozen=True)
class Pairs:
    """Per-point terms of a sum over LR changes; each field has shape ``(n_points, width)``.

    Attributes
    ----------
    weight
        Δ_k = η_{k−1} − η_k for an exact change, a Gauss weight (sum of Δ) for a node.
    eta
        η_k, the LR after the change (interpolated at a node).
    area
        S_t − S_{k−1} = Σ_{i=k..t} η_i, the LR area from the change to t.
    steps
        t − k + 1, the steps from the change to t (non-integer at a node).
    """

    weight: Array
    eta: Array | None = None
    area: Array | None = None
    steps: Array | None = None

    @property
    def width(self) -> int:
        """Pairs per point (padded)."""
        return int(self.weight.shape[1])

    def as_tuple(self) -> tuple[Array | None, ...]:
        """The four arrays in field order (None for a field not computed)."""
        return self.weight, self.eta, self.area, self.steps


@dataclass(frozen=True)
class _Run:
    """A stretch a..b of same-sign changes summed by the panel tree.

    ``nodes`` memoises, per level, the parameter-free Gauss terms of the panels used so far
    (node index, signed weight, η and S_{k−1} at the nodes; NaN until computed), so the
    chunks of a long prediction compute each panel's rule once.
    """

    a: int
    b: int
    height: int  # top level; panels of level ℓ have LEAF·2^ℓ steps
    smooth: list[Array]  # per level: is each panel smooth
    moments: list[Array]  # per level: moments Σ|Δ|u^j, j = 0..2·ORDER, u local in [-1, 1]
    nodes: dict[int, Array] = field(default_factory=dict)  # level → (4, panels, ORDER)


class History:
    """The parameter-free change structure of one LR schedule.

    Parameters
    ----------
    lr
        One LR per step (``lr[k]`` is η_k), finite.
    exact
        Sum every change exactly (no panels): the O(steps × points) reference.
    """

    _cache: ClassVar[dict[int, tuple[weakref.ref, History]]] = {}

    def __init__(self, lr: Array, *, exact: bool = False) -> None:
        lr = np.asarray(lr, dtype=float)
        if lr.ndim != 1 or lr.size == 0 or not np.all(np.isfinite(lr)):
            raise DataError(f"LR history: expected a non-empty 1-D finite LR array, found {lr!r}")
        self.lr = lr
        self.cum = np.concatenate(([0.0], np.cumsum(lr)))  # cum[k] = S_{k-1} = Σ_{i<k} η_i
        delta = np.concatenate(([0.0], lr[:-1] - lr[1:]))
        self.delta = delta
        runs, singles = ([], np.flatnonzero(delta)) if exact else _split_runs(delta)
        self.exact = singles  # change indices summed exactly, sorted
        self.runs = [_build_run(delta, lr, a, b) for a, b in runs]

    @classmethod
    def of(cls, lr: Array) -> History:
        """The history of an LR array, built once per array object (read-only arrays only:
        a schedule's ``lr``), e.g. across the chunks of a long prediction."""
        if not (isinstance(lr, np.ndarray) and not lr.flags.writeable):
            return cls(lr)
        history = cached_on(cls._cache, lr, lambda: cls(lr))
        # A cached history keeps its LR array alive: bound the steps held, oldest out first.
        while sum(h.n_steps for _, h in cls._cache.values()) > CACHE_STEPS and len(cls._cache) > 1:
            cls._cache.pop(next(iter(cls._cache)))
        return history

    @property
    def n_steps(self) -> int:
        """Schedule length."""
        return int(self.lr.size)

    def pairs(self, at: Array, fields: tuple[str, ...] = tuple(PAD)) -> Pairs:
        """Pairs for the evaluated indices ``at`` (0 ≤ t < steps), shape (len(at), width).

        ``fields`` names the arrays to compute besides ``weight`` (the others are None).
        """
        at = np.asarray(at, dtype=np.int64).reshape(-1)
        if at.size and (at.min() < 0 or at.max() >= self.n_steps):
            raise DataError(
                f"steps {at.min()}..{at.max()} lie outside the schedule's 0..{self.n_steps - 1}"
            )
        point, k = _exact_terms(self.exact, at)
        parts = [self._exact_part(point, k)]
        for run in self.runs:
            parts += _run_terms(self, run, at, with_k="steps" in fields)
        point = np.concatenate([p[0] for p in parts])
        t = at[point]

        def joined(i: int) -> Array:  # one field of every part, joined (only when asked)
            return np.concatenate([p[i] for p in parts])

        values = {
            "weight": lambda: joined(2),
            "eta": lambda: joined(3),
            "area": lambda: self.cum[t + 1] - joined(4),
            "steps": lambda: t - joined(1) + 1.0,
        }
        chosen = {name: values[name]() for name in PAD if name == "weight" or name in fields}
        columns, count = _columns([p[0] for p in parts], len(at))
        return Pairs(**_pad_rows(point, columns, count, chosen))

    def _exact_part(self, point: Array, k: Array) -> tuple[Array, ...]:
        """(point, k, Δ_k, η_k, S_{k−1}) of exact changes."""
        return point, k.astype(float), self.delta[k], self.lr[k], self.cum[k]


def exact_pairs(lr: Array, at: Array) -> Pairs:
    """Every change k ≤ t as its own pair: the reference for tests, O(steps × points) memory."""
    return History(lr, exact=True).pairs(at)


def cached_on(cache: dict, key_array: Array, build: Callable[[], Any]) -> Any:
    """``build()`` once per live array object (id + weak reference), a small FIFO cache."""
    hit = cache.get(id(key_array))
    if hit is not None and hit[0]() is key_array:
        return hit[1]
    value = build()
    if len(cache) >= CACHE:
        cache.pop(next(iter(cache)))
    cache[id(key_array)] = (weakref.ref(key_array), value)
    return value


# ------------------------------------------------------------------------- building
def _split_runs(delta: Array) -> tuple[list[tuple[int, int]], Array]:
    """Runs (a, b) of ≥ MIN_RUN same-sign changes, and the other change indices."""
    sign = np.sign(delta)
    edges = np.flatnonzero(np.diff(sign)) + 1
    starts = np.concatenate(([0], edges))
    stops = np.concatenate((edges, [delta.size]))
    runs, exact = [], []
    for a, stop in zip(starts, stops, strict=True):
        if sign[a] == 0:
            continue
        if stop - a >= MIN_RUN:
            runs.append((int(a), int(stop - 1)))
        else:
            exact.append(np.arange(a, stop))
    exact_idx = np.concatenate(exact) if exact else np.empty(0, np.int64)
    return runs, exact_idx.astype(np.int64)


def _build_run(delta: Array, lr: Array, a: int, b: int) -> _Run:
    """Panel tree of run a..b: smoothness flags and local moments of |Δ| at every level.

    A panel of w steps is smooth when Δ changes by at most a fraction SMOOTHNESS/w between
    neighbouring steps (no kink of the LR within about w steps) and the LR changes by at most
    SMOOTHNESS times its smallest value over the panel (η^(−γ) has no singularity, η = 0,
    within about w steps).
    """
    n = b - a + 1
    height = max(0, int(np.ceil(np.log2(n / LEAF))))
    size = -(-n // LEAF) * LEAF  # whole leaves; a level with an odd count gets a blank panel
    weight = np.zeros(size)
    weight[:n] = np.abs(delta[a : b + 1])
    ratio = np.zeros(size)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio[: n - 1] = np.abs(np.diff(delta[a : b + 1])) / np.abs(delta[a:b])
    lowest = np.full(size, np.inf)
    lowest[:n] = np.minimum(lr[a : b + 1], lr[a - 1 : b])
    u = (np.arange(LEAF) - (LEAF - 1) / 2) / ((LEAF - 1) / 2)
    moments = [weight.reshape(-1, LEAF) @ (u[:, None] ** np.arange(2 * ORDER + 1))]
    # Per panel: largest Δ ratio, largest |Δ|, minus the smallest LR (one max for all three).
    extremes = [np.stack([ratio, weight, -lowest])]
    for _ in range(LEAF.bit_length() - 1):  # pairwise maxima: faster than max over axis 2
        extremes[0] = np.maximum(extremes[0][:, 0::2], extremes[0][:, 1::2])
    blank = np.array([[0.0], [0.0], [-np.inf]])  # no change: weight 0, LR +inf
    for level in range(1, height + 1):
        child, child_extremes = moments[-1], extremes[-1]
        if child.shape[0] % 2:
            child = np.vstack([child, np.zeros((1, child.shape[1]))])
            child_extremes = np.hstack([child_extremes, blank])
        moments.append(merge_moments(child, LEAF << (level - 1)))
        extremes.append(np.maximum(child_extremes[:, 0::2], child_extremes[:, 1::2]))
    smooth = [
        (r * (LEAF << lv) <= SMOOTHNESS) & (d * (LEAF << lv) <= -SMOOTHNESS * m)
        for lv, (r, d, m) in enumerate(extremes)
    ]
    return _Run(a, b, height, smooth, moments)


def _cubic(values: Array, x: Array, lo: int, hi: int) -> Array:
    """Cubic Lagrange interpolation of ``values`` at ``x``, stencils kept inside [lo, hi]."""
    base = np.clip(np.floor(x).astype(np.int64) - 1, lo, hi - 3)
    s = x - base
    s1, s2, s3 = s - 1.0, s - 2.0, s - 3.0
    return (
        -values[base] * s1 * s2 * s3 / 6.0
        + values[base + 1] * s * s2 * s3 / 2.0
        - values[base + 2] * s * s1 * s3 / 2.0
        + values[base + 3] * s * s1 * s2 / 6.0
    )


# ------------------------------------------------------------------------- evaluating
def _exact_terms(exact: Array, at: Array) -> tuple[Array, Array]:
    """(point, change) pairs of every exact change k ≤ t."""
    count = np.searchsorted(exact, at, side="right")
    return _expand(np.arange(at.size), np.zeros(at.size, np.int64), count, exact)


def _expand(point: Array, start: Array, count: Array, values: Array | None = None) -> tuple:
    """Repeat each point ``count`` times with offsets start, start+1, … (into ``values``)."""
    pts = np.repeat(point, count)
    offset = np.arange(pts.size) - np.repeat(np.cumsum(count) - count, count)
    index = np.repeat(start, count) + offset
    return pts, (index if values is None else values[index])


def _run_terms(h: History, run: _Run, at: Array, with_k: bool = True) -> list[tuple]:
    """Exact leaf terms and Gauss-node terms of one run for every point (vectorised).

    Panels are visited top-down; each (point, panel) candidate is accepted (Gauss rule),
    summed exactly (a leaf) or split into its two children.
    """
    end_all = np.minimum(run.b, at)
    point = np.flatnonzero(end_all >= run.a)
    index = np.zeros(point.size, np.int64)
    accepted: list[tuple[int, Array, Array]] = []
    parts = []
    for level in range(run.height, -1, -1):
        width = LEAF << level
        lo = run.a + index * width
        hi = np.minimum(lo + width - 1, run.b)
        end = end_all[point]
        keep = lo <= end
        point, index, lo, hi, end = point[keep], index[keep], lo[keep], hi[keep], end[keep]
        take = (
            (hi <= end)
            & (at[point] - hi >= ADMISSIBLE * (hi - lo + 1))
            & run.smooth[level][index]
            & (hi - lo + 1 > LEAF)
        )
        accepted.append((level, point[take], index[take]))
        rest = ~take
        if level == 0:
            pts, k = _expand(point[rest], lo[rest], np.minimum(hi, end)[rest] - lo[rest] + 1)
            parts.append(h._exact_part(pts, k))
            break
        point = np.repeat(point[rest], 2)
        index = (2 * index[rest, None] + np.array([0, 1])).ravel()
    return parts + _node_part(h, run, accepted, with_k)


def _node_part(
    h: History, run: _Run, accepted: list[tuple[int, Array, Array]], with_k: bool = True
) -> list[tuple]:
    """Gauss-node parts of the accepted panels, one per level (each sorted by point); each
    panel's rule is computed once per history.  ``with_k=False`` leaves out the node
    positions (None), needed only for the ``steps`` field."""
    accepted = [(level, point, index) for level, point, index in accepted if point.size]
    _fill_nodes(h, run, accepted)
    parts = []
    for level, point, index in accepted:
        x, weight, eta, before = run.nodes[level]
        k = x[index].ravel() if with_k else None
        parts.append(
            (np.repeat(point, ORDER), k, *(v[index].ravel() for v in (weight, eta, before)))
        )
    return parts


def _fill_nodes(h: History, run: _Run, accepted: list[tuple[int, Array, Array]]) -> None:
    """Compute the Gauss terms of the accepted panels not yet in the memo (see _Run), in
    one batch over all levels."""
    levels, missing = [], []
    for level, _, index in accepted:
        if level not in run.nodes:
            run.nodes[level] = np.full((4, run.moments[level].shape[0], ORDER), np.nan)
        used = np.zeros(run.nodes[level].shape[1], bool)
        used[index] = True
        panels = np.flatnonzero(used & np.isnan(run.nodes[level][0, :, 0]))
        if panels.size:
            levels.append(np.full(panels.size, level))
            missing.append(panels)
    if not missing:
        return
    level, panels = np.concatenate(levels), np.concatenate(missing)
    moments = [run.moments[int(lv[0])][p] for lv, p in zip(levels, missing, strict=True)]
    nodes, weights = gauss_rules(np.concatenate(moments))
    width = LEAF << level
    half = (width - 1) / 2
    x = (run.a + panels * width + half)[:, None] + half[:, None] * nodes
    values = (
        x,
        np.sign(h.delta[run.a]) * weights,
        _cubic(h.lr, x, run.a - 1, run.b),
        _cubic(h.cum, x, run.a - 1, run.b),
    )
    start = 0
    for lv, block in zip(levels, missing, strict=True):  # blocks of one level each, in order
        rows = slice(start, start + block.size)
        start += block.size
        for memo, value in zip(run.nodes[int(lv[0])], values, strict=True):
            memo[block] = value[rows]


def _columns(points: list[Array], n_points: int) -> tuple[Array, Array]:
    """Per-pair column of the padded layout, and pairs per point, for parts each sorted by
    point: a pair's column counts the pairs of its point in earlier parts and before it in
    its own part (linear time, no sort)."""
    count = np.zeros(n_points, np.int64)
    columns = []
    for point in points:
        if point.size == 0:
            continue
        here = np.bincount(point, minlength=n_points)
        first = np.cumsum(here) - here  # index of each point's first pair in this part
        columns.append(count[point] + np.arange(point.size) - first[point])
        count += here
    return (np.concatenate(columns) if columns else np.empty(0, np.int64)), count


def _pad_rows(
    point: Array, column: Array, count: Array, fields: dict[str, Array]
) -> dict[str, Array]:
    """Scatter flat per-pair values into (n_points, width) arrays, padded with PAD."""
    width = max(int(count.max()) if count.size else 0, 1)
    flat = point * width + column
    out = {}
    for name, values in fields.items():
        grid = np.full(count.size * width, PAD[name])
        grid[flat] = values
        out[name] = grid.reshape(count.size, width)
    return out
