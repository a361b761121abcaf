"""isoflop(): Approach 2 on closed-form profiles, on Porian et al.'s data, flags and bad input."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes

from scaling_fit.analysis.isoflop import isoflop
from scaling_fit.errors import DataError, ScalingFitWarning

CONFIG = ["dataset", "hparams", "warmup", "decay", "param_count", "val"]
PORIAN = "porian_isoflop"
# Published Chinchilla fit (Hoffmann et al. 2022): the optimum of E + A/N^α + B/D^β along
# C = 6ND is N* = G (C/6)^a with a = β/(α+β).
E, A, B, ALPHA, BETA = 1.69, 406.4, 410.7, 0.34, 0.28


def parabola_runs(a: float = 0.55, k: float = 0.08) -> pd.DataFrame:
    """Profiles that are exact parabolas in ln N around N* = k C^a, on off-centre grids."""
    rng = np.random.default_rng(3)
    rows = []
    for j, c in enumerate(np.geomspace(1e17, 1e21, 6)):
        n_star = k * c**a
        # Fixed points keep the optimum well inside every grid; the random ones move it off-centre.
        fixed = [-2.4, -1.1, -0.35, 0.4, 0.9, 1.5]
        offsets = np.sort(np.concatenate([fixed, rng.uniform(-2.0, 1.2, j % 3)]))
        n = n_star * np.exp(offsets)
        loss = 2.0 + 30 * c**-0.1 + (0.05 + 0.01 * j) * offsets**2
        rows.append(
            pd.DataFrame({"compute": c, "n_params": n, "tokens": c / (6 * n), "loss": loss})
        )
    return pd.concat(rows, ignore_index=True)


def chinchilla_runs(c_values: np.ndarray, span: tuple[float, float], size: int) -> pd.DataFrame:
    """Noise-free Chinchilla losses on a log grid centred on 0.5·sqrt(C/6), not on N*."""
    rows = []
    for c in c_values:
        n = 0.5 * np.sqrt(c / 6) * np.exp(np.linspace(*span, size))
        d = c / (6 * n)
        rows.append(pd.DataFrame({"compute": c, "n_params": n, "tokens": d}))
    runs = pd.concat(rows, ignore_index=True)
    return runs.assign(loss=E + A / runs["n_params"] ** ALPHA + B / runs["tokens"] ** BETA)


# ----------------------------------------------------------------- closed form


def test_exact_parabolas_give_the_exact_power_law() -> None:
    a, k = 0.55, 0.08
    result = isoflop(parabola_runs(a, k), bootstrap=50)
    # A parabola through 3 points of a parabola is that parabola: only round-off remains.
    assert result.params["a"] == pytest.approx(a, abs=1e-9)
    assert result.params["k"] == pytest.approx(k, rel=1e-7)
    # D* = C/(6N*) exactly, so b = 1 - a and k_D = 1/(6k).
    assert result.params["b"] == pytest.approx(1 - a, abs=1e-9)
    assert result.params["k_D"] == pytest.approx(1 / (6 * k), rel=1e-7)
    budgets = result.budgets
    np.testing.assert_allclose(budgets["loss_opt"], 2.0 + 30 * budgets["budget"] ** -0.1)
    assert not budgets["at_edge"].any() and budgets["used"].all()
    assert result.r2["n"] == pytest.approx(1.0, abs=1e-12)
    # Every resample lies on the same line: the interval collapses onto the estimate.
    lo, hi = result.ci95["a"]
    assert lo == pytest.approx(a, abs=1e-9) and hi == pytest.approx(a, abs=1e-9)
    assert result.options["bootstrap_valid"] == 50


def test_local_fit_avoids_the_bias_of_a_global_parabola() -> None:
    # Wide grid (e^±3 around a centre that drifts away from N*): laws.md §9.4.
    budgets = np.geomspace(1e18, 1e22, 5)
    runs = chinchilla_runs(budgets, (-3.0, 3.0), 13)
    truth = BETA / (ALPHA + BETA)
    local = isoflop(runs, method="local", bootstrap=0).params["a"]
    vertices = [
        -np.polyfit(np.log(g["n_params"]), g["loss"], 2)[1]
        / (2 * np.polyfit(np.log(g["n_params"]), g["loss"], 2)[0])
        for _, g in runs.groupby("compute")
    ]
    global_a = np.polyfit(np.log(budgets), vertices, 1)[0]
    # The 3-point parabola's residual error comes from the profile's cubic term at a grid
    # spacing of 0.5 in ln N (measured 9e-5); the global parabola's is ~1e-3.
    assert abs(local - truth) < 3e-4
    assert abs(global_a - truth) > 3 * abs(local - truth)


# ----------------------------------------------------------------- Porian et al. 2024


def _authors_basic(data_dir) -> dict[tuple, dict]:
    records = json.loads((data_dir / PORIAN / "fit_results.json").read_text())
    return {tuple(r[c] for c in CONFIG): r["fit_results"]["basic"] for r in records}


def test_porian_basic_exponents_reproduced(data_dir) -> None:
    points = pd.read_csv(data_dir / PORIAN / "isoflop_points.csv")
    points = points.rename(columns={"flops": "compute", "n": "n_params", "t": "tokens"})
    basic = _authors_basic(data_dir)
    optima = pd.read_csv(data_dir / PORIAN / "optimal_pairs.csv").set_index([*CONFIG, "flops"])
    differences, log_ratios = [], []
    for key, runs in points.groupby(CONFIG):
        # Warning policy: the edge budgets of these grids are expected to warn; record every
        # warning and check it is exactly what the result reports.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = isoflop(runs, bootstrap=20)
        assert [str(w.message) for w in caught] == list(result.warnings)
        assert all(issubclass(w.category, ScalingFitWarning) for w in caught)
        for row in result.budgets.loc[result.budgets["flag"] != ""].itertuples():
            assert any(f"C={row.budget:.4g} (" in m for m in result.warnings)
        assert result.options["budgets_used"] >= 7
        differences.append(result.params["a"] - basic[key]["n_exponent"])
        used = result.budgets.loc[result.budgets["used"]]
        authors = optima.loc[[(*key, c) for c in used["budget"]], "n"].to_numpy()
        log_ratios += list(np.log(used["n_opt"].to_numpy() / authors))
    differences = np.abs(differences)
    assert len(differences) == 15
    # Acceptance criterion of issues 3 and 17. Measured with method="auto": 14 of 15 within
    # 0.015, median 0.0073 (method="local", the old default: 14, median 0.0039; auto widens
    # some windows, where the authors' Akima minimum uses the lowest points only).
    assert np.sum(differences <= 0.015) >= 13
    assert np.median(differences) <= 0.009
    # Per budget, our vertex vs the authors' bootstrap median of noisy Akima minima: measured
    # median |ln ratio| 0.045 (4.5 % in N*) with method="auto", whose 5-point windows on
    # these skewed profiles move each vertex while the exponent stays (method="local", 3
    # points like the authors' interpolation: 0.022); bounded here at 6 %.
    assert np.median(np.abs(log_ratios)) < 0.06


# ----------------------------------------------------------------- flags and warnings


def test_edge_budget_warns_and_is_left_out() -> None:
    runs = parabola_runs()
    last = runs["compute"].max()
    grid = runs["compute"] == last
    # Keep only the points above N*: the lowest loss is then at the smallest N sampled.
    n_star = 0.08 * last**0.55
    runs = runs.loc[~grid | (runs["n_params"] > n_star)]
    with pytest.warns(ScalingFitWarning, match="at or near the edge") as caught:
        result = isoflop(runs, bootstrap=0)
    message = str(caught[0].message)
    assert f"C={last:.4g} (lowest loss at the smallest N sampled)" in message
    assert "so it is an extrapolation" in message
    assert (
        "left out of the N*(C) fit (pass keep_flagged=True (--keep-flagged) to keep them)"
        in message
    )
    assert result.warnings == (message,)
    row = result.budgets.loc[result.budgets["budget"] == last].iloc[0]
    assert row["at_edge"] and row["flag"] == "edge" and not row["used"]
    assert row["n_opt"] == runs.loc[grid, "n_params"].min()
    # The other budgets are exact parabolas: the exponent is unaffected.
    assert result.params["a"] == pytest.approx(0.55, abs=1e-9)
    with pytest.warns(ScalingFitWarning, match=r"kept in the N\*\(C\) fit"):
        kept = isoflop(runs, bootstrap=0, keep_flagged=True)
    assert kept.budgets["used"].all()


def test_vertex_in_the_outermost_interval_is_near_edge() -> None:
    c = np.array([1e18] * 5 + [1e19] * 5)
    ln_n = np.array([16.0, 16.5, 17.0, 17.5, 18.0, 17.0, 17.5, 18.0, 18.5, 19.0])
    # Budget 1e18: minimum at ln N = 16.3, between the first and second points.
    loss = np.where(c == 1e18, 3 + (ln_n - 16.3) ** 2, 2.5 + (ln_n - 18.0) ** 2)
    runs = pd.DataFrame({"compute": c, "n_params": np.exp(ln_n), "loss": loss})
    with pytest.warns(
        ScalingFitWarning, match=r"C=1e\+18 \(optimum N=1.2e\+07 has 1 sampled N below"
    ):
        result = isoflop(runs, bootstrap=0, keep_flagged=True)
    assert result.budgets["flag"].tolist() == ["near_edge", ""]
    assert result.budgets["n_opt"].iloc[0] == pytest.approx(np.exp(16.3), rel=1e-12)
    assert result.options["tokens"] == "derived as compute / (6 n_params)"


def test_too_few_points_warns() -> None:
    runs = parabola_runs()
    extra = pd.DataFrame(
        {"compute": 3e21, "n_params": [1e9, 2e9], "tokens": [5e11, 2.5e11], "loss": [2.1, 2.0]}
    )
    with pytest.warns(ScalingFitWarning) as caught:
        result = isoflop(pd.concat([runs, extra]), bootstrap=0)
    messages = [str(w.message) for w in caught]
    assert any(
        "fewer than 3 points around the minimum, too few for a parabola: C=3e+21 (2 distinct N)"
        in m
        for m in messages
    )
    row = result.budgets.iloc[-1]
    assert row["too_few"] and not row["used"] and row["n_points"] == 2
    assert result.params["a"] == pytest.approx(0.55, abs=1e-9)


# ----------------------------------------------------------------- grouping, output


def test_grouping_merges_jittered_budgets() -> None:
    runs = parabola_runs()
    jitter = np.exp(np.random.default_rng(0).uniform(-0.01, 0.01, len(runs)))
    jittered = runs.assign(compute=runs["compute"] * jitter)
    # Exact grouping: every run is its own one-point budget.
    with pytest.raises(
        DataError, match=r"at least 2 usable budgets; found 0 of 42 \(flags: \{'too_few': 42\}\)"
    ):
        isoflop(jittered, bootstrap=0)
    grouped = isoflop(jittered, grouping=0.05, bootstrap=0)
    assert len(grouped.budgets) == 6 and grouped.budgets["n_points"].tolist() == [6, 7, 8] * 2
    by_power = isoflop(jittered, grouping=lambda c: 2.0 ** np.round(np.log2(c)), bootstrap=0)
    np.testing.assert_array_equal(np.log2(by_power.budgets["budget"]) % 1, 0.0)
    assert len(by_power.budgets) == 6


def test_plot_data_plot_and_json() -> None:
    result = isoflop(parabola_runs(), bootstrap=100, seed=1)
    tables = result.plot_data()
    assert set(tables) == {"points", "curves", "optima", "frontier"}
    assert tables["points"]["local"].sum() == 3 * len(result.budgets)
    frontier = result.frontier([1e22])
    assert frontier["n_opt"].iloc[0] == pytest.approx(0.08 * 1e22**0.55, rel=1e-7)
    (ax,) = result.plot().axes
    assert isinstance(ax, Axes) and ax.get_xscale() == "log" and len(ax.lines) >= 12
    assert result.plot(kind="frontier").axes[0].get_yscale() == "log"
    data = json.loads(result.to_json())
    assert data["format"] == "scaling_fit.IsoflopResult/1"
    assert data["params"]["a"]["value"] == pytest.approx(0.55, abs=1e-9)
    assert len(data["budgets"]["n_opt"]) == 6 and data["options"]["bootstrap_unit"] == "budgets"
    assert "a    = 0.55" in result.report()


def test_bootstrap_interval_brackets_noisy_estimate() -> None:
    runs = parabola_runs()
    noise = np.random.default_rng(5).normal(0, 0.003, len(runs))
    result = isoflop(runs.assign(loss=runs["loss"] + noise), bootstrap=400, seed=2)
    lo, hi = result.ci95["a"]
    assert lo < result.params["a"] < hi and hi - lo > 1e-4
    again = isoflop(runs.assign(loss=runs["loss"] + noise), bootstrap=400, seed=2)
    assert again.ci95 == result.ci95


# ----------------------------------------------------------------- bad input


def test_missing_compute_column_is_named() -> None:
    runs = parabola_runs().drop(columns="compute")
    with pytest.raises(DataError, match=r"missing \['compute'\].*budget_column=") as info:
        isoflop(runs)
    # Each way out is named for both users: the Python argument and the CLI flag.
    assert "--col NAME=COLUMN" in str(info.value) and "derives compute" in str(info.value)


def test_bad_values_and_options_are_rejected() -> None:
    runs = parabola_runs()
    runs.loc[3, "loss"] = -1.0
    with pytest.raises(DataError, match=r"row 3, column 'loss': expected a positive finite"):
        isoflop(runs)
    with pytest.raises(DataError, match="duplicates='median' is not supported"):
        isoflop(parabola_runs(), duplicates="median")


@pytest.mark.parametrize("tolerance", [-0.1, float("nan"), "x"])
def test_negative_grouping_tolerance_is_rejected(tolerance: object) -> None:
    # A tolerance below 0 (or NaN) would silently give every run its own budget; the CLI's
    # --budget-rtol maps to grouping= and relies on this check.
    with pytest.raises(
        DataError, match=r"grouping=.* \(--budget-rtol\): expected a relative tolerance >= 0"
    ):
        isoflop(parabola_runs(), grouping=tolerance)


# ----------------------------------------------------------------- window rules (issue 17)

# Issue 17's profiles: Chinchilla's law with E 1.8, A 480, B 2085, α 0.35, β 0.37, so
# D*(C) ∝ C^b with b = α/(α+β).
E17, A17, B17, ALPHA17, BETA17 = 1.8, 480.0, 2085.0, 0.35, 0.37
TRUE_B17 = ALPHA17 / (ALPHA17 + BETA17)


def dense_noisy_runs(seed: int, points: int = 15, noise: float = 0.003) -> pd.DataFrame:
    """8 budgets 1e18–3e21, ``points`` N per budget over ±0.9 decades around N*, loss noise."""
    rng = np.random.default_rng(seed)
    g = (ALPHA17 * A17 / (BETA17 * B17)) ** (1 / (ALPHA17 + BETA17))
    rows = []
    for c in np.geomspace(1e18, 3e21, 8):
        n = g * (c / 6) ** (1 - TRUE_B17) * np.logspace(-0.9, 0.9, points)
        d = c / (6 * n)
        loss = (E17 + A17 / n**ALPHA17 + B17 / d**BETA17) * (1 + noise * rng.normal(size=points))
        rows.append(pd.DataFrame({"compute": c, "n_params": n, "tokens": d, "loss": loss}))
    return pd.concat(rows, ignore_index=True)


def test_dense_noisy_profiles_use_wide_windows() -> None:
    # Issue 17: the 3-point parabola gave b = 0.486 / 0.490 / 0.458 on such data. Measured
    # here (seeds 0-2): auto 0.491 / 0.489 / 0.485, quadratic 0.492 / 0.489 / 0.486, local
    # 0.476 / 0.485 / 0.468.
    local_errors = []
    for seed in range(3):
        runs = dense_noisy_runs(seed)
        auto = isoflop(runs, bootstrap=0)
        quadratic = isoflop(runs, method="quadratic", bootstrap=0)
        # Tolerance 0.01: the goal; the measured worst is 0.006.
        assert abs(auto.params["b"] - TRUE_B17) < 0.01
        assert abs(quadratic.params["b"] - TRUE_B17) < 0.01
        # The noise calls for wide windows: measured 9 to 15 of the 15 points per budget.
        used = auto.budgets.loc[auto.budgets["used"]]
        assert (used["n_local"] >= 9).all() and len(used) >= 6
        assert (quadratic.budgets["window"] == "whole profile").all()
        local_errors.append(abs(isoflop(runs, method="local", bootstrap=0).params["b"] - TRUE_B17))
    # The old default is worse: measured errors 0.010 / 0.001 / 0.018.
    assert max(local_errors) > 0.015


def test_smooth_skewed_profiles_keep_three_points() -> None:
    # Noise-free profiles skewed by a cubic term (minimum exactly at N* = 0.08 C^0.55), on
    # 9-point grids that drift across N*, as Porian et al.'s: a wide parabola misreads the
    # skew, and with no noise to average auto keeps the lowest point and its neighbours.
    rows = []
    for j, c in enumerate(np.geomspace(1e18, 1e21, 4)):
        u = np.linspace(-1.5, 1.5, 9) + 0.2 * (j - 1.5)
        loss = 2 + 30 * c**-0.1 + 0.05 * u**2 + 0.01 * u**3
        rows.append(
            pd.DataFrame({"compute": c, "n_params": 0.08 * c**0.55 * np.exp(u), "loss": loss})
        )
    runs = pd.concat(rows, ignore_index=True)
    auto = isoflop(runs, bootstrap=0)
    quadratic = isoflop(runs, method="quadratic", bootstrap=0)
    assert (auto.budgets["window"] == "lowest -1/+1").all()
    assert auto.params == isoflop(runs, method="local", bootstrap=0).params
    # Measured: auto (3 points) misses a = 0.55 by 9e-5, the whole-profile parabola by 0.0076.
    assert abs(auto.params["a"] - 0.55) < 5e-4
    assert abs(quadratic.params["a"] - 0.55) > 10 * abs(auto.params["a"] - 0.55)


def test_window_column_json_report_and_options() -> None:
    runs = dense_noisy_runs(1)
    result = isoflop(runs, method="local", neighbours=2, bootstrap=0)
    assert set(result.budgets["window"]) == {"lowest -2/+2"}
    assert (result.budgets["n_local"] == 5).all()
    data = json.loads(result.to_json())
    assert data["budgets"]["window"] == result.budgets["window"].tolist()
    assert data["options"]["window"] == "local"
    assert "2 neighbour(s) on each side" in data["options"]["method"]
    assert "lowest -2/+2" in result.report()
    # neighbours= with the default method means the local parabola.
    implied = isoflop(runs, neighbours=2, bootstrap=0)
    assert implied.params == result.params and implied.options["window"] == "local"
    whole = isoflop(runs, method="quadratic", bootstrap=0)
    assert "every point of each budget" in whole.options["method"]
    assert (whole.budgets["n_local"] == 15).all()


@pytest.mark.parametrize("method", ["best", "Auto", 3, None])
def test_unknown_method_is_rejected(method: object) -> None:
    with pytest.raises(DataError, match=r"method=.* \(--method\) is not a window rule") as info:
        isoflop(parabola_runs(), method=method)
    assert "expected one of 'auto', 'local', 'quadratic'" in str(info.value)


def test_neighbours_with_the_whole_profile_is_rejected() -> None:
    with pytest.raises(
        DataError, match=r"neighbours=2 applies to method='local' \(--method\), not method="
    ):
        isoflop(parabola_runs(), method="quadratic", neighbours=2)


# ----------------------------------------------------------------- probed shapes


def test_a_flat_budget_is_not_called_an_edge_optimum() -> None:
    # Every loss of one budget equal: argmin took the smallest N and the warning said "the
    # optimum sits at the edge ... sample N further beyond that edge", which no sampling fixes.
    runs = parabola_runs()
    flat = runs["compute"] == runs["compute"].unique()[2]
    runs.loc[flat, "loss"] = 3.0
    with pytest.warns(ScalingFitWarning) as caught:
        result = isoflop(runs, bootstrap=0)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and "the loss is not convex around its lowest point" in messages[0]
    assert "every sampled N has the same loss (3): a flat profile has no minimum" in messages[0]
    assert result.budgets["flag"].tolist() == ["", "", "not_convex", "", "", ""]
    # The other budgets are exact parabolas: the exponent stays at round-off.
    assert result.params["a"] == pytest.approx(0.55, abs=1e-9)


def test_window_arguments_of_the_wrong_type_are_data_errors() -> None:
    # Each reached a comparison or an index as it was: TypeError or numpy's IndexError.
    runs = parabola_runs()
    for kwargs, words in [
        ({"min_side": "2"}, r"min_side='2' \(--min-side\): expected a whole number in \[1,"),
        ({"min_side": 1.5}, r"min_side=1.5 \(--min-side\): expected a whole number"),
        ({"min_side": None}, r"min_side=None \(--min-side\): expected a whole number"),
        ({"neighbours": 2.5}, r"neighbours=2.5: expected a whole number in \[1,"),
        ({"neighbours": "2"}, r"neighbours='2': expected a whole number"),
        ({"method": "local", "neighbours": 0}, r"neighbours=0: expected a whole number"),
        ({"keep_flagged": "yes"}, r"keep_flagged='yes' \(--keep-flagged\): expected True or"),
    ]:
        with pytest.raises(DataError, match=words):
            isoflop(runs, bootstrap=0, **kwargs)


def test_no_usable_budget_says_what_the_flags_point_to() -> None:
    # Three points per budget centred on the optimum: every vertex has one sampled N on each
    # side, so all are near_edge; the error names min_side (and its flag), which accepts them.
    c = np.repeat([1e18, 1e19, 1e20], 3)
    offsets = np.tile([-0.5, 0.1, 0.5], 3)  # ln N - ln N*: the lowest point is the middle one
    n = 0.08 * c**0.55 * np.exp(offsets)
    runs = pd.DataFrame({"compute": c, "n_params": n, "loss": 2 + 30 * c**-0.1 + offsets**2})
    with pytest.raises(
        DataError,
        match=r"3 budget\(s\) are near_edge, their vertex with fewer than 2 sampled N on one "
        r"side: sample N further out, or accept one with min_side=1 \(--min-side\)",
    ):
        isoflop(runs, bootstrap=0)
    accepted = isoflop(runs, bootstrap=0, min_side=1)  # exact parabolas: round-off only
    assert accepted.budgets["used"].all() and accepted.params["a"] == pytest.approx(0.55, abs=1e-9)
    # Compute recorded per run, 1-3 % apart within a budget: every run its own budget; the
    # error says so and what grouping to pass.
    jitter = 1 + np.random.default_rng(0).uniform(0.01, 0.03, len(runs))
    with pytest.raises(
        DataError, match=r"9 budgets hold a single run: .* group them, e\.g\. grouping=0.05"
    ):
        isoflop(runs.assign(compute=runs["compute"] * jitter), bootstrap=0)
    # A ladder (one run per size, compute 10x apart) is no isoFLOP data: grouping would not
    # help, and the error says what the data is instead.
    ladder = pd.DataFrame({"compute": 10.0 ** np.arange(17, 23), "n_params": 1e8, "loss": 3.0})
    with pytest.raises(
        DataError, match=r"6 budgets hold a single run, their compute far apart: isoFLOP prof"
    ):
        isoflop(ladder.assign(n_params=ladder["compute"] ** 0.5), bootstrap=0)


def test_three_budgets_give_no_interval() -> None:
    # Over 3 budgets the bootstrap's "95 %" interval held the true exponent in 53-70 % of
    # simulated cases (benchmarks/isoflop_few_budgets.py): it is refused, with a warning.
    runs = parabola_runs()
    three = runs[runs["compute"] <= runs["compute"].unique()[2]]
    with pytest.warns(ScalingFitWarning, match=r"no bootstrap: 3 budgets cannot give a trust"):
        result = isoflop(three, bootstrap=100)
    assert result.samples is None and result.ci95["a"] is None
    assert result.params["a"] == pytest.approx(0.55, abs=1e-9)  # the point fit is unchanged
    four = runs[runs["compute"] <= runs["compute"].unique()[3]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 4 budgets: an interval, and no warning
        assert isoflop(four, bootstrap=100).ci95["a"] is not None


def test_frontier_and_curves_refuse_arguments_that_make_no_sense() -> None:
    # frontier("x") raised numpy's ValueError, frontier([nan]) and ([-1]) returned rows of
    # NaN without a word; curves(1.5) raised TypeError and curves(0) returned an empty table.
    result = isoflop(parabola_runs(), bootstrap=0)
    for bad, words in [
        ("x", r"frontier: compute= .* expected numbers .* found 'x'"),
        ([np.nan], r"frontier: compute= .* must be finite and > 0; found nan"),
        ([1e22, -1.0], r"frontier: compute= .* must be finite and > 0; found -1.0"),
    ]:
        with pytest.raises(DataError, match=words):
            result.frontier(bad)
    for bad in (0, 1, 1.5, "50"):
        with pytest.raises(DataError, match=r"n_grid=.*: expected a whole number in \[2,"):
            result.curves(bad)
    assert len(result.curves(2)) == 2 * len(result.budgets)
