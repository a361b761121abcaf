"""load_runs(): aliases, suffixes, derivation, curves, and every bad-input message."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scaling_fit as sf
from scaling_fit.io import final_points, parse_number


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_epoch_file_aliases_and_derived_tokens(data_dir: Path) -> None:
    runs = sf.load_runs(data_dir / "epoch_chinchilla/svg_extracted_data.csv")
    assert len(runs) == 245
    assert list(runs.columns[:5]) == ["run", "n_params", "tokens", "compute", "loss"]
    assert runs.attrs["derived"] == {"tokens": "compute / (6 * n_params)"}
    first = runs.iloc[0]
    assert first["n_params"] == 6795600349.289497
    assert first["tokens"] == pytest.approx(9.993852799709755e18 / (6 * 6795600349.289497), 1e-15)
    assert first["run"] == "svg_extracted_data:1"
    assert "hex_color" in runs.columns  # other columns kept unchanged


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("125M", 1.25e8),
        ("1.3B", 1.3e9),
        ("2T", 2e12),
        ("6e20", 6e20),
        ("3k", 3e3),
        ("1,000", 1e3),
        ("  7.5 ", 7.5),
        ("2g", 2e9),
    ],
)
def test_parse_number(text: str, value: float) -> None:
    assert parse_number(text) == pytest.approx(value, rel=1e-15)


def test_parse_number_rejects() -> None:
    with pytest.raises(ValueError, match=r"'12x' is not a number"):
        parse_number("12x")


def test_aliases_suffixes_and_compute_derivation(tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.csv", "Params,Training tokens,Val Loss\n125M,2.5B,3.1\n1.3B,26B,2.6\n"
    )
    runs = sf.load_runs(path)
    np.testing.assert_allclose(runs["n_params"], [1.25e8, 1.3e9])
    np.testing.assert_allclose(runs["compute"], 6 * runs["n_params"] * runs["tokens"])
    assert runs.attrs["derived"] == {"compute": "6 * n_params * tokens"}


def test_explicit_column_mapping(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "N,D,loss_c4,loss_x\n1e8,2e9,3.0,4.0\n1e9,2e10,2.5,3.5\n")
    runs = sf.load_runs(path, columns={"loss": "loss_c4"})
    np.testing.assert_allclose(runs["loss"], [3.0, 2.5])
    with pytest.raises(sf.DataError, match=r"no column 'nope'; the file has \['N', 'D'"):
        sf.load_runs(path, columns={"loss": "nope"})
    with pytest.raises(sf.DataError, match=r"columns= names \['losss'\]"):
        sf.load_runs(path, columns={"losss": "loss_c4"})


def test_two_loss_columns_are_ambiguous(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "N,D,train_loss,val_loss\n1e8,2e9,3.0,3.1\n1e9,2e10,2.5,2.6\n")
    with pytest.raises(sf.DataError, match=r"'train_loss' and 'val_loss' both look like 'loss'"):
        sf.load_runs(path)


def test_glob_list_and_curves(tmp_path: Path) -> None:
    write(tmp_path / "a.csv", "step,lr,loss\n10,1e-3,4.0\n20,1e-3,3.5\n")
    write(tmp_path / "b.csv", "step,lr,loss\n10,1e-3,4.1\n20,5e-4,3.4\n30,1e-4,3.2\n")
    by_glob = sf.load_runs(str(tmp_path / "*.csv"))
    by_list = sf.load_runs([tmp_path / "a.csv", tmp_path / "b.csv"])
    pd.testing.assert_frame_equal(by_glob, by_list)
    assert list(by_glob["run"].unique()) == ["a", "b"]
    assert by_glob["step"].dtype == np.int64
    final = final_points(by_glob)
    assert final[["run", "step"]].values.tolist() == [["a", 20], ["b", 30]]


def test_dataframe_source_is_not_modified() -> None:
    frame = pd.DataFrame({"N": ["1e8", "1e9"], "D": [2e9, 2e10], "loss": [3.0, 2.5]})
    before = frame.copy()
    runs = sf.load_runs(frame)
    pd.testing.assert_frame_equal(frame, before)
    assert list(runs["run"]) == ["run:1", "run:2"]


# ------------------------------------------------------------------------ bad input
def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(sf.DataError, match=r"nope\.csv: file not found"):
        sf.load_runs(tmp_path / "nope.csv")


def test_glob_matches_nothing(tmp_path: Path) -> None:
    with pytest.raises(sf.DataError, match=r"no file matches .*\*\.csv"):
        sf.load_runs(str(tmp_path / "*.csv"))


def test_empty_and_header_only(tmp_path: Path) -> None:
    with pytest.raises(sf.DataError, match=r"e\.csv: the file is empty"):
        sf.load_runs(write(tmp_path / "e.csv", ""))
    with pytest.raises(sf.DataError, match=r"h\.csv: no data rows below the header"):
        sf.load_runs(write(tmp_path / "h.csv", "N,D,loss\n"))


def test_no_loss_column(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "N,D,ppl\n1e8,2e9,20\n")
    with pytest.raises(
        sf.DataError, match=r"r\.csv: no loss column.*\['N', 'D', 'ppl'\].*columns="
    ):
        sf.load_runs(path)


def test_unparseable_number_names_file_row_and_column(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "Model Size,D,loss\n1e8,2e9,3.0\n12x,2e10,2.5\n")
    with pytest.raises(
        sf.DataError, match=r"r\.csv, row 2 \(line 3\), column 'n_params': expected a number.*'12x'"
    ):
        sf.load_runs(path)


@pytest.mark.parametrize("column", ["N", "D", "loss"])
def test_non_positive_values(tmp_path: Path, column: str) -> None:
    values = {"N": "1e8", "D": "2e9", "loss": "3.0"}
    values[column] = "-1"
    row = ",".join(values.values())
    path = write(tmp_path / "r.csv", f"N,D,loss\n1e9,2e10,2.5\n{row}\n")
    canonical = {"N": "n_params", "D": "tokens", "loss": "loss"}[column]
    with pytest.raises(
        sf.DataError, match=rf"row 2 \(line 3\), column '{canonical}': expected a positive.*-1\.0"
    ):
        sf.load_runs(path)


def test_nan_raises_by_default_and_omit_warns(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "N,D,loss\n1e8,2e9,3.0\n1e9,,2.5\n1e10,2e11,2.1\n")
    with pytest.raises(sf.DataError, match=r"row 2 \(line 3\), column 'tokens'.*nan_policy='omit'"):
        sf.load_runs(path)
    with pytest.warns(sf.ScalingFitWarning, match=r"r\.csv: dropped 1 of 3 rows"):
        runs = sf.load_runs(path, nan_policy="omit")
    assert len(runs) == 2
    with pytest.raises(sf.DataError, match=r"nan_policy='drop' is not supported"):
        sf.load_runs(path, nan_policy="drop")


def test_infinite_values_always_raise(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "N,D,loss\n1e8,2e9,inf\n1e9,2e10,2.5\n")
    with pytest.raises(sf.DataError, match=r"row 1 \(line 2\), column 'loss'.*found inf"):
        sf.load_runs(path, nan_policy="omit")


def test_duplicate_rows(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "N,D,loss\n1e8,2e9,3.0\n1e9,2e10,2.5\n1e8,2e9,3.0\n")
    with pytest.raises(sf.DataError, match=r"row 3 \(line 4\) repeats row 1 \(line 2\) exactly"):
        sf.load_runs(path)


def test_duplicate_steps_in_a_curve(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "step,loss\n10,4.0\n20,3.5\n20,3.4\n")
    with pytest.raises(sf.DataError, match=r"run 'c' logs step 20 twice"):
        sf.load_runs(path)


def test_constant_loss_column(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "N,D,loss\n1e8,2e9,3.0\n1e9,2e10,3.0\n")
    with pytest.raises(sf.DataError, match=r"'loss' has the same value 3\.0 in all 2 rows"):
        sf.load_runs(path)


def test_dataframe_errors_name_the_index() -> None:
    frame = pd.DataFrame({"N": [1e8, 0.0], "D": [2e9, 2e10], "loss": [3.0, 2.5]}, index=[7, 9])
    with pytest.raises(sf.DataError, match=r"<DataFrame>, index 9, column 'n_params'"):
        sf.load_runs(frame)
