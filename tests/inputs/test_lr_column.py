"""Curve data from the runs table's ``lr`` column, FitResult.predict_curve, curve bootstrap.

Real data: ``data/multipower_law`` (Luo et al. 2025, arXiv:2503.12811; SOURCE.md there), whose
CSVs log ``step, lr, loss`` every 128 steps from step 2160/2176, after a 2160-step warm-up.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from multipower_data import SPECS, TEST, TRAIN

import scaling_fit as sf
from scaling_fit.fitting.bootstrap import resample_indices
from scaling_fit.inputs import lr_column
from scaling_fit.results import curves
from scaling_fit.schedules import forward_area, from_spec

WARMUP = 2160  # SOURCE.md: linear warm-up 0 -> 3e-4 over 2,160 steps
SPARSE = "logged sparsely.*every 128 steps"


def curves_of(data_dir: Path, size: int, names: list[str]) -> pd.DataFrame:
    paths = [data_dir / "multipower_law" / f"csv_{size}" / f"{n}.csv" for n in names]
    return sf.load_runs([str(p) for p in paths])


def pred_e(result: sf.FitResult, table: pd.DataFrame) -> float:
    """PredE: mean over curves of the mean relative error, under the EXACT schedules."""
    predicted = curves.predict_runs(result, table, SPECS)
    rel = pd.Series(np.abs(predicted - table["loss"]) / table["loss"])
    return float(rel.groupby(table["run"]).mean().mean())


# ------------------------------------------------------------------- interpolation
def test_interpolation_conventions() -> None:
    steps = np.arange(100, 900, 100)
    lr = np.array([3.0, 3.0, 2.75, 2.5, 2.25, 2.0, 2.0, 2.0])  # flat, linear fall, flat
    out = lr_column.interpolated_lr(steps, lr, warmup=50)
    assert out.size == 801
    # Warm-up as schedules.py builds it: linspace(0, first LR, w) on lr[:w].
    np.testing.assert_array_equal(out[:50], np.linspace(0, 3.0, 50))
    assert out[0] == 0 and out[49] == 3.0 and np.all(out[50:201] == 3.0)
    # Inside the linear stretch (knots whose slopes agree on both sides) PCHIP is the line;
    # its first and last intervals are rounded (slope 0 at the kink), within the two lines.
    np.testing.assert_allclose(out[300:501], np.linspace(2.75, 2.25, 201), rtol=1e-12)
    assert np.all((out[200:300] <= 3.0) & (out[200:300] >= np.linspace(3.0, 2.75, 101)[:-1]))
    assert np.all(out[600:] == 2.0)
    assert np.all(lr_column.interpolated_lr(steps, lr, warmup=0)[:100] == 3.0)  # no warm-up
    # A change between two flat stretches is a stage switch at the later logged step.
    switch = np.array([3.0, 3.0, 3.0, 1.0, 1.0, 1.0])
    out = lr_column.interpolated_lr(steps[:6], switch, warmup=0)
    assert np.all(out[:400] == 3.0) and np.all(out[400:] == 1.0)
    np.testing.assert_array_equal(lr_column.stage_switches(switch), [2])


def test_interpolation_stays_between_logged_values() -> None:
    exact = from_spec("cosine:peak=3e-4,total=9000,warmup=500,final=0").lr
    steps = np.arange(500, 9000, 256)
    out = lr_column.interpolated_lr(steps, exact[steps], warmup=500)
    assert np.all(np.diff(out[500:]) <= 0)  # monotone cubic: no overshoot of a decay
    # Cubic error ~ h^4 f''''/384 with h = 256: measured 1.5e-8 (5e-5 of peak) here,
    # where straight lines are off by 9e-7.
    assert np.abs(out - exact[: out.size]).max() < 1e-7


@pytest.mark.parametrize("size", [25, 100, 400])
def test_sparse_logs_rebuild_the_exact_schedules(data_dir: Path, size: int) -> None:
    table = curves_of(data_dir, size, list(SPECS))
    lrs, options, messages = lr_column.lr_source(table, None, WARMUP)
    assert len(messages) == 1 and "every 128 steps" in messages[0]
    source = options["lr_source"]["cosine_24000"]
    assert source == "interpolated from every-128-step log; warm-up 2160 steps (declared)"
    for name, lr in lrs.items():
        exact = from_spec(SPECS[name]).lr[: lr.size]
        error = np.abs(lr - exact).max()
        area = np.abs(forward_area(lr) - forward_area(exact)).max()
        if name.startswith(("constant", "wsdcon")):
            # Warm-up, plateau and stage switch are rebuilt exactly (to float rounding of
            # the logged k*1e-5 values).
            assert error < 1e-18 and area < 1e-15, name
        elif name.startswith("cosine"):
            assert error < 1e-8 and area < 1e-6, name  # measured 1.7e-9 / 1.2e-7
        else:
            # WSD: the 25M logs skip the decay start (a 224-step gap); measured 7.8e-6 LR
            # (2.6 % of peak at one step) and 8.7e-4 of S1 (~3e-4 relative).
            assert error < 1e-5 and area < 1e-3, name


# ------------------------------------------------------------------- fits from the CSVs
@pytest.mark.parametrize("size", [25, 100, 400])
def test_annealing_law_from_logged_lr_matches_exact_schedules(data_dir: Path, size: int) -> None:
    train, test = curves_of(data_dir, size, TRAIN), curves_of(data_dir, size, TEST)
    exact = sf.fit(train, "lr_annealing", schedules=SPECS)
    with pytest.warns(sf.ScalingFitWarning, match=SPARSE):
        logged = sf.fit(train, "lr_annealing", warmup=WARMUP)
    # The issue asks for 3 %; measured ratio 1.0000 (identical to 4 digits) for each size.
    assert pred_e(logged, test) == pytest.approx(pred_e(exact, test), rel=0.03)
    assert logged.options["warmup_points_dropped"] == exact.options["warmup_points_dropped"] == 1
    ignored = "schedules= (the table's 'lr' column was ignored: schedules= wins)"
    assert exact.options["lr_source"] == ignored
    back = sf.FitResult.from_json(logged.to_json())
    assert back.options["lr_source"] == logged.options["lr_source"]


def multipower_case(data_dir: Path, size: int) -> None:
    train, test = curves_of(data_dir, size, TRAIN), curves_of(data_dir, size, TEST)
    exact = sf.fit(train, "multipower", schedules=SPECS)
    with pytest.warns(sf.ScalingFitWarning, match=SPARSE):
        logged = sf.fit(train, "multipower", warmup={n: WARMUP for n in TRAIN})
    # The issue asks for 3 %; measured 0.001370 / 0.001652 / 0.002149 both ways (25M /
    # 100M / 400M).  With straight-line interpolation, the 64-step ramp smearing wsdcon_9's
    # stage switch moved the 25M fit to another near-flat optimum: PredE 1.30x.
    assert pred_e(logged, test) == pytest.approx(pred_e(exact, test), rel=0.03)
    assert logged.converged


@pytest.mark.slow
@pytest.mark.parametrize("size", [25, 400])
def test_multipower_from_logged_lr_matches_exact_schedules(data_dir: Path, size: int) -> None:
    multipower_case(data_dir, size)


@pytest.mark.slow
@pytest.mark.slow
def test_multipower_from_logged_lr_matches_exact_schedules_100m(data_dir: Path) -> None:
    multipower_case(data_dir, 100)


# ------------------------------------------------------------------- exact per-step LR
TRUTH = {"L0": 2.5, "A": 0.6, "alpha": 0.5, "C": 0.4}  # lr_annealing, plausible values
SYNTHETIC = {
    "constant": "constant:peak=3e-4,total=12000,warmup=1000",
    "cosine": "cosine:peak=3e-4,total=12000,warmup=1000,final=3e-5",
    "wsd_exp": "wsd:peak=3e-4,total=12000,warmup=1000,decay=0.25,final=3e-5,shape=exp",
    "wsd_lin": "wsd:peak=3e-4,total=12000,warmup=1000,decay=0.2,final=0",
    "two_stage": "multistage:peak=3e-4,total=12000,warmup=1000,stages=6000@6e-5",
    "step": "step:peak=3e-4,total=12000,warmup=1000,every=4000,factor=0.5",
}


def synthetic(steps: np.ndarray, names: list[str], seed: int, noise: float) -> pd.DataFrame:
    """Curves of the lr_annealing law at TRUTH with log-normal noise, and their LR column."""
    table = pd.concat([pd.DataFrame({"run": n, "step": steps}) for n in names], ignore_index=True)
    clean = curves.predict_runs(sf.FitResult.from_params("lr_annealing", TRUTH), table, SYNTHETIC)
    rng = np.random.default_rng(seed)
    table["lr"] = np.concatenate([from_spec(SYNTHETIC[n]).lr[steps] for n in names])
    return table.assign(loss=clean * np.exp(rng.normal(0, noise, len(table))))


def test_lr_logged_every_step_is_used_as_is() -> None:
    # Every step 0..7999 of 12000-step schedules: the LR column holds lr[:8000] exactly.
    table = synthetic(np.arange(8000), ["cosine", "two_stage"], seed=3, noise=1e-3)
    sparse = "step % 40 != 0"  # fit every 40th point; excluded rows still give their LR
    from_column = sf.fit(table, "lr_annealing", exclude=sparse)  # no warning: none interpolated
    sources = from_column.options["lr_source"]
    every_step = "logged every step; warm-up 1000 steps (its rising part)"
    assert sources == {"cosine": every_step, "two_stage": every_step}
    given = sf.fit(table, "lr_annealing", schedules=SYNTHETIC, exclude=sparse)
    # Same LR arrays, same points (warm-up = the arrays' rising prefix = 1000 steps).
    assert from_column.n_points == given.n_points == 2 * 174  # steps 1040..7960
    for name, value in given.params.items():
        assert from_column.params[name] == pytest.approx(value, rel=1e-9), name


# ------------------------------------------------------------------- bad input
def test_bad_lr_column_messages(data_dir: Path) -> None:
    train = curves_of(data_dir, 25, TRAIN)
    with pytest.raises(
        sf.DataError,
        match=r"'cosine_24000' logs 'lr' from step 2160.*warmup= \(--warmup\).*\(N <= 2160",
    ):
        sf.fit(train, "lr_annealing")
    with pytest.raises(
        sf.DataError, match=r"'constant_24000': warmup=2200 \(--warmup\) .* 0\.\.2176"
    ):
        sf.fit(train, "lr_annealing", warmup={**dict.fromkeys(TRAIN, 2160), "constant_24000": 2200})
    with pytest.raises(sf.DataError, match=r"warmup='long' \(--warmup\) is not a whole number"):
        sf.fit(train, "lr_annealing", warmup="long")
    with pytest.raises(sf.DataError, match="logs 'lr' from step 2176"):
        sf.fit(train, "lr_annealing", warmup={"cosine_24000": 2160})  # others undeclared
    with pytest.raises(
        sf.DataError,
        match=r"with schedules= \(--schedule/--schedules\) the warm-up is in each schedule spec",
    ):
        sf.fit(train, "lr_annealing", schedules=SPECS, warmup=WARMUP)
    with pytest.raises(sf.DataError, match=r"warmup= \(--warmup\) is for loss-curve laws"):
        sf.fit(train.assign(n_params=1e8, tokens=1e9), "chinchilla", warmup=WARMUP)
    holes = train.copy()
    holes.loc[5, "lr"] = np.nan
    step = holes.loc[5, "step"]
    with pytest.raises(sf.DataError, match=rf"'cosine_24000': column 'lr' is nan at step {step}"):
        sf.fit(holes, "lr_annealing", warmup=WARMUP)
    twice = pd.concat([train, train.iloc[[3]]])
    with pytest.raises(sf.DataError, match=r"step \d+ is logged twice"):
        sf.fit(twice, "lr_annealing", warmup=WARMUP)
    no_lr = train.drop(columns="lr")
    with pytest.raises(
        sf.DataError,
        match=r"pass schedules= \(--schedule/--schedules\).*or give the runs table an 'lr'",
    ):
        sf.fit(no_lr, "lr_annealing")


# ------------------------------------------------------------------- predict_curve
@pytest.fixture(scope="module")
def boot_fit() -> sf.FitResult:
    table = synthetic(np.arange(1100, 12000, 100), list(SYNTHETIC), seed=0, noise=3e-3)
    return sf.fit(table, "lr_annealing", schedules=SYNTHETIC, bootstrap=50, seed=0)


PROBE = "wsd:peak=3e-4,total=16000,warmup=1000,decay=0.3,final=3e-5,shape=sqrt"


def test_predict_curve_method_and_band(boot_fit: sf.FitResult) -> None:
    # PROBE is longer than the fitted runs: the method adds the length interval and warns
    # (tests/fitting/test_length_extrapolation.py); the module function predicts the bare curve
    with pytest.warns(sf.ScalingFitWarning, match="beyond the longest fitted run"):
        curve = boot_fit.predict_curve(PROBE, every=500)
    bare = curves.predict_curve(boot_fit, PROBE, every=500)
    pd.testing.assert_frame_equal(curve[["step", "lr", "loss"]], bare)
    with pytest.warns(sf.ScalingFitWarning, match="beyond the longest fitted run"):
        banded = boot_fit.predict_curve(PROBE, every=500, level=0.95)
    assert list(banded.columns) == [
        "step", "lr", "loss", "loss_lower", "loss_upper", "loss_lo", "loss_hi"
    ]  # fmt: skip
    assert np.all(banded["loss_lo"] < banded["loss_hi"])
    true = sf.FitResult.from_params("lr_annealing", TRUTH).predict_curve(PROBE, every=500)
    inside = (banded["loss_lo"] <= true["loss"]) & (true["loss"] <= banded["loss_hi"])
    # Extrapolating to an unseen schedule 4000 steps longer: over 30 seeds the 95 % band
    # held the true curve at 86 % of steps on average (0.88 for this seed).
    assert inside.mean() >= 0.8
    # The band is a bootstrap spread, not a blanket: a few per mille of the loss.
    assert np.all((banded["loss_hi"] - banded["loss_lo"]) / banded["loss"] < 0.01)
    with pytest.raises(sf.DataError, match=r"predict_curve\(level=...\) needs bootstrap"):
        sf.FitResult.from_params("lr_annealing", TRUTH).predict_curve(PROBE, level=0.9)


def test_point_predictions_of_a_curve_law_point_to_predict_curve(boot_fit: sf.FitResult) -> None:
    with pytest.raises(sf.DataError, match=r"loss-curve law.*Use predict_curve\(schedule"):
        boot_fit.predict(step=[1000, 2000])
    with pytest.raises(sf.DataError, match="predict_interval does not apply"):
        boot_fit.predict_interval(step=1000)


# ------------------------------------------------------------------- bootstrap over curves
def test_bootstrap_resamples_whole_curves() -> None:
    runs = np.repeat(["a", "b", "c", "d", "e", "f"], [3, 4, 5, 6, 7, 8])
    for index in resample_indices(runs, 20, seed=1):
        drawn = pd.Series(runs[index]).value_counts()
        full = pd.Series(runs).value_counts()
        # Each drawn curve comes whole (a multiple of its size), six curves per resample.
        assert all(drawn[r] % full[r] == 0 for r in drawn.index)
        assert sum(drawn[r] // full[r] for r in drawn.index) == 6


def coverage(seeds: range) -> int:
    """Parameter intervals (95 %) of curve-bootstrap fits that contain the truth."""
    hits = 0
    steps = np.arange(1100, 12000, 100)
    for seed in seeds:
        table = synthetic(steps, list(SYNTHETIC), seed=seed, noise=3e-3)
        fit = sf.fit(table, "lr_annealing", schedules=SYNTHETIC, bootstrap=50, seed=seed)
        for name, (lo, hi) in fit.interval(0.95).items():
            # Real, informative intervals: measured widths 1-13 % of the value.
            assert 0 < hi - lo < 0.2 * TRUTH[name], name
            hits += lo <= TRUTH[name] <= hi
    return hits


@pytest.mark.slow  # a curve bootstrap (~2.5 s); the seeds-coverage version is slow too
def test_curve_bootstrap_intervals_contain_truth(boot_fit: sf.FitResult) -> None:
    assert boot_fit.samples.shape == (50, 4) and np.isfinite(boot_fit.samples).all()
    # 6 noisy curves, 50 resamples: 19 of 20 intervals (5 seeds x 4 parameters) hold the
    # truth; at the 90 % coverage measured over 30 seeds, < 16 has probability ~4 %.
    assert coverage(range(5)) >= 16


@pytest.mark.slow
@pytest.mark.slow
def test_curve_bootstrap_coverage_over_seeds() -> None:
    # Measured 108 of 120 (90 %): resampling 6 curves slightly under-covers nominal 95 %.
    assert coverage(range(30)) >= 100
