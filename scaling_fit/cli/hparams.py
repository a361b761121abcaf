"""``scaling-fit hparams``: optimal learning-rate and batch-size laws from a sweep.

Maps its flags to :func:`scaling_fit.fit_hparams`; stdout gets the fitted laws, penalties and
warnings, or with ``--format json`` (the default of ``-o FILE``) the HparamsResult JSON
(``plan --hparams`` reads it); other warnings go to stderr.
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
    read_runs,
    warn_lines,
)
from .files import input_paths
from .options import add_bootstrap_options

# The per-cell optimum rules of scaling_fit.fit_hparams (a test checks they are the library's).
RULES = ("band", "smooth")


def add_parser(commands: Any, output: argparse.ArgumentParser) -> None:
    """Register the ``hparams`` subcommand on ``commands`` (an argparse subparsers object)."""
    p = commands.add_parser(
        "hparams", parents=[output], help="fit optimal LR and batch-size laws to a sweep"
    )
    p.add_argument("paths", nargs="+", metavar="SWEEP", help="CSV files or globs, one row per run")
    p.add_argument("--rule", choices=RULES, default="band", help="per-cell optimum (band)")
    p.add_argument("--band", type=number, default=0.25, help="near-optimal band in %% (0.25)")
    p.add_argument(
        "--seq-len", type=number, metavar="T", help="batch_size counts sequences of T tokens"
    )
    add_bootstrap_options(p, default=1000)
    add_input_options(p)
    add_format_options(p)
    p.set_defaults(func=run_hparams)


def run_hparams(args: argparse.Namespace) -> int:
    """Fit the laws; print the report, or write the JSON; return 0."""
    from ..analysis.hparams import fit_hparams

    check_output(args.output, args.force, input_paths(args, "paths"))
    with captured_warnings() as caught:
        sweep = read_runs(args)
        result = fit_hparams(
            sweep,
            rule=args.rule,
            band=args.band,
            seq_len=args.seq_len,
            bootstrap=args.bootstrap,
            seed=args.seed,
        )
    warn_lines(args, [m for m in caught if m not in result.warnings])
    emit(args, result.report(), result.to_json)
    return 0
