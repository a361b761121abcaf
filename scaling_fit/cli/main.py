"""The ``scaling-fit`` command line: list laws, fit, predict, compare laws, isoFLOP analysis.

Machine output (JSON, CSV) goes to stdout or ``-o FILE``; human text goes to stderr.
Exit codes: 0 ok, 1 the fit failed or did not converge (or cannot answer: no compute-optimal
allocation), 2 bad input or usage. A user error is one line ``scaling-fit: error: …``
without a traceback (``--debug`` shows it). Subcommands other than ``laws`` and ``fit`` live
in ``cli_predict``, ``cli_compare`` and ``cli_isoflop``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._version import __version__
from ..errors import DataError, FitError, ScalingFitError
from ..fitting.curve_points import POINTS as CURVE_POINTS
from ..fitting.fit import fit, highest_loss_mask
from ..fitting.objective import LOSSES
from ..inputs.load import final_points, load_runs
from ..laws import get_law, list_laws
from ..results.fit_result import FitResult
from . import compare, forecast, isoflop, predict
from .common import (
    PROG,
    Parser,
    ResultError,
    UsageError,
    add_columns_option,
    captured_warnings,
    check_output,
    count,
    error,
    number,
    pair,
    say,
    write,
)
from .schedules import add_schedule_options, api_flags, curve_options

__all__ = ["PROG", "UsageError", "build_parser", "main"]

# `fit` options passed on to scaling_fit.fit unchanged.
FIT_OPTIONS = ("loss", "delta", "points", "bootstrap", "seed", "n_jobs")
POINT_CHOICES = tuple(dict.fromkeys(("final", *CURVE_POINTS)))
DESCRIPTION = (
    "Fit scaling laws to language-model training runs: list laws, fit, predict, compare "
    "laws by backtesting, isoFLOP analysis."
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``scaling-fit`` and its subcommands."""
    debug = Parser(add_help=False)  # --debug after the subcommand too
    debug.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="tracebacks")
    output = Parser(add_help=False, parents=[debug])
    output.add_argument("-o", "--output", metavar="FILE", help="write here, not to stdout")
    output.add_argument("--force", action="store_true", help="overwrite an existing -o file")
    output.add_argument("--quiet", action="store_true", help="nothing on stderr but errors")
    parser = Parser(prog=PROG, description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    laws = commands.add_parser("laws", parents=[debug], help="list the registered laws")
    laws.set_defaults(func=run_laws)
    _add_fit_parser(commands, output)
    predict.add_parser(commands, output)
    compare.add_parser(commands, output)
    forecast.add_parser(commands, output)
    isoflop.add_parser(commands, output)
    return parser


def _add_fit_parser(commands: argparse._SubParsersAction, output: Parser) -> None:
    f = commands.add_parser("fit", parents=[output], help="fit a law to runs, write JSON")
    f.add_argument("paths", nargs="+", metavar="PATH", help="CSV files or globs")
    f.add_argument("--law", required=True, help="law name (see `scaling-fit laws`)")
    add_columns_option(f)
    for flag, convert, example, text in (
        ("--fix", number, "E=1.7", "hold a parameter at a value"),
        ("--tie", str, "beta=alpha", "set a parameter equal to another"),
    ):
        f.add_argument(
            flag,
            action="append",
            default=[],
            type=pair(convert, example),
            metavar="NAME=VALUE" if convert is number else "NAME=OTHER",
            help=text,
        )
    f.add_argument("--drop-top-loss", type=count, default=0, metavar="K", help="drop K top losses")
    f.add_argument("--loss", choices=LOSSES, default="huber", help="objective (default huber)")
    f.add_argument("--delta", type=number, default=1e-3, help="Huber threshold (1e-3)")
    f.add_argument(
        "--points",
        choices=POINT_CHOICES,
        help="L(N, D) laws: final (default) or all; curve laws: after_warmup (default) or all",
    )
    f.add_argument("--bootstrap", type=count, default=0, metavar="N", help="bootstrap resamples")
    f.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    f.add_argument("--n-jobs", type=int, default=1, metavar="J", help="workers (-1: all cores)")
    add_schedule_options(f)
    f.set_defaults(func=run_fit)


# ----------------------------------------------------------------------- subcommands
def run_laws(args: argparse.Namespace) -> int:
    """Print the registered laws (name, inputs, parameters, reference) on stdout; return 0."""
    table = list_laws()[["name", "inputs", "parameters", "reference"]]
    rows = [list(table.columns), *table.astype(str).to_numpy().tolist()]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


def run_fit(args: argparse.Namespace) -> int:
    """Load runs, fit the law, write the JSON; the summary goes to stderr.

    Parameters
    ----------
    args
        Parsed ``fit`` arguments.

    Returns
    -------
    int
        0, or 1 when the fit did not converge (the JSON is written all the same).
    """
    law = get_law(args.law)
    fixed, tie = dict(args.fix), dict(args.tie)
    for option, names in (("--fix", fixed), ("--tie", tie.keys() | set(tie.values()))):
        unknown = sorted(set(names) - set(law.param_names))
        if unknown:
            raise UsageError(
                f"{option} names unknown parameter(s) {unknown}; law {law.name!r} has "
                f"parameters {list(law.param_names)}"
            )
    check_output(args.output, args.force)
    with captured_warnings() as caught:
        runs = load_runs(list(args.paths), columns=dict(args.col) or None)
        curve = curve_options(args, law, runs)
        for column, formula in runs.attrs.get("derived", {}).items():
            say(args, f"derived {column} = {formula}")
        exclude = _top_loss_mask(args, runs, law.fits_curves) if args.drop_top_loss else None
        options = {k: getattr(args, k) for k in FIT_OPTIONS} | curve
        result = _fit(runs, law, fixed=fixed, tie=tie, exclude=exclude, **options)
    write(result.to_json() + "\n", args.output, args.force)
    messages = [*result.warnings, *caught]
    notes = dict.fromkeys(api_flags(m) for m in messages)
    say(args, _summary(result, list(notes)))
    if not result.converged:
        error("the fit did not converge; the result was written anyway (see its warnings)")
        return 1
    return 0


# ----------------------------------------------------------------------- helpers
def _fit(runs: pd.DataFrame, law: Any, **options: Any) -> FitResult:
    """:func:`fit`, its data errors worded in terms of this command's flags."""
    try:
        return fit(runs, law, **options)
    except DataError as exc:
        raise DataError(api_flags(str(exc))) from None


def _top_loss_mask(args: argparse.Namespace, runs: pd.DataFrame, curve_law: bool) -> np.ndarray:
    """Rows to leave out for ``--drop-top-loss K``: the K highest-loss fitted points.

    With ``--points final`` (the default of L(N, D) laws) on loss curves the points are run
    ends, and a dropped run end drops its whole run (otherwise an earlier step would become
    that run's final point). Curve laws fit every logged point.
    """
    final = not curve_law and args.points in (None, "final")
    fitted = final_points(runs) if final else runs
    worst = fitted.loc[highest_loss_mask(fitted, args.drop_top_loss)]
    curves = final and "step" in runs.columns
    mask = runs["run"].isin(worst["run"]) if curves else runs.index.isin(worst.index)
    what = f"runs ending at the {len(worst)}" if curves else f"the {len(worst)}"
    say(args, f"dropped {what} highest-loss points (loss >= {worst['loss'].min():.6g})")
    return np.asarray(mask, dtype=bool)


def _summary(result: FitResult, notes: list[str]) -> str:
    """A few lines for humans: law, points, objective, convergence, parameters, warnings."""
    lines = [
        f"law {result.law.name}: {result.n_points} points, objective {result.objective:.10g}, "
        f"{'converged' if result.converged else 'NOT converged'}"
    ]
    errors, intervals = result.stderr, result.ci95
    for name, value in result.params.items():
        note = ""
        if name in result.fixed:
            note = "  (fixed)"
        elif name in result.tie:
            note = f"  (tied to {result.tie[name]})"
        elif errors[name] is not None:
            lo, hi = intervals[name]
            note = f"  s.e. {errors[name]:.4g}  95% CI [{lo:.6g}, {hi:.6g}]"
        lines.append(f"  {name:<8} = {value:.8g}{note}")
    return "\n".join(lines + [f"warning: {message}" for message in notes])


def _exit_code(exc: BaseException) -> int | None:
    """Exit code of an expected error, or None for a bug (which keeps its traceback)."""
    if isinstance(exc, FitError | ResultError):
        return 1
    return 2 if isinstance(exc, (ScalingFitError, OSError, UnicodeDecodeError)) else None


def _message(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        return f"{exc.strerror}: {exc.filename!r}"
    return str(exc)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``scaling-fit``.

    Parameters
    ----------
    argv
        Command-line arguments without the program name (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit code: 0 ok, 1 the fit failed, did not converge or cannot answer, 2 bad input or
        usage.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        error(str(exc))
        return 2
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else 0
    try:
        return args.func(args)
    except KeyboardInterrupt:
        error("interrupted")
        return 130
    except Exception as exc:
        code = _exit_code(exc)
        if args.debug or code is None:
            raise
        error(_message(exc))
        return code
