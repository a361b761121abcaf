"""A curve law's prediction beyond its longest fitted run knows its error (issue 24, item 2).

Synthetic runs: cosine schedules (warm-up 5 %, to 10 % of peak) logged every 10 steps with
0.15 % noise, whose loss falls fast early in LR area (an extra e^(−S₁/0.5) term the annealing
law lacks: the issue's regime change).  Real runs: Luo et al.'s 100M curves.
"""

from __future__ import annotations

import dataclasses
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from multipower_data import SPECS

import scaling_fit as sf
from scaling_fit.errors import ScalingFitWarning
from scaling_fit.fitting.length_check import TRUNCATE
from scaling_fit.schedules import as_schedule


def spec(total: int) -> str:
    return f"cosine:peak=3e-3,total={total},warmup={total // 20},final=3e-4"


def true_loss(total: int, steps: np.ndarray) -> np.ndarray:
    s1 = np.cumsum(as_schedule(spec(total)).lr)[steps - 1]
    return 1.6 + 2.0 * s1**-0.5 + 1.0 * np.exp(-s1 / 0.5)


def ladder(*lengths: int) -> tuple[pd.DataFrame, dict[str, str]]:
    frames = []
    for seed, total in enumerate(lengths):
        steps = np.arange(10, total + 1, 10)
        noise = np.random.default_rng(seed).normal(0.0, 1.5e-3, steps.size)
        loss = true_loss(total, steps) * np.exp(noise)
        frames.append(pd.DataFrame({"run": f"T{total}", "step": steps, "loss": loss}))
    return pd.concat(frames, ignore_index=True), {f"T{t}": spec(t) for t in lengths}


def test_three_lengths_to_three_times_longer_warn_with_the_measured_backtest() -> None:
    runs, specs = ladder(500, 1000, 2000)
    result = sf.fit(runs, "lr_annealing", schedules=specs)
    backtest = result.options["length_check"]["backtest"]
    assert backtest["method"] == "the shorter runs" and backtest["factor"] == pytest.approx(2.0)
    with pytest.warns(ScalingFitWarning) as caught:
        curve = result.predict_curve(spec(6000), steps=[3000, 6000])
    (message,) = [str(w.message) for w in caught]
    assert message.startswith("predicting 3.0x beyond the longest fitted run (step 2000")
    assert f"missed by {backtest['error']:+.1%} at 2.0x" in message  # the measured numbers
    lo, hi = curve[["loss_lower", "loss_upper"]].iloc[-1]
    assert f"interval {lo:.4g}-{hi:.4g} at step 6000" in message
    assert np.isfinite(curve[["loss_lower", "loss_upper"]].to_numpy()).all()
    # the band holds the truth at 1.5x and 3x (the law's point prediction is within 1 % here,
    # the band ±2·|e|·(f − 1) with e ≈ 2 % is several times wider)
    truth = true_loss(6000, np.array([3000, 6000]))
    assert np.all((curve["loss_lower"] <= truth) & (truth <= curve["loss_upper"]))


def test_one_run_is_cut_at_half_and_a_drifting_exponent_is_a_regime_change() -> None:
    runs, specs = ladder(2000)
    result = sf.fit(runs, "lr_annealing", schedules=specs)
    check = result.options["length_check"]
    assert check["backtest"]["method"] == "every run cut at 50% of the longest"
    assert check["drift"]["from_step"] == 400  # 20 % of 2,000 steps
    with pytest.warns(ScalingFitWarning, match="predicting 2.0x beyond") as caught:
        curve = result.predict_curve(spec(4000), steps=[4000])
    message = str(caught[0].message)
    late = check["drift"]["params"]["alpha"]
    assert f"alpha {result.params['alpha']:.3g} -> {late:.3g}" in message
    assert "regime change" in message and "exclude='step < 400'" in message
    # the band is widened to hold the refit without early steps (1e-12: rounding only)
    late_fit = sf.FitResult.from_params("lr_annealing", check["drift"]["params"])
    late = late_fit.predict_curve(spec(4000), steps=[4000])["loss"].iloc[0]
    lo, hi = curve[["loss_lower", "loss_upper"]].iloc[0]
    assert lo * (1 - 1e-12) <= late <= hi * (1 + 1e-12)


def test_predictions_within_the_fitted_runs_do_not_warn_nor_get_a_band() -> None:
    runs, specs = ladder(500, 1000, 2000)
    result = sf.fit(runs, "lr_annealing", schedules=specs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails
        curve = result.predict_curve(spec(1500), every=50)
        same = result.predict_curve(spec(2000), steps=[1000, 2000])
    assert "loss_lower" not in curve.columns and "loss_lower" not in same.columns


def test_the_check_survives_json_and_can_be_turned_off(tmp_path) -> None:
    runs, specs = ladder(500, 1000, 2000)
    result = sf.fit(runs, "lr_annealing", schedules=specs)
    path = tmp_path / "fit.json"
    result.to_json(path)
    again = sf.FitResult.from_json(path)
    assert again.options["length_check"] == result.options["length_check"]
    with pytest.warns(ScalingFitWarning, match="3.0x beyond"):
        again.predict_curve(spec(6000), steps=[6000])
    backtest = result.options["length_check"]["backtest"]
    assert f"backtest       = {backtest['error']:+.2%} at 2.00x (the shorter runs" in again.report()
    assert "without steps before 400: L0 " in again.report()
    unchecked = sf.fit(runs, "lr_annealing", schedules=specs, length_check=False)
    assert "length_check" not in unchecked.options
    assert unchecked.params == result.params  # the check never changes the fit
    assert "[[Length extrapolation]]" not in unchecked.report()


def test_real_curves_three_times_longer_are_covered(data_dir) -> None:
    """Luo et al. 100M: the 7 runs of <= 24k steps predict the two 72k-step runs."""
    short = [name for name in SPECS if not name.endswith("72000")]
    frames = [
        pd.read_csv(data_dir / "multipower_law" / "csv_100" / f"{n}.csv").assign(run=n)
        for n in SPECS
    ]
    runs = pd.concat(frames, ignore_index=True)
    result = sf.fit(runs[runs["run"].isin(short)], "lr_annealing", schedules=SPECS)
    for name in ("cosine_72000", "constant_72000"):
        truth = runs[runs["run"] == name].iloc[-1]
        with pytest.warns(ScalingFitWarning, match=r"predicting 3\.[01]x beyond"):
            curve = result.predict_curve(SPECS[name], steps=[int(truth["step"])])
        lo, loss, hi = curve[["loss_lower", "loss", "loss_upper"]].iloc[0]
        # measured (benchmarks/curve_length_extrapolation.py): errors < 1 %, band about
        # ±3 %; 3 % is the goal for a 2-3x longer run
        assert abs(loss / truth["loss"] - 1) < 0.03
        assert lo <= truth["loss"] <= hi


def test_schaipp_runs_up_to_three_times_longer_are_covered(data_dir) -> None:
    """Schaipp et al. at peak 5e-4: the 6 runs of 15k steps predict the 25 runs of 25k-50k."""
    folder = data_dir / "schaipp_lr_schedules"
    table = pd.read_csv(folder / "runs.csv")
    table = table[np.isclose(table["peak_lr"], 5e-4)]
    specs = json.loads((folder / "schedules.json").read_text())
    curves = pd.read_csv(folder / "val_curves.csv.gz").rename(columns={"val_loss": "loss"})
    curves = curves[curves["run"].isin(table["run"]) & (curves["step"] > 0)]
    short = table["run"][table["total"] <= 15000].tolist()
    result = sf.fit(curves[curves["run"].isin(short)], "lr_annealing", schedules=specs)
    covered = []
    for run in table["run"][table["total"] > 15000]:
        truth = curves[curves["run"] == run].iloc[-1]
        with pytest.warns(ScalingFitWarning, match="beyond the longest fitted run"):
            curve = result.predict_curve(specs[run], steps=[int(truth["step"])])
        lo, loss, hi = curve[["loss_lower", "loss", "loss_upper"]].iloc[0]
        assert np.isfinite([lo, hi]).all() and abs(loss / truth["loss"] - 1) < 0.03
        covered.append(lo <= truth["loss"] <= hi)
    # measured: 25 of 25 (docs/validation.md table); allow one miss in case a dependency
    # version moves a band edge past a truth that sits near it
    assert len(covered) == 25 and sum(covered) >= 24


def test_an_unmeasured_backtest_warns_without_an_interval() -> None:
    runs, specs = ladder(500, 1000, 2000)
    result = sf.fit(runs, "lr_annealing", schedules=specs)
    check = {**result.options["length_check"], "backtest": None, "note": "too few points"}
    unmeasured = dataclasses.replace(result, options={**result.options, "length_check": check})
    with pytest.warns(ScalingFitWarning, match=r"3\.0x beyond.*could not be measured.*too few"):
        curve = unmeasured.predict_curve(spec(6000), steps=[6000])
    assert list(curve.columns) == ["step", "lr", "loss"]


def searched(result: sf.FitResult, points: pd.DataFrame, specs: dict) -> sf.FitResult:
    """The length check's global search: ``result``'s law on some of its fitted points."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sf.fit(
            points[["run", "step", "loss"]],
            result.law,
            points="all",
            schedules={r: specs[r] for r in pd.unique(points["run"])},
            init=result.params,
            length_check=False,
        )


def test_the_drift_refit_from_the_optimum_is_the_searched_one() -> None:
    """The drift refit is one refine from the fit's optimum, not a search: same optimum."""
    runs, specs = ladder(500, 1000, 2000)
    result = sf.fit(runs, "lr_annealing", schedules=specs)
    drift = result.options["length_check"]["drift"]
    expected = searched(result, result.data[result.data["step"] >= drift["from_step"]], specs)
    # both are the optimum of the same objective to the solver's tolerance (1e-14 on the
    # objective): parameters agree to ~1e-8 here, where the data determine them all
    for name, value in expected.params.items():
        assert drift["params"][name] == pytest.approx(value, rel=1e-5)


def test_a_drift_refine_that_does_not_converge_falls_back_to_the_search(monkeypatch) -> None:
    runs, specs = ladder(500, 1000, 2000)
    result = sf.fit(runs, "lr_annealing", schedules=specs)
    from scaling_fit.fitting import local_refit

    refine, calls = local_refit.refine, []

    def unconverged(problem, start, max_evaluations=None):
        calls.append(len(start))
        return refine(problem, start, max_evaluations=2)  # stops at its evaluation limit

    monkeypatch.setattr(local_refit, "refine", unconverged)
    late = runs[runs["step"] >= 400]
    assert local_refit.refit_from_optimum(result, late, specs) is None
    again = sf.fit(runs, "lr_annealing", schedules=specs)
    assert len(calls) == 2  # the test's call, then the drift's (the backtest is searched)
    for name, value in result.options["length_check"]["drift"]["params"].items():
        assert again.options["length_check"]["drift"]["params"][name] == pytest.approx(
            value, rel=1e-5
        )  # the search reaches the refine's optimum (see the test above)


def test_the_backtest_is_searched_not_refined_from_the_optimum(data_dir) -> None:
    """Luo et al.'s three 16k-step runs, cut at half (before their LR drop): the drop term
    is left undetermined, and a refine from the optimum of all the points (which saw the
    drops) would keep it and backtest too well (+0.5 % where the search gives +4.3 %)."""
    names = [n for n in SPECS if n.startswith("wsdcon")]
    frames = [
        pd.read_csv(data_dir / "multipower_law" / "csv_100" / f"{n}.csv").assign(run=n)
        for n in names
    ]
    runs = pd.concat(frames, ignore_index=True)
    result = sf.fit(runs, "lr_annealing", schedules=SPECS)
    backtest = result.options["length_check"]["backtest"]
    assert backtest["method"] == "every run cut at 50% of the longest"
    half = TRUNCATE * result.options["length_check"]["longest_step"]
    cut = searched(result, result.data[result.data["step"] <= half], SPECS)
    end = runs[runs["run"] == backtest["run"]].iloc[[-1]]
    predicted = cut.predict_curve(SPECS[backtest["run"]], steps=[int(end["step"].iloc[0])])
    # the same search on the same points: the same error to rounding (1e-6 of it)
    error = predicted["loss"].iloc[0] / end["loss"].iloc[0] - 1
    assert backtest["error"] == pytest.approx(error, rel=1e-6)
