"""``scaling-fit cbs``: critical batch size from steps-to-target across batch sizes.

Maps its flags to :func:`scaling_fit.fit_critical_batch`; the JSON (with the definition of
every quantity) goes to stdout or ``-o``, a table to stderr.
"""

from __future__ import annotations

import argparse
from typing import Any

from .common import captured_warnings, check_output, number, say, warn_lines, write
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
    p.set_defaults(func=run_cbs)


def run_cbs(args: argparse.Namespace) -> int:
    """Fit S = S_min (1 + B_noise/B) per group, write the JSON; return 0."""
    from ..analysis.critical_batch import fit_critical_batch

    check_output(args.output, args.force, input_paths(args, "path"))
    with captured_warnings() as caught:
        result = fit_critical_batch(args.path, group=args.group, level=args.level)
    write(result.to_json() + "\n", args.output, args.force)
    warn_lines(args, caught)
    say(args, result.report())
    return 0
