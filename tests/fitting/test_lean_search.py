"""The leaner global search: the separable projection and the screened scoring of starts
must give exactly the starts and the order the plain computations give."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import scaling_fit as sf
from scaling_fit.fitting import varpro
from scaling_fit.fitting.objective import Problem, best_rows, rows_below, score_grid
from scaling_fit.fitting.space import ParameterSpace
from scaling_fit.laws import Law

EPOCH_CSV = Path(__file__).resolve().parents[2] / "data/epoch_chinchilla/svg_extracted_data.csv"


def epoch_problem(law: Law, **space: dict) -> Problem:
    runs = sf.load_runs(EPOCH_CSV)
    kept = runs.loc[~sf.highest_loss_mask(runs, 5)]
    inputs = (kept["n_params"].to_numpy(float), kept["tokens"].to_numpy(float))
    parameter_space = ParameterSpace(law, space.get("fixed", {}), space.get("tie", {}), {})
    return Problem(parameter_space, inputs, kept["loss"].to_numpy(float))


@pytest.mark.parametrize("space", [{}, {"fixed": {"beta": 0.3}}, {"tie": {"beta": "alpha"}}])
def test_separable_projection_gives_the_same_starts(space) -> None:
    # Each term is evaluated at one row per distinct value of the parameters it depends on
    # and the normal equations are gathered from products of those columns: the same sums
    # in another order. Solved at scaled condition numbers below MAX_CONDITION (1e8), the
    # starts agree to ~1e-16 x 1e8; measured 7e-13 on Epoch.
    law = sf.get_law("chinchilla")
    plain = dataclasses.replace(law, linear_terms={})
    separable = varpro.projected_starts(epoch_problem(law, **space))
    whole = varpro.projected_starts(epoch_problem(plain, **space))
    assert len(separable) > 0 or space
    np.testing.assert_allclose(separable, whole, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("unknowns", [1, 2, 3, 4])
def test_nnls_by_support_is_scipys_nnls(unknowns) -> None:
    # Trying every support gives the NNLS optimum exactly: compared with SciPy's active-set
    # solver on 200 random systems per size, most with a negative unconstrained coefficient.
    # Scaled condition numbers here are < 1e4, so the two agree to ~1e-16 x 1e4 (1e-10).
    from scipy.optimize import nnls

    rng = np.random.default_rng(unknowns)
    design = rng.normal(size=(200, 30, unknowns)) * rng.uniform(0.1, 10.0, (200, 1, unknowns))
    target = rng.normal(size=(200, 30))
    gram = np.einsum("gnk,gnl->gkl", design, design)
    rhs = np.einsum("gnk,gn->gk", design, target)
    norms = np.sqrt(np.diagonal(gram, axis1=1, axis2=2))
    scaled = gram / (norms[:, :, None] * norms[:, None, :])
    solved = varpro._nnls_by_support(scaled, rhs / norms) / norms
    expected = np.array([nnls(a, b)[0] for a, b in zip(design, target, strict=True)])
    assert np.mean(np.any(np.linalg.solve(gram, rhs[..., None])[..., 0] < 0, axis=1)) > 0.4
    np.testing.assert_allclose(solved, expected, rtol=1e-10, atol=1e-10)


def test_determinant_bound_clears_only_well_conditioned_matrices() -> None:
    # The determinant bound (condition <= k^k / det) must never clear a matrix whose
    # eigenvalues say its condition number exceeds MAX_CONDITION: near-collinear columns at
    # gaps from 1e-7 to 1 give condition numbers on both sides of 1e8.
    rng = np.random.default_rng(0)
    for k in (2, 3, 4):
        rows = rng.normal(size=(400, k, 12))
        rows[:, -1] = rows[:, 0] + 10 ** rng.uniform(-7, 0, (400, 1)) * rng.normal(size=(400, 12))
        gram = rows @ rows.transpose(0, 2, 1)
        norms = np.sqrt(np.diagonal(gram, axis1=1, axis2=2))
        scaled = gram / (norms[:, :, None] * norms[:, None, :])
        eigen = np.linalg.eigvalsh(scaled)
        truth = eigen[:, 0] > eigen[:, -1] / varpro.MAX_CONDITION
        assert 0 < truth.sum() < len(truth)  # both kinds occur
        np.testing.assert_array_equal(varpro._well_conditioned(scaled), truth)


def test_linear_terms_must_name_the_linear_parameters() -> None:
    law = sf.get_law("chinchilla")
    with pytest.raises(ValueError, match=r"linear_terms must map each linear parameter"):
        dataclasses.replace(law, linear_terms={"E": (), "A": ("E",), "B": ("beta",)})
    with pytest.raises(ValueError, match=r"linear_terms must map each linear parameter"):
        dataclasses.replace(law, linear_terms={"A": ("alpha",)})


@pytest.mark.parametrize("count", [1, 5, 40, 700])
def test_screened_best_rows_are_the_sorted_scores(count) -> None:
    # The screen only skips rows whose lower bound already exceeds the count-th best score:
    # the same rows, in the same (stable) order, as sorting every full score.
    problem = epoch_problem(sf.get_law("chinchilla"))
    rng = np.random.default_rng(0)
    grid = problem.space.start_grid()
    grid = np.vstack([grid, grid[rng.choice(len(grid), 300)]])  # exact ties, kept in order
    for rows in (grid, varpro.projected_starts(problem)):
        expected = np.argsort(score_grid(problem, rows), kind="stable")[:count]
        np.testing.assert_array_equal(best_rows(problem, rows, count), expected)
    assert len(best_rows(problem, grid, 0)) == 0


@pytest.mark.parametrize("quantile", [0.0, 0.001, 0.05, 0.5, 1.0])
def test_screened_rows_below_are_every_row_below(quantile) -> None:
    # The quick screen on a quarter of the first block, then the rest of it and the other
    # blocks, only drops rows whose partial sum already exceeds the threshold: exactly the
    # rows a full scoring finds below it, from none (the lowest score) to all but the worst.
    problem = epoch_problem(sf.get_law("chinchilla"))
    grid = problem.space.start_grid()
    scores = score_grid(problem, grid)
    threshold = float(np.quantile(scores[np.isfinite(scores)], quantile))
    expected = np.flatnonzero(scores < threshold)
    np.testing.assert_array_equal(rows_below(problem, grid, threshold), expected)


def test_epoch_refit_objective_does_not_move() -> None:
    # The Epoch refit's objective, 0.0010182740178 (12 digits; the optimum is flat to ~1e-14
    # relative), from the leaner search as from the full one.
    runs = sf.load_runs(EPOCH_CSV)
    result = sf.fit(runs, "chinchilla", exclude=sf.highest_loss_mask(runs, 5), progress=False)
    assert result.objective == pytest.approx(0.0010182740178, rel=1e-11)
    assert result.options["n_at_best"] >= 5


def test_starts_refined_together_reach_the_trust_region_solutions() -> None:
    from scaling_fit.fitting.multistart import _candidates, refine, refine_together

    problem = epoch_problem(sf.get_law("chinchilla"))
    count, candidates = _candidates(problem, problem.space.start_grid(), 10)
    starts = list(candidates)
    assert len(starts) == count == 10
    together = refine_together(problem, starts)
    assert len(together) == len(starts)
    for start, batch in zip(starts, together, strict=True):
        alone = refine(problem, start)
        assert batch.converged and alone.converged
        # One optimum, flat to ~1e-14 in the objective and ~1e-6 along log A / log B.
        assert batch.objective == pytest.approx(alone.objective, rel=1e-12)
        np.testing.assert_allclose(batch.theta, alone.theta, rtol=1e-5, atol=1e-5)
        # The solver's robust-scaled Jacobian: inlier rows as they are, outliers ~1.5e-8 of
        # theirs; 1e-4 covers the parameters' 1e-6 difference.
        np.testing.assert_allclose(batch.jacobian, alone.jacobian, rtol=1e-4, atol=1e-9)


@pytest.mark.parametrize("n_refine", [1, 2, 10, 30])
def test_candidates_come_in_the_order_of_all_their_scores(n_refine) -> None:
    # Projected and grid candidates in one stable order by score, as when every grid start
    # was scored up front; the grid is scored late (or never) only when that order allows.
    from scaling_fit.fitting.multistart import _candidates
    from scaling_fit.fitting.varpro import best_projected

    for law in ("chinchilla", "overtraining", "kaplan"):
        problem = epoch_problem(sf.get_law(law))
        grid = problem.space.start_grid()
        projected = best_projected(problem, (n_refine + 1) // 2)
        top = np.argsort(score_grid(problem, grid), kind="stable")[: n_refine - len(projected)]
        every = np.vstack([np.reshape(projected, (-1, grid.shape[1])), grid[top]])
        expected = every[np.argsort(score_grid(problem, every), kind="stable")]
        count, candidates = _candidates(problem, grid, n_refine)
        assert count == len(expected)
        np.testing.assert_array_equal(np.array(list(candidates)), expected)


def test_epoch_fit_never_picks_the_grids_best(monkeypatch) -> None:
    # No Hoffmann grid start scores below the projected candidates on Epoch's data, and the
    # five projected starts agree: the grid's best five are never needed, so never computed
    # (best_rows runs once, for the projected starts).
    from scaling_fit.fitting import multistart, varpro

    calls = []

    def recording(problem, grid, count):
        calls.append(len(grid))
        return best_rows(problem, grid, count)

    monkeypatch.setattr(multistart, "best_rows", recording)
    monkeypatch.setattr(varpro, "best_rows", recording)
    runs = sf.load_runs(EPOCH_CSV)
    sf.fit(runs, "chinchilla", exclude=sf.highest_loss_mask(runs, 5), progress=False)
    assert calls == [41 * 41]
