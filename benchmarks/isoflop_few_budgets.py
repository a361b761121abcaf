"""How often ``sf.isoflop``'s 95 % bootstrap interval of the exponent holds the truth, by budgets.

The bootstrap resamples budgets (the independent units of the N*(C) fit).  With 3 budgets there
are only 27 resamples, 3 of them degenerate, and the percentile interval is little more than
the range of the slopes through pairs of budgets: it is far too narrow.  This measures the
coverage on synthetic Chinchilla profiles (the law, grid and noise of
``benchmarks/isoflop_methods.py``: E 1.8, A 480, B 2085, α 0.35, β 0.37; 9 N per budget,
centred, ±0.9 decades; multiplicative Gaussian loss noise), the first k of 8 budgets
1e18–3e21, 30 seeds, 300 resamples, with every budget forced to keep an interval.

    python benchmarks/isoflop_few_budgets.py    # ~30 s
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

import scaling_fit as sf
from scaling_fit.analysis import isoflop as isoflop_module

E, A, B, ALPHA, BETA = 1.8, 480.0, 2085.0, 0.35, 0.37
TRUE_A = BETA / (ALPHA + BETA)
G = (ALPHA * A / (BETA * B)) ** (1 / (ALPHA + BETA))
BUDGETS = np.geomspace(1e18, 3e21, 8)


def profiles(n_budgets: int, noise: float, seed: int) -> pd.DataFrame:
    """9 sizes per budget, centred on N* over ±0.9 decades, loss noise of s.d. ``noise``."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in BUDGETS[:n_budgets]:
        n = G * (c / 6) ** TRUE_A * 10 ** np.linspace(-0.9, 0.9, 9)
        d = c / (6 * n)
        loss = (E + A / n**ALPHA + B / d**BETA) * (1 + noise * rng.standard_normal(9))
        rows.append(pd.DataFrame({"compute": c, "n_params": n, "tokens": d, "loss": loss}))
    return pd.concat(rows, ignore_index=True)


def coverage(n_budgets: int, noise: float, seeds: range) -> float:
    """Share of seeds whose 95 % interval of a holds the true exponent."""
    held = []
    for seed in seeds:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = sf.isoflop(profiles(n_budgets, noise, seed), bootstrap=300, seed=seed)
        lo, hi = result.ci95["a"]
        held.append(lo <= TRUE_A <= hi)
    return float(np.mean(held))


def main() -> None:
    # Measure the interval itself, also where isoflop now refuses to give one.
    isoflop_module.MIN_BOOTSTRAP_BUDGETS = 3
    seeds = range(30)
    rows = []
    for n_budgets in (3, 4, 5, 8):
        row = {"budgets": n_budgets}
        for noise in (0.001, 0.003, 0.01):
            row[f"noise {100 * noise:g} %"] = coverage(n_budgets, noise, seeds)
        rows.append(row)
    print(f"coverage of the 95 % bootstrap interval of a (true {TRUE_A:.4f}), {len(seeds)} seeds")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.2f}"))


if __name__ == "__main__":
    main()
