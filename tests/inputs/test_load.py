"""load_runs(): aliases, suffixes, derivation, curves, and every bad-input message.

Numbers parsed from text are compared exactly (rel=1e-15: one rounding of the float parse);
derived values to rel=1e-15 (one division or product of exactly read floats).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scaling_fit as sf
from scaling_fit.inputs.load import load_runs, parse_number
from scaling_fit.inputs.points import final_points

EPOCH = "epoch_chinchilla/svg_extracted_data.csv"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# ------------------------------------------------------------------------ real data
def test_epoch_chinchilla_file(data_dir: Path) -> None:
    runs = load_runs(data_dir / EPOCH)
    assert len(runs) == 245
    assert list(runs.columns[:5]) == ["run", "n_params", "tokens", "compute", "loss"]
    assert list(runs.columns[5:]) == ["x", "y", "color", "hex_color"]  # others kept, in order
    assert runs.attrs == {
        "derived": {"tokens": "compute / (6 * n_params)"},
        "sources": [str(data_dir / EPOCH)],
    }
    first = runs.iloc[0]
    assert first["run"] == "svg_extracted_data:1"
    assert runs["run"].iloc[-1] == "svg_extracted_data:245"
    # 1e-15: the values as written in the file; pandas' fast float parser may round the last
    # bit differently from Python's (by version and platform).
    assert first["n_params"] == pytest.approx(6795600349.289497, rel=1e-15)
    assert first["compute"] == pytest.approx(9.993852799709755e18, rel=1e-15)
    assert first["tokens"] == pytest.approx(9.993852799709755e18 / (6 * 6795600349.289497), 1e-15)
    assert first["tokens"] == pytest.approx(2.451e8, rel=1e-3)
    assert first["loss"] == pytest.approx(5.005581996196243, rel=1e-15)
    assert first["hex_color"] == "#faebdd"
    assert all(runs[c].dtype == np.float64 for c in ["n_params", "tokens", "compute", "loss"])


# ------------------------------------------------------------------------ numbers
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("125M", 1.25e8),
        ("125m", 1.25e8),
        ("1.3B", 1.3e9),
        ("1.3b", 1.3e9),
        ("2G", 2e9),
        ("2T", 2e12),
        ("6e20", 6e20),
        ("6E+20", 6e20),
        ("3k", 3e3),
        ("3 K", 3e3),
        (".5k", 500.0),
        ("1,000", 1e3),
        ("1,234,567", 1234567.0),
        ("-2.5", -2.5),
        ("  7.5 ", 7.5),
        (42, 42.0),
        (np.float32(0.5), 0.5),
    ],
)
def test_parse_number(text: object, value: float) -> None:
    assert parse_number(text) == pytest.approx(value, rel=1e-15)


@pytest.mark.parametrize("text", ["12x", "", "k", "1e", "3,5", "1,00", "1.2.3", "M5"])
def test_parse_number_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=rf"^'{text}' is not a number \(examples: 125M"):
        parse_number(text)


def test_suffixes_in_every_numeric_column(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.csv",
        'run,step,N,D,C,lr,bs,loss\nr1,1k,125M,2.5B,1.875e18,6e-4,"1,024",3.1\n'
        "r1,2K,125m,5b,3.75E18,3e-4,1k,2.9\n",
    )
    runs = load_runs(path)
    assert runs["step"].tolist() == [1000, 2000]
    assert runs["step"].dtype == np.int64
    assert runs["n_params"].tolist() == [1.25e8, 1.25e8]
    assert runs["tokens"].tolist() == [2.5e9, 5e9]
    assert runs["compute"].tolist() == [1.875e18, 3.75e18]
    assert runs["batch_size"].tolist() == [1024.0, 1000.0]
    assert runs["lr"].tolist() == [6e-4, 3e-4]
    assert runs.attrs["derived"] == {}


def test_numeric_columns_read_as_numbers_and_suffixed_ones_as_text(tmp_path: Path) -> None:
    """pandas' C parser reads a column of plain numbers as float64 (the fast path of a long
    file); a column with unit suffixes stays text for the unit parser; both load right."""
    from scaling_fit.inputs.load import _numeric_column
    from scaling_fit.inputs.sources import _read_csv

    path = write(
        tmp_path / "mixed.csv",
        "run,N,D,loss,seed\nr1,1.25e8,2.5B,3.1,007\nr2,350000000,7B,2.9,008\n",
    )
    raw = _read_csv(str(path), _numeric_column({}))
    assert raw["N"].dtype == np.float64  # read as numbers by pandas: the fast path
    assert raw["D"].tolist() == ["2.5B", "7B"]  # suffixed: text for parse_number
    runs = load_runs(path)
    assert runs["n_params"].tolist() == [1.25e8, 3.5e8]
    assert runs["tokens"].tolist() == [2.5e9, 7e9]
    assert runs["loss"].tolist() == [3.1, 2.9]
    assert runs["run"].tolist() == ["r1", "r2"]
    assert runs["seed"].tolist() == ["007", "008"]  # other columns stay as written


@pytest.mark.parametrize("bad", ["3.1x", "True", "n/a"])
def test_bad_cell_in_a_long_numeric_column_names_row_and_column(tmp_path: Path, bad) -> None:
    """One bad cell among 1,000 plain numbers makes pandas keep the column as text; the
    message still names the file, the row and the column, and quotes the cell as written."""
    losses = [f"{3 - i / 1000:.4f}" for i in range(1000)]
    losses[699] = bad
    rows = "".join(f"r,{i + 1},{loss}\n" for i, loss in enumerate(losses))
    path = write(tmp_path / "long.csv", "run,step,val_loss\n" + rows)
    with pytest.raises(
        sf.DataError,
        match=rf"long\.csv, row 700 \(line 701\), column 'val_loss' \(loss\): expected a "
        rf"number \(e\.g\. 1\.3e9, 125M, 2T\), found '{bad}'; fix or remove that cell",
    ):
        load_runs(path)


def test_a_column_of_booleans_is_quoted_as_written(tmp_path: Path) -> None:
    """pandas reads TRUE/false as booleans; the loader reports the cell as written."""
    path = write(tmp_path / "b.csv", "N,D,loss\nTRUE,2e9,3.0\nfalse,4e9,2.9\n")
    with pytest.raises(sf.DataError, match=r"b\.csv, row 1 \(line 2\), column 'N' .*'TRUE'"):
        load_runs(path)


# ------------------------------------------------------------------------ columns
@pytest.mark.parametrize(
    ("header", "canonical"),
    [
        ("N", "n_params"),
        ("n", "n_params"),
        ("Model Size", "n_params"),
        ("MODEL-SIZE", "n_params"),
        ("param_count", "n_params"),
        ("num_params", "n_params"),
        ("parameters", "n_params"),
        ("Training tokens", "tokens"),
        ("train_tokens", "tokens"),
        ("D", "tokens"),
        ("FLOPs", "compute"),
        ("training_flops", "compute"),
        ("Training FLOP", "compute"),
        ("C", "compute"),
        ("global_step", "step"),
        ("trainer/global_step", "step"),
        ("_step", "step"),
        ("iter", "step"),
        ("Learning Rate", "lr"),
        ("train/lr", "lr"),
        ("global_batch_size", "batch_size"),
        ("bs", "batch_size"),
        ("run_name", "run"),
        ("name", "run"),
    ],
)
def test_column_aliases(tmp_path: Path, header: str, canonical: str) -> None:
    path = write(tmp_path / "a.csv", f"{header},loss\n7,3.0\n8,2.5\n")
    runs = load_runs(path)
    assert runs[canonical].tolist() == ([7, 8] if canonical != "run" else ["7", "8"])
    assert header not in runs.columns


@pytest.mark.parametrize(
    "header", ["loss", "val_loss", "Eval/Loss", "eval_loss", "validation_loss", "train/loss"]
)
def test_loss_aliases(tmp_path: Path, header: str) -> None:
    runs = load_runs(write(tmp_path / "a.csv", f"N,{header}\n1e8,3.0\n1e9,2.5\n"))
    assert runs["loss"].tolist() == [3.0, 2.5]


def test_compute_derived_from_tokens(tmp_path: Path) -> None:
    runs = load_runs(write(tmp_path / "r.csv", "params,Training tokens,Val Loss\n125M,2.5B,3.1\n"))
    assert runs["compute"].iloc[0] == pytest.approx(6 * 1.25e8 * 2.5e9, rel=1e-15)
    assert runs.attrs["derived"] == {"compute": "6 * n_params * tokens"}
    assert list(runs.columns) == ["run", "n_params", "tokens", "compute", "loss"]


def test_explicit_mapping_wins_over_aliases(tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.csv", "N,D,loss,loss_c4,size\n1e8,2e9,3.0,4.0,5\n1e9,2e10,2.5,3.5,6\n"
    )
    runs = load_runs(path, columns={"loss": "loss_c4"})
    assert runs["loss"].tolist() == [4.0, 3.5]
    assert runs["loss_unused"].tolist() == ["3.0", "2.5"]  # the superseded column, kept as read
    runs = load_runs(path, columns={"n_params": "size", "loss": "loss"})
    assert runs["n_params"].tolist() == [5.0, 6.0]
    assert runs["N"].tolist() == ["1e8", "1e9"]  # an alias that lost stays an ordinary column


def test_explicit_mapping_errors(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "N,D,loss_c4\n1e8,2e9,3.0\n1e9,2e10,2.5\n")
    with pytest.raises(
        sf.DataError,
        match=r"r\.csv: columns=\{'loss': 'nope'\} but no such column; found "
        r"\['N', 'D', 'loss_c4'\]",
    ):
        load_runs(path, columns={"loss": "nope"})
    with pytest.raises(
        sf.DataError, match=r"columns= names \['losss'\]; expected canonical .*'run'"
    ):
        load_runs(path, columns={"losss": "loss_c4"})
    with pytest.raises(sf.DataError, match=r"maps two canonical names to one column"):
        load_runs(path, columns={"loss": "loss_c4", "tokens": "loss_c4"})


def test_two_loss_columns_are_ambiguous(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "N,train_loss,val_loss\n1e8,3.0,3.1\n1e9,2.5,2.6\n")
    with pytest.raises(
        sf.DataError,
        match=r"r\.csv: columns 'train_loss' and 'val_loss' both look like 'loss'.*"
        r"columns=\{'loss': 'val_loss'\} or columns=\{'loss': 'train_loss'\}",
    ):
        load_runs(path)
    assert load_runs(path, columns={"loss": "val_loss"})["loss"].tolist() == [3.1, 2.6]


# ------------------------------------------------------------------------ sources and runs
def test_glob_list_and_curves(tmp_path: Path) -> None:
    write(tmp_path / "a.csv", "step,lr,loss\n10,1e-3,4.0\n20,1e-3,3.5\n")
    write(tmp_path / "b.csv", "step,lr,loss\n10,1e-3,4.1\n30,1e-4,3.2\n20,5e-4,3.4\n")
    by_glob = load_runs(str(tmp_path / "*.csv"))
    by_list = load_runs([tmp_path / "a.csv", str(tmp_path / "b.csv"), tmp_path / "*.csv"])
    pd.testing.assert_frame_equal(by_glob, by_list)  # a file matched twice is read once
    assert by_glob.attrs["sources"] == [str(tmp_path / "a.csv"), str(tmp_path / "b.csv")]
    assert by_glob["run"].tolist() == ["a", "a", "b", "b", "b"]
    assert by_glob["step"].dtype == np.int64
    assert list(by_glob.index) == [0, 1, 2, 3, 4]
    final = final_points(by_glob)
    assert final[["run", "step", "loss"]].values.tolist() == [["a", 20, 3.5], ["b", 30, 3.2]]
    assert list(final.index) == [1, 3]


def test_files_sharing_a_stem_are_named_by_path(tmp_path: Path) -> None:
    write(tmp_path / "x" / "metrics.csv", "step,loss\n1,4.0\n2,3.0\n")
    write(tmp_path / "y" / "metrics.csv", "step,loss\n1,4.5\n2,3.5\n")
    runs = load_runs(str(tmp_path / "*" / "metrics.csv"))
    assert runs["run"].unique().tolist() == ["x/metrics.csv", "y/metrics.csv"]
    assert final_points(runs)["loss"].tolist() == [3.0, 3.5]


def test_run_column_and_final_points_without_step(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "run_id,N,loss\n7,1e8,3.0\n8,1e9,2.5\n")
    runs = load_runs(path)
    assert runs["run"].tolist() == ["7", "8"]
    assert final_points(runs) is runs


def test_dataframe_source_is_copied_not_modified() -> None:
    frame = pd.DataFrame(
        {"N": ["1e8", "1B"], "D": [2e9, 2e10], "loss": [3.0, 2.5]}, index=["p", "q"]
    )
    before = frame.copy()
    runs = load_runs(frame)
    pd.testing.assert_frame_equal(frame, before)
    assert runs["run"].tolist() == ["run:1", "run:2"]
    assert runs["n_params"].tolist() == [1e8, 1e9]
    assert runs.attrs["sources"] == ["<DataFrame>"]
    runs.loc[0, "loss"] = 9.0
    assert frame.loc["p", "loss"] == 3.0


def test_blank_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    path = write(tmp_path / "b.csv", "N,loss\n1e8,3.0\n\n1e9,-2.5\n")
    with pytest.raises(sf.DataError, match=r"b\.csv, row 3 \(line 4\), column 'loss'"):
        load_runs(path)


# ------------------------------------------------------------------------ bad input
def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(sf.DataError, match=r"nope\.csv: file not found \(cwd: .*check the path"):
        load_runs(tmp_path / "nope.csv")


def test_glob_matches_nothing(tmp_path: Path) -> None:
    with pytest.raises(sf.DataError, match=r"no file matches '.*[/\\]\*\.csv'.*check the pattern"):
        load_runs(str(tmp_path / "*.csv"))
    with pytest.raises(sf.DataError, match=r"no files given"):
        load_runs([])


@pytest.mark.parametrize("source", [None, 3.5, [Path("a.csv"), 7]])
def test_a_source_that_is_not_a_path_or_frame(source: object) -> None:
    # Was a TypeError from inside the loader ('NoneType' object is not iterable).
    with pytest.raises(sf.DataError, match=r"expected runs as a DataFrame, a CSV path"):
        load_runs(source)


def test_empty_and_header_only(tmp_path: Path) -> None:
    with pytest.raises(sf.DataError, match=r"e\.csv: the file is empty; expected a CSV header"):
        load_runs(write(tmp_path / "e.csv", ""))
    with pytest.raises(sf.DataError, match=r"h\.csv: no data rows below the header \['N', 'loss'"):
        load_runs(write(tmp_path / "h.csv", "N,loss\n"))
    with pytest.raises(sf.DataError, match=r"<DataFrame>: no data rows below the header \['N'"):
        load_runs(pd.DataFrame({"N": [], "loss": []}))


def test_no_loss_column(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "N,D,ppl\n1e8,2e9,20\n")
    with pytest.raises(
        sf.DataError,
        match=r"r\.csv: no loss column; expected 'loss' or one of \['val_loss'.*found "
        r"\['N', 'D', 'ppl'\]\. Name yours with columns=\{'loss': '<column>'\}",
    ):
        load_runs(path)


def test_unparseable_number_names_file_row_and_column(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "Model Size,D,loss\n1e8,2e9,3.0\n12x,2e10,2.5\n")
    with pytest.raises(
        sf.DataError,
        match=r"r\.csv, row 2 \(line 3\), column 'Model Size' \(n_params\): expected a number "
        r"\(e\.g\. 1\.3e9, 125M, 2T\), found '12x'",
    ):
        load_runs(path)


@pytest.mark.parametrize(
    ("header", "value", "expected"),
    [
        ("N", "-1", "'N' \\(n_params\\): expected a finite number > 0, found -1\\.0"),
        ("N", "0", "'N' \\(n_params\\): expected a finite number > 0, found 0\\.0"),
        ("D", "0", "'D' \\(tokens\\): expected a finite number > 0, found 0\\.0"),
        ("FLOPs", "-6e20", "'FLOPs' \\(compute\\): expected a finite number > 0, found -6e\\+20"),
        ("bs", "0", "'bs' \\(batch_size\\): expected a finite number > 0, found 0\\.0"),
        ("loss", "-2", "'loss': expected a finite number > 0, found -2\\.0"),
        ("lr", "-1e-3", "'lr': expected a finite number ≥ 0, found -0\\.001"),
        ("step", "-5", "'step': expected a finite number ≥ 0, found -5\\.0"),
    ],
)
def test_out_of_range_values(tmp_path: Path, header: str, value: str, expected: str) -> None:
    cells = {"run": "r", "step": "1", "N": "1e8", "D": "2e9", "FLOPs": "1.2e18", "bs": "256"}
    cells |= {"lr": "1e-3", "loss": "3.0"}
    good = ",".join(cells.values()).replace("r,1,", "r,2,").replace(",3.0", ",2.5")
    cells[header] = value
    path = write(tmp_path / "v.csv", f"{','.join(cells)}\n{good}\n{','.join(cells.values())}\n")
    with pytest.raises(sf.DataError, match=rf"v\.csv, row 2 \(line 3\), column {expected}"):
        load_runs(path)


def test_zero_learning_rate_is_allowed(tmp_path: Path) -> None:
    runs = load_runs(write(tmp_path / "z.csv", "step,lr,loss\n0,0,4.0\n1,1e-3,3.0\n"))
    assert runs["lr"].tolist() == [0.0, 1e-3]


def test_nan_raises_by_default_and_omit_warns(tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.csv", "N,D,loss\n1e8,2e9,3.0\n1e9,,2.5\n1e10,2e11,NaN\n2e10,4e11,2\n"
    )
    with pytest.raises(
        sf.DataError,
        match=r"r\.csv, row 2 \(line 3\), column 'D' \(tokens\): expected a value, found an "
        r"empty/NaN cell \(2 of 4 rows have one\).*nan_policy='omit'",
    ):
        load_runs(path)
    with pytest.warns(sf.ScalingFitWarning, match=r"r\.csv: dropped 2 of 4 rows") as record:
        runs = load_runs(path, nan_policy="omit")
    assert record[0].filename == __file__  # the warning points at the caller
    assert runs["n_params"].tolist() == [1e8, 2e10]
    assert list(runs.index) == [0, 1]


def test_omit_keeps_row_numbers_in_later_errors(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "N,loss\n1e8,\n1e9,2.5\n2e9,-1\n")
    with pytest.raises(sf.DataError, match=r"r\.csv, row 3 \(line 4\), column 'loss'"):
        load_runs(path, nan_policy="omit")


def test_omit_that_leaves_no_rows_raises(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "N,loss\n1e8,\n1e9,nan\n")
    with pytest.raises(sf.DataError, match=r"row 1 \(line 2\), column 'loss'.*2 of 2 rows"):
        load_runs(path, nan_policy="omit")


def test_missing_run_name_is_nan(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "run,N,loss\na,1e8,3\n,1e9,2.5\n")
    with pytest.raises(sf.DataError, match=r"r\.csv, row 2 \(line 3\), column 'run': expected a"):
        load_runs(path)


def test_unknown_nan_policy(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "N,loss\n1e8,3.0\n1e9,2.5\n")
    with pytest.raises(sf.DataError, match=r"nan_policy='drop' is not supported: use 'raise' or"):
        load_runs(path, nan_policy="drop")


@pytest.mark.parametrize("cell", ["inf", "-inf", "Infinity"])
def test_infinite_values_always_raise(tmp_path: Path, cell: str) -> None:
    path = write(tmp_path / "r.csv", f"N,C,loss\n1e8,2e18,3.0\n1e9,{cell},2.5\n")
    with pytest.raises(
        sf.DataError, match=r"row 2 \(line 3\), column 'C' \(compute\): .*found -?inf"
    ):
        load_runs(path, nan_policy="omit")


def test_duplicate_rows_name_both(tmp_path: Path) -> None:
    text = "N,D,loss,note\n1e8,2e9,3.0,a\n1e9,2e10,2.5,b\n2e9,4e10,2.4,c\n1e9,20B,2.5,d\n"
    with pytest.raises(
        sf.DataError,
        match=r"r\.csv, row 4 \(line 5\) repeats row 2 \(line 3\) exactly \(same \['n_params'",
    ):
        load_runs(write(tmp_path / "r.csv", text))
    frame = pd.DataFrame({"N": [1.0, 2.0, 1.0], "loss": [3.0, 2.0, 3.0]}, index=[5, 6, 7])
    with pytest.raises(sf.DataError, match=r"<DataFrame>, index 7 repeats index 5 exactly"):
        load_runs(frame)


def test_duplicate_steps_in_a_curve(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "step,loss\n10,4.0\n20,3.5\n30,3.3\n20,3.4\n")
    with pytest.raises(
        sf.DataError,
        match=r"c\.csv, row 4 \(line 5\): run 'c' logs step 20 again \(also at .*c\.csv, row 2 "
        r"\(line 3\)\)",
    ):
        load_runs(path)


def test_duplicate_steps_across_files(tmp_path: Path) -> None:
    write(tmp_path / "a.csv", "run,step,loss\nr,10,4.0\nr,20,3.5\n")
    write(tmp_path / "b.csv", "run,step,loss\nr,30,3.2\nr,20,3.4\n")
    with pytest.raises(
        sf.DataError, match=r"b\.csv, row 2 \(line 3\): run 'r' logs step 20 again .*a\.csv, row 2"
    ):
        load_runs(str(tmp_path / "*.csv"))


def test_files_with_different_columns(tmp_path: Path) -> None:
    write(tmp_path / "a.csv", "step,lr,loss\n10,1e-3,4.0\n20,1e-3,3.5\n")
    write(tmp_path / "b.csv", "step,loss\n10,4.1\n20,3.4\n")
    with pytest.raises(
        sf.DataError,
        match=r"b\.csv has columns \['run', 'step', 'loss'\] but .*a\.csv has \['run', 'step', "
        r"'lr', 'loss'\]",
    ):
        load_runs(str(tmp_path / "*.csv"))


def test_constant_loss_column(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "N,D,eval_loss\n1e8,2e9,3.0\n1e9,2e10,3.0\n")
    with pytest.raises(
        sf.DataError,
        match=r"r\.csv: column 'eval_loss' \(loss\) has the same value 3\.0 in all 2 rows",
    ):
        load_runs(path)
    assert load_runs(write(tmp_path / "one.csv", "N,loss\n1e8,3.0\n"))["loss"].tolist() == [3.0]


def test_dataframe_errors_name_the_index() -> None:
    frame = pd.DataFrame({"N": [1e8, 0.0], "D": [2e9, 2e10], "loss": [3.0, 2.5]}, index=[7, 9])
    with pytest.raises(sf.DataError, match=r"<DataFrame>, index 9, column 'N' \(n_params\): .* 0"):
        load_runs(frame)
    frame = pd.DataFrame({"N": ["1e8", "lots"], "loss": [3.0, 2.5]}, index=["a", "b"])
    with pytest.raises(sf.DataError, match=r"<DataFrame>, index 'b', column 'N'.*found 'lots'"):
        load_runs(frame)


def test_data_error_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="file not found"):
        load_runs(tmp_path / "nope.csv")


@pytest.mark.parametrize("body", ["1e8,3.0,extra\n1e9,2.5\n", "1e8,3.0\n1e9,2.5,x,y\n"])
def test_rows_with_extra_fields(tmp_path: Path, body: str) -> None:
    path = write(tmp_path / "x.csv", "N,loss\n" + body)
    with pytest.raises(
        sf.DataError, match=r"x\.csv: not a readable CSV \(.*\); expected one header"
    ):
        load_runs(path)


def test_wide_csv_reads_like_a_narrow_one(tmp_path: Path, monkeypatch) -> None:
    # Files wider than WIDE_COLUMNS are read by the csv module: same table (blank lines
    # dropped but counted in row numbers, short rows padded, quoted commas) as pandas gives.
    from scaling_fit.inputs import sources

    text = 'run,N,D,loss,note\na,1e8,2e9,3.0,"x, y"\n\n b,2e8,4e9,2.9\n , , , ,\nc,4e8,8e9,2.8,z\n'
    path = write(tmp_path / "w.csv", text)
    narrow = sf.load_runs(path)
    monkeypatch.setattr(sources, "WIDE_COLUMNS", 2)
    pd.testing.assert_frame_equal(sf.load_runs(path), narrow)
    bad = write(tmp_path / "bad.csv", "N,D,loss\n1e8,2e9,3.0\n1e9,2e10,2.5,7\n")
    with pytest.raises(
        sf.DataError, match=r"bad\.csv: not a readable CSV .*Expected 3 fields in line 3, saw 4"
    ):
        sf.load_runs(bad)
    with pytest.raises(sf.DataError, match=r"row 3 \(line 4\), column 'loss'"):
        sf.load_runs(write(tmp_path / "r.csv", "N,D,loss\n1e8,2e9,3.0\n\n1e9,2e10,-2.5\n"))


def test_plain_column_fast_path_keeps_the_number_syntax(tmp_path: Path) -> None:
    # Python's float() reads "1_000"; our number syntax does not (commas group thousands),
    # so the one-pass conversion of plain columns must hand such a column to the parser.
    path = write(tmp_path / "u.csv", "N,D,loss\n1e8,2e9,3.0\n1_000,2e10,2.5\n")
    with pytest.raises(sf.DataError, match=r"row 2 \(line 3\), column 'N'.*found '1_000'"):
        sf.load_runs(path)


def test_run_names_are_the_rows_messages_count(tmp_path: Path) -> None:
    # A final-loss CSV without a run column names each row FILE:ROW, ROW counted as the
    # messages count it (data rows from 1, blank lines included), so a run name in a report
    # and a row in an error point at the same line even after rows are left out.
    path = tmp_path / "runs.csv"
    path.write_text("n_params,tokens,loss\n1e8,2e9,3.1\n\n2e8,4e9,\n4e8,8e9,2.8\n")
    with pytest.raises(sf.DataError, match=r"row 3 \(line 4\), column 'loss'"):
        load_runs(path)
    with pytest.warns(sf.ScalingFitWarning, match="omit"):
        runs = load_runs(path, nan_policy="omit")
    assert runs["run"].tolist() == ["runs:1", "runs:4"]
