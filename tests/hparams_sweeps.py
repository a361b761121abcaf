"""Synthetic learning-rate × batch-size sweeps in the shapes people run (issue 17, item 3):
a full grid, a "cross" (LR varied at the guessed batch size, batch varied at the guessed LR,
factor-2 steps) and an LR-only line, with runs above 3x the optimal LR diverged (loss ~7);
and the helpers the hparams tests share (a fit with its warnings, strict JSON, the CLI)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import scaling_fit as sf
from scaling_fit.cli.main import main

SIZES = (1e8, 2e8, 4e8, 8e8)
RATIOS = (20.0, 80.0)  # tokens per parameter
# The truth: lr*(N, D) = C_LR N^A D^B (lr*(1e8, 2e9) = 2e-3) and B*(D) = 4 D^0.5 tokens.
A, B = -0.5, 0.1
C_LR = 2e-3 / (1e8**A * 2e9**B)
C_BATCH, B_BATCH = 4.0, 0.5
DIVERGE = 3.0  # runs at lr > 3 lr* diverge


def truth(n: float, d: float) -> tuple[float, float]:
    """The optimal (lr, batch in tokens) of cell (n, d)."""
    return C_LR * n**A * d**B, C_BATCH * d**B_BATCH


def loss_at(n: float, d: float, lr: float, batch: float, rng: np.random.Generator) -> float:
    """Chinchilla-like base loss times a bowl in (ln lr, ln batch) with an lr-batch
    interaction, 0.1 % noise; loss ~7 when lr exceeds 3 lr*."""
    best_lr, best_batch = truth(n, d)
    u, v = np.log(lr / best_lr), np.log(batch / best_batch)
    if lr > DIVERGE * best_lr:
        return 7.0 + rng.normal(0, 0.2)
    base = 1.7 + 400 / n**0.34 + 410 / d**0.28
    return base * (1 + 0.012 * u * u + 0.004 * v * v + 0.004 * u * v) * np.exp(rng.normal(0, 1e-3))


def sweep(shape: str = "cross", seed: int = 0, sizes: tuple[float, ...] = SIZES) -> pd.DataFrame:
    """One row per run; ``shape`` is ``"grid"`` (7 LRs x 5 batch sizes), ``"cross"`` (the 7
    LRs at the guessed batch and the 5 batch sizes at the guessed LR: 11 runs) or
    ``"lr"`` (the 7 LRs only). The guess is off the optimum by up to half a factor 2."""
    rng = np.random.default_rng(seed)
    rows = []
    for n in sizes:
        for ratio in RATIOS:
            d = ratio * n
            best_lr, best_batch = truth(n, d)
            guess_lr = best_lr * 2.0 ** rng.uniform(-0.5, 0.5)
            guess_batch = best_batch * 2.0 ** rng.uniform(-0.5, 0.5)
            for i in range(-3, 4):
                for j in range(-2, 3):
                    keep = {"grid": True, "cross": i == 0 or j == 0, "lr": j == 0}[shape]
                    if keep:
                        lr, batch = guess_lr * 2.0**i, guess_batch * 2.0**j
                        rows.append((n, d, lr, batch, loss_at(n, d, lr, batch, rng)))
    return pd.DataFrame(rows, columns=["n_params", "tokens", "lr", "batch_size", "loss"])


# ---------------------------------------------- helpers the hparams tests share
def fit_recording(table: pd.DataFrame, **options: object) -> tuple[sf.HparamsResult, str]:
    """fit_hparams and the text of its ScalingFitWarnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", sf.ScalingFitWarning)
        result = sf.fit_hparams(table, **options)
    return result, "\n".join(str(w.message) for w in caught)


def strict_json(text: str) -> dict:
    """Parsed JSON; NaN or Infinity in the text fail the test."""

    def refuse(name: str) -> None:
        raise AssertionError(f"JSON holds {name}")

    return json.loads(text, parse_constant=refuse)


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err
