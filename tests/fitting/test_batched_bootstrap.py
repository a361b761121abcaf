"""The batched bootstrap (scaling_fit.fitting.batched): every resample refitted at once must
give the optima the one-at-a-time trust-region refits give, and hand back what it cannot
settle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import scaling_fit as sf
from scaling_fit.fitting import batched, bootstrap
from scaling_fit.fitting.multistart import distinct_optima, multistart
from scaling_fit.fitting.objective import Problem
from scaling_fit.fitting.space import ParameterSpace

EPOCH_CSV = Path(__file__).resolve().parents[2] / "data/epoch_chinchilla/svg_extracted_data.csv"


@pytest.fixture(scope="module")
def epoch() -> tuple[Problem, np.ndarray, list[np.ndarray]]:
    """Epoch's 240 points as a Problem, their runs and the full fit's distinct optima."""
    runs = sf.load_runs(EPOCH_CSV)
    kept = runs.loc[~sf.highest_loss_mask(runs, 5)]
    space = ParameterSpace(sf.get_law("chinchilla"), {}, {}, {})
    inputs = (kept["n_params"].to_numpy(float), kept["tokens"].to_numpy(float))
    problem = Problem(space, inputs, kept["loss"].to_numpy(float))
    starts = distinct_optima(multistart(problem, space.start_grid(), 10))
    return problem, kept["run"].to_numpy(), starts


def test_batched_refits_reach_the_trust_region_optima(epoch) -> None:
    problem, runs, starts = epoch
    indices = bootstrap.resample_indices(runs, 40, seed=0)
    thetas, settled = bootstrap.batched_thetas(problem, indices, starts)
    assert settled.all()
    for index, theta in zip(indices, thetas, strict=True):
        sub = problem.subset(index)
        reference = bootstrap.refit(problem, index, starts)
        # The same optimum: objectives agree to 1e-12 relative (measured <= 2e-14; the
        # objective is flat to rounding there), and no batched refit is worse than it.
        assert sub.objective(theta) == pytest.approx(sub.objective(reference), rel=1e-12)
        # Parameters: the trust-region solver stops within ~1e-6 along the flattest direction
        # (log A, log B; measured 1e-6 relative over 1,000 resamples), hence 1e-5.
        np.testing.assert_allclose(theta, reference, rtol=1e-5, atol=1e-5)


def test_weighted_objective_is_the_resample_objective(epoch) -> None:
    problem, runs, starts = epoch
    index = bootstrap.resample_indices(runs, 1, seed=3)[0]
    weights = np.bincount(index, minlength=problem.n_points)[None, :].astype(float)
    theta = starts[0] + 0.01
    weighted = batched._objective(problem, problem.residuals(theta[None, :]), weights)
    # Same terms summed in another order: equal to rounding.
    assert weighted[0] == pytest.approx(problem.subset(index).objective(theta), rel=1e-12)


def test_unsettled_resamples_go_to_the_trust_region_solver(epoch, monkeypatch) -> None:
    problem, runs, starts = epoch
    monkeypatch.setattr(batched, "MAX_ITERATIONS", 1)  # no batched refit can converge
    thetas = bootstrap.bootstrap_thetas(problem, runs, starts, 6, seed=1)
    indices = bootstrap.resample_indices(runs, 6, seed=1)
    expected = np.array([bootstrap.refit(problem, index, starts) for index in indices])
    np.testing.assert_array_equal(thetas, expected)  # the same solver on the same data


@pytest.mark.parametrize(
    ("law", "settings"),
    [
        ("chinchilla", {}),
        ("chinchilla", {"tie": {"beta": "alpha"}, "fixed": {"E": 1.7}}),
        ("overtraining", {}),
        ("farseer", {}),
    ],
)
@pytest.mark.parametrize("loss", ["huber", "mse_linear"])
def test_stacked_jacobians_are_the_per_vector_jacobians(law, settings, loss) -> None:
    law = sf.get_law(law)
    space = ParameterSpace(law, settings.get("fixed", {}), settings.get("tie", {}), {})
    rng = np.random.default_rng(0)
    n_params, tokens = 10 ** rng.uniform(7, 10, 30), 10 ** rng.uniform(9, 12, 30)
    assert law.inputs == ("n_params", "tokens")
    problem = Problem(space, (n_params, tokens), np.full(30, 3.0), loss)
    grid = space.start_grid()
    thetas = grid[rng.choice(len(grid), 4, replace=False)]
    stacked = problem.stacked_jacobians(thetas)
    for theta, jacobian in zip(thetas, stacked, strict=True):
        # One formula evaluated on a column or on a scalar: equal to rounding.
        np.testing.assert_allclose(jacobian.T, problem.analytic_jacobian(theta), rtol=1e-10)


@pytest.mark.parametrize("loss", ["huber", "mse_linear"])
def test_annealing_law_gradient_stacks_and_multipower_s_does_not(loss) -> None:
    # The annealing law's gradient broadcasts over columns of parameters (its fits, bootstrap
    # and forecast refits are batched); multipower's takes one vector and is never batched.
    law = sf.get_law("lr_annealing")
    space = ParameterSpace(law, {}, {}, {})
    rng = np.random.default_rng(1)
    s1, s2 = np.cumsum(rng.uniform(1e-4, 3e-4, 50)), rng.uniform(0.0, 0.5, 50)
    problem = Problem(space, (s1, s2), np.full(50, 3.0), loss)
    assert batched.batchable(problem)
    grid = space.start_grid()
    thetas = grid[rng.choice(len(grid), 4, replace=False)]
    for theta, jacobian in zip(thetas, problem.stacked_jacobians(thetas), strict=True):
        np.testing.assert_allclose(jacobian.T, problem.analytic_jacobian(theta), rtol=1e-10)
    curve = sf.get_law("multipower")
    assert curve.log_gradient is not None and not curve.stacked_gradient
    assert not batched.batchable(Problem(ParameterSpace(curve, {}, {}, {}), (s1,), s1, loss))


def test_bootstrap_of_a_fit_is_settled_in_one_batch(epoch, monkeypatch) -> None:
    # On Epoch every resample is settled by the batch: the trust-region solver never runs.
    problem, runs, starts = epoch
    calls = []
    monkeypatch.setattr(bootstrap, "refit", lambda *args: calls.append(args))
    thetas = bootstrap.bootstrap_thetas(problem, runs, starts, 50, seed=0)
    assert calls == [] and np.isfinite(thetas).all()


@pytest.mark.slow  # starts two worker processes (~3 s)
def test_batched_bootstrap_in_parts_is_bit_identical_across_n_jobs(epoch) -> None:
    # With n_jobs=2 each worker refits one part of the resamples; each resample's refit is
    # independent of the others in its batch, so the samples are the same to the last bit.
    problem, runs, starts = epoch
    one = bootstrap.bootstrap_thetas(problem, runs, starts, 60, seed=4, n_jobs=1)
    two = bootstrap.bootstrap_thetas(problem, runs, starts, 60, seed=4, n_jobs=2)
    np.testing.assert_array_equal(one, two)


def test_workers_get_one_blas_thread_unless_the_user_chose(monkeypatch) -> None:
    from scaling_fit.fitting.workers import THREAD_VARIABLES, one_blas_thread

    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert one_blas_thread() == dict.fromkeys(THREAD_VARIABLES, "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "4")  # the user's choice is inherited, not replaced
    assert "OMP_NUM_THREADS" not in one_blas_thread()


def test_undetermined_optima_are_left_to_the_trust_region_solver(monkeypatch) -> None:
    # Every point at one N: A/N^alpha is a constant, so E, A and alpha trade off exactly and
    # the Gauss-Newton matrix is singular at any optimum. Along such a flat direction the
    # batch's damped steps can run far, so no such refit is settled (the trust-region solver
    # refits it); the same refits are settled when the check is switched off.
    rng = np.random.default_rng(0)
    n, d = np.full(20, 1e9), np.geomspace(1e9, 1e11, 20)
    loss = (1.7 + 400 / n**0.34 + 410 / d**0.28) * np.exp(rng.normal(0, 1e-4, 20))
    space = ParameterSpace(sf.get_law("chinchilla"), {}, {}, {})
    problem = Problem(space, (n, d), loss)
    start = space.to_theta({"E": 1.6, "A": 300.0, "B": 400.0, "alpha": 0.3, "beta": 0.3})
    _, _, settled, _ = batched.refit_weighted(problem, np.ones((2, 20)), start)
    assert not settled.any()
    monkeypatch.setattr(batched, "MIN_CURVATURE", -1.0)
    assert batched.refit_weighted(problem, np.ones((2, 20)), start)[2].all()
