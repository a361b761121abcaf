"""``scaling-fit isoflop``: compute-optimal N*(C) and D*(C) from isoFLOP profiles.

Runs :func:`scaling_fit.isoflop` (Hoffmann et al. 2022, Approach 2) on all runs, or once per
group of ``--group-by`` columns (e.g. one per experimental configuration).  Stdout: one
summary line per group (the power-law fits N*(C) = k·C^a, D*(C) = k_D·C^b with 95 %
intervals; at most 20 groups, then a count), or with ``--format json`` (the default of ``-o
FILE``) the whole result, or as CSV the per-budget optima (``--table optima``) or the fits
(``--table fits``); stderr: warnings (optimum at the edge of a budget's sampled N, too few
points).
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
from .options import add_bootstrap_options

TABLES = ("optima", "fits")


def add_parser(commands: Any, output: argparse.ArgumentParser) -> None:
    """Register the ``isoflop`` subcommand on ``commands`` (an argparse subparsers object)."""
    p = commands.add_parser(
        "isoflop", parents=[output], help="compute-optimal N*(C), D*(C) from isoFLOP profiles"
    )
    p.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="log files or globs, TensorBoard log dirs, MLflow stores (sqlite:///mlflow.db)",
    )
    p.add_argument(
        "--group-by",
        action="append",
        default=[],
        metavar="COL",
        help="one analysis per value of COL (repeat for several columns)",
    )
    add_input_options(p)
    add_bootstrap_options(p, default=1000)
    p.add_argument(
        "--budget-rtol",
        type=number,
        metavar="R",
        help="runs whose compute is within a factor 1+R share a budget (default: equal values)",
    )
    p.add_argument("--keep-flagged", action="store_true", help="fit flagged budgets too")
    p.add_argument(
        "--min-side",
        type=int,
        default=2,
        metavar="K",
        help="sampled N needed on each side of a budget's optimum, else it is near_edge (2)",
    )
    p.add_argument(
        "--method",
        default="auto",
        metavar="RULE",
        help="window of each budget's parabola: auto (default: the basin of a dense profile, "
        "else 3 points), local (lowest point and its 2 neighbours) or quadratic (whole profile)",
    )
    add_format_options(p, TABLES)
    p.set_defaults(func=run_isoflop)


def run_isoflop(args: argparse.Namespace) -> int:
    """Analyse the runs (per group); print a summary, or write JSON or CSV.

    Parameters
    ----------
    args
        Parsed ``isoflop`` arguments.

    Returns
    -------
    int
        0 (a group that cannot be analysed is an input error, exit 2).
    """

    from ..analysis.isoflop_groups import isoflop_groups

    check_output(args.output, args.force, list(args.paths))
    with captured_warnings() as caught:
        runs = read_runs(args)
    warn_lines(args, caught)
    caught: list[str] = []
    try:
        with captured_warnings() as caught:
            result = isoflop_groups(
                runs,
                args.group_by,
                grouping=args.budget_rtol,
                method=args.method,
                bootstrap=args.bootstrap,
                seed=args.seed,
                keep_flagged=args.keep_flagged,
                min_side=args.min_side,
            )
    finally:
        warn_lines(args, caught)  # also those of the groups before one that failed
    # without --group-by the one analysis is written as itself (scaling_fit.IsoflopResult/1)
    data = result.to_dict if args.group_by else result.groups[0][1].to_dict
    emit(args, result.report(), data, result.table)
    return 0
