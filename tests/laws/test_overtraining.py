"""Over-training law (Gadre et al. 2024): reproduction, algebra and allocation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scaling_fit as sf

GADRE = Path(__file__).resolve().parents[2] / "data/gadre_overtraining/gadre_models_flat.csv"
SMALL = ("d=96_l=8_h=4", "d=512_l=8_h=4", "d=576_l=24_h=8", "d=1024_l=24_h=8")
# Notebook scaling_explorer.ipynb, cell 2 (data/gadre_overtraining/SOURCE.md; laws.md §8.2),
# printed to 6-7 significant digits: alpha, beta, b, E in Gadre's names.
NOTEBOOK = {"A": 166.211, "B": 366.687, "eta": 0.272851, "E": 1.836648}
# Relative errors in percent predicting (open_lm_1b, M = 640) and (open_lm_7b, M = 20).
NOTEBOOK_ERRORS = {"rpj-open_lm_1b-32.0": 0.7103, "rpj-open_lm_7b-1.0": 0.7320}
NOTEBOOK_PREDICTIONS = {"rpj-open_lm_1b-32.0": 2.5198, "rpj-open_lm_7b-1.0": 2.4427}
LAW = sf.get_law("overtraining")


@pytest.fixture(scope="module")
def rpj() -> pd.DataFrame:
    """RedPajama-trained runs, C4 validation loss, N = total parameters (as the authors)."""
    table = sf.load_runs(GADRE, columns={"loss": "loss_c4_val"})
    table["chinchilla_multiplier"] = table["chinchilla_multiplier"].astype(float)
    return table[table["dataset_name"] == "rpj"].reset_index(drop=True)


def fit_set(rpj: pd.DataFrame) -> pd.DataFrame:
    """Gadre et al.'s 5 runs: the small shapes at M = 20 plus the 11M model at M = 320."""
    multiplier = rpj["chinchilla_multiplier"]
    at_20 = rpj["model"].isin(SMALL) & (multiplier == 1.0)
    over = (rpj["model"] == SMALL[0]) & (multiplier == 16.0)
    return rpj[at_20 | over]


def held_out(rpj: pd.DataFrame) -> pd.DataFrame:
    return rpj[rpj["run"].isin(NOTEBOOK_ERRORS)].set_index("run")


def test_reproduces_gadre_relative_errors(rpj: pd.DataFrame) -> None:
    result = sf.fit(fit_set(rpj), "overtraining", loss="mse_linear")
    assert result.n_points == 5 and result.converged
    assert result.warnings == ()  # and pytest turns any warning raised into an error
    targets = held_out(rpj)
    # 16.7x beyond the fitted N and 112x beyond the fitted D: the warning is expected.
    assert result.extrapolation(n_params=targets["n_params"]) == {
        "n_params": pytest.approx(16.74, abs=0.01)
    }
    predicted = pd.Series(result.predict(targets, max_extrapolation=np.inf), index=targets.index)
    percent = 100 * (predicted - targets["loss"]).abs() / targets["loss"]
    for run, expected in NOTEBOOK_ERRORS.items():
        # The tolerance: 0.005 percentage points.
        assert percent[run] == pytest.approx(expected, abs=0.005), run
        # Printed to 4 decimals in SOURCE.md.
        assert predicted[run] == pytest.approx(NOTEBOOK_PREDICTIONS[run], abs=5e-5), run
    for name, value in NOTEBOOK.items():
        # 5 points, 4 parameters: a well-defined least-squares optimum; 2e-6 relative covers
        # the notebook's 6-7 printed digits.
        assert result.params[name] == pytest.approx(value, rel=2e-6), name


def test_same_fit_as_chinchilla_with_tied_exponents(rpj: pd.DataFrame) -> None:
    own = sf.fit(fit_set(rpj), "overtraining", loss="mse_linear")
    tied = sf.fit(fit_set(rpj), "chinchilla", loss="mse_linear", tie={"beta": "alpha"})
    eta = own.params["eta"]
    # The same least-squares problem in two parameterisations: optima agree to solver
    # precision (objective ~2e-4, parameters to 1e-6 relative).
    assert tied.objective == pytest.approx(own.objective, rel=1e-8)
    assert tied.params["alpha"] == pytest.approx(eta, rel=1e-6)
    assert tied.params["A"] == pytest.approx(own.params["A"], rel=1e-5)
    assert tied.params["B"] == pytest.approx(own.params["B"] * 6 ** (-eta / 2), rel=1e-5)


def test_formula_is_gadre_code_form_and_compute_form() -> None:
    n = np.array([1e7, 4e8, 7e9])
    m = np.array([5.0, 20.0, 640.0])
    p = NOTEBOOK
    b = -p["eta"]
    code_form = p["E"] + p["A"] * n**b + p["B"] * 6 ** (b / 2) * (m * n) ** b
    np.testing.assert_allclose(LAW.predict(n, m * n, **p), code_form, rtol=1e-14)
    # laws.md §8.1: on C = 6ND, L = E + (A 6^(η/2) M^(η/2) + B M^(-η/2)) C^(-η/2).
    c, h = 6 * n * (m * n), p["eta"] / 2
    compute_form = p["E"] + (p["A"] * 6**h * m**h + p["B"] * m ** (-h)) * c ** (-h)
    np.testing.assert_allclose(LAW.predict(n, m * n, **p), compute_form, rtol=1e-12)


def test_log_formula_is_stable_for_extreme_amplitudes() -> None:
    # N = 1 and sqrt(6) D = 1: both terms equal 1e308 and their sum overflows, not its log.
    with np.errstate(over="ignore"):
        assert np.isinf(LAW.predict(1.0, 1 / np.sqrt(6), E=1.0, A=1e308, B=1e308, eta=0.3))
    log = LAW.log_predict(1.0, 1 / np.sqrt(6), E=1.0, A=1e308, B=1e308, eta=0.3)
    assert log == pytest.approx(np.log(1e308) + np.log(2.0), rel=1e-14)


def test_allocation_matches_numeric_minimum() -> None:
    result = sf.FitResult.from_params("overtraining", NOTEBOOK)
    budgets = np.array([1e19, 1e21, 1e24])
    closed = result.compute_optimal(budgets, max_extrapolation=np.inf)
    numeric = result.compute_optimal(
        budgets, flops_per_token=lambda n: 6.0 * np.asarray(n), max_extrapolation=np.inf
    )
    # The numeric search stops at ~1e-9 relative in N; the loss is flat there.
    np.testing.assert_allclose(closed["n_params"], numeric["n_params"], rtol=1e-6)
    np.testing.assert_allclose(closed["n_params"] * closed["tokens"] * 6, budgets, rtol=1e-12)
    # The optimal multiplier does not depend on the budget: M* = (B/A)^(1/eta) / sqrt(6).
    multiplier = (NOTEBOOK["B"] / NOTEBOOK["A"]) ** (1 / NOTEBOOK["eta"]) / np.sqrt(6)
    np.testing.assert_allclose(closed["tokens_per_param"], multiplier, rtol=1e-12)


def test_published_values_predict_the_notebook_numbers(rpj: pd.DataFrame) -> None:
    targets = held_out(rpj)
    predicted = sf.FitResult.from_params("overtraining").predict(targets)
    np.testing.assert_allclose(
        predicted, [NOTEBOOK_PREDICTIONS[r] for r in targets.index], atol=5e-5
    )


def test_c4_original_7b_run_lies_off_the_trend_even_when_fitted() -> None:
    # docs/validation.md (benchmarks/choose_law_gadre.py --seen): a fit that sees c4_original's
    # 6.9B run still misses it by 2.90 %, where rpj's is met within 0.1 %. Bounds: 2 % and 0.5 %,
    # far from the measured values, so optimiser tolerances and platforms cannot flip them.
    table = sf.load_runs(GADRE, columns={"loss": "loss_c4_val"})
    misses = {}
    for name in ("rpj", "c4_original"):
        runs = table[table["dataset_name"] == name]
        result = sf.fit(runs, "overtraining")
        big = runs[runs["n_params"] > 5e9]
        predicted = result.predict(big, max_extrapolation=np.inf)
        misses[name] = float((predicted[0] - big["loss"].iloc[0]) / big["loss"].iloc[0])
    assert misses["c4_original"] < -0.02
    assert abs(misses["rpj"]) < 0.005
