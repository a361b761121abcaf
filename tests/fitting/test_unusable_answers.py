"""Answers from nothing are refused: predictions from a fit that did not converge (unless
asked for, with a warning) and bootstrap "intervals" from fewer than 10 resamples."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scaling_fit as sf
from scaling_fit.cli.main import main


def synthetic_runs(n: int = 20) -> pd.DataFrame:
    """Chinchilla-like final losses of ``n`` runs (1 % seeded noise)."""
    rng = np.random.default_rng(0)
    n_params = np.geomspace(1e8, 1e10, n)
    tokens = np.geomspace(2e9, 6e10, n)[rng.permutation(n)]
    loss = (1.7 + 400 / n_params**0.34 + 410 / tokens**0.28) * np.exp(rng.normal(0, 0.01, n))
    return pd.DataFrame({"n_params": n_params, "tokens": tokens, "loss": loss})


@pytest.fixture(scope="module")
def stalled() -> sf.FitResult:
    """A real fit, marked as the optimiser marks one that stopped short of an optimum."""
    result = sf.fit(synthetic_runs(), "chinchilla")
    assert result.converged
    return dataclasses.replace(result, converged=False)


def test_predicting_from_an_unconverged_fit_raises(stalled) -> None:
    for call in (
        lambda **allow: stalled.predict(n_params=1e9, tokens=2e10, **allow),
        lambda **allow: stalled.compute_optimal(1e21, **allow),
    ):
        with pytest.raises(sf.FitError, match=r"did not converge") as info:
            call()
        assert "allow_unconverged=True (--allow-unconverged)" in str(info.value)
        with pytest.warns(sf.ScalingFitWarning, match="predicting anyway"):
            call(allow_unconverged=True)


def test_given_parameters_are_not_a_failed_fit() -> None:
    # from_params has converged=False (nothing was fitted) and must keep predicting.
    published = sf.FitResult.from_params("chinchilla")
    assert 1.5 < float(published.predict(n_params=7e10, tokens=1.4e12)) < 2.5


def test_cli_predict_from_an_unconverged_fit_exits_1(capsys, tmp_path: Path, stalled) -> None:
    path = tmp_path / "fit.json"
    stalled.to_json(path)
    argv = ["predict", str(path), "--n-params", "1e9", "--tokens", "2e10"]
    code = main([*argv, "-o", str(tmp_path / "out.csv")])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "did not converge" in err and "--allow-unconverged" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fit.json"]  # nothing written
    assert main([*argv, "--allow-unconverged", "--format", "csv"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("n_params,tokens,loss")
    assert err.count("predicting anyway") == 1  # once, though two methods were called


@pytest.mark.parametrize("bootstrap", [1, 2, 9])
def test_fewer_than_10_resamples_are_refused(bootstrap) -> None:
    runs = synthetic_runs()
    with pytest.raises(sf.DataError, match=rf"bootstrap={bootstrap} \(--bootstrap\)") as info:
        sf.fit(runs, "chinchilla", bootstrap=bootstrap)
    assert "at least 10" in str(info.value)
    with pytest.raises(sf.DataError, match=r"bootstrap=.* \(--bootstrap\)"):
        sf.isoflop(runs, bootstrap=bootstrap)


def test_cli_fit_bootstrap_1_exits_2(capsys, tmp_path: Path) -> None:
    synthetic_runs().to_csv(tmp_path / "runs.csv", index=False)
    code = main(["fit", str(tmp_path / "runs.csv"), "--law", "chinchilla", "--bootstrap", "1"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "bootstrap=1 (--bootstrap)" in err and "at least 10" in err


MULTIPOWER = {  # Luo et al.'s 400M parameters (data/multipower_law/SOURCE.md)
    "L0": 2.37474466, "A": 0.65421216, "alpha": 0.42878731, "B": 523.42464371,
    "C": 2.02462735, "beta": 0.59350493, "gamma": 0.63472457,
}  # fmt: skip


def test_best_schedule_refuses_runs_longer_than_it_can_search() -> None:
    published = sf.FitResult.from_params("multipower", MULTIPOWER)
    with pytest.raises(sf.DataError, match=r"total_steps=100000000 \(--total-steps\)") as info:
        sf.best_schedule(published, 100_000_000, peak=3e-4, warmup=2160)  # was > 300 s, 3 GB
    assert "2,000,000" in str(info.value)


def test_best_schedule_shows_progress(capsys) -> None:
    published = sf.FitResult.from_params("multipower", MULTIPOWER)
    grid = {"decay": [0.1, 0.2], "shape": ["linear"], "final": [0.1]}
    with pytest.warns(sf.ScalingFitWarning):  # a 2-point grid: the winner is on its edge
        sf.best_schedule(published, 5000, peak=3e-4, warmup=500, grid=grid, progress=True)
    assert "schedule search" in capsys.readouterr().err


def test_percentile_intervals_match_numpy_and_are_fast() -> None:
    from scaling_fit.results.intervals import percentile_interval

    rng = np.random.default_rng(1)
    draws = rng.normal(size=(40, 300))
    draws[rng.random(draws.shape) < 0.3] = np.nan  # failed refits
    draws[:, 0] = np.nan  # a point no resample predicts
    lo, hi = percentile_interval(draws, 0.9)
    with pytest.warns(RuntimeWarning, match="All-NaN"):
        expected = np.nanpercentile(draws, [5, 95], axis=0)
    np.testing.assert_allclose([lo, hi], expected, rtol=1e-12, equal_nan=True)  # same method


def test_a_large_interval_grid_shows_progress(capsys) -> None:
    # 1,500 x 1,500 points from a bootstrapped fit took 161 s in numpy's per-column
    # nanpercentile, silently; now it is vectorised and a bar counts the points.
    result = sf.fit(synthetic_runs(), "chinchilla", bootstrap=10)
    n = np.geomspace(1e8, 1e10, 300)
    table = result.predict_interval(n_params=n, tokens=20 * n, progress=True)
    assert "predict interval" in capsys.readouterr().err
    assert np.all(table["lower"] <= table["upper"])
