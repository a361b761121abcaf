r"""A :class:`~scaling_fit.laws.base.Law` from a formula string, parsed safely by asteval.

``Law.from_formula("E + A/N**alpha + B/D**beta", inputs={"N": "n_params", "D": "tokens"})``
gives a regular law that :func:`scaling_fit.fit`, the bootstrap and the CLI use like a
registered one. The text is parsed and evaluated by asteval (the interpreter lmfit uses for
parameter expressions and ``ExpressionModel``), never by Python's ``eval``, and only
arithmetic is accepted: numbers, names, ``+ - * / **``, unary minus and calls of the math
functions in ``FUNCTIONS``. Attribute access, subscripts, comparisons, lambdas, imports and
anything else are rejected with a :class:`~scaling_fit.errors.DataError` before anything runs.

Names: the keys of ``inputs`` are the formula's input symbols (mapped to columns of the runs
table); a name called as a function must be one of ``FUNCTIONS``; every other name is a
parameter, in order of first appearance.

Default parameter settings (each overridable per parameter with ``starts=``, ``bounds=``,
``log=``):

- a parameter in the exponent of ``**`` (``N**alpha``, ``D**-beta``) is an *exponent*:
  bounds (0, inf), fitted as is, starts 0, 0.5, 1, 1.5, 2 (Hoffmann et al. 2022's grid for
  Chinchilla's exponents);
- every other parameter is a positive *scale* (an amplitude or an irreducible loss): bounds
  (0, inf), fitted as its logarithm, starts e^-2 … e^24 (7 log-spaced values: losses of a few
  nats and amplitudes like Chinchilla's A ≈ e^6 that multiply N^-alpha);
- a parameter given bounds with a negative lower bound, or ``log=False``, is fitted as is,
  with 5 starts spread over its bounds when they are finite (else the exponent grid for an
  exponent, -10, -1, 0, 1, 10 otherwise); a scale's log-spaced starts are clipped to its
  bounds.

When the formula is a sum of terms each carrying its own scale factor (``E``, ``A/N**alpha``,
``B*D**-beta``), those factors are declared ``linear`` and the fitter solves them exactly on
a dense grid of the other parameters (variable projection), as for the registered
Chinchilla law.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DataError
from .formula_checks import FUNCTIONS, check_inputs, check_tree, linear_params
from .parameter import Array, Parameter

if TYPE_CHECKING:
    from .base import Law

EXPONENT_STARTS = (0.0, 0.5, 1.0, 1.5, 2.0)
SCALE_STARTS_LOG = tuple(np.linspace(-2.0, 24.0, 7))
UNBOUNDED_STARTS = (-10.0, -1.0, 0.0, 1.0, 10.0)
JSON_KIND = "formula"


class FormulaFunction:
    """The callable formula of a formula law: ``f(*inputs, **params)``, evaluated by asteval.

    Vectorised and broadcasting (numpy arrays in, numpy arrays out); picklable (the asteval
    interpreter is rebuilt after unpickling, e.g. in joblib workers).
    """

    def __init__(self, expression: str, symbols: Sequence[str], params: Sequence[str]) -> None:
        self.expression = expression
        self.symbols = tuple(symbols)
        self.params = tuple(params)
        self._interpreter: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {"expression": self.expression, "symbols": self.symbols, "params": self.params}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["expression"], state["symbols"], state["params"])

    def __repr__(self) -> str:
        return f"FormulaFunction({self.expression!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FormulaFunction) and self.__getstate__() == other.__getstate__()

    def __hash__(self) -> int:
        return hash((self.expression, self.symbols, self.params))

    def __call__(self, *inputs: Array, **params: Array) -> Array:
        if len(inputs) != len(self.symbols) or set(params) != set(self.params):
            raise TypeError(
                f"formula {self.expression!r} takes inputs {list(self.symbols)} positionally "
                f"and parameters {list(self.params)} as keywords; got {len(inputs)} inputs and "
                f"keywords {sorted(params)}"
            )
        if self._interpreter is None:
            self._interpreter = _interpreter(self.expression)[0]
        table = self._interpreter.symtable
        for symbol, value in zip(self.symbols, inputs, strict=True):
            table[symbol] = np.asarray(value, dtype=float)
        for name, value in params.items():
            table[name] = np.asarray(value, dtype=float)
        try:
            # The text, not the parsed tree: asteval reports errors of a tree incorrectly.
            value = self._interpreter.eval(self.expression, show_errors=False, raise_errors=True)
        except RuntimeError:  # asteval's guard on exponents above 10,000: no finite loss there
            shape = np.broadcast_shapes(*(np.shape(table[n]) for n in self.symbols + self.params))
            return np.full(shape, np.nan)
        finally:
            # asteval keeps every evaluated text (1.0.1 and later; 1.0.0 has no such list)
            getattr(self._interpreter, "code_text", []).clear()
            for name in self.symbols + self.params:  # and would keep the arrays alive
                table.pop(name, None)
        return np.asarray(value, dtype=float)


def _interpreter(expression: str) -> tuple[Any, Any]:
    """An asteval interpreter with only ``FUNCTIONS`` and the parsed ``expression``."""
    from asteval import Interpreter, make_symbol_table

    full = make_symbol_table(use_numpy=True)
    symbols = {name: full[name] for name in FUNCTIONS}
    interpreter = Interpreter(symtable=symbols, minimal=True)
    try:
        tree = interpreter.parse(expression)
    except Exception:
        detail = interpreter.error[-1].msg if interpreter.error else "cannot be parsed"
        raise DataError(
            f"formula {expression!r} is not a valid expression ({detail}); write arithmetic "
            "such as 'E + A/N**alpha + B/D**beta'"
        ) from None
    return interpreter, tree


def formula_fields(
    expression: str,
    inputs: Mapping[str, str],
    *,
    name: str = "formula",
    starts: Mapping[str, Sequence[float]] | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    log: Mapping[str, bool] | None = None,
    reference: str = "user formula",
    description: str | None = None,
) -> dict[str, Any]:
    """The fields of a :class:`Law` from a formula string (``Law.from_formula`` builds the
    law from them); see the module docstring for the rules.

    Parameters
    ----------
    expression
        The loss as arithmetic of inputs and parameters, e.g. ``"E + A/N**alpha + B/D**beta"``.
    inputs
        Input symbol → column of the runs table, e.g. ``{"N": "n_params", "D": "tokens"}``.
    name
        The law's name (shown in reports and stored in the JSON of a fit).
    starts
        Start values per parameter, in natural units (e.g. ``{"alpha": [0.2, 0.5]}``).
    bounds
        Natural-unit bounds per parameter, e.g. ``{"E": (0, 5)}``.
    log
        Whether to fit a parameter as its logarithm (requires a lower bound >= 0).
    reference, description
        Where the form comes from, and one line about it (default: the formula).

    Raises
    ------
    DataError
        For anything but arithmetic, unknown functions or columns, an input symbol missing
        from the formula, no parameters, or hints naming no parameter.
    """
    text = str(expression).strip()
    if not text:
        raise DataError("formula is empty; write the loss, e.g. 'E + A/N**alpha + B/D**beta'")
    symbols = check_inputs(text, inputs)
    _, tree = _interpreter(text)
    names, exponents = check_tree(text, tree, symbols)
    params = [n for n in names if n not in symbols]
    if not params:
        raise DataError(
            f"formula {text!r} has no parameters (names other than the inputs "
            f"{list(symbols)} and the functions): there is nothing to fit"
        )
    hints = {"starts": starts or {}, "bounds": bounds or {}, "log": log or {}}
    for label, given in hints.items():
        unknown = sorted(set(given) - set(params))
        if unknown:
            raise DataError(
                f"{label}= names {unknown}, which are not parameters of formula {text!r}; "
                f"its parameters are {params}"
            )
    parameters = tuple(_parameter(p, p in exponents, hints) for p in params)
    mapping = ", ".join(f"{s} = {inputs[s]}" for s in symbols)
    return {
        "name": name,
        "formula": FormulaFunction(text, symbols, params),
        "inputs": tuple(inputs[s] for s in symbols),
        "parameters": parameters,
        "reference": reference,
        "description": description or f"L = {text} ({mapping})",
        "linear": linear_params(tree, params),
    }


def _parameter(name: str, exponent: bool, hints: Mapping[str, Mapping]) -> Parameter:
    lo, hi = (float(b) for b in hints["bounds"].get(name, (0.0, np.inf)))
    if not lo < hi:
        raise DataError(f"bounds= for {name!r} must be (lower, upper) with lower < upper")
    log = hints["log"].get(name, lo >= 0 and not exponent)
    if log and lo < 0:
        raise DataError(
            f"parameter {name!r}: log=True needs a lower bound >= 0, found bounds ({lo}, {hi})"
        )
    given = name in hints["bounds"] and np.isfinite(hi)
    if name in hints["starts"]:
        start = np.clip(np.asarray(hints["starts"][name], dtype=float).ravel(), lo, hi)
        if log:
            start = np.maximum(start, 1e-300)
        kind = "user starts"
    elif log:
        floor = np.log(lo) if lo > 0 else -np.inf
        start = np.clip(np.exp(np.unique(np.clip(SCALE_STARTS_LOG, floor, np.log(hi)))), lo, hi)
        kind = "positive scale"
    elif given and np.isfinite(lo):
        start, kind = np.linspace(lo, hi, 5), "spread over its bounds"
    elif exponent:
        start, kind = np.asarray(EXPONENT_STARTS), "exponent"
    else:
        start, kind = np.asarray(UNBOUNDED_STARTS), "unbounded"
    if not start.size:
        raise DataError(
            f"starts= gives no values for parameter {name!r}; give at least one start, "
            f"e.g. starts={{{name!r}: [1.0]}}"
        )
    return Parameter(
        name,
        tuple(float(s) for s in start),
        log=bool(log),
        bounds=(lo, hi),
        description=f"formula parameter ({kind})",
    )


# ----------------------------------------------------------------- JSON
def is_formula_law(law: Law) -> bool:
    """Whether ``law`` was built by ``Law.from_formula``."""
    return isinstance(law.formula, FormulaFunction)


def law_to_dict(law: Law) -> dict[str, Any]:
    """JSON-ready description of a formula law (expression, inputs, parameter settings)."""
    formula: FormulaFunction = law.formula  # type: ignore[assignment]
    return {
        "kind": JSON_KIND,
        "name": law.name,
        "expression": formula.expression,
        "inputs": dict(zip(formula.symbols, law.inputs, strict=True)),
        "reference": law.reference,
        "description": law.description,
        "start_units": "natural",
        "parameters": [
            {
                "name": p.name,
                "start": list(p.start),
                "log": p.log,
                "bounds": [_finite_or_none(b) for b in p.bounds],
            }
            for p in law.parameters
        ],
    }


def law_from_dict(spec: Mapping[str, Any], law_class: type[Law]) -> Law:
    """Rebuild a formula law from :func:`law_to_dict`'s output (no registration needed);
    ``law_class`` is :class:`Law` (passed in: this module sits below it)."""
    law = law_class.from_formula(
        spec["expression"],
        spec["inputs"],
        name=spec["name"],
        reference=spec["reference"],
        description=spec.get("description"),
    )
    stored = {p["name"]: p for p in spec["parameters"]}
    # Written before starts were natural (no "start_units"): log parameters' starts are logs.
    old = spec.get("start_units") != "natural"
    parameters = tuple(
        replace(
            p,
            start=_stored_starts(stored[p.name], old),
            log=bool(stored[p.name]["log"]),
            bounds=(
                _bound(stored[p.name]["bounds"][0], -np.inf),
                _bound(stored[p.name]["bounds"][1], np.inf),
            ),
        )
        for p in law.parameters
    )
    return replace(law, parameters=parameters)


def _stored_starts(stored: Mapping[str, Any], in_log: bool) -> tuple[float, ...]:
    """A stored parameter's natural starts (exp of the stored ones when ``in_log`` and the
    parameter is a log parameter)."""
    start = np.asarray(stored["start"], dtype=float)
    return tuple(np.exp(start) if in_log and stored["log"] else start)


def _finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _bound(value: float | None, default: float) -> float:
    return default if value is None else float(value)
