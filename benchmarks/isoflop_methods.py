"""Which isoFLOP window recovers the exponent: ``sf.isoflop(method=...)`` on synthetic profiles.

Profiles of Chinchilla's law L = E + A/N^α + B/D^β with E 1.8, A 480, B 2085, α 0.35,
β 0.37 along C = 6ND, so the true exponent of N*(C) = k·C^a is a = β/(α+β) = 0.5139 (and
b = α/(α+β) = 1 − a for D*, whose error is the same in size as D* = C/(6N*) here).
8 budgets 1e18–3e21; per budget ``density`` sizes N evenly spaced in ln N over ±0.9 decades
around a grid centre; multiplicative Gaussian loss noise of relative s.d. ``noise``.

Grid offset ``offset`` = f: the true N* sits f·0.9 decades from the grid's centre, on the
small-N side at the smallest budget, moving linearly to the large-N side at the largest (as
N* moves through a grid of sizes that is fixed across budgets). f = 0 is centred, f = 0.6
puts N* 0.36 decades from one end of the grid (one-sided); a deterministic method's bias
then changes with C and enters the exponent. Budgets whose lowest loss is at the edge of
their grid are left out (``sf.isoflop``'s default); a cell where fewer than 2 budgets remain
counts as a failure (NaN).

Printed: per cell (density × noise × offset) the mean over seeds of |a − 0.5139| for each
method, the worst method-cell, and how many cells each method keeps within 0.01 (mean over
seeds). Default: 3 seeds, densities 5/10/15/20, noises 0.1/0.3/1 %, offsets 0/0.3/0.6, and
the issue's case (15 N, ±0.9 decades, centred, 0.3 % noise, seeds 0–2). ``--full``: 10 seeds
and densities 5/7/10/15/20, noises 0.1/0.3/0.5/1 %.

    python benchmarks/isoflop_methods.py          # ~20 s
    python benchmarks/isoflop_methods.py --full   # a few minutes
"""

from __future__ import annotations

import argparse
import itertools
import warnings

import numpy as np
import pandas as pd

import scaling_fit as sf
from scaling_fit.errors import DataError

E, A, B, ALPHA, BETA = 1.8, 480.0, 2085.0, 0.35, 0.37
TRUE_A = BETA / (ALPHA + BETA)
# N*(C) = G (C/6)^a for Chinchilla's law (laws.md §1).
G = (ALPHA * A / (BETA * B)) ** (1 / (ALPHA + BETA))
BUDGETS = np.geomspace(1e18, 3e21, 8)
HALF_SPAN = 0.9  # decades of N on each side of the grid's centre
METHODS = ("auto", "local", "quadratic")


def profiles(density: int, noise: float, offset: float, seed: int) -> pd.DataFrame:
    """Synthetic isoFLOP profiles: one grid of ``density`` N per budget (see module doc)."""
    rng = np.random.default_rng(seed)
    drift = np.linspace(-1.0, 1.0, len(BUDGETS))
    rows = []
    for c, side in zip(BUDGETS, drift, strict=True):
        n_star = G * (c / 6) ** TRUE_A
        centre = np.log10(n_star) - offset * HALF_SPAN * side
        n = 10 ** (centre + np.linspace(-HALF_SPAN, HALF_SPAN, density))
        d = c / (6 * n)
        loss = E + A / n**ALPHA + B / d**BETA
        loss *= 1 + noise * rng.standard_normal(density)
        rows.append(pd.DataFrame({"compute": c, "n_params": n, "tokens": d, "loss": loss}))
    return pd.concat(rows, ignore_index=True)


def exponent(runs: pd.DataFrame, method: str) -> float:
    """a of ``sf.isoflop(method=method)``; NaN when fewer than 2 budgets are usable."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # edge budgets warn; they are left out, as by default
        try:
            return sf.isoflop(runs, method=method, bootstrap=0).params["a"]
        except DataError:
            return np.nan


def grid(densities, noises, offsets, seeds) -> pd.DataFrame:
    """Mean |a − truth| over seeds per cell and method."""
    rows = []
    for density, noise, offset in itertools.product(densities, noises, offsets):
        errors = {m: [] for m in METHODS}
        for seed in seeds:
            runs = profiles(density, noise, offset, seed)
            for method in METHODS:
                errors[method].append(abs(exponent(runs, method) - TRUE_A))
        row = {"density": density, "noise %": 100 * noise, "offset": offset}
        rows.append(row | {m: float(np.mean(e)) for m, e in errors.items()})
    return pd.DataFrame(rows)


def issue_case() -> pd.DataFrame:
    """Issue 17's case: 15 N over ±0.9 decades, centred, 0.3 % noise; b per seed."""
    rows = []
    for seed in range(3):
        runs = profiles(15, 0.003, 0.0, seed)
        row = {"seed": seed}
        for method in METHODS:
            row[f"b {method}"] = 1 - exponent(runs, method)
        rows.append(row)
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="10 seeds, the whole grid")
    full = parser.parse_args().full
    densities = (5, 7, 10, 15, 20) if full else (5, 10, 15, 20)
    noises = (0.001, 0.003, 0.005, 0.01) if full else (0.001, 0.003, 0.01)
    seeds = range(10) if full else range(3)
    table = grid(densities, noises, (0.0, 0.3, 0.6), seeds)
    print(f"true a = {TRUE_A:.4f}; mean |a - truth| over {len(seeds)} seeds per cell")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    for method in METHODS:
        errors = table[method].fillna(np.inf)
        print(
            f"{method:>9}: {int((errors <= 0.01).sum())}/{len(table)} cells within 0.01, "
            f"worst {table[method].max():.4f}, mean {table[method].mean():.4f}"
        )
    print(f"issue 17's case (15 N, ±0.9 decades, 0.3 % noise; true b = {1 - TRUE_A:.4f}):")
    print(issue_case().to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
