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
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    import pandas as pd

    from ..results.schedule_choice import ScheduleChoice

JSON_FORMAT = "scaling_fit.ScheduleChoice/1"
TABLES = ("candidates", "curve", "baseline_curve")
SHOWN = 5  # candidates in the summary


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
    emit(
        args,
        _summary(choice, args.family),
        lambda: choice_dict(choice, result.law.name, args.family),
        lambda table: getattr(choice, table),
    )
    return 0


def _summary(choice: ScheduleChoice, family: str) -> str:
    """The choice against the baseline, then the best candidates (a few lines)."""
    baseline = choice.baseline.spec or choice.baseline.name
    interval = ""
    if choice.improvement_interval is not None:
        interval = " [{:.4g}, {:.4g}] (95 %)".format(*choice.improvement_interval)
    top = choice.candidates.head(SHOWN)
    lines = [
        f"best {family} schedule: {choice.schedule.spec}",
        f"  predicted final loss {choice.final_loss:.6g}; baseline {baseline}: "
        f"{choice.baseline_loss:.6g}; improvement {choice.improvement:.4g}{interval}",
        f"best {len(top)} of {len(choice.candidates)} candidates (all: --format json or csv):",
    ]
    pairs = zip(top["final_loss"], top["spec"], strict=True)
    lines += [f"  {loss:<9.6g} {spec}" for loss, spec in pairs]
    return "\n".join(lines)


def choice_dict(choice: ScheduleChoice, law: str, family: str) -> dict[str, Any]:
    """JSON-ready dictionary of a :class:`~scaling_fit.ScheduleChoice` (NaN as None)."""
    return {
        "format": JSON_FORMAT,
        "law": law,
        "family": family,
        "total_steps": int(choice.schedule.total),
        "schedule": choice.schedule.spec,
        "final_loss": choice.final_loss,
        "baseline": choice.baseline.spec or choice.baseline.name,
        "baseline_loss": choice.baseline_loss,
        "improvement": choice.improvement,
        "improvement_interval": None
        if choice.improvement_interval is None
        else list(choice.improvement_interval),
        "curve": _columns(choice.curve),
        "baseline_curve": _columns(choice.baseline_curve),
        "candidates": _columns(choice.candidates),
    }


def _columns(table: pd.DataFrame) -> dict[str, list[Any]]:
    """Column name → list of plain values, NaN written as None."""
    return {
        str(name): [None if value != value else value for value in table[name].tolist()]
        for name in table.columns
    }
