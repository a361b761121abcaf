"""Explicit allowances for diagnostics that depend on the platform's floating point.

``filterwarnings = error`` stays on for the whole suite; a test that expects a benign
diagnostic to fire on some machines and not on others says so here, by name, around the one
call that may raise it.
"""

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from scaling_fit.errors import ScalingFitWarning

# How many refined starts land in the best basin depends on the platform's floating point
# (BLAS, libm, compiler): on noise-free Kaplan data one machine reaches it from 2 of 10 starts
# and another from 1, which is when the fit warns. The warning is a true diagnostic, but a
# test that checks the optimum itself must not depend on which side of it a machine falls.
MULTISTART_DIAGNOSTIC = r"only 1 of \d+ refined starts reached the best objective"


@contextmanager
def allow_multistart_diagnostic() -> Iterator[None]:
    """Let the "only 1 of N refined starts" warning pass (it still reaches the result)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", MULTISTART_DIAGNOSTIC, ScalingFitWarning)
        yield
