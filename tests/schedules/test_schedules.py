"""Tests of scaling_fit.schedules: builders, specs, the MultiPowerLaw schedules, features, plot.

Tolerances
----------
* Closed-form LR values: rtol 1e-14.  Each value is a handful of float64 operations
  (a cos, a pow or a sqrt and a few products), so the error is a few ulp (~1e-16 each).
* MultiPowerLaw CSVs: rtol 1e-12.  The CSV ``lr`` column holds float64 values written with
  17 significant digits by the authors' code; we evaluate the same formulas, measured agreement
  is <= 2e-15.  1e-12 leaves margin for libm differences yet is far below what an off-by-one
  step produces (>= 6e-5 relative on the cosine and WSD files, a factor >= 1.7 at the wsdcon
  switch).
* Features against the naive double loop: atol 1e-12 x max|reference|.  Both sum the same
  terms in a different order (the filter multiplies by λ step by step, the loop uses λ**j), so
  they differ by rounding only: about n·eps ≈ 1e-13 relative to the largest partial sum for
  n <= 1000 steps.  Scaling by the largest value (not elementwise) because S₂ crosses or sits
  at zero where a relative error is meaningless.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from multipower_data import SPECS

from scaling_fit.errors import DataError
from scaling_fit.plotting import plot_schedule
from scaling_fit.schedules import (
    FAMILIES,
    Schedule,
    annealing_area,
    as_schedule,
    constant,
    cosine,
    forward_area,
    from_spec,
    inverse_sqrt,
    linear,
    lr_for_annealing_law,
    multistage,
    step_decay,
    wsd,
)

PEAK, FINAL, WARMUP = 3e-4, 3e-5, 2160


def mpl_csv(data_dir: Path, size: int, name: str) -> pd.DataFrame:
    return pd.read_csv(data_dir / "multipower_law" / f"csv_{size}" / f"{name}.csv")


# --------------------------------------------------------------------- naive references
def naive_forward_area(lr: np.ndarray) -> np.ndarray:
    """S₁(s) = Σ_{i≤s} η_i, one inner loop per s: O(n²)."""
    out = np.zeros(lr.size)
    for s in range(lr.size):
        for i in range(s + 1):
            out[s] += lr[i]
    return out


def naive_annealing_area(lr: np.ndarray, lam: float) -> np.ndarray:
    """S₂(s) = Σ_{i≤s} Σ_{k≤i} (η_{k−1} − η_k)·λ^{i−k} with η_0 = η_1, term by term: O(n²)."""
    eta = np.concatenate(([lr[0]], lr))  # eta[k] is η_k, 1-based, η_0 = η_1
    n, total, out = lr.size, 0.0, np.zeros(lr.size)
    for i in range(1, n + 1):
        m_i = sum((eta[k - 1] - eta[k]) * lam ** (i - k) for k in range(1, i + 1))
        total += m_i
        out[i - 1] = total
    return out


def assert_close_to_scale(got: np.ndarray, ref: np.ndarray) -> None:
    # 1e-12 of the largest value: see the module docstring.
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12 * np.max(np.abs(ref)))


# ------------------------------------------------------------------------------ builders
def test_warmup_is_linspace_from_zero_to_peak_exactly() -> None:
    for sched in (constant(PEAK, 3000, warmup=WARMUP), cosine(PEAK, 3000, warmup=WARMUP)):
        np.testing.assert_array_equal(sched.lr[:WARMUP], np.linspace(0, PEAK, WARMUP))
        assert sched.lr[0] == 0.0 and sched.lr[WARMUP - 1] == PEAK and sched.warmup == WARMUP


def test_constant_linear_and_step_values() -> None:
    np.testing.assert_array_equal(constant(0.5, 4).lr, [0.5] * 4)
    np.testing.assert_allclose(linear(1.0, 5).lr, [1.0, 0.8, 0.6, 0.4, 0.2], rtol=1e-14)
    np.testing.assert_allclose(linear(1.0, 4, final=0.2).lr, [1.0, 0.8, 0.6, 0.4], rtol=1e-14)
    lr = step_decay(1.0, 9, every=3, factor=0.5, warmup=2).lr
    np.testing.assert_allclose(lr[2:], [1, 1, 1, 0.5, 0.5, 0.5, 0.25], rtol=1e-14)


def test_cosine_values() -> None:
    lr = cosine(1.0, 110, final=0.1, warmup=10).lr
    assert lr[10] == pytest.approx(1.0, rel=1e-14)
    assert lr[60] == pytest.approx(0.55, rel=1e-14)  # half-way: (peak + final) / 2
    assert lr[85] == pytest.approx(0.1 + 0.45 * (1 + np.cos(0.75 * np.pi)), rel=1e-14)


@pytest.mark.parametrize(
    ("shape", "quarter", "half"),
    [
        ("linear", 0.75 * 1.0 + 0.25 * 0.01, 0.505),
        ("exp", 0.01**0.25, 0.1),  # geometric: peak^(3/4)·final^(1/4); half-way √(peak·final)
        ("sqrt", 0.01 + 0.99 * 0.5, 0.01 + 0.99 * (1 - np.sqrt(0.5))),
        ("cosine", 0.01 + 0.495 * (1 + np.cos(np.pi / 4)), 0.505),
    ],
)
def test_wsd_shapes(shape: str, quarter: float, half: float) -> None:
    lr = wsd(1.0, 1000, decay=400, final=0.01, shape=shape, warmup=100).lr
    np.testing.assert_array_equal(lr[100:601], 1.0)  # stable until d = 600, decay starts at peak
    assert lr[700] == pytest.approx(quarter, rel=1e-14)
    assert lr[800] == pytest.approx(half, rel=1e-14)
    assert np.all(np.diff(lr[600:]) < 0)


def test_wsd_decay_fraction_and_steps() -> None:
    by_fraction = wsd(PEAK, 24000, decay=0.2, final=FINAL, warmup=WARMUP)
    by_steps = wsd(PEAK, 24000, decay=4800, final=FINAL, warmup=WARMUP)
    np.testing.assert_array_equal(by_fraction.lr, by_steps.lr)
    assert by_fraction.lr[19200] == PEAK and by_fraction.lr[19201] < PEAK  # d = 24000 − 4800
    assert by_fraction.settings["decay"] == 0.2 and by_steps.settings["decay"] == 4800


def test_multistage_and_inverse_sqrt() -> None:
    lr = multistage(1.0, 10, [(4, 0.5), (7, 0.1)], warmup=2).lr
    np.testing.assert_array_equal(lr, [0, 1, 1, 1, 0.5, 0.5, 0.5, 0.1, 0.1, 0.1])
    lr = inverse_sqrt(1.0, 100, warmup=10).lr  # peak·√(w/t) with t = steps taken
    assert lr[10] == 1.0 and lr[40] == pytest.approx(0.5, rel=1e-14)
    assert inverse_sqrt(1.0, 10, timescale=4).lr[4] == pytest.approx(np.sqrt(0.5), rel=1e-14)


# -------------------------------------------------------------------- MultiPowerLaw data
@pytest.mark.parametrize("size", [25, 100, 400])
@pytest.mark.parametrize("name", sorted(SPECS))
def test_mpl_schedules_match_logged_lr(data_dir: Path, size: int, name: str) -> None:
    df = mpl_csv(data_dir, size, name)
    sched = from_spec(SPECS[name])
    # The CSV's `step` t is the number of steps taken: its LR is lr[t] (1-based step t + 1).
    np.testing.assert_allclose(sched.lr[df["step"].to_numpy()], df["lr"], rtol=1e-12)


@pytest.mark.parametrize("name", ["cosine_24000", "wsd_20000_24000", "wsdcon_9"])
def test_mpl_index_convention_is_not_off_by_one(data_dir: Path, name: str) -> None:
    df = mpl_csv(data_dir, 400, name)
    shifted = from_spec(SPECS[name]).lr[df["step"].to_numpy() - 1]
    assert np.max(np.abs(shifted / df["lr"] - 1)) > 5e-5  # lr[t − 1] is the wrong index


def test_mpl_builders_equal_specs() -> None:
    k = 9
    built = multistage(PEAK, 16000, [(8000, k * 1e-5)], warmup=WARMUP)
    np.testing.assert_allclose(built.lr, from_spec(SPECS["wsdcon_9"]).lr, rtol=1e-15)
    assert built.lr[7999] == PEAK and built.lr[8000] == pytest.approx(9e-5, rel=1e-15)


# --------------------------------------------------------------------------------- specs
@pytest.mark.parametrize(
    "spec",
    [
        *SPECS.values(),
        "wsd:peak=3e-4,total=24000,warmup=2160,decay=0.2,final=3e-5,shape=linear",
        "wsd:peak=1e-3,total=500,decay=100,shape=sqrt",
        "multistage:peak=3e-4,total=16000,warmup=2160,stages=8000@9e-5;12000@3e-5+14000@1e+0",
        "step:peak=1e-3,total=300,warmup=10,every=50,factor=0.5",
        "invsqrt:peak=1e-3,total=300,warmup=10",
        "linear: peak = 1e-3, total = 300, final = 1e-4",
    ],
)
def test_spec_round_trip(spec: str) -> None:
    sched = from_spec(spec)
    again = from_spec(sched.spec)
    np.testing.assert_array_equal(again.lr, sched.lr)
    assert again.spec == sched.spec and sched.name == spec.split(":")[0]
    assert sched.total == sched.lr.size == int(sched.settings["total"])


def test_spec_stages_allow_semicolon_plus_and_exponent_plus() -> None:
    sched = from_spec("multistage:peak=2,total=10,stages=3@1e+0;5@0.5+8@0")
    np.testing.assert_array_equal(sched.lr, [2, 2, 2, 1, 1, 0.5, 0.5, 0.5, 0, 0])
    assert sched.settings["stages"] == ((3, 1.0), (5, 0.5), (8, 0.0))


@pytest.mark.parametrize(
    ("spec", "pattern"),
    [
        ("bogus:peak=1,total=5", r"family in constant, cosine, linear, wsd, multistage, step"),
        ("cosine peak=1", r"expected 'family:key=value,\.\.\.'"),
        ("cosine:peak=1,total=5,decay=2", r"keys of cosine: peak, total, warmup, final.*decay=2"),
        ("cosine:peak=1,total=5,peak=2", r"each key once.*'peak=2'"),
        ("cosine:peak=1,total", r"key=value.*found 'total'"),
        ("cosine:peak=3e-4,warmup=10", r"the keys peak, total; found 'no total'.*add total="),
        ("wsd:peak=1,total=50", r"the keys peak, total, decay; found 'no decay'"),
        ("cosine:peak=3e_4,total=5", r"peak = a number; found '3e_4'"),
        ("multistage:peak=1,total=9,stages=4:0.1", r"start@lr items joined by ';' or '\+'"),
        ("multistage:peak=1,total=9,stages=4@0.1;2@0.2", r"starts whole, increasing"),
        ("cosine:peak=1,total=10.5", r"total = a whole number of steps.*found 10\.5"),
        ("cosine:peak=1,total=10,warmup=10", r"warmup = a whole number of steps in \[0, 9\]"),
        ("cosine:peak=0,total=10", r"peak \(the LR after warm-up\) = a finite number > 0"),
        ("cosine:peak=1,total=10,final=2", r"final in \[0, peak=1\.0\]; found 2\.0"),
        ("wsd:peak=1,total=10,decay=20", r"decay of 1\.\.total-warmup = 10 steps"),
        ("wsd:peak=1,total=10,decay=3,shape=poly", r"shape in linear, exp, sqrt, cosine"),
        ("wsd:peak=1,total=10,decay=3,shape=exp", r"final > 0 for shape=exp"),
        ("step:peak=1,total=10,every=0", r"every = a whole number of steps in \[1, inf\]"),
    ],
)
def test_bad_specs_say_what_was_expected_and_found(spec: str, pattern: str) -> None:
    with pytest.raises(DataError, match=pattern) as info:
        from_spec(spec)
    assert "Fix:" in str(info.value) and isinstance(info.value, ValueError)


def test_families_table_lists_every_builder() -> None:
    assert sorted(FAMILIES) == sorted(
        ["constant", "cosine", "linear", "wsd", "multistage", "step", "invsqrt"]
    )


# --------------------------------------------------------------------------- as_schedule
def test_as_schedule_accepts_every_form() -> None:
    sched = cosine(1.0, 50, final=0.1)
    assert as_schedule(sched) is sched
    from_string = as_schedule("cosine:peak=1,final=0.1", total=50)
    np.testing.assert_array_equal(from_string.lr, sched.lr)
    from_array = as_schedule(list(sched.lr))
    np.testing.assert_array_equal(from_array.lr, sched.lr)
    assert (from_array.name, from_array.spec, from_array.warmup) == ("custom", "", 0)
    # a callable receives the 1-based steps 1..total
    np.testing.assert_array_equal(
        as_schedule(lambda s: s * 1e-3, total=4).lr, [1e-3, 2e-3, 3e-3, 4e-3]
    )
    np.testing.assert_array_equal(as_schedule(lambda s: 0.1, total=3).lr, [0.1, 0.1, 0.1])


@pytest.mark.parametrize(
    ("obj", "total", "pattern"),
    [
        (lambda s: s, None, r"total \(steps\) with a callable"),
        ([1e-3, 1e-3], 3, r"expected total=3 steps; found '2 steps'"),
        ("constant:peak=1,total=4", 5, r"expected total=5 steps; found '4 steps'"),
        ([1e-3, -1e-3], None, r"finite learning rates >= 0"),
        ([[1e-3]], None, r"non-empty 1-D array"),
        ({"lr": 1}, None, r"non-empty 1-D array.*dict"),
        (lambda s: s[:2], 4, r"expected total=4 steps; found '2 steps'"),
    ],
)
def test_as_schedule_rejects(obj: object, total: int | None, pattern: str) -> None:
    with pytest.raises(DataError, match=pattern):
        as_schedule(obj, total=total)


def test_schedule_is_frozen_and_read_only() -> None:
    sched = constant(1.0, 3)
    with pytest.raises(FrozenInstanceError):
        sched.lr = np.zeros(3)  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        sched.lr[0] = 5.0
    custom = Schedule("custom", {}, np.array([0.5, 1.0]))
    assert custom.peak == 1.0 and custom.total == 2
    np.testing.assert_array_equal(custom.steps, [1, 2])


# ------------------------------------------------------------------------------ features
def random_schedules() -> list[np.ndarray]:
    rng = np.random.default_rng(20240811)
    walk = np.abs(np.cumsum(rng.normal(0, 1e-5, 400)) + 3e-4)  # rises and drops
    jumps = rng.choice([3e-4, 1e-4, 2e-5, 0.0], size=300)
    return [walk, jumps, rng.uniform(0, 1, 250)]


def real_schedules() -> list[np.ndarray]:
    """Real MultiPowerLaw schedules around their changes, plus small copies of them whole."""
    wsd_exp = from_spec(SPECS["wsd_20000_24000"]).lr[19900:20300]
    wsdcon = from_spec(SPECS["wsdcon_3"]).lr[7800:8200]
    warm = from_spec(SPECS["cosine_24000"]).lr[2000:2300]  # warm-up end, then cosine
    small = [  # the same shapes at 1/80 of the length
        cosine(PEAK, 300, final=FINAL, warmup=27).lr,
        wsd(PEAK, 300, decay=50, final=FINAL, shape="exp", warmup=27).lr,
        multistage(PEAK, 200, [(100, 9e-5)], warmup=27).lr,
    ]
    return [wsd_exp, wsdcon, warm, *small]


@pytest.mark.parametrize("lam", [0.0, 0.9, 0.999, 1.0])
def test_annealing_area_matches_naive_double_loop(lam: float) -> None:
    for lr in random_schedules() + real_schedules():
        assert_close_to_scale(annealing_area(lr, decay=lam), naive_annealing_area(lr, lam))


def test_forward_area_matches_naive_double_loop() -> None:
    for lr in random_schedules() + real_schedules():
        assert_close_to_scale(forward_area(lr), naive_forward_area(lr))


def test_features_closed_forms() -> None:
    np.testing.assert_allclose(
        forward_area(constant(2e-4, 50)), 2e-4 * np.arange(1, 51), rtol=1e-14
    )
    # One drop Δ at step k (η_k = η_{k−1} − Δ): S₂(s) = Δ·(1 − λ^{s−k+1})/(1 − λ) for s ≥ k.
    lam, delta, k = 0.99, 2e-4, 11
    lr = np.r_[np.full(k - 1, 3e-4), np.full(90, 1e-4)]
    s = np.arange(1, 101)
    expected = np.where(s >= k, delta * (1 - lam ** (s - k + 1)) / (1 - lam), 0.0)
    np.testing.assert_allclose(annealing_area(lr, decay=lam), expected, rtol=1e-12, atol=1e-18)
    # λ = 0: S₂(s) = η_1 − η_s exactly the drop so far.
    np.testing.assert_allclose(annealing_area(lr, decay=0.0), 3e-4 - lr, rtol=0, atol=1e-18)


def test_annealing_area_warmup_options() -> None:
    sched = from_spec(SPECS["wsd_20000_24000"])
    lr_const = lr_for_annealing_law(sched)
    np.testing.assert_array_equal(lr_const[:WARMUP], PEAK)
    np.testing.assert_array_equal(lr_const[WARMUP:], sched.lr[WARMUP:])
    s2 = annealing_area(lr_const)
    np.testing.assert_array_equal(s2[:20001], 0.0)  # nothing before the decay starts
    assert s2[-1] > 0
    s1_diff = forward_area(lr_const)[-1] - forward_area(sched)[-1]
    # rel 1e-9: each S₁ ≈ 7 carries ~n·eps·7 ≈ 4e-11 rounding, the difference is ≈ 0.32.
    assert s1_diff == pytest.approx(WARMUP * PEAK - np.linspace(0, PEAK, WARMUP).sum(), rel=1e-9)
    actual = annealing_area(lr_for_annealing_law(sched, warmup="actual"))
    assert actual[WARMUP - 1] < 0  # the rising warm-up counts as negative annealing
    np.testing.assert_array_equal(lr_for_annealing_law(sched, "actual"), sched.lr)
    with pytest.raises(DataError, match="warmup 'constant' or 'actual'; found 'linear'"):
        lr_for_annealing_law(sched, warmup="linear")


@pytest.mark.parametrize("bad", [-0.1, 1.5, np.nan])
def test_annealing_area_rejects_bad_decay(bad: float) -> None:
    with pytest.raises(DataError, match=r"decay \(λ\) in \[0, 1\]"):
        annealing_area([1.0, 0.5], decay=bad)


# ------------------------------------------------------------------------------ plotting
def test_plot_schedule_lines_equal_lr() -> None:
    scheds = [from_spec(SPECS["cosine_24000"]), from_spec(SPECS["wsdcon_9"])]
    fig = plot_schedule(scheds)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    lines = ax.get_lines()
    assert len(lines) == 2
    for line, sched in zip(lines, scheds, strict=True):
        np.testing.assert_array_equal(line.get_xdata(), np.arange(1, sched.total + 1))
        np.testing.assert_array_equal(line.get_ydata(), sched.lr)
        assert line.get_label() == sched.spec
    assert ax.get_xlabel() == "step" and ax.get_ylabel() == "learning rate"


def test_plot_schedule_draws_on_given_axes() -> None:
    ax = Figure().add_subplot()
    assert plot_schedule("linear:peak=1,total=4", ax=ax) is ax.figure
    assert from_spec("linear:peak=1,total=4").plot(ax).axes == [ax]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [1.0, 0.75, 0.5, 0.25], rtol=1e-14)
