"""plan(): the Step Law case field by field, with an L(N, D) fit, with a fitted sweep."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scaling_fit as sf

DATA = Path(__file__).resolve().parents[2] / "data"


def _rows(table: pd.DataFrame) -> pd.DataFrame:
    return table.set_index("quantity")


def test_step_law_case_field_by_field() -> None:
    table = sf.plan(n_params=7e9, tokens=1.4e12, seq_len=2048)
    rows = _rows(table)
    assert list(table.columns) == ["quantity", "value", "lower", "upper", "unit", "law"]
    assert list(rows.index) == [
        "n_params", "tokens", "compute", "peak_lr", "batch_size", "batch_sequences", "steps",
        "warmup_steps",
    ]  # fmt: skip
    # data/steplaw/SOURCE.md: 9.35e-4 and 5.00e6 tokens = 2,440 sequences of 2,048 (3 figures
    # quoted: 0.1 %); steps and warm-up follow exactly from them.
    assert rows.loc["compute", "value"] == 6 * 7e9 * 1.4e12
    assert rows.loc["peak_lr", "value"] == pytest.approx(9.35e-4, rel=1e-3)
    assert rows.loc["batch_size", "value"] == pytest.approx(5.00e6, rel=1e-3)
    assert rows.loc["batch_sequences", "value"] == pytest.approx(2440, rel=1e-3)
    batch = rows.loc["batch_size", "value"]
    assert rows.loc["steps", "value"] == pytest.approx(1.4e12 / batch, rel=1e-12)
    assert rows.loc["warmup_steps", "value"] == pytest.approx(0.01 * 1.4e12 / batch, rel=1e-12)
    assert rows.loc["steps", "lower"] == pytest.approx(1.4e12 / rows.loc["batch_size", "upper"])
    assert "steplaw_lr (published" in rows.loc["peak_lr", "law"]
    assert "convention" in rows.loc["warmup_steps", "law"]


def test_published_intervals_match_the_authors_bootstrap() -> None:
    # The plan's interval is normal in log space with the covariance of the authors' 1,000
    # bootstrap fits; their percentile interval differs from it by the skew of the bootstrap
    # (for the lr, 0.4 % at the lower and 0.9 % at the upper end): 2 %.
    boot = pd.read_csv(DATA / "steplaw" / "1004_fitted_lr_bs_scaling_model_parameters.csv")
    log_lr = (
        boot["lr_intercept"] + boot["lr_coefN"] * np.log(7e9) + boot["lr_coefD"] * np.log(1.4e12)
    )
    log_b = boot["bs_intercept"] + boot["bs_coefD"] * np.log(1.4e12)
    rows = _rows(sf.plan(n_params=7e9, tokens=1.4e12))
    for quantity, values in (("peak_lr", log_lr), ("batch_size", log_b)):
        lo, hi = np.exp(np.percentile(values, [2.5, 97.5]))
        assert rows.loc[quantity, "lower"] == pytest.approx(lo, rel=0.02), quantity
        assert rows.loc[quantity, "upper"] == pytest.approx(hi, rel=0.02), quantity


@pytest.fixture(scope="module")
def chinchilla() -> sf.FitResult:
    runs = sf.load_runs(DATA / "epoch_chinchilla" / "svg_extracted_data.csv")
    return sf.fit(runs, "chinchilla", exclude=sf.highest_loss_mask(runs, 5), bootstrap=40)


def test_with_a_loss_fit(chinchilla: sf.FitResult) -> None:
    rows = _rows(sf.plan(n_params=7e9, tokens=1.4e12, seq_len=4096, fit=chinchilla))
    loss = float(chinchilla.predict(n_params=7e9, tokens=1.4e12))
    assert rows.loc["loss", "value"] == pytest.approx(loss, rel=1e-12)
    assert rows.loc["loss", "lower"] < loss < rows.loc["loss", "upper"]
    kaplan = sf.get_law("kaplan_bcrit")
    assert rows.loc["critical_batch", "value"] == pytest.approx(
        kaplan.predict(loss, **kaplan.published), rel=1e-12
    )
    # A higher loss means a smaller critical batch: the interval's ends swap.
    assert rows.loc["critical_batch", "lower"] == pytest.approx(
        kaplan.predict(rows.loc["loss", "upper"], **kaplan.published), rel=1e-12
    )
    optimum = chinchilla.compute_optimal(6 * 7e9 * 1.4e12).iloc[0]
    assert rows.loc["n_params_opt", "value"] == pytest.approx(optimum["n_params"], rel=1e-12)
    assert rows.loc["tokens_opt", "value"] == pytest.approx(optimum["tokens"], rel=1e-12)
    # The compute-optimal run at the same compute has a lower predicted loss.
    assert rows.loc["loss_opt", "value"] < rows.loc["loss", "value"]
    assert rows.loc["batch_sequences", "value"] == pytest.approx(
        rows.loc["batch_size", "value"] / 4096, rel=1e-12
    )
    assert rows["law"].str.len().min() > 0


def test_compute_only_uses_the_compute_optimal_run(chinchilla: sf.FitResult) -> None:
    rows = _rows(sf.plan(compute=5.76e23, fit=chinchilla))
    optimum = chinchilla.compute_optimal(5.76e23).iloc[0]
    assert rows.loc["n_params", "value"] == pytest.approx(optimum["n_params"], rel=1e-12)
    rows = _rows(sf.plan(n_params=1e9, compute=6e20))
    assert rows.loc["tokens", "value"] == pytest.approx(1e11, rel=1e-12)


def test_far_outside_a_fitted_sweep_warns() -> None:
    sweep = sf.load_runs(
        DATA / "steplaw" / "dense_lr_bs_loss.csv.gz", columns={"loss": "smooth loss"}
    )
    hp = sf.fit_hparams(sweep, seq_len=2048, bootstrap=100)
    with pytest.warns(sf.ScalingFitWarning, match="tokens extrapolates 14x"):
        rows = _rows(sf.plan(n_params=7e9, tokens=1.4e12, hparams=hp))
    assert "fit_hparams, rule band" in rows.loc["peak_lr", "law"]
    expected = hp.lr.law.predict(7e9, 1.4e12, **hp.lr.params)
    assert rows.loc["peak_lr", "value"] == pytest.approx(float(expected), rel=1e-12)
    assert (
        rows.loc["peak_lr", "lower"] < rows.loc["peak_lr", "value"] < rows.loc["peak_lr", "upper"]
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_params": 7e9}, r"a plan needs the model size and the tokens.*found \['n_params'\]"),
        ({"compute": 1e22}, r"found \['compute'\] and no fit"),
        ({"n_params": -1.0, "tokens": 1e9}, r"plan: n_params= \(--n-params\) must be finite"),
        ({"n_params": "7B", "tokens": 1e9}, r"n_params= \(--n-params\) expected numbers.*'7B'"),
        ({"compute": float("nan"), "n_params": 1e9}, r"compute= \(--compute\) must be finite"),
    ],
)
def test_bad_requests(kwargs: dict, match: str) -> None:
    with pytest.raises(sf.DataError, match=match):
        sf.plan(**kwargs)


def test_rejects_a_hyperparameter_law_as_loss_fit() -> None:
    with pytest.raises(sf.DataError, match="fit= must be an L\\(n_params, tokens\\) loss fit"):
        sf.plan(n_params=7e9, tokens=1.4e12, fit=sf.FitResult.from_params("steplaw_lr"))


def test_a_level_so_close_to_1_that_the_interval_is_unbounded_is_refused() -> None:
    # Before: ZeroDivisionError / numpy divide warnings and inf steps in the table.
    with pytest.raises(sf.DataError, match=r"level=0.9999999999999999 interval of peak_lr is unb"):
        sf.plan(n_params=1e9, tokens=2e10, level=0.9999999999999999)
