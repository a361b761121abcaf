"""Flags that mean the same in every subcommand, each added by one helper here.

``--fix``, ``--tie``, ``--loss``, ``--delta``, ``--points``, ``--bootstrap`` and ``--seed``
map one to one to the arguments of :func:`scaling_fit.fit` (:func:`fit_arguments`), in
``fit`` and ``compare`` alike; ``--bootstrap``/``--seed`` also in ``isoflop``, ``--n-jobs``
wherever work runs in parallel, ``--law`` (repeated) in ``compare`` and ``report``.  The
choices of ``--loss`` and ``--points`` are listed here rather than imported from the fitting
modules, so that building the parser imports no numpy, pandas or scipy; a test checks that they
equal the library's.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from .common import count, number, pair

# = scaling_fit.fitting.objective.LOSSES
LOSSES = ("huber", "mse", "mse_linear")
# "final" and "all" of L(N, D) laws (scaling_fit.inputs.points.select_points), then
# scaling_fit.fitting.curve_points.POINTS of loss-curve laws.
POINTS = ("final", "after_warmup", "all", "unbinned")


def add_fit_options(parser: argparse.ArgumentParser, *, points: bool = True) -> None:
    """``--fix``, ``--tie``, ``--loss``, ``--delta`` and (with ``points``) ``--points``."""
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
    if points:
        parser.add_argument(
            "--points",
            choices=POINTS,
            help="L(N, D) laws: final (default) or all; curve laws: after_warmup (default; "
            "dense logs binned), unbinned or all",
        )


def add_laws_option(parser: argparse.ArgumentParser, text: str) -> None:
    """``--law LAW``, repeated, required: the laws a command fits (``args.laws``)."""
    parser.add_argument(
        "--law", action="append", required=True, dest="laws", metavar="LAW", help=text
    )


def add_bootstrap_options(parser: argparse.ArgumentParser, *, default: int = 0) -> None:
    """``--bootstrap N`` (resamples; ``default``) and ``--seed``."""
    parser.add_argument(
        "--bootstrap", type=count, default=default, metavar="N", help=f"resamples ({default})"
    )
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (0)")


# Flags renamed in this release: old flag -> new flag. The old one still works for one
# release, hidden from --help, with a warning on stderr (tests/test_arguments.py).
RENAMED_FLAGS = {"--n-boot": "--bootstrap"}  # forecast


class RenamedFlag(argparse.Action):
    """A flag's old name: stores into the new flag's dest, saying so on stderr."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        new = RENAMED_FLAGS[str(option_string)]
        print(
            f"scaling-fit: warning: {option_string} is renamed {new} (the old name goes in "
            "the next release)",
            file=sys.stderr,
        )
        setattr(namespace, self.dest, values)


def add_renamed_flags(parser: argparse.ArgumentParser) -> None:
    """The hidden old names of the flags ``parser`` has, from :data:`RENAMED_FLAGS`."""
    for old, new in RENAMED_FLAGS.items():
        action = parser._option_string_actions.get(new)
        if action is not None:
            parser.add_argument(
                old, dest=action.dest, type=action.type, action=RenamedFlag,
                metavar=action.metavar, help=argparse.SUPPRESS,
            )  # fmt: skip


def add_jobs_option(parser: argparse.ArgumentParser) -> None:
    """``--n-jobs J``: parallel worker processes."""
    parser.add_argument(
        "--n-jobs", type=int, default=1, metavar="J", help="workers (-1: all cores)"
    )


def fit_arguments(args: argparse.Namespace) -> dict[str, Any]:
    """The :func:`scaling_fit.fit` keyword arguments set by the flags the parser has."""
    names = {
        "fix": "fixed",
        "tie": "tie",
        "loss": "loss",
        "delta": "delta",
        "points": "points",
        "bootstrap": "bootstrap",
        "seed": "seed",
    }
    values = {arg: getattr(args, flag) for flag, arg in names.items() if hasattr(args, flag)}
    for pairs in ("fixed", "tie"):
        if pairs in values:
            values[pairs] = dict(values[pairs])
    return values
