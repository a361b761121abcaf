"""The ``scaling-fit`` command line, run in-process through ``main(argv)``."""

from __future__ import annotations

import csv
import functools
import importlib
import io
import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scaling_fit as sf
from scaling_fit import FitError, FitResult, UnknownLawError, __version__
from scaling_fit.cli.main import main
from scaling_fit.results.curves import predict_curve, predict_runs

DATA = Path(__file__).resolve().parents[2] / "data"
GADRE = DATA / "gadre_overtraining" / "gadre_models_flat.csv"
GADRE_HELD_OUT = ["rpj-open_lm_1b-1.0", "rpj-open_lm_1b-32.0", "rpj-open_lm_7b-1.0"]
PORIAN = DATA / "porian_isoflop"
CONFIG = ["dataset", "hparams", "warmup", "decay", "param_count", "val"]
SPECS = {  # data/multipower_law/SOURCE.md; the authors' training split
    "cosine_24000": "cosine:peak=3e-4,total=24000,warmup=2160,final=3e-5",
    "constant_24000": "constant:peak=3e-4,total=24000,warmup=2160",
    "wsdcon_9": "multistage:peak=3e-4,total=16000,warmup=2160,stages=8000@9e-5",
}
TEST_SPECS = {  # the authors' test split
    "constant_72000": "constant:peak=3e-4,total=72000,warmup=2160",
    "cosine_72000": "cosine:peak=3e-4,total=72000,warmup=2160,final=3e-5",
    "wsd_20000_24000": "wsd:peak=3e-4,total=24000,warmup=2160,decay=4000,final=3e-5,shape=exp",
    "wsdld_20000_24000": "wsd:peak=3e-4,total=24000,warmup=2160,decay=4000,final=3e-5",
    "wsdcon_3": "multistage:peak=3e-4,total=16000,warmup=2160,stages=8000@3e-5",
    "wsdcon_18": "multistage:peak=3e-4,total=16000,warmup=2160,stages=8000@1.8e-4",
}
WSD = "wsd:peak=3e-4,total=24000,warmup=2160,decay=0.2,final=3e-5"

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


def predict(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    """``scaling-fit predict --format csv argv...``: the table as CSV (default: readable text)."""
    return run(capsys, "predict", "--format", "csv", *argv)


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


def curve_csv(name: str, size: int = 25) -> Path:
    return DATA / "multipower_law" / f"csv_{size}" / f"{name}.csv"


def quietly(function, *args, **kwargs):
    """Call an API function with its (expected, CLI-reported) warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


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


def test_fit_prints_a_compact_result_and_the_full_json_on_request(capsys, epoch_csv):
    argv = ["fit", epoch_csv, "--law", "chinchilla", "--drop-top-loss", 5, "--fix", "beta=0.37"]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    # Compact by default: one line per parameter, none of the JSON's data or residuals.
    head, *params = out.splitlines()
    assert head.startswith("law chinchilla: 240 points, objective ") and "converged" in head
    assert [line.split()[0] for line in params] == ["E", "A", "B", "alpha", "beta"]
    assert params[-1].split() == ["beta", "=", "0.37", "(fixed)"]
    assert float(params[0].split()[2]) == pytest.approx(EPOCH_E, rel=5e-2)
    # stderr: only what the command did to the data.
    assert err.splitlines() == [
        "derived tokens = compute / (6 * n_params)",
        "dropped the 5 highest-loss points (loss >= 3.447)",
    ]
    code, out, err = run(capsys, *argv, "--full", "--quiet")
    assert (code, err) == (0, "")
    raw = json.loads(out)
    assert raw["n_points"] == 240 and raw["fixed"] == {"beta": 0.37}
    assert len(raw["data"]["run"]) == 240  # the full result, data included


def test_fit_bootstrap_gives_stderr_and_intervals(capsys, epoch_csv, tmp_path):
    output = tmp_path / "fit.json"
    raw, _ = epoch_fit(capsys, epoch_csv, output, "--bootstrap", 50, "--n-jobs", 1, "--seed", 1)
    for param in raw["params"].values():
        assert param["stderr"] > 0
        lo, hi = param["ci95"]
        assert lo <= param["value"] <= hi
    code, out, err = predict(capsys, output, "--n-params", "70B", "--tokens", "1.4T")
    assert code == 0, err
    (row,) = read_csv(out)
    assert float(row["lower"]) <= float(row["loss"]) <= float(row["upper"])
    code, out, err = predict(capsys, output, "--compute", "5.76e23")
    assert code == 0, err
    (row,) = read_csv(out)
    expected = FitResult.from_json(output).compute_optimal(5.76e23).iloc[0]
    for column in ("n_params", "tokens"):
        lower, upper = float(row[f"{column}_lower"]), float(row[f"{column}_upper"])
        assert lower < float(row[column]) < upper
        # Same percentiles of the same saved samples.
        assert (lower, upper) == pytest.approx(
            (expected[f"{column}_lower"], expected[f"{column}_upper"]), rel=1e-12
        )


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

    code, out, err = predict(capsys, output, "--n-params", 7e10, "--tokens", 1.4e12, 2e12)
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

    code, out, err = predict(capsys, output, "--compute", 5.76e23)
    assert code == 0, err
    (row,) = read_csv(out)
    optimal = result.compute_optimal(5.76e23)
    assert float(row["n_params"]) == pytest.approx(optimal["n_params"][0], rel=1e-12)
    assert float(row["tokens"]) == pytest.approx(optimal["tokens"][0], rel=1e-12)
    assert {"compute", "loss", "tokens_per_param", "n_params_lower"} <= row.keys()


def test_predict_warns_once_on_extrapolation(capsys, epoch_csv, tmp_path):
    output = tmp_path / "fit.json"
    epoch_fit(capsys, epoch_csv, output)
    code, out, err = predict(capsys, output, "--n-params", "1e13", "2e13", "--tokens", "2e10")
    assert code == 0
    assert len(read_csv(out)) == 2
    assert err.count("warning: n_params extrapolates") == 1
    assert "Traceback" not in err
    code, out, err = predict(capsys, output, "--n-params", "1e13", "--tokens", "2e10", "--quiet")
    assert (code, err) == (0, "")


def test_predict_compute_with_published_chinchilla(capsys, tmp_path):
    output = tmp_path / "published.json"
    FitResult.from_params("chinchilla").to_json(output)
    code, out, err = predict(capsys, output, "--compute", "5.76e23", "-o", tmp_path / "a.csv")
    assert (code, out) == (0, "")
    assert err == "cost model: C = 6 * N * D (K set by --flops-per-param-token)\n"
    (row,) = read_csv((tmp_path / "a.csv").read_text())
    assert float(row["n_params"]) == pytest.approx(4.04e10, rel=5e-3)
    assert row["cost_model"] == "C = 6 * N * D"


def test_version_and_help(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"scaling-fit {__version__}"
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
    code, _, err = predict(capsys, tmp_path / "p.json", "--compute", 1e21, "-o", output)
    assert_user_error(code, err, "exists")
    assert output.read_text() == "keep me\n"
    code, _, err = predict(capsys, tmp_path / "p.json", "--compute", 1e21, "-o", output, "--force")
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
    code, _, err = predict(capsys, bogus, "--compute", 1e21)
    assert_user_error(code, err, "fit.json", "not a scaling_fit fit result")
    code, _, err = predict(capsys, tmp_path / "absent.json", "--compute", 1e21)
    assert_user_error(code, err, "absent.json", "does not exist")


def test_predict_needs_grid_or_compute(capsys, tmp_path):
    FitResult.from_params("chinchilla").to_json(tmp_path / "p.json")
    code, _, err = predict(capsys, tmp_path / "p.json", "--n-params", 1e9)
    assert_user_error(code, err, "--tokens")
    code, _, err = predict(capsys, tmp_path / "p.json")
    assert_user_error(code, err, "--compute")


# Every subcommand that writes -o, given -o <one of its inputs> --force: the command line and
# which of its files is the input named by -o. The check comes before any work, so the files'
# content does not matter (any text): each is created, and must be byte-identical afterwards.
INPUT_AS_OUTPUT = {
    "fit data": (["fit", "in.csv", "--law", "chinchilla"], "in.csv"),
    "fit --schedules": (
        ["fit", "in.csv", "--law", "lr_annealing", "--schedules", "s.json"],
        "s.json",
    ),
    "predict": (["predict", "fit.json", "--compute", "1e21"], "fit.json"),
    "compare": (["compare", "in.csv", "--law", "chinchilla", "--law", "kaplan"], "in.csv"),
    "isoflop": (["isoflop", "in.csv"], "in.csv"),
    "hparams": (["hparams", "in.csv"], "in.csv"),
    "cbs": (["cbs", "in.csv"], "in.csv"),
    "report data": (["report", "in.csv", "--law", "chinchilla"], "in.csv"),
    "report --schedules": (
        ["report", "in.csv", "--law", "lr_annealing", "--schedules", "s.json"],
        "s.json",
    ),
    "best-schedule": (["best-schedule", "fit.json", "--total-steps", "1000"], "fit.json"),
    "plan --fit": (["plan", "--fit", "fit.json", "--compute", "1e21"], "fit.json"),
    "plan --hparams": (["plan", "--hparams", "hp.json", "--n-params", "1e9"], "hp.json"),
    "plan --cbs": (["plan", "--cbs", "cbs.json", "--n-params", "1e9"], "cbs.json"),
    "forecast log": (["forecast", "in.csv", "--schedule", WSD], "in.csv"),
    "forecast --prior": (
        ["forecast", "in.csv", "--schedule", WSD, "--prior", "fit.json"],
        "fit.json",
    ),
}


@pytest.mark.parametrize("case", INPUT_AS_OUTPUT)
def test_no_subcommand_overwrites_an_input(capsys, tmp_path, monkeypatch, case) -> None:
    argv, target = INPUT_AS_OUTPUT[case]
    monkeypatch.chdir(tmp_path)
    files = {"in.csv", "s.json", "fit.json", "hp.json", "cbs.json"}
    for name in files:
        Path(name).write_bytes(f"{name}: an input, not to be replaced\n".encode())
    before = {name: Path(name).read_bytes() for name in files}
    code, out, err = run(capsys, *argv, "-o", target, "--force")
    assert_user_error(code, err, f"-o '{target}' is the input file", "refusing to overwrite")
    assert out == ""
    assert {name: Path(name).read_bytes() for name in files} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(files)  # no temp file left


# ----------------------------------------------------------------------- fit failures: exit 1
def test_not_converged_writes_json_and_exits_1(capsys, epoch_csv, tmp_path, monkeypatch):
    # A genuinely non-converging fit is not cheap to provoke; stand one in.
    module = importlib.import_module("scaling_fit.fitting.fit")
    monkeypatch.setattr(module, "fit", lambda *a, **k: FitResult.from_params("chinchilla"))
    output = tmp_path / "fit.json"
    code, _, err = run(capsys, "fit", epoch_csv, "--law", "chinchilla", "-o", output)
    assert code == 1
    assert json.loads(output.read_text())["converged"] is False
    assert err.splitlines()[-1].startswith("scaling-fit: error: the fit did not converge")


def test_fit_error_exits_1(capsys, epoch_csv, monkeypatch):
    def fail(*args, **kwargs):
        raise FitError("every start failed")

    monkeypatch.setattr(importlib.import_module("scaling_fit.fitting.fit"), "fit", fail)
    code, out, err = run(capsys, "fit", epoch_csv, "--law", "chinchilla")
    assert code == 1
    assert out == ""
    assert err.splitlines()[-1] == "scaling-fit: error: every start failed"


# ----------------------------------------------------------------------- predict --compute
@pytest.mark.parametrize("law", ["chinchilla", "kaplan", "overtraining"])
def test_predict_compute_for_each_law_and_cost_model(capsys, tmp_path, law):
    path = tmp_path / "published.json"
    published = FitResult.from_params(law)
    published.to_json(path)
    budgets = [1e21, 1e23]
    tables = {}
    for k in (6, 8):
        code, out, err = predict(capsys, path, "--compute", *budgets, "--flops-per-param-token", k)
        assert code == 0, err
        assert err == f"cost model: C = {k} * N * D (K set by --flops-per-param-token)\n"
        rows = read_csv(out)
        expected = published.compute_optimal(budgets, flops_per_param_token=k)
        for row, budget, want in zip(rows, budgets, expected.itertuples(), strict=True):
            n, d = float(row["n_params"]), float(row["tokens"])
            # The CLI prints the API's numbers (repr-exact floats).
            assert (n, d, float(row["loss"])) == (want.n_params, want.tokens, want.loss)
            # On the budget line: C = k N D up to the search's precision (~1e-9 in N).
            assert k * n * d == pytest.approx(budget, rel=1e-8)
            assert row["cost_model"] == f"C = {k} * N * D"
        tables[k] = rows
    # Spending C at 8 FLOPs per parameter-token is spending 6C/8 at 6: same allocation.
    code, out, _ = predict(capsys, path, "--compute", 7.5e22)
    (row,) = read_csv(out)
    # 1e-6: a minimum found by comparing losses is placed only to ~sqrt(machine epsilon) of
    # the flat valley (Kaplan's: 2e-8 apart with numpy 1.24, < 1e-9 with numpy 2.4).
    assert float(tables[8][1]["n_params"]) == pytest.approx(float(row["n_params"]), rel=1e-6)


def test_predict_compute_without_optimum_exits_1(capsys, tmp_path):
    path = tmp_path / "farseer.json"
    FitResult.from_params("farseer").to_json(path)
    output = tmp_path / "out.csv"
    code, out, err = predict(capsys, path, "--compute", 1e21, "-o", output)
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        "scaling-fit: error: law 'farseer' with these parameters has no compute-optimal "
        "allocation at C=1e+21 FLOPs under C = 6 * N * D: at fixed compute its predicted loss "
        "keeps falling as N grows (no minimum between 1e-12 and 1e12 tokens per parameter). "
        "Predict chosen sizes with n_params= (--n-params) and tokens= (--tokens) instead"
    ]
    assert not output.exists()
    # The grid still works for such a law.
    code, out, err = predict(capsys, path, "--n-params", 1e9, "--tokens", 2e10)
    assert code == 0, err
    assert len(read_csv(out)) == 1


# ----------------------------------------------------------------------- compare
@pytest.fixture(scope="module")
def rpj_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The RedPajama-trained Gadre runs (as tests/analysis/test_backtest.py uses), as a CSV."""
    with GADRE.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    path = tmp_path_factory.mktemp("gadre") / "rpj.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(r for r in rows if r["dataset_name"] == "rpj")
    return path


def compare(capsys, rpj_csv: Path, *argv: object) -> tuple[int, str, str]:
    return run(capsys, "compare", rpj_csv, "--col", "loss=loss_c4_val", *argv)


@pytest.mark.slow
def test_compare_gadre_matches_backtest_api(capsys, rpj_csv, tmp_path):
    laws = ["chinchilla", "overtraining"]
    code, out, err = compare(
        capsys, rpj_csv, "--law", laws[0], "--law", laws[1], "--holdout", "n>=1e9", "--format",
        "json",
    )  # fmt: skip
    assert code == 0, err
    runs = sf.load_runs(rpj_csv, columns={"loss": "loss_c4_val"})
    api = quietly(sf.backtest, runs, laws, "n>=1e9")
    raw = json.loads(out)
    # Same deterministic fits on the same points: the whole result is equal.
    assert raw == json.loads(json.dumps(api.to_dict()))
    summary = {row["law"]: row for row in raw["summary"]}
    # Measured in tests/analysis/test_backtest.py (1 % for solver/BLAS differences).
    assert summary["chinchilla"]["mean_relative_error"] == pytest.approx(0.018312, rel=1e-2)
    assert summary["overtraining"]["worst_relative_error"] == pytest.approx(0.003111, rel=1e-2)
    # stderr: summary, one row per held-out run with each law's error in %, the sweep.
    assert "backtest: held out n_params >= 1e+09" in err
    errors = api.errors.set_index(["law", "run"])["relative_error"]
    for name in GADRE_HELD_OUT:
        (line,) = [x for x in err.splitlines() if x.startswith(name + " ")]
        assert line.split()[1:] == [f"{100 * errors[(law, name)]:.4f}" for law in laws]
    assert "stability: predicted loss at rpj-open_lm_7b-1.0" in err
    assert "warning: overtraining: only 2 distinct n_params values" in err

    # Explicit holdout of the same runs, one law, CSV of the errors: the same numbers.
    output = tmp_path / "errors.csv"
    holdout = [x for name in GADRE_HELD_OUT for x in ("--holdout-run", name)]
    code, out, err = compare(
        capsys, rpj_csv, "--law", "chinchilla", *holdout, "--format", "csv", "-o", output
    )
    assert (code, out) == (0, ""), err
    rows = read_csv(output.read_text())
    assert [r["run"] for r in rows] == GADRE_HELD_OUT
    for row in rows:
        assert float(row["relative_error"]) == errors[("chinchilla", row["run"])]
    assert "backtest: held out runs marked by the mask" in err


def test_compare_law_failure_exits_1(capsys, rpj_csv, tmp_path, monkeypatch):
    module = importlib.import_module("scaling_fit.analysis.backtest_fits")

    @functools.wraps(module.fit)  # backtest reads fit()'s signature to check its options
    def fail(*args, **kwargs):
        raise FitError("every start failed")

    # A law that fails on real data is not cheap to provoke; stand one in.
    monkeypatch.setattr(module, "fit", fail)
    output = tmp_path / "compare.json"
    code, out, err = compare(capsys, rpj_csv, "--law", "chinchilla", "-o", output)
    assert (code, out) == (1, "")
    assert json.loads(output.read_text())["summary"][0]["error"] == "FitError: every start failed"
    assert err.splitlines()[-1] == (
        "scaling-fit: error: the fit of 1 law(s) failed (chinchilla: FitError: every start "
        "failed); the output was written"
    )


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--holdout", "biggest"], ["holdout='biggest'", "largest-n", "fraction"]),
        (["--holdout", "n>=1e12"], ["holds out 0 of 35 runs"]),
        (["--holdout-run", "rpj-7b"], ["--holdout-run", "rpj-7b", "rpj-d=1024"]),
        (["--holdout", "largest-n", "--holdout-run", "x"], ["--holdout-run", "not allowed"]),
        (["--law", "chinchilla"], ["laws= (--law)", "distinct", "'chinchilla', 'chinchilla'"]),
        (["--law", "chinchila"], ["unknown law", "chinchila"]),
        (["--format", "xml"], ["--format", "xml"]),
        (["--table", "errors", "--col", "loss=nope"], ["nope", "loss_c4_val"]),
    ],
)
def test_compare_bad_input(capsys, rpj_csv, argv, words):
    code, out, err = compare(capsys, rpj_csv, "--law", "chinchilla", *argv)
    assert out == ""
    assert_user_error(code, err, *words)


# ----------------------------------------------------------------------- isoflop
def porian(*argv: object) -> list[object]:
    groups = [x for column in CONFIG for x in ("--group-by", column)]
    path = PORIAN / "isoflop_points.csv"
    return ["isoflop", path, "--col", "n_params=n", "--col", "tokens=t", *groups, *argv]


def test_isoflop_porian_groups_match_api_and_authors(capsys):
    code, out, err = run(capsys, *porian("--bootstrap", 20, "--format", "json"))
    assert code == 0, err
    raw = json.loads(out)
    assert raw["format"] == "scaling_fit.IsoflopGroups/1" and raw["group_by"] == CONFIG
    runs = sf.load_runs(PORIAN / "isoflop_points.csv", columns={"n_params": "n", "tokens": "t"})
    records = json.loads((PORIAN / "fit_results.json").read_text())
    authors = {tuple(r[c] for c in CONFIG): r["fit_results"]["basic"] for r in records}
    differences = []
    for group in raw["groups"]:
        key = tuple(group["group"][c] for c in CONFIG)
        table = runs.loc[(runs[CONFIG] == pd.Series(key, index=CONFIG)).all(axis=1)]
        api = quietly(sf.isoflop, table, bootstrap=20)
        assert group["params"] == json.loads(api.to_json())["params"]
        assert group["warnings"] == list(api.warnings)
        differences.append(abs(group["params"]["a"]["value"] - authors[key]["n_exponent"]))
    # Issues 3 and 17's acceptance criterion on Porian et al.'s data, through the command line
    # (measured with the default method="auto": 14 of 15, median 0.0073;
    # tests/analysis/test_isoflop.py).
    assert len(differences) == 15
    assert sum(d <= 0.015 for d in differences) >= 13 and np.median(differences) <= 0.009
    assert err.count("budgets used") == 15
    assert (
        "warning: dataset=rw, hparams=base, warmup=long, decay=kaplan, param_count=kaplan, "
        "val=train: isoFLOP budgets: the optimum sits at or near the edge" in err
    )
    assert "left out of the N*(C) fit (pass keep_flagged=True (--keep-flagged) to keep them)" in err


@pytest.mark.slow  # isoFLOP bootstrap through the CLI, ~0.6 s
def test_isoflop_csv_tables(capsys, tmp_path):
    code, out, _ = run(capsys, *porian("--bootstrap", 0, "--format", "json"))
    groups = json.loads(out)["groups"]
    code, out, err = run(capsys, *porian("--bootstrap", 0, "--format", "csv", "--table", "fits"))
    assert code == 0, err
    fits = read_csv(out)
    assert list(fits[0])[:8] == [*CONFIG, "a", "a_lower"]
    for row, group in zip(fits, groups, strict=True):
        assert [row[c] for c in CONFIG] == [group["group"][c] for c in CONFIG]
        assert float(row["a"]) == group["params"]["a"]["value"]
        assert float(row["k_D"]) == group["params"]["k_D"]["value"]
        assert row["a_lower"] == row["a_upper"] == ""  # no bootstrap, no interval
        assert int(row["budgets_used"]) == sum(group["budgets"]["used"])
    output = tmp_path / "optima.csv"
    code, _, _ = run(capsys, *porian("--bootstrap", 0, "--format", "csv", "-o", output))
    optima = read_csv(output.read_text())
    assert len(optima) == sum(len(g["budgets"]["budget"]) for g in groups)
    first = groups[0]["budgets"]
    assert [float(r["n_opt"]) for r in optima[: len(first["n_opt"])]] == first["n_opt"]
    assert {r["flag"] for r in optima} >= {"", "edge", "near_edge"}


def test_isoflop_ungrouped_json_is_the_api_result(capsys, tmp_path):
    # Three budgets of exact parabolas in ln N around N* = 0.08 C^0.55 (as in test_isoflop.py).
    lines = ["compute,n_params,loss"]
    for c in (1e18, 1e19, 1e20):
        for offset in (-1.0, -0.5, 0.0, 0.5, 1.0):
            n = float(0.08 * c**0.55 * np.exp(offset))
            lines.append(f"{c!r},{n!r},{2 + 30 * c**-0.1 + 0.05 * offset**2!r}")
    data = tmp_path / "profiles.csv"
    data.write_text("\n".join(lines) + "\n")
    code, out, err = run(capsys, "isoflop", data, "--bootstrap", 0, "--format", "json")
    assert code == 0, err
    raw = json.loads(out)
    assert raw == json.loads(sf.isoflop(data, bootstrap=0).to_json())
    # A parabola through 3 points of a parabola is exact: only round-off remains.
    assert raw["params"]["a"]["value"] == pytest.approx(0.55, abs=1e-9)
    assert err.startswith("isoflop: N* = k*C^a with a = 0.55, k = 0.08;")

    # Budgets logged with jitter (±0.5 %) are one budget each only with --budget-rtol.
    jitter = 1 + 0.005 * np.sin(np.arange(1, len(lines)))
    rows = [line.split(",") for line in lines[1:]]
    jittered = [
        f"{float(c) * float(j)!r},{n},{loss}" for (c, n, loss), j in zip(rows, jitter, strict=True)
    ]
    data.write_text("\n".join([lines[0], *jittered]) + "\n")
    code, _, err = run(capsys, "isoflop", data, "--bootstrap", 0)
    assert_user_error(code, err, "at least 2 usable budgets", "found 0 of 15", "(--budget-rtol)")
    argv = ["isoflop", data, "--bootstrap", 0, "--budget-rtol", 0.02, "--format", "json"]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    # Points keep their own compute, so N* moves by the jitter only: a within 1e-3.
    assert json.loads(out)["params"]["a"]["value"] == pytest.approx(0.55, abs=1e-3)


def test_isoflop_method_option_is_the_api_method(capsys, tmp_path):
    # Dense profiles (9 sizes per budget, an exact parabola in ln N plus a cubic skew): each
    # --method gives the API's result for that method, and the JSON names the windows.
    lines = ["compute,n_params,loss"]
    for c in (1e18, 1e19, 1e20):
        for offset in np.linspace(-1.0, 1.0, 9).tolist():
            n = float(0.08 * c**0.55 * np.exp(offset))
            lines.append(f"{c!r},{n!r},{2 + 30 * c**-0.1 + 0.05 * offset**2 + 0.02 * offset**3!r}")
    data = tmp_path / "profiles.csv"
    data.write_text("\n".join(lines) + "\n")
    windows = {}
    for method in ("auto", "local", "quadratic"):
        code, out, err = run(
            capsys, "isoflop", data, "--bootstrap", 0, "--method", method, "--format", "json"
        )
        assert code == 0, err
        raw = json.loads(out)
        assert raw == json.loads(sf.isoflop(data, method=method, bootstrap=0).to_json())
        assert raw["options"]["window"] == method
        windows[method] = set(raw["budgets"]["window"])
    assert windows == {
        "auto": {"lowest -1/+1"},  # no noise to average, a skew to avoid: 3 points
        "local": {"lowest -1/+1"},
        "quadratic": {"whole profile"},
    }
    code, out, _ = run(capsys, "isoflop", data, "--bootstrap", 0, "--format", "json")
    assert json.loads(out)["options"]["window"] == "auto"  # the default


@pytest.mark.parametrize(
    ("content", "argv", "words"),
    [
        ("g,compute,n_params,loss\na,1e18,1e8,3\n", ["--group-by", "nope"], ["--group-by", "nope"]),
        (
            "g,compute,n_params,loss\n"
            + "".join(
                f"a,{c},{n},{3 + (n / 2e8 - 1) ** 2 - c / 1e20}\n"
                for c in (1e18, 1e19)
                for n in (5e7, 1e8, 2e8, 4e8, 8e8)
            )
            + "b,1e18,1e8,3\nb,1e18,2e8,2.9\nb,1e18,4e8,3.1\n",
            ["--group-by", "g"],
            ["group g=b", "at least 2 usable budgets"],
        ),
        ("n_params,loss\n1e8,3\n2e8,2.9\n", [], ["isoflop needs columns", "compute"]),
        ("compute,n_params,loss\n1e18,1e8,3\n", ["--budget-rtol", "-1"], ["--budget-rtol", ">= 0"]),
        (
            "compute,n_params,loss\n1e18,1e8,3\n",
            ["--method", "best"],
            ["method='best' (--method)", "expected one of 'auto', 'local', 'quadratic'"],
        ),
    ],
)
def test_isoflop_bad_input(capsys, tmp_path, content, argv, words):
    data = tmp_path / "runs.csv"
    data.write_text(content)
    code, out, err = run(capsys, "isoflop", data, "--bootstrap", 0, *argv)
    assert out == ""
    assert_user_error(code, err, *words)


# ----------------------------------------------------------------------- curve laws
def test_fit_and_predict_curve_law_match_api(capsys, tmp_path):
    output = tmp_path / "fit.json"
    code, out, err = run(
        capsys, "fit", curve_csv("cosine_24000"), "--law", "lr_annealing",
        "--schedule", SPECS["cosine_24000"], "-o", output,
    )  # fmt: skip
    assert (code, out) == (0, ""), err
    runs = sf.load_runs(curve_csv("cosine_24000"))
    api = quietly(sf.fit, runs, "lr_annealing", schedules=SPECS["cosine_24000"])
    raw = json.loads(output.read_text())
    assert {name: p["value"] for name, p in raw["params"].items()} == api.params
    assert raw["options"]["points"] == "after_warmup"
    assert raw["options"]["length_check"] == api.options["length_check"]
    unchecked = tmp_path / "unchecked.json"
    code, out, err = run(
        capsys, "fit", curve_csv("cosine_24000"), "--law", "lr_annealing",
        "--schedule", SPECS["cosine_24000"], "--no-length-check", "-o", unchecked,
    )  # fmt: skip
    assert "length_check" not in json.loads(unchecked.read_text())["options"]
    assert raw["options"]["schedules"] == {"cosine_24000": api.options["schedules"]["cosine_24000"]}

    code, out, err = predict(capsys, output, "--schedule", WSD, "--every", 1000)
    assert code == 0, err
    rows = read_csv(out)
    expected = predict_curve(api, WSD, every=1000)
    # the WSD's LR area is 1.6x the fitted cosine's: the length interval and its warning
    assert list(rows[0]) == ["step", "lr", "loss", "loss_lower", "loss_upper"]
    assert "1.6x the LR area (S1) of the longest fitted run (step 23920) at about its" in err
    # After the 2,160-step warm-up: 3000, 4000, ..., and the last step.
    assert [int(r["step"]) for r in rows] == [*range(3000, 24000, 1000), 24000]
    assert [float(r["loss"]) for r in rows] == expected["loss"].tolist()
    assert [float(r["lr"]) for r in rows] == expected["lr"].tolist()
    # Linear cooldown over the last 0.2 x 24000 = 4800 steps: one step before it reaches 3e-5.
    assert float(rows[-1]["lr"]) == pytest.approx(3e-5 + 2.7e-4 / 4800, rel=1e-12)
    code, out, _ = predict(capsys, output, "--schedule", WSD)
    assert [int(r["step"]) for r in read_csv(out)] == [*range(2200, 24000, 100), 24000]
    code, out, _ = predict(capsys, output, "--schedule", WSD, "--steps", 5000, 23999)
    assert [float(r["loss"]) for r in read_csv(out)] == predict_curve(api, WSD, [5000, 23999])[
        "loss"
    ].tolist()


def test_fit_from_sparse_lr_column_with_declared_warmup(capsys, tmp_path):
    paths = [curve_csv(name) for name in SPECS]
    output = tmp_path / "fit.json"
    code, _, err = run(
        capsys, "fit", *paths, "--law", "lr_annealing", "--warmup", 2160, "-o", output
    )
    assert code == 0, err
    runs = sf.load_runs([str(p) for p in paths])
    api = quietly(sf.fit, runs, "lr_annealing", warmup=2160)
    raw = json.loads(output.read_text())
    assert {name: p["value"] for name, p in raw["params"].items()} == api.params
    assert raw["options"]["lr_source"] == api.options["lr_source"]
    # The API's warning about interpolating the LR, in terms of this command's flags.
    (line,) = [x for x in err.splitlines() if "logged sparsely" in x]
    assert line.startswith("warning: the 'lr' column is logged sparsely, not at every step")
    assert line.endswith("pass schedules= (--schedule/--schedules) for the exact LR")
    # The CSVs' LR log with the declared warm-up rebuilds these three schedules to within
    # 2e-9 in LR (scaling_fit/curve_data.py): the fit is the exact-schedule fit (measured
    # 1.2e-8 relative at most; 1e-6 allows solver differences).
    exact = quietly(sf.fit, runs, "lr_annealing", schedules=SPECS)
    for name, value in exact.params.items():
        assert raw["params"][name]["value"] == pytest.approx(value, rel=1e-6), name


@pytest.mark.slow
def test_fit_multipower_predicts_the_test_curves(capsys, tmp_path):
    schedules = tmp_path / "schedules.json"
    schedules.write_text(json.dumps(SPECS))
    output = tmp_path / "fit.json"
    paths = [curve_csv(name) for name in SPECS]
    code, _, err = run(
        capsys, "fit", *paths, "--law", "multipower", "--schedules", schedules, "-o", output
    )
    assert code == 0, err
    assert "law multipower: " in err
    errors = []
    for name, spec in TEST_SPECS.items():
        actual = sf.load_runs(curve_csv(name))
        steps = actual["step"].tolist()
        code, out, err = predict(capsys, output, "--schedule", spec, "--steps", *steps)
        assert code == 0, err
        predicted = np.array([float(r["loss"]) for r in read_csv(out)])
        errors.append(np.mean(np.abs(predicted - actual["loss"]) / actual["loss"]))
    # Mean relative error (PredE) over the six test curves of the 25M model: measured 1.2455 x
    # the published 0.00110, as the API's refit in tests/laws/test_curve_laws.py (1.245 x; issue
    # 4's 1.05 x is an xfail there); bounded here as there, at 1.3 x.
    assert np.mean(errors) == pytest.approx(1.2455 * 0.00110, rel=0.05)
    assert np.mean(errors) <= 1.3 * 0.00110
    # The CLI's predictions are the API's for the saved fit.
    result = FitResult.from_json(output)
    last = sf.load_runs(curve_csv("wsdcon_18"))
    assert predicted.tolist() == predict_runs(result, last, TEST_SPECS).tolist()


@pytest.mark.parametrize(
    ("files", "argv", "words"),
    [
        ({"s.json": "{}"}, ["--schedule", "S", "--schedules", "s.json"], ["not allowed with"]),
        (
            {},
            [],
            ["logs 'lr' from step 2160", "warmup= (--warmup)", "<= 2160", "--schedule/--sched"],
        ),
        ({}, ["--warmup", "3000"], ["'cosine_24000': warmup=3000 (--warmup)", "0..2160"]),
        (
            {},
            ["--warmup", "2160", "--schedule", "S"],
            ["warmup= (--warmup)", "in each schedule spec"],
        ),
        ({}, ["--schedule", "cosine:peak=3e-4"], ["--schedule", "total"]),
        ({}, ["--schedules", "absent.json"], ["--schedules", "absent.json", "does not exist"]),
        ({"s.json": "cosine"}, ["--schedules", "s.json"], ["s.json", "not JSON"]),
        ({"s.json": '["S"]'}, ["--schedules", "s.json"], ["(--schedule/--schedules)", "list"]),
        (
            {"s.json": '{"cosine_24000": 3}'},
            ["--schedules", "s.json"],
            ["run 'cosine_24000'", "spec string"],
        ),
        (
            {"s.json": '{"cosine_24000": "cosin:total=9"}'},
            ["--schedules", "s.json"],
            ["(--schedule/--schedules), run 'cosine_24000'", "family", "cosin"],
        ),
        (
            {"s.json": '{"other": "S"}'},
            ["--schedules", "s.json"],
            ["no schedule for runs ['cosine_24000']", "other"],
        ),
        (
            {},
            ["--schedule", "S", "--points", "final"],
            ["points='final' (--points)", "loss-curve law", "after_warmup, all"],
        ),
    ],
)
def test_fit_curve_law_bad_input(capsys, tmp_path, files, argv, words):
    for name, text in files.items():
        (tmp_path / name).write_text(text.replace('"S"', json.dumps(SPECS["cosine_24000"])))
    argv = [
        SPECS["cosine_24000"] if a == "S" else tmp_path / a if a.endswith(".json") else a
        for a in argv
    ]
    code, out, err = run(capsys, "fit", curve_csv("cosine_24000"), "--law", "lr_annealing", *argv)
    assert out == ""
    assert_user_error(code, err, *words)


def test_fit_curve_law_without_lr_is_a_usage_error(capsys, tmp_path):
    data = tmp_path / "curve.csv"
    data.write_text("step,loss\n100,3.5\n200,3.4\n300,3.35\n")
    code, _, err = run(capsys, "fit", data, "--law", "lr_annealing")
    assert_user_error(
        code,
        err,
        "needs the LR at every step",
        "schedules= (--schedule/--schedules)",
        "'lr' column",
    )


def test_fit_curve_options_with_nd_law_are_usage_errors(capsys, epoch_csv):
    code, _, err = run(capsys, "fit", epoch_csv, "--law", "chinchilla", "--schedule", WSD)
    assert_user_error(
        code, err, "schedules= (--schedule/--schedules) is for loss-curve laws", "chinchilla"
    )
    code, _, err = run(capsys, "fit", epoch_csv, "--law", "chinchilla", "--warmup", 100)
    assert_user_error(code, err, "warmup= (--warmup) is for loss-curve laws", "n_params")
    code, _, err = run(capsys, "fit", epoch_csv, "--law", "chinchilla", "--points", "after_warmup")
    assert_user_error(code, err, "points='after_warmup' (--points)", "L(N, D) law", "'final'")


@pytest.mark.parametrize(
    ("law", "argv", "words"),
    [
        ("multipower", [], ["loss-curve law", "schedule= (--schedule)"]),
        (
            "multipower",
            ["--n-params", "1e9"],
            ["n_params= (--n-params) is for L(N, D) laws", "multipower"],
        ),
        ("multipower", ["--compute", "1e21"], ["compute= (--compute) is for L(N, D) laws"]),
        ("multipower", ["--schedule", WSD, "--every", "0"], ["--every", "integer >= 1", "'0'"]),
        (
            "multipower",
            ["--schedule", WSD, "--every", "9", "--steps", "5"],
            ["every= (--every) or steps= (--steps), not both"],
        ),
        ("multipower", ["--schedule", WSD, "--steps", "24001"], ["step 24001", "24000 steps"]),
        ("multipower", ["--schedule", "cosin:total=9"], ["--schedule", "family", "cosin"]),
        (
            "chinchilla",
            ["--schedule", WSD],
            ["schedule= (--schedule) is for loss-curve laws", "chinchilla"],
        ),
        (
            "chinchilla",
            ["--compute", "1e21", "--every", "5"],
            ["every= (--every) is for loss-curve"],
        ),
        (
            "chinchilla",
            ["--n-params", "1e9", "--tokens", "2e10", "--flops-per-param-token", "8"],
            ["(--flops-per-param-token) sets the cost model of compute= (--compute)"],
        ),
        (
            "chinchilla",
            ["--compute", "1e21", "--flops-per-param-token", "0"],
            ["--flops-per-param-token", "positive", "found 0"],
        ),
    ],
)
def test_predict_option_does_not_suit_the_law(capsys, tmp_path, law, argv, words):
    path = tmp_path / f"{law}.json"
    FitResult.from_params(law).to_json(path)
    code, out, err = predict(capsys, path, *argv)
    assert out == ""
    assert_user_error(code, err, *words)


# ----------------------------------------------------------------------- shared flags, --level
PUBLISHED_400M = {  # data/multipower_law/SOURCE.md, as tests/analysis/test_schedule_search.py
    "L0": 2.37474466, "A": 0.65421216, "alpha": 0.42878731, "B": 523.42464371,
    "C": 2.02462735, "beta": 0.59350493, "gamma": 0.63472457,
}  # fmt: skip


def test_subcommands_read_shared_flags_alike():
    from scaling_fit.cli.main import build_parser

    commands = build_parser()._subparsers._group_actions[0].choices
    assert {"fit", "compare"} <= {
        n for n, p in commands.items() if "--fix" in p._option_string_actions
    }
    seen: dict[str, tuple] = {}
    for name, parser in commands.items():
        for flag, action in parser._option_string_actions.items():
            # compare takes several laws; --table chooses among each command's own tables
            if flag in ("-h", "--help", "--law", "--table"):
                continue
            kind = getattr(action.type, "__qualname__", action.type)
            # nargs may differ: predict takes grids of --n-params/--tokens, plan one run's
            shape = (type(action), kind, action.choices, action.metavar)
            assert seen.setdefault(flag, (name, shape))[1] == shape, (flag, name)
    assert seen["--tie"][1][1] is not None and "--points" in seen


def test_compare_passes_fit_flags_to_every_law(capsys, rpj_csv):
    code, out, err = compare(
        capsys, rpj_csv, "--law", "chinchilla", "--tie", "beta=alpha", "--loss", "mse",
        "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    runs = sf.load_runs(rpj_csv, columns={"loss": "loss_c4_val"})
    options = {"tie": {"beta": "alpha"}, "loss": "mse"}
    api = quietly(sf.backtest, runs, ["chinchilla"], fit_options=options)
    raw = json.loads(out)
    assert raw == json.loads(json.dumps(api.to_dict()))
    params = raw["params"]["chinchilla"]
    assert params["beta"] == params["alpha"]
    # A flag that does not suit one law fails that law's fit, as the library says.
    code, out, err = compare(capsys, rpj_csv, "--law", "kaplan", "--fix", "E=1.7")
    assert code == 1
    assert err.splitlines()[-1].startswith(
        "scaling-fit: error: the fit of 1 law(s) failed (kaplan: DataError: fixed= (--fix) "
        "names ['E'] but law 'kaplan' has parameters"
    )


@pytest.fixture(scope="module")
def boot_curve_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A saved multipower 'fit' with 40 bootstrap samples scattered 1 % around the published
    400M parameters (a real bootstrap of curves costs minutes; --level only reads samples)."""
    import dataclasses

    published = FitResult.from_params("multipower", PUBLISHED_400M)
    values = np.array(list(PUBLISHED_400M.values()))
    noise = np.random.default_rng(0).normal(0.0, 0.01, (40, len(values)))
    result = dataclasses.replace(published, samples=values * (1 + noise))
    path = tmp_path_factory.mktemp("boot") / "boot.json"
    result.to_json(path)
    return path


def test_predict_curve_band_with_level(capsys, boot_curve_json):
    code, out, err = predict(
        capsys, boot_curve_json, "--schedule", WSD, "--every", 4000, "--level", 0.9
    )
    assert code == 0, err
    rows = read_csv(out)
    assert list(rows[0]) == ["step", "lr", "loss", "lower", "upper"]
    result = FitResult.from_json(boot_curve_json)
    expected = result.predict_curve(WSD, every=4000, level=0.9)
    assert [float(r["lower"]) for r in rows] == expected["loss_lo"].tolist()
    assert [float(r["upper"]) for r in rows] == expected["loss_hi"].tolist()
    assert all(float(r["lower"]) < float(r["loss"]) < float(r["upper"]) for r in rows)
    # Without --level, the curve alone (as before).
    code, out, _ = predict(capsys, boot_curve_json, "--schedule", WSD, "--every", 4000)
    assert list(read_csv(out)[0]) == ["step", "lr", "loss"]


@pytest.mark.parametrize(
    ("fit", "level", "words"),
    [
        ("published", 0.9, ["needs bootstrap samples", "bootstrap=1000 (--bootstrap)"]),
        ("boot", 1.5, ["level=1.5 (--level)", "between 0 and 1"]),
        ("boot", 0, ["level=0.0 (--level)"]),
    ],
)
def test_predict_level_errors(capsys, tmp_path, boot_curve_json, fit, level, words):
    path = boot_curve_json
    if fit == "published":
        path = tmp_path / "published.json"
        FitResult.from_params("multipower", PUBLISHED_400M).to_json(path)
    code, out, err = predict(capsys, path, "--schedule", WSD, "--level", level)
    assert out == ""
    assert_user_error(code, err, *words)


def test_predict_grid_level_narrows_the_interval(capsys, epoch_csv, tmp_path):
    output = tmp_path / "fit.json"
    epoch_fit(capsys, epoch_csv, output, "--bootstrap", 30, "--seed", 1)
    widths = {}
    for level in (0.5, 0.95):
        argv = ["predict", output, "--format", "csv", "--n-params", "70B", "--tokens", "1.4T"]
        argv += ["--level", level]
        code, out, err = run(capsys, *argv)
        assert code == 0, err
        (row,) = read_csv(out)
        api = FitResult.from_json(output).predict_interval(
            n_params=7e10, tokens=1.4e12, level=level
        )
        assert (float(row["lower"]), float(row["upper"])) == (api["lower"][0], api["upper"][0])
        widths[level] = float(row["upper"]) - float(row["lower"])
    assert 0 < widths[0.5] < widths[0.95]
    # An L(N, D) fit without samples: --level asks for what it cannot give.
    FitResult.from_params("chinchilla").to_json(tmp_path / "p.json")
    code, _, err = predict(
        capsys, tmp_path / "p.json", "--n-params", 1e9, "--tokens", 2e10, "--level", 0.9
    )
    assert_user_error(code, err, "predict_interval needs bootstrap samples", "(--bootstrap)")


# ----------------------------------------------------------------------- best-schedule
def test_best_schedule_matches_the_api(capsys, tmp_path):
    path = tmp_path / "mpl.json"
    published = FitResult.from_params("multipower", PUBLISHED_400M)
    published.to_json(path)
    argv = ["best-schedule", path, "--total-steps", "24k", "--family", "cosine"]
    argv += ["--format", "json"]
    code, out, err = run(capsys, *argv, "--peak", 3e-4, "--warmup", 2160, "--every", 1000)
    assert code == 0, err
    raw = json.loads(out)
    api = sf.best_schedule(published, 24000, "cosine", peak=3e-4, warmup=2160, every=1000)
    assert raw["format"] == "scaling_fit.ScheduleChoice/1"
    assert (raw["law"], raw["family"], raw["total_steps"]) == ("multipower", "cosine", 24000)
    assert raw["schedule"] == api.schedule.spec
    assert raw["baseline"] == "cosine:peak=0.0003,total=24000,warmup=2160,final=3e-05"
    assert (raw["final_loss"], raw["baseline_loss"]) == (api.final_loss, api.baseline_loss)
    assert raw["curve"]["loss"] == api.curve["loss"].tolist()
    assert raw["curve"]["step"] == [*range(3000, 24001, 1000)]  # step total = end of training
    assert raw["candidates"]["spec"] == api.candidates["spec"].tolist()
    assert len(raw["candidates"]["final_loss"]) == 8
    assert err.startswith(f"best cosine schedule: {api.schedule.spec}\n  predicted final loss")
    # A baseline spec of the same length is compared as given.
    code, out, err = run(capsys, *argv, "--peak", 3e-4, "--warmup", 2160, "--baseline", WSD)
    assert code == 0, err
    assert json.loads(out)["baseline"] == sf.schedules.from_spec(WSD).spec


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        ([], ["peak= (--peak) not given", "none recorded"]),
        (
            ["--peak", "3e-4", "--warmup", "2160", "--family", "step"],
            ["family='step' (--family)", "wsd"],
        ),
        (["--peak", "3e-4", "--warmup", "30000"], ["total_steps=24000.0 (--total-steps)", "30002"]),
        (["--peak", "-1", "--warmup", "0"], ["peak=-1.0 (--peak)", "LR > 0"]),
        (
            ["--peak", "3e-4", "--warmup", "0", "--baseline", "cosine:peak=3e-4,total=9"],
            ["baseline= (--baseline) has 9 steps", "24000"],
        ),
    ],
)
def test_best_schedule_bad_input(capsys, tmp_path, argv, words):
    path = tmp_path / "mpl.json"
    FitResult.from_params("multipower", PUBLISHED_400M).to_json(path)
    code, out, err = run(capsys, "best-schedule", path, "--total-steps", 24000, *argv)
    assert out == ""
    assert_user_error(code, err, *words)


def test_best_schedule_needs_a_curve_fit(capsys, tmp_path):
    FitResult.from_params("chinchilla").to_json(tmp_path / "p.json")
    code, _, err = run(capsys, "best-schedule", tmp_path / "p.json", "--total-steps", 24000)
    assert_user_error(code, err, "not a loss-curve law", "multipower")
    code, _, err = run(capsys, "best-schedule", tmp_path / "p.json")
    assert_user_error(code, err, "--total-steps", "required")


# ----------------------------------------------------------------------- the CLI trusts the library
def api_error(call) -> str:
    """The message of the ScalingFitError that an API call raises."""
    with pytest.raises(sf.ScalingFitError) as caught:
        quietly(call)
    return str(caught.value)


@pytest.mark.parametrize(
    ("argv", "call"),
    [
        (
            ["fit", "EPOCH", "--law", "chinchilla", "--tie", "beta=gamma"],
            lambda runs: sf.fit(runs, "chinchilla", tie={"beta": "gamma"}),
        ),
        (
            ["fit", "EPOCH", "--law", "chinchilla", "--warmup", "100"],
            lambda runs: sf.fit(runs, "chinchilla", warmup=100),
        ),
        (
            ["fit", "CURVE", "--law", "lr_annealing", "--warmup", "2160", "--schedule", WSD],
            lambda runs: sf.fit(runs, "lr_annealing", warmup=2160, schedules=WSD),
        ),
        (
            ["fit", "CURVE", "--law", "lr_annealing", "--schedule", "cosin:total=9"],
            lambda runs: sf.fit(runs, "lr_annealing", schedules="cosin:total=9"),
        ),
        (
            ["compare", "EPOCH", "--law", "kaplan", "--law", "kaplan"],
            lambda runs: sf.backtest(runs, ["kaplan", "kaplan"]),
        ),
    ],
)
def test_library_errors_reach_the_cli_unchanged(capsys, epoch_csv, argv, call):
    # The API's message, with only the one-line prefix, and exit 2: no rewriting.
    paths = {"EPOCH": epoch_csv, "CURVE": curve_csv("cosine_24000")}
    argv = [paths.get(a, a) for a in argv]
    code, out, err = run(capsys, *argv)
    message = api_error(lambda: call(sf.load_runs(argv[1])))
    assert (code, out) == (2, "")
    assert err == f"scaling-fit: error: {message}\n"


def test_flags_table_names_flags_of_the_cli():
    from scaling_fit.cli.main import build_parser
    from scaling_fit.errors import FLAGS, argument

    assert argument("fixed") == "fixed= (--fix)"
    assert argument("warmup", 3000) == "warmup=3000 (--warmup)"
    assert argument("n_refine") == "n_refine="  # no flag sets it
    commands = build_parser()._subparsers._group_actions[0].choices
    known = {flag for p in commands.values() for a in p._actions for flag in a.option_strings}
    for name, flags in FLAGS.items():
        assert set(flags.split("/")) <= known, name


def test_cli_choices_are_the_librarys():
    from scaling_fit.cli import options
    from scaling_fit.fitting.curve_points import POINTS
    from scaling_fit.fitting.objective import LOSSES

    assert options.LOSSES == LOSSES
    assert set(options.POINTS) == {"final", "all", *POINTS}


def test_building_the_parser_imports_no_heavy_module():
    code = (
        "import sys\n"
        "from scaling_fit.cli.main import main\n"
        "assert main(['--version']) == 0\n"
        "assert main(['fit', '--help']) == 0\n"
        "print(sorted(m for m in ('pandas', 'scipy', 'matplotlib') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"


# ----------------------------------------------------------------------- console script
@pytest.mark.slow  # a fresh interpreter through the installed script (~3 s); CI runs it
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
