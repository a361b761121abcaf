"""Exceptions and warnings raised by scaling_fit.

Every exception also inherits the matching built-in (scikit-learn's habit), so code that
catches ``ValueError`` or ``KeyError`` keeps working.  Messages follow one pattern: what is
wrong, what was expected, what was found, and how to fix it.
"""

from __future__ import annotations


class ScalingFitError(Exception):
    """Base class of every error raised by scaling_fit."""


class DataError(ScalingFitError, ValueError):
    """Input data is missing, malformed or unusable for the requested fit."""


class UnknownLawError(ScalingFitError, KeyError):
    """A law name is not in the registry."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class FitError(ScalingFitError, RuntimeError):
    """The optimiser could not produce a usable fit."""


class NoAnswerError(ScalingFitError, RuntimeError):
    """The inputs are valid, but the fitted law has no answer to the question asked (e.g. no
    compute-optimal allocation at a budget: its loss keeps falling as N grows)."""


class OutputExistsError(ScalingFitError, FileExistsError):
    """An output file exists and overwriting it was not asked for (or would destroy an input)."""

    def __str__(self) -> str:  # OSError would print its errno tuple
        return str(self.args[0]) if self.args else ""


class OutputPathError(ScalingFitError, ValueError):
    """An output path cannot be written: not a regular file or new path, or its directory is
    missing or not writable (the CLI exits 2 before any work)."""


class MissingExtraError(ScalingFitError, ImportError):
    """An optional dependency (a ``pip install "scaling_fit[extra]"``) is needed and missing."""


class ScalingFitWarning(UserWarning):
    """Base class of warnings about a fit: bounds, identifiability, convergence, extrapolation."""


# API argument → the ``scaling-fit`` flag that sets it. Messages name both through
# :func:`argument`, so a Python user and a shell user each read their own name for it.
FLAGS: dict[str, str] = {
    "fixed": "--fix",
    "tie": "--tie",
    "points": "--points",
    "loss": "--loss",
    "bootstrap": "--bootstrap",
    "delta": "--delta",
    "n_params": "--n-params",
    "tokens": "--tokens",
    "compute": "--compute",
    "seed": "--seed",
    "n_jobs": "--n-jobs",
    "schedules": "--schedule/--schedules",
    "schedule": "--schedule",
    "warmup": "--warmup",
    "laws": "--law",
    "law": "--law",
    "holdout": "--holdout",
    "grouping": "--budget-rtol",
    "group_by": "--group-by",
    "keep_flagged": "--keep-flagged",
    "min_side": "--min-side",
    "fit_unidentified": "--fit-unidentified",
    "method": "--method",
    "flops_per_param_token": "--flops-per-param-token",
    "level": "--level",
    "refit": "--refit",
    "every": "--every",
    "steps": "--steps",
    "total_steps": "--total-steps",
    "family": "--family",
    "peak": "--peak",
    "baseline": "--baseline",
    "prior": "--prior",
    "target": "--target-n/--target-tokens/--target-compute",
    "where": "--where",
    "seq_len": "--seq-len",
    "drop_top_loss": "--drop-top-loss",
    "target_compute": "--target-compute",
    "warmup_fraction": "--warmup-fraction",
}


def argument(name: str, *value: object) -> str:
    """An API argument as messages name it, with its command-line flag.

    ``argument("fixed")`` → ``"fixed= (--fix)"``; ``argument("warmup", 3000)`` →
    ``"warmup=3000 (--warmup)"`` (the value as ``repr``).  Names without a flag come back
    as ``"name="``.
    """
    text = f"{name}={value[0]!r}" if value else f"{name}="
    flag = FLAGS.get(name)
    return f"{text} ({flag})" if flag else text
