"""The registry of scaling laws: a plain dict from name to :class:`Law`.

Adding a law is one file in this package plus one line in ``LAWS``.  Anywhere a law name is
accepted, a user-defined :class:`Law` is accepted too.
"""

from __future__ import annotations

import pandas as pd

from ..errors import UnknownLawError
from . import (
    chinchilla,
    deepseek,
    farseer,
    kaplan,
    kaplan_batch,
    lr_annealing,
    multipower,
    overtraining,
    porian,
    steplaw,
)
from .base import Law, Parameter

LAWS: dict[str, Law] = {
    chinchilla.LAW.name: chinchilla.LAW,
    kaplan.LAW.name: kaplan.LAW,
    farseer.LAW.name: farseer.LAW,
    overtraining.LAW.name: overtraining.LAW,
    lr_annealing.LAW.name: lr_annealing.LAW,
    multipower.LAW.name: multipower.LAW,
    # Hyperparameter laws: they predict law.output ("lr" or "batch_size"), not the loss.
    steplaw.LR_LAW.name: steplaw.LR_LAW,
    steplaw.BATCH_LAW.name: steplaw.BATCH_LAW,
    deepseek.LR_LAW.name: deepseek.LR_LAW,
    deepseek.BATCH_LAW.name: deepseek.BATCH_LAW,
    porian.LR_LAW.name: porian.LR_LAW,
    porian.BATCH_LAW.name: porian.BATCH_LAW,
    kaplan_batch.LAW.name: kaplan_batch.LAW,
}


def get_law(law: str | Law) -> Law:
    """Return the registered law called ``law``, or ``law`` itself if it is a :class:`Law`.

    Parameters
    ----------
    law
        A name in :data:`LAWS` (see :func:`list_laws`) or a :class:`Law`.

    Returns
    -------
    Law
        The law.

    Raises
    ------
    UnknownLawError
        When ``law`` names no registered law.
    """
    if isinstance(law, Law):
        return law
    if not isinstance(law, str) or law not in LAWS:
        raise UnknownLawError(
            f"unknown law {law!r}: expected one of {', '.join(sorted(LAWS))} or a "
            "scaling_fit.Law; run `scaling-fit laws` to see them"
        )
    return LAWS[law]


def list_laws() -> pd.DataFrame:
    """Table of the registered laws: name, inputs, output, parameters, form and reference.

    Returns
    -------
    pandas.DataFrame
        One row per law in :data:`LAWS`.
    """
    rows = [
        {
            "name": law.name,
            "inputs": ", ".join(law.inputs),
            "output": law.output,
            "parameters": ", ".join(law.param_names),
            "form": law.description,
            "reference": law.reference,
        }
        for law in LAWS.values()
    ]
    return pd.DataFrame(
        rows, columns=["name", "inputs", "output", "parameters", "form", "reference"]
    )


__all__ = ["LAWS", "Law", "Parameter", "get_law", "list_laws"]
