"""``scaling-fit predict``: losses, compute-optimal allocations or loss curves from a fit.

An L(N, D) fit predicts the loss over a grid (``--n-params`` × ``--tokens``) or the
compute-optimal N, D and loss per budget (``--compute``; cost model C = K·N·D with K = 6
unless ``--flops-per-param-token``), with bootstrap intervals (``--level``, 0.95).  A
loss-curve fit predicts ``step, lr, loss`` under a schedule (``--schedule SPEC``, every
``--every`` steps or at ``--steps``), and with ``--level P`` the bootstrap band ``lower,
upper``; a schedule longer than the fitted runs adds ``loss_lower, loss_upper``, the
interval of the law's measured length extrapolation, and warns
(:mod:`scaling_fit.results.length_band`).  Stdout gets the table, readable (at most 20
rows, then a count), or with ``--format csv`` (the default of ``-o FILE``) as CSV, or with
``--format json`` one array per column.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..arguments import DEFAULT_EVERY
from ..inputs.columns import FLOPS_PER_PARAM_TOKEN
from .common import (
    add_format_options,
    captured_warnings,
    check_output,
    count,
    emit,
    load_fit,
    number,
    positive,
    say,
    warn_lines,
)


def add_parser(commands: Any, output: argparse.ArgumentParser) -> None:
    """Register the ``predict`` subcommand on ``commands`` (an argparse subparsers object)."""
    p = commands.add_parser("predict", parents=[output], help="predict from a fit, write CSV")
    p.add_argument("fit_json", metavar="FIT.json", help="JSON written by `scaling-fit fit`")
    p.add_argument("--n-params", nargs="+", type=number, metavar="N", help="model sizes")
    p.add_argument("--tokens", nargs="+", type=number, metavar="D", help="training tokens")
    p.add_argument("--compute", nargs="+", type=number, metavar="C", help="FLOP budgets")
    p.add_argument(
        "--flops-per-param-token",
        type=number,
        metavar="K",
        help=f"cost model C = K*N*D of --compute (default {FLOPS_PER_PARAM_TOKEN:g})",
    )
    p.add_argument("--schedule", metavar="SPEC", help="curve laws: the LR schedule to predict")
    p.add_argument(
        "--every",
        type=positive,
        metavar="K",
        help=f"curve laws: every K-th step after warm-up, and the last (default {DEFAULT_EVERY})",
    )
    p.add_argument("--steps", nargs="+", type=count, metavar="STEP", help="curve laws: steps")
    p.add_argument(
        "--level",
        type=number,
        metavar="P",
        help="bootstrapped fits: columns lower, upper of the central P interval (L(N, D) laws: "
        "always, P = 0.95 by default; curve laws: when given)",
    )
    p.add_argument(
        "--allow-unconverged",
        action="store_true",
        help="predict from a fit that did not converge (with a warning) instead of exit 1",
    )
    add_format_options(p, ("predictions",))
    p.set_defaults(func=run_predict)


def run_predict(args: argparse.Namespace) -> int:
    """Print the predictions of a saved fit, or write them as CSV or JSON.

    Parameters
    ----------
    args
        Parsed ``predict`` arguments.

    Returns
    -------
    int
        0. :func:`scaling_fit.predictions` raises DataError (exit 2) for options that do not
        suit the fit's law and NoAnswerError (exit 1) when the law has no compute-optimal
        allocation.
    """
    from ..results.predictions_result import predictions

    check_output(args.output, args.force, [args.fit_json])
    result = load_fit(args.fit_json)
    with captured_warnings() as caught:
        table = predictions(
            result,
            n_params=args.n_params,
            tokens=args.tokens,
            compute=args.compute,
            flops_per_param_token=args.flops_per_param_token,
            schedule=args.schedule,
            steps=args.steps,
            every=args.every,
            level=args.level,
            allow_unconverged=args.allow_unconverged,
        )
    if args.compute is not None:
        say(
            args,
            f"cost model: {table.table['cost_model'].iloc[0]} (K set by --flops-per-param-token)",
        )
    warn_lines(args, caught)
    emit(
        args,
        table.report(),
        table.to_dict,
        lambda _name: table.table,
        file_default="csv",
        echo=False,
    )
    return 0
