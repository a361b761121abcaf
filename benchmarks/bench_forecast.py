"""Benchmark: forecasting running jobs, and the measured error band of the forecast's interval.

Two published sets of loss curves, each forecast with its own prior:

* **Luo et al. (2025)**, 25M / 100M / 400M: the six test runs of the authors' split (constant
  and cosine 72k, two WSD 24k, two multi-stage 16k), prior ``lr_annealing`` fitted to the three
  training runs (cosine 24k, constant 24k, multi-stage ``wsdcon_9``) of the same size;
* **Schaipp et al. (2025)**, 124M: every cosine and WSD run at peak LR 1e-4, 5e-4 and 2e-3 (77
  runs), prior ``lr_annealing`` fitted to the constant trunk and its 20 % linear cool-down
  (T = 50k) at the same peak.

``scaling_fit.forecast`` sees each curve up to 25 %, 50 % and 75 % of the run's steps and
predicts its last curve point, with the run's exact schedule, without a prior and with one.
Printed: mean and worst relative error per set, fraction seen and prior.  Goal of issue 8:
≤ 0.5 % mean at 50 % seen.

``--calibrate`` writes these errors (95 runs x 3 fractions x prior or not) to
``scaling_fit/analysis/forecast_errors.py``: the forecast's interval adds their ``level``
quantile to the noise of the seen part.  It prints the interval's coverage when one set's
errors make the band and the other set is forecast (leave one set out), the honest measure
of how it transfers to runs it was not measured on.

``--coverage`` also runs every forecast at 50 % seen with ``n_boot=30`` and prints how often
the noise-only interval and the full interval contain the last point's loss, with median
widths (slow: ~15 min on a loaded 2-core machine).

``--peaks`` measures a prior fitted at **another peak LR**: each of Schaipp et al.'s cosine and
WSD runs is forecast with the prior of each other peak (1e-4, 5e-4, 2e-3: ratios run peak /
prior peak of 1/20, 1/5, 1/4, 4, 5 and 20), and ``--peaks --calibrate`` writes the errors to
``scaling_fit/analysis/forecast_peak_errors.py``, pooled by ratio into ÷20, ÷4-5, ×4-5 and ×20
(~1 min).  Mean / worst |error| at 25 / 50 / 75 % seen: ×4-5 11 / 15 %, 9.7 / 14 %, 8.4 /
14 %; ÷4-5 3.3 / 4.8 %, 2.9 / 4.0 %, 2.4 / 3.6 %; ×20 51 / 59 %, 46 / 59 %, 41 / 57 %; ÷20
3.5 / 4.3 %, 3.0 / 3.7 %, 2.5 / 3.3 % (same peak: 0.52 / 1.8 %, 0.42 / 1.6 %, 0.42 / 1.8 %).

Run: ``python benchmarks/bench_forecast.py [--calibrate] [--coverage] [--peaks]`` (~3 min).
"""

from __future__ import annotations

import sys
import textwrap
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from bench_schaipp_schedules import DATA, PEAKS, schedules, split  # the same runs and split
from curve_length_extrapolation import TINY_SIZES, tiny_ladder_set, total

import scaling_fit as sf
from scaling_fit.analysis import forecast as forecast_module
from scaling_fit.analysis.forecast_prior import prior_length_band
from scaling_fit.results.curves import predict_runs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # Luo et al.'s schedule specs, shared with the tests
from multipower_data import SPECS as LUO_SPECS  # noqa: E402
from multipower_data import TEST as LUO_TEST  # noqa: E402
from multipower_data import TRAIN as LUO_TRAIN  # noqa: E402

FRACTIONS = (0.25, 0.5, 0.75)
OUTPUT = ROOT / "scaling_fit" / "analysis" / "forecast_errors.py"
PEAK_OUTPUT = ROOT / "scaling_fit" / "analysis" / "forecast_peak_errors.py"
KNOT = 0.65  # peak ratios are pooled to the nearest 10 ** (KNOT * k): ÷20, ÷4-5, ×4-5, ×20


@dataclass(frozen=True)
class Case:
    """One run to forecast: its curve, schedule spec and the prior of its set."""

    dataset: str
    run: str
    curve: pd.DataFrame
    spec: str
    prior: sf.FitResult
    group: str = ""  # the calibration set: one model size or peak LR of a dataset


def luo_cases() -> Iterator[Case]:
    for size in ("25", "100", "400"):
        folder = ROOT / "data" / "multipower_law" / f"csv_{size}"
        table = sf.load_runs([str(folder / f"{name}.csv") for name in LUO_SPECS])
        prior = sf.fit(table[table["run"].isin(LUO_TRAIN)], "lr_annealing", schedules=LUO_SPECS)
        for name in LUO_TEST:
            curve = table[table["run"] == name]
            yield Case("luo", name, curve, LUO_SPECS[name], prior, f"luo {size}M")


def schaipp_cases() -> Iterator[Case]:
    runs = pd.read_csv(DATA / "runs.csv")
    val = pd.read_csv(DATA / "val_curves.csv.gz").rename(columns={"val_loss": "loss"})
    last_step = val.groupby("run")["step"].max().rename("step")
    runs = runs.join(last_step, on="run")
    specs = schedules()
    for peak in PEAKS:
        train, others = split(runs, peak)
        prior = sf.fit(val[val["run"].isin(train)], "lr_annealing", schedules=specs)
        for name in others[others["kind"].isin(["cosine", "wsd"])]["run"]:
            curve = val[val["run"] == name]
            yield Case("schaipp", name, curve, specs[name], prior, f"schaipp {peak:g}")


def tiny_cases() -> Iterator[Case]:
    """Our tiny ladder (``data/tiny_ladder``): every run of >= 1,000 steps at peak LR 2e-3
    (both seeds), prior ``lr_annealing`` fitted to the same size's shorter seed-0 runs."""
    for size in TINY_SIZES:
        table, specs = tiny_ladder_set(size)
        seed1, seed1_specs = tiny_ladder_set(size, seed=1)
        lengths = {run: total(spec) for run, spec in {**specs, **seed1_specs}.items()}
        for run, spec in {**specs, **seed1_specs}.items():
            if lengths[run] < 1000:
                continue
            shorter = [r for r in specs if lengths[r] < lengths[run]]
            prior = sf.fit(table[table["run"].isin(shorter)], "lr_annealing", schedules=specs)
            curve = table if run in specs else seed1
            yield Case("tiny", run, curve[curve["run"] == run], spec, prior, f"tiny {size}")


def forecast_rows(case: Case, n_boot: int) -> list[tuple]:
    """(dataset, run, seen, prior, signed error, noise interval, interval) per forecast."""
    rows = []
    curve = case.curve.sort_values("step")
    last = curve.iloc[-1]
    end = pd.DataFrame({"run": [case.run], "step": [int(last["step"])]})
    schedule = sf.schedules.from_spec(case.spec)
    for fraction in FRACTIONS:
        seen = curve[curve["step"] <= fraction * schedule.total]
        boots = n_boot if fraction == 0.5 else 0
        for name, prior in (("none", None), ("prior", case.prior)):
            result = sf.forecast(seen, case.spec, prior=prior, bootstrap=boots)
            last_seen = int(seen["step"].max())
            length = None if prior is None else prior_length_band(prior, schedule, last_seen)
            at_last = predict_runs(result.fit, end, {case.run: case.spec})[0]
            scale = at_last / result.final_loss  # move the intervals from step T to the point
            noise, full = (
                None if v is None else np.multiply(v, scale)
                for v in (result.noise_interval, result.interval)
            )
            error = at_last / last["loss"] - 1
            h = 0.0 if length is None or length[0] is None else float(np.log1p(length[0]))
            if result.interval is None:  # the forecast gave none (and said why): left out
                h = np.nan
            rows.append(
                (
                    case.dataset,
                    case.run,
                    fraction,
                    name,
                    error,
                    noise,
                    full,
                    last["loss"],
                    h,
                    case.group,
                )
            )
    return rows


def measure(n_boot: int) -> pd.DataFrame:
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for cases in (luo_cases(), schaipp_cases(), tiny_cases()):
            for case in cases:
                rows += forecast_rows(case, n_boot)
    columns = ["dataset", "run", "seen", "prior", "error", "noise", "interval", "truth", "h", "set"]
    table = pd.DataFrame(rows, columns=columns)
    return table.assign(score=scores(table["error"], table["h"]))


def scores(error: pd.Series, h: pd.Series) -> np.ndarray:
    """The part of each error that the prior's length band h (log scale) does not explain,
    as a relative error: expm1(sqrt(max(0, log(1 + e)^2 - h^2))).  A band b from these
    scores holds an error exactly when |log(1 + e)| <= hypot(log(1 + b), h), the interval of
    ``sf.forecast`` (``_with_prior_length``)."""
    with np.errstate(invalid="ignore"):  # a forecast <= 0 has no interval: NaN, left out
        log_error = np.log1p(error.to_numpy(float))
    return np.expm1(np.sqrt(np.maximum(log_error**2 - h.to_numpy(float) ** 2, 0.0)))


def print_errors(table: pd.DataFrame) -> None:
    absolute = table.assign(error=table["error"].abs())
    groups = absolute.groupby(["dataset", "seen", "prior"])["error"]
    print(groups.agg(["mean", "max", "count"]).unstack("prior").to_string(), "\n")


def by_set(rows: pd.DataFrame) -> dict[str, tuple[float, ...]]:
    """Each calibration set's finite scores, sorted (the form of ``ERRORS``' values)."""
    finite = rows[np.isfinite(rows["score"])]
    return {name: tuple(np.sort(g["score"].to_numpy())) for name, g in finite.groupby("set")}


def held_out_bands(table: pd.DataFrame, held: str, prior: str, level: float) -> dict:
    """Fraction seen -> the band made without set ``held``, as ``sf.forecast`` makes it."""
    others = table[(table["set"] != held) & (table["prior"] == prior)]
    bands = [
        forecast_module.band_quantile(by_set(others[others["seen"] == f]), level) for f in FRACTIONS
    ]
    return dict(zip(FRACTIONS, forecast_module.earlier_is_wider(bands), strict=True))


def print_transfer(table: pd.DataFrame, level: float = 0.95) -> None:
    """Coverage of the band made without each set (leave one set out), set by set."""
    print(f"leave one set out: the set's forecasts inside the {level:.0%} band of the others")
    for (seen, prior), group in table.groupby(["seen", "prior"]):
        cells = []
        for held in sorted(group["set"].unique()):
            without = held_out_bands(table, held, prior, level)[seen]
            scores = group.loc[group["set"] == held, "score"]
            banded = scores[np.isfinite(scores)]  # NaN: no interval (forecast <= 0, unbounded)
            none = f", {scores.size - banded.size} none" if banded.size < scores.size else ""
            cells.append(f"{held} {int((banded <= without).sum())}/{banded.size}{none}")
        print(f"  seen {seen:.0%} {prior:<6}: " + ", ".join(cells))


def print_coverage(table: pd.DataFrame) -> None:
    at_half = table[table["seen"] == 0.5].copy()
    for column in ("noise", "interval"):
        lo = at_half[column].map(lambda v: v[0])
        hi = at_half[column].map(lambda v: v[1])
        at_half[f"{column}_inside"] = (lo <= at_half["truth"]) & (at_half["truth"] <= hi)
        at_half[f"{column}_width"] = (hi - lo) / at_half["truth"]
    columns = ["noise_inside", "noise_width", "interval_inside", "interval_width"]
    summary = at_half.groupby(["dataset", "prior"])[columns].agg(["mean", "median"])
    print(
        summary.xs("mean", axis=1, level=1)[columns[::2]]
        .join(summary.xs("median", axis=1, level=1)[columns[1::2]])
        .to_string()
    )


def write_calibration(table: pd.DataFrame) -> None:
    lines = [
        '"""Measured errors of ``scaling_fit.forecast``: the law part of its interval.',
        "",
        "Generated by ``python benchmarks/bench_forecast.py --calibrate``; do not edit by hand.",
        "The last curve point of every forecast run of three sets of real curves (Luo et al.",
        "2025: 18 test runs at 25M-400M; Schaipp et al. 2025: 77 cosine and WSD runs at 124M;",
        "our tiny ladder, data/tiny_ladder: 31 runs of >= 1,000 steps at 25k-0.8M parameters),",
        "each forecast by ``lr_annealing`` from the first 25 %, 50 % or 75 % of its steps,",
        "without a prior and with one fitted to its set's training runs (the ladder: the same",
        "size's shorter runs).  Each value is the part of |predicted / actual - 1| that the",
        "prior's own length band h does not explain, expm1(sqrt(max(0, log(1 + e)^2 - h^2)))",
        "(h = 0 without a prior or within the prior's runs), keyed by calibration set (a model",
        "size or peak LR); forecasts of a loss <= 0 (no interval) are left out.",
        '"""',
        "",
        'LAW = "lr_annealing"',
        "# (fraction seen, with a prior) -> calibration set -> its scores, sorted",
        "# fmt: off",
        "ERRORS: dict[tuple[float, bool], dict[str, tuple[float, ...]]] = {",
    ]
    for (seen, prior), group in table.groupby(["seen", "prior"]):
        lines.append(f"    ({seen}, {prior == 'prior'}): {{")
        for name, values in by_set(group).items():
            text = ", ".join(f"{v:.4g}" for v in values) + ("," if len(values) == 1 else "")
            lines.append(f'        "{name}": (')
            lines += textwrap.wrap(text, 88, initial_indent=" " * 12, subsequent_indent=" " * 12)
            lines.append("        ),")
        lines.append("    },")
    lines += ["}", "# fmt: on"]
    OUTPUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUTPUT}")


def peak_errors() -> pd.DataFrame:
    """Every Schaipp cosine/WSD run forecast with the priors of the two other peak LRs."""
    runs = pd.read_csv(DATA / "runs.csv")
    val = pd.read_csv(DATA / "val_curves.csv.gz").rename(columns={"val_loss": "loss"})
    runs = runs.join(val.groupby("run")["step"].max().rename("step"), on="run")
    specs = schedules()
    priors = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for peak in PEAKS:
            train, _ = split(runs, peak)
            priors[peak] = sf.fit(val[val["run"].isin(train)], "lr_annealing", schedules=specs)
        rows = []
        for peak in PEAKS:
            _, others = split(runs, peak)
            for name in others[others["kind"].isin(["cosine", "wsd"])]["run"]:
                curve = val[val["run"] == name].sort_values("step")
                last = curve.iloc[-1]
                end = pd.DataFrame({"run": [name], "step": [int(last["step"])]})
                total = sf.schedules.from_spec(specs[name]).total
                for prior_peak in (p for p in PEAKS if p != peak):
                    for fraction in FRACTIONS:
                        seen = curve[curve["step"] <= fraction * total]
                        result = sf.forecast(
                            seen, specs[name], prior=priors[prior_peak], bootstrap=0
                        )
                        at_last = predict_runs(result.fit, end, {name: specs[name]})[0]
                        error = at_last / last["loss"] - 1
                        rows.append((name, peak / prior_peak, fraction, error))
    table = pd.DataFrame(rows, columns=["run", "ratio", "seen", "error"])
    knots = 10 ** (KNOT * np.round(np.log10(table["ratio"]) / KNOT))
    return table.assign(knot=knots.round(4))


def print_peak_errors(table: pd.DataFrame) -> None:
    absolute = table.assign(error=table["error"].abs())
    groups = absolute.groupby(["knot", "seen"])["error"]
    print("prior at another peak LR: |error| by run peak / prior peak (pooled)")
    print(groups.agg(["mean", "max", "count"]).to_string(), "\n")


def write_peak_calibration(table: pd.DataFrame) -> None:
    lines = [
        '"""Measured errors of ``scaling_fit.forecast`` with a prior from another peak LR.',
        "",
        "Generated by ``python benchmarks/bench_forecast.py --peaks --calibrate``; do not edit",
        "by hand.  |predicted / actual - 1| of the last curve point of Schaipp et al.'s (2025) 77",
        "cosine and WSD runs at 124M (peak LR 1e-4, 5e-4, 2e-3), each forecast by",
        "``lr_annealing`` from the first 25 %, 50 % or 75 % of its steps with the prior of each",
        "other peak (fitted to that peak's constant trunk and 20 % cool-down).  Keyed by the",
        "ratio run peak / prior peak, pooled: 1/20; 1/5 and 1/4 as 10**-0.65; 4 and 5 as",
        "10**0.65; 20.",
        '"""',
        "",
        "# (peak ratio, fraction seen) -> the runs' errors, sorted",
        "# fmt: off",
        "PEAK_ERRORS: dict[tuple[float, float], tuple[float, ...]] = {",
    ]
    for (knot, seen), group in table.groupby(["knot", "seen"]):
        values = ", ".join(f"{v:.4g}" for v in np.sort(group["error"].abs().to_numpy()))
        lines.append(f"    ({knot}, {seen}): (")
        lines += textwrap.wrap(values, 92, initial_indent=" " * 8, subsequent_indent=" " * 8)
        lines.append("    ),")
    lines += ["}", "# fmt: on"]
    PEAK_OUTPUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {PEAK_OUTPUT}")


def main() -> None:
    if "--peaks" in sys.argv[1:]:
        table = peak_errors()
        print_peak_errors(table)
        if "--calibrate" in sys.argv[1:]:
            write_peak_calibration(table)
        return
    coverage = "--coverage" in sys.argv[1:]
    table = measure(n_boot=30 if coverage else 0)
    print_errors(table)
    print_transfer(table)
    if "--calibrate" in sys.argv[1:]:
        write_calibration(table)
    if coverage:
        print_coverage(table)


if __name__ == "__main__":
    main()
