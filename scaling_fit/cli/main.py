"""The ``scaling-fit`` command line: the parser of every subcommand, and :func:`main`.

Every subcommand prints a compact summary on stdout, or the whole result as JSON
(``--format json``, ``-o FILE``) or a table as CSV (``--format csv``); warnings go to stderr
(:func:`.common.emit`).
Exit codes: 0 ok, 1 the fit failed or did not converge (or cannot answer: no compute-optimal
allocation), 2 bad input or usage. A user error is one line ``scaling-fit: error: …``
without a traceback (``--debug`` shows it): the message of the library's
:class:`~scaling_fit.ScalingFitError`, unchanged. Each subcommand lives in its own module
(``fit``, ``laws``, ``predict``, ``compare``, ``isoflop``, ``best_schedule``), which
imports the library when it runs, so that building the parser (``--help``, ``--version``)
stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .._version import __version__
from ..errors import FitError, NoAnswerError, ScalingFitError
from ..progress import progress_default
from . import (
    best_schedule,
    cbs,
    compare,
    fit,
    forecast,
    hparams,
    isoflop,
    laws,
    plan,
    predict,
    report,
)
from .common import PROG, Parser, UsageError, check_format, error
from .signals import Terminated, stop_workers, terminate_as_interrupt

__all__ = ["PROG", "UsageError", "build_parser", "main"]

DESCRIPTION = (
    "Fit scaling laws to language-model training runs: list laws, fit, predict, compare "
    "laws by backtesting, isoFLOP analysis, choose an LR schedule."
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
    laws.add_parser(commands, debug)
    fit.add_parser(commands, output)
    predict.add_parser(commands, output)
    compare.add_parser(commands, output)
    forecast.add_parser(commands, output)
    isoflop.add_parser(commands, output)
    best_schedule.add_parser(commands, output)
    hparams.add_parser(commands, output)
    cbs.add_parser(commands, output)
    plan.add_parser(commands, output)
    report.add_parser(commands, output)
    return parser


def _exit_code(exc: BaseException) -> int | None:
    """Exit code of an expected error, or None for a bug (which keeps its traceback)."""
    if isinstance(exc, FitError | NoAnswerError | MemoryError):
        return 1
    return 2 if isinstance(exc, (ScalingFitError, OSError, UnicodeDecodeError)) else None


def _stopped(exc: KeyboardInterrupt | Terminated) -> int:
    """One line and the shell's code for a command stopped by Ctrl-C (130) or SIGTERM (143)."""
    if isinstance(exc, KeyboardInterrupt):
        error("interrupted")
        return 130
    error("terminated")
    return 143


def _stop_behind(exc: BaseException) -> KeyboardInterrupt | Terminated | None:
    """The Ctrl-C or SIGTERM an error was raised while handling, if any.

    A signal can land while a library starts or stops its workers, and the library's clean-up
    then fails in turn (loky: "cannot join thread before it is started"); the user stopped the
    command, so it ends as stopped, not as a bug.
    """
    seen: set[int] = set()
    context = exc.__context__
    while context is not None and id(context) not in seen:
        if isinstance(context, KeyboardInterrupt | Terminated):
            return context
        seen.add(id(context))
        context = context.__context__
    return None


def _message(exc: BaseException) -> str:
    if isinstance(exc, MemoryError):
        return (
            f"out of memory ({exc or 'no detail'}); fit fewer points (--points final), "
            "fewer resamples (--bootstrap) or fewer rows"
        )
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
        check_format(args)
    except UsageError as exc:
        error(str(exc))
        return 2
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else 0
    with terminate_as_interrupt():
        try:
            with progress_default(False if getattr(args, "quiet", False) else "auto"):
                return args.func(args)
        except (KeyboardInterrupt, Terminated) as exc:
            return _stopped(exc)
        except Exception as exc:
            stop = _stop_behind(exc)
            if stop is not None and not args.debug:
                return _stopped(stop)
            code = _exit_code(exc)
            if args.debug or code is None:
                raise
            error(_message(exc))
            return code
        finally:
            stop_workers()
