"""Degenerate curve fits say so: runaway parameters, inseparable pairs, non-finite predictions,
and best_schedule refuses to rank with a collapsed law and gives its improvement an interval."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import scaling_fit as sf
from scaling_fit.fitting import identifiability
from scaling_fit.laws import get_law
from scaling_fit.results import curves

MULTIPOWER = get_law("multipower")
NAMES = list(MULTIPOWER.param_names)
# Luo et al.'s published 400M parameters (data/multipower_law/SOURCE.md).
PUBLISHED = {
    "L0": 2.3747, "A": 0.6542, "alpha": 0.4288, "B": 523.42, "C": 2.0246, "beta": 0.5935,
    "gamma": 0.6347,
}  # fmt: skip
# The degenerate W&B-style fit: C = 1e-106, beta = 1.4e-05.
COLLAPSED = {**PUBLISHED, "C": 1e-106, "beta": 1.4e-5}
WSD = "wsd:peak=3e-4,total=24000,warmup=2160,decay=0.2,final=3e-5"


def test_runaway_parameters_are_named() -> None:
    assert identifiability.runaway_parameters(MULTIPOWER, PUBLISHED, NAMES) == []
    found = identifiability.runaway_parameters(MULTIPOWER, COLLAPSED, NAMES)
    assert found == ["C = 1e-106 (starts 0.5-2)", "beta = 1.4e-05 (starts from 0.3; bound 0)"]
    # The Schaipp et al. 5e-4 fit of the issue: C = 7.7e83 is 83 decades above the starts.
    huge = identifiability.runaway_parameters(MULTIPOWER, {**PUBLISHED, "C": 7.7e83}, NAMES)
    assert huge == ["C = 7.7e+83 (starts 0.5-2)"]
    # 10 decades is the limit: 1e-9 (9.7 decades below 0.5) is unusual but not flagged.
    assert identifiability.runaway_parameters(MULTIPOWER, {**PUBLISHED, "C": 1e-9}, NAMES) == []


def test_degeneracy_messages() -> None:
    corr = np.eye(7)
    corr[0, 1] = corr[1, 0] = -0.99999  # L0 and A move as one
    corr[3, 5] = corr[5, 3] = 0.9988  # as in sound fits of Luo et al.'s curves: not flagged
    messages = identifiability.degeneracy_messages(MULTIPOWER, COLLAPSED, NAMES, corr)
    assert len(messages) == 2
    assert messages[0].startswith("degenerate fit: parameter(s) C = 1e-106")
    assert "fixed=, --fix NAME=VALUE" in messages[0] and "more schedules" in messages[0]
    assert "Fix one of each pair (fixed=, --fix NAME=VALUE)" in messages[1]
    assert "move as one (L0/A r = -0.99999)" in messages[1] and "B/beta" not in messages[1]
    chinchilla = get_law("chinchilla")  # L(N, D) laws keep their own diagnostics
    assert identifiability.degeneracy_messages(chinchilla, {}, [], corr[:5, :5]) == []


def test_steps_asked_for_inside_the_warm_up_warn() -> None:
    # The laws describe the loss after the warm-up; step 0 gives a meaningless number.
    published = sf.FitResult.from_params("multipower", PUBLISHED)
    with pytest.warns(sf.ScalingFitWarning, match=r"1 of 3 requested steps lie in .*<= 2160"):
        curves.predict_curve(published, WSD, steps=[100, 5000, 24000])
    default = curves.predict_curve(published, WSD, every=1000)  # starts after the warm-up
    assert default["step"].min() == 3000


def test_non_finite_predictions_warn() -> None:
    # alpha = 400 overflows A·S1^(-alpha) where the LR area is ~1e-3 (step 100 of the warm-up).
    overflowing = sf.FitResult.from_params("multipower", {**PUBLISHED, "alpha": 400.0})
    table = pd.DataFrame({"run": "wsd", "step": [100, 20000]})
    with pytest.warns(sf.ScalingFitWarning, match=r"1 of 2 predicted losses are not finite"):
        predicted = curves.predict_runs(overflowing, table, WSD)
    assert not np.isfinite(predicted[0]) and np.isfinite(predicted[1])


def test_best_schedule_refuses_a_collapsed_law() -> None:
    collapsed = sf.FitResult.from_params("multipower", COLLAPSED)
    with pytest.raises(sf.FitError, match=r"degenerate \(C = 1e-106.*ran away.*meaningless"):
        sf.best_schedule(collapsed, 24000, peak=3e-4, warmup=2160)


def test_best_schedule_improvement_interval() -> None:
    rng = np.random.default_rng(0)
    values = np.array([PUBLISHED[n] for n in NAMES])
    samples = values * np.exp(rng.normal(0.0, 0.02, (40, len(NAMES))))  # 2 % spread
    published = sf.FitResult.from_params("multipower", PUBLISHED)
    assert published.samples is None
    grid = {"shape": ["linear"], "final": [0.1], "decay": [0.1, 0.2, 0.3]}
    with pytest.warns(sf.ScalingFitWarning, match="edge of the searched grid"):
        plain = sf.best_schedule(published, 24000, peak=3e-4, warmup=2160, grid=grid, every=4000)
    assert plain.improvement_interval is None  # no bootstrap: no interval
    sampled = dataclasses.replace(published, samples=samples)
    with pytest.warns(sf.ScalingFitWarning, match="edge of the searched grid"):
        choice = sf.best_schedule(sampled, 24000, peak=3e-4, warmup=2160, grid=grid, every=4000)
    lo, hi = choice.improvement_interval
    assert lo < choice.improvement < hi  # the central prediction lies inside its interval
    # The interval is the spread of the draws' own differences: recompute it by hand.
    table = pd.DataFrame({"run": ["c", "b"], "step": 24000})
    draws = []
    for row in samples:
        params = dict(zip(NAMES, row, strict=True))
        result = sf.FitResult.from_params("multipower", params)
        c, b = curves.predict_runs(result, table, {"c": choice.schedule, "b": choice.baseline})
        draws.append(b - c)
    np.testing.assert_allclose([lo, hi], np.percentile(draws, [2.5, 97.5]), rtol=1e-9)


@pytest.mark.slow  # a multi-power search, ~0.9 s
def test_multipower_fit_without_a_decay_to_learn_from_says_it_is_degenerate(
    refined_starts: list,
) -> None:
    # Curves of the annealing-area law (constant + one WSD, 6k steps): the multi-power
    # loss-drop term has nothing to learn from and the fit says so.
    from scaling_fit.fitting import multistart

    specs = {
        "constant": "constant:peak=3e-4,total=6000,warmup=500",
        "wsd": "wsd:peak=3e-4,total=6000,warmup=500,decay=0.2,final=0",
    }
    truth = sf.FitResult.from_params("lr_annealing", {"L0": 2.5, "A": 0.6, "alpha": 0.5, "C": 0.4})
    steps = np.arange(600, 6001, 50)
    table = pd.concat([pd.DataFrame({"run": n, "step": steps}) for n in specs], ignore_index=True)
    rng = np.random.default_rng(0)
    clean = curves.predict_runs(truth, table, specs)
    table["loss"] = clean * np.exp(rng.normal(0.0, 3e-3, len(table)))
    with pytest.warns(sf.ScalingFitWarning) as record:
        fitted = sf.fit(table, "multipower", schedules=specs)
    messages = [str(w.message) for w in record]
    # The solver follows the valley towards G's exponential limit (C -> 0 while beta grows;
    # C = 9.7e-9, beta = 30 after 700 evaluations per start). Every start stalls there at
    # objectives within 1e-4 of each other, so the search stops after RIDGE_AGREEMENT of them
    # (it refined all 11, ~15 s, before) and the fit says it did not converge.
    assert [s.stalled for s in refined_starts] == [True] * multistart.RIDGE_AGREEMENT
    assert fitted.options["n_refined"] == multistart.RIDGE_AGREEMENT
    assert not fitted.converged and fitted.params["C"] < 1e-7
    assert any(m.startswith("optimizer did not converge: the best start used") for m in messages)


def test_correlations_stay_correlations_when_parameter_scales_differ_by_decades() -> None:
    # A near-singular Jacobian whose columns span 24 decades (as C, beta, gamma of a degenerate
    # multi-power fit do): column 0, 1 and 2 are the same direction, column 3 an independent
    # one. Without normalising the columns the pseudo-inverse gave "r = 1.5e113" and r = 1.0
    # for the independent column (seen in the CLI's warning on a TensorBoard export).
    from scaling_fit.fitting.identifiability import correlation_of

    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 1))
    jac = np.hstack([x, 1e-12 * x, 1e12 * (x + 1e-9 * rng.normal(size=(50, 1)))])
    jac = np.hstack([jac, rng.normal(size=(50, 1))])
    r = correlation_of(jac, None)
    assert np.all(np.abs(r) <= 1.0)
    np.testing.assert_allclose(r[:3, :3], 1.0, atol=1e-6)  # one direction: r = 1 to 1e-6
    # The independent column: |r| is the sample correlation of 50 normal draws, ~0.01 here;
    # 0.3 is 2 standard errors (1/sqrt(50) = 0.14) above any value it plausibly takes.
    assert np.all(np.abs(r[3, :3]) < 0.3)
