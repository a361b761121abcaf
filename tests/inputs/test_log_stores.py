"""TensorBoard event files and MLflow stores read in place (issue 20), through API and CLI.

The files and stores are written with the field's own libraries (``tests/log_stores.py``),
loaded with ``sf.load_runs(DIR)`` / ``scaling-fit fit DIR``, and compared with the same data
read from a CSV: the same tidy table, the same fitted parameters.  Each extra's tests skip
without it; the missing-extra message is tested without either (the import is refused).
"""

from __future__ import annotations

import json
import re
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest
from log_stores import (
    copy_store,
    empty_store,
    ladder,
    ladder_csv,
    log_runs,
    write_tensorboard,
    write_tensorboard_ladder,
)

import scaling_fit as sf
from scaling_fit.cli.main import main

COLUMNS = ["run", "step", "n_params", "tokens", "compute", "lr", "batch_size", "loss"]


@pytest.fixture
def tensorboard():
    return pytest.importorskip("tensorboard")


@pytest.fixture(scope="module")
def mlflow_empty(tmp_path_factory):
    pytest.importorskip("mlflow")
    return empty_store(tmp_path_factory.mktemp("mlflow") / "empty.db")


def tidy(table: pd.DataFrame) -> pd.DataFrame:
    return table[COLUMNS].sort_values(["run", "step"]).reset_index(drop=True)


def fit_params(source, **load) -> dict[str, float]:
    runs = sf.load_runs(source, **load)
    with warnings.catch_warnings():  # the fit's own notes (bounds, identifiability): same data
        warnings.simplefilter("ignore", sf.ScalingFitWarning)
        return sf.fit(runs, "chinchilla", progress=False).params


def cli_params(capsys, source) -> dict[str, float]:
    code = main(["fit", str(source), "--law", "chinchilla", "--format", "json", "--quiet"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Traceback" not in err
    return {name: value["value"] for name, value in json.loads(out)["params"].items()}


def same_table(found: pd.DataFrame, expected: pd.DataFrame) -> None:
    # The same numbers: pandas 2.0's CSV parser (the lowest allowed) may read a 17-digit
    # number 1-2 ulp off (1.2e-13 relative seen on an LR), so not bit for bit.
    pd.testing.assert_frame_equal(tidy(found), tidy(expected), check_exact=False, rtol=1e-12)


def same_params(found: dict[str, float], expected: dict[str, float]) -> None:
    # Same data, same deterministic fit: bit for bit with pandas >= 2.2; pandas 2.0's ulp
    # differences in the CSV (above) move this nearly flat optimum by ~4e-9 relative, so
    # 1e-6: far below what a changed point or a different run set does (> 1e-3).
    assert found.keys() == expected.keys()
    for name, value in expected.items():
        assert found[name] == pytest.approx(value, rel=1e-6), name


# ----------------------------------------------------------------------- TensorBoard
@pytest.mark.parametrize("simple", [False, True], ids=["tensor-scalars", "simple-values"])
def test_tensorboard_dir_reads_as_the_csv_and_fits_the_same(
    tensorboard, tmp_path: Path, capsys, simple: bool
) -> None:
    runs = ladder()
    csv = ladder_csv(tmp_path / "ladder.csv", runs)
    root = write_tensorboard_ladder(tmp_path / "tb", runs, simple=simple)
    from_csv, from_tb = sf.load_runs(csv), sf.load_runs(root)
    # Run names from the folders, n_params and batch_size from hparams, tokens derived;
    # train/grad_norm (logged more often, not a canonical column) is not read.
    same_table(from_tb, from_csv)
    assert list(from_tb.columns) == COLUMNS
    expected = fit_params(csv)
    same_params(fit_params(root), expected)
    same_params(cli_params(capsys, root), expected)
    same_params(cli_params(capsys, csv), expected)


def test_one_folder_of_event_files_is_one_run_named_after_it(tensorboard, tmp_path) -> None:
    scalars, _ = ladder()["100M-004k"]
    path = write_tensorboard(tmp_path / "my-run", scalars)
    for source in (tmp_path / "my-run", path):  # the folder, or the event file itself
        table = sf.load_runs(source)
        assert set(table["run"]) == {"my-run"}
        assert table["step"].tolist() == [s for s, _ in scalars["train/loss"]]


def test_col_maps_a_tag_and_aliases_clash_as_in_a_csv(tensorboard, tmp_path, capsys) -> None:
    write_tensorboard(
        tmp_path / "r",
        {"train/loss": [(100, 3.0), (200, 2.5)], "eval/loss": [(100, 3.1), (200, 2.6)]},
    )
    with pytest.raises(sf.DataError, match=r"'train/loss' and 'eval/loss' both look like 'loss'"):
        sf.load_runs(tmp_path)
    table = sf.load_runs(tmp_path, columns={"loss": "eval/loss"})
    assert table["loss"].tolist() == pytest.approx([3.1, 2.6], rel=1e-7)  # float32 in file
    assert "train/loss" not in table.columns


def test_scalars_at_different_steps_join_on_step_without_interpolation(
    tensorboard, tmp_path
) -> None:
    loss = [(s, 3.0 - s / 1000) for s in range(100, 1001, 100)]
    lr = [(s, 1e-3) for s in range(50, 1001, 50)]
    write_tensorboard(tmp_path / "r", {"loss": loss, "lr": lr})
    with pytest.raises(sf.DataError, match=r"step 50, column 'loss': expected a value"):
        sf.load_runs(tmp_path)
    with pytest.warns(sf.ScalingFitWarning, match=r"dropped 10 of 20 rows"):
        table = sf.load_runs(tmp_path, nan_policy="omit")
    assert table["step"].tolist() == [s for s, _ in loss]


def test_truncated_event_file_reads_what_is_intact(tensorboard, tmp_path) -> None:
    scalars = {"loss": [(s, 3.0 - s / 1000) for s in range(1, 11)]}
    path = write_tensorboard(tmp_path / "r", scalars, simple=True)
    data = path.read_bytes()
    path.write_bytes(data[:-7])  # a job killed mid-write: the last record cut short
    with pytest.warns(sf.ScalingFitWarning, match=r"read 10 intact records, dropped 1 record "):
        table = sf.load_runs(tmp_path)
    assert table["step"].tolist() == list(range(1, 10))  # every step but the last


def test_corrupt_record_is_dropped_and_the_rest_read(tensorboard, tmp_path) -> None:
    scalars = {"loss": [(s, 3.0 - s / 1000) for s in range(1, 11)]}
    path = write_tensorboard(tmp_path / "r", scalars, simple=True)
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF  # a byte of the last record's data: its checksum fails
    path.write_bytes(bytes(data))
    with pytest.warns(sf.ScalingFitWarning, match=r"read 10 intact records, dropped 1 record$"):
        table = sf.load_runs(tmp_path)
    assert table["step"].tolist() == list(range(1, 10))
    data[8] ^= 0xFF  # the first record's length checksum: nothing after it can be found
    path.write_bytes(bytes(data))
    with pytest.raises(sf.DataError, match=r"its tags: none.*read 0 intact records, dropped the"):
        sf.load_runs(tmp_path)  # the error says why there is nothing


def test_restart_duplicates_keep_the_later_write(tensorboard, tmp_path) -> None:
    first = {"loss": [(s, 3.0) for s in range(100, 1001, 100)]}
    again = {"loss": [(s, 2.0) for s in range(600, 1501, 100)]}  # resumed from step 500
    write_tensorboard(tmp_path / "r", first)
    write_tensorboard(tmp_path / "r", again)  # a later file: its name's time stamp is later
    with pytest.warns(sf.ScalingFitWarning, match=r"5 steps were logged more than once"):
        table = sf.load_runs(tmp_path)
    assert table["step"].tolist() == list(range(100, 1501, 100))
    assert table["loss"].tolist() == [3.0] * 5 + [2.0] * 10


def test_missing_tag_lists_the_tags(tensorboard, tmp_path) -> None:
    write_tensorboard(tmp_path / "r", {"loss_c4": [(1, 3.0), (2, 2.0)], "lr-AdamW": [(1, 1e-3)]})
    with pytest.raises(sf.DataError, match=r"no scalar reads as the loss.*'loss_c4', 'lr-AdamW'"):
        sf.load_runs(tmp_path)
    with pytest.raises(sf.DataError, match=r"columns=\{'loss': 'eval/loss'\} but the run has no"):
        sf.load_runs(tmp_path, columns={"loss": "eval/loss"})
    mapped = {"loss": "loss_c4", "lr": "lr-AdamW"}
    with pytest.warns(sf.ScalingFitWarning, match=r"dropped 1 of 2 rows"):  # no LR at step 2
        table = sf.load_runs(tmp_path, columns=mapped, nan_policy="omit")
    assert table[["step", "lr", "loss"]].to_numpy().tolist() == [[1, pytest.approx(1e-3), 3.0]]


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_loss_is_missing(tensorboard, tmp_path, bad: float) -> None:
    write_tensorboard(tmp_path / "r", {"loss": [(1, 3.0), (2, 2.5), (3, bad)]}, simple=True)
    with pytest.raises(sf.DataError, match=r"step 3, column 'loss': expected a value, found an"):
        sf.load_runs(tmp_path)
    with pytest.warns(sf.ScalingFitWarning, match=r"dropped 1 of 3 rows"):
        assert sf.load_runs(tmp_path, nan_policy="omit")["step"].tolist() == [1, 2]


def test_runs_that_logged_different_tags(tensorboard, tmp_path) -> None:
    write_tensorboard(tmp_path / "a", {"eval/loss": [(1, 3.0), (2, 2.0)]})
    write_tensorboard(tmp_path / "b", {"train/loss": [(1, 3.0), (2, 2.0)]})
    with pytest.raises(
        sf.DataError, match=r"run 'b' .* reads loss from tag\(s\) \['train/loss'\] "
    ):
        sf.load_runs(tmp_path)
    with pytest.raises(sf.DataError, match=r"run 'b' .*no such tag; its tags: \['train/loss'\]"):
        sf.load_runs(tmp_path, columns={"loss": "eval/loss"})


def test_directory_without_event_files(tmp_path) -> None:
    (tmp_path / "notes.txt").write_text("nothing\n")
    with pytest.raises(sf.DataError, match=r"is a directory with no TensorBoard event files"):
        sf.load_runs(tmp_path)


# ----------------------------------------------------------------------- MLflow
@pytest.mark.parametrize("form", ["uri", "db-path", "folder", "mlruns"])
@pytest.mark.slow  # mlflow's import (~3 s) and a store per case
def test_mlflow_store_reads_as_the_csv_and_fits_the_same(
    mlflow_empty, tmp_path, capsys, monkeypatch, form: str
) -> None:
    runs = ladder()
    csv = ladder_csv(tmp_path / "ladder.csv", runs)
    if form == "mlruns":
        monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 refuses it without
        source = tmp_path / "mlruns"
        log_runs(source.as_uri(), runs)
        monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE")  # the loader reads it without
    else:
        db = copy_store(mlflow_empty, tmp_path / "mlflow.db")
        log_runs(f"sqlite:///{db}", runs)
        source = {"uri": f"sqlite:///{db}", "db-path": db, "folder": tmp_path}[form]
    table = sf.load_runs(source)
    same_table(table, sf.load_runs(csv))
    expected = fit_params(csv)
    same_params(fit_params(source), expected)
    same_params(cli_params(capsys, source), expected)


@pytest.mark.slow  # mlflow's import (~3 s): the full suite (CI) runs it
def test_mlflow_restart_keeps_the_later_write_and_names_shared_runs(mlflow_empty, tmp_path) -> None:
    db = copy_store(mlflow_empty, tmp_path / "mlflow.db")
    uri = f"sqlite:///{db}"
    loss = [(s, 3.0) for s in (1, 2, 3)] + [(s, 2.0) for s in (2, 3, 4)]  # resumed at 2
    log_runs(uri, {"r": ({"loss": loss}, {})})
    log_runs(uri, {"r": ({"loss": [(1, 3.0), (2, 2.5)]}, {})}, "again")  # another run 'r'
    with pytest.warns(sf.ScalingFitWarning, match=r"2 steps were logged more than once"):
        table = sf.load_runs(uri)
    losses = sorted(group["loss"].tolist() for _, group in table.groupby("run"))
    assert losses == [[3.0, 2.0, 2.0, 2.0], [3.0, 2.5]]
    assert all(name.startswith("r (") for name in table["run"].unique())  # r (<run id>)


@pytest.mark.slow  # mlflow's import (~3 s): the full suite (CI) runs it
def test_mlflow_infinite_and_nan_metrics_are_missing(mlflow_empty, tmp_path) -> None:
    db = copy_store(mlflow_empty, tmp_path / "mlflow.db")
    uri = f"sqlite:///{db}"
    loss = [(1, 3.0), (2, 2.5), (3, float("inf")), (4, float("nan")), (5, 2.0)]
    log_runs(uri, {"r": ({"loss": loss}, {})})
    with pytest.raises(sf.DataError, match=r"step 3, column 'loss': expected a value"):
        sf.load_runs(uri)
    with pytest.warns(sf.ScalingFitWarning, match=r"dropped 2 of 5 rows"):
        assert sf.load_runs(uri, nan_policy="omit")["loss"].tolist() == [3.0, 2.5, 2.0]


@pytest.mark.slow  # mlflow's import (~3 s): the full suite (CI) runs it
def test_mlflow_missing_key_and_params(mlflow_empty, tmp_path) -> None:
    db = copy_store(mlflow_empty, tmp_path / "mlflow.db")
    log_runs(f"sqlite:///{db}", {"r": ({"val/ppl": [(1, 30.0)]}, {"model_size": "125M"})})
    with pytest.raises(sf.DataError, match=r"no scalar reads as the loss.*its tags: \['val/ppl'\]"):
        sf.load_runs(db)
    with pytest.raises(sf.DataError, match=r"no such tag; its tags: \['val/ppl'\]; its run-level"):
        sf.load_runs(db, columns={"loss": "val/loss"})
    table = sf.load_runs(db, columns={"loss": "val/ppl", "n_params": "model_size"})
    assert table[["n_params", "loss"]].to_numpy().tolist() == [[1.25e8, 30.0]]


def test_not_an_mlflow_store(tmp_path) -> None:
    import sqlite3

    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t (x)")
    with pytest.raises(sf.DataError, match=r"other\.db: a SQLite database without MLflow's"):
        sf.load_runs(other)
    assert other.read_bytes().count(b"CREATE TABLE") == 1  # left as it was: nothing created
    with pytest.raises(sf.DataError, match=r"nope\.db: file not found"):
        sf.load_runs(f"sqlite:///{tmp_path / 'nope.db'}")
    assert not (tmp_path / "nope.db").exists()


# ----------------------------------------------------------------------- missing extras
@pytest.mark.parametrize(
    ("make", "extra"),
    [
        (lambda d: (d / "r").mkdir() or (d / "r" / "events.out.tfevents.1.h").write_bytes(b""),
         "tensorboard"),
        (lambda d: (d / "mlruns" / "0").mkdir(parents=True)
         or (d / "mlruns" / "0" / "meta.yaml").write_text("name: Default\n"), "mlflow"),
    ],
    ids=["tensorboard", "mlflow"],
)  # fmt: skip
def test_missing_extra_names_the_install(tmp_path, capsys, monkeypatch, make, extra) -> None:
    make(tmp_path)

    extras = ("tensorboard", "google_crc32c", "mlflow")
    for module in [m for m in sys.modules if m.split(".")[0] in extras] + list(extras):
        monkeypatch.setitem(sys.modules, module, None)  # None: the import is refused
    install = f'pip install "scaling_fit[{extra}]"'
    with pytest.raises(sf.MissingExtraError, match=rf"optional package .*: {re.escape(install)}$"):
        sf.load_runs(tmp_path)
    assert main(["fit", str(tmp_path), "--law", "chinchilla"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.splitlines() == [f"scaling-fit: error: {_error(tmp_path)!s}"]
    assert install in err


def _error(path: Path) -> Exception:
    try:
        sf.load_runs(path)
    except sf.MissingExtraError as exc:
        return exc
    raise AssertionError("no MissingExtraError")
