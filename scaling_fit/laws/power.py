"""Parameters shared by the power-law hyperparameter laws (Step Law, DeepSeek, Porian)."""

from __future__ import annotations

import numpy as np

from .base import Parameter

# Coefficient of a power law; starts 1e-6..1e6 cover learning rates and batch sizes in tokens.
COEFFICIENT = Parameter(
    "c",
    tuple(np.logspace(-6, 6, 7)),
    log=True,
    bounds=(0.0, np.inf),
    description="coefficient (the output at unit inputs)",
)


def exponent(name: str, what: str) -> Parameter:
    """A power-law exponent, unbounded, with a start grid spanning -1.5..1.5."""
    return Parameter(name, (-1.5, -0.75, -0.25, 0.25, 0.75, 1.5), description=what)
