"""The fits a backtest makes and scores, shared by :func:`scaling_fit.backtest` and the
target-shaped backtest (:mod:`.target_backtest`): the runs table, per-law options, parallel
fits, held-out errors and stability-sweep rows."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, argument
from ..fitting.fit import fit
from ..fitting.workers import run_tasks, worker_count
from ..inputs.points import (
    as_table,
    check_law_columns,
    final_point_per_run,
    with_compute,
    with_other_numbers,
)
from ..inputs.validate import check_fit_arguments
from ..laws import Law, get_law
from ..progress import progress_bar
from ..results.extrapolation import row_extrapolation
from ..results.fit_result import FitResult

# fit() arguments a backtest sets itself, so fit_options may not.
RESERVED = ("runs", "law", "exclude", "points", "progress")


def get_laws(laws: Any) -> list[Law]:
    """Laws from names or :class:`Law` objects; one name or law counts as a list of one.

    A bare ``"kaplan"`` was iterated letter by letter ("unknown law 'k'"), None raised
    TypeError.
    """
    if isinstance(laws, (str, Law)):
        laws = [laws]
    if not isinstance(laws, Iterable) or isinstance(laws, Mapping):
        raise DataError(
            f"{argument('laws', laws)}: expected law names or Law objects, e.g. "
            "['chinchilla', 'overtraining']"
        )
    return [get_law(law) for law in laws]


def run_fits(
    tasks: list[tuple[Law, pd.DataFrame, dict]],
    n_jobs: int,
    progress: bool | str = False,
    description: str = "backtest fits",
) -> list[tuple]:
    """Outcomes of :func:`_fit_quietly` for every task, in order; a bar (``description``)
    advanced per finished fit.

    In parallel, the likely longest fits (most parameters, then most points) start first, so
    that one slow law does not finish alone at the end (longest-processing-time-first).
    """
    order = list(range(len(tasks)))
    workers = 1 if n_jobs == 1 else worker_count(n_jobs, len(tasks))
    if workers != 1:
        order.sort(key=lambda i: (-len(tasks[i][0].parameters), -len(tasks[i][1])))
    done = run_tasks(_fit_quietly, [tasks[i] for i in order], workers)
    outcomes = []
    with progress_bar(len(tasks), description, "fit", progress) as bar:
        for outcome in done:
            outcomes.append(outcome)
            bar.update()
    return [outcome for _, outcome in sorted(zip(order, outcomes, strict=True))]


def run_table(runs: Any, laws: list[Law]) -> tuple[pd.DataFrame, tuple[int, np.ndarray]]:
    """One row per run (its final point), with ``compute`` = 6·N·D when missing.

    Also returns the number of rows of ``runs`` and the row each run's final point came from
    (to read a holdout mask given over the rows of ``runs``).
    """
    refuse_curve_laws(laws)
    table = as_table(runs).reset_index(drop=True)
    for law in laws:
        check_law_columns(table, law.inputs, law.name)
    n_rows = len(table)
    table = with_compute(final_point_per_run(table))
    for law in laws:  # a CSV's other columns are text: the laws' ones as checked numbers
        table = with_other_numbers(table, law.inputs, law.name)
    rows = table.index.to_numpy()
    return table.reset_index(drop=True), (n_rows, rows)


# fit()'s arguments with a domain independent of the law, checked before any fit
CHECKED = ("delta", "bootstrap", "seed")
DEFAULTS = {name: p.default for name, p in inspect.signature(fit).parameters.items()}


def refuse_curve_laws(laws: list[Law]) -> None:
    """DataError for a loss-curve law: a backtest holds out whole runs by scale and predicts
    their final loss from N and D, which a curve law (loss against an LR schedule) does not
    model; say how curve laws are tested instead."""
    curves = [law.name for law in laws if law.fits_curves]
    if curves:
        named = ", ".join(repr(name) for name in curves)
        what = (
            f"law {named} is a loss-curve law"
            if len(curves) == 1
            else (f"laws {named} are loss-curve laws")
        )
        raise DataError(
            f"{what}: "
            "a backtest (compare) holds out the largest runs and predicts their final loss "
            "from n_params and tokens, which a curve law does not model. Test a curve law "
            "on the steps it has not seen instead: forecast a run from the first part of its "
            "log and compare with the rest (scaling_fit.forecast; scaling-fit forecast LOG "
            "--schedule SPEC --where 'step <= ...'), or fit some schedules and predict "
            "another run's curve (FitResult.predict_curve). Compare final-loss laws "
            "(chinchilla, kaplan, ...) on runs of several sizes"
        )


def free_parameters(law: Law, options: Mapping[str, Any]) -> int:
    """Parameters a fit of ``law`` with ``options`` estimates (those not in ``fixed``)."""
    return len(law.parameters) - len(options.get("fixed") or {})


def options_per_law(names: list[str], options: Mapping[str, Any] | None) -> dict[str, dict]:
    allowed = [p for p in inspect.signature(fit).parameters if p not in RESERVED]
    shared = {k: v for k, v in (options or {}).items() if k not in names}
    unknown = sorted(set(shared) - set(allowed))
    if unknown:
        raise DataError(
            f"fit_options keys {unknown} are neither laws being backtested ({names}) nor "
            f"fit() options ({allowed}); exclude=/points= are set by backtest (filter runs "
            "beforehand)"
        )
    per_law = {}
    for name in names:
        own = dict((options or {}).get(name, {}))
        bad = sorted(set(own) - set(allowed))
        if bad:
            raise DataError(f"fit_options[{name!r}] has unknown keys {bad}; expected {allowed}")
        per_law[name] = {**shared, **own}
        # Options every law reads alike are bad input for all of them: said once, up front,
        # not as one failed fit per law.
        check_fit_arguments(**{k: per_law[name].get(k, DEFAULTS[k]) for k in CHECKED}, n_jobs=1)
    return per_law


def _fit_quietly(law: Law, train: pd.DataFrame, options: dict) -> tuple:
    """(FitResult or None, error message, warning messages) of one fit."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result, error = fit(train, law, progress=False, **options), ""
        except Exception as exc:  # one law's failure must not stop the others
            result, error = None, f"{type(exc).__name__}: {exc}"
    return result, error, [str(w.message) for w in caught]


def _predict(result: FitResult, inputs: Mapping[str, Any]) -> np.ndarray:
    """The fit's predictions at the held-out runs, converged or not: a backtest measures what
    the law fitted this way would have predicted (its fit warnings, "did not converge"
    among them, travel with the backtest's rows)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "the fit of law .* predicting anyway")
        return result.predict(max_extrapolation=np.inf, allow_unconverged=True, **inputs)


def held_out_errors(law: Law, result: FitResult | None, held: pd.DataFrame) -> pd.DataFrame:
    table = held[["run", *law.inputs, "loss"]].assign(law=law.name)
    loss = table["loss"].to_numpy(float)
    predicted = np.full(len(table), np.nan)
    factor = np.full(len(table), np.nan)
    if result is not None:
        predicted = _predict(result, {c: table[c].to_numpy(float) for c in law.inputs})
        factor = row_extrapolation(result.data, table, law.inputs)
    table["predicted"] = predicted
    table["relative_error"] = np.abs(predicted - loss) / loss
    table["signed_error"] = (predicted - loss) / loss
    table["extrapolation"] = factor
    columns = ["law", "run", *law.inputs, "loss", "predicted", "relative_error", "signed_error"]
    return table[[*columns, "extrapolation"]].reset_index(drop=True)


def sweep_row(law: Law, k: int, largest: float, n_fit: int, outcome: tuple, goal: dict) -> dict:
    result, error, notes = outcome
    predicted = np.nan
    if result is not None:
        predicted = float(_predict(result, {c: goal[c] for c in law.inputs}))
    actual = goal.get("loss")
    return {
        "law": law.name,
        "dropped": k,
        "largest_fitted": float(largest),
        "n_fit": n_fit,
        "predicted": predicted,
        "relative_error": np.nan if actual is None else abs(predicted - actual) / actual,
        "n_warnings": len(notes),
        "error": error,
    }
