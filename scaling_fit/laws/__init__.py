"""The registry of scaling laws: a read-only mapping from name to :class:`Law`.

Adding a law is one file in this package plus one line in ``_WHERE``.  Anywhere a law name is
accepted, a user-defined :class:`Law` is accepted too.

Each law's module is imported the first time the law is looked up, so fitting Chinchilla does
not import the loss-curve laws' schedule machinery (SciPy's interpolation, the LR-column
readers) nor the other laws; listing or iterating over :data:`LAWS` imports them all.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping

import pandas as pd

from ..errors import UnknownLawError
from .base import Law, Parameter

# name -> (module in this package, attribute holding the Law), in the order laws are listed.
_WHERE: dict[str, tuple[str, str]] = {
    "chinchilla": ("chinchilla", "LAW"),
    "kaplan": ("kaplan", "LAW"),
    "farseer": ("farseer", "LAW"),
    "overtraining": ("overtraining", "LAW"),
    "lr_annealing": ("lr_annealing", "LAW"),
    "multipower": ("multipower", "LAW"),
    # Hyperparameter laws: they predict law.output ("lr" or "batch_size"), not the loss.
    "steplaw_lr": ("steplaw", "LR_LAW"),
    "steplaw_batch": ("steplaw", "BATCH_LAW"),
    "deepseek_lr": ("deepseek", "LR_LAW"),
    "deepseek_batch": ("deepseek", "BATCH_LAW"),
    "porian_lr": ("porian", "LR_LAW"),
    "porian_batch": ("porian", "BATCH_LAW"),
    "kaplan_bcrit": ("kaplan_batch", "LAW"),
}


class _Registry(Mapping[str, Law]):
    """Name -> :class:`Law`, importing a law's module on the first lookup of the law."""

    def __init__(self, where: Mapping[str, tuple[str, str]]) -> None:
        self._where = dict(where)
        self._loaded: dict[str, Law] = {}

    def __getitem__(self, name: str) -> Law:
        if name not in self._loaded:
            module, attribute = self._where[name]  # KeyError for an unknown name, as a dict
            law = getattr(importlib.import_module(f".{module}", __name__), attribute)
            if law.name != name:
                raise RuntimeError(f"law registry: {module}.{attribute} is named {law.name!r}")
            self._loaded[name] = law
        return self._loaded[name]

    def __contains__(self, name: object) -> bool:
        return name in self._where

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)

    def __repr__(self) -> str:
        return f"LAWS({', '.join(self._where)})"


LAWS: Mapping[str, Law] = _Registry(_WHERE)


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
