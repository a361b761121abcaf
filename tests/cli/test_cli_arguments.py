"""The command line's flags are the API's arguments: derived from the parser, not a hand list.

- every command that reads runs applies ``--where`` (and so ``--nan-policy`` and ``--col``,
  which go the same way, :func:`scaling_fit.cli.common.load_options`): ``--where "loss < 0"``
  exits 2 with one line on stderr;
- every option's dest is a parameter of the API function its command calls, name for name,
  but for a declared list of CLI-only flags and of flags spelled otherwise;
- a renamed flag's old name still works, hidden, with a warning on stderr.
"""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path
from typing import Any

import pytest

import scaling_fit as sf
from scaling_fit.cli.main import build_parser, main
from scaling_fit.cli.options import RENAMED_FLAGS

DATA = Path(__file__).resolve().parents[2] / "data"
RUNS = DATA / "epoch_chinchilla" / "svg_extracted_data.csv"
COMMANDS: dict[str, argparse.ArgumentParser] = build_parser()._subparsers._group_actions[0].choices
# Commands whose data input is not a runs table (load_runs needs a loss), with the reason.
NOT_RUNS = {"cbs": "a steps-to-target table (batch_size, steps), read by fit_critical_batch"}
# Values for the flags a command requires (argparse's required=True or a required group).
REQUIRED_VALUES = {"--law": "chinchilla", "--schedule": "cosine:peak=3e-4,total=1000"}


def data_input(parser: argparse.ArgumentParser) -> bool:
    """The command takes data files as positional arguments (``path`` or ``paths``)."""
    return any(not a.option_strings and a.dest in ("path", "paths") for a in parser._actions)


def reads_runs() -> list[str]:
    return [n for n, p in COMMANDS.items() if data_input(p) and n not in NOT_RUNS]


def required_flags(parser: argparse.ArgumentParser) -> list[str]:
    """A value for every required flag: argparse's own, and the first of a required group."""
    flags = [a.option_strings[-1] for a in parser._actions if a.required and a.option_strings]
    for group in parser._mutually_exclusive_groups:
        if group.required:
            flags.append(group._group_actions[0].option_strings[-1])
    return [word for flag in flags for word in (flag, REQUIRED_VALUES[flag])]


def test_commands_that_read_runs_are_found_from_the_parser() -> None:
    assert {"fit", "compare", "forecast", "isoflop", "hparams", "report"} <= set(reads_runs())
    # every command with a data input but the declared ones has --where
    lacking = {
        n
        for n, p in COMMANDS.items()
        if data_input(p) and "--where" not in p._option_string_actions
    }
    assert lacking == set(NOT_RUNS)


TARGET = ["--target-n", "7e10", "--target-tokens", "1.4e12"]


def where_cases() -> list[tuple[str, list[str]]]:
    """Every command that reads runs, and again with target flags where it has them."""
    cases = [(name, []) for name in reads_runs()]
    targeted = [n for n in reads_runs() if "--target-n" in COMMANDS[n]._option_string_actions]
    return cases + [(name, TARGET) for name in targeted]


@pytest.mark.parametrize(("command", "target"), where_cases())
def test_where_applies_to_every_command_that_reads_runs(
    command: str, target: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = COMMANDS[command]
    out = tmp_path / "out.file"
    argv = [command, str(RUNS), *required_flags(parser), *target, "--where", "loss < 0"]
    code = main([*argv, "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("scaling-fit: error: where='loss < 0' keeps none of the"), err
    assert not out.exists()


# ----------------------------------------------------------------------- flag ↔ argument
# The API functions each command calls (its options' dests must be their parameters).
FL = sf.FitResult
COMMAND_API: dict[str, list[Any]] = {
    "laws": [sf.list_laws],
    "fit": [sf.fit, sf.load_runs, sf.Law.from_formula],
    "predict": [FL.predict, FL.predict_interval, FL.predict_curve, FL.compute_optimal],
    "compare": [sf.backtest, sf.choose_law, sf.fit, sf.load_runs],
    "forecast": [sf.forecast, sf.load_runs],
    "isoflop": [sf.isoflop, sf.load_runs],
    "best-schedule": [sf.best_schedule],
    "hparams": [sf.fit_hparams, sf.load_runs],
    "cbs": [sf.fit_critical_batch],
    "plan": [sf.plan, sf.suggest_runs],
    "report": [sf.write_report],
}
# Flags of the command line only: output, messages, the files read.
CLI_ONLY = {"debug", "force", "format", "output", "quiet", "table", "path", "paths", "fit_json"}
# Flags spelled otherwise than their argument, each with the argument it sets.
SPELLED_OTHERWISE = {
    ("*", "col"): "columns",  # --col NAME=COLUMN, repeated: one pair per flag
    ("*", "fix"): "fixed",  # --fix NAME=VALUE, repeated
    ("fit", "schedule"): "schedules",  # one schedule for every run
    ("fit", "input"): "inputs",  # --input SYMBOL=COLUMN (Law.from_formula)
    ("fit", "formula"): "expression",
    ("fit", "drop_top_loss"): "exclude",  # the mask of the K highest-loss fitted points
    ("compare", "target_n"): "target",
    ("compare", "target_tokens"): "target",
    ("compare", "target_compute"): "target",
    ("compare", "holdout_run"): "holdout",  # a mask of the named runs
    ("isoflop", "budget_rtol"): "grouping",
    ("isoflop", "group_by"): "runs",  # one analysis per group of rows
    ("predict", "n_params"): "inputs",
    ("predict", "tokens"): "inputs",
    ("predict", "compute"): "compute",
    ("plan", "suggest"): "target",  # suggest_runs(target=...)
    ("report", "schedules"): "schedule",  # a file of per-run schedules
}


def parameters(functions: list[Any]) -> set[str]:
    return {name for f in functions for name in inspect.signature(f).parameters}


def test_every_flag_is_an_api_argument() -> None:
    assert set(COMMAND_API) == set(COMMANDS)
    problems = []
    for command, parser in COMMANDS.items():
        names = parameters(COMMAND_API[command])
        for action in parser._actions:
            dest = action.dest
            if dest == "help" or action.help == argparse.SUPPRESS or dest in CLI_ONLY:
                continue
            spelled = SPELLED_OTHERWISE.get((command, dest), SPELLED_OTHERWISE.get(("*", dest)))
            if dest not in names and spelled not in names:
                problems.append(f"{command} --{dest.replace('_', '-')}")
    assert problems == []


def test_the_flag_check_catches_a_flag_without_an_argument() -> None:
    names = parameters([sf.isoflop])
    assert "budget_rtol" not in names and "bootstrap" in names


# ----------------------------------------------------------------------- renamed flags
def test_renamed_flag_is_hidden_and_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert RENAMED_FLAGS == {"--n-boot": "--bootstrap"}
    forecast = COMMANDS["forecast"]
    assert "--n-boot" not in forecast.format_help() and "--bootstrap" in forecast.format_help()
    args = build_parser().parse_args(
        ["forecast", "log.csv", "--schedule", "cosine", "--n-boot", "7"]
    )
    assert args.bootstrap == 7
    err = capsys.readouterr().err
    assert err == (
        "scaling-fit: warning: --n-boot is renamed --bootstrap (the old name goes in the next "
        "release)\n"
    )
    # only where it was a flag before
    assert [n for n, p in COMMANDS.items() if "--n-boot" in p._option_string_actions] == [
        "forecast"
    ]


def test_drop_top_loss_means_the_same_in_fit_and_report() -> None:
    import pandas as pd

    from scaling_fit.inputs.points import top_loss_rows

    runs = pd.DataFrame(
        {"run": list("aabbcc"), "step": [1, 2] * 3, "loss": [5.0, 3.0, 4.0, 3.5, 6.0, 2.0]}
    )
    # final-point laws: the run ending highest (b), whole; the highest row (c at step 1) was
    # what write_report left out before
    mask, note = top_loss_rows(runs, 1, final=True)
    assert mask.tolist() == [False, False, True, True, False, False]
    assert note == "dropped runs ending at the 1 highest-loss points (loss >= 3.5)"
    mask, _ = top_loss_rows(runs, 1, final=False)  # curve laws fit every row
    assert mask.tolist() == [False, False, False, False, True, False]
    source = inspect.getsource(sf.write_report)
    assert "top_loss_rows(" in source and "highest_loss_mask(" not in source
