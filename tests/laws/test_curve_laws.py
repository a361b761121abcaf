"""Loss-curve laws: the LR-history engine, multi-power and LR-annealing laws, curve fits.

Reference numbers come from ``data/multipower_law`` (Luo et al. 2025, arXiv:2503.12811;
SOURCE.md there): 9 schedules x 3 model sizes, train split {cosine 24k, constant 24k,
two-stage 9e-5}, test split the other six.  Schedules are built by ``scaling_fit.schedules``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from multipower_data import SPECS, TEST, TRAIN

import scaling_fit as sf
from scaling_fit.fitting.objective import Problem, huber
from scaling_fit.fitting.space import ParameterSpace
from scaling_fit.laws import lr_annealing, multipower
from scaling_fit.results import curves
from scaling_fit.schedules import annealing_area, from_spec, history, lr_for_annealing_law

NAMES = ("L0", "A", "alpha", "B", "C", "beta", "gamma")
PUBLISHED = {  # SOURCE.md table (README "Results"; src/config.py)
    25: (3.04045406, 0.52468604, 0.50786857, 363.78751622, 2.06560812, 0.58279013, 0.64142257),
    100: (2.6514477, 0.60115152, 0.45295811, 437.9464276, 2.13245612, 0.59785199, 0.65523644),
    400: (2.37474466, 0.65421216, 0.42878731, 523.42464371, 2.02462735, 0.59350493, 0.63472457),
}
PRED_E = {25: 0.00110, 100: 0.00142, 400: 0.00168}  # test-set mean PredE (README)
WORST_E = {25: 0.00409, 100: 0.00583, 400: 0.00995}
SIZES = (25, 100, 400)


def curves_of(data_dir: Path, size: int, names: list[str]) -> pd.DataFrame:
    paths = [data_dir / "multipower_law" / f"csv_{size}" / f"{n}.csv" for n in names]
    return sf.load_runs([str(p) for p in paths])


def errors_of(result: sf.FitResult, table: pd.DataFrame) -> tuple[float, float]:
    """Mean over curves of the mean and of the max relative error (PredE, WorstE)."""
    predicted = curves.predict_runs(result, table, SPECS)
    rel = pd.Series(np.abs(predicted - table["loss"]) / table["loss"]).groupby(table["run"])
    return float(rel.mean().mean()), float(rel.max().mean())


# ------------------------------------------------------------------- naive references
def naive_multipower(lr: np.ndarray, steps: np.ndarray, p: dict[str, float]) -> np.ndarray:
    """Luo et al.'s sum written out for each point: O(steps) work per point."""
    s = np.cumsum(lr)
    out = []
    for t in steps:
        k = np.arange(1, t + 1)
        g = 1 - (p["C"] * lr[k] ** -p["gamma"] * (s[t] - s[k - 1]) + 1) ** -p["beta"]
        drop = p["B"] * np.sum((lr[k - 1] - lr[k]) * g)
        out.append(p["L0"] + p["A"] * s[t] ** -p["alpha"] - drop)
    return np.array(out)


def naive_annealing_area(lr: np.ndarray, steps: np.ndarray, lam: float) -> np.ndarray:
    """S₂(t) = Σ_{i≤t} Σ_{k≤i} Δ_k λ^(i−k): a double loop, O(steps²)."""
    out = []
    for t in steps:
        total = 0.0
        for i in range(1, t + 1):
            k = np.arange(1, i + 1)
            total += np.sum((lr[k - 1] - lr[k]) * lam ** (i - k))
        out.append(total)
    return np.array(out)


# ------------------------------------------------------------------- engine
FAMILIES = {
    "cosine": "cosine:peak=3e-4,total=12000,warmup=1000,final=3e-5",
    "cosine_to_zero": "cosine:peak=3e-4,total=12000,warmup=1000,final=0",
    "linear_to_zero": "linear:peak=3e-4,total=12000,warmup=300,final=0",
    "wsd_exp": "wsd:peak=3e-4,total=12000,warmup=1000,decay=0.25,final=3e-5,shape=exp",
    "wsd_sqrt": "wsd:peak=3e-4,total=12000,warmup=1000,decay=0.25,final=0,shape=sqrt",
    "wsd_cosine": "wsd:peak=3e-4,total=12000,warmup=1000,decay=0.25,final=3e-5,shape=cosine",
    "step": "step:peak=3e-4,total=12000,warmup=1000,every=2500,factor=0.5",
    "invsqrt": "invsqrt:peak=3e-4,total=12000,warmup=1000",
    "multistage": "multistage:peak=3e-4,total=12000,warmup=1000,stages=4000@1e-4;8000@3e-5",
}
# Published 400M values and two corners of the parameter box a fit may visit.
KERNELS = [
    dict(zip(NAMES, PUBLISHED[400], strict=True)),
    {"L0": 2.4, "A": 0.6, "alpha": 0.4, "B": 500.0, "C": 10.0, "beta": 0.3, "gamma": 0.9},
    {"L0": 2.4, "A": 0.6, "alpha": 0.4, "B": 500.0, "C": 0.3, "beta": 1.0, "gamma": 0.3},
]


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_quadrature_matches_exact_sum(family: str) -> None:
    lr = from_spec(FAMILIES[family]).lr
    at = np.arange(1, lr.size, 97)
    pairs, exact = history.History(lr).pairs(at), history.exact_pairs(lr, at)
    s1, drop = np.cumsum(lr)[at], lr[0] - lr[at]
    for p in KERNELS:
        fast, slow = (
            multipower.multipower(s1, drop, q.weight, np.log(np.maximum(q.eta, 1e-30)), q.area, **p)
            for q in (pairs, exact)
        )
        # The bound: 1e-7 relative in the predicted loss (measured: < 2e-9).
        np.testing.assert_allclose(fast, slow, rtol=1e-7, atol=0)
    assert pairs.width < 300 < exact.width  # O(log steps) terms per point, not O(steps)


@pytest.mark.parametrize("family", ["cosine", "wsd_exp", "wsd_sqrt"])
def test_multipower_analytic_jacobian_matches_differences(family: str) -> None:
    # The fitter's Jacobian (one pass over the pairs) against central differences of the
    # law on the same quadrature features, at the published values and the box corners.
    lr = from_spec(FAMILIES[family]).lr
    table = pd.DataFrame({"run": "r", "step": np.arange(1100, lr.size, 37)})
    inputs = multipower.features(table, {"r": lr})
    space = ParameterSpace(multipower.LAW, {}, {}, {})
    for p in KERNELS:
        observed = multipower.multipower(*inputs, **p) * 1.003
        problem = Problem(space, inputs, observed)
        theta = space.to_theta(p)
        analytic, numeric = problem.analytic_jacobian(theta), problem.difference_jacobian(theta)
        # Central differences (steps eps^(1/3)) are accurate to ~1e-10 of a column's scale;
        # measured agreement <= 1e-8; 1e-6 still catches a wrong or missing term.
        scale = np.abs(numeric).max(axis=0)
        assert np.all(np.abs(analytic - numeric) <= 1e-6 * scale), (family, p)


def test_multipower_memo_never_reuses_other_inputs_or_parameters() -> None:
    # The Jacobian reuses the per-pair terms of the last evaluation (multipower._pair_terms):
    # interleaved evaluations on other features or parameters must give the fresh values.
    table = pd.DataFrame({"run": "r", "step": np.arange(1100, 12000, 53)})
    names = ("cosine", "wsd_exp")
    inputs = {n: multipower.features(table, {"r": from_spec(FAMILIES[n]).lr}) for n in names}
    fresh = {}
    for name in names:
        for i, p in enumerate(KERNELS):
            multipower._LAST[0] = None
            fresh[name, i] = multipower.multipower_log_gradient(*inputs[name], **p)
    for i, p in enumerate(KERNELS):
        for name in names:
            got = multipower.multipower_log_gradient(*inputs[name], **p)
            again = multipower.multipower_log_gradient(*inputs[name], **p)  # a memo hit
            for key, value in fresh[name, i].items():  # same arithmetic: equal to the bit
                np.testing.assert_array_equal(got[key], value)
                np.testing.assert_array_equal(again[key], value)


@pytest.mark.parametrize("family", ["cosine", "wsd_sqrt", "step"])
def test_features_match_naive_multipower(family: str) -> None:
    lr = from_spec(FAMILIES[family]).lr
    table = pd.DataFrame({"run": "r", "step": [1, 999, 1000, 1001, 5000, 9017, 11999]})
    result = sf.FitResult.from_params("multipower", KERNELS[0])
    predicted = curves.predict_runs(result, table, {"r": lr})
    naive = naive_multipower(lr, table["step"].to_numpy(), KERNELS[0])
    np.testing.assert_allclose(predicted, naive, rtol=1e-7)  # same bound as above


@pytest.mark.parametrize("warmup", ["constant", "actual"])
@pytest.mark.parametrize("lam", [0.99, 0.999])
def test_annealing_area_from_changes(warmup: str, lam: float) -> None:
    lr = lr_for_annealing_law(FAMILIES["wsd_exp"], warmup)
    at = np.arange(0, lr.size, 61)
    pairs = history.History(lr).pairs(at)
    s2 = lr_annealing.annealing_sum(pairs.weight, pairs.steps, lam)
    # Gauss error on exponential kernels ≤ ~3e-6 of a panel's weight (schedules.history docstring);
    # measured ≤ 7e-8 of max S₂ over all families.
    reference = annealing_area(lr, lam)[at]
    np.testing.assert_allclose(s2, reference, rtol=0, atol=1e-6 * np.abs(reference).max())
    short = lr[:400:3]  # O(steps²) double loop on a short schedule, exact pairs
    steps = np.array([5, 100, 132])
    exact = history.exact_pairs(short, steps)
    np.testing.assert_allclose(
        lr_annealing.annealing_sum(exact.weight, exact.steps, lam),
        naive_annealing_area(short, steps, lam),
        rtol=1e-12,
    )


def test_formulas_broadcast_over_parameter_stacks(data_dir: Path) -> None:
    table = curves_of(data_dir, 400, TRAIN)
    for law, params in ((multipower.LAW, KERNELS[0]), (lr_annealing.LAW, KERNELS[0])):
        params = {n: params[n] for n in law.param_names}
        inputs = law.features(table, {n: from_spec(SPECS[n]).lr for n in TRAIN})
        scales = np.array([0.98, 1.0, 1.02])[:, None]
        stacked = law.predict(*inputs, **{k: v * scales for k, v in params.items()})
        assert stacked.shape == (3, len(table))
        for i, s in enumerate(scales[:, 0]):
            row = law.predict(*inputs, **{k: v * s for k, v in params.items()})
            np.testing.assert_allclose(stacked[i], row, rtol=1e-13)


# ------------------------------------------------------------------- published values
@pytest.mark.parametrize("size", SIZES)
def test_published_parameters_reproduce_paper_errors(data_dir: Path, size: int) -> None:
    result = sf.FitResult.from_params("multipower", dict(zip(NAMES, PUBLISHED[size], strict=True)))
    pred_e, worst_e = errors_of(result, curves_of(data_dir, size, TEST))
    # The README rounds to 3 significant figures (±5e-6); the issue asks for 1e-5.
    assert pred_e == pytest.approx(PRED_E[size], abs=1e-5)
    assert worst_e == pytest.approx(WORST_E[size], abs=1e-5)


def test_predict_curve_matches_rows(data_dir: Path) -> None:
    result = sf.FitResult.from_params("multipower")
    table = curves_of(data_dir, 400, ["cosine_72000"])
    curve = curves.predict_curve(result, SPECS["cosine_72000"], steps=table["step"])
    assert list(curve.columns) == ["step", "lr", "loss"]
    np.testing.assert_allclose(curve["loss"], curves.predict_runs(result, table, SPECS))
    np.testing.assert_allclose(curve["lr"], table["lr"], rtol=1e-12)  # logged LR = lr[step]
    default = curves.predict_curve(result, SPECS["cosine_72000"], every=1000)
    # Default steps: multiples of `every` after the 2,160-step warm-up, and the last step.
    assert default["step"].iloc[0] == 3000 and default["step"].iloc[-1] == 72000
    assert np.all(np.diff(default["step"].iloc[:-1]) == 1000)
    first = curves.predict_curve(result, SPECS["cosine_72000"], every=2160)
    assert first["step"].iloc[0] == 4320  # step 2160 is the warm-up's last point, not fitted


# ------------------------------------------------------------------- fits
@pytest.fixture(scope="module")
def mpl_fits() -> dict[int, sf.FitResult]:
    data = Path(__file__).resolve().parents[2] / "data"
    return {s: sf.fit(curves_of(data, s, TRAIN), "multipower", schedules=SPECS) for s in SIZES}


@pytest.mark.slow
@pytest.mark.parametrize("size", SIZES)
def test_multipower_refit_reaches_optimum(
    data_dir: Path, mpl_fits: dict[int, sf.FitResult], size: int
) -> None:
    fitted = mpl_fits[size]
    assert fitted.converged and fitted.options["n_at_best"] >= 5
    assert fitted.options["warmup_points_dropped"] == 1  # cosine_24000 logs step 2160
    train = curves_of(data_dir, size, TRAIN)
    train = train[train["step"] > 2160]
    published = sf.FitResult.from_params(
        "multipower", dict(zip(NAMES, PUBLISHED[size], strict=True))
    )
    log_residual = np.log(curves.predict_runs(published, train, SPECS)) - np.log(train["loss"])
    # The published values are one step past the best iterate of the authors' AdamW run
    # (weight decay 0.01, stopped by patience; multipower.py docstring).  On the same
    # objective they score 2.1 / 13 / 7.3 x the refit's optimum (25M / 100M / 400M).
    # The 2x margin is far above solver tolerance (optima agree to 1e-8 relative).
    assert fitted.objective < 0.5 * huber(log_residual.to_numpy(), 1e-3).sum()
    pred_e, worst_e = errors_of(fitted, curves_of(data_dir, size, TEST))
    # Measured 1.246 / 1.163 / 1.279 x published; see the xfail below.
    assert pred_e <= 1.3 * PRED_E[size]
    # The optimum's worst-case error is the smaller one: measured 0.945 / 0.867 / 0.632 x
    # published.  The 5 % margin at 25M is far above what solver tolerances move.
    assert worst_e < WORST_E[size]


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="issue target not met by the authors' objective: its optimum (10-11 of 11 starts) has "
    "PredE 1.25 / 1.16 / 1.28 x published, mostly from cosine_72000, where its lower L0 "
    "predicts too low a loss.  The published values are one step past the best iterate of "
    "early-stopped AdamW with weight decay 0.01: objective 2.1-13 x higher (multipower.py).",
)
def test_multipower_refit_within_five_percent_of_published(
    data_dir: Path, mpl_fits: dict[int, sf.FitResult]
) -> None:
    for size in SIZES:
        pred_e, _ = errors_of(mpl_fits[size], curves_of(data_dir, size, TEST))
        assert pred_e <= 1.05 * PRED_E[size]


@pytest.mark.parametrize(("size", "target"), [(25, 0.0016), (100, 0.0015), (400, 0.0019)])
def test_annealing_law_fit_predicts_test_curves(data_dir: Path, size: int, target: float) -> None:
    train, test = curves_of(data_dir, size, TRAIN), curves_of(data_dir, size, TEST)
    actual = sf.fit(train, lr_annealing.make_law(warmup="actual"), schedules=SPECS)
    default = sf.fit(train, "lr_annealing", schedules=SPECS)
    # Measured 0.00152 / 0.00140 / 0.00182 with the true warm-up LR in S1; the default
    # (warm-up at peak LR, laws.md §4.2) gives 0.00210 / 0.00198 / 0.00226.
    assert errors_of(actual, test)[0] <= target
    assert errors_of(default, test)[0] <= 0.0023
    assert actual.converged and default.converged


@pytest.mark.slow
def test_annealing_law_recovers_fitted_decay() -> None:
    law = lr_annealing.make_law(decay=None, warmup="actual")
    truth = {"L0": 2.4, "A": 0.65, "alpha": 0.6, "C": 0.5, "lam": 0.995}
    steps = np.arange(2200, 24000, 256)
    names = ["cosine_24000", "constant_24000", "wsdcon_9"]
    table = pd.concat(
        [pd.DataFrame({"run": n, "step": steps[steps < from_spec(SPECS[n]).total]}) for n in names]
    )
    table["loss"] = curves.predict_runs(sf.FitResult.from_params(law, truth), table, SPECS)
    result = sf.fit(table, law, schedules=SPECS)
    # Noise-free data: the optimum is the truth up to solver tolerance on flat directions.
    for name, value in truth.items():
        assert result.params[name] == pytest.approx(value, rel=1e-4), name


@pytest.mark.slow  # a multi-power fit (~2 s); CI runs it
def test_multipower_recovers_parameters_from_noise_free_curves() -> None:
    steps = np.arange(2200, 24000, 256)
    table = pd.concat(
        [pd.DataFrame({"run": n, "step": steps[steps < from_spec(SPECS[n]).total]}) for n in TRAIN]
    )
    truth = dict(zip(NAMES, PUBLISHED[100], strict=True))
    table["loss"] = curves.predict_runs(sf.FitResult.from_params("multipower", truth), table, SPECS)
    result = sf.fit(table, "multipower", schedules=SPECS)
    assert result.objective < 1e-12
    # Exact data: predictions on the unseen test schedules agree to 1e-5 even where the
    # loss-drop parameters (C, beta, gamma) are only loosely determined by three curves.
    check = pd.DataFrame({"run": "cosine_72000", "step": np.arange(3000, 72000, 3000)})
    reference = sf.FitResult.from_params("multipower", truth)
    np.testing.assert_allclose(
        curves.predict_runs(result, check, SPECS),
        curves.predict_runs(reference, check, SPECS),
        rtol=1e-5,
    )


def test_curve_fit_json_round_trip_and_bootstrap_warning(data_dir: Path) -> None:
    train = curves_of(data_dir, 25, TRAIN)
    with pytest.warns(sf.ScalingFitWarning, match=r"only 3 \(fewer than 5\)"):
        result = sf.fit(train, "lr_annealing", schedules=SPECS, bootstrap=10, seed=1)
    assert "warm-up" in result.options["points_note"]
    assert result.options["schedules"]["wsdcon_9"] == from_spec(SPECS["wsdcon_9"]).spec
    back = sf.FitResult.from_json(result.to_json())
    table = curves_of(data_dir, 25, ["wsd_20000_24000"])
    np.testing.assert_array_equal(
        curves.predict_runs(back, table, SPECS), curves.predict_runs(result, table, SPECS)
    )


def test_warmup_points_kept_on_request(data_dir: Path) -> None:
    train = curves_of(data_dir, 25, TRAIN)
    kept = sf.fit(train, "lr_annealing", schedules=SPECS, points="all")
    assert kept.n_points == len(train) and kept.options["warmup_points_dropped"] == 0


# ------------------------------------------------------------------- bad input
def test_bad_input_messages(data_dir: Path) -> None:
    train = curves_of(data_dir, 25, TRAIN)
    with pytest.raises(sf.DataError, match=r"needs the LR at every step.*schedules="):
        sf.fit(train, "multipower")
    with pytest.raises(sf.DataError, match=r"no schedule for runs \['wsdcon_9'\]"):
        sf.fit(train, "multipower", schedules={n: SPECS[n] for n in TRAIN[:2]})
    short = {**SPECS, "cosine_24000": "cosine:peak=3e-4,total=20000,warmup=2160"}
    with pytest.raises(sf.DataError, match=r"'cosine_24000': step 20\d+ lies outside.*total >="):
        sf.fit(train, "multipower", schedules=short)
    with pytest.raises(sf.DataError, match=r"points='final' \(--points\) is not supported"):
        sf.fit(train, "multipower", schedules=SPECS, points="final")
    with pytest.raises(
        sf.DataError, match=r"schedules= \(--schedule/--schedules\) is for loss-curve laws"
    ):
        sf.fit(train, "chinchilla", schedules=SPECS)
    with pytest.raises(sf.DataError, match="not a loss-curve law"):
        curves.predict_curve(sf.FitResult.from_params("chinchilla"), SPECS["wsdcon_9"])
