"""FitResult's JSON round trip: the dictionary it writes and the reader that rebuilds it.

:meth:`FitResult.to_dict`, :meth:`~FitResult.to_json` and :meth:`~FitResult.from_json`
call these; the format is ``scaling_fit.FitResult/1`` (strict JSON: NaN written as null).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import DataError
from ..laws import Law, get_law
from ..laws.formula import is_formula_law, law_from_dict, law_to_dict
from .json_safe import json_floats

if TYPE_CHECKING:
    from .fit_result import FitResult

JSON_FORMAT = "scaling_fit.FitResult/1"


def fit_to_dict(result: FitResult) -> dict[str, Any]:
    """JSON-ready dictionary of ``result`` (the format :func:`fit_from_json` reads)."""
    errors, intervals = result.stderr, result.ci95
    return {
        "format": JSON_FORMAT,
        "law": result.law.name,
        # A formula law (Law.from_formula) travels with the result: no registration needed.
        "formula_law": law_to_dict(result.law) if is_formula_law(result.law) else None,
        "params": {
            n: {"value": v, "stderr": json_floats(errors[n]), "ci95": json_floats(intervals[n])}
            for n, v in result.params.items()
        },
        "free": list(result.free),
        "fixed": dict(result.fixed),
        "tie": dict(result.tie),
        "objective": None if np.isnan(result.objective) else result.objective,
        "n_points": result.n_points,
        "converged": result.converged,
        "warnings": list(result.warnings),
        "options": result.options,
        "version": result.version,
        "correlation": json_floats(result.correlation),
        "bootstrap_samples": json_floats(result.samples),
        "residuals": result.residuals.tolist(),
        "data": result.data.to_dict(orient="list"),
    }


def fit_from_json(cls: type[FitResult], source: str | Path, law: Law | None) -> FitResult:
    """Rebuild a ``cls`` from JSON text or a JSON file written by :meth:`FitResult.to_json`."""
    text = Path(source).read_text() if _is_path(source) else str(source)
    try:
        raw = json.loads(text)
        fitted_law = law if law is not None else _stored_law(raw)
        samples = raw.get("bootstrap_samples")
        correlation = raw.get("correlation")
        return cls(
            law=fitted_law,
            params={n: float(p["value"]) for n, p in raw["params"].items()},
            free=tuple(raw["free"]),
            fixed=dict(raw["fixed"]),
            tie=dict(raw["tie"]),
            objective=float("nan") if raw["objective"] is None else float(raw["objective"]),
            converged=bool(raw["converged"]),
            n_points=int(raw["n_points"]),
            residuals=np.asarray(raw["residuals"], dtype=float),
            warnings=tuple(raw["warnings"]),
            options=dict(raw["options"]),
            data=pd.DataFrame(raw["data"]),
            samples=None if samples is None else np.asarray(samples, dtype=float),
            correlation=None if correlation is None else np.asarray(correlation, float),
            version=str(raw.get("version", "")),
        )
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        where = f"file {source}" if _is_path(source) else "the JSON text"
        raise DataError(
            f"{where} is not a scaling_fit fit result ({exc.__class__.__name__}: {exc}); "
            "expected the JSON written by `scaling-fit fit` or FitResult.to_json()"
        ) from None


def _stored_law(raw: dict[str, Any]) -> Law:
    """The law a result's JSON names: its formula when it has one, else the registered law."""
    formula = raw.get("formula_law")
    return law_from_dict(formula, Law) if formula else get_law(raw["law"])


def _is_path(source: str | Path) -> bool:
    return isinstance(source, Path) or not str(source).lstrip().startswith("{")
