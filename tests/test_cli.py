"""The ``scaling-fit`` command line, run in-process through ``main(argv)``."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scaling_fit import FitError, FitResult, UnknownLawError, cli
from scaling_fit.cli import main

EPOCH_E = 1.817236  # Epoch AI's plain Huber minimum on this file (data/epoch_chinchilla)
EPOCH_OBJECTIVE = 0.0010182741


@pytest.fixture
def epoch_csv(data_dir: Path) -> Path:
    return data_dir / "epoch_chinchilla" / "svg_extracted_data.csv"


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``scaling-fit argv...``."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_user_error(code: int, err: str, *words: str) -> None:
    """Exit 2 and exactly one stderr line ``scaling-fit: error: …`` naming ``words``."""
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("scaling-fit: error: ")
    for word in words:
        assert word.lower() in lines[0].lower(), (word, lines[0])


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def epoch_fit(capsys, epoch_csv: Path, output: Path, *extra: object) -> tuple[dict, str]:
    """Fit chinchilla to Epoch's 240 points into ``output``; the JSON and stderr."""
    code, out, err = run(
        capsys, "fit", epoch_csv, "--law", "chinchilla", "--drop-top-loss", 5, "-o", output, *extra
    )
    assert code == 0, err
    assert out == ""
    return json.loads(output.read_text()), err


# ----------------------------------------------------------------------- happy paths
def test_laws_lists_registered_laws(capsys):
    code, out, err = run(capsys, "laws")
    assert code == 0
    assert err == ""
    header, *rows = out.splitlines()
    assert header.split() == ["name", "inputs", "parameters", "reference"]
    assert {row.split()[0] for row in rows} >= {"chinchilla", "kaplan"}


def test_fit_epoch_chinchilla_writes_json_and_summary(capsys, epoch_csv, tmp_path):
    raw, err = epoch_fit(capsys, epoch_csv, tmp_path / "fit.json")
    assert {"law", "params", "objective", "n_points", "converged", "warnings"} <= raw.keys()
    assert raw["law"] == "chinchilla"
    assert raw["n_points"] == 240
    assert raw["converged"] is True
    assert raw["objective"] <= EPOCH_OBJECTIVE
    assert set(raw["params"]) == {"E", "A", "B", "alpha", "beta"}
    assert raw["params"]["E"]["value"] == pytest.approx(EPOCH_E, rel=2e-3)
    for param in raw["params"].values():
        assert param.keys() == {"value", "stderr", "ci95"}
        assert param["stderr"] is None and param["ci95"] is None
    assert "dropped the 5 highest-loss points" in err
    assert "chinchilla" in err and "240 points" in err and "converged" in err
    assert "Traceback" not in err


def test_fit_json_to_stdout_and_quiet(capsys, epoch_csv):
    code, out, err = run(
        capsys, "fit", epoch_csv, "--law", "chinchilla", "--drop-top-loss", 5, "--quiet"
    )
    assert code == 0
    assert err == ""
    assert json.loads(out)["n_points"] == 240


def test_fit_bootstrap_gives_stderr_and_intervals(capsys, epoch_csv, tmp_path):
    output = tmp_path / "fit.json"
    raw, _ = epoch_fit(capsys, epoch_csv, output, "--bootstrap", 50, "--n-jobs", 1, "--seed", 1)
    for param in raw["params"].values():
        assert param["stderr"] > 0
        lo, hi = param["ci95"]
        assert lo <= param["value"] <= hi
    code, out, err = run(capsys, "predict", output, "--n-params", "70B", "--tokens", "1.4T")
    assert code == 0, err
    (row,) = read_csv(out)
    assert float(row["lower"]) <= float(row["loss"]) <= float(row["upper"])


def test_drop_top_loss_on_curves_drops_whole_runs(capsys, tmp_path):
    lines, final = ["run,step,n_params,tokens,loss"], {}
    for i, (n, d) in enumerate((n, d) for n in (1e8, 3e8, 1e9, 3e9) for d in (2e9, 6e9, 2e10)):
        for step in (1, 2, 3):
            loss = 1.7 + 400 / n**0.34 + 410 / (d * step / 3) ** 0.28 + 1e-3 * (i % 3)
            lines.append(f"r{i},{step},{n},{d * step / 3},{loss}")
        final[f"r{i}"] = loss
    data = tmp_path / "curves.csv"
    data.write_text("\n".join(lines) + "\n")
    output = tmp_path / "fit.json"
    code, _, err = run(
        capsys, "fit", data, "--law", "chinchilla", "--drop-top-loss", 2, "-o", output
    )
    assert code in (0, 1), err
    raw = json.loads(output.read_text())
    worst = sorted(final, key=final.get)[-2:]
    assert raw["n_points"] == 10
    assert set(raw["data"]["run"]) == set(final) - set(worst)
    assert set(raw["data"]["tokens"]) == {2e9, 6e9, 2e10}  # run ends only
    assert "dropped runs ending at the 2 highest-loss points" in err


def test_fit_fix_holds_parameter(capsys, epoch_csv, tmp_path):
    raw, _ = epoch_fit(capsys, epoch_csv, tmp_path / "fit.json", "--fix", "E=1.7")
    assert raw["params"]["E"]["value"] == 1.7
    assert raw["fixed"] == {"E": 1.7}


def test_predict_grid_and_compute_match_fit_result(capsys, epoch_csv, tmp_path):
    output = tmp_path / "fit.json"
    epoch_fit(capsys, epoch_csv, output)
    result = FitResult.from_json(output)

    code, out, err = run(capsys, "predict", output, "--n-params", 7e10, "--tokens", 1.4e12, 2e12)
    assert code == 0
    assert all(line.startswith("warning: ") for line in err.splitlines())
    assert out.splitlines()[0] == "n_params,tokens,loss,lower,upper"
    rows = read_csv(out)
    assert [(float(r["n_params"]), float(r["tokens"])) for r in rows] == [
        (7e10, 1.4e12),
        (7e10, 2e12),
    ]
    for r in rows:
        expected = float(result.predict(n_params=7e10, tokens=float(r["tokens"])))
        assert float(r["loss"]) == pytest.approx(expected, rel=1e-12)
        assert r["lower"] == r["upper"] == ""

    code, out, err = run(capsys, "predict", output, "--compute", 5.76e23)
    assert code == 0, err
    (row,) = read_csv(out)
    optimal = result.compute_optimal(5.76e23)
    assert float(row["n_params"]) == pytest.approx(optimal["n_params"][0], rel=1e-12)
    assert float(row["tokens"]) == pytest.approx(optimal["tokens"][0], rel=1e-12)
    assert {"compute", "loss", "tokens_per_param", "n_params_lower"} <= row.keys()


def test_predict_warns_once_on_extrapolation(capsys, epoch_csv, tmp_path):
    output = tmp_path / "fit.json"
    epoch_fit(capsys, epoch_csv, output)
    code, out, err = run(
        capsys, "predict", output, "--n-params", "1e13", "2e13", "--tokens", "2e10"
    )
    assert code == 0
    assert len(read_csv(out)) == 2
    assert err.count("warning: n_params extrapolates") == 1
    assert "Traceback" not in err
    code, out, err = run(
        capsys, "predict", output, "--n-params", "1e13", "--tokens", "2e10", "--quiet"
    )
    assert (code, err) == (0, "")


def test_predict_compute_with_published_chinchilla(capsys, tmp_path):
    output = tmp_path / "published.json"
    FitResult.from_params("chinchilla").to_json(output)
    code, out, err = run(
        capsys, "predict", output, "--compute", "5.76e23", "-o", tmp_path / "a.csv"
    )
    assert (code, out, err) == (0, "", "")
    (row,) = read_csv((tmp_path / "a.csv").read_text())
    assert float(row["n_params"]) == pytest.approx(4.04e10, rel=5e-3)


def test_version_and_help(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"scaling-fit {cli.__version__}"
    code, out, _ = run(capsys, "fit", "--help")
    assert code == 0 and "--drop-top-loss" in out


# ----------------------------------------------------------------------- user errors: exit 2
def test_missing_file(capsys, tmp_path):
    missing = tmp_path / "nope.csv"
    code, _, err = run(capsys, "fit", missing, "--law", "chinchilla")
    assert_user_error(code, err, "nope.csv")


def test_unknown_law(capsys, epoch_csv):
    code, _, err = run(capsys, "fit", epoch_csv, "--law", "chinchila")
    assert_user_error(code, err, "unknown law", "chinchila", "kaplan")


def test_debug_shows_traceback(capsys, epoch_csv):
    with pytest.raises(UnknownLawError):
        main(["--debug", "fit", str(epoch_csv), "--law", "chinchila"])
    with pytest.raises(UnknownLawError):
        main(["fit", str(epoch_csv), "--law", "chinchila", "--debug"])


@pytest.mark.parametrize(
    ("option", "words"),
    [
        (["--col", "n_params"], ["--col", "NAME=VALUE", "n_params"]),
        (["--fix", "E"], ["--fix", "NAME=VALUE"]),
        (["--fix", "E=abc"], ["--fix", "abc"]),
        (["--fix", "Z=1.7"], ["--fix", "Z", "alpha"]),
        (["--tie", "beta=gamma"], ["--tie", "gamma"]),
        (["--drop-top-loss", "-1"], ["--drop-top-loss", "non-negative"]),
    ],
)
def test_bad_option_syntax(capsys, epoch_csv, option, words):
    code, _, err = run(capsys, "fit", epoch_csv, "--law", "chinchilla", *option)
    assert_user_error(code, err, *words)


def test_existing_output_is_not_overwritten(capsys, epoch_csv, tmp_path):
    output = tmp_path / "fit.json"
    output.write_text("keep me\n")
    code, out, err = run(capsys, "fit", epoch_csv, "--law", "chinchilla", "-o", output)
    assert_user_error(code, err, "exists", "--force")
    assert out == ""
    assert output.read_text() == "keep me\n"
    FitResult.from_params("chinchilla").to_json(tmp_path / "p.json")
    code, _, err = run(capsys, "predict", tmp_path / "p.json", "--compute", 1e21, "-o", output)
    assert_user_error(code, err, "exists")
    assert output.read_text() == "keep me\n"
    code, _, err = run(
        capsys, "predict", tmp_path / "p.json", "--compute", 1e21, "-o", output, "--force"
    )
    assert code == 0, err
    assert output.read_text().startswith("compute,n_params,tokens,loss,tokens_per_param")


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["frobnicate"], ["invalid choice", "frobnicate", "--help"]),
        ([], ["required", "--help"]),
        (["fit", "x.csv"], ["--law", "required", "--help"]),
        (["predict"], ["FIT.json", "required"]),
        (["fit", "x.csv", "--law", "chinchilla", "--loss", "l1"], ["--loss", "l1"]),
    ],
)
def test_usage_error_is_one_line(capsys, argv, words):
    code, out, err = run(capsys, *argv)
    assert out == ""
    assert_user_error(code, err, *words)


def test_unparseable_number_names_file_row_and_column(capsys, tmp_path):
    data = tmp_path / "runs.csv"
    data.write_text("n_params,tokens,loss\n1e8,2e9,3.1\n2e8,4e9,2.9\n4e8,zz,2.7\n")
    code, _, err = run(capsys, "fit", data, "--law", "chinchilla")
    assert_user_error(code, err, "runs.csv", "row", "tokens", "zz")


def test_predict_rejects_non_json_file(capsys, tmp_path):
    bogus = tmp_path / "fit.json"
    bogus.write_text("n_params,tokens,loss\n1,2,3\n")
    code, _, err = run(capsys, "predict", bogus, "--compute", 1e21)
    assert_user_error(code, err, "fit.json", "not a scaling_fit fit result")
    code, _, err = run(capsys, "predict", tmp_path / "absent.json", "--compute", 1e21)
    assert_user_error(code, err, "absent.json", "does not exist")


def test_predict_needs_grid_or_compute(capsys, tmp_path):
    FitResult.from_params("chinchilla").to_json(tmp_path / "p.json")
    code, _, err = run(capsys, "predict", tmp_path / "p.json", "--n-params", 1e9)
    assert_user_error(code, err, "--tokens")
    code, _, err = run(capsys, "predict", tmp_path / "p.json")
    assert_user_error(code, err, "--compute")


# ----------------------------------------------------------------------- fit failures: exit 1
def test_not_converged_writes_json_and_exits_1(capsys, epoch_csv, tmp_path, monkeypatch):
    # A genuinely non-converging fit is not cheap to provoke; stand one in.
    monkeypatch.setattr(cli, "fit", lambda *a, **k: FitResult.from_params("chinchilla"))
    output = tmp_path / "fit.json"
    code, _, err = run(capsys, "fit", epoch_csv, "--law", "chinchilla", "-o", output)
    assert code == 1
    assert json.loads(output.read_text())["converged"] is False
    assert err.splitlines()[-1].startswith("scaling-fit: error: the fit did not converge")


def test_fit_error_exits_1(capsys, epoch_csv, monkeypatch):
    def fail(*args, **kwargs):
        raise FitError("every start failed")

    monkeypatch.setattr(cli, "fit", fail)
    code, out, err = run(capsys, "fit", epoch_csv, "--law", "chinchilla")
    assert code == 1
    assert out == ""
    assert err.splitlines()[-1] == "scaling-fit: error: every start failed"


# ----------------------------------------------------------------------- console script
def test_console_script_runs():
    commands = [[sys.executable, "-m", "scaling_fit", "laws"]]
    script = shutil.which("scaling-fit")
    if script:
        commands.append([script, "laws"])
    for command in commands:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        assert "chinchilla" in done.stdout and "kaplan" in done.stdout
    done = subprocess.run(
        [sys.executable, "-m", "scaling_fit", "fit", "nope.csv"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("scaling-fit: error: ") and len(done.stderr.splitlines()) == 1
