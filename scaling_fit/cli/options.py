"""Flags that mean the same in every subcommand that fits a law, added by one helper.

``--fix``, ``--tie``, ``--loss``, ``--delta``, ``--points``, ``--bootstrap`` and ``--seed``
map one to one to the arguments of :func:`scaling_fit.fit` (:func:`fit_arguments`).  The
choices of ``--loss`` and ``--points`` are listed here rather than imported from the fitting
modules, so that building the parser imports no numpy, pandas or scipy; a test checks that they
equal the library's.
"""

from __future__ import annotations

import argparse
from typing import Any

from .common import count, number, pair

# = scaling_fit.fitting.objective.LOSSES
LOSSES = ("huber", "mse", "mse_linear")
# "final" and "all" of L(N, D) laws (scaling_fit.fitting.fit.select_points), then
# scaling_fit.fitting.curve_points.POINTS of loss-curve laws.
POINTS = ("final", "after_warmup", "all")


def add_fit_options(parser: argparse.ArgumentParser, *, bootstrap: int = 0) -> None:
    """Add the :func:`scaling_fit.fit` flags (``bootstrap`` is the default of --bootstrap)."""
    for flag, convert, example, text in (
        ("--fix", number, "E=1.7", "hold a parameter at a value (repeat)"),
        ("--tie", str, "beta=alpha", "set a parameter equal to another (repeat)"),
    ):
        parser.add_argument(
            flag,
            action="append",
            default=[],
            type=pair(convert, example),
            metavar="NAME=VALUE" if convert is number else "NAME=OTHER",
            help=text,
        )
    parser.add_argument("--loss", choices=LOSSES, default="huber", help="objective (huber)")
    parser.add_argument("--delta", type=number, default=1e-3, help="Huber threshold (1e-3)")
    parser.add_argument(
        "--points",
        choices=POINTS,
        help="L(N, D) laws: final (default) or all; curve laws: after_warmup (default) or all",
    )
    parser.add_argument(
        "--bootstrap", type=count, default=bootstrap, metavar="N", help="bootstrap resamples"
    )
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed")


def fit_arguments(args: argparse.Namespace) -> dict[str, Any]:
    """The :func:`scaling_fit.fit` keyword arguments the flags of :func:`add_fit_options` set."""
    return {
        "fixed": dict(args.fix),
        "tie": dict(args.tie),
        "loss": args.loss,
        "delta": args.delta,
        "points": args.points,
        "bootstrap": args.bootstrap,
        "seed": args.seed,
    }
