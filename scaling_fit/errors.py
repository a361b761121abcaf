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


class ScalingFitWarning(UserWarning):
    """Base class of warnings about a fit: bounds, identifiability, convergence, extrapolation."""
