"""``scaling-fit laws``: the registered laws, one line each."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(commands: Any, debug: argparse.ArgumentParser) -> None:
    """Register the ``laws`` subcommand on ``commands`` (an argparse subparsers object)."""
    laws = commands.add_parser("laws", parents=[debug], help="list the registered laws")
    laws.set_defaults(func=run_laws)


def run_laws(args: argparse.Namespace) -> int:
    """Print the registered laws (name, inputs, parameters, reference) on stdout; return 0."""
    from ..laws import list_laws

    table = list_laws()[["name", "inputs", "parameters", "reference"]]
    rows = [list(table.columns), *table.astype(str).to_numpy().tolist()]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0
