"""``scaling-fit laws``: the registered laws, one line each (``--format json``: a list)."""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_format_options, emit


def add_parser(commands: Any, debug: argparse.ArgumentParser) -> None:
    """Register the ``laws`` subcommand on ``commands`` (an argparse subparsers object)."""
    laws = commands.add_parser("laws", parents=[debug], help="list the registered laws")
    add_format_options(laws)
    laws.set_defaults(func=run_laws)


def run_laws(args: argparse.Namespace) -> int:
    """Print the registered laws (name, inputs, parameters, reference) on stdout; return 0."""
    from ..laws import list_laws
    from ..results.json_safe import json_records

    table = list_laws()[["name", "inputs", "parameters", "reference"]]
    rows = [list(table.columns), *table.astype(str).to_numpy().tolist()]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    emit(args, "\n".join(lines), lambda: {"laws": json_records(table)}, echo=False)
    return 0
