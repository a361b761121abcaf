"""Length extrapolation of the curve laws on every shipped set of real curves (issue 24).

Sets: ``data/multipower_law`` (Luo et al. 2025; 25M, 100M, 400M; runs of 16k, 24k and 72k
steps) and ``data/schaipp_lr_schedules`` (Schaipp et al. 2025; 124M at peak LR 1e-4, 5e-4,
2e-3; runs of 15k-50k steps).  Three parts:

1. **Extrapolation** (the README table): fit a law to the runs of one set up to a length,
   predict the final loss of every longer run; the relative error, and whether the interval
   of ``predict_curve`` (columns ``loss_lower``, ``loss_upper``: the law's own backtest within
   the fitted runs, scaled by the length beyond, widened by the refit without early steps;
   :mod:`scaling_fit.results.length_band`) covers the truth, and whether it warned.  Before
   this change the same predictions came with no interval and no warning.
2. **How many early steps to leave out** (``DRIFT_DROP`` of
   :mod:`scaling_fit.fitting.length_check`): fit the runs of at most half the longest length
   leaving out the points before 0/5/10/20/30 % of the longest fitted run's steps, predict
   the longest runs; each set held out in turn, the fraction with the smallest mean worst
   error on the others (each relative to the set's own with nothing left out, so the sets
   with large errors do not outvote the rest), and the held-out set's error at it.
3. **How the error grows with the length beyond**: each set's longest constant-LR run cut at
   1/2, 1/3, 1/4, 1/8 of its steps, fitted alone, predicting its end.
4. **The band's factor 2** (``BAND_Z`` of :mod:`scaling_fit.results.length_band`): part 1's
   predictions, each error in units of its band, the set-weighted 95 % quantile, and each set
   left out in turn.

Run: ``python benchmarks/curve_length_extrapolation.py [--law lr_annealing|multipower]
[--part 1 2 3]`` (lr_annealing: about a minute).
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import scaling_fit as sf
from scaling_fit.analysis.forecast import band_quantile
from scaling_fit.results.length_band import BAND_Z

DATA = Path(__file__).resolve().parents[1] / "data"
MPL_SPECS = {
    "constant_24000": "constant:peak=3e-4,total=24000,warmup=2160",
    "constant_72000": "constant:peak=3e-4,total=72000,warmup=2160",
    "cosine_24000": "cosine:peak=3e-4,total=24000,warmup=2160,final=3e-5",
    "cosine_72000": "cosine:peak=3e-4,total=72000,warmup=2160,final=3e-5",
    "wsd_20000_24000": "wsd:peak=3e-4,total=24000,warmup=2160,decay=4000,final=3e-5,shape=exp",
    "wsdld_20000_24000": "wsd:peak=3e-4,total=24000,warmup=2160,decay=4000,final=3e-5",
    "wsdcon_3": "multistage:peak=3e-4,total=16000,warmup=2160,stages=8000@3e-5",
    "wsdcon_9": "multistage:peak=3e-4,total=16000,warmup=2160,stages=8000@9e-5",
    "wsdcon_18": "multistage:peak=3e-4,total=16000,warmup=2160,stages=8000@1.8e-4",
}
DROPS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4)
CUTS = (2, 3, 4, 8)


def multipower_set(size: int) -> tuple[pd.DataFrame, dict[str, str]]:
    """Luo et al.'s curves of one size: ``run, step, loss`` and each run's schedule."""
    frames = [
        pd.read_csv(DATA / "multipower_law" / f"csv_{size}" / f"{name}.csv").assign(run=name)
        for name in MPL_SPECS
    ]
    return pd.concat(frames, ignore_index=True)[["run", "step", "loss"]], dict(MPL_SPECS)


def schaipp_set(peak: float) -> tuple[pd.DataFrame, dict[str, str]]:
    """Schaipp et al.'s validation curves at one peak LR (the first point, step 0, left out)."""
    folder = DATA / "schaipp_lr_schedules"
    runs = pd.read_csv(folder / "runs.csv")
    specs = json.loads((folder / "schedules.json").read_text())
    names = runs["run"][np.isclose(runs["peak_lr"], peak)].tolist()
    curves = pd.read_csv(folder / "val_curves.csv.gz")
    curves = curves[curves["run"].isin(names) & (curves["step"] > 0)]
    return curves.rename(columns={"val_loss": "loss"}), {n: specs[n] for n in names}


def tiny_ladder_set(size: str, seed: int = 0) -> tuple[pd.DataFrame, dict[str, str]]:
    """Our tiny byte-level ladder (``data/tiny_ladder``), one size (e.g. ``d32L2``): the
    held-out loss of its runs at peak LR 2e-3 with one seed, every schedule."""
    folder = DATA / "tiny_ladder"
    curves = pd.read_csv(folder / "curves.csv")
    specs = json.loads((folder / "schedules.json").read_text())
    mine = curves[
        curves["run"].str.startswith(f"{size}_") & curves["run"].str.endswith(f"_lr0.002_s{seed}")
    ]
    mine = mine.dropna(subset=["eval_loss"])[["run", "step", "eval_loss"]]
    return mine.rename(columns={"eval_loss": "loss"}), {r: specs[r] for r in pd.unique(mine["run"])}


TINY_SIZES = ("d32L2", "d48L2", "d64L3", "d96L3", "d128L4")
SETS = {
    **{f"multipower {s}M": (lambda s=s: multipower_set(s)) for s in (25, 100, 400)},
    **{f"schaipp {p:g}": (lambda p=p: schaipp_set(p)) for p in (1e-4, 5e-4, 2e-3)},
    **{f"tiny {s}": (lambda s=s: tiny_ladder_set(s)) for s in TINY_SIZES},
}


def markdown(table: pd.DataFrame) -> str:
    """A GitHub table of ``table``'s cells as text."""
    lines = [" | ".join(table.columns), " | ".join("---" for _ in table.columns)]
    lines += [" | ".join(str(v) for v in row) for row in table.itertuples(index=False)]
    return "\n".join(f"| {line} |" for line in lines)


def total(spec: str) -> int:
    return int(spec.split("total=")[1].split(",")[0])


def end_of(table: pd.DataFrame, run: str) -> tuple[int, float]:
    rows = table[table["run"] == run]
    last = int(rows["step"].max())
    return last, float(rows.loc[rows["step"] == last, "loss"].iloc[0])


def predictions(law: str, up_to: int, table, specs) -> tuple[sf.FitResult, pd.DataFrame] | None:
    """Fit the runs of at most ``up_to`` steps, predict every longer run's end: the fit and
    one row per prediction (factor, error, covered, half-width, warned, drift), or None
    (nothing to predict, or too few points for the law: one 250-step ladder run has 5 points
    after its warm-up, the multi-power law 7 parameters)."""
    train = [r for r in specs if total(specs[r]) <= up_to]
    longer = [r for r in specs if total(specs[r]) > up_to]
    if not train or not longer:
        return None
    try:
        fitted = sf.fit(
            table[table["run"].isin(train)], law, schedules={r: specs[r] for r in train}
        )
    except sf.DataError:
        return None
    if not fitted.converged:  # predict_curve refuses it (FitError)
        return fitted, pd.DataFrame()
    rows = []
    for run in longer:
        last, truth = end_of(table, run)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            curve = fitted.predict_curve(specs[run], steps=[last])
        loss = curve["loss"].iloc[0]
        # no interval when the backtest could not be measured (the warning says so)
        lo, hi = curve.get("loss_lower", [np.nan]), curve.get("loss_upper", [np.nan])
        lo, hi = float(np.asarray(lo)[0]), float(np.asarray(hi)[0])
        rows.append(
            {
                "run": run,
                "factor": last / fitted.options["length_check"]["longest_step"],
                "error": loss / truth - 1,
                "covered": lo <= truth <= hi,
                "half": hi / loss - 1,
                "warned": any("beyond the longest" in str(w.message) for w in caught),
                "drift": any("regime change" in str(w.message) for w in caught),
            }
        )
    return fitted, pd.DataFrame(rows)


def extrapolate(law: str, name: str, up_to: int, table, specs) -> dict | None:
    """One row of the README table: fit the runs up to ``up_to`` steps, predict the rest."""
    made = predictions(law, up_to, table, specs)
    if made is None:
        return None
    fitted, rows = made
    fit = f"{len(pd.unique(fitted.data['run']))} runs <= {up_to}"
    if rows.empty:
        return {"set": name, "fit": fit, "predict": "not converged"}
    f, err, width = rows["factor"], rows["error"], rows["half"]
    backtest = fitted.options["length_check"]["backtest"] or {}
    return {
        "set": name,
        "fit": fit,
        "predict": f"{len(rows)} runs, {f.min():.1f}-{f.max():.1f}x",
        "backtest": "{:+.2%} at {:.1f}x".format(backtest["error"], backtest["factor"])
        if backtest
        else "not measured",
        "mean error": f"{err.mean():+.2%}",
        "worst |error|": f"{err.abs().max():.2%}",
        "within 3 %": f"{int((err.abs() <= 0.03).sum())}/{len(rows)}",
        "covered": f"{int(rows['covered'].sum())}/{len(rows)}"
        + (f" ({int(width.isna().sum())} no interval)" if width.isna().any() else ""),
        "mean half-width": f"{width.mean():.2%}" if width.notna().any() else "-",
        "warned": f"{int(rows['warned'].sum())}/{len(rows)}",
        "drift": f"{int(rows['drift'].sum())}/{len(rows)}",
    }


def all_predictions(law: str) -> pd.DataFrame:
    """Part 1's predictions of every set, one row each, with the set's name."""
    frames = []
    for name, get in SETS.items():
        table, specs = get()
        lengths = sorted({total(s) for s in specs.values()})
        for up_to in lengths[:-1]:
            made = predictions(law, up_to, table, specs)
            if made is not None and not made[1].empty:
                frames.append(made[1].assign(set=name))
    return pd.concat(frames, ignore_index=True)


def weighted_quantile(values: pd.Series, sets: pd.Series, level: float) -> float:
    """The ``level`` quantile of ``values`` with every set weighing the same (the library's
    set-weighted quantile, as the forecast band uses it)."""
    return band_quantile({name: v.to_numpy() for name, v in values.groupby(sets)}, level)


def part_calibration(law: str) -> None:
    """Is the band's factor 2 what the data support?  Each prediction's error in units of its
    band's one-sigma half-width, R = 2·|log(1 + e)| / log(1 + half) (predictions with a band
    that the drift refit did not widen); the set-weighted 95 % quantile of R is the factor a
    conformal calibration over every set would use, and each set left out in turn is judged by
    the factor of the others and by 2."""
    rows = all_predictions(law)
    rows = rows[rows["half"].notna() & ~rows["drift"]].copy()
    rows["R"] = BAND_Z * np.abs(np.log1p(rows["error"])) / np.log1p(rows["half"])
    print(
        f"set-weighted 95 % quantile of R over {len(rows)} predictions of "
        f"{rows['set'].nunique()} sets: "
        f"{weighted_quantile(rows['R'], rows['set'], 0.95):.2f} (the band uses {BAND_Z:g})"
    )
    for held in rows["set"].unique():
        others = rows[rows["set"] != held]
        factor = weighted_quantile(others["R"], others["set"], 0.95)
        mine = rows.loc[rows["set"] == held, "R"]
        print(
            f"- held out {held}: factor of the others {factor:.2f}, covers "
            f"{int((mine <= factor).sum())}/{mine.size}; the band's {BAND_Z:g} covers "
            f"{int((mine <= BAND_Z).sum())}/{mine.size}"
        )


def part_extrapolation(law: str) -> None:
    rows = []
    for name, get in SETS.items():
        table, specs = get()
        lengths = sorted({total(s) for s in specs.values()})
        for up_to in lengths[:-1]:
            row = extrapolate(law, name, up_to, table, specs)
            if row:
                rows.append(row)
    print(markdown(pd.DataFrame(rows).fillna("-")))


def fit_drop(law: str, table: pd.DataFrame, specs: dict, train: list, cut: float):
    rows = table[table["run"].isin(train)]
    return sf.fit(
        rows,
        law,
        schedules={r: specs[r] for r in train},
        exclude=(rows["step"] < cut).to_numpy(),
        length_check=False,
    )


def part_drop(law: str) -> None:
    worst = {}
    for name, get in SETS.items():
        table, specs = get()
        longest = max(total(s) for s in specs.values())
        train = [r for r in specs if total(specs[r]) <= longest / 2]
        test = [r for r in specs if total(specs[r]) == longest]
        cap = table[table["run"].isin(train)]["step"].max()
        for drop in DROPS:
            fitted = fit_drop(law, table, specs, train, drop * cap)
            errors = []
            for run in test:
                last, truth = end_of(table, run)
                # an unconverged fit's prediction is scored too (the error is what is studied)
                curve = fitted.predict_curve(specs[run], steps=[last], allow_unconverged=True)
                predicted = curve["loss"].iloc[0]
                errors.append(predicted / truth - 1)
            worst[(name, drop)] = float(np.max(np.abs(errors)))
    table = pd.DataFrame(
        [[name] + [f"{worst[(name, d)]:.2%}" for d in DROPS] for name in SETS],
        columns=["set (worst |error|, 2x)"] + [f"drop {d:.0%}" for d in DROPS],
    )
    print(markdown(table))
    print()
    # Scale-free: each set's worst error relative to its own with nothing left out, so that
    # the sets with 10-20 % errors do not outvote those with 1 %.
    ratio = {(n, d): worst[(n, d)] / worst[(n, 0.0)] for n in SETS for d in DROPS}
    for held in SETS:
        others = [n for n in SETS if n != held]
        best = min(DROPS, key=lambda d: np.mean([ratio[(n, d)] for n in others]))
        print(
            f"- held out {held}: best on the other {len(others)} {best:.0%} (mean worst error "
            f"relative to none left out: {np.mean([ratio[(n, best)] for n in others]):.2f}); "
            f"held-out worst {worst[(held, best)]:.2%} (no drop {worst[(held, 0.0)]:.2%})"
        )


def part_growth(law: str) -> None:
    rows = []
    for name, get in SETS.items():
        table, specs = get()
        longest = max(total(s) for s in specs.values())
        for run in [r for r in specs if total(specs[r]) == longest]:
            if not run.startswith(("constant", "stable")):
                continue
            last, truth = end_of(table, run)
            errors = []
            for cut in CUTS:
                seen = table[(table["run"] == run) & (table["step"] <= last / cut)]
                fitted = sf.fit(seen, law, schedules={run: specs[run]}, length_check=False)
                predicted = fitted.predict_curve(specs[run], steps=[last])["loss"].iloc[0]
                errors.append(predicted / truth - 1)
            rows.append([name, run] + [f"{e:+.2%}" for e in errors])
    print(markdown(pd.DataFrame(rows, columns=["set", "run"] + [f"cut 1/{c}" for c in CUTS])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--law", default="lr_annealing", choices=["lr_annealing", "multipower"])
    parser.add_argument("--part", type=int, nargs="*", default=[1, 2, 3, 4])
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    parts = {1: part_extrapolation, 2: part_drop, 3: part_growth, 4: part_calibration}
    for part in args.part:
        print(f"\n## part {part}: {parts[part].__name__[5:]} ({args.law})\n")
        parts[part](args.law)


if __name__ == "__main__":
    main()
