"""``scaling-fit forecast``: where a running job will end (:func:`scaling_fit.forecast`).

From the part of one run logged so far (``step, loss``) and its full planned schedule
(``--schedule SPEC``), stdout gets a summary of three lines (final loss and interval, how
much was seen, the curve), or with ``--format json`` (the default of ``-o FILE``) the whole
result (final loss, intervals, the predicted curve, the fit), or with ``--format csv`` the
predicted rest of the curve; warnings go to stderr.
"""

from __future__ import annotations

import argparse
from typing import Any

from .common import (
    add_format_options,
    add_input_options,
    captured_warnings,
    check_output,
    emit,
    number,
    positive,
    read_runs,
    warn_lines,
)
from .files import input_paths
from .options import add_bootstrap_options, add_renamed_flags

TABLES = ("curve",)


def add_parser(commands: Any, output: argparse.ArgumentParser) -> None:
    """Register the ``forecast`` subcommand on ``commands`` (an argparse subparsers object)."""
    p = commands.add_parser(
        "forecast", parents=[output], help="predict a running job's final loss from its log"
    )
    p.add_argument("path", metavar="LOG.csv", help="one run's log: step, loss (CSV)")
    p.add_argument("--schedule", required=True, metavar="SPEC", help="the run's full schedule")
    p.add_argument("--law", help="curve law (default lr_annealing; with --prior, the prior's law)")
    p.add_argument("--prior", metavar="FIT.json", help="borrow shape parameters from this fit")
    p.add_argument(
        "--refit",
        action="append",
        metavar="PARAM",
        help="with --prior: parameter fitted to the log (repeat; default L0 and A)",
    )
    add_bootstrap_options(p, default=30)  # the noise part of the interval
    add_renamed_flags(p)  # --n-boot, its old name
    p.add_argument(
        "--level", type=number, default=0.95, metavar="P", help="central interval P (0.95)"
    )
    p.add_argument(
        "--every", type=positive, default=100, metavar="K", help="stride of the curve (100)"
    )
    add_input_options(p)
    add_format_options(p, TABLES)
    p.set_defaults(func=run_forecast)


def run_forecast(args: argparse.Namespace) -> int:
    """Forecast the run; print its summary, or write JSON or the curve as CSV."""
    from ..analysis.forecast import forecast

    check_output(args.output, args.force, input_paths(args, "path", "prior"))
    with captured_warnings() as caught:
        args.paths = [args.path]
        log = read_runs(args)
        options = {"refit": tuple(args.refit)} if args.refit else {}  # the library checks it
        result = forecast(
            log,
            args.schedule,
            args.law,
            prior=args.prior,
            bootstrap=args.bootstrap,
            seed=args.seed,
            level=args.level,
            every=args.every,
            **options,
        )
    warn_lines(args, caught)
    emit(args, result.report(), result.to_dict, lambda _table: result.curve)
    return 0
