"""``scaling-fit best-schedule``: the LR schedule of a family that a fitted curve law prefers.

Runs :func:`scaling_fit.best_schedule` on a saved loss-curve fit: every schedule of the
family's grid of ``--total-steps`` steps (peak LR and warm-up from ``--peak``/``--warmup`` or
the fit's training schedules) is scored by its predicted final loss and the best is compared
with ``--baseline``.  Stdout: a summary (the chosen and baseline schedules, their predicted
final losses, the five best candidates); with ``--format json`` (the default of ``-o FILE``)
the whole choice (the specs, their final losses and curves, every candidate), with
``--format csv`` one table (``--table candidates``, ``curve`` or ``baseline_curve``);
stderr: the library's warnings.
"""

from __future__ import annotations

import argparse
from typing import Any

from .common import (
    add_format_options,
    captured_warnings,
    check_output,
    count,
    emit,
    load_fit,
    number,
    positive,
    warn_lines,
)
from .files import input_paths

TABLES = ("candidates", "curve", "baseline_curve")


def add_parser(commands: Any, output: argparse.ArgumentParser) -> None:
    """Register the ``best-schedule`` subcommand on ``commands`` (argparse subparsers)."""
    p = commands.add_parser(
        "best-schedule",
        parents=[output],
        help="the LR schedule of a family with the lowest predicted final loss (curve fits)",
    )
    p.add_argument("fit_json", metavar="FIT.json", help="loss-curve fit from `scaling-fit fit`")
    p.add_argument(
        "--total-steps", type=number, required=True, metavar="N", help="length of the schedules"
    )
    p.add_argument("--family", default="wsd", help="wsd (default), cosine, linear or multistage")
    p.add_argument("--peak", type=number, metavar="LR", help="peak LR (default: the fit's)")
    p.add_argument(
        "--warmup", type=count, metavar="STEPS", help="warm-up steps (default: the fit's)"
    )
    p.add_argument(
        "--baseline",
        default="cosine",
        metavar="SPEC",
        help="schedule to compare with: cosine (default), linear, constant or a spec",
    )
    p.add_argument(
        "--every", type=positive, default=100, metavar="K", help="stride of the curves (100)"
    )
    add_format_options(p, TABLES)
    p.set_defaults(func=run_best_schedule)


def run_best_schedule(args: argparse.Namespace) -> int:
    """Search the family's schedules; print the choice, or write it as JSON or CSV.

    Returns
    -------
    int
        0 (an input the library rejects is exit 2).
    """
    from ..analysis.schedule_search import best_schedule

    check_output(args.output, args.force, input_paths(args, "fit_json"))
    result = load_fit(args.fit_json)
    with captured_warnings() as caught:
        choice = best_schedule(
            result,
            args.total_steps,
            args.family,
            peak=args.peak,
            warmup=args.warmup,
            baseline=args.baseline,
            every=args.every,
        )
    warn_lines(args, caught)
    emit(args, choice.report(), choice.to_dict, lambda table: getattr(choice, table))
    return 0
