"""``scaling-fit fit`` options of loss-curve laws: where the LR of every step comes from.

``--schedule SPEC`` gives one schedule spec for every run; ``--schedules FILE.json`` a JSON
object mapping run name → spec (run names are the CSV stems unless the data has a ``run``
column, see :func:`scaling_fit.load_runs`).  Without either, the data's ``lr`` column is used
(interpolated where it is logged sparsely); the warm-up is detected from a rising logged LR,
and a log that starts flat after step 0 needs the run's warm-up length declared with
``--warmup STEPS`` (see :mod:`scaling_fit.inputs.lr_column`).  Mistakes are reported
here, naming the option or file they came from.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import DataError
from ..laws import Law
from ..schedules.spec import as_schedule
from .common import UsageError, count

EXAMPLE = "cosine:peak=3e-4,total=24000,warmup=2160,final=3e-5"
CURVE_HELP = (
    "give --schedule SPEC (one schedule for every run), --schedules FILE.json (a JSON "
    f'object {{"run": "spec"}}) or an lr column in the data, e.g. --schedule {EXAMPLE}'
)
# fit()'s keyword arguments named in its messages → the flags that set them here. A keyword
# inside a schedule spec ("cosine:...,warmup=2160") follows ':' or ',' and is left alone.
API_FLAGS = (
    (re.compile(r"fit\(\.\.\., warmup=N\)"), "--warmup N"),
    (re.compile(r"; a dict run -> N per run"), ""),
    (re.compile(r"(?<![\w,:])warmup="), "--warmup "),
    (re.compile(r"(?<![\w,:])schedules="), "--schedule/--schedules"),
)


def add_schedule_options(parser: argparse.ArgumentParser) -> None:
    """``--schedule SPEC`` / ``--schedules FILE.json`` (mutually exclusive), ``--warmup``."""
    parser.add_argument(
        "--warmup",
        type=count,
        metavar="STEPS",
        help="curve laws, lr column: the runs' warm-up length in steps (default: detected "
        "from a rising logged LR; needed when the log starts flat after step 0)",
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--schedule", metavar="SPEC", help="curve laws: one LR schedule for all runs"
    )
    group.add_argument(
        "--schedules", metavar="FILE.json", help='curve laws: JSON {"run": "spec", ...}'
    )


def curve_options(args: argparse.Namespace, law: Law, runs: pd.DataFrame) -> dict[str, Any]:
    """``schedules=`` and ``warmup=`` of :func:`scaling_fit.fit`, when given.

    Raises :class:`UsageError` when they are given for an L(N, D) law; when a curve law has
    neither schedules nor an ``lr`` column, or an ``lr`` log starting after step 0 without
    ``--warmup``, or ``--warmup`` with schedules; for malformed schedules or one lacking a
    run of the data; and for a ``--points`` choice of the other kind of law.
    """
    curve = law.fits_curves
    _check_points(args.points, law, curve)
    given = [
        flag for flag in ("schedule", "schedules", "warmup") if getattr(args, flag) is not None
    ]
    if given and not curve:
        raise UsageError(
            f"--{given[0]} is for loss-curve laws (multipower, lr_annealing); law {law.name!r} "
            f"takes {list(law.inputs)}"
        )
    if not curve:
        return {}
    if args.schedule is not None or args.schedules is not None:
        if args.warmup is not None:
            raise UsageError(
                "--warmup declares the warm-up of an lr column logged after step 0; with "
                "--schedule/--schedules the warm-up is in each spec (e.g. warmup=2160): drop "
                "--warmup"
            )
        return {"schedules": _given_schedules(args, runs)}
    if "lr" not in runs.columns:
        raise UsageError(f"law {law.name!r} needs the LR at every step of every run: {CURVE_HELP}")
    _check_warmup_declared(args.warmup, runs)
    return {} if args.warmup is None else {"warmup": args.warmup}


def api_flags(message: str) -> str:
    """fit()'s advice in command-line terms: its keyword arguments as flags."""
    for keyword, flag in API_FLAGS:
        message = keyword.sub(flag, message)
    return message


def _check_points(points: str | None, law: Law, curve: bool) -> None:
    if points == ("final" if curve else "after_warmup"):
        kind = "L(N, D)" if curve else "loss-curve"
        own = "after_warmup (default) or all" if curve else "final (default) or all"
        raise UsageError(
            f"--points {points} is for {kind} laws; law {law.name!r} fits {own} points"
        )


def _check_warmup_declared(warmup: int | None, runs: pd.DataFrame) -> None:
    """A log of lr that starts after step 0 leaves the warm-up unknown: --warmup says it."""
    if warmup is not None or "step" not in runs.columns:
        return
    first = runs.groupby("run", sort=False)["step"].min()
    late = first[first > 0]
    if len(late):
        raise UsageError(
            f"run {late.index[0]!r} logs lr from step {late.iloc[0]} on, so its warm-up is "
            f"unknown: declare it with --warmup STEPS (linear from LR 0 over STEPS <= "
            f"{late.min()} steps; 0 for none), or give the exact schedules with --schedule SPEC "
            "or --schedules FILE.json"
        )


def _given_schedules(args: argparse.Namespace, runs: pd.DataFrame) -> Any:
    """The ``--schedule`` spec, or the ``--schedules`` mapping checked against the runs."""
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
