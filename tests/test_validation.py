"""Arguments and tables checked at the edge of the API (issue #9 item 1)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import scaling_fit as sf
from scaling_fit import DataError, FitError
from scaling_fit.fitting.fit import highest_loss_mask


def frame(loss=None) -> pd.DataFrame:
    """20 Chinchilla-like runs (5 sizes × 4 token counts, 1 % noise), one row each."""
    rng = np.random.default_rng(1)
    n = np.repeat([1e8, 3e8, 1e9, 3e9, 1e10], 4)
    d = np.tile([2e9, 6e9, 2e10, 6e10], 5)
    if loss is None:
        loss = (1.7 + 400 / n**0.34 + 410 / d**0.28) * np.exp(rng.normal(0, 0.01, 20))
    return pd.DataFrame({"run": [f"r{i}" for i in range(20)], "n_params": n, "tokens": d,
                         "loss": loss})  # fmt: skip


@pytest.mark.parametrize("bad", [np.nan, -1.0, 0.0, np.inf])
def test_fit_checks_a_tidy_dataframe(bad) -> None:
    runs = frame()
    runs.loc[7, "loss"] = bad
    with pytest.raises(DataError, match=r"DataFrame index 7, column 'loss': expected a finite"):
        sf.fit(runs, "chinchilla")


@pytest.mark.parametrize(
    ("argument", "value", "words"),
    [
        ("delta", 0.0, "delta=0.0 (--delta)"),
        ("delta", -1.0, "0 < delta"),
        ("delta", 1e300, "0 < delta"),
        ("delta", float("nan"), "0 < delta"),
        ("delta", 1e-300, "at least 1e-12"),  # was numpy's "must not contain infs or NaNs"
        ("bootstrap", 10**12, "bootstrap=1000000000000 (--bootstrap)"),
        ("bootstrap", -1, "bootstrap=-1"),
        ("bootstrap", 2.5, "whole number"),
        ("seed", -1, "seed=-1 (--seed)"),
        ("n_jobs", 0, "n_jobs=0 (--n-jobs)"),
        ("n_jobs", 1.5, "n_jobs=1.5"),
        ("n_refine", 0, "n_refine=0"),
        ("fixed", {"E": -5.0}, "fixed={'E': -5.0} (--fix)"),
        ("fixed", {"E": 1e300}, "bounds"),
        ("fixed", {"alpha": float("inf")}, "finite"),
    ],
)
def test_fit_arguments_outside_their_domain(argument, value, words) -> None:
    with pytest.raises(DataError) as caught:
        sf.fit(frame(), "chinchilla", **{argument: value})
    assert words in str(caught.value)


@pytest.mark.parametrize("scale", [1e-300, 1e307])
def test_a_degenerate_fit_is_not_converged_and_still_serialises(scale) -> None:
    runs = frame()
    runs["loss"] *= scale
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = sf.fit(runs, "chinchilla")
    assert not result.converged
    assert any("the fit is degenerate" in str(w.message) for w in caught)
    assert all(issubclass(w.category, sf.ScalingFitWarning) for w in caught), caught
    reloaded = sf.FitResult.from_json(result.to_json())
    assert reloaded.converged is False


def test_a_healthy_fit_is_converged() -> None:
    # The degeneracy check must not flag ordinary data.
    assert sf.fit(frame(), "chinchilla").converged


def test_predict_checks_its_inputs() -> None:
    result = sf.FitResult.from_params("chinchilla")
    with pytest.raises(DataError, match=r"n_params= \(--n-params\) must be finite and > 0"):
        result.predict(n_params=0, tokens=1e12)
    with pytest.raises(DataError, match=r"tokens= \(--tokens\) must be finite and > 0"):
        result.predict(n_params=1e9, tokens=[1e12, -1.0])
    with pytest.raises(DataError, match=r"unknown keyword\(s\) \['token'\]"):
        result.predict(n_params=1e9, tokens=1e12, token=1e12)
    with pytest.raises(DataError, match=r"compute= \(--compute\) must be finite"):
        result.compute_optimal(-1.0)


def test_predict_from_a_fit_with_a_nan_parameter_raises_fit_error() -> None:
    raw = sf.FitResult.from_params("chinchilla").to_dict()
    raw["params"]["E"]["value"] = None
    result = sf.FitResult.from_json(json.dumps(raw))
    with pytest.raises(FitError, match=r"parameters \{'E': nan\}"):
        result.predict(n_params=1e9, tokens=1e12)


def test_a_converged_fit_file_needs_finite_parameters() -> None:
    raw = sf.FitResult.from_params("chinchilla").to_dict()
    raw["params"]["E"]["value"], raw["converged"] = None, True
    with pytest.raises(DataError, match=r"field 'params.E.value'"):
        sf.FitResult.from_json(json.dumps(raw))


@pytest.mark.parametrize("level", [-0.5, 0.0, 1.0, 1.5, "x"])
def test_interval_levels_are_probabilities(level) -> None:
    with pytest.raises(DataError, match=r"strictly between 0 and 1"):
        sf.FitResult.from_params("chinchilla").interval(level)


def test_from_json_of_text_that_is_not_json_or_a_file() -> None:
    with pytest.raises(DataError, match=r"file not json cannot be read"):
        sf.FitResult.from_json("not json")
    with pytest.raises(DataError, match=r"not valid JSON"):
        sf.FitResult.from_json("{not json")


def test_highest_loss_mask_wants_a_whole_count() -> None:
    with pytest.raises(DataError, match=r"k=2.5: expected a whole number"):
        highest_loss_mask(frame(), 2.5)


def test_schedules_have_a_sane_length() -> None:
    with pytest.raises(DataError, match=r"total"):
        sf.schedules.cosine(3e-4, 10**13)
