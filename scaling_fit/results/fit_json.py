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

from ..errors import DataError, ScalingFitError
from ..laws import Law, get_law
from ..laws.formula import is_formula_law, law_from_dict, law_to_dict
from .json_safe import json_floats
from .validate import JSON_FORMAT, check_against_law, check_fit_dict

if TYPE_CHECKING:
    from .fit_result import FitResult

__all__ = ["JSON_FORMAT", "fit_from_json", "fit_to_dict"]


def fit_to_dict(result: FitResult) -> dict[str, Any]:
    """JSON-ready dictionary of ``result`` (the format :func:`fit_from_json` reads)."""
    errors, intervals = result.stderr, result.ci95
    return {
        "format": JSON_FORMAT,
        "law": result.law.name,
        # A formula law (Law.from_formula) travels with the result: no registration needed.
        "formula_law": law_to_dict(result.law) if is_formula_law(result.law) else None,
        "params": {
            n: {
                "value": _finite(v),
                "stderr": json_floats(errors[n]),
                "ci95": json_floats(intervals[n]),
            }
            for n, v in result.params.items()
        },
        "free": list(result.free),
        "fixed": dict(result.fixed),
        "tie": dict(result.tie),
        "objective": _finite(result.objective),
        "n_points": result.n_points,
        "converged": result.converged,
        "warnings": list(result.warnings),
        "options": result.options,
        "version": result.version,
        "correlation": json_floats(result.correlation),
        "bootstrap_samples": json_floats(result.samples),
        "residuals": [_finite(r) for r in np.asarray(result.residuals, float).tolist()],
        "data": result.data.to_dict(orient="list"),
    }


def fit_from_json(cls: type[FitResult], source: str | Path, law: Law | None) -> FitResult:
    """Rebuild a ``cls`` from JSON text or a JSON file written by :meth:`FitResult.to_json`,
    validated against its schema and its law first (:mod:`.validate`)."""
    where, raw = _read_json(source)
    check_fit_dict(raw, where)
    try:
        fitted_law = law if law is not None else _stored_law(raw)
    except (ScalingFitError, LookupError, TypeError, ValueError, AttributeError) as exc:
        field = "formula_law" if raw.get("formula_law") else "law"
        message = f"{where} is not a scaling_fit fit result: field {field!r}: {exc}"
        raise DataError(message) from None
    check_against_law(raw, fitted_law, where)
    samples, correlation = raw.get("bootstrap_samples"), raw.get("correlation")
    return cls(
        law=fitted_law,
        params={n: _float(raw["params"][n]["value"]) for n in fitted_law.param_names},
        free=tuple(raw["free"]),
        fixed={n: float(v) for n, v in raw["fixed"].items()},
        tie=dict(raw["tie"]),
        objective=_float(raw["objective"]),
        converged=raw["converged"],
        n_points=raw["n_points"],
        residuals=np.asarray(_floats(raw["residuals"]), dtype=float),
        warnings=tuple(str(w) for w in raw["warnings"]),
        options=dict(raw["options"]),
        data=pd.DataFrame(raw["data"]),
        samples=_samples(samples),
        correlation=None if correlation is None else np.asarray(_floats(correlation), float),
        version=str(raw.get("version", "")),
    )


def _samples(stored: Any) -> np.ndarray | None:
    """Bootstrap samples as an array; None when absent or when no row holds numbers only
    (every resample failed: there is nothing to take intervals from)."""
    if stored is None:
        return None
    samples = np.asarray(_floats(stored), dtype=float).reshape(len(stored), -1)
    return samples if np.isfinite(samples).all(axis=1).any() else None


def _read_json(source: str | Path) -> tuple[str, Any]:
    """Where the JSON comes from (for messages) and its parsed value; DataError if unreadable."""
    expected = "expected the JSON written by `scaling-fit fit` or FitResult.to_json()"
    if not isinstance(source, str | Path):
        raise DataError(f"from_json: expected JSON text or a path, found {type(source).__name__}")
    where = f"file {source}" if _is_path(source) else "the JSON text"
    try:
        text = Path(source).read_text(encoding="utf-8") if _is_path(source) else str(source)
    except UnicodeDecodeError:
        raise DataError(f"{where} is not text (binary data?); {expected}") from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        hint = " (JSON text starts with '{')" if isinstance(source, str) else ""
        raise DataError(f"{where} cannot be read: {reason}{hint}; {expected}") from None
    try:
        return where, json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise DataError(
            f"{where} is not a scaling_fit fit result (not valid JSON: {exc}); {expected}"
        ) from None


def _finite(value: float) -> float | None:
    """A float for strict JSON: non-finite values (a degenerate fit) written as null."""
    return float(value) if np.isfinite(value) else None


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _floats(values: Any) -> Any:
    """Nested lists with null read back as NaN."""
    if isinstance(values, list):
        return [_floats(v) for v in values]
    return _float(values)


def _stored_law(raw: dict[str, Any]) -> Law:
    """The law a result's JSON names: its formula when it has one, else the registered law."""
    formula = raw.get("formula_law")
    return law_from_dict(formula, Law) if formula else get_law(raw["law"])


def _is_path(source: str | Path) -> bool:
    return isinstance(source, Path) or not str(source).lstrip().startswith("{")
