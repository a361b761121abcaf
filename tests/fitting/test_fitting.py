"""fit(): reproduction of Epoch AI's Chinchilla refit, recovery, robustness and options."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import scaling_fit as sf
from scaling_fit.fitting.multistart import (
    AGREEMENT,
    RIDGE_AGREEMENT,
    SAME_OPTIMUM_RTOL,
    STALLED_RTOL,
    Solution,
    agreed,
    distinct_optima,
    on_ridge,
    ranked,
    unidentified,
)

# Epoch AI's plain-Huber refit (data/epoch_chinchilla/SOURCE.md, notebook cell 18).
EPOCH = {"E": 1.817236, "A": 477.8417, "B": 2143.8638, "alpha": 0.347313, "beta": 0.367183}
EPOCH_OBJECTIVE = 0.0010182740346
# Epoch's headline bootstrap standard errors (4,000 resamples, SOURCE.md cell 25).
EPOCH_STDERR = {"E": 0.02566, "alpha": 0.01540, "beta": 0.02060}
TRUTH = {"E": 1.8, "A": 450.0, "B": 2000.0, "alpha": 0.34, "beta": 0.36}


@pytest.fixture(scope="module")
def epoch_runs() -> pd.DataFrame:
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "data/epoch_chinchilla/svg_extracted_data.csv"
    return sf.load_runs(path)


@pytest.fixture(scope="module")
def epoch_fit(epoch_runs: pd.DataFrame) -> sf.FitResult:
    return sf.fit(epoch_runs, "chinchilla", exclude=sf.highest_loss_mask(epoch_runs, 5))


def synthetic_runs(noise: float, seed: int = 0, n: int = 80) -> pd.DataFrame:
    """Chinchilla runs from TRUTH, log-normal noise of relative size ``noise``."""
    rng = np.random.default_rng(seed)
    n_params = 10 ** rng.uniform(7.5, 10.5, n)
    tokens = n_params * 10 ** rng.uniform(0.5, 2.5, n)
    loss = sf.get_law("chinchilla").predict(n_params, tokens, **TRUTH)
    loss = loss * np.exp(noise * rng.standard_normal(n))
    runs = [f"r{i}" for i in range(n)]
    return pd.DataFrame({"run": runs, "n_params": n_params, "tokens": tokens, "loss": loss})


# ------------------------------------------------------------------ published numbers
def test_reproduces_epoch_plain_huber_fit(epoch_fit: sf.FitResult) -> None:
    assert epoch_fit.n_points == 240
    assert epoch_fit.objective <= 0.0010182741  # issue 2: no worse than Epoch's optimum
    assert epoch_fit.converged
    for name in ("E", "alpha", "beta"):  # tight: well identified (laws.md §9.3)
        assert epoch_fit.params[name] == pytest.approx(EPOCH[name], rel=2e-3), name
    for name in ("A", "B"):  # loose: A and B have s.e. of 25-60 % of their value
        assert epoch_fit.params[name] == pytest.approx(EPOCH[name], rel=2e-2), name
    assert epoch_fit.warnings == ()
    assert epoch_fit.options["n_at_best"] >= 5  # found from many starts, not one lucky one


@pytest.mark.slow
def test_epoch_bootstrap_standard_errors(epoch_runs: pd.DataFrame) -> None:
    result = sf.fit(
        epoch_runs,
        "chinchilla",
        exclude=sf.highest_loss_mask(epoch_runs, 5),
        bootstrap=1000,
        seed=0,
        n_jobs=2,
    )
    for name, expected in EPOCH_STDERR.items():
        # 15 %: Monte Carlo error of a 1,000-resample s.e. is ~2 %, and Epoch's s.e. come
        # from a slightly different (maximum-likelihood) estimator.
        assert result.stderr[name] == pytest.approx(expected, rel=0.15), name
        lo, hi = result.ci95[name]
        assert lo < result.params[name] < hi
    assert result.samples.shape == (1000, 5)
    assert result.options["bootstrap"] == 1000


@pytest.mark.slow  # bootstrap refits (2-3 s); CI runs it
def test_bootstrap_independent_of_n_jobs() -> None:
    runs = synthetic_runs(noise=0.01, n=30)
    one = sf.fit(runs, bootstrap=10, seed=3, n_jobs=1)
    two = sf.fit(runs, bootstrap=10, seed=3, n_jobs=2)
    np.testing.assert_allclose(one.samples, two.samples, rtol=1e-12)


@pytest.mark.slow  # 24 bootstrap refits in threads (2-3 s); CI runs it
def test_bootstrap_on_another_joblib_backend_matches_serial() -> None:
    """Under a non-default joblib backend (threads here; Dask in test_dask.py) the samples
    are those of n_jobs=1, in order."""
    import joblib

    runs = synthetic_runs(noise=0.01, n=30)
    one = sf.fit(runs, bootstrap=24, seed=5, n_jobs=1)
    with joblib.parallel_backend("threading"):
        two = sf.fit(runs, bootstrap=24, seed=5, n_jobs=2)
    np.testing.assert_allclose(one.samples, two.samples, rtol=1e-12)


def test_hoffmann_unrounded_allocation_at_gopher_budget() -> None:
    # laws.md §10: unrounded Hoffmann parameters give N_opt = 4.04e10 at 5.76e23 FLOPs;
    # the value is quoted to 3 significant figures, hence 0.5 %.
    table = sf.FitResult.from_params("chinchilla").compute_optimal(5.76e23)
    assert table["n_params"].iloc[0] == pytest.approx(4.04e10, rel=5e-3)
    assert 6 * table["n_params"].iloc[0] * table["tokens"].iloc[0] == pytest.approx(5.76e23)


def test_epoch_tokens_per_parameter(epoch_fit: sf.FitResult) -> None:
    # laws.md §1.5 [R]: Epoch's parameters imply ~18 tokens/parameter at 5.76e23, ~22 at 1e21.
    table = epoch_fit.compute_optimal([5.76e23, 1e21])
    np.testing.assert_allclose(table["tokens_per_param"], [18, 22], rtol=0.05)


# ------------------------------------------------------------------ recovery and robustness
@pytest.mark.slow  # bootstrap refits (2-3 s); CI runs it
def test_recovers_known_parameters_within_bootstrap_intervals() -> None:
    result = sf.fit(synthetic_runs(noise=0.005, seed=11), bootstrap=200, seed=1)
    for name, value in TRUTH.items():
        lo, hi = result.ci95[name]
        assert lo <= value <= hi, (name, lo, value, hi)
    # Exponents well determined by 80 points at 0.5 % noise: within 5 % of the truth.
    assert result.params["alpha"] == pytest.approx(TRUTH["alpha"], rel=0.05)
    assert result.params["beta"] == pytest.approx(TRUTH["beta"], rel=0.05)


def test_huber_resists_outliers_that_move_mse() -> None:
    clean = synthetic_runs(noise=0.002, seed=5)
    dirty = clean.copy()
    dirty.loc[[3, 17, 42], "loss"] *= 1.3  # three gross outliers, +30 % loss
    huber_clean, huber_dirty = sf.fit(clean), sf.fit(dirty)
    mse_dirty = sf.fit(dirty, loss="mse")
    for name in ("E", "alpha", "beta"):
        # Huber: an outlier's pull is capped at delta, so the fit barely moves (< 1 %).
        assert huber_dirty.params[name] == pytest.approx(huber_clean.params[name], rel=0.01)
    moved = max(abs(mse_dirty.params[n] / huber_clean.params[n] - 1) for n in ("E", "beta"))
    assert moved > 0.05  # squares let three points drag the fit by more than 5 %


# ------------------------------------------------------------------ options
def test_fixed_parameter_is_held() -> None:
    result = sf.fit(synthetic_runs(noise=0.0), fixed={"E": 1.7})
    assert result.params["E"] == 1.7
    assert result.free == ("A", "B", "alpha", "beta")
    assert "E" not in np.asarray(result.free)


def test_tied_exponents() -> None:
    truth = {**TRUTH, "beta": TRUTH["alpha"]}
    runs = synthetic_runs(noise=0.0)
    law = sf.get_law("chinchilla")
    runs["loss"] = law.predict(runs["n_params"], runs["tokens"], **truth)
    result = sf.fit(runs, tie={"beta": "alpha"})
    assert result.params["beta"] == result.params["alpha"]
    assert result.params["alpha"] == pytest.approx(truth["alpha"], rel=1e-5)
    assert result.options["n_starts"] == 5 * 6 * 6 * 5  # beta's axis leaves the grid


def test_bounds_respected_and_warned() -> None:
    with pytest.warns(sf.ScalingFitWarning, match=r"alpha = 0\.3 is at its bound"):
        result = sf.fit(synthetic_runs(noise=0.0), bounds={"alpha": (0.0, 0.3)})
    assert result.params["alpha"] == pytest.approx(0.3, abs=1e-8)
    assert any("at its bound" in w for w in result.warnings)


def test_exclude_by_query_and_mask() -> None:
    runs = synthetic_runs(noise=0.0)
    by_query = sf.fit(runs, exclude="n_params > 1e10")
    mask = (runs["n_params"] > 1e10).to_numpy()
    by_mask = sf.fit(runs, exclude=mask)
    assert by_query.n_points == by_mask.n_points == int((~mask).sum())
    assert by_query.options["excluded"] == int(mask.sum())


def test_highest_loss_mask_counts() -> None:
    runs = pd.DataFrame({"loss": [3.0, 5.0, 4.0, 2.0]})
    np.testing.assert_array_equal(sf.highest_loss_mask(runs, 2), [False, True, True, False])


def test_points_final_uses_last_step_of_each_curve() -> None:
    law = sf.get_law("chinchilla")
    base = synthetic_runs(noise=0.0, n=20)
    halves = base.assign(step=1, tokens=base["tokens"] / 2, loss=base["loss"] + 0.5)
    ends = base.assign(step=2)
    curves = pd.concat([halves, ends], ignore_index=True)
    result = sf.fit(curves)
    assert result.n_points == 20
    assert result.options["points_note"] == "final logged step of each run"
    assert result.params["alpha"] == pytest.approx(TRUTH["alpha"], rel=1e-4)
    assert sf.fit(curves, points="all").n_points == 40
    assert law.name == "chinchilla"


def test_mse_linear_objective_is_sum_of_half_squares() -> None:
    runs = synthetic_runs(noise=0.01, n=30)
    result = sf.fit(runs, loss="mse_linear")
    predicted = result.predict(runs)
    expected = 0.5 * np.sum((predicted - runs["loss"]) ** 2)
    assert result.objective == pytest.approx(expected, rel=1e-10)


# ------------------------------------------------------------------ bad input
def test_missing_column_message() -> None:
    runs = synthetic_runs(noise=0.0).drop(columns="tokens")
    with pytest.raises(sf.DataError, match=r"needs columns.*missing \['tokens'\].*columns="):
        sf.fit(runs)


def test_single_value_column_message() -> None:
    runs = synthetic_runs(noise=0.0).assign(n_params=1.2e8)
    with pytest.raises(sf.DataError, match=r"'n_params' has one value \(1\.2e\+08\) in all 80"):
        sf.fit(runs)


def test_unknown_options_messages() -> None:
    runs = synthetic_runs(noise=0.0, n=10)
    with pytest.raises(sf.DataError, match=r"loss='l1' \(--loss\) is not supported.*huber, mse"):
        sf.fit(runs, loss="l1")
    with pytest.raises(sf.DataError, match=r"fixed= \(--fix\) names \['gamma'\].*'E', 'A', 'B'"):
        sf.fit(runs, fixed={"gamma": 1.0})
    with pytest.raises(sf.DataError, match=r"tie=\{'beta': 'delta'\} \(--tie\)"):
        sf.fit(runs, tie={"beta": "delta"})
    with pytest.raises(sf.DataError, match=r"exclude must be a boolean mask.*10 rows"):
        sf.fit(runs, exclude=[1, 2])
    with pytest.raises(sf.DataError, match=r"points='last' \(--points\) is not supported"):
        sf.fit(runs, points="last")


def test_unidentified_parameters_warned() -> None:
    # With E fixed at 0 and B = 0 ... use two laws' terms that cannot be separated:
    # all tokens proportional to n_params makes A/N^a and B/D^b collinear when a = b.
    n_params = np.logspace(7, 10, 12)
    runs = pd.DataFrame(
        {
            "run": [f"r{i}" for i in range(12)],
            "n_params": n_params,
            "tokens": 20 * n_params,
            "loss": 1.7 + 500 / n_params**0.3,
        }
    )
    with pytest.warns(sf.ScalingFitWarning, match="not identified"):
        result = sf.fit(runs, tie={"beta": "alpha"})
    assert any("not identified" in w for w in result.warnings)


def test_init_and_initial_guess_starts_are_refined() -> None:
    from dataclasses import replace

    runs = synthetic_runs(noise=0.003, n=30)
    calls = []

    def guess(inputs, observed):
        calls.append(len(observed))
        return [{**TRUTH, "E": 1.9}]

    law = replace(sf.get_law("chinchilla"), name="guessing", initial_guess=guess)
    result = sf.fit(runs, law, init={**TRUTH, "beta": 0.4}, n_refine=1)
    assert calls == [30]  # the law saw the fitted points
    assert result.options["n_starts"] == 4500 + 2
    assert result.options["n_refined"] == 3  # init, the law's guess, one projected start
    assert result.options["n_at_best"] == 3
    # 30 points at 0.3 % noise pin the exponent to a few per cent.
    assert result.params["alpha"] == pytest.approx(TRUTH["alpha"], rel=0.05)
    with pytest.raises(sf.DataError, match=r"init= names \['gamma'\]"):
        sf.fit(runs, init={"gamma": 1.0})


def test_too_few_distinct_values_warned() -> None:
    # 3 model sizes x 6 token counts: Chinchilla's 5 free parameters over 2 inputs want at
    # least ceil(5/2) + 1 = 4 distinct values of each input.
    law = sf.get_law("chinchilla")
    n_params, tokens = np.meshgrid([1e8, 1e9, 1e10], np.logspace(9, 12, 6))
    runs = pd.DataFrame({"n_params": n_params.ravel(), "tokens": tokens.ravel()})
    runs["loss"] = law.predict(runs["n_params"], runs["tokens"], **TRUTH)
    runs["run"] = [f"r{i}" for i in range(len(runs))]
    with pytest.warns(sf.ScalingFitWarning, match=r"only 3 distinct n_params values for 5 free"):
        result = sf.fit(runs)
    assert len(result.warnings) == 1 and "want at least 4" in result.warnings[0]


def test_excluding_a_final_row_drops_the_run_not_promotes_a_mid_point() -> None:
    base = synthetic_runs(noise=0.0, n=20)
    halves = base.assign(step=1, tokens=base["tokens"] / 2, loss=base["loss"] + 0.5)
    curves = pd.concat([halves, base.assign(step=2)], ignore_index=True)
    mask = np.zeros(len(curves), dtype=bool)
    mask[20] = True  # the final row of run r0
    result = sf.fit(curves, exclude=mask)
    assert result.n_points == 19
    assert "r0" not in set(result.data["run"])
    assert result.options["excluded"] == 1
    assert result.params["alpha"] == pytest.approx(TRUTH["alpha"], rel=1e-4)


def test_json_is_strict_when_bootstrap_refits_fail(tmp_path) -> None:
    import json
    from dataclasses import replace

    result = sf.fit(synthetic_runs(noise=0.01, n=30), bootstrap=10)
    samples = result.samples.copy()
    samples[0] = np.nan  # a failed refit is recorded as NaN
    text = replace(result, samples=samples).to_json()
    raw = json.loads(text)  # strict: no NaN tokens
    assert raw["bootstrap_samples"][0] == [None] * 5
    assert np.isnan(sf.FitResult.from_json(text).samples[0]).all()


# ------------------------------------------------------------------ early stop of refining
def _solution(objective: float, converged: bool = True, stalled: bool = False) -> Solution:
    empty = np.empty(0)
    return Solution(empty, objective, converged, "", empty, empty, 1, stalled)


def _stalled(objective: float) -> Solution:
    return _solution(objective, converged=False, stalled=True)


def test_refining_stops_only_when_enough_converged_starts_agree_on_the_best() -> None:
    best, worse = 1e-3, 1.1e-3
    assert agreed([_solution(best)] * AGREEMENT)
    # One start short, a worse optimum among them, or a non-converged copy: keep refining.
    assert not agreed([_solution(best)] * (AGREEMENT - 1))
    assert not agreed([_solution(best)] * (AGREEMENT - 1) + [_solution(worse)])
    assert not agreed([_solution(best)] * (AGREEMENT - 1) + [_solution(best, converged=False)])
    # Equal to SAME_OPTIMUM_RTOL counts as the same optimum; 10x that does not.
    near = best * (1 + SAME_OPTIMUM_RTOL / 2)
    assert agreed([_solution(best)] * (AGREEMENT - 1) + [_solution(near)])
    far = best * (1 + 10 * SAME_OPTIMUM_RTOL)
    assert not agreed([_solution(best)] * (AGREEMENT - 1) + [_solution(far)])


def test_refining_stops_when_stalled_starts_agree_below_every_converged_one() -> None:
    low, high = 1e-3, 1.5e-3
    assert on_ridge([_stalled(low)] * RIDGE_AGREEMENT)
    assert on_ridge([_solution(high)] + [_stalled(low)] * RIDGE_AGREEMENT)
    # One short, a converged start as good as the stalled ones, or stalled starts further
    # apart than STALLED_RTOL: keep refining.
    assert not on_ridge([_stalled(low)] * (RIDGE_AGREEMENT - 1))
    assert not on_ridge([_solution(low)] + [_stalled(low)] * RIDGE_AGREEMENT)
    apart = [_stalled(low * (1 + 2 * k * STALLED_RTOL)) for k in range(RIDGE_AGREEMENT)]
    assert not on_ridge(apart)
    # A failed start (neither converged nor stalled, NaN objective) never counts.
    failed = _solution(np.nan, converged=False)
    assert not on_ridge([failed] + [_stalled(low)] * (RIDGE_AGREEMENT - 1))


def test_refining_stops_when_every_start_stalls_where_the_data_determine_nothing() -> None:
    low = 1e-3
    # Two identical columns: a direction of zero curvature. The identity: every direction
    # is determined.
    flat = np.array([[1.0, 1.0, 0.0], [2.0, 2.0, 1.0], [0.5, 0.5, 3.0]])
    determined = np.eye(3)

    def stalled(objective: float, jacobian: np.ndarray) -> Solution:
        return dataclasses.replace(_stalled(objective), jacobian=jacobian)

    assert unidentified([stalled(low * (1 + k), flat) for k in range(RIDGE_AGREEMENT)])
    # The best stalled start decides: determined there, keep refining (a finite optimum may
    # lie elsewhere); flat there, stop although a worse start was determined.
    assert not unidentified([stalled(low, determined)] + [stalled(2 * low, flat)] * 2)
    assert unidentified([stalled(low, flat)] + [stalled(2 * low, determined)] * 2)
    # One short, or any converged start (a finite optimum exists): keep refining.
    assert not unidentified([stalled(low, flat)] * (RIDGE_AGREEMENT - 1))
    assert not unidentified([_solution(2 * low)] + [stalled(low, flat)] * RIDGE_AGREEMENT)
    # A failed start (NaN objective) is not a stalled one.
    failed = dataclasses.replace(_solution(np.nan, converged=False), jacobian=flat)
    assert not unidentified([failed] + [stalled(low, flat)] * (RIDGE_AGREEMENT - 1))


def test_identified_needs_every_column_and_every_direction() -> None:
    from scaling_fit.fitting.identifiability import (
        UNIDENTIFIED_RATIO,
        identified,
        weakest_direction,
    )

    rng = np.random.default_rng(0)
    jac = rng.normal(size=(20, 3))
    assert identified(jac)
    assert not identified(np.column_stack([jac[:, :2], 1e-12 * jac[:, 2]]))  # a flat column
    assert not identified(np.where(np.arange(3) == 1, np.nan, jac))  # not finite
    # Column 2 = column 0 + eps * (a new direction): relative curvature ~eps (unit columns).
    other = rng.normal(size=20)
    for eps, expected in ((1e-9, False), (1e-5, True)):
        nearly = np.column_stack([jac[:, :2], jac[:, 0] + eps * other])
        curvature, direction = weakest_direction(nearly)
        assert (curvature >= UNIDENTIFIED_RATIO) is expected and identified(nearly) is expected
        # The flat direction is column 0 against column 2 (equal and opposite weights).
        assert abs(direction[0]) == pytest.approx(abs(direction[2]), rel=1e-3)


def test_a_stalled_start_outranks_a_converged_one_only_when_significantly_better() -> None:
    def solution(objective: float, n: int, converged: bool = True, stalled: bool = False):
        residuals = np.ones(n)
        return Solution(residuals, objective, converged, "", residuals, residuals, 1, stalled)

    failed = solution(5e-4, 100, converged=False)
    # On 100 points a 2x lower objective is a chi-square drop of 100: significant.
    converged, stalled = solution(2e-3, 100), solution(1e-3, 100, False, True)
    assert ranked([failed, converged, stalled]) == [stalled, converged, failed]
    # 1 % lower on 100 points is a drop of 1.0 < 3.84: the finite optimum stays first.
    marginal = solution(2e-3 / 1.01, 100, False, True)
    assert ranked([marginal, converged]) == [converged, marginal]
    # The same 1 % on 1,000 points is a drop of 10: significant.
    many = [solution(2e-3, 1000), solution(2e-3 / 1.01, 1000, False, True)]
    assert ranked(many) == many[::-1]
    # Without a converged start the best stalled one leads.
    assert ranked([stalled, marginal]) == [stalled, marginal]


def test_epoch_fit_stops_after_the_agreeing_starts(epoch_fit: sf.FitResult) -> None:
    # Epoch's data has one basin: the first AGREEMENT refined starts all reach it.
    assert epoch_fit.options["n_refined"] == AGREEMENT
    assert epoch_fit.options["n_at_best"] == AGREEMENT


def _synthetic_curves(n_runs: int, per_run: int, seed: int = 0) -> pd.DataFrame:
    """Chinchilla losses (Epoch AI's parameters) along runs, with 1 % log-normal noise."""
    rng = np.random.default_rng(seed)
    n = np.repeat(10 ** rng.uniform(7, 10, n_runs), per_run)
    d = np.repeat(20 * 10 ** rng.uniform(7, 10, n_runs), per_run) * np.tile(
        np.linspace(0.05, 1, per_run), n_runs
    )
    loss = (1.82 + 482 / n**0.3478 + 2085 / d**0.3658) * np.exp(rng.normal(0, 0.01, len(n)))
    run = np.repeat(np.arange(n_runs), per_run).astype(str)
    return pd.DataFrame({"run": run, "n_params": n, "tokens": d, "loss": loss})


def test_thinned_search_reaches_the_full_search_optimum(monkeypatch):
    # Above SEARCH_POINTS the starts are searched on a thinned sample and polished on every
    # point; here the sample is 1/10 of 3,000 points. The polished optimum must be the optimum
    # of the full search: same objective to 1e-10 relative (the solver's tolerance is 1e-14,
    # two converged refines of one optimum agree to ~1e-12).
    from scaling_fit.fitting import multistart as ms

    table = _synthetic_curves(30, 100)
    full = sf.fit(table, "chinchilla", points="all", progress=False)
    monkeypatch.setattr(ms, "SEARCH_POINTS", 300)
    thinned = sf.fit(table, "chinchilla", points="all", progress=False)
    assert thinned.converged
    assert thinned.objective == pytest.approx(full.objective, rel=1e-10)
    for name, value in full.params.items():
        assert thinned.params[name] == pytest.approx(value, rel=1e-5)  # flat optimum: ~1e-6


def test_projection_in_chunks_gives_the_same_starts(monkeypatch):
    # The grid is projected in chunks of starts; each start's solve is independent of the
    # others, so any chunk size gives bit-identical starts.
    from scaling_fit.fitting import varpro
    from scaling_fit.fitting.objective import Problem
    from scaling_fit.fitting.space import ParameterSpace

    table = _synthetic_curves(10, 20)
    # Without its linear_terms, Chinchilla's projection builds the design chunk by chunk.
    plain = dataclasses.replace(sf.get_law("chinchilla"), linear_terms={})
    problem = Problem(
        ParameterSpace(plain, {}, {}, {}),
        (table["n_params"].to_numpy(), table["tokens"].to_numpy()),
        table["loss"].to_numpy(),
    )
    whole = varpro.projected_starts(problem)
    monkeypatch.setattr(varpro, "DESIGN_ELEMENTS", 7 * 3 * 200)
    # Chunks change only the order of the BLAS sums: equal to rounding on any platform.
    np.testing.assert_allclose(varpro.projected_starts(problem), whole, rtol=1e-12, atol=1e-300)


def test_one_stalled_start_stands_for_its_valley_among_the_distinct_optima() -> None:
    def solution(theta: float, converged: bool, stalled: bool = False) -> Solution:
        x = np.array([theta])
        return Solution(x, theta, converged, "", x, x, 1, stalled)

    ridge = [solution(1.0, False, True), solution(2.0, False, True)]  # two points of a valley
    local, failed = solution(3.0, True), solution(0.5, False)
    kept = distinct_optima([*ridge, local, failed])
    assert [float(k[0]) for k in kept] == [1.0, 3.0]
