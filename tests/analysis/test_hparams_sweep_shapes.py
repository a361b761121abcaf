"""fit_hparams and ``scaling-fit hparams`` on sweeps as people run them (issue 17, item 3):
crosses, LR-only lines, cells of one or two runs, diverged runs (loss ~7, NaN, inf), NaN
penalties in JSON, and a sweep counted in sequences without ``--seq-len``."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hparams_sweeps import fit_recording, run, strict_json, sweep

import scaling_fit as sf
from scaling_fit.analysis.hparams_penalty import cell_penalty
from scaling_fit.cli.main import main

DENSE = Path(__file__).resolve().parents[2] / "data" / "steplaw" / "dense_lr_bs_loss.csv.gz"


def lines_of(table: pd.DataFrame, lr_only: bool = False) -> pd.DataFrame:
    """Per cell, the runs on the LR line (and unless ``lr_only`` the batch line) through the
    cell's best run: the cross and LR-only sweeps cut out of a full grid."""
    keep = []
    for _, runs in table.groupby(["n_params", "tokens"]):
        best = runs.loc[runs["loss"].idxmin()]
        on_lr = np.isclose(runs["batch_size"], best["batch_size"])
        keep.append(runs[on_lr if lr_only else on_lr | np.isclose(runs["lr"], best["lr"])])
    return pd.concat(keep, ignore_index=True)


@pytest.fixture(scope="module")
def dense() -> pd.DataFrame:
    return sf.load_runs(DENSE, columns={"loss": "smooth loss"})


@pytest.fixture(scope="module")
def grid_fit(dense: pd.DataFrame) -> sf.HparamsResult:
    return sf.fit_hparams(dense, seq_len=2048, bootstrap=0)


def test_step_law_cross_fits_close_to_the_full_grid(
    dense: pd.DataFrame, grid_fit: sf.HparamsResult
) -> None:
    # Before (issue 17): QhullError / IndexError, and where it ran, a 2-D penalty read across
    # the cross's arms. 342 of the 1,911 runs, 17 cells.
    cross = lines_of(dense)
    assert len(cross) == 342
    result, said = fit_recording(cross, seq_len=2048, bootstrap=0)
    assert "diverged" not in said  # high-LR divergence is expected, counted, not warned
    assert set(result.cells["how_fitted"]) == {"lines"}
    assert result.cells["n_diverged"].sum() == 15
    # The cross keeps each cell's best run and its band along the lines: the exponents move
    # by less than the full grid's bootstrap s.e. (0.060 / 0.043 / 0.053, docs/hparams.md).
    assert result.lr.params["a"] == pytest.approx(grid_fit.lr.params["a"], abs=0.06)
    assert result.lr.params["b"] == pytest.approx(grid_fit.lr.params["b"], abs=0.043)
    assert result.batch.params["b"] == pytest.approx(grid_fit.batch.params["b"], abs=0.053)
    # Penalties read along the measured lines: finite in every cell, of the grid's order
    # (1.04 permille there; 1.5 here), far below the percent-level misreads of a 2-D
    # interpolation across the arms.
    assert result.cells["penalty_fitted"].notna().all()
    assert 0.5e-3 < result.penalty["fitted"] < 3e-3
    # docs/validation.md's table (benchmarks/hparams_sweep_shapes.py): eta* 1.29e-3, B* 8.22e5 at
    # the largest cell, penalty 1.53 permille (3 figures / 2 decimals quoted; point
    # estimates are plain OLS, so exact to rounding).
    row = result.predict(1.073741824e9, 5.69e10).iloc[0]
    assert row["lr"] == pytest.approx(1.29e-3, rel=5e-3)
    assert row["batch_size"] == pytest.approx(8.22e5, rel=5e-3)
    assert result.penalty["fitted"] == pytest.approx(1.53e-3, abs=5e-6)


def test_step_law_lr_only_sweep_predicts_lr_and_says_batch_is_not_identified(
    dense: pd.DataFrame, grid_fit: sf.HparamsResult
) -> None:
    # Before: DataError "no cell ... more than one batch_size" (a refusal of the most common
    # sweep there is).
    line = lines_of(dense, lr_only=True)
    result, said = fit_recording(line, seq_len=2048, bootstrap=100)
    assert "B* is not identified: no cell varies the batch size (an LR-only sweep)" in said
    assert result.batch is None and not result.batch_identified
    row = result.predict(1e9, 4e10).iloc[0]
    # lr* at 1B / 40B within 0.1 dex of the full grid's (the LR line runs at each cell's best
    # batch size, where the grid's optimum lies); B* NaN, never a number.
    grid_lr = grid_fit.predict(1e9, 4e10).iloc[0]["lr"]
    assert abs(np.log10(row["lr"] / grid_lr)) < 0.1
    assert np.isnan(row["batch_size"]) and np.isnan(row["batch_size_upper"])
    assert "B*(D) = c D^b: not identified" in result.report()
    # Both laws' lr is scored along the LR line at the swept batch size (a grid edge).
    assert set(result.cells["how_fitted"]) == {"grid"}
    assert 0 < result.penalty["fitted"] < 2e-3
    # docs/validation.md's table: eta* 1.15e-3 at the largest cell, penalty 0.60 permille.
    assert result.predict(1.073741824e9, 5.69e10).iloc[0]["lr"] == pytest.approx(1.15e-3, rel=5e-3)
    assert result.penalty["fitted"] == pytest.approx(0.60e-3, abs=5e-6)
    raw = strict_json(result.to_json())
    assert raw["batch"] is None
    loaded = sf.HparamsResult.from_json(json.dumps(raw))
    assert loaded.batch is None and loaded.lr.params == pytest.approx(result.lr.params)


def test_synthetic_cross_with_diverged_and_nan_runs() -> None:
    table = sweep("cross")  # 8 cells x 11 runs, runs above 3 lr* at loss ~7
    assert int((table["loss"] > 5).sum()) == 15
    # Crashed runs: the largest batch of the first two cells (NaN), a low LR (inf).
    table.loc[table.index[[7, 18]], "loss"] = np.nan
    table.loc[table.index[1], "loss"] = np.inf
    # Every NaN, inf and loss-~7 run is counted and left out of the optimum.
    n_bad = int((~np.isfinite(table["loss"]) | (table["loss"] > 5)).sum())
    assert n_bad == 18
    result, said = fit_recording(table, bootstrap=0)
    assert result.cells["n_diverged"].sum() == n_bad
    assert f"diverged runs left out: {n_bad} of 88" in result.report()
    # No diverged run is among the near-optimal points the laws are fitted to.
    loss = table["loss"].set_axis([f"row{i}" for i in range(len(table))])  # default run names
    for fit in (result.lr, result.batch):
        assert np.isfinite(loss[fit.data["run"]]).all() and (loss[fit.data["run"]] < 5).all()
    assert set(result.cells["how_fitted"]) == {"lines"}
    # The fitted law recovers the truth's N-exponent -0.5 within 0.15 (a guessed centre off
    # by up to half a factor 2, factor-2 steps) and B's D-exponent 0.5 within 0.1.
    assert result.lr.params["a"] == pytest.approx(-0.5, abs=0.15)
    assert result.batch.params["b"] == pytest.approx(0.5, abs=0.1)
    assert result.penalty["fitted"] < 2e-3
    assert "look like sequences" not in said  # batch sizes in tokens here


def test_published_law_on_a_cross_is_not_read_through_diverged_runs() -> None:
    # The published Step Law's (lr, B) on the synthetic cross lies off both lines. Before,
    # a 2-D interpolation over all runs read 53.9 % and 22.1 % in two cells (triangles
    # reaching the loss-7 runs); along the lines every cell is below 1 %.
    result, _ = fit_recording(sweep("cross"), bootstrap=0)
    published = result.cells["penalty_published"]
    assert published.notna().all() and (published < 0.01).all()
    assert set(result.cells["how_published"]) == {"lines"}


def test_held_out_largest_size_of_a_cross() -> None:
    # The check: the law fitted on the three smaller sizes, asked about the largest:
    # lr* within 0.25 dex of the best run, loss penalty well under 1 %.
    table = sweep("cross")
    small = table[table["n_params"] < 8e8]
    result, _ = fit_recording(small, bootstrap=0)
    for (n, d), runs in table[table["n_params"] == 8e8].groupby(["n_params", "tokens"]):
        lr = float(result.lr.law.predict(n, d, **result.lr.params))
        batch = float(result.batch.law.predict(d, **result.batch.params))
        converged = runs[runs["loss"] < 5]
        best = converged.loc[converged["loss"].idxmin()]
        assert abs(np.log10(lr / best["lr"])) < 0.25
        penalty, how = cell_penalty(runs, lr, batch)
        assert how == "lines" and 0 <= penalty < 5e-3


def test_penalty_is_never_read_across_a_diverged_run() -> None:
    # A cross: LR line at B = 1e5 (16e-3 diverged, loss 7), batch line at lr = 4e-3.
    lrs, batches = [1e-3, 2e-3, 4e-3, 8e-3, 16e-3], [2.5e4, 5e4, 2e5, 4e5]
    cell = pd.DataFrame(
        {
            "lr": lrs + [4e-3] * 4,
            "batch_size": [1e5] * 5 + batches,
            "loss": [3.02, 3.005, 3.0, 3.01, 7.0, 3.03, 3.01, 3.008, 3.03],
        }
    )
    # Between the best run and its neighbours: the two lines add,
    # (3.0 + 0.585*0.01) + (3.0 + 0.678*0.008) - 3.0 = 3.0113, a penalty of 0.376 %.
    penalty, how = cell_penalty(cell, 6e-3, 1.6e5)
    assert how == "lines"
    fraction_lr, fraction_batch = np.log(1.5) / np.log(2), np.log(1.6) / np.log(2)
    expected = (0.01 * fraction_lr + 0.008 * fraction_batch) / 3.0
    assert penalty == pytest.approx(expected, rel=1e-9)
    # Between the last converged run (8e-3) and the diverged one: not measured, and why;
    # a 2-D interpolation over all runs reads the loss-7 run into it.
    penalty, how = cell_penalty(cell, 11e-3, 1e5)
    assert np.isnan(penalty) and how == "next to a diverged run"
    from scipy.interpolate import LinearNDInterpolator

    naive = LinearNDInterpolator(np.log(cell[["lr", "batch_size"]].to_numpy()), cell["loss"])
    assert float(naive(np.log(11e-3), np.log(1e5))) / 3.0 - 1 > 0.5


def test_a_cross_whose_centre_is_not_the_best_run() -> None:
    # The guess (lr 4e-3, B 1e5) was off: the best run is lr 2e-3 on the LR line, and no
    # batch line runs through it. The batch change is read on the cross's batch line at
    # 4e-3 (the additive model anchored at the centre).
    cell = pd.DataFrame(
        {
            "lr": [1e-3, 2e-3, 4e-3, 8e-3, 4e-3, 4e-3],
            "batch_size": [1e5, 1e5, 1e5, 1e5, 5e4, 2e5],
            "loss": [3.01, 3.0, 3.004, 3.02, 3.01, 3.006],
        }
    )
    penalty, how = cell_penalty(cell, 2e-3, 2e5)
    assert how == "lines"
    # L(2e-3, 1e5) + L(4e-3, 2e5) - L(4e-3, 1e5) = 3.0 + 3.006 - 3.004 = 3.002.
    assert penalty == pytest.approx(0.002 / 3.0, rel=1e-9)


def test_cells_of_one_or_two_runs() -> None:
    table = sweep("grid")
    table["run"] = [f"r{i}" for i in range(len(table))]
    cells = table.groupby(["n_params", "tokens"])
    # One cell keeps a single run, another two runs on its LR line; the rest are grids.
    first, second = list(cells.groups)[:2]
    one = table[(table["n_params"] == first[0]) & (table["tokens"] == first[1])].iloc[[17]]
    two = table[(table["n_params"] == second[0]) & (table["tokens"] == second[1])].iloc[[15, 20]]
    rest = table[~table.set_index(["n_params", "tokens"]).index.isin([first, second])]
    result, said = fit_recording(pd.concat([one, two, rest]), bootstrap=50)
    swept = result.cells.set_index(["n_params", "tokens"])["swept"]
    assert swept[first] == "" and swept[second] == "lr"
    # The single run carries no optimum: in neither law; the pair only in the lr law.
    assert one["run"].iloc[0] not in set(result.lr.data["run"]) | set(result.batch.data["run"])
    assert not set(two["run"]) & set(result.batch.data["run"])
    assert set(two["run"]) & set(result.lr.data["run"])
    assert result.lr.params["a"] == pytest.approx(-0.5, abs=0.15)
    assert "edge of the swept grid" in said  # the pair's best is one of its two runs


def test_hparams_cli_on_a_cross_and_an_lr_only_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for shape in ("cross", "lr"):
        (tmp_path / f"{shape}.csv").write_text(sweep(shape).to_csv(index=False))
    code, out, err = run(capsys, "hparams", tmp_path / "cross.csv", "--bootstrap", "50")
    assert code == 0, err
    assert "Traceback" not in err
    assert "B*(D) = c D^b: c " in out and "diverged runs left out: 15 of 88" in out
    hp = tmp_path / "hp.json"
    code, out, err = run(capsys, "hparams", tmp_path / "lr.csv", "--bootstrap", "50", "-o", hp)
    assert code == 0, err
    raw = strict_json(hp.read_text())
    assert raw["batch"] is None
    code, out, err = run(capsys, "hparams", tmp_path / "lr.csv", "--bootstrap", "50")
    assert "B*(D) = c D^b: not identified" in out
    assert "B* is not identified" in out  # the warning, in the report on stdout
    # plan --hparams: the fitted peak LR, the published batch size, and a warning saying so.
    argv = ["plan", "--n-params", "1e9", "--tokens", "2e10", "--hparams", hp, "--format", "json"]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert "does not identify B*" in err
    rows = {r["quantity"]: r for r in strict_json(out)["rows"]}
    assert "fit_hparams" in rows["peak_lr"]["law"] and "published" in rows["batch_size"]["law"]
    published = sf.plan(n_params=1e9, tokens=2e10).set_index("quantity")
    assert rows["batch_size"]["value"] == pytest.approx(published.loc["batch_size", "value"])


def test_nan_penalties_reach_json_as_null_through_the_cli(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Step Law's bs counts sequences: without --seq-len it is fitted in sequences, as the
    # warning says, and the published law (tokens) has no penalty on it: null, not NaN.
    # Before: "Out of range float values are not JSON compliant: nan" and a traceback.
    out_json = tmp_path / "hp.json"
    argv = ["hparams", DENSE, "--col", "loss=smooth loss", "--bootstrap", "0", "-o", out_json]
    code, _, err = run(capsys, *argv)
    assert code == 0, err
    assert "Traceback" not in err
    line = next(x for x in err.splitlines() if "look like sequences" in x)
    assert line.startswith("warning: ") and "sweep's own unit" in line and "--seq-len" in line
    raw = strict_json(out_json.read_text())
    assert raw["penalty"]["published"] is None
    assert raw["penalty"]["fitted"] == pytest.approx(1.04e-3, abs=5e-5)  # unit-free
    assert all(p is None for p in raw["cells"]["penalty_published"])
    code, out, _ = run(capsys, *argv[:-2], "--format", "text")
    assert "published Step Law not measured" in out


def test_every_result_writer_writes_nan_and_inf_as_null() -> None:
    # Every result's to_json and the CLI's JSON go through json_safe, whatever a to_dict
    # missed: strict JSON, never "Out of range float values are not JSON compliant".
    from scaling_fit.cli.common import json_text
    from scaling_fit.results.json_file import JsonResult

    class Stub(JsonResult):
        def to_dict(self) -> dict:
            return {"format": "stub", "v": [np.nan, np.inf, -np.inf, np.float64(2.0)]}

    expected = {"format": "stub", "v": [None, None, None, 2.0]}
    assert strict_json(Stub().to_json()) == expected
    assert strict_json(json_text(Stub().to_dict())) == expected


def test_json_writer_refuses_nan_with_one_line() -> None:
    from scaling_fit.results.json_file import json_dumps
    from scaling_fit.results.json_safe import json_safe

    with pytest.raises(sf.DataError, match=r"not JSON compliant.*field 'cells.p\[1\]' = nan"):
        json_dumps({"cells": {"p": [1.0, float("nan")]}})
    assert json_dumps({"x": json_safe([np.inf, np.nan, 1.0])}) == ('{\n  "x": [null, null, 1.0]\n}')


def test_a_random_search_cell_is_read_in_its_delaunay_triangles() -> None:
    # Runs sharing no lr or batch size (a random search): no grid, no lines. Points in
    # general position have one Delaunay triangulation, so the reading is scipy's linear
    # interpolation (to rounding, 1e-9).
    from scipy.interpolate import LinearNDInterpolator

    rng = np.random.default_rng(1)
    x, y = rng.uniform(-1, 1, 12), rng.uniform(-1, 1, 12)
    cell = pd.DataFrame(
        {"lr": 1e-3 * np.exp(x), "batch_size": 1e5 * np.exp(y), "loss": 3 + 0.01 * (x**2 + y**2)}
    )
    penalty, how = cell_penalty(cell, 1e-3 * np.exp(0.1), 1e5 * np.exp(-0.2))
    reference = LinearNDInterpolator(np.column_stack([x, y]), cell["loss"])(0.1, -0.2)
    assert how == "scattered"
    assert penalty == pytest.approx(float(reference) / cell["loss"].min() - 1, rel=1e-9)
    # A diverged run inside that triangle: not measured.
    diverged = pd.DataFrame({"lr": [1e-3 * np.exp(0.1)], "batch_size": [1e5 * np.exp(-0.2)]})
    with_failure = pd.concat([cell, diverged.assign(loss=7.0)], ignore_index=True)
    assert cell_penalty(with_failure, 1e-3 * np.exp(0.1), 1e5 * np.exp(-0.2))[1] == (
        "next to a diverged run"
    )
    # Three runs on one diagonal span no region: NaN, no QhullError.
    line = pd.DataFrame({"lr": [1e-3, 2e-3, 4e-3], "batch_size": [1e5, 2e5, 4e5], "loss": 3.0})
    penalty, how = cell_penalty(line, 2.5e-3, 2.2e5)
    assert np.isnan(penalty) and how == "outside the swept runs"


def test_cells_whose_lr_lines_all_diverged_say_so() -> None:
    # Per cell only the 3 highest LRs of the line (2, 4, 8 x the guess): the two above 3 lr*
    # diverge (loss ~7), so every cell keeps one converged run and no LR line is left.
    table = sweep("lr").groupby(["n_params", "tokens"]).tail(3)
    with pytest.raises(sf.DataError, match=r"8 of 8 cells have converged runs at one lr only"):
        sf.fit_hparams(table, bootstrap=0)
    with pytest.raises(sf.DataError, match=r"16 of their runs diverged.*lower learning rates"):
        sf.fit_hparams(table, bootstrap=0)


def test_cells_used_by_neither_law_are_named() -> None:
    table = sweep("grid")
    first = table.groupby(["n_params", "tokens"]).ngroup() == 0
    # The first cell keeps one run: it holds no optimum and is in neither law.
    table = pd.concat([table[first].iloc[[17]], table[~first]])
    result, said = fit_recording(table, bootstrap=0)
    assert "1 of 8 cells have their converged runs at a single (lr, batch size)" in said
    assert "neither law uses them" in said
    # Not also called "a single run in the near-optimal band" (its optimum is not used).
    assert not any("N=1e+08 D=2e+09" in m for m in result.warnings if "near-optimal" in m)


def test_predict_says_why_intervals_are_nan_and_when_the_ratio_is_a_guess() -> None:
    # Two cells at 20 tokens per parameter: a and b of the lr law cannot be told apart, and
    # two cells give no bootstrap intervals for either law.
    table = sweep("grid", sizes=(1e8, 2e8))
    table = table[table["tokens"] == 20.0 * table["n_params"]]
    with pytest.warns(sf.ScalingFitWarning):
        result = sf.fit_hparams(table, bootstrap=100)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        row = result.predict(1e9, 4e10).iloc[0]
    said = " ".join(str(w.message) for w in caught)
    assert np.isnan(row["lr_lower"]) and np.isnan(row["batch_size_lower"])
    assert "no interval for lr" in said and "cannot be told apart" in said
    assert "no interval for batch_size" in said and "needs more cells" in said
    assert "lr at 40 tokens per parameter is a guess" in said
    with warnings.catch_warnings(record=True) as caught:  # at the cells' own ratio: no guess
        warnings.simplefilter("always")
        result.predict(1e9, 2e10)
    assert not any("is a guess" in str(w.message) for w in caught)


def test_plan_labels_a_fitted_value_without_interval(tmp_path: Path, capsys) -> None:
    result = sf.fit_hparams(sweep("grid"), bootstrap=0)
    result.to_json(tmp_path / "hp.json")
    path = str(tmp_path / "hp.json")
    code = main(
        ["plan", "--hparams", path, "--n-params", "1e9", "--tokens", "2e10", "--format=json"]
    )
    out, err = capsys.readouterr()
    assert code == 0
    rows = {r["quantity"]: r for r in json.loads(out)["rows"]}
    assert rows["peak_lr"]["lower"] is None
    assert "no bootstrap interval" in rows["peak_lr"]["law"]
    assert "bootstrap percentiles" not in rows["batch_size"]["law"]
    assert "no interval for" not in err  # bootstrap=0 was the user's choice: nothing to warn


def test_lr_only_lines_short_of_the_published_lr_do_not_blame_the_batch_unit() -> None:
    # Two runs per cell at 1/8 and 1/4 of the guessed LR (tokens per step): the published
    # law's lr lies beyond each LR line; batch sizes are not used (B* not identified).
    table = sweep("lr").groupby(["n_params", "tokens"]).head(2)
    result, said = fit_recording(table, bootstrap=0)
    assert result.batch is None and np.isnan(result.penalty["published"])
    assert "the published law's lr lies outside the swept LR line of every cell" in said
    assert "tokens per step" not in said


def test_a_tidy_dataframe_with_sizes_and_rates_as_text_is_read_like_a_csv() -> None:
    table = sweep("cross")
    expected, _ = fit_recording(table, bootstrap=0)
    text = table.assign(
        n_params=[f"{n / 1e6:g}M" for n in table["n_params"]],
        tokens=[f"{d / 1e9:g}B" for d in table["tokens"]],
        lr=[repr(x) for x in table["lr"]],
    )
    result, _ = fit_recording(text, bootstrap=0)
    # The same numbers (100M, 2B are exact; repr round-trips floats): the same fit.
    assert result.lr.params == pytest.approx(expected.lr.params, rel=1e-9)


def test_a_cell_ruined_by_one_low_loss_says_to_check_that_run() -> None:
    table = sweep("cross")
    # One run of the first cell logged at half its loss: every other run of that cell is then
    # above 1.5x its best and counts as diverged.
    table.loc[5, "loss"] *= 0.5
    _, said = fit_recording(table, bootstrap=0)
    assert "1 of 8 cells have their converged runs at a single (lr, batch size)" in said
    assert "Their other 10 runs count as diverged" in said  # a cross cell: 11 runs
    assert "check the best run's loss" in said


def test_holdout_penalty_says_which_left_out_cell_leaves_too_little() -> None:
    # Cells at (1e8, 2e9), (2e8, 4e9), (1e8, 8e9): fittable, but without the only 2e8 cell
    # the rest hold one model size.
    table = sweep("grid", sizes=(1e8, 2e8))
    table = table[table["tokens"].isin([2e9, 4e9, 8e9])]
    with pytest.raises(sf.DataError, match=r"holdout_penalty: without the cell N=2e\+08 D=4e\+09"):
        sf.holdout_penalty(table)
    with pytest.raises(sf.DataError, match=r"^rule='x' is not supported"):  # not a refit's
        sf.holdout_penalty(table, rule="x")


def test_a_batch_only_sweep_is_named_as_such() -> None:
    # The cross's batch line alone (the runs at each cell's guessed LR).
    table = sweep("cross")
    guessed = table.groupby(["n_params", "tokens"])["lr"].transform(lambda x: x.mode().iloc[0])
    batch_line = table[table["lr"] == guessed]
    assert batch_line.groupby(["n_params", "tokens"])["batch_size"].nunique().min() == 5
    with pytest.raises(sf.DataError, match=r"varies only the batch size: a batch-only sweep"):
        sf.fit_hparams(batch_line, bootstrap=0)


def test_seq_len_on_batch_sizes_already_in_tokens_is_warned() -> None:
    # The synthetic sweep's batch sizes are tokens (3.8e4 to 5.7e6): x 2048 is 8e7 to 1e10
    # tokens per step, far beyond any run.
    _, said = fit_recording(sweep("cross"), seq_len=2048, bootstrap=0)
    assert "they look like tokens already. Leave out seq_len= (--seq-len)" in said
    sequences = sweep("cross").assign(batch_size=lambda t: (t["batch_size"] / 2048).round())
    _, said = fit_recording(sequences, seq_len=2048, bootstrap=0)
    assert "look like tokens" not in said


def test_a_dataframe_with_aliased_columns_keeps_its_diverged_runs() -> None:
    # The cross with its diverged runs as NaN (and, in a second frame, inf), under the
    # aliases learning_rate / bs / val_loss and a count column in millions: the same fit and
    # the same diverged count as the canonical frame (was load_runs' "expected a value, found
    # an empty/NaN cell ... nan_policy='omit'", an argument fit_hparams does not take).
    table = sweep("cross")
    table["loss"] = table["loss"].where(table["loss"] < 5.0)
    expected, _ = fit_recording(table, bootstrap=0)
    renamed = {"lr": "learning_rate", "batch_size": "bs", "loss": "val_loss"}
    for marker in (np.nan, np.inf):
        aliased = table.fillna({"loss": marker}).rename(columns=renamed)
        aliased["params (M)"] = aliased.pop("n_params") / 1e6
        result, _ = fit_recording(aliased, bootstrap=0)
        assert result.cells["n_diverged"].sum() == expected.cells["n_diverged"].sum() > 0
        assert result.lr.params == pytest.approx(expected.lr.params, rel=1e-9)
