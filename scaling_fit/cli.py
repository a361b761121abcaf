"""The ``scaling-fit`` command line: list laws, fit runs, predict from a saved fit.

Machine output (JSON, CSV) goes to stdout or ``-o FILE``; human text goes to stderr.
Exit codes: 0 ok, 1 the fit failed or did not converge, 2 bad input or usage. A user error
is one line ``scaling-fit: error: …`` without a traceback (``--debug`` shows it).
"""

from __future__ import annotations

import argparse
import csv
import sys
import warnings
from collections.abc import Callable, Sequence
from io import StringIO
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from ._version import __version__
from .errors import FitError, ScalingFitError, ScalingFitWarning
from .fitting import fit, highest_loss_mask
from .io import final_points, load_runs, parse_number
from .laws import get_law, list_laws
from .objective import LOSSES
from .result import FitResult

PROG = "scaling-fit"
PREDICT_HELP = f"see `{PROG} predict --help`"
# `fit` options passed on to scaling_fit.fit unchanged.
FIT_OPTIONS = ("loss", "delta", "points", "bootstrap", "seed", "n_jobs")


class UsageError(ScalingFitError, ValueError):
    """The command line itself is wrong (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are exceptions, reported as one line by :func:`main`."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


# ----------------------------------------------------------------------- argument types
def _number(text: str) -> float:
    """Float with unit suffixes ('125M', '1.3B', '6e20')."""
    try:
        return parse_number(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _count(text: str) -> int:
    """Non-negative integer."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, found {text!r}")
    return value


def _pair(convert: Callable[[str], Any], example: str) -> Callable[[str], tuple[str, Any]]:
    """Type parsing ``NAME=VALUE`` into ``(name, convert(value))``."""

    def parse(text: str) -> tuple[str, Any]:
        name, sep, value = text.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise argparse.ArgumentTypeError(
                f"expected NAME=VALUE (e.g. {example}), found {text!r}"
            )
        return name.strip(), convert(value.strip())

    return parse


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``scaling-fit`` and its subcommands."""
    debug = _Parser(add_help=False)  # --debug after the subcommand too
    debug.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="tracebacks")
    output = _Parser(add_help=False, parents=[debug])
    output.add_argument("-o", "--output", metavar="FILE", help="write here, not to stdout")
    output.add_argument("--force", action="store_true", help="overwrite an existing -o file")
    output.add_argument("--quiet", action="store_true", help="nothing on stderr but errors")
    parser = _Parser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    laws = commands.add_parser("laws", parents=[debug], help="list the registered laws")
    laws.set_defaults(func=run_laws)

    f = commands.add_parser("fit", parents=[output], help="fit a law to runs, write JSON")
    f.add_argument("paths", nargs="+", metavar="PATH", help="CSV files or globs")
    f.add_argument("--law", required=True, help="law name (see `scaling-fit laws`)")
    for flag, convert, example, meta, text in (
        ("--col", str, "n_params=N", "NAME=COLUMN", "read canonical column NAME from COLUMN"),
        ("--fix", _number, "E=1.7", "NAME=VALUE", "hold a parameter at a value"),
        ("--tie", str, "beta=alpha", "NAME=OTHER", "set a parameter equal to another"),
    ):
        f.add_argument(
            flag, action="append", default=[], type=_pair(convert, example), metavar=meta, help=text
        )
    f.add_argument("--drop-top-loss", type=_count, default=0, metavar="K", help="drop K top losses")
    f.add_argument("--loss", choices=LOSSES, default="huber", help="objective (default huber)")
    f.add_argument("--delta", type=_number, default=1e-3, help="Huber threshold (1e-3)")
    f.add_argument("--points", choices=("final", "all"), default="final", help="run ends/all")
    f.add_argument("--bootstrap", type=_count, default=0, metavar="N", help="bootstrap resamples")
    f.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    f.add_argument("--n-jobs", type=int, default=1, metavar="J", help="workers (-1: all cores)")
    f.set_defaults(func=run_fit)

    p = commands.add_parser("predict", parents=[output], help="predict from a fit, write CSV")
    p.add_argument("fit_json", metavar="FIT.json", help="JSON written by `scaling-fit fit`")
    p.add_argument("--n-params", nargs="+", type=_number, metavar="N", help="model sizes")
    p.add_argument("--tokens", nargs="+", type=_number, metavar="D", help="training tokens")
    p.add_argument("--compute", nargs="+", type=_number, metavar="C", help="FLOP budgets")
    p.set_defaults(func=run_predict)
    return parser


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
    _check_output(args.output, args.force)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScalingFitWarning)
        runs = load_runs(list(args.paths), columns=dict(args.col) or None)
        for column, formula in runs.attrs.get("derived", {}).items():
            _say(args, f"derived {column} = {formula}")
        exclude = _top_loss_mask(args, runs) if args.drop_top_loss else None
        options = {k: getattr(args, k) for k in FIT_OPTIONS}
        result = fit(runs, law, fixed=fixed, tie=tie, exclude=exclude, **options)
    _write(result.to_json() + "\n", args.output, args.force)
    notes = dict.fromkeys([*result.warnings, *(str(w.message) for w in caught)])
    _say(args, _summary(result, list(notes)))
    if not result.converged:
        _error("the fit did not converge; the result was written anyway (see its warnings)")
        return 1
    return 0


def run_predict(args: argparse.Namespace) -> int:
    """Write predicted losses (or compute-optimal allocations) of a saved fit as CSV.

    Parameters
    ----------
    args
        Parsed ``predict`` arguments.

    Returns
    -------
    int
        Exit code 0; extrapolation warnings go to stderr.
    """
    grid = args.n_params is not None or args.tokens is not None
    if grid == (args.compute is not None):
        raise UsageError(f"give either --n-params and --tokens, or --compute ({PREDICT_HELP})")
    if grid and (args.n_params is None or args.tokens is None):
        raise UsageError(f"--n-params and --tokens go together ({PREDICT_HELP})")
    _check_output(args.output, args.force)
    path = Path(args.fit_json)
    if not path.is_file():
        raise UsageError(f"fit file {str(path)!r} does not exist (write one with `{PROG} fit`)")
    result = FitResult.from_json(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScalingFitWarning)
        table = _predictions(result, args)
    _write(_csv(table), args.output, args.force)
    for message in dict.fromkeys(str(w.message) for w in caught):
        _say(args, f"warning: {message}")
    return 0


def _predictions(result: FitResult, args: argparse.Namespace) -> Any:
    """Table of compute-optimal allocations, or of losses over the N x D grid."""
    if args.compute is not None:
        return result.compute_optimal(args.compute)
    if tuple(result.law.inputs) != ("n_params", "tokens"):
        raise UsageError(f"law {result.law.name!r} takes inputs {list(result.law.inputs)}")
    n = np.repeat(args.n_params, len(args.tokens))
    d = np.tile(args.tokens, len(args.n_params))
    table = {"n_params": n, "tokens": d, "loss": result.predict(n_params=n, tokens=d)}
    table["lower"] = table["upper"] = np.full(len(n), np.nan)
    if result.samples is not None:
        interval = result.predict_interval(n_params=n, tokens=d)
        table["lower"], table["upper"] = interval["lower"], interval["upper"]
    return table


# ----------------------------------------------------------------------- helpers
def _top_loss_mask(args: argparse.Namespace, runs: pd.DataFrame) -> np.ndarray:
    """Rows to leave out for ``--drop-top-loss K``: the K highest-loss fitted points.

    With ``--points final`` on loss curves the points are run ends, and a dropped run end
    drops its whole run (otherwise an earlier step would become that run's final point).
    """
    fitted = final_points(runs) if args.points == "final" else runs
    worst = fitted.loc[highest_loss_mask(fitted, args.drop_top_loss)]
    curves = args.points == "final" and "step" in runs.columns
    mask = runs["run"].isin(worst["run"]) if curves else runs.index.isin(worst.index)
    what = f"runs ending at the {len(worst)}" if curves else f"the {len(worst)}"
    _say(args, f"dropped {what} highest-loss points (loss >= {worst['loss'].min():.6g})")
    return np.asarray(mask, dtype=bool)


def _check_output(path: str | None, force: bool) -> None:
    if path is not None and not force and Path(path).exists():
        raise UsageError(f"output file {path!r} exists; pass --force to overwrite it")


def _write(text: str, path: str | None, force: bool) -> None:
    if path is None:
        sys.stdout.write(text)
        return
    try:
        with open(path, "w" if force else "x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise UsageError(f"output file {path!r} exists; pass --force to overwrite it") from None


def _csv(table: Any) -> str:
    """CSV text with repr-exact floats, empty cells for NaN, other values as text."""
    columns = list(table.keys())
    out = StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in zip(*(table[c] for c in columns), strict=True):
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def _cell(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return "" if np.isnan(value) else repr(float(value))
    return str(value)


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


def _say(args: argparse.Namespace, text: str) -> None:
    if not args.quiet:
        print(text, file=sys.stderr)


def _error(message: str) -> None:
    print(f"{PROG}: error: {' '.join(message.split())}", file=sys.stderr)


def _exit_code(exc: BaseException) -> int | None:
    """Exit code of an expected error, or None for a bug (which keeps its traceback)."""
    if isinstance(exc, FitError):
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
        Exit code: 0 ok, 1 the fit failed or did not converge, 2 bad input or usage.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        _error(str(exc))
        return 2
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else 0
    try:
        return args.func(args)
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except Exception as exc:
        code = _exit_code(exc)
        if args.debug or code is None:
            raise
        _error(_message(exc))
        return code
