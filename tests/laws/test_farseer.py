"""Farseer law (Li et al. 2025): closed-form values, the staged initialiser, recovery of known
parameters from noisy synthetic runs, and the Gadre et al. runs against Chinchilla."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scaling_fit as sf
from scaling_fit.fitting.multistart import RIDGE_AGREEMENT
from scaling_fit.laws.farseer import data_amplitude, data_exponent, infinite_data_loss
from scaling_fit.laws.farseer_init import staged_starts

LAW = sf.get_law("farseer")
GADRE = Path(__file__).resolve().parents[2] / "data/gadre_overtraining/gadre_models_flat.csv"
SMALL = ("d=96_l=8_h=4", "d=512_l=8_h=4", "d=576_l=24_h=8", "d=1024_l=24_h=8")
# A synthetic truth in nats/token (not the paper's BPC coefficients, which are unverified):
# A(N) falls from 0.50 to 0.33 and ln B(N) from 9.5 to 6.2 over N = 1e7..1e9, and the
# infinite-data loss from 3.36 to 2.06 (towards e^0.5 = 1.65); losses 2.1-5.2.
TRUTH = {
    "a1": 70.0,
    "alpha": -0.3,
    "b1": -1.25,
    "a2": 560.0,
    "beta": -0.3,
    "b2": 5.1,
    "a3": 40.0,
    "gamma": -0.25,
    "b3": 0.5,
}
SIZES = np.geomspace(1e7, 1e9, 7)
MULTIPLIERS = np.geomspace(5.0, 640.0, 8)
NOISE = 0.002  # 0.2 % log-normal noise on every loss


def synthetic_runs(seed: int, noise: float = NOISE) -> pd.DataFrame:
    """7 sizes x 8 token multipliers (D = M N) of the TRUTH law, with log-normal noise."""
    n, m = (np.ravel(a) for a in np.meshgrid(SIZES, MULTIPLIERS, indexing="ij"))
    loss = LAW.predict(n, m * n, **TRUTH)
    loss = loss * np.exp(noise * np.random.default_rng(seed).standard_normal(loss.shape))
    names = [f"n{a:.3g}-m{b:.3g}" for a, b in zip(n, m, strict=True)]
    return pd.DataFrame({"run": names, "n_params": n, "tokens": m * n, "loss": loss})


# ----------------------------------------------------------------------- the formula
def test_closed_form_values() -> None:
    # N-independent terms: A = 0.5, B = 100, first term 2, so L(N, 1e4) = 2 + 100/100 = 3.
    flat = {"a1": 0.0, "alpha": 0.5, "b1": np.log(0.5), "a2": 0.0, "beta": 0.5}
    flat |= {"b2": np.log(100.0), "a3": 0.0, "gamma": 0.5, "b3": np.log(2.0)}
    assert LAW.predict(1e8, 1e4, **flat) == pytest.approx(3.0, rel=1e-14)
    # N = 1e8 and every power 1/2: N^p = 1e4, so a = 1e-4 adds exactly 1 to each exponent:
    # A = e^(1 + ln 0.25) = e/4, B = e^(1 + 2) = e^3, first term e^(1 - 1) = 1.
    mixed = {"a1": 1e-4, "alpha": 0.5, "b1": np.log(0.25), "a2": 1e-4, "beta": 0.5}
    mixed |= {"b2": 2.0, "a3": 1e-4, "gamma": 0.5, "b3": -1.0}
    expected = 1.0 + np.exp(3.0) * 1e6 ** (-np.e / 4)
    assert LAW.predict(1e8, 1e6, **mixed) == pytest.approx(expected, rel=1e-13)
    assert data_exponent(1e8, 1e-4, 0.5, np.log(0.25)) == pytest.approx(np.e / 4, rel=1e-14)
    assert data_amplitude(1e8, 1e-4, 0.5, 2.0) == pytest.approx(np.exp(3.0), rel=1e-14)
    assert infinite_data_loss(1e8, 1e-4, 0.5, -1.0) == pytest.approx(1.0, rel=1e-14)


def test_parameters_carry_the_papers_names_and_conventions() -> None:
    # laws.md §3.1: a1, alpha, b1 (exponent); a2, beta, b2 (amplitude); a3, gamma, b3.
    assert LAW.param_names == ("a1", "alpha", "b1", "a2", "beta", "b2", "a3", "gamma", "b3")
    assert LAW.conventions["n_params"] == "non-embedding parameters"
    assert "bits per character" in LAW.conventions["loss"]
    assert "2506.10972" in LAW.reference
    for name in ("alpha", "beta", "gamma"):
        assert LAW.parameter(name).bounds == (-1.0, 1.0)


def test_log_formula_is_stable_where_the_terms_overflow() -> None:
    # The data term e^(a2 N^beta + b2) D^(-A) with a2 N^beta = 800 overflows on its own.
    params = {**TRUTH, "a2": 800.0, "beta": 0.0}
    with np.errstate(over="ignore"):
        assert np.isinf(LAW.predict(1e8, 1e9, **params))
    a = data_exponent(1e8, TRUTH["a1"], TRUTH["alpha"], TRUTH["b1"])
    expected = 800.0 + TRUTH["b2"] - a * np.log(1e9)  # the first term (~2.7) is negligible
    assert LAW.log_predict(1e8, 1e9, **params) == pytest.approx(expected, rel=1e-14)


# ----------------------------------------------------------------------- staged initialiser
def test_staged_starts_are_exact_on_the_laws_own_form_for_any_token_grid() -> None:
    # Noise-free runs at 6 random multipliers per size (no sqrt(2) grid): each size is an
    # exact c + B D^-A, so every stage is exact up to its 1-D searches (xatol 1e-6).
    rng = np.random.default_rng(3)
    n = np.repeat(SIZES, 6)
    d = n * 10 ** rng.uniform(np.log10(5.0), np.log10(640.0), n.size)
    loss = LAW.predict(n, d, **TRUTH)
    starts = staged_starts((n, d), loss)
    assert len(starts) == 2
    for start in starts:
        for name, value in TRUTH.items():
            assert start[name] == pytest.approx(value, rel=1e-4), name
        np.testing.assert_allclose(LAW.predict(n, d, **start), loss, rtol=1e-7)


@pytest.mark.slow
def test_staged_starts_pool_scattered_sizes_into_bins() -> None:
    # Every run at its own N (as in tests/laws/test_laws.py): sizes are pooled into bins of 6+
    # consecutive runs. The start is approximate (N varies inside a bin; 0.41 % worst error
    # measured, 2 % allowed) but close enough for the polish, which then recovers TRUTH.
    rng = np.random.default_rng(1)
    n = 10 ** rng.uniform(7.0, 9.0, 60)
    d = n * 10 ** rng.uniform(np.log10(5.0), np.log10(640.0), 60)
    loss = LAW.predict(n, d, **TRUTH)
    start = staged_starts((n, d), loss)[0]
    assert np.max(np.abs(LAW.predict(n, d, **start) / loss - 1)) < 0.02
    table = pd.DataFrame({"run": [f"r{i}" for i in range(60)], "n_params": n, "tokens": d})
    result = sf.fit(table.assign(loss=loss), "farseer")
    assert result.objective < 1e-12 and result.warnings == ()
    for name, value in TRUTH.items():
        # Noise-free: the optimum is the truth, to solver precision in flat directions.
        assert result.params[name] == pytest.approx(value, rel=1e-4), name


def test_staged_starts_with_too_few_runs_per_size() -> None:
    # Three runs per size cannot fit c + B D^-A with a spare point, and 3 runs cannot be
    # pooled into a bin of 6: no start (the fitter then uses its grid).
    n, d = np.array([1e7, 1e7, 1e7]), np.array([1e8, 1e9, 1e10])
    assert staged_starts((n, d), LAW.predict(n, d, **TRUTH)) == []
    # Two sizes: the powers of N are not determined and start at the default -0.2.
    n, d = np.repeat([1e7, 1e8], 5), np.tile(np.geomspace(1e8, 1e11, 5), 2)
    start = staged_starts((n, d), LAW.predict(n, d, **TRUTH))[0]
    assert (start["alpha"], start["beta"], start["gamma"]) == (-0.2, -0.2, -0.2)
    assert all(np.isfinite(v) for v in start.values())


# ----------------------------------------------------------------------- noisy recovery
@pytest.fixture(scope="module")
def noisy_fit() -> sf.FitResult:
    return sf.fit(synthetic_runs(seed=0), "farseer")


@pytest.mark.slow
def test_noisy_fit_converges_cleanly_at_the_noise_level(noisy_fit: sf.FitResult) -> None:
    assert noisy_fit.converged and noisy_fit.warnings == ()
    assert noisy_fit.options["n_at_best"] >= 2  # both staged starts reach the optimum
    # RMS log residual ~ noise * sqrt((56 - 9)/56) = 0.18 % (0.170 % measured); 0.12-0.25 %
    # is about three times the ~10 % sampling spread of an RMS over 47 degrees of freedom.
    rms = float(np.sqrt(np.mean(noisy_fit.residuals**2)))
    assert 0.0012 < rms < 0.0025


@pytest.mark.slow
def test_noisy_fit_predicts_ten_times_larger_models(noisy_fit: sf.FitResult) -> None:
    n = np.full(4, 1e10)  # 10x the largest fitted size
    d = np.array([5e10, 2e11, 1e12, 6.4e12])  # M = 5, 20, 100, 640
    predicted = noisy_fit.predict(n_params=n, tokens=d, max_extrapolation=np.inf)
    # Over seeds 0-29 the worst error at these points was 0.64 % (median 0.28 %; seed 0:
    # 0.24 %), printed by benchmarks/bench_farseer.py --seeds 30: 1 % leaves margin.
    np.testing.assert_allclose(predicted, LAW.predict(n, d, **TRUTH), rtol=0.01)


@pytest.mark.slow
def test_noisy_fit_recovers_the_identifiable_parameters(noisy_fit: sf.FitResult) -> None:
    p = noisy_fit.params
    # Tolerances are ~1.5x the worst deviation over seeds 0-29 (benchmarks/bench_farseer.py
    # --seeds 30 prints them). The infinite-data term is well determined: gamma within
    # 0.0135, b3 within 0.020 and the term at the fitted sizes within 1.0 % over the 30.
    assert p["gamma"] == pytest.approx(TRUTH["gamma"], abs=0.02)
    assert p["b3"] == pytest.approx(TRUTH["b3"], abs=0.03)
    first = infinite_data_loss(SIZES, p["a3"], p["gamma"], p["b3"])
    truth = infinite_data_loss(SIZES, TRUTH["a3"], TRUTH["gamma"], TRUTH["b3"])
    np.testing.assert_allclose(first, truth, rtol=0.015)
    # A(N) at the fitted sizes: worst 10 % over the 30 seeds.
    a = data_exponent(SIZES, p["a1"], p["alpha"], p["b1"])
    np.testing.assert_allclose(
        a, data_exponent(SIZES, *(TRUTH[k] for k in ("a1", "alpha", "b1"))), rtol=0.15
    )
    # B(N) trades off against A(N) (ln D ~ 20: a 0.01 change in A moves B by e^0.2) and the
    # powers alpha, beta against their coefficients: over the 30 seeds ln B(N) strayed up to
    # 0.73 and alpha, beta up to 0.25 from -0.3. Only their signs (A and B falling towards a
    # finite limit as N grows) are determined at 0.2 % noise: (-0.6, 0) holds the 30 fits.
    log_b = np.log(data_amplitude(SIZES, p["a2"], p["beta"], p["b2"]))
    truth_b = data_amplitude(SIZES, TRUTH["a2"], TRUTH["beta"], TRUTH["b2"])
    np.testing.assert_allclose(log_b, np.log(truth_b), atol=1.0)
    assert -0.6 < p["alpha"] < 0 and -0.6 < p["beta"] < 0


# ----------------------------------------------------------------------- Gadre et al. runs
@pytest.fixture(scope="module")
def rpj() -> pd.DataFrame:
    """RedPajama-trained runs, C4 validation loss, N = total parameters (as Gadre et al.)."""
    table = sf.load_runs(GADRE, columns={"loss": "loss_c4_val"})
    table["chinchilla_multiplier"] = table["chinchilla_multiplier"].astype(float)
    return table[table["dataset_name"] == "rpj"].reset_index(drop=True)


def test_gadre_five_run_set_cannot_determine_nine_parameters(rpj: pd.DataFrame) -> None:
    # Gadre et al.'s fit set (laws.md §8.2): the small shapes at M = 20, d=96 at M = 320.
    multiplier = rpj["chinchilla_multiplier"]
    at_20 = rpj["model"].isin(SMALL) & (multiplier == 1.0)
    five = rpj[at_20 | ((rpj["model"] == SMALL[0]) & (multiplier == 16.0))]
    assert len(five) == 5
    with pytest.raises(sf.DataError, match="5 points cannot determine 9 free parameters"):
        sf.fit(five, "farseer")


# The richer sets: all 32 RedPajama runs below 1B (4 sizes x 8 multipliers, the set the
# backtest fits before predicting 1.4B and 6.9B) and all 35 (6 sizes). Both laws get the
# same points, N (total parameters, Gadre's convention, for both) and loss (Huber on log L).
# Four or six sizes cannot pin down three 3-parameter functions of N: the fit runs along a
# valley towards the log-linear limit of a*N^p + b (p -> 0, |a| -> inf) and stops at the
# evaluation limit. The warnings below say exactly that and are the expected outcome. The
# search stops after RIDGE_AGREEMENT such starts (multistart.unidentified): it refined 12,
# 4x the time, for an answer that only said which start had crept furthest.
STALLED = (
    r"^optimizer did not converge: the best start used its 900 evaluations still creeping.*"
    r"3 refined starts stalled in such valleys.*none converged.*the law is not identified"
)
EXPECTED_GADRE_WARNINGS = {
    "n<1e9": [
        r"^only 4 distinct n_params values for 9 free parameters",
        STALLED,
        r"^parameters \[.*\] are not identified by the data",
    ],
    "all": [STALLED, r"^parameters \[.*\] are not identified by the data"],
}


@pytest.mark.parametrize("subset", ["n<1e9", "all"])
def test_gadre_objective_no_worse_than_chinchilla(rpj: pd.DataFrame, subset: str) -> None:
    table = rpj[rpj["n_params"] < 1e9] if subset == "n<1e9" else rpj
    chinchilla = sf.fit(table, "chinchilla")  # clean fit: pytest turns warnings into errors
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        farseer = sf.fit(table, "farseer")
    messages = [str(w.message) for w in caught]
    assert all(issubclass(w.category, sf.ScalingFitWarning) for w in caught)
    expected = EXPECTED_GADRE_WARNINGS[subset]
    assert len(messages) == len(expected) == len(farseer.warnings), messages
    for message, pattern in zip(messages, expected, strict=True):
        assert re.search(pattern, message), message
    assert farseer.options["n_refined"] == RIDGE_AGREEMENT and not farseer.converged
    assert farseer.n_points == chinchilla.n_points == len(table)
    # The requirement: no worse than Chinchilla on the same points and objective.
    assert farseer.objective <= chinchilla.objective
    # Measured 3.08e-4 vs 4.07e-4 (n<1e9) and 3.32e-4 vs 4.27e-4 (all): 22-25 % lower with 9
    # parameters against 5. Farseer's value is where the solver stopped along the valley, so
    # only the ratio is checked, with margin (0.76 and 0.78 measured).
    assert farseer.objective < 0.85 * chinchilla.objective
    assert chinchilla.objective == pytest.approx(
        {"n<1e9": 4.0724e-4, "all": 4.2651e-4}[subset], rel=1e-4
    )


@pytest.mark.slow
def test_the_stopped_search_sits_in_the_valley_every_start_creeps_down(rpj: pd.DataFrame) -> None:
    from scaling_fit.fitting.multistart import refine
    from scaling_fit.fitting.objective import Problem
    from scaling_fit.fitting.space import ParameterSpace

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the expected warnings are checked above
        stopped = sf.fit(rpj, "farseer")
    law = sf.get_law("farseer")
    space = ParameterSpace(law, {}, {}, {})
    inputs = (rpj["n_params"].to_numpy(float), rpj["tokens"].to_numpy(float))
    problem = Problem(space, inputs, rpj["loss"].to_numpy(float))
    theta = np.array([stopped.params[name] for name in law.param_names])  # all real-valued
    assert problem.objective(theta) == pytest.approx(stopped.objective, rel=1e-12)
    # Given 9,000 more evaluations, the 3-start answer (3.32e-4) creeps on to the floor that
    # the 1st, 2nd, 6th and 11th of the old 12 starts all reached with 9,000 (3.1808e-4,
    # measured), below the old 12-start answer at 900 each (3.1825e-4): the starts share one
    # valley, and the old search's extra starts only found one that had crept further.
    # 1e-3 relative: where the solver stops along the valley floor varies with rounding.
    longer = refine(problem, theta, 9_000)
    assert longer.objective == pytest.approx(3.1808e-4, rel=1e-3)
    assert longer.objective < 3.1825e-4 < stopped.objective
