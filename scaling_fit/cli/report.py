"""``scaling-fit report``: one self-contained HTML page of fits, analyses and figures.

Maps its flags to :func:`scaling_fit.write_report`; the page goes to ``-o FILE.html`` and,
as with every command writing to ``-o``, a summary (the path written, the best law, the
headline prediction, the notes) and the warnings to stderr; ``--format json`` also prints
that summary as JSON on stdout.
"""

from __future__ import annotations

import argparse
from typing import Any

from .common import (
    UsageError,
    add_format_options,
    add_input_options,
    captured_warnings,
    check_output,
    count,
    json_text,
    load_options,
    number,
    say,
    warn_lines,
    write,
)
from .files import input_paths
from .options import add_bootstrap_options, add_laws_option
from .schedules import add_schedule_options, read_schedules

HOLDOUT_HELP = (
    "runs the backtest holds out: largest-compute (default with several laws), largest-n, "
    "largest-d, a threshold such as 'n>=1e9', or a fraction such as 0.2"
)


def add_parser(commands: Any, output: argparse.ArgumentParser) -> None:
    """Register the ``report`` subcommand on ``commands`` (an argparse subparsers object)."""
    p = commands.add_parser(
        "report", parents=[output], help="write an HTML report of fits, analyses and figures"
    )
    p.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="log files or globs, TensorBoard log dirs, MLflow stores (sqlite:///mlflow.db)",
    )
    add_laws_option(p, "law to fit (repeat; several are backtested to pick the best)")
    p.add_argument("--holdout", help=HOLDOUT_HELP)
    add_schedule_options(p)
    add_bootstrap_options(p, default=100)
    p.add_argument(
        "--target-compute",
        type=number,
        metavar="C",
        help="budget of the headline prediction (default 10x the largest run's 6ND)",
    )
    p.add_argument(
        "--drop-top-loss",
        type=count,
        default=0,
        metavar="K",
        help="leave out the K highest-loss points everywhere",
    )
    p.add_argument("--figures", metavar="DIR", help="also write every figure as PNG and SVG")
    add_input_options(p)
    add_format_options(p)
    p.set_defaults(func=run_report)


def run_report(args: argparse.Namespace) -> int:
    """Write the report to ``-o``; 1 when no law could be fitted (nothing is written), else 0.

    The output paths are checked before any work (``check_output`` here, the figures folder
    by :func:`scaling_fit.write_report`), and nothing is written until all is computed.
    """
    from ..report.build import write_report

    if args.output is None:
        raise UsageError("report needs -o FILE.html (an HTML page is not written to stdout)")
    if len(set(args.laws)) != len(args.laws):
        raise UsageError(f"--law repeats a law: {args.laws}; give each law once")
    check_output(args.output, args.force, input_paths(args, "paths", "schedules"))
    with captured_warnings() as caught:
        report = write_report(
            list(args.paths),
            args.laws,
            args.output,
            holdout=args.holdout,
            schedule=read_schedules(args.schedules) if args.schedules else args.schedule,
            bootstrap=args.bootstrap,
            seed=args.seed,
            target_compute=args.target_compute,
            drop_top_loss=args.drop_top_loss,
            **load_options(args),
            warmup=args.warmup,
            figures=args.figures,
            overwrite=args.force,
        )
    warn_lines(args, caught)
    warn_lines(args, report.warnings)
    summary = report.summary(caught, args.figures)
    say(args, summary.report())
    if args.format == "json":  # the page is the -o file; the summary's JSON goes to stdout
        write(json_text(summary.to_dict()), None, False)
    return 0
