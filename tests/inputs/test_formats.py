"""Log formats (W&B, TensorBoard, JSON lines), aliases, step × batch_size and where=.

Each example log in data/examples holds the numbers of runs.csv; it must load to exactly the
same tidy table (values are read from the same decimal text, so equality is exact).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest

import scaling_fit as sf
from scaling_fit.inputs.columns import CANONICAL
from scaling_fit.inputs.load import load_runs

EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "examples"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def same_rows(table: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return table[columns].sort_values(["run", "step"]).reset_index(drop=True)


@pytest.fixture
def plain() -> pd.DataFrame:
    return load_runs(EXAMPLES / "runs.csv")


def test_plain_example_derives_tokens_from_steps(plain: pd.DataFrame) -> None:
    assert plain.attrs["derived"] == {
        "tokens": "step * batch_size",
        "compute": "6 * n_params * tokens",
    }
    assert len(plain) == 22  # 8 + 8 + 6 logged steps
    first = plain.iloc[0]
    assert (first["run"], first["step"], first["loss"]) == ("70M", 1000, 4.3693)
    assert first["tokens"] == 1000 * 262144  # exact: integers below 2^53
    assert first["compute"] == pytest.approx(6 * 7e7 * 262144000, rel=1e-15)  # one product


@pytest.mark.parametrize(
    ("source", "columns"),
    [
        ("wandb_panel.csv", ["run", "step", "loss"]),
        ("wandb_history.csv", ["run", "step", "lr", "loss"]),
        ("tensorboard/*.csv", ["run", "step", "lr", "loss"]),
        (
            "training_log.jsonl",
            ["run", "step", "n_params", "tokens", "compute", "lr", "batch_size", "loss"],
        ),
    ],
)
def test_each_example_loads_like_the_plain_csv(
    plain: pd.DataFrame, source: str, columns: list[str]
) -> None:
    table = load_runs(str(EXAMPLES / source))
    assert [c for c in table.columns if c in CANONICAL] == columns
    pd.testing.assert_frame_equal(same_rows(table, columns), same_rows(plain, columns))


def test_wandb_history_keeps_its_other_columns() -> None:
    table = load_runs(EXAMPLES / "wandb_history.csv")
    assert list(table.columns[4:]) == ["_runtime", "_timestamp"]


def test_tensorboard_mapping_names_the_run(plain: pd.DataFrame) -> None:
    board = EXAMPLES / "tensorboard"
    table = load_runs(
        {
            "small": {
                "loss": board / "run-70M-tag-train_loss.csv",
                "lr": board / "run-70M-tag-train_lr.csv",
            }
        }
    )
    expected = plain[plain["run"] == "70M"][["step", "lr", "loss"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(table[["step", "lr", "loss"]], expected)
    assert set(table["run"]) == {"small"}
    assert len(table.attrs["sources"]) == 2


def test_tensorboard_with_col_value_reads_the_file_as_is() -> None:
    path = EXAMPLES / "tensorboard" / "run-70M-tag-train_loss.csv"
    table = load_runs(path, columns={"loss": "Value", "step": "Step"})
    assert list(table["run"].unique()) == ["run-70M-tag-train_loss"]  # the file's stem
    assert len(table) == 8


def test_tensorboard_tags_join_on_step_with_gaps(tmp_path: Path) -> None:
    header = "Wall time,Step,Value\n"
    write(tmp_path / "run-a-tag-loss.csv", header + "1,10,3.0\n2,20,2.5\n")
    write(tmp_path / "run-a-tag-lr.csv", header + "1,10,0.1\n1.5,15,0.1\n2,20,0.05\n")
    with pytest.raises(sf.DataError, match=r"run 'a' \(TensorBoard .*\), step 15, column "):
        load_runs(tmp_path / "*.csv")
    with pytest.warns(sf.ScalingFitWarning, match="dropped 1 of 3 rows"):
        table = load_runs(tmp_path / "*.csv", nan_policy="omit")
    assert table[["step", "lr", "loss"]].to_numpy().tolist() == [[10, 0.1, 3.0], [20, 0.05, 2.5]]


def test_tensorboard_dot_run_is_named_after_its_folder(tmp_path: Path) -> None:
    header = "Wall time,Step,Value\n"
    for folder, loss in (("small", "3.0"), ("big", "2.5")):
        write(tmp_path / folder / "run-.-tag-loss.csv", header + f"1,10,{loss}\n")
    table = load_runs(str(tmp_path / "*" / "run-.-tag-loss.csv"))
    assert dict(zip(table["run"], table["loss"], strict=True)) == {"big": 2.5, "small": 3.0}


def test_two_files_of_one_run_and_tag(tmp_path: Path) -> None:
    header = "Wall time,Step,Value\n"
    write(tmp_path / "a" / "run-r-tag-loss.csv", header + "1,10,3.0\n")
    write(tmp_path / "b" / "run-r-tag-loss.csv", header + "1,10,2.0\n")
    with pytest.raises(sf.DataError, match=r"are both TensorBoard scalars of run 'r', tag 'loss'"):
        load_runs(str(tmp_path / "*" / "run-r-tag-loss.csv"))


def test_plain_tensorboard_file_error_explains_the_names(tmp_path: Path) -> None:
    path = write(tmp_path / "loss.csv", "Wall time,Step,Value\n1,10,3.0\n2,20,2.5\n")
    with pytest.raises(sf.DataError, match=r"looks like a TensorBoard .* run-<run>-tag-<tag>\.csv"):
        load_runs(path)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("1,ten,3.0\n", r"run-a-tag-loss\.csv, row 1 \(line 2\), column 'Step': expected a numb"),
        ("1,10,x\n", r"row 1 \(line 2\), column 'Value': expected a number, found 'x'"),
        ("1,10,3.0\n2,10,2.9\n", r"row 2 \(line 3\): step 10 again \(also row 1\).*resumed"),
    ],
)
def test_malformed_tensorboard_files(tmp_path: Path, body: str, message: str) -> None:
    write(tmp_path / "run-a-tag-loss.csv", "Wall time,Step,Value\n" + body)
    with pytest.raises(sf.DataError, match=message):
        load_runs(tmp_path / "run-a-tag-loss.csv")


def test_tensorboard_mapping_errors(tmp_path: Path) -> None:
    other = write(tmp_path / "x.csv", "step,loss\n1,2\n")
    with pytest.raises(sf.DataError, match=r"x\.csv: expected a TensorBoard scalar export with "):
        load_runs({"r": {"loss": other}})
    with pytest.raises(sf.DataError, match=r"run 'r' maps to 'x\.csv'; expected a mapping tag"):
        load_runs({"r": "x.csv"})
    with pytest.raises(sf.DataError, match=r"no runs given"):
        load_runs({})


def test_wandb_panel_ignores_min_max_and_gaps(tmp_path: Path) -> None:
    path = write(
        tmp_path / "panel.csv",
        '"Step","a - eval/loss","a - eval/loss__MIN","b - eval/loss","b - eval/loss__MAX"\n'
        "10,3.0,2.0,3.1,9\n20,2.5,2.0,,\n",
    )
    table = load_runs(path)
    assert table[["run", "step", "loss"]].to_numpy().tolist() == [
        ["a", 10, 3.0],
        ["a", 20, 2.5],
        ["b", 10, 3.1],
    ]


def test_wandb_panel_bad_cell_names_row_and_metric(tmp_path: Path) -> None:
    path = write(tmp_path / "panel.csv", "Step,a - train/loss\n10,3.0\n20,oops\n")
    with pytest.raises(
        sf.DataError, match=r"panel\.csv, row 2 \(line 3\), column 'train/loss' \(loss\): expec"
    ):
        load_runs(path)


def test_wandb_panel_of_only_extremes(tmp_path: Path) -> None:
    path = write(tmp_path / "panel.csv", "Step,a - loss__MIN\n10,3.0\n")
    with pytest.raises(sf.DataError, match=r"only __MIN/__MAX columns"):
        load_runs(path)


def test_json_lines_flatten_and_name_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path / "log.jsonl",
        '{"step": 1, "eval": {"loss": 3.0}}\n\n{"step": 2, "eval": {"loss": null}}\n',
    )
    with pytest.raises(sf.DataError, match=r"log\.jsonl, line 3, column 'eval/loss' \(loss\)"):
        load_runs(path)
    with pytest.warns(sf.ScalingFitWarning, match="dropped 1 of 2 rows"):
        assert load_runs(path, nan_policy="omit")["loss"].tolist() == [3.0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"step": 1, "loss": 3}\n{"step": 2, "loss": \n', r"line 2: not valid JSON"),
        ('{"step": 1, "loss": 3}\n[1, 2]\n', r"line 2: expected a JSON object .*found list"),
        ("\n\n", r"no JSON objects; expected one per line"),
    ],
)
def test_malformed_json_lines(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(sf.DataError, match=message):
        load_runs(write(tmp_path / "log.jsonl", text))


@pytest.mark.parametrize(
    ("header", "canonical"),
    [("L", "loss"), ("final_loss", "loss"), ("tokens_seen", "tokens")],
)
def test_new_aliases(header: str, canonical: str) -> None:
    frame = pd.DataFrame({"N": [1e8, 2e8], header: [2.0, 3.0]})
    if canonical != "loss":
        frame["loss"] = [3.5, 3.2]
    assert load_runs(frame)[canonical].tolist() == [2.0, 3.0]


def test_where_keeps_matching_rows(plain: pd.DataFrame) -> None:
    table = load_runs(EXAMPLES / "runs.csv", where="n_params >= 1e8 and run != '410M'")
    assert set(table["run"]) == {"160M"}
    assert table.attrs["where"] == {
        "query": "n_params >= 1e8 and run != '410M'",
        "kept": 8,
        "of": 22,
    }
    assert list(table.index) == list(range(8))


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("n_parms > 1", r"where='n_parms > 1' \(--where\) is not a valid query on columns \['run'"),
        ("n_params > 1e12", r"where='n_params > 1e12' keeps none of the 22 rows"),
    ],
)
def test_where_errors(where: str, message: str) -> None:
    with pytest.raises(sf.DataError, match=message):
        load_runs(EXAMPLES / "runs.csv", where=where)


# ------------------------------------------------------------------------ command line
@pytest.mark.parametrize(
    "command", [["fit", "--law", "chinchilla"], ["compare", "--law", "chinchilla"], ["isoflop"]]
)
def test_cli_input_flags_map_to_load_runs(command: list[str]) -> None:
    from scaling_fit.cli.common import load_options
    from scaling_fit.cli.main import build_parser

    argv = [command[0], "x.csv", *command[1:], "--nan-policy", "omit", "--where", "step > 1"]
    args = build_parser().parse_args([*argv, "--col", "loss=L2"])
    assert load_options(args) == {
        "columns": {"loss": "L2"},
        "nan_policy": "omit",
        "where": "step > 1",
    }
    defaults = build_parser().parse_args([command[0], "x.csv", *command[1:]])
    assert load_options(defaults) == {"columns": None, "nan_policy": "raise", "where": None}


def test_cli_fit_reads_json_lines_with_where(capsys: pytest.CaptureFixture[str]) -> None:
    from scaling_fit.cli.main import main

    argv = [
        "fit",
        str(EXAMPLES / "training_log.jsonl"),
        "--law",
        "chinchilla",
        "--points",
        "all",
        "--full",
    ]
    code = main([*argv, "--where", "step >= 2000", "--nan-policy", "omit"])
    out, err = capsys.readouterr()
    assert code == 0
    assert json.loads(out)["n_points"] == 19  # 22 logged points minus the three at step 1000
    assert "--where 'step >= 2000' kept 19 of 22 rows" in err.splitlines()
    assert "derived tokens = step * batch_size" in err.splitlines()


def test_cli_nan_policy_omit_says_how_many(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from scaling_fit.cli.main import main

    lines = (EXAMPLES / "runs.csv").read_text().splitlines()
    lines[5] = lines[5].rsplit(",", 1)[0] + ","  # one empty loss
    path = write(tmp_path / "r.csv", "\n".join(lines) + "\n")
    argv = ["fit", str(path), "--law", "chinchilla", "--points", "all"]
    assert main(argv) == 2
    assert "nan_policy='omit'" in capsys.readouterr().err
    assert main([*argv, "--nan-policy", "omit"]) == 0
    out, err = capsys.readouterr()  # the compact result on stdout lists the fit's warnings
    assert "dropped 1 of 22 rows with an empty/NaN value" in out + err


def test_examples_are_what_the_generator_writes(tmp_path: Path) -> None:
    # data/examples/SOURCE.md says the files come from a known law through make_examples.py:
    # regenerate them and compare byte for byte.
    spec = importlib.util.spec_from_file_location("make_examples", EXAMPLES / "make_examples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    shipped = sorted(
        p.relative_to(EXAMPLES)
        for p in EXAMPLES.rglob("*")
        if p.is_file() and p.suffix in (".csv", ".jsonl")
    )
    assert written == shipped and len(written) == 10
    for name in written:
        assert (tmp_path / name).read_bytes() == (EXAMPLES / name).read_bytes(), name


def test_examples_follow_the_stated_law(plain: pd.DataFrame) -> None:
    # SOURCE.md: L = 1.69 + 406.4/N^0.34 + 410.7/D^0.28 plus noise of s.d. 0.005, rounded to
    # 4 decimals; 22 draws all stay within 4 s.d. (chance of one beyond: 22 x 6e-5).
    law = 1.69 + 406.4 / plain["n_params"] ** 0.34 + 410.7 / plain["tokens"] ** 0.28
    assert float((plain["loss"] - law).abs().max()) < 4 * 0.005


def test_missing_column_message_has_no_stray_brace() -> None:
    runs = load_runs(pd.DataFrame({"N": [1e8, 2e8, 4e8], "loss": [3.0, 2.9, 2.8]}))
    with pytest.raises(sf.DataError, match=r"columns=\{'tokens': '<your column>'\} in load_runs"):
        sf.fit(runs, "chinchilla")
