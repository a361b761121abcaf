"""Benchmark: ``fit_hparams`` on the sweep shapes people run, cut from the Step Law dense sweep.

From ``data/steplaw/dense_lr_bs_loss.csv.gz`` (1,911 runs, 17 (N, D) cells, batch sizes in
sequences of 2,048 tokens, ``smooth loss``) three sweeps of the same cells:

* **grid**: every run;
* **cross**: per cell the runs on the LR line and the batch line through its best run;
* **LR-only**: per cell the LR line at its best run's batch size.

Each is fitted with the defaults (band rule, 0.25 %, 1,000 bootstrap resamples, seed 0;
``seq_len=2048`` converts the sequences to tokens) through the API and through
``scaling-fit hparams --format json`` (in-process), and the table gives η* and B* at the
largest cell (N = 1.07e9, D = 5.69e10), the exponents, the mean penalty as the fit reads it
on its own runs, and the mean penalty of the same law read on the full grid (the measured
surface; for the LR-only law at each cell's best batch size), and that law read by one 2-D
linear interpolation over all of the sweep's runs, diverged ones included (the reading
before issue 17). The CLI column says whether
its JSON holds the API's numbers (relative difference below 1e-12).

Run ``python benchmarks/hparams_sweep_shapes.py`` (a few seconds). Results:
``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import tempfile
import warnings

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import scaling_fit as sf  # noqa: E402
from scaling_fit.analysis.hparams_penalty import cell_penalty  # noqa: E402
from scaling_fit.cli.main import main as cli  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "data" / "steplaw" / "dense_lr_bs_loss.csv.gz"
TARGET = (1.073741824e9, 5.69e10)  # the largest cell of the sweep


def lines_of(table: pd.DataFrame, lr_only: bool) -> pd.DataFrame:
    """Per cell, the runs on the LR line (and unless ``lr_only`` the batch line) through the
    cell's best run."""
    keep = []
    for _, runs in table.groupby(["n_params", "tokens"]):
        best = runs.loc[runs["loss"].idxmin()]
        on_lr = np.isclose(runs["batch_size"], best["batch_size"])
        keep.append(runs[on_lr if lr_only else on_lr | np.isclose(runs["lr"], best["lr"])])
    return pd.concat(keep, ignore_index=True)


def on_grid(result: sf.HparamsResult, grid: pd.DataFrame) -> tuple[float, float]:
    """Mean and worst penalty of ``result``'s law read on the full grid of every cell."""
    values = []
    for (n, d), runs in grid.groupby(["n_params", "tokens"]):
        lr = float(result.lr.law.predict(n, d, **result.lr.params))
        batch = np.nan
        if result.batch is not None:
            batch = float(result.batch.law.predict(d, **result.batch.params))
        values.append(cell_penalty(runs.assign(batch_size=runs["batch_size"] * 2048), lr, batch)[0])
    return float(np.nanmean(values)), float(np.nanmax(values))


def two_d(result: sf.HparamsResult, table: pd.DataFrame) -> tuple[float, float]:
    """Mean and worst penalty of ``result``'s law read by one linear interpolation over the
    Delaunay triangles of all of a sweep's runs, diverged ones included (the reading before
    issue 17); NaN when no cell varies both lr and batch."""
    from scipy.interpolate import LinearNDInterpolator

    if result.batch is None:
        return float("nan"), float("nan")
    values = []
    for (n, d), runs in table.groupby(["n_params", "tokens"]):
        lr = float(result.lr.law.predict(n, d, **result.lr.params))
        batch = float(result.batch.law.predict(d, **result.batch.params)) / 2048
        where = np.log(runs[["lr", "batch_size"]].to_numpy(float))
        value = LinearNDInterpolator(where, runs["loss"].to_numpy(float))(np.log(lr), np.log(batch))
        values.append(float(np.ravel(value)[0]) / runs["loss"].min() - 1)
    return float(np.nanmean(values)), float(np.nanmax(values))


def through_cli(path: Path, bootstrap: int) -> dict:
    """The JSON of ``scaling-fit hparams PATH --seq-len 2048`` (defaults otherwise)."""
    out = io.StringIO()
    argv = ["hparams", str(path), "--col", "loss=smooth loss", "--seq-len", "2048"]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = cli([*argv, "--bootstrap", str(bootstrap), "--format", "json"])
    assert code == 0, code
    return json.loads(out.getvalue())


def same(api: sf.HparamsResult, raw: dict) -> bool:
    """Whether the CLI's JSON holds the API's parameters and penalties."""
    pairs = [(api.lr.params[k], raw["lr"]["params"][k]["value"]) for k in api.lr.params]
    if api.batch is not None:
        pairs += [(api.batch.params[k], raw["batch"]["params"][k]["value"]) for k in "cb"]
    elif raw["batch"] is not None:
        return False
    pairs += [(api.penalty["fitted"], raw["penalty"]["fitted"])]
    return all(abs(a - b) <= 1e-12 * abs(a) for a, b in pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", type=int, default=1000)
    args = parser.parse_args()
    grid = sf.load_runs(DATA, columns={"loss": "smooth loss"})
    raw = pd.read_csv(DATA)
    shapes = {"grid": grid, "cross": lines_of(grid, False), "LR-only": lines_of(grid, True)}
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for name, table in shapes.items():
            path = Path(scratch) / f"{name}.csv"
            rows_kept = [int(run.rsplit(":", 1)[1]) - 1 for run in table["run"]]  # "file:ROW"
            raw.iloc[rows_kept].to_csv(path, index=False)  # the released columns, as a user has
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", sf.ScalingFitWarning)
                result = sf.fit_hparams(table, seq_len=2048, bootstrap=args.bootstrap)
            said = " | ".join(str(w.message)[:60] for w in caught)
            at = result.predict(*TARGET).iloc[0]
            batch = "not identified" if np.isnan(at["batch_size"]) else f"{at['batch_size']:.3g}"
            b_exp = "-" if result.batch is None else f"{result.batch.params['b']:.3f}"
            own = result.cells["penalty_fitted"]
            truth = on_grid(result, grid)
            mean_2d, worst_2d = (1e3 * v for v in two_d(result, table))
            read_2d = "-" if np.isnan(mean_2d) else f"{mean_2d:.2f} / {worst_2d:.2f}"
            agrees = same(result, through_cli(path, args.bootstrap))
            rows.append(
                f"| {name} | {len(table)} | {at['lr']:.3g} | {batch} | "
                f"{result.lr.params['a']:.3f} | {result.lr.params['b']:.3f} | {b_exp} | "
                f"{1e3 * own.mean():.2f} / {1e3 * own.max():.2f} | "
                f"{1e3 * truth[0]:.2f} / {1e3 * truth[1]:.2f} | "
                f"{read_2d} | {'same' if agrees else 'DIFFERS'} |"
            )
            print(f"{name}: warnings: {said or 'none'}")
    print(f"\ndefaults, seq_len=2048, bootstrap={args.bootstrap}; eta*, B* at N=1.07e9 D=5.69e10")
    print(
        "| sweep | runs | eta* | B* (tokens) | lr N-exp | lr D-exp | B D-exp | "
        "penalty read on its own runs, mean / worst (permille) | "
        "penalty on the full grid, mean / worst (permille) | "
        "2-D over all runs, mean / worst (permille) | CLI JSON |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
