"""Curve fits on logs as training loops write them: warm-up in the log, last step = total.

The W&B-style case of issue 8: synthetic curves of a known law, a 1,000-step linear warm-up,
``train/loss`` and ``train/lr`` logged every 10 steps from step 10 to the last step, which
equals the schedule's total.  From the file alone (no flags) the fit must detect the warm-up,
leave its points out, accept the last step, and predict a held-out run about as well as a fit
given the exact schedules.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import scaling_fit as sf
from scaling_fit.fitting import curve_points
from scaling_fit.inputs import lr_column
from scaling_fit.results import curves
from scaling_fit.schedules import from_spec
from scaling_fit.schedules.by_run import as_steps, history_lr

TOTAL, WARMUP, EVERY = 6000, 1000, 10
TRUTH = {
    "lr_annealing": {"L0": 2.5, "A": 0.6, "alpha": 0.5, "C": 0.4},
    "multipower": {
        "L0": 2.37, "A": 0.65, "alpha": 0.43, "B": 520.0, "C": 2.0, "beta": 0.6, "gamma": 0.63
    },
}  # fmt: skip
SPECS = {
    "constant": f"constant:peak=3e-4,total={TOTAL},warmup={WARMUP}",
    "wsd": f"wsd:peak=3e-4,total={TOTAL},warmup={WARMUP},decay=0.2,final=0",
    "cosine": f"cosine:peak=3e-4,total={TOTAL},warmup={WARMUP},final=3e-5",
}
TRAIN = ["constant", "wsd"]
SPARSE = "logged sparsely.*every 10 steps"


def wandb_log(law: str, seed: int = 0, noise: float = 3e-3, every: int = EVERY) -> pd.DataFrame:
    """``run, step, lr, loss`` every 10 steps from 10 to TOTAL, as a W&B export holds them."""
    steps = np.arange(every, TOTAL + 1, every)
    table = pd.concat([pd.DataFrame({"run": n, "step": steps}) for n in SPECS], ignore_index=True)
    clean = curves.predict_runs(sf.FitResult.from_params(law, TRUTH[law]), table, SPECS)
    lrs = [history_lr(from_spec(spec).lr, TOTAL)[steps] for spec in SPECS.values()]
    table["lr"] = np.concatenate(lrs)
    rng = np.random.default_rng(seed)
    return table.assign(loss=clean * np.exp(rng.normal(0.0, noise, len(table))))


def held_out_error(result: sf.FitResult, table: pd.DataFrame) -> float:
    """Mean relative error on the held-out cosine run after warm-up against the noise-free law
    (so that the noise floor does not hide a bias), under its exact schedule."""
    test = table[(table["run"] == "cosine") & (table["step"] > WARMUP)]
    predicted = curves.predict_runs(result, test, SPECS)
    truth = sf.FitResult.from_params(result.law.name, TRUTH[result.law.name])
    return float(np.mean(np.abs(predicted / curves.predict_runs(truth, test, SPECS) - 1.0)))


def wandb_case(law: str) -> None:
    table = wandb_log(law)
    train = table[table["run"].isin(TRAIN)]
    exact = sf.fit(train, law, schedules={n: SPECS[n] for n in TRAIN})
    with pytest.warns(sf.ScalingFitWarning, match=SPARSE):
        logged = sf.fit(train, law)  # no flags beyond the file
    # Warm-up detected from the rising logged LR: steps 10..1000 left out (100 per run).
    assert logged.options["warmup"] == dict.fromkeys(TRAIN, WARMUP + 1)
    assert logged.options["warmup_points_dropped"] == 2 * WARMUP // EVERY
    assert "warm-up 1001 steps (detected from the rising logged LR)" in str(
        logged.options["lr_source"]
    )
    assert train["step"].max() == TOTAL  # the last step (= total) is accepted as logged
    # The goal: held-out error within 2x of the exact-schedule fit (measured: equal
    # to 1e-6 relative, the LR rebuilt from the log is exact but at the warm-up's corner).
    assert held_out_error(logged, table) <= 2.0 * held_out_error(exact, table)


@pytest.mark.slow  # curve-law fits of dense logs, ~0.7-1.4 s
def test_wandb_style_log_fits_like_exact_schedules() -> None:
    wandb_case("lr_annealing")


@pytest.mark.slow
def test_wandb_style_log_fits_like_exact_schedules_multipower() -> None:
    wandb_case("multipower")


@pytest.mark.slow  # curve-law fits of dense logs, ~0.7-1.4 s
def test_warmup_points_would_bias_the_fit() -> None:
    # Why the warm-up is left out: fitting its points biases the held-out prediction (this is
    # what makes the test above able to fail).
    table = wandb_log("lr_annealing")
    train = table[table["run"].isin(TRAIN)]
    with pytest.warns(sf.ScalingFitWarning, match=SPARSE):
        default = sf.fit(train, "lr_annealing")
    with pytest.warns(sf.ScalingFitWarning):  # sparse LR, and maybe a parameter at its bound
        everything = sf.fit(train, "lr_annealing", points="all")
    # Measured: 0.042 % against 0.023 % (1.8x) for this law, whose S1 counts the warm-up at
    # the peak LR; 1.5x leaves room for the noise of one seed.
    assert held_out_error(everything, table) > 1.5 * held_out_error(default, table)


# ------------------------------------------------------------------- LR before the log
def test_log_starting_inside_the_warmup_is_extended_back_linearly() -> None:
    exact = history_lr(from_spec(SPECS["cosine"]).lr, TOTAL)
    steps = np.arange(EVERY, TOTAL + 1, EVERY)
    rebuilt = lr_column.interpolated_lr(steps, exact[steps], warmup=WARMUP)
    assert rebuilt.size == TOTAL + 1
    # Steps 0..10 lie on the warm-up line through the first two logged LRs: exact to rounding.
    np.testing.assert_allclose(rebuilt[: EVERY + 1], exact[: EVERY + 1], rtol=1e-12, atol=1e-20)
    assert lr_column.rising_prefix(rebuilt) == WARMUP + 1  # PCHIP stays monotone to the peak
    # From a fraction of the peak (Schaipp et al.: 1 % of the peak at step 0), clipped at 0.
    ramp = np.linspace(0.01, 1.0, 300)
    logged = np.arange(50, 300, 50)
    rebuilt = lr_column.interpolated_lr(logged, ramp[logged], warmup=300)
    np.testing.assert_allclose(rebuilt[:50], ramp[:50], rtol=1e-12)


def test_declared_warmup_is_the_runs_warmup_length() -> None:
    steps = np.arange(2000, 6001, 100)
    table = pd.DataFrame({"run": "r", "step": steps, "lr": 3e-4, "loss": 3.0})
    # A log starting flat after step 0: the warm-up must be declared, in steps.
    with pytest.raises(
        sf.DataError, match=r"logs 'lr' from step 2000 on, already flat.*warmup= \(--warmup\)"
    ):
        lr_column.lr_source(table, None, None)
    lrs, options, _ = lr_column.lr_source(table, None, 1000)
    assert lr_column.rising_prefix(lrs["r"]) == 1000 and lrs["r"][999] == 3e-4
    assert options["lr_source"]["r"].endswith("warm-up 1000 steps (declared)")
    # A declared warm-up still rising where the log is flat contradicts the log.
    with pytest.raises(
        sf.DataError, match=r"warmup=3000 \(--warmup\) says .* does not rise after .* 2000"
    ):
        lr_column.lr_source(table, None, 3000)
    with pytest.raises(
        sf.DataError, match=r"warmup=-5 \(--warmup\) is not a whole number of steps >= 0"
    ):
        lr_column.lr_source(table, None, -5)


# ------------------------------------------------------------------- last step = total
def test_messages_count_the_warm_up_points_left_out() -> None:
    # The user counts the rows they logged: a fit that left some out as warm-up says so.
    spec = "cosine:peak=3e-4,total=20000,warmup=1000"
    few = pd.DataFrame({"run": "r", "step": [500, 2000, 3000], "loss": [4.0, 3.8, 3.7]})
    with pytest.raises(
        sf.DataError,
        match=r"2 points \(1 warm-up point\(s\) left out, step <= warmup; points='all' "
        r"\(--points\) keeps them\) cannot determine 4 free parameters",
    ):
        sf.fit(few, "lr_annealing", schedules=spec)
    early = few[few["step"] < 1000]
    with pytest.raises(sf.DataError, match=r"no points left: all 1 logged point\(s\) lie in"):
        sf.fit(early, "lr_annealing", schedules=spec)


def test_last_step_equal_to_total_is_the_end_of_training() -> None:
    lr = from_spec(SPECS["wsd"]).lr
    np.testing.assert_array_equal(as_steps([0, TOTAL], TOTAL), [0, TOTAL])
    with pytest.raises(sf.DataError, match=r"step 6001 lies outside .* 0\.\.6000"):
        as_steps([TOTAL + 1], TOTAL, "r")
    extended = history_lr(lr, TOTAL)
    assert extended.size == TOTAL + 1 and extended[-1] == lr[-1]
    assert history_lr(lr, TOTAL) is extended and history_lr(lr, TOTAL - 1) is lr  # cached
    result = sf.FitResult.from_params("multipower", TRUTH["multipower"])
    curve = result.predict_curve(SPECS["wsd"], every=500)
    assert curve["step"].iloc[-1] == TOTAL and curve["lr"].iloc[-1] == lr[-1]
    # One more step at the final LR (2.5e-7) moves the loss by < 1e-5 (measured 1.7e-6).
    assert curve["loss"].iloc[-1] == pytest.approx(
        result.predict_curve(SPECS["wsd"], [TOTAL - 1])["loss"].iloc[0], rel=1e-5
    )


# ------------------------------------------------------------------- dense logs
def test_dense_runs_are_binned_into_means_of_consecutive_points() -> None:
    dense = pd.DataFrame({"run": "d", "step": np.arange(1, 1001), "loss": np.arange(1.0, 1001.0)})
    sparse = pd.DataFrame({"run": "s", "step": np.arange(1, 301), "loss": 2.0})
    binned, notes = curve_points.bin_dense_runs(pd.concat([sparse, dense], ignore_index=True))
    assert notes == {"d": "1000 points -> 200 bins of 5-5"}
    assert len(binned) == 300 + curve_points.BINS  # the 300-point run is fitted as logged
    d = binned[binned["run"] == "d"]
    # Bin k holds steps 5k+1..5k+5: mean step (and loss) 5k+3, exactly.
    np.testing.assert_array_equal(d["step"], np.arange(200) * 5 + 3)
    np.testing.assert_array_equal(d["loss"], np.arange(200) * 5 + 3.0)
    odd, _ = curve_points.bin_dense_runs(dense.iloc[:457])  # 457 = 200 bins of 2 or 3
    assert len(odd) == 200 and odd["step"].is_monotonic_increasing


def dense_log(seed: int) -> pd.DataFrame:
    """Every step 0..6000 of the three runs, 2 % log-normal noise like a per-step train loss."""
    steps = np.arange(0, TOTAL + 1)
    table = pd.concat([pd.DataFrame({"run": n, "step": steps}) for n in SPECS], ignore_index=True)
    truth = sf.FitResult.from_params("lr_annealing", TRUTH["lr_annealing"])
    rng = np.random.default_rng(seed)
    clean = curves.predict_runs(truth, table, SPECS)
    return table.assign(loss=clean * np.exp(rng.normal(0.0, 2e-2, len(table))))


def binned_and_unbinned(seed: int) -> tuple[sf.FitResult, sf.FitResult, pd.DataFrame]:
    table = dense_log(seed)
    train, specs = table[table["run"].isin(TRAIN)], {n: SPECS[n] for n in TRAIN}
    binned = sf.fit(train, "lr_annealing", schedules=specs)
    unbinned = sf.fit(train, "lr_annealing", schedules=specs, points="unbinned")
    return binned, unbinned, table


@pytest.mark.slow  # curve-law fits of dense logs, ~0.7-1.4 s
def test_dense_log_fit_is_binned_by_default_and_says_so() -> None:
    # 5,000 points per run after the warm-up, binned to 200.
    binned, unbinned, _ = binned_and_unbinned(seed=0)
    assert binned.n_points == 2 * curve_points.BINS
    assert binned.options["binned"] == dict.fromkeys(TRAIN, "5000 points -> 200 bins of 25-25")
    assert "2 dense run(s) binned" in binned.options["points_note"]
    assert unbinned.n_points == 2 * 5000 and unbinned.options["binned"] == {}


@pytest.mark.slow
def test_binning_averages_noise_without_bias() -> None:
    # Held-out error of the binned fit against the unbinned one, mean over 4 seeds (one seed
    # varies 0.3x-2.5x either way). Measured: 0.00077 binned, 0.00088 unbinned.
    errors = []
    for seed in range(4):
        binned, unbinned, table = binned_and_unbinned(seed)
        errors.append([held_out_error(binned, table), held_out_error(unbinned, table)])
    binned_error, unbinned_error = np.mean(errors, axis=0)
    assert binned_error <= 1.25 * unbinned_error


@pytest.mark.slow  # ~2 s of multi-start fits: the full suite (CI) runs it
def test_a_stalled_start_below_every_converged_one_is_the_fit(refined_starts: list) -> None:
    # Sparse noisy logs (every 30 steps, 1 % noise) of a multi-power law: most starts stall
    # on the valley of G's exponential limit at a lower objective than the three that
    # converge (measured 0.002499 against 0.002736). The fit is the lowest objective found,
    # not the worse converged local optimum it used to report.
    table = wandb_log("multipower", noise=1e-2, every=30)
    with pytest.warns(sf.ScalingFitWarning):
        fitted = sf.fit(table[table["run"].isin(TRAIN)], "multipower")
    converged = min(s.objective for s in refined_starts if s.converged)
    assert fitted.objective == min(s.objective for s in refined_starts if s.usable)
    assert fitted.objective < 0.95 * converged  # measured 0.913x
    assert not fitted.converged


@pytest.mark.slow  # ~2.5 s of multi-start fits: the full suite (CI) runs it
def test_a_marginally_lower_valley_does_not_displace_a_finite_optimum(
    data_dir, refined_starts: list
) -> None:
    # The W&B example (22 points of three runs, --warmup 500): one start creeps down a valley
    # 0.17 % below the converged optimum (a chi-square drop of 0.04, far from significant)
    # to L0 = 0.15, C = 2.6e-27. The fit keeps the finite optimum (L0 = 2.41).
    log = sf.load_runs(str(data_dir / "examples" / "wandb_history.csv"))
    with pytest.warns(sf.ScalingFitWarning):  # sparse LR, unidentified shape parameters
        fitted = sf.fit(log, "multipower", warmup=500)
    stalled = [s.objective for s in refined_starts if s.stalled]
    assert stalled and min(stalled) < fitted.objective  # the valley is lower, marginally
    assert fitted.converged and fitted.params["L0"] == pytest.approx(2.405, rel=1e-3)
