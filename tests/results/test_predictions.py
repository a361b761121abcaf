"""sf.predictions: the table `scaling-fit predict` writes, from one API call."""

from __future__ import annotations

import numpy as np
import pytest

import scaling_fit as sf

WSD = "wsd:peak=3e-4,total=2400,warmup=216,decay=0.2,final=3e-5"


@pytest.fixture(scope="module")
def chinchilla() -> sf.FitResult:
    return sf.FitResult.from_params("chinchilla")


def test_grid_is_every_pair_with_the_law_s_closed_form(chinchilla) -> None:
    table = sf.predictions(chinchilla, n_params=[1e9, 7e9], tokens=[2e10, 1.4e11, 1e12]).table
    assert list(table.columns) == ["n_params", "tokens", "loss", "lower", "upper"]
    assert len(table) == 6 and table["lower"].isna().all()  # no bootstrap: no interval
    p = chinchilla.params
    n, d = table["n_params"].to_numpy(), table["tokens"].to_numpy()
    expected = p["E"] + p["A"] / n ** p["alpha"] + p["B"] / d ** p["beta"]
    np.testing.assert_allclose(table["loss"], expected, rtol=1e-12)  # the same formula


def test_budgets_are_compute_optimal(chinchilla) -> None:
    table = sf.predictions(chinchilla, compute=[1e21, 1e23]).table
    direct = chinchilla.compute_optimal([1e21, 1e23])
    # Same call underneath; 1e-9 leaves room for nothing but float noise.
    np.testing.assert_allclose(table["n_params"], direct["n_params"], rtol=1e-9)
    np.testing.assert_allclose(6 * table["n_params"] * table["tokens"], [1e21, 1e23], rtol=1e-9)


def test_curve_law_predicts_a_curve_with_the_default_stride() -> None:
    fit = sf.FitResult.from_params("multipower")
    table = sf.predictions(fit, schedule=WSD).table
    assert {"step", "lr", "loss"} <= set(table.columns)
    assert table["step"].iloc[-1] == 2400 and np.all(np.diff(table["loss"]) < 0.05)
    assert (np.diff(table["step"].to_numpy()[:-1]) == 100).all()  # every 100 after warm-up


@pytest.mark.parametrize(
    ("law", "options", "words"),
    [
        ("chinchilla", {"schedule": WSD}, "schedule= (--schedule) is for loss-curve laws"),
        ("chinchilla", {"n_params": [1e9]}, "n_params= (--n-params) and tokens= (--tokens) go"),
        ("chinchilla", {}, "give either n_params= (--n-params) and tokens= (--tokens), or"),
        (
            "chinchilla",
            {"n_params": [1e9], "tokens": [1e10], "flops_per_param_token": 8},
            "sets the cost model of compute= (--compute)",
        ),
        ("multipower", {"compute": [1e21]}, "compute= (--compute) is for L(N, D) laws"),
        ("multipower", {}, "is a loss-curve law: predict its curve with schedule="),
        ("multipower", {"schedule": WSD, "every": 5, "steps": [9]}, "not both"),
        ("chinchilla", {"compute": [1e21], "every": 0}, "every=0 (--every)"),
    ],
)
def test_arguments_that_do_not_suit_the_law_are_named(law, options, words) -> None:
    with pytest.raises(sf.DataError) as caught:
        sf.predictions(sf.FitResult.from_params(law), **options)
    assert words in str(caught.value)


def test_a_budget_without_optimum_is_no_answer() -> None:
    fit = sf.FitResult.from_params("farseer")  # loss keeps falling as N grows at fixed C
    with pytest.raises(sf.NoAnswerError, match=r"no compute-optimal allocation at C=1e\+21"):
        sf.predictions(fit, compute=[1e21])
    assert len(sf.predictions(fit, n_params=[1e9], tokens=[2e10]).table) == 1
