"""``scaling-fit cbs``: critical batch size from steps-to-target across batch sizes.

Maps its flags to :func:`scaling_fit.fit_critical_batch`; stdout gets a table, or with
``--format json`` (the default of ``-o FILE``) the JSON with the definition of every quantity
(``plan --cbs`` reads it); warnings go to stderr.
"""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_format_options, captured_warnings, check_output, emit, number, warn_lines
from .files import input_paths


def add_parser(commands: Any, output: argparse.ArgumentParser) -> None:
    """Register the ``cbs`` subcommand on ``commands`` (an argparse subparsers object)."""
    p = commands.add_parser(
        "cbs", parents=[output], help="critical batch size from steps-to-target per batch size"
    )
    p.add_argument(
        "path", metavar="STEPS.csv", help="columns batch_size (tokens), steps[, model, tokens]"
    )
    p.add_argument("--group", default="model", help="column separating the sweeps (model)")
    p.add_argument(
        "--level", type=number, default=0.95, metavar="P", help="central interval P (0.95)"
    )
    add_format_options(p)
    p.set_defaults(func=run_cbs)


def run_cbs(args: argparse.Namespace) -> int:
    """Fit S = S_min (1 + B_noise/B) per group; print the table or write the JSON; return 0."""
    from ..analysis.critical_batch import fit_critical_batch

    check_output(args.output, args.force, input_paths(args, "path"))
    with captured_warnings() as caught:
        result = fit_critical_batch(args.path, group=args.group, level=args.level)
    warn_lines(args, caught)
    emit(args, result.report(), result.to_json)
    return 0
