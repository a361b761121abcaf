"""FitResult: predictions, intervals, allocation, report, HTML and the JSON round trip."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import scaling_fit as sf

TRUTH = {"E": 1.8, "A": 450.0, "B": 2000.0, "alpha": 0.34, "beta": 0.36}


@pytest.fixture(scope="module")
def fitted() -> sf.FitResult:
    rng = np.random.default_rng(7)
    n_params = 10 ** rng.uniform(7.5, 10.5, 60)
    tokens = n_params * 10 ** rng.uniform(0.5, 2.5, 60)
    loss = sf.get_law("chinchilla").predict(n_params, tokens, **TRUTH)
    loss *= np.exp(0.004 * rng.standard_normal(60))
    runs = pd.DataFrame(
        {"run": [f"r{i}" for i in range(60)], "n_params": n_params, "tokens": tokens, "loss": loss}
    )
    return sf.fit(runs, bootstrap=100, seed=2)


def test_predict_broadcasts_and_matches_formula(fitted: sf.FitResult) -> None:
    law = fitted.law
    grid = fitted.predict(n_params=[[1e9], [1e10]], tokens=[2e10, 2e11, 2e12])
    assert grid.shape == (2, 3)
    assert grid[1, 2] == pytest.approx(law.predict(1e10, 2e12, **fitted.params), rel=1e-15)
    frame = pd.DataFrame({"n_params": [1e9, 1e10], "tokens": [2e10, 2e11]})
    np.testing.assert_allclose(fitted.predict(frame), [grid[0, 0], grid[1, 1]], rtol=1e-15)


def test_predict_missing_input_message(fitted: sf.FitResult) -> None:
    with pytest.raises(sf.DataError, match=r"needs inputs \['n_params', 'tokens'\]; missing"):
        fitted.predict(n_params=1e9)
    with pytest.raises(sf.DataError, match=r"different lengths \(n_params: 2, tokens: 3\)"):
        fitted.predict(n_params=[1e9, 2e9], tokens=[1e10, 2e10, 3e10])


def test_predict_interval_brackets_prediction(fitted: sf.FitResult) -> None:
    table = fitted.predict_interval(n_params=[1e9, 1e11], tokens=[2e10, 2e12])
    assert list(table.columns) == ["n_params", "tokens", "loss", "lower", "upper"]
    assert np.all(table["lower"] < table["loss"]) and np.all(table["loss"] < table["upper"])
    # Extrapolating 10x beyond the largest run widens the interval.
    widths = (table["upper"] - table["lower"]) / table["loss"]
    assert widths[1] > widths[0]


def test_compute_optimal_closed_form_and_intervals(fitted: sf.FitResult) -> None:
    table = fitted.compute_optimal([1e21, 1e23])
    p = fitted.params
    g = (p["alpha"] * p["A"] / (p["beta"] * p["B"])) ** (1 / (p["alpha"] + p["beta"]))
    a = p["beta"] / (p["alpha"] + p["beta"])
    np.testing.assert_allclose(table["n_params"], g * (np.array([1e21, 1e23]) / 6) ** a)
    assert np.all(table["n_params_lower"] < table["n_params"])
    assert np.all(table["n_params"] < table["n_params_upper"])


def test_numeric_allocation_agrees_with_closed_form() -> None:
    # The same law without its closed form must give the same split (golden-section search
    # converges to ~1e-9 relative in N).
    from dataclasses import replace

    law = replace(sf.get_law("chinchilla"), name="chinchilla-numeric", allocation=None)
    closed = sf.FitResult.from_params("chinchilla").compute_optimal([1e19, 5.76e23, 1e26])
    numeric = sf.FitResult.from_params(law, sf.get_law("chinchilla").published)
    np.testing.assert_allclose(
        numeric.compute_optimal([1e19, 5.76e23, 1e26])["n_params"], closed["n_params"], rtol=1e-6
    )


@pytest.mark.parametrize("level", [0, 1, 1.5, -0.2, float("nan"), "high"])
def test_interval_level_must_be_a_probability(fitted: sf.FitResult, level: object) -> None:
    # numpy would raise a bare ValueError for 1.5 and return a meaningless band for 1 or NaN.
    with pytest.raises(sf.DataError, match=r"level=.* \(--level\): expected the probability"):
        fitted.predict_interval(n_params=1e9, tokens=2e10, level=level)
    with pytest.raises(sf.DataError, match=r"\(--level\)"):
        fitted.interval(level)


def test_interval_methods_need_bootstrap() -> None:
    result = sf.FitResult.from_params("chinchilla")
    assert result.stderr["E"] is None and result.ci95["alpha"] is None
    with pytest.raises(sf.DataError, match="needs bootstrap samples: refit with bootstrap="):
        result.predict_interval(n_params=1e9, tokens=2e10)
    assert np.isnan(result.compute_optimal(1e21)["n_params_lower"].iloc[0])


def test_from_params_needs_every_parameter() -> None:
    with pytest.raises(sf.DataError, match=r"needs values for \['B', 'alpha', 'beta'\]"):
        sf.FitResult.from_params("chinchilla", {"E": 1.7, "A": 400})


def test_json_round_trip(fitted: sf.FitResult, tmp_path) -> None:
    path = tmp_path / "fit.json"
    text = fitted.to_json(path)
    raw = json.loads(path.read_text())
    assert raw["law"] == "chinchilla" and raw["n_points"] == 60
    assert set(raw["params"]["E"]) == {"value", "stderr", "ci95"}
    again = sf.FitResult.from_json(path)
    assert again.params == fitted.params
    assert again.stderr == fitted.stderr
    np.testing.assert_array_equal(again.samples, fitted.samples)
    assert again.to_json() == text
    assert sf.FitResult.from_json(text).objective == fitted.objective


def test_from_json_rejects_other_files(tmp_path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"hello": 1}')
    with pytest.raises(sf.DataError, match=r"x\.json is not a scaling_fit fit result"):
        sf.FitResult.from_json(path)


def test_report_and_html(fitted: sf.FitResult) -> None:
    text = fitted.report()
    assert "law chinchilla" in text and "60" in text
    assert "bootstrap, 100 resamples of runs" in text
    assert f"{fitted.params['alpha']:.8g}" in text
    html = fitted._repr_html_()
    assert "<table>" in html and "alpha" in html
    assert repr(fitted).startswith("FitResult(law='chinchilla', E=")


def test_report_says_what_parameters_mean_and_the_laws_conventions() -> None:
    text = sf.FitResult.from_params("chinchilla").report()
    meanings = text.split("[[Parameter meanings]]\n")[1].split("[[")[0].splitlines()
    law = sf.get_law("chinchilla")
    assert meanings == [f"    {p.name:<10} : {p.description}" for p in law.parameters]
    assert "    E          : irreducible loss, nats/token" in meanings
    conventions = text.split("[[Conventions]]\n")[1].splitlines()
    assert conventions == [
        "    n_params   : total parameters, embeddings included",
        "    loss       : nats/token",
    ]


def test_cost_model_constant_and_function() -> None:
    hoffmann = sf.FitResult.from_params("chinchilla")
    six = hoffmann.compute_optimal(1e22)
    assert six["cost_model"].iloc[0] == "C = 6 * N * D"
    # C = 8ND is the 6ND problem at budget 6C/8: same N_opt as 0.75e22 under 6ND.
    eight = hoffmann.compute_optimal(1e22, flops_per_param_token=8)
    same = hoffmann.compute_optimal(0.75e22)
    assert eight["n_params"].iloc[0] == pytest.approx(same["n_params"].iloc[0], rel=1e-12)
    assert 8 * eight["n_params"].iloc[0] * eight["tokens"].iloc[0] == pytest.approx(1e22)
    # A function M(N) = 6N goes through the numeric search and must agree with the closed form.
    numeric = hoffmann.compute_optimal(1e22, flops_per_token=lambda n: 6 * n)
    assert numeric["n_params"].iloc[0] == pytest.approx(six["n_params"].iloc[0], rel=1e-6)
    assert numeric["cost_model"].iloc[0] == "C = flops_per_token(N) * D (user function)"
    # Attention-like overhead per token makes a token dearer for small models: fewer tokens.
    heavy = hoffmann.compute_optimal(1e22, flops_per_token=lambda n: 6 * n + 2e9)
    assert heavy["tokens"].iloc[0] < six["tokens"].iloc[0]
    with pytest.raises(
        sf.DataError,
        match=r"flops_per_param_token= \(--flops-per-param-token\) must be a positive number",
    ):
        hoffmann.compute_optimal(1e22, flops_per_param_token=0)


def test_extrapolation_warning(fitted: sf.FitResult) -> None:
    top = fitted.data["n_params"].max()
    assert fitted.extrapolation(n_params=top / 2) == {"n_params": 1.0}
    assert fitted.extrapolation(n_params=20 * top)["n_params"] == pytest.approx(20.0)
    with pytest.warns(sf.ScalingFitWarning, match=r"n_params extrapolates 20x beyond"):
        fitted.predict(n_params=20 * top, tokens=fitted.data["tokens"].median())
    # The threshold is the user's to set.
    fitted.predict(n_params=20 * top, tokens=1e11, max_extrapolation=100)
