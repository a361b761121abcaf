"""A user's own training logs, end to end through the CLI (issue 21: items 1, 2, 3 and 9).

Logs as people have them: a Hugging Face Trainer JSON-lines log (training lines and
evaluation lines), W&B panel and history exports, a hand-made sweep with units in its
column names.  Each test runs ``scaling-fit`` in-process (``main([...])``) as a user would
and checks the exit code and the line the user reads; the figures are checked through their
matplotlib artists (data, not pixels).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scaling_fit as sf
from scaling_fit.cli.main import main

DATA = Path(__file__).resolve().parents[2] / "data"
TRUE = {"L0": 2.5, "A": 0.6, "alpha": 0.5, "C": 0.4}  # lr_annealing behind the synthetic logs
HF_SPEC = "linear:peak=5e-4,total=2000,warmup=100"  # HF's linear schedule with warm-up


def run_cli(capsys, argv: list) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def hf_trainer_log(seed: int = 0) -> str:
    """A Hugging Face Trainer log as JSON lines: ``logging_steps=10``, ``eval_steps=100``.

    Training lines hold ``loss``, ``grad_norm``, ``learning_rate``, ``epoch``, ``step``;
    evaluation lines ``eval_loss``, ``eval_runtime``, … , ``epoch``, ``step``; the last line
    is the Trainer's summary (``train_loss``, ``train_runtime``, …).  Losses follow the
    LR-annealing law ``TRUE`` under the linear schedule, with 0.3 % / 0.1 % noise.
    """
    schedule = sf.schedules.from_spec(HF_SPEC)
    law = sf.FitResult.from_params("lr_annealing", TRUE)
    steps = np.arange(10, 2001, 10)
    with pytest.warns(sf.ScalingFitWarning, match="warm-up"):  # steps 10-100: warm-up
        clean = law.predict_curve(schedule, steps).set_index("step")["loss"]
    rng = np.random.default_rng(seed)
    lines = []
    for step in steps:
        epoch = round(3 * step / 2000, 4)
        train = clean[step] * (1 + rng.normal(0, 3e-3))
        lr = float(schedule.lr[min(step, 1999)])
        lines.append(
            {"loss": round(train, 4), "grad_norm": 1.2, "learning_rate": lr, "epoch": epoch,
             "step": int(step)}
        )  # fmt: skip
        if step % 100 == 0:
            evaluation = clean[step] * (1 + rng.normal(0, 1e-3)) + 0.02
            lines.append(
                {"eval_loss": round(evaluation, 4), "eval_runtime": 3.2,
                 "eval_samples_per_second": 150.0, "eval_steps_per_second": 18.8,
                 "epoch": epoch, "step": int(step)}
            )  # fmt: skip
    lines.append(
        {"train_runtime": 1234.5, "train_samples_per_second": 40.1, "train_steps_per_second": 1.6,
         "total_flos": 1.2e17, "train_loss": 2.9, "epoch": 3.0, "step": 2000}
    )  # fmt: skip
    return "".join(json.dumps(line) + "\n" for line in lines)


@pytest.fixture
def hf_log(tmp_path: Path) -> Path:
    path = tmp_path / "trainer_log.jsonl"
    path.write_text(hf_trainer_log())
    return path


# ------------------------------------------------------------------- item 3: HF JSONL
def test_hf_trainer_lines_are_joined_on_step(hf_log: Path) -> None:
    with pytest.warns(sf.ScalingFitWarning, match="dropped 180 of 200 rows"):
        table = sf.load_runs(hf_log, columns={"loss": "eval_loss"}, nan_policy="omit")
    # One row per evaluation step, with the learning rate of the training line of that step.
    assert table["step"].tolist() == list(range(100, 2001, 100))
    schedule = sf.schedules.from_spec(HF_SPEC)
    expected = schedule.lr[np.minimum(table["step"].to_numpy(), 1999)]
    np.testing.assert_allclose(table["lr"], expected, rtol=1e-12)


@pytest.mark.parametrize(
    "lr_from", [["--warmup", "100"], ["--schedule", HF_SPEC]], ids=["lr-column", "schedule"]
)
def test_hf_trainer_eval_loss_is_fitted(capsys, hf_log: Path, lr_from: list) -> None:
    argv = ["fit", hf_log, "--law", "lr_annealing", "--col", "loss=eval_loss"]
    code, out, err = run_cli(capsys, [*argv, "--nan-policy", "omit", *lr_from])
    assert code == 0, err
    # 20 evaluations; the one at step 100 (end of the warm-up) is left out by default.
    assert "law lr_annealing: 19 points" in out + err
    # The training lines without an evaluation are dropped, and said so.
    assert "dropped 180 of 200 rows" in out + err


def test_hf_trainer_train_loss_needs_no_nan_policy(capsys, hf_log: Path) -> None:
    argv = ["fit", hf_log, "--law", "lr_annealing", "--col", "loss=loss"]
    code, out, err = run_cli(capsys, argv)
    assert code == 0, err
    assert "law lr_annealing: 190 points" in out + err  # 200 training lines, 10 in warm-up


def trainer_state(tmp_path: Path) -> Path:
    """The same log as Hugging Face's Trainer saves it in a checkpoint: ``trainer_state.json``
    with the lines as its ``log_history``, in ``my-run/checkpoint-2000/``."""
    folder = tmp_path / "my-run" / "checkpoint-2000"
    folder.mkdir(parents=True)
    history = [json.loads(line) for line in hf_trainer_log().splitlines()]
    state = {"global_step": 2000, "max_steps": 2000, "log_history": history}
    path = folder / "trainer_state.json"
    path.write_text(json.dumps(state, indent=2))
    return path


def test_hf_trainer_state_is_read_as_its_log(capsys, tmp_path: Path) -> None:
    path = trainer_state(tmp_path)
    table = sf.load_runs(path, columns={"loss": "loss"})
    # The run is the output folder (every checkpoint's file has the same name); 200 steps.
    assert table["run"].unique().tolist() == ["my-run"]
    assert table["step"].tolist() == list(range(10, 2001, 10))
    argv = ["fit", path, "--law", "lr_annealing", "--col", "loss=eval_loss"]
    code, out, err = run_cli(capsys, [*argv, "--nan-policy", "omit", "--warmup", "100"])
    assert code == 0, err
    assert "law lr_annealing: 19 points" in out + err  # as from the JSON lines


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{not json", "not valid JSON"),
        ('{"global_step": 10}', "non-empty 'log_history' list; found keys ['global_step']"),
        ('[{"step": 1, "loss": 2.0}]', "found a JSON list"),
        ('{"log_history": [{"step": 1, "loss": 2.0}, 3]}', "log_history[1] is int"),
    ],
    ids=["not-json", "no-history", "a-list", "entry-not-object"],
)
def test_a_bad_trainer_state_names_what_is_wrong(capsys, tmp_path: Path, text, words) -> None:
    path = tmp_path / "trainer_state.json"
    path.write_text(text)
    code, _, err = run_cli(capsys, ["fit", path, "--law", "lr_annealing"])
    assert code == 2
    assert words in err and str(path) in err


def test_lines_of_a_step_join_across_timestamps_but_not_across_losses(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    lines = [
        {"step": 100, "loss": 3.0, "lr": 1e-3, "time": 1.0},
        {"step": 100, "val_loss": 3.1, "time": 2.5},  # its own timestamp: joined all the same
        {"step": 200, "loss": 2.9, "lr": 1e-3, "time": 3.0},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    with pytest.warns(sf.ScalingFitWarning, match="dropped 1 of 2 rows"):  # step 200: no val
        table = sf.load_runs(path, columns={"loss": "val_loss"}, nan_policy="omit")
    assert table[["step", "loss", "lr", "time"]].values.tolist() == [[100, 3.1, 1e-3, 1.0]]
    # A resumed run logs step 200 twice with two losses: the lines stay apart, and say so.
    lines.append({"step": 200, "loss": 2.95, "lr": 1e-3, "time": 9.0})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    with pytest.raises(sf.DataError, match=r"line 4: run 'log' logs step 200 again"):
        sf.load_runs(path, columns={"loss": "loss"})


def test_omit_that_would_drop_every_row_does_not_ask_for_omit(capsys, tmp_path: Path) -> None:
    # Evaluations at steps the training lines never log: no row has both eval_loss and lr.
    lines = [{"loss": 3.0 - s / 1e4, "learning_rate": 1e-3, "step": s} for s in range(10, 400, 10)]
    lines += [{"eval_loss": 3.0 - s / 1e4, "step": s} for s in range(105, 400, 100)]
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    argv = ["fit", path, "--law", "lr_annealing", "--col", "loss=eval_loss"]
    code, _, err = run_cli(capsys, [*argv, "--nan-policy", "omit"])
    assert code == 2
    assert "would drop every row" in err
    assert "'eval_loss' (loss) in 39" in err and "'learning_rate' (lr) in 3" in err
    assert "pass nan_policy='omit'" not in err


# ------------------------------------------------------------------- item 9: smaller ones
def test_nan_cell_error_names_the_cli_flag_too(capsys, tmp_path: Path) -> None:
    path = tmp_path / "runs.csv"
    path.write_text("run,step,loss\na,10,3.0\na,20,\na,30,2.8\n")
    code, _, err = run_cli(capsys, ["fit", path, "--law", "lr_annealing", "--schedule", "x"])
    assert code == 2
    assert "nan_policy='omit' (--nan-policy omit)" in err


def test_wandb_panel_run_names_with_a_dash(capsys, tmp_path: Path) -> None:
    header = ["Step"]
    for run in ("lr=3e-4 - bs=256", "lr=1e-3 - bs=256"):
        header += [f"{run} - train/loss", f"{run} - train/loss__MIN", f"{run} - train/loss__MAX"]
    rows = [
        [str(step)] + [f"{2 + 30 / step**0.5 + k / 50:.4f}" for k in range(6)]
        for step in range(100, 1001, 100)
    ]
    path = tmp_path / "panel.csv"
    path.write_text("\n".join(",".join(row) for row in [header, *rows]) + "\n")
    table = sf.load_runs(path)
    assert sorted(table["run"].unique()) == ["lr=1e-3 - bs=256", "lr=3e-4 - bs=256"]
    assert len(table) == 20
    spec = "cosine:peak=3e-4,total=1000,warmup=50"
    code, out, err = run_cli(capsys, ["fit", path, "--law", "lr_annealing", "--schedule", spec])
    assert code in (0, 1), err  # read and fitted (the fit's quality is not the point here)
    assert "20 points" in out + err


def test_dense_history_from_step_1_is_not_called_sparse(capsys, tmp_path: Path) -> None:
    # A W&B history logged at every step from step 1 (W&B's first _step after update 1).
    schedule = sf.schedules.from_spec("cosine:peak=3e-4,total=3000,warmup=200,final=3e-5")
    steps = np.arange(1, 3001)
    with pytest.warns(sf.ScalingFitWarning, match="warm-up"):
        loss = sf.FitResult.from_params("lr_annealing", TRUE).predict_curve(schedule, steps)
    lr = schedule.lr[np.minimum(steps, 2999)]
    table = pd.DataFrame({"_step": steps, "train/lr": lr, "train/loss": loss["loss"].round(5)})
    path = tmp_path / "history.csv"
    table.assign(run="r1").to_csv(path, index=False)
    code, out, err = run_cli(capsys, ["fit", path, "--law", "lr_annealing"])
    assert code == 0, err
    assert "sparse" not in out + err and "every 1 steps" not in out + err
    fitted = sf.fit(sf.load_runs(path), "lr_annealing", progress=False)
    assert fitted.options["lr_source"]["r1"].startswith("interpolated from every-step log")
    assert fitted.params["L0"] == pytest.approx(TRUE["L0"], rel=0.01)  # noise-free: close


def test_budget_is_compute(tmp_path: Path) -> None:
    path = tmp_path / "isoflop.csv"
    path.write_text("budget,tokens,loss\n1e18,1e9,3.1\n1e18,2e9,3.0\n1e19,5e9,2.8\n")
    table = sf.load_runs(path)
    assert table["compute"].tolist() == [1e18, 1e18, 1e19]
    assert table.attrs["derived"] == {"n_params": "compute / (6 * tokens)"}


def test_units_in_column_names_are_read(capsys, tmp_path: Path) -> None:
    # A hand-made sweep: parameters in millions, tokens in billions, said in the header.
    n = np.repeat([70, 160, 410, 1000, 1400], 4)
    d = np.tile([1.4, 3.2, 8.2, 20.0], 5)
    loss = 1.69 + 406.4 / (n * 1e6) ** 0.34 + 410.7 / (d * 1e9) ** 0.28
    rows = [f"r{i},{a},{b},{c:.5f}" for i, (a, b, c) in enumerate(zip(n, d, loss, strict=True))]
    path = tmp_path / "sweep.csv"
    path.write_text("\n".join(["run,params (M),tokens (B),loss", *rows]) + "\n")
    table = sf.load_runs(path)
    assert table["n_params"].max() == pytest.approx(1.4e9)
    assert table["tokens"].min() == pytest.approx(1.4e9)
    code, out, err = run_cli(capsys, ["fit", path, "--law", "chinchilla"])
    assert "derived n_params = 'params (M)' * 1e6" in out + err
    assert "derived tokens = 'tokens (B)' * 1e9" in out + err
    assert "without a unit" not in err  # neither column is taken for a count in units
    assert code in (0, 1), err


def test_params_in_millions_without_a_unit_are_flagged(capsys, tmp_path: Path) -> None:
    # A 'params' column in millions beside tokens in tokens: N looks 10^6 times too small.
    n = np.repeat([70, 160, 410, 1000, 1400], 4)
    d = np.tile([1.4e9, 3.2e9, 8.2e9, 2e10], 5)
    loss = 1.69 + 406.4 / (n * 1e6) ** 0.34 + 410.7 / d**0.28
    rows = [f"r{i},{a},{b:g},{c:.5f}" for i, (a, b, c) in enumerate(zip(n, d, loss, strict=True))]
    path = tmp_path / "sweep.csv"
    path.write_text("\n".join(["run,params,tokens,loss", *rows]) + "\n")
    code, out, err = run_cli(capsys, ["fit", path, "--law", "chinchilla"])
    assert code in (0, 1), err  # fitted (in the wrong units, which is the point)
    line = next((x for x in (out + err).splitlines() if "tokens per parameter" in x), "")
    assert "n_params look like millions" in line and "'params (M)'" in line


def test_compare_on_curve_logs_says_how_curve_laws_are_tested(capsys) -> None:
    path = DATA / "examples" / "wandb_history.csv"
    for extra in ([], ["--holdout-run", "70M"]):
        code, _, err = run_cli(capsys, ["compare", path, "--law", "multipower", *extra])
        assert code == 2
        assert "loss-curve law" in err and "forecast" in err
        assert "needs column 'compute'" not in err


# ------------------------------------------------------------------- item 1: the figure
def curve_artists(fig) -> tuple[list, list, list]:
    """Data dots, fitted lines (upper panel) and LR lines (lower panel) of a curves figure."""
    top, bottom = fig.axes[:2]
    dots = [line for line in top.lines if line.get_marker() == "."]
    fits = [line for line in top.lines if line.get_linestyle() == "-"]
    return dots, fits, list(bottom.lines)


def assert_draws_the_fit(fig, result: sf.FitResult, peak_lr: float) -> None:
    """Every fitted run drawn as dots at its data and a fitted line across them; LR below."""
    dots, fits, lrs = curve_artists(fig)
    data = result.data
    assert len(dots) == data["run"].nunique() and len(fits) == len(dots) == len(lrs)
    x = np.concatenate([line.get_xdata() for line in dots])
    y = np.concatenate([line.get_ydata() for line in dots])
    assert sorted(x) == sorted(data["step"].to_numpy(float))
    assert sorted(y) == sorted(data["loss"].to_numpy(float))
    for line in fits:  # a fitted curve spans its run's data and runs through its losses
        fx, fy = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
        assert np.all(np.isfinite(fy)) and fx.min() <= data["step"].max()
        # within 10 % of the data's loss range of it (the fit, not a flat or blank line)
        span = np.ptp(y)
        assert y.min() - 0.1 * span <= np.median(fy) <= y.max() + 0.1 * span
    lr_top = max(np.max(line.get_ydata()) for line in lrs)
    assert lr_top == pytest.approx(peak_lr, rel=1e-3)  # the log's own LR, rebuilt
    top = fig.axes[0]
    assert top.get_xlim() != (0.0, 1.0) and top.get_ylim() != (0.0, 1.0)


@pytest.mark.parametrize(
    ("log", "options", "peak"),
    [
        ("wandb_history.csv", {"warmup": 500}, 3e-4),
        ("tensorboard/*.csv", {"warmup": 500}, 3e-4),
        ("training_log.jsonl", {"warmup": 500}, 3e-4),
    ],
    ids=["wandb-history", "tensorboard", "jsonl"],
)
@pytest.mark.slow  # a report or figure per case, ~0.6 s each
def test_curves_figure_draws_a_log_with_its_own_lr(log: str, options: dict, peak: float) -> None:
    runs = sf.load_runs(str(DATA / "examples" / log))
    with pytest.warns(sf.ScalingFitWarning):  # sparse LR; shape parameters unidentified
        result = sf.fit(runs, "lr_annealing", progress=False, **options)
    # The LR every run was fitted with is kept (as knots) with the fit, JSON included.
    assert set(result.options["lr_history"]) == set(runs["run"])
    fig = result.plot("curves")
    # The example's peak: 3e-4 (SOURCE.md); its logged LR peaks ~1 % below (logged at 1000).
    assert_draws_the_fit(fig, result, runs["lr"].max())
    assert runs["lr"].max() == pytest.approx(peak, rel=0.02)
    again = sf.FitResult.from_json(result.to_json())
    assert_draws_the_fit(again.plot("curves"), again, runs["lr"].max())


@pytest.mark.slow  # a report or figure per case, ~0.6 s each
def test_report_of_an_hf_log_draws_its_curve(capsys, hf_log: Path, monkeypatch) -> None:
    import scaling_fit.plotting.curves as curves

    drawn = []

    def spy(result, *args, **kwargs):
        fig = plot(result, *args, **kwargs)
        drawn.append((fig, result))
        return fig

    plot = curves.plot_loss_curves
    monkeypatch.setattr(curves, "plot_loss_curves", spy)
    out = hf_log.parent / "report.html"
    argv = ["report", hf_log, "--law", "lr_annealing", "--col", "loss=loss", "-o", out]
    code, _, err = run_cli(capsys, argv)
    assert code == 0, err
    ((fig, result),) = drawn
    assert_draws_the_fit(fig, result, 5e-4)


def test_a_fit_without_lr_knots_draws_its_data_and_says_why_not_more(hf_log: Path) -> None:
    with pytest.warns(sf.ScalingFitWarning, match="dropped"):
        runs = sf.load_runs(hf_log, columns={"loss": "eval_loss"}, nan_policy="omit")
    with pytest.warns(sf.ScalingFitWarning, match="sparsely"):
        result = sf.fit(runs, "lr_annealing", warmup=100, progress=False)
    raw = json.loads(result.to_json())
    del raw["options"]["lr_history"]  # as a fit file written before the knots were kept
    old = sf.FitResult.from_json(json.dumps(raw))
    with pytest.warns(sf.ScalingFitWarning, match="does not record the LR of runs 'trainer_log'"):
        fig = old.plot("curves")
    dots, fits, _ = curve_artists(fig)
    assert len(dots) == 1 and not fits
    assert sorted(dots[0].get_xdata()) == sorted(result.data["step"])


# ------------------------------------------------------------------- item 2: one curve
def test_bootstrap_of_one_curve_gives_no_false_intervals(capsys, hf_log: Path) -> None:
    out_json = hf_log.parent / "fit.json"
    argv = ["fit", hf_log, "--law", "lr_annealing", "--col", "loss=loss", "--bootstrap", "20"]
    code, out, err = run_cli(capsys, [*argv, "-o", out_json])
    assert code == 0, err
    text = out + err
    assert "bootstrap=20 (--bootstrap) was not run" in text and "only 1 run" in text
    assert "move as one" not in text and "r = +1.00000" not in text  # no false degeneracy
    saved = json.loads(out_json.read_text())
    assert all(p["stderr"] is None and p["ci95"] is None for p in saved["params"].values())
    assert saved["options"]["bootstrap"] == 0 and saved["bootstrap_samples"] is None


def test_bootstrap_needs_three_runs_in_the_api(hf_log: Path) -> None:
    runs = sf.load_runs(hf_log, columns={"loss": "loss"})
    with pytest.warns(sf.ScalingFitWarning) as caught:
        result = sf.fit(runs, "lr_annealing", bootstrap=20, progress=False)
    messages = [str(w.message) for w in caught]
    assert any("was not run" in m for m in messages)
    assert not any("move as one" in m for m in messages)
    assert result.samples is None and set(result.stderr.values()) == {None}
    # Three curves (three noise draws of the log, one file each): the bootstrap runs.
    paths = []
    for seed in range(3):
        paths.append(hf_log.parent / f"seed{seed}.jsonl")
        paths[-1].write_text(hf_trainer_log(seed))
    three = sf.load_runs(paths, columns={"loss": "loss"})
    assert three["run"].nunique() == 3
    with pytest.warns(sf.ScalingFitWarning) as caught:  # sparse LR; fewer than 5 curves
        result = sf.fit(three, "lr_annealing", bootstrap=10, progress=False)
    assert not any("was not run" in str(w.message) for w in caught)
    assert result.samples is not None and result.samples.shape == (10, 4)


@pytest.mark.slow  # a report or figure per case, ~0.6 s each
def test_single_log_report_shows_no_false_degeneracy(capsys, hf_log: Path) -> None:
    out = hf_log.parent / "report.html"
    argv = ["report", hf_log, "--law", "lr_annealing", "--col", "loss=loss", "-o", out]
    code, _, err = run_cli(capsys, argv)  # the report bootstraps (100) by default
    assert code == 0, err
    page = out.read_text()
    assert "was not run" in page
    assert "move as one" not in page and "r = +1.00000" not in page
