"""``scaling-fit hparams``, ``cbs`` and ``plan``, run in-process through ``main(argv)``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scaling_fit as sf
from scaling_fit.cli.main import main

DATA = Path(__file__).resolve().parents[2] / "data"
DENSE = DATA / "steplaw" / "dense_lr_bs_loss.csv.gz"
ZHANG = DATA / "zhang_cbs" / "chinchilla_steps_to_target.csv"


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _plan_rows(text: str) -> pd.DataFrame:
    raw = json.loads(text)
    assert raw["format"] == "scaling_fit.Plan/1"
    return pd.DataFrame(raw["rows"]).set_index("quantity").astype({"value": float})


def test_plan_step_law_case_matches_the_api(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "plan", "--n-params", "7B", "--tokens", "1.4T", "--format", "json")
    assert code == 0
    rows = _plan_rows(out)
    api = sf.plan(n_params=7e9, tokens=1.4e12, seq_len=2048).set_index("quantity")
    assert list(rows.index) == list(api.index)
    for column in ("value", "lower", "upper"):
        np.testing.assert_allclose(rows[column].astype(float), api[column], rtol=1e-15)
    assert (rows["law"] == api["law"]).all() and (rows["unit"] == api["unit"]).all()
    # Field by field (data/steplaw/SOURCE.md, 3 figures quoted: 0.1 %).
    assert rows.loc["peak_lr", "value"] == pytest.approx(9.35e-4, rel=1e-3)
    assert rows.loc["batch_size", "value"] == pytest.approx(5.00e6, rel=1e-3)
    assert rows.loc["batch_sequences", "value"] == pytest.approx(2440, rel=1e-3)
    assert rows.loc["steps", "value"] == pytest.approx(1.4e12 / 5.00e6, rel=1e-3)
    assert rows.loc["compute", "value"] == 6 * 7e9 * 1.4e12
    assert "peak_lr" in err  # the human table on stderr beside the JSON


def test_plan_seq_len_and_csv(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "plan", "--n-params", "7B", "--tokens", "1.4T", "--seq-len", "4096",
                       "--format", "csv")  # fmt: skip
    assert code == 0
    table = pd.read_csv(__import__("io").StringIO(out)).set_index("quantity")
    assert table.loc["batch_sequences", "value"] == pytest.approx(5.00e6 / 4096, rel=1e-3)


def test_hparams_then_plan(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    hp_json = tmp_path / "hp.json"
    code, out, err = run(capsys, "hparams", DENSE, "--col", "loss=smooth loss", "--seq-len",
                         "2048", "--bootstrap", "100", "-o", hp_json)  # fmt: skip
    assert code == 0 and out == ""
    loaded = sf.HparamsResult.from_json(hp_json)
    sweep = sf.load_runs(DENSE, columns={"loss": "smooth loss"})
    api = sf.fit_hparams(sweep, seq_len=2048, bootstrap=100)
    assert loaded.lr.params == pytest.approx(api.lr.params, rel=1e-12)
    assert loaded.batch.params == pytest.approx(api.batch.params, rel=1e-12)
    assert "mean loss penalty per cell" in err
    code, out, err = run(
        capsys,
        "plan",
        "--n-params",
        "7B",
        "--tokens",
        "1.4T",
        "--hparams",
        hp_json,
        "--format",
        "json",
    )
    assert code == 0
    assert "warning: tokens extrapolates 14x" in err
    rows = _plan_rows(out)
    assert "fit_hparams, rule band" in rows.loc["peak_lr", "law"]


def test_plan_with_a_fit(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    runs = sf.load_runs(DATA / "epoch_chinchilla" / "svg_extracted_data.csv")
    fit = sf.fit(runs, "chinchilla", exclude=sf.highest_loss_mask(runs, 5))
    fit.to_json(tmp_path / "fit.json")
    code, out, _ = run(
        capsys, "plan", "--compute", "5.76e23", "--fit", tmp_path / "fit.json", "--format", "json"
    )
    assert code == 0
    rows = _plan_rows(out)
    api = sf.plan(compute=5.76e23, fit=fit).set_index("quantity")
    np.testing.assert_allclose(rows["value"], api["value"], rtol=1e-12)
    assert {"loss", "critical_batch", "n_params_opt", "loss_opt"} <= set(rows.index)


def test_plan_suggest(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    runs = sf.load_runs(DATA / "epoch_chinchilla" / "svg_extracted_data.csv")
    fit = sf.fit(runs, "chinchilla", exclude=sf.highest_loss_mask(runs, 5))
    fit.to_json(tmp_path / "fit.json")
    argv = ["plan", "--suggest", "--budget", "1e21", "--fit", tmp_path / "fit.json"]
    code, out, _ = run(capsys, *argv, "--n-params", "70B", "--tokens", "1.4T", "--format", "json")
    assert code == 0
    raw = json.loads(out)
    api = sf.suggest_runs(fit, target={"n_params": 7e10, "tokens": 1.4e12}, budget=1e21)
    np.testing.assert_allclose([r["n_params"] for r in raw["rows"]], api["n_params"], rtol=1e-12)
    assert raw["start"]["sd"] == pytest.approx(api.attrs["start"]["sd"], rel=1e-12)
    code, _, err = run(capsys, "plan", "--suggest", "--n-params", "7B", "--tokens", "1T")
    assert code == 2 and "--suggest needs --fit FIT.json and --budget" in err


def test_cbs_then_plan(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, _ = run(capsys, "cbs", ZHANG, "-o", tmp_path / "cbs.json")
    assert code == 0
    code, out, _ = run(capsys, "plan", "--n-params", "1.2B", "--tokens", "24B", "--cbs",
                       tmp_path / "cbs.json", "--format", "json")  # fmt: skip
    assert code == 0
    rows = _plan_rows(out)
    api = sf.plan(n_params=1.2e9, tokens=2.4e10, cbs=sf.fit_critical_batch(ZHANG))
    np.testing.assert_allclose(rows["value"], api["value"], rtol=1e-12)
    assert "critical_batch_20" in rows.index


def test_cbs(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "cbs", ZHANG, "--format", "json")
    assert code == 0
    raw = json.loads(out)
    api = sf.fit_critical_batch(ZHANG)
    values = [row["b_noise"] for row in raw["fits"]]
    np.testing.assert_allclose(values, api.fits["b_noise"], rtol=1e-12)
    assert set(raw["definitions"]) >= {"b_noise", "b_20"}
    assert "Zhang et al. 2024" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["plan", "--n-params", "7B"], "a plan needs the model size and the tokens"),
        (["plan", "--n-params", "7B", "--tokens", "1T", "--hparams", "nope.json"],
         "hparams file 'nope.json' does not exist"),
        (["plan", "--n-params", "7Q", "--tokens", "1T"], "argument --n-params"),
        (["cbs", str(DENSE)], "needs columns 'batch_size'"),
        (["hparams", str(ZHANG)], "no loss column"),
        (["hparams", str(DENSE), "--rule", "median"], "invalid choice: 'median'"),
    ],
)  # fmt: skip
def test_errors_are_one_line_with_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("scaling-fit: error: ")
    assert message in err


def test_existing_output_is_not_overwritten(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "plan.json"
    target.write_text("keep")
    code, _, err = run(capsys, "plan", "--n-params", "7B", "--tokens", "1T", "-o", target)
    assert code == 2 and "exists; pass --force" in err
    assert target.read_text() == "keep"


def test_hparams_rule_choices_are_the_library_rules() -> None:
    # The CLI lists the rules without importing the library (a fast parser); they must agree.
    from scaling_fit.analysis.hparams_cells import RULES
    from scaling_fit.cli.hparams import RULES as CLI_RULES

    assert CLI_RULES == RULES
