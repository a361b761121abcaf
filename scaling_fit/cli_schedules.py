"""``scaling-fit fit`` options of loss-curve laws: the LR schedule of every run.

``--schedule SPEC`` gives one schedule spec for every run; ``--schedules FILE.json`` a JSON
object mapping run name → spec (run names are the CSV stems unless the data has a ``run``
column, see :func:`scaling_fit.load_runs`).  Specs are checked here so that a mistake names
the option or file it came from.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pandas as pd

from .cli_common import UsageError
from .errors import DataError
from .laws import Law
from .schedules import as_schedule

EXAMPLE = "cosine:peak=3e-4,total=24000,warmup=2160,final=3e-5"
CURVE_HELP = (
    "give --schedule SPEC (one schedule for every run) or --schedules FILE.json (a JSON "
    f'object {{"run": "spec"}}), e.g. --schedule {EXAMPLE}'
)


def add_schedule_options(parser: argparse.ArgumentParser) -> None:
    """``--schedule SPEC`` and ``--schedules FILE.json`` (mutually exclusive)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--schedule", metavar="SPEC", help="curve laws: one LR schedule for all runs"
    )
    group.add_argument(
        "--schedules", metavar="FILE.json", help='curve laws: JSON {"run": "spec", ...}'
    )


def schedules_for(args: argparse.Namespace, law: Law, runs: pd.DataFrame) -> Any:
    """What ``fit(schedules=...)`` gets: None, one spec string, or a dict run → spec.

    Raises :class:`UsageError` when schedules are given for an L(N, D) law, missing for a
    curve law, malformed, or lacking a run of the data, and for a ``--points`` choice of the
    other kind of law.
    """
    given = args.schedule is not None or args.schedules is not None
    curve = law.features is not None
    if args.points == ("final" if curve else "after_warmup"):
        kind = "L(N, D)" if curve else "loss-curve"
        own = "after_warmup (default) or all" if curve else "final (default) or all"
        raise UsageError(
            f"--points {args.points} is for {kind} laws; law {law.name!r} fits {own} points"
        )
    if given and not curve:
        raise UsageError(
            f"--schedule/--schedules are for loss-curve laws (multipower, lr_annealing); law "
            f"{law.name!r} takes {list(law.inputs)}"
        )
    if not curve:
        return None
    if not given:
        raise UsageError(f"law {law.name!r} needs the LR schedule of every run: {CURVE_HELP}")
    if args.schedule is not None:
        check_spec(args.schedule, "--schedule")
        return args.schedule
    specs = read_schedules(args.schedules)
    missing = [run for run in pd.unique(runs["run"]) if run not in specs]
    if missing:
        raise UsageError(
            f"{args.schedules}: no schedule for runs {missing}; it has {sorted(specs)}. Add "
            "them (keys are run names: the CSV file stems, or the 'run' column)"
        )
    return specs


def read_schedules(path_text: str) -> dict[str, str]:
    """The run → spec mapping of a ``--schedules`` file, each spec checked."""
    path = Path(path_text)
    if not path.is_file():
        raise UsageError(f"--schedules file {path_text!r} does not exist")
    try:
        specs = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(
            f"{path_text}: not JSON ({exc}); expected an object mapping run name to schedule "
            f'spec, e.g. {{"cosine_24000": "{EXAMPLE}"}}'
        ) from None
    if not isinstance(specs, dict) or not specs:
        raise UsageError(
            f"{path_text}: expected a non-empty JSON object mapping run name to schedule spec; "
            f"found {type(specs).__name__} {json.dumps(specs)[:60]}"
        )
    for run, spec in specs.items():
        if not isinstance(spec, str):
            raise UsageError(
                f"{path_text}: run {run!r} has {json.dumps(spec)[:60]}; expected a schedule "
                f'spec string such as "{EXAMPLE}"'
            )
        check_spec(spec, f"{path_text}, run {run!r}:")
    return specs


def check_spec(spec: str, where: str) -> None:
    """Parse a spec now, so that an error names ``where`` it came from (exit code 2)."""
    try:
        as_schedule(spec)
    except DataError as exc:
        raise UsageError(f"{where} {exc}") from None
