"""One table for every shipped set of real loss curves: length extrapolation, forecasts, choose_law.

Sets: Luo et al. (2025, ``data/multipower_law``: 25M, 100M, 400M), Schaipp et al. (2025,
``data/schaipp_lr_schedules``: 124M at three peak LRs) and our tiny byte-level ladder
(``data/tiny_ladder``: 25k-0.8M parameters, 250-3,000 steps).  Per set:

* **length extrapolation** (``lr_annealing``): the runs of the set up to each length fitted,
  every longer run's final loss predicted with ``predict_curve`` (as
  ``benchmarks/curve_length_extrapolation.py`` part 1); predictions 2-3x longer than the
  longest fitted run and all of them: worst |error|, how many are within 3 % and how many
  the interval (``loss_lower``, ``loss_upper``) covers.
* **forecasts** at 25 / 50 / 75 % seen, without and with a prior (as
  ``benchmarks/bench_forecast.py``): mean and worst |error| of the final loss, and how many
  the 95 % interval (without its noise part) covers when the band is calibrated **without
  the forecast's calibration set** (a model size or peak LR; leave one set out).
* **choose_law to the largest size**: the ladder's four smaller sizes (final held-out loss of
  the cosine runs of 250-3,000 steps, seed 0) predict the largest size's five runs (2.4x the
  next size in N); Luo's and Schaipp's sets have too few sizes (3 and 1).

Run: ``python benchmarks/curve_sets_table.py`` (about 10 minutes on 2 cores); it prints the
table of ``docs/curve_validation.md``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from bench_forecast import held_out_bands, measure
from curve_length_extrapolation import DATA, all_predictions, markdown

import scaling_fit as sf

GROUPS = {
    "multipower": "Luo et al. 25M-400M",
    "schaipp": "Schaipp et al. 124M",
    "tiny": "tiny ladder",
}
DATASET = {"multipower": "luo", "schaipp": "schaipp", "tiny": "tiny"}  # bench_forecast's names
LEVEL = 0.95


def length_cell(rows: pd.DataFrame) -> str:
    if rows.empty:
        return "-"
    banded = rows[rows["half"].notna()]
    near = int((rows["error"].abs() <= 0.03).sum())
    ok = int(((rows["error"].abs() <= 0.03) | rows["covered"]).sum())
    return (
        f"{len(rows)}: worst {rows['error'].abs().max():.1%}, {near} within 3 %, "
        f"{int(banded['covered'].sum())}/{len(banded)} with an interval covered, "
        f"{ok} either"
        + (f" ({len(rows) - len(banded)} no interval)" if len(banded) < len(rows) else "")
    )


def forecast_cells(table: pd.DataFrame, dataset: str) -> dict[str, str]:
    """Per fraction and prior: mean / worst |error| and the forecasts covered when each of
    the dataset's calibration sets is left out of the band (set-weighted, as the library)."""
    cells = {}
    for (seen, prior), group in table.groupby(["seen", "prior"]):
        mine = group[group["dataset"] == dataset]
        covered = banded = 0
        for held, rows in mine.groupby("set"):
            band = held_out_bands(table, held, prior, LEVEL)[seen]
            covered += int((rows["score"] <= band).sum())
            banded += int(np.isfinite(rows["score"]).sum())  # NaN: the forecast gave none
        none = f" ({len(mine) - banded} no interval)" if banded < len(mine) else ""
        cells[f"forecast {seen:.0%} seen, {prior}"] = (
            f"{mine['error'].abs().mean():.1%} / {mine['error'].abs().max():.1%}, "
            f"{covered}/{banded} covered{none}"
        )
    return cells


def choose_law_cell() -> str:
    """The ladder's four smaller sizes predict the largest one's runs."""
    curves = pd.read_csv(DATA / "tiny_ladder" / "curves.csv")
    runs = curves[(curves["schedule"] == "cosine") & (curves["seed"] == 0)]
    runs = runs[np.isclose(runs["peak_lr"], 2e-3) & (runs["step"] == runs["total_steps"])]
    finals = runs[["run", "n_params", "tokens"]].assign(loss=runs["eval_loss"])
    largest = finals["n_params"].max()
    train, test = finals[finals["n_params"] < largest], finals[finals["n_params"] == largest]
    errors, covered = [], 0
    for row in test.itertuples():
        target = {"n_params": float(row.n_params), "tokens": float(row.tokens)}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pick = sf.choose_law(train, target=target, progress=False)
        best = pick.recommended
        errors.append(best["loss"] / row.loss - 1)
        covered += int(best["lower"] <= row.loss <= best["upper"])
    errors = np.abs(errors)
    return (
        f"{len(test)} runs: mean {errors.mean():.1%}, worst {errors.max():.1%}, {covered} covered"
    )


def main() -> None:
    warnings.simplefilter("ignore")
    lengths = all_predictions("lr_annealing")
    lengths["group"] = lengths["set"].str.split().str[0]
    forecasts = measure(n_boot=0)
    rows = []
    for group, label in GROUPS.items():
        mine = lengths[lengths["group"] == group]
        # 2-3x longer (logged ends lie a step or two off the schedules' lengths)
        two_three = mine[(mine["factor"] >= 1.9) & (mine["factor"] <= 3.1)]
        row = {"set": label, "longer runs, 2-3x": length_cell(two_three)}
        row["longer runs, all"] = length_cell(mine)
        row |= forecast_cells(forecasts, DATASET[group])
        row["choose_law to the largest size"] = choose_law_cell() if group == "tiny" else "-"
        rows.append(row)
    table = pd.DataFrame(rows).set_index("set").T
    print(markdown(table.reset_index().rename(columns={"index": "measure"})))


if __name__ == "__main__":
    main()
