"""``scaling-fit fit``: fit a law to runs (:func:`scaling_fit.fit`).

Stdout gets a compact result (parameters with standard errors and 95 % intervals, objective,
convergence, warnings); ``--format json`` (``--full`` is its older name) or ``-o FILE`` write
the whole result as JSON instead (the file :meth:`scaling_fit.FitResult.from_json` and
``scaling-fit predict`` read), and the compact result then goes to stderr.  Flags map to
:func:`scaling_fit.fit` arguments (:mod:`.options`, :mod:`.schedules`); the library checks
them, and its errors and warnings are printed as they are.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from .common import (
    Parser,
    add_format_options,
    add_input_options,
    captured_warnings,
    check_output,
    count,
    emit,
    error,
    pair,
    read_runs,
    say,
)
from .files import input_paths
from .options import add_bootstrap_options, add_fit_options, add_jobs_option, fit_arguments
from .schedules import add_schedule_options, schedule_arguments

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


def add_parser(commands: Any, output: Parser) -> None:
    """Register the ``fit`` subcommand on ``commands`` (an argparse subparsers object)."""
    f = commands.add_parser(
        "fit",
        parents=[output],
        help="fit a law to runs: a compact result, or JSON (--format json, -o)",
    )
    f.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="log files or globs, TensorBoard log dirs, MLflow stores (sqlite:///mlflow.db)",
    )
    which = f.add_mutually_exclusive_group(required=True)
    which.add_argument("--law", help="law name (see `scaling-fit laws`)")
    which.add_argument("--formula", help="your own law, e.g. 'E + A/N**alpha + B/D**beta'")
    f.add_argument(
        "--input",
        action="append",
        default=[],
        type=pair(str, "N=n_params"),
        metavar="SYMBOL=COLUMN",
        help="--formula: the column an input symbol stands for (repeat per input)",
    )
    add_input_options(f)
    f.add_argument("--drop-top-loss", type=count, default=0, metavar="K", help="drop K top losses")
    add_fit_options(f)
    add_bootstrap_options(f)
    add_jobs_option(f)
    add_schedule_options(f)
    f.add_argument(
        "--no-length-check",
        action="store_false",
        dest="length_check",
        help="curve laws: skip the two extra fits that measure how the law extrapolates in "
        "length (predict then gives no interval beyond the longest run)",
    )
    add_format_options(f)
    f.add_argument(
        "--full",
        action="store_const",
        const="json",
        dest="format",
        help="the same as --format json: the full JSON result on stdout",
    )
    f.set_defaults(func=run_fit)


def run_fit(args: argparse.Namespace) -> int:
    """Load runs, fit the law; print the compact result, or the JSON (``--format json``, ``-o``).

    Parameters
    ----------
    args
        Parsed ``fit`` arguments.

    Returns
    -------
    int
        0, or 1 when the fit did not converge (the result is written all the same).
    """
    from ..fitting.fit import fit
    from ..laws import Law, get_law

    law = Law.from_formula(args.formula, dict(args.input)) if args.formula else get_law(args.law)
    check_output(args.output, args.force, input_paths(args, "paths", "schedules"))
    with captured_warnings() as caught:
        runs = read_runs(args)
        notes = [f"derived {c} = {formula}" for c, formula in runs.attrs.get("derived", {}).items()]
        exclude = None
        if args.drop_top_loss:
            exclude, dropped = _top_loss_mask(args, runs, law.fits_curves)
            notes.append(dropped)
        options = fit_arguments(args) | schedule_arguments(args)
        result = fit(
            runs,
            law,
            exclude=exclude,
            n_jobs=args.n_jobs,
            length_check=args.length_check,
            **options,
        )
    for note in notes:  # after the fit: an error stays the only line on stderr
        say(args, note)
    summary = result.summary(list(dict.fromkeys([*result.warnings, *caught])))
    emit(args, summary, result.to_json)
    if not result.converged:
        error("the fit did not converge; the result was written anyway (see its warnings)")
        return 1
    return 0


def _top_loss_mask(
    args: argparse.Namespace, runs: pd.DataFrame, curve_law: bool
) -> tuple[np.ndarray, str]:
    """Rows to leave out for ``--drop-top-loss K`` (the K highest-loss fitted points), a note.

    With ``--points final`` (the default of L(N, D) laws) on loss curves the points are run
    ends, and a dropped run end drops its whole run (otherwise an earlier step would become
    that run's final point). Curve laws fit every logged point.
    """
    from ..inputs.points import top_loss_rows

    final = not curve_law and args.points in (None, "final")
    return top_loss_rows(runs, args.drop_top_loss, final=final)
