"""What every ``scaling-fit`` subcommand prints: a compact summary by default, the whole
result as JSON with ``--format json`` (or ``-o FILE``), arrays of numbers on one line each.

Issue 21, item 8: ``forecast`` printed ~780 lines of JSON by default and ``best-schedule``
~2,300 (one number per line); ``fit`` printed 6.  Each command runs here once per format on
small inputs, in-process through ``main(argv)``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scaling_fit as sf
from scaling_fit.cli.main import main
from scaling_fit.results import curves
from scaling_fit.results.json_file import json_dumps

DATA = Path(__file__).resolve().parents[2] / "data"
EPOCH = DATA / "epoch_chinchilla" / "svg_extracted_data.csv"
ZHANG = DATA / "zhang_cbs" / "chinchilla_steps_to_target.csv"
COSINE = "cosine:peak=3e-4,total=12000,warmup=500,final=3e-5"
ANNEALING = {"L0": 2.5, "A": 0.6, "alpha": 0.5, "C": 0.4}
MULTIPOWER = {  # data/multipower_law/SOURCE.md, 400M
    "L0": 2.37474466, "A": 0.65421216, "alpha": 0.42878731, "B": 523.42464371,
    "C": 2.02462735, "beta": 0.59350493, "gamma": 0.63472457,
}  # fmt: skip
FILES = ("chin.json", "ann.json", "mpl.json", "log.csv", "iso.csv", "sweep.csv")
MAX_LINES = 25  # the "compact": a screen, as fit's 6 lines


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Small inputs of every command: fits, a running job's log, isoFLOP profiles, a sweep."""
    folder = tmp_path_factory.mktemp("inputs")
    paths = {name: folder / name for name in ("chin.json", "ann.json", "mpl.json")}
    sf.FitResult.from_params("chinchilla").to_json(paths["chin.json"])
    annealing = sf.FitResult.from_params("lr_annealing", ANNEALING)
    annealing.to_json(paths["ann.json"])
    sf.FitResult.from_params("multipower", MULTIPOWER).to_json(paths["mpl.json"])
    steps = pd.DataFrame({"run": "job", "step": np.arange(600, 6001, 50)})
    loss = curves.predict_runs(annealing, steps, COSINE)
    noise = np.exp(np.random.default_rng(0).normal(0.0, 2e-3, len(steps)))
    paths["log.csv"] = folder / "log.csv"
    steps.assign(loss=loss * noise)[["step", "loss"]].to_csv(paths["log.csv"], index=False)
    lines = ["compute,n_params,loss"]  # exact parabolas in ln N (tests/analysis/test_isoflop.py)
    for c in (1e18, 1e19, 1e20):
        for offset in (-1.0, -0.5, 0.0, 0.5, 1.0):
            n = float(0.08 * c**0.55 * np.exp(offset))
            lines.append(f"{c!r},{n!r},{2 + 30 * c**-0.1 + 0.05 * offset**2!r}")
    paths["iso.csv"] = folder / "iso.csv"
    paths["iso.csv"].write_text("\n".join(lines) + "\n")
    paths["sweep.csv"] = folder / "sweep.csv"
    sweep().to_csv(paths["sweep.csv"], index=False)
    return paths


def sweep() -> pd.DataFrame:
    """A noise-free LR x batch sweep, a bowl in logs around known optima (test_hparams.py)."""
    rows = []
    for n in (1e8, 3e8, 1e9):
        for d in (2e9, 2e10, 2e11):
            lr_opt, b_opt = 2.0 * n**-0.7 * d**0.3, 0.5 * d**0.6
            for x in np.linspace(-2.0, 2.0, 9):
                for y in np.linspace(-1.5, 1.5, 7):
                    loss = 2.5 * (1 + 0.01 * (x + 0.1) ** 2 + 0.006 * (y - 0.05) ** 2)
                    rows.append((n, d, lr_opt * np.exp(x), b_opt * np.exp(y), loss))
    return pd.DataFrame(rows, columns=["n_params", "tokens", "lr", "batch_size", "loss"])


def commands(files: dict[str, Path]) -> dict[str, list[object]]:
    """One ordinary call of each subcommand (report: its summary beside the -o page)."""
    return {
        "laws": ["laws"],
        "fit": ["fit", EPOCH, "--law", "chinchilla", "--drop-top-loss", 5],
        "predict": ["predict", files["chin.json"], "--n-params", "1B", "7B", "--tokens", "1T"],
        "predict curve": ["predict", files["ann.json"], "--schedule", COSINE],
        "compare": ["compare", EPOCH, "--law", "chinchilla"],
        "forecast": [
            *("forecast", files["log.csv"], "--schedule", COSINE),
            *("--prior", files["ann.json"], "--bootstrap", 0),
        ],
        "best-schedule": [
            *("best-schedule", files["mpl.json"], "--total-steps", 24000),
            *("--family", "cosine", "--peak", 3e-4, "--warmup", 2160),
        ],
        "isoflop": ["isoflop", files["iso.csv"], "--bootstrap", 0],
        "hparams": ["hparams", files["sweep.csv"], "--rule", "smooth", "--bootstrap", 0],
        "cbs": ["cbs", ZHANG],
        "plan": ["plan", "--n-params", "7B", "--tokens", "1.4T"],
    }


NAMES = list(commands(dict.fromkeys(FILES, Path())))


def run(capsys: pytest.CaptureFixture[str], argv: list[object]) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name", NAMES)
def test_default_output_is_compact_and_json_parses(capsys, files, name) -> None:
    argv = commands(files)[name]
    code, out, err = run(capsys, argv)
    assert code == 0, err
    assert 1 <= len(out.splitlines()) <= MAX_LINES, out
    assert len(err.splitlines()) <= 5, err  # warnings only
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)  # a summary for people, not JSON
    code, out, err = run(capsys, [*argv, "--format", "json"])
    assert code == 0, err
    raw = json.loads(out)
    assert isinstance(raw, dict) and raw
    # Arrays of numbers on one line each: no line holds a lone number.
    lone = [line for line in out.splitlines() if line.strip().rstrip(",").lstrip("-")[:1].isdigit()]
    assert lone == []


@pytest.mark.parametrize("name", ["forecast", "best-schedule", "isoflop", "compare"])
def test_output_file_gets_the_whole_json_and_stdout_stays_empty(capsys, files, tmp_path, name):
    output = tmp_path / "out.json"
    code, out, err = run(capsys, [*commands(files)[name], "-o", output])
    assert (code, out) == (0, ""), err
    assert json.loads(output.read_text())
    assert err  # the summary went to stderr


def test_fit_full_is_an_alias_of_format_json(capsys) -> None:
    argv = ["fit", EPOCH, "--law", "chinchilla", "--drop-top-loss", 5]
    _, full, _ = run(capsys, [*argv, "--full"])
    _, formatted, _ = run(capsys, [*argv, "--format", "json"])
    assert json.loads(full) == json.loads(formatted)


def test_csv_where_a_command_has_no_table_is_refused_up_front(capsys) -> None:
    code, out, err = run(capsys, ["fit", EPOCH, "--law", "chinchilla", "--format", "csv"])
    assert (code, out) == (2, "")
    assert err == (
        "scaling-fit: error: --format csv: `scaling-fit fit` has no table to write; use "
        "--format json (the whole result) or text (a summary)\n"
    )


def test_forecast_and_best_schedule_tables_as_csv(capsys, files) -> None:
    code, out, err = run(capsys, [*commands(files)["forecast"], "--format", "csv"])
    assert code == 0, err
    table = pd.read_csv(pd.io.common.StringIO(out))
    assert list(table.columns) == ["step", "lr", "loss"] and table["step"].iloc[-1] == 12000
    argv = [*commands(files)["best-schedule"], "--format", "csv", "--table", "candidates"]
    code, out, err = run(capsys, argv)
    assert code == 0, err
    assert {"spec", "final_loss"} <= set(pd.read_csv(pd.io.common.StringIO(out)).columns)


@pytest.mark.slow  # a whole report, ~1.4 s
def test_report_prints_its_summary_and_its_json(capsys, tmp_path) -> None:
    page = tmp_path / "r.html"
    argv = ["report", EPOCH, "--law", "chinchilla", "--bootstrap", 0, "-o", page, "--format"]
    code, out, err = run(capsys, [*argv, "json"])
    assert code == 0, err
    raw = json.loads(out)
    assert raw["path"] == str(page) and raw["best_law"] == "chinchilla"
    assert err.startswith(f"report written to {page}") and len(err.splitlines()) <= MAX_LINES


def test_json_writer_puts_arrays_of_values_on_one_line() -> None:
    data = {"curve": {"step": [1, 2, 3], "loss": [2.5, None, 2.25]}, "rows": [{"a": [1.0]}]}
    text = json_dumps(data)
    assert json.loads(text) == data
    assert '"step": [1, 2, 3],' in text and '"loss": [2.5, null, 2.25]' in text
    assert text.count("\n") == 10  # braces and keys one per line, arrays of values inline
    with pytest.raises(ValueError, match="not JSON compliant"):
        json_dumps({"x": [float("nan")]})


def test_every_result_json_uses_the_writer(tmp_path) -> None:
    fit = sf.FitResult.from_params("chinchilla")
    text = fit.to_json(tmp_path / "fit.json")
    assert sf.FitResult.from_json(tmp_path / "fit.json").params == fit.params
    assert text == json_dumps(fit.to_dict())
