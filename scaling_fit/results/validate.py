"""Validation of a fit result's JSON against its schema and its law, before it is used.

A fit file is often edited by hand or by scripts; :func:`check_fit_dict` checks every field
:meth:`~scaling_fit.FitResult.from_json` reads (types, shapes, finite values) and that the
parameters are exactly the law's, and raises one :class:`~scaling_fit.errors.DataError` naming
the file and the field.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

from ..errors import DataError
from ..laws import Law

JSON_FORMAT = "scaling_fit.FitResult/1"
NOT = " is not a scaling_fit fit result"
FIX = "rewrite it with `scaling-fit fit` or FitResult.to_json(), or undo the edit"


class _Check:
    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, field: str, expected: str, found: Any) -> DataError:
        shown = repr(found) if len(repr(found)) <= 60 else f"{type(found).__name__} ..."
        return DataError(
            f"{self.where}{NOT}: field {field!r}: expected {expected}, found {shown}; {FIX}"
        )

    def number(self, field: str, value: Any, *, null: bool = True) -> None:
        if value is None and null:
            return
        if not _is_number(value) or not _finite(value):
            raise self.fail(field, "a finite number" + (" or null" if null else ""), value)

    def typed(self, field: str, value: Any, kind: type | tuple, expected: str) -> None:
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise self.fail(field, expected, value)

    def numbers(self, field: str, value: Any, depth: int) -> None:
        if value is None:
            return
        self.typed(field, value, list, "a list" + (" of lists" if depth > 1 else ""))
        if depth > 1 and len({len(row) if isinstance(row, list) else -1 for row in value}) > 1:
            raise self.fail(field, "a table (lists of equal length)", value)
        for i, item in enumerate(value):
            if depth > 1:
                self.numbers(f"{field}[{i}]", item, depth - 1)
                if item is None:
                    raise self.fail(f"{field}[{i}]", "a list of numbers", item)
            else:
                self.number(f"{field}[{i}]", item)


def check_fit_dict(raw: Any, where: str) -> None:
    """DataError unless ``raw`` has the fields and types :meth:`FitResult.to_dict` writes."""
    check = _Check(where)
    if not isinstance(raw, Mapping):
        found = type(raw).__name__
        raise DataError(f"{where}{NOT}: expected a JSON object, found {found}; {FIX}")
    if raw.get("format", JSON_FORMAT) != JSON_FORMAT:
        raise check.fail("format", repr(JSON_FORMAT), raw.get("format"))
    required = ("law", "params", "free", "fixed", "tie", "objective", "n_points", "converged")
    missing = [k for k in (*required, "warnings", "options", "residuals", "data") if k not in raw]
    if missing:
        raise DataError(f"{where}{NOT}: fields {missing} are missing; {FIX}")
    check.typed("law", raw["law"], str, "a law name")
    if raw.get("formula_law") is not None:
        check.typed("formula_law", raw["formula_law"], dict, "null or a formula law object")
    check.typed("params", raw["params"], dict, "an object name -> {value, stderr, ci95}")
    for name, entry in raw["params"].items():
        check.typed(f"params.{name}", entry, dict, "an object {value, stderr, ci95}")
        if "value" not in entry:
            raise check.fail(f"params.{name}", "an object with a 'value'", entry)
        check.number(f"params.{name}.value", entry["value"])
        check.number(f"params.{name}.stderr", entry.get("stderr"))
        check.numbers(f"params.{name}.ci95", entry.get("ci95"), 1)
    check.typed("free", raw["free"], list, "a list of parameter names")
    check.typed("fixed", raw["fixed"], dict, "an object name -> value")
    for name, value in raw["fixed"].items():
        check.number(f"fixed.{name}", value, null=False)
    check.typed("tie", raw["tie"], dict, "an object name -> other name")
    check.number("objective", raw["objective"])
    check.typed("n_points", raw["n_points"], int, "a whole number of points")
    if raw["n_points"] < 0:
        raise check.fail("n_points", "a whole number >= 0", raw["n_points"])
    check.typed("converged", raw["converged"], bool, "true or false")
    check.typed("warnings", raw["warnings"], list, "a list of messages")
    check.typed("options", raw["options"], dict, "an object")
    check.numbers("residuals", raw["residuals"], 1)
    if raw["residuals"] is None:
        raise check.fail("residuals", "a list of numbers", None)
    check.numbers("bootstrap_samples", raw.get("bootstrap_samples"), 2)
    check.numbers("correlation", raw.get("correlation"), 2)
    _check_data(check, raw["data"])


def check_against_law(raw: Mapping[str, Any], law: Law, where: str) -> None:
    """DataError unless the parameters and columns are exactly those of ``law``."""
    check = _Check(where)
    names = list(law.param_names)
    if sorted(raw["params"]) != sorted(names):
        expected = f"the parameters {names} of law {law.name!r}"
        raise check.fail("params", expected, list(raw["params"]))
    for field in ("free", "fixed", "tie"):
        unknown = [n for n in raw[field] if n not in names]
        if unknown:
            raise check.fail(field, f"names among {names}", unknown)
    if raw["converged"]:
        bad = [n for n, p in raw["params"].items() if p["value"] is None]
        if bad:
            raise check.fail(f"params.{bad[0]}.value", "a finite number (converged fit)", None)
    samples = raw.get("bootstrap_samples")
    if samples and any(len(row) != len(names) for row in samples):
        raise check.fail("bootstrap_samples", f"rows of {len(names)} values", "other lengths")
    _check_bounds(check, raw, law)
    output = getattr(law, "output", "loss")
    absent = [c for c in (*law.inputs, output) if c not in raw["data"]]
    if absent:
        raise check.fail("data", f"the columns {[*law.inputs, output]}", list(raw["data"]))


def _check_bounds(check: _Check, raw: Mapping[str, Any], law: Law) -> None:
    """Every parameter value inside the bounds it was fitted within (the law's, or those
    the fit's ``options.bounds`` set); a parameter fitted in log space is >= 0."""
    overrides = raw["options"].get("bounds")
    overrides = overrides if isinstance(overrides, Mapping) else {}
    for position, parameter in enumerate(getattr(law, "parameters", ())):
        lo, hi = parameter.bounds
        given = overrides.get(parameter.name)
        if isinstance(given, list) and len(given) == 2 and all(map(_is_number, given)):
            lo, hi = given
        if parameter.log:  # fitted as exp(x): >= 0 (0 when x underflows)
            lo = max(lo, 0.0)
        expected = f"a value within the bounds [{lo:g}, {hi:g}] of law {law.name!r}"
        for field, value in _values_of(raw, parameter.name, position):
            if value is not None and not lo <= value <= hi:
                raise check.fail(field, expected, value)


def _values_of(raw: Mapping[str, Any], name: str, position: int) -> list[tuple[str, Any]]:
    """(field, value) of a parameter's fitted value and of its bootstrap draws."""
    entry = raw["params"].get(name)
    values = [(f"params.{name}.value", entry.get("value") if isinstance(entry, Mapping) else None)]
    for row, draw in enumerate(raw.get("bootstrap_samples") or []):
        values.append((f"bootstrap_samples[{row}][{position}]", draw[position]))
    return values


def _check_data(check: _Check, data: Any) -> None:
    check.typed("data", data, dict, "an object column -> list of values")
    lengths = set()
    for column, values in data.items():
        check.typed(f"data.{column}", values, list, "a list of values")
        lengths.add(len(values))
        if column != "run":
            check.numbers(f"data.{column}", values, 1)
    if len(lengths) > 1:
        raise check.fail("data", "columns of equal length", sorted(lengths))


def _finite(value: float) -> bool:
    """Whether a number is finite as a float (an integer of 400 digits is not)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
