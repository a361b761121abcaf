"""A small sweep of one's own through ``hparams``, ``plan --hparams`` and the API (issue 21,
item 4): 3 model sizes × 4 peak LRs × 3 batch sizes of 64–512 sequences, a loss surface with
a clear optimum and 0.1 % noise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hparams_sweeps import fit_recording, run, strict_json

import scaling_fit as sf

SIZES = (1e8, 3e8, 1e9)
LRS = (3e-4, 1e-3, 3e-3, 1e-2)
BATCHES = (64, 180, 512)  # sequences


def small_sweep(tokens_per_param: tuple[float, ...] = (20.0,), seed: int = 0) -> pd.DataFrame:
    """Runs around lr* = 3e-3 (N/1e8)^-0.3 and B* = 128 (N/1e8)^0.2 sequences; a cell per
    (size, tokens per parameter)."""
    rng = np.random.default_rng(seed)
    rows = []
    for n in SIZES:
        for ratio in tokens_per_param:
            d = ratio * n
            best_lr, best_batch = 3e-3 * (n / 1e8) ** -0.3, 128 * (n / 1e8) ** 0.2
            base = 1.7 + 400 / n**0.34 + 410 / d**0.28
            for lr in LRS:
                for batch in BATCHES:
                    shape = (
                        0.01 * np.log(lr / best_lr) ** 2 + 0.004 * np.log(batch / best_batch) ** 2
                    )
                    loss = base * (1 + shape) * np.exp(rng.normal(0, 0.001))
                    rows.append((n, d, lr, batch, loss))
    return pd.DataFrame(rows, columns=["n_params", "tokens", "lr", "batch_size", "loss"])


@pytest.fixture
def sweep_csv(tmp_path: Path) -> Path:
    path = tmp_path / "sweep.csv"
    small_sweep().to_csv(path, index=False)
    return path


def test_hparams_without_seq_len_warns_and_writes_strict_json(
    capsys: pytest.CaptureFixture[str], sweep_csv: Path, tmp_path: Path
) -> None:
    # Before: a traceback, "Out of range float values are not JSON compliant: nan".
    code, _, err = run(capsys, "hparams", sweep_csv, "-o", tmp_path / "hp.json")
    assert code == 0, err
    assert "Traceback" not in err
    line = next(x for x in err.splitlines() if "look like sequences" in x)
    assert line.startswith("warning: ") and "--seq-len" in line
    raw = strict_json((tmp_path / "hp.json").read_text())
    # The published law's batch (~1e6 tokens) lies outside 64-512 in every cell: no penalty,
    # said so, and written as null.
    assert raw["penalty"]["published"] is None
    assert any("published law" in w and "not measured" in w for w in raw["warnings"])


def test_hparams_with_seq_len_then_plan(
    capsys: pytest.CaptureFixture[str], sweep_csv: Path, tmp_path: Path
) -> None:
    hp = tmp_path / "hp.json"
    # Before: lr intervals [nan, nan] and numpy "All-NaN slice" RuntimeWarnings (errors here,
    # filterwarnings = error); then plan raised IndexError.
    code, _, err = run(capsys, "hparams", sweep_csv, "--seq-len", "2048", "-o", hp)
    assert code == 0, err
    assert "nan" not in err.lower()
    # D = 20 N in every cell: the lr law cannot separate N from D, and says so.
    assert any("vary together" in x and "tokens per parameter 20" in x for x in err.splitlines())
    raw = strict_json(hp.read_text())
    assert raw["lr"]["bootstrap_samples"] is None
    assert all(p["ci95"] is None for p in raw["lr"]["params"].values())
    assert all(p["ci95"] is not None for p in raw["batch"]["params"].values())

    argv = ["plan", "--n-params", "1e9", "--tokens", "2e10", "--hparams", hp, "--format", "json"]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    rows = {r["quantity"]: r for r in strict_json(out)["rows"]}
    # The optimum put into the sweep: lr* = 3e-3 (10)^-0.3 = 1.5e-3, B* = 202 sequences; the
    # band rule averages near-optimal runs of a coarse grid, so within a factor 2.
    assert 1.5e-3 / 2 < rows["peak_lr"]["value"] < 1.5e-3 * 2
    assert rows["peak_lr"]["lower"] is None and rows["peak_lr"]["upper"] is None
    batch = rows["batch_sequences"]
    assert 202 / 2 < batch["value"] < 202 * 2
    assert batch["lower"] <= batch["value"] <= batch["upper"]


def test_api_predict_of_a_small_sweep() -> None:
    # Before: IndexError: index -1 is out of bounds for axis 0 with size 0.
    hp, said = fit_recording(small_sweep(), seq_len=2048, bootstrap=200)
    assert "vary together" in said
    with pytest.warns(sf.ScalingFitWarning, match="no interval for lr.*vary together"):
        row = hp.predict(1e9, 2e10).iloc[0]
    assert np.isfinite(row["lr"]) and np.isnan(row["lr_lower"]) and np.isnan(row["lr_upper"])
    assert row["batch_size_lower"] <= row["batch_size"] <= row["batch_size_upper"]
    assert any("vary together" in w for w in hp.warnings)


def test_cells_at_several_token_counts_give_finite_intervals() -> None:
    # 3 sizes x 3 token counts = 9 cells: the bootstrap over cells determines both laws.
    hp, _ = fit_recording(small_sweep((10.0, 20.0, 40.0)), seq_len=2048, bootstrap=300)
    assert not any("interval" in w for w in hp.warnings)
    for fit in (hp.lr, hp.batch):
        for name, (lo, hi) in fit.ci95.items():
            assert np.isfinite(lo) and np.isfinite(hi) and lo < fit.params[name] < hi, name
    # The sweep's lr* does not depend on D, so the D-exponent's interval holds 0 (or nearly:
    # the band rule on a coarse grid, 0.15 either side).
    lo, hi = hp.lr.ci95["b"]
    assert lo - 0.15 < 0 < hi + 0.15


def test_as_many_cells_as_parameters_says_why_there_are_no_intervals() -> None:
    sweep = small_sweep((10.0, 20.0, 40.0))
    # One cell per size, at different tokens per parameter: 3 cells, 3 lr-law parameters.
    keep = sweep["tokens"].isin([1e9, 6e9, 4e10])
    hp, said = fit_recording(sweep[keep], seq_len=2048, bootstrap=100)
    assert "more cells than the law's 3 parameters" in said
    assert hp.lr.samples is None
    with pytest.warns(sf.ScalingFitWarning, match="no interval for lr.*3 parameters"):
        assert np.isnan(hp.predict(3e8, 6e9).iloc[0]["lr_lower"])
