"""Pieces shared by the ``scaling-fit`` subcommands: errors, argument types, output.

Every subcommand writes its result through :func:`emit`: a compact summary on stdout by
default, the whole result as JSON (``--format json``, or ``-o FILE``, never overwritten without
``--force``) or one table as CSV (``--format csv``), JSON arrays of numbers on one line each;
warnings go to stderr, one ``warning: …`` line each.  This module
imports nothing heavy (no numpy, pandas or scipy), so that building the parser is fast.  Subcommands
that read runs take :func:`add_input_options` and load them with :func:`read_runs`.
"""

from __future__ import annotations

import argparse
import csv
import math
import numbers
import re
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from io import StringIO
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from ..errors import ScalingFitError, ScalingFitWarning
from .files import check_output as check_output  # re-exported for the subcommands
from .files import write as write

if TYPE_CHECKING:
    from ..results.fit_result import FitResult

PROG = "scaling-fit"
NEGATIVE_NUMBER = re.compile(r"^-(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?[kmbgtKMBGT]?$")
FORMATS = ("text", "json", "csv")


class UsageError(ScalingFitError, ValueError):
    """The command line itself is wrong (exit code 2)."""


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are exceptions, reported as one line by ``main``.

    A negative number with an exponent or a unit suffix (``-1e9``, ``-2B``) is read as a
    value, not as a flag (argparse only knows ``-1`` and ``-1.5``), so that the library can
    say what is wrong with it.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = NEGATIVE_NUMBER

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


# ----------------------------------------------------------------------- argument types
def number(text: str) -> float:
    """Float with unit suffixes ('125M', '1.3B', '6e20')."""
    from ..inputs.load import parse_number

    try:
        return parse_number(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def count(text: str) -> int:
    """Non-negative integer."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, found {text!r}")
    return value


def positive(text: str) -> int:
    """Integer ≥ 1."""
    value = count(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, found {text!r}")
    return value


def pair(convert: Callable[[str], Any], example: str) -> Callable[[str], tuple[str, Any]]:
    """Type parsing ``NAME=VALUE`` into ``(name, convert(value))``."""

    def parse(text: str) -> tuple[str, Any]:
        name, sep, value = text.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise argparse.ArgumentTypeError(
                f"expected NAME=VALUE (e.g. {example}), found {text!r}"
            )
        return name.strip(), convert(value.strip())

    return parse


def add_columns_option(parser: argparse.ArgumentParser) -> None:
    """``--col NAME=COLUMN`` (repeatable): read canonical column NAME from COLUMN."""
    parser.add_argument(
        "--col",
        action="append",
        default=[],
        type=pair(str, "n_params=N"),
        metavar="NAME=COLUMN",
        help="read canonical column NAME from COLUMN",
    )


def add_input_options(parser: argparse.ArgumentParser) -> None:
    """The options of subcommands that read runs: ``--col``, ``--nan-policy``, ``--where``.

    :func:`load_options` turns them into :func:`scaling_fit.load_runs` keywords.
    """
    add_columns_option(parser)
    parser.add_argument(
        "--nan-policy",
        choices=("raise", "omit"),
        default="raise",
        help="rows with an empty/NaN value: raise (default) or omit them, saying how many",
    )
    parser.add_argument(
        "--where",
        metavar="QUERY",
        help="keep only rows matching a filter (columns, numbers, strings, comparisons, "
        "and/or/not, in [...], arithmetic), e.g. \"n_params >= 1e8 and run != '410M'\"",
    )


def load_options(args: argparse.Namespace) -> dict[str, Any]:
    """The :func:`scaling_fit.load_runs` keywords of :func:`add_input_options`' flags."""
    return {"columns": dict(args.col) or None, "nan_policy": args.nan_policy, "where": args.where}


def read_runs(args: argparse.Namespace) -> Any:
    """``load_runs(args.paths, **load_options(args))``, saying what ``--where`` kept."""
    from ..inputs.load import load_runs

    runs = load_runs(list(args.paths), **load_options(args))
    if "where" in runs.attrs:
        kept = runs.attrs["where"]
        say(args, f"--where {kept['query']!r} kept {kept['kept']} of {kept['of']} rows")
    return runs


def add_format_options(parser: argparse.ArgumentParser, tables: Iterable[str] = ()) -> None:
    """``--format text|json|csv`` and, with ``tables``, ``--table`` (which table a CSV holds).

    Every subcommand takes ``--format`` and writes through :func:`emit`: ``text`` (the default
    on a terminal, without ``-o``) is a compact summary of a few lines; ``json`` the whole
    result (the default of ``-o FILE``); ``csv`` one table, for the commands that have
    ``tables`` (:func:`check_format` refuses it elsewhere before any work).
    """
    tables = tuple(tables)
    parser.add_argument(
        "--format",
        choices=FORMATS,
        help="text: a compact summary (default); json: the whole result (default of -o); "
        + (f"csv: one table (--table, {tables[0]})" if tables else "csv: not for this command"),
    )
    parser.set_defaults(tables=tables)
    if tables:
        parser.add_argument(
            "--table", choices=tables, default=tables[0], help=f"table of a CSV ({tables[0]})"
        )


def check_format(args: argparse.Namespace) -> None:
    """UsageError for ``--format csv`` in a command without tables (before any work)."""
    if getattr(args, "format", None) == "csv" and not getattr(args, "tables", ()):
        raise UsageError(
            f"--format csv: `{PROG} {args.command}` has no table to write; use --format json "
            "(the whole result) or text (a summary)"
        )


def output_format(args: argparse.Namespace, file_default: str = "json") -> str:
    """The format of the output: ``--format``, else ``file_default`` with ``-o``, else text."""
    if getattr(args, "format", None) is not None:
        return args.format
    return file_default if getattr(args, "output", None) is not None else "text"


def emit(
    args: argparse.Namespace,
    summary: str,
    data: Mapping[str, Any] | str | Callable[[], Mapping[str, Any] | str],
    table: Callable[[str], Any] | None = None,
    *,
    file_default: str = "json",
    echo: bool = True,
) -> None:
    """Write a command's result as ``--format`` (:func:`output_format`) asks.

    ``text``: ``summary`` to stdout (or ``-o``); ``json``: ``data`` (a mapping, JSON text,
    or a function making either) as JSON (:func:`json_text`) to stdout or ``-o``, and the
    summary on stderr (with ``echo``); ``csv``: ``table(args.table)`` as CSV, the same.

    Parameters
    ----------
    args
        Parsed arguments with ``format``, ``output``, ``force``, ``quiet`` (and ``table``).
    summary
        The compact human text, a few lines without a final newline.
    data
        The whole result for JSON.
    table
        The table of a CSV by its ``--table`` name (commands with tables).
    file_default
        Format of ``-o FILE`` without ``--format`` (json; ``predict`` writes CSV).
    echo
        Also print the summary on stderr when the output is JSON or CSV (not when the
        summary is merely the same table, as in ``predict`` and ``laws``).
    """
    chosen = output_format(args, file_default)
    if chosen == "text":
        write(summary + "\n", getattr(args, "output", None), getattr(args, "force", False))
        return
    if chosen == "csv":
        if table is None:
            raise UsageError(f"--format csv: `{PROG} {args.command}` has no table to write")
        text = csv_text(table(getattr(args, "table", "")))
    else:
        value = data() if callable(data) else data
        text = value if isinstance(value, str) else json_text(value)
        text = text if text.endswith("\n") else text + "\n"
    write(text, getattr(args, "output", None), getattr(args, "force", False))
    if echo:
        say(args, summary)


def shortened(lines: list[str], limit: int, what: str, how: str) -> list[str]:
    """The first ``limit`` of ``lines``, then ``… K more WHAT (HOW)`` when some are left out."""
    if len(lines) <= limit:
        return lines
    return [*lines[:limit], f"… {len(lines) - limit} more {what} ({how})"]


# ----------------------------------------------------------------------- input
def load_fit(path_text: str) -> FitResult:
    """The FitResult saved in a JSON file, or a UsageError naming the missing file."""
    from ..results.fit_result import FitResult

    path = Path(path_text)
    if not path.is_file():
        raise UsageError(f"fit file {str(path)!r} does not exist (write one with `{PROG} fit`)")
    return FitResult.from_json(path)


# ----------------------------------------------------------------------- output
def json_text(data: Mapping[str, Any]) -> str:
    """Indented JSON with a final newline, arrays of numbers on one line each
    (:func:`scaling_fit.results.json_file.json_dumps`); NaN and ±inf are written as null
    (:func:`scaling_fit.results.json_safe.json_safe`)."""
    from ..results.json_file import json_dumps
    from ..results.json_safe import json_safe

    return json_dumps(json_safe(data)) + "\n"


def csv_text(table: Any) -> str:
    """CSV text of a mapping or DataFrame: repr-exact floats, empty cells for NaN."""
    columns = list(table.keys())
    out = StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in zip(*(table[c] for c in columns), strict=True):
        writer.writerow([cell(v) for v in row])
    return out.getvalue()


def cell(value: Any) -> str:
    """One CSV cell: repr of a float (empty for NaN/None), else the text of the value."""
    if value is None:
        return ""
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        number = float(value)  # float and numpy floats
        return "" if math.isnan(number) else repr(number)
    return str(value)


def say(args: argparse.Namespace, text: str) -> None:
    """Print human text to stderr unless ``--quiet``."""
    if not getattr(args, "quiet", False):
        print(text, file=sys.stderr)


def warn_lines(args: argparse.Namespace, messages: Iterable[str], prefix: str = "") -> None:
    """One ``warning: [prefix: ]message`` line per distinct message, on stderr."""
    for message in dict.fromkeys(messages):
        say(args, f"warning: {prefix}{message}")


@contextmanager
def captured_warnings() -> Iterator[list[str]]:
    """Collect the messages of the ScalingFitWarnings raised in the block, in order.

    They are kept for :func:`warn_lines` instead of Python's own warning printout; the list
    is filled when the block ends (also when it raises).
    """
    messages: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScalingFitWarning)
        try:
            yield messages
        finally:
            # numpy's RuntimeWarnings (overflow in exp, ...) are not messages about the fit
            messages.extend(str(w.message) for w in caught if _ours(w.category))


def _ours(category: type[Warning]) -> bool:
    return issubclass(category, ScalingFitWarning)


def error(message: str) -> None:
    """The one-line error report: ``scaling-fit: error: …``."""
    print(f"{PROG}: error: {' '.join(message.split())}", file=sys.stderr)
