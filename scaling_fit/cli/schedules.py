"""``scaling-fit fit`` options of loss-curve laws: where the LR of every step comes from.

``--schedule SPEC`` gives one schedule spec for every run; ``--schedules FILE.json`` a JSON
object mapping run name → spec (run names are the CSV stems unless the data has a ``run``
column, see :func:`scaling_fit.load_runs`).  Without either, the data's ``lr`` column is used
(interpolated where it is logged sparsely); the warm-up is detected from a rising logged LR,
and a log that starts flat after step 0 needs the run's warm-up length declared with
``--warmup STEPS`` (see :mod:`scaling_fit.inputs.lr_column`).  They map to ``schedules=``
and ``warmup=`` of :func:`scaling_fit.fit`, which checks them.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .common import UsageError, count

EXAMPLE = "cosine:peak=3e-4,total=24000,warmup=2160,final=3e-5"


def add_schedule_options(parser: argparse.ArgumentParser) -> None:
    """``--schedule SPEC`` / ``--schedules FILE.json`` (mutually exclusive), ``--warmup``."""
    parser.add_argument(
        "--warmup",
        type=count,
        metavar="STEPS",
        help="curve laws, lr column: the runs' warm-up length in steps (default: detected "
        "from a rising logged LR; needed when the log starts flat after step 0)",
    )
    add_schedule_source_options(parser)


def add_schedule_source_options(parser: argparse.ArgumentParser) -> None:
    """``--schedule SPEC`` / ``--schedules FILE.json``, mutually exclusive (fit and report)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--schedule", metavar="SPEC", help="curve laws: one LR schedule for all runs"
    )
    group.add_argument(
        "--schedules", metavar="FILE.json", help='curve laws: JSON {"run": "spec", ...}'
    )


def schedule_arguments(args: argparse.Namespace) -> dict[str, Any]:
    """``schedules=`` and ``warmup=`` of :func:`scaling_fit.fit`, those given as flags."""
    options: dict[str, Any] = {}
    if args.schedule is not None:
        options["schedules"] = args.schedule
    elif args.schedules is not None:
        options["schedules"] = read_schedules(args.schedules)
    if args.warmup is not None:
        options["warmup"] = args.warmup
    return options


def read_schedules(path_text: str) -> Any:
    """The content of a ``--schedules`` file (the library checks it as ``schedules=``)."""
    from ..results.json_file import parse_json

    path = Path(path_text)
    if not path.is_file():
        raise UsageError(
            f"--schedules file {path_text!r} does not exist; pass the path of a JSON file "
            "mapping each run to its schedule"
        )
    expected = (
        "expected an object mapping run name to schedule spec, e.g. "
        f'{{"cosine_24000": "{EXAMPLE}"}}'
    )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path_text}: not JSON ({exc}); {expected}") from None
    return parse_json(text, path_text, expected)
