"""backtest(): how well each law predicts the runs it was not fitted on.

A law is chosen by how well it extrapolates, not by how well it fits (laws.md §9.5): fit every
law on the smaller runs, predict the held-out larger ones and report the relative error
|L̂ − L|/L per held-out run, its mean and its worst (Gadre et al. 2024 report 0.71 % and 0.73 %
on their 1.4B and 6.9B runs).  The **stability sweep** refits while dropping the largest
fitted scale, then the next, … (Farseer's ``gen_model_var_N``, Li et al. 2025) and records
how the prediction at one target run moves: a law whose extrapolation drifts as the window
grows is not trustworthy.  Each run contributes its final point (docs/laws.md §9.4).
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from ..errors import DataError, argument
from ..fitting.fit import fit
from ..inputs.points import as_table, final_point_per_run, with_compute
from ..laws import Law, get_law
from ..progress import check_progress, progress_bar
from ..results.extrapolation import row_extrapolation
from ..results.fit_result import FitResult
from ..results.json_safe import json_records, json_safe
from .holdout import axis_values, choose_holdout, scale_ids

JSON_FORMAT = "scaling_fit.BacktestResult/1"
# Default cap on scales dropped by the stability sweep: each step refits every law.
MAX_DROPPED = 4
# fit() arguments that backtest() decides itself.
RESERVED = ("runs", "law", "exclude", "points", "progress")


@dataclass(frozen=True, repr=False)
class BacktestResult:
    """Outcome of :func:`backtest`. Relative errors are fractions (0.007 = 0.7 %).

    Attributes
    ----------
    errors
        One row per law × held-out run: ``law, run``, the law's inputs, ``loss``,
        ``predicted``, ``relative_error`` = |L̂ − L|/L, ``signed_error`` = (L̂ − L)/L and
        ``extrapolation`` (largest factor by which an input lies outside the fitted range).
    summary
        One row per law: ``mean_relative_error``, ``worst_relative_error``, ``worst_run``,
        ``n_fit``, ``n_held_out``, ``objective``, ``n_warnings`` (of the main fit) and
        ``error`` (the message of a failed fit, empty otherwise).
    stability
        One row per law × number of largest scales dropped (0 = the main fit): ``dropped``,
        ``largest_fitted`` (largest axis value left), ``n_fit``, ``predicted`` (loss at the
        target), ``relative_error`` (against the target's loss when known), ``n_warnings``
        and ``error``.
    fits
        The main fit of each law (None when it failed).
    holdout, axis, target
        Description of the split, the sweep axis, and the target (``run``, inputs, ``loss``).
    warnings
        Warnings raised while fitting each law (all sweep steps), in order, deduplicated.
    """

    errors: pd.DataFrame
    summary: pd.DataFrame
    stability: pd.DataFrame
    fits: dict[str, FitResult | None]
    holdout: str
    axis: str
    target: dict[str, Any]
    warnings: dict[str, tuple[str, ...]]

    def report(self, *, per_run: bool = False) -> str:
        """Plain-text tables: the summary (errors in %) and the stability sweep.

        With ``per_run``, a table of each law's relative error (%) per held-out run goes
        between them (as ``scaling-fit compare`` prints).
        """
        summary = self.summary.assign(
            mean_pct=100 * self.summary["mean_relative_error"],
            worst_pct=100 * self.summary["worst_relative_error"],
        )[["law", "mean_pct", "worst_pct", "worst_run", "n_fit", "n_held_out", "error"]]
        sweep = self.stability.pivot(index="dropped", columns="law", values="predicted")
        target = self.target.get("run") or "given inputs"
        lines = [
            f"backtest: held out {self.holdout}; relative error |pred - loss|/loss in %",
            summary.to_string(index=False, float_format=lambda v: f"{v:.4f}"),
            "",
            *(self._per_run_lines() if per_run else []),
            f"stability: predicted loss at {target} (actual {self.target.get('loss')}) "
            f"after dropping the k largest {self.axis} scales",
            sweep.to_string(float_format=lambda v: f"{v:.5f}"),
        ]
        return "\n".join(lines)

    def _per_run_lines(self) -> list[str]:
        table = self.errors.pivot(index="run", columns="law", values="relative_error")
        table = (100 * table)[list(self.summary["law"])]
        return [
            "relative error per held-out run, in %",
            table.to_string(float_format=lambda v: f"{v:.4f}"),
            "",
        ]

    def __repr__(self) -> str:
        return self.report()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (NaN as None)."""
        return {
            "format": JSON_FORMAT,
            "holdout": self.holdout,
            "axis": self.axis,
            "target": json_safe(self.target),
            "summary": json_records(self.summary),
            "errors": json_records(self.errors),
            "stability": json_records(self.stability),
            "params": {k: None if f is None else f.params for k, f in self.fits.items()},
            "warnings": {k: list(v) for k, v in self.warnings.items()},
        }

    def plot(self, ax: Any = None, *, kind: str = "stability") -> Any:
        """Draw the stability sweep (``kind="stability"``) or the errors (``"errors"``).

        Uses matplotlib's object API only; without ``ax`` a new figure is made (no pyplot
        state). Returns the figure drawn on (:func:`scaling_fit.plotting.plot_backtest`).
        """
        from ..plotting.backtest import plot_backtest

        return plot_backtest(self, ax, kind=kind)


def backtest(
    runs: Any,
    laws: Sequence[str | Law] = ("chinchilla",),
    holdout: Any = "largest-compute",
    *,
    fit_options: Mapping[str, Any] | None = None,
    target: str | Mapping[str, float] | None = None,
    axis: str | None = None,
    max_dropped: int = MAX_DROPPED,
    n_jobs: int = 1,
    progress: bool | str = "auto",
) -> BacktestResult:
    """Fit each law on the smaller runs, predict the held-out ones, sweep the fit window.

    Parameters
    ----------
    runs
        Tidy runs table or anything :func:`scaling_fit.load_runs` accepts; each run's final
        point is used. ``compute`` defaults to 6·N·D.
    laws
        Law names or :class:`Law` objects (distinct names).
    holdout
        ``"largest-compute"``, ``"largest-n"``, ``"largest-d"`` (the runs at the largest
        distinct value), a threshold ``"n>=1e9"`` / ``"d>2e10"`` / ``"compute>=1e21"``, a
        fraction ``0.2`` or ``"0.2"`` (the top 20 % of runs by compute, rounded up, ties
        held out too) or a boolean mask over the rows of ``runs`` (a run is held out when its
        final row is).
    fit_options
        Keyword arguments of :func:`scaling_fit.fit` shared by every law
        (``{"loss": "mse"}``), per law (``{"overtraining": {"loss": "mse_linear"}}``), or
        both (per-law entries override shared ones).
    target
        Where the sweep predicts: a held-out run's name or inputs such as
        ``{"n_params": 7e9, "tokens": 1.4e11}`` (add ``"loss"`` to get errors). Default: the
        held-out run largest along ``axis`` (ties: largest compute).
    axis
        ``"n_params"``, ``"tokens"`` or ``"compute"``: the scales the sweep drops. Default:
        the holdout's axis (compute for fractions and masks).
    max_dropped
        Most scales the sweep drops; it always keeps at least 2 scales.
    n_jobs
        Parallel worker processes for the fits (joblib; -1 = all cores). The result does not
        depend on it.
    progress
        ``"auto"`` (default): a progress bar of the fits on a terminal, for backtests lasting
        more than 2 s; ``True``: always; ``False``: never (:mod:`scaling_fit.progress`).

    Returns
    -------
    BacktestResult
    """
    check_progress(progress)
    laws = [get_law(law) for law in laws]
    names = [law.name for law in laws]
    if not laws or len(set(names)) != len(names):
        raise DataError(
            f"{argument('laws')} needs one or more distinct laws; found {names}: give each once"
        )
    options = _options_per_law(names, fit_options)
    table, rows = _run_table(runs, laws)
    split = choose_holdout(table, holdout, axis, rows=rows)
    train, held = table.loc[~split.held_out], table.loc[split.held_out]
    goal = _target(held, target, split.axis, laws)
    windows = _sweep_windows(train, split.axis, max_dropped)
    tasks = [(law, w, options[law.name]) for law in laws for w in windows]
    done = iter(_run_fits(tasks, n_jobs, progress))
    errors, summary, stability, fits, notes = [], [], [], {}, {}
    for law in laws:
        outcomes = [next(done) for _ in windows]  # the main fit, then one per sweep step
        fits[law.name] = outcomes[0][0]
        notes[law.name] = tuple(dict.fromkeys(m for o in outcomes for m in o[2]))
        errors.append(_errors(law, fits[law.name], held))
        summary.append(_summary(law, outcomes[0], len(train), errors[-1]))
        stability += [
            _sweep_row(law, k, w[split.axis].max(), len(w), o, goal)
            for k, (w, o) in enumerate(zip(windows, outcomes, strict=True))
        ]
    return BacktestResult(
        errors=pd.concat(errors, ignore_index=True),
        summary=pd.DataFrame(summary),
        stability=pd.DataFrame(stability),
        fits=fits,
        holdout=split.description,
        axis=split.axis,
        target=goal,
        warnings=notes,
    )


def _run_fits(
    tasks: list[tuple[Law, pd.DataFrame, dict]], n_jobs: int, progress: bool | str
) -> list[tuple]:
    """Outcomes of :func:`_fit_quietly` for every task, in order; a bar per finished fit.

    In parallel, the likely longest fits (most parameters, then most points) start first, so
    that one slow law does not finish alone at the end (longest-processing-time-first).
    """
    order = list(range(len(tasks)))
    if n_jobs != 1:
        order.sort(key=lambda i: (-len(tasks[i][0].parameters), -len(tasks[i][1])))
        done = Parallel(n_jobs=n_jobs, batch_size=1, return_as="generator")(
            delayed(_fit_quietly)(*tasks[i]) for i in order
        )
    else:
        done = (_fit_quietly(*tasks[i]) for i in order)
    outcomes = []
    with progress_bar(len(tasks), "backtest fits", "fit", progress) as bar:
        for outcome in done:
            outcomes.append(outcome)
            bar.update()
    return [outcome for _, outcome in sorted(zip(order, outcomes, strict=True))]


def _run_table(runs: Any, laws: list[Law]) -> tuple[pd.DataFrame, tuple[int, np.ndarray]]:
    """One row per run (its final point), with ``compute`` = 6·N·D when missing.

    Also returns the number of rows of ``runs`` and the row each run's final point came from
    (to read a holdout mask given over the rows of ``runs``).
    """
    table = as_table(runs).reset_index(drop=True)
    for law in laws:
        missing = [c for c in law.inputs if c not in table.columns]
        if missing:
            raise DataError(f"law {law.name!r} needs columns {missing}; found {list(table)}")
    n_rows = len(table)
    table = with_compute(final_point_per_run(table))
    rows = table.index.to_numpy()
    return table.reset_index(drop=True), (n_rows, rows)


def _sweep_windows(train: pd.DataFrame, axis: str, max_dropped: int) -> list[pd.DataFrame]:
    """Training sets after dropping the 0, 1, … largest scales along ``axis``."""
    scales = scale_ids(axis_values(train, axis))
    last = min(int(max_dropped), int(scales.max()) - 1)
    return [train.loc[scales <= scales.max() - k] for k in range(max(last, 0) + 1)]


def _options_per_law(names: list[str], options: Mapping[str, Any] | None) -> dict[str, dict]:
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
    with np.errstate(all="ignore"):
        return result.predict(max_extrapolation=np.inf, **inputs)


def _errors(law: Law, result: FitResult | None, held: pd.DataFrame) -> pd.DataFrame:
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


def _summary(law: Law, outcome: tuple, n_fit: int, errors: pd.DataFrame) -> dict:
    result, error, notes = outcome
    relative = errors["relative_error"].to_numpy(float)
    finite = np.isfinite(relative)
    worst = errors["run"].iloc[int(np.argmax(np.where(finite, relative, -1)))]
    return {
        "law": law.name,
        "mean_relative_error": float(np.mean(relative)) if finite.all() else np.nan,
        "worst_relative_error": float(np.max(relative)) if finite.all() else np.nan,
        "worst_run": worst if finite.any() else "",
        "n_fit": n_fit,
        "n_held_out": len(errors),
        "objective": np.nan if result is None else result.objective,
        "n_warnings": len(notes),
        "error": error,
    }


def _target(held: pd.DataFrame, target: Any, axis: str, laws: list[Law]) -> dict[str, Any]:
    """Where the sweep predicts: a held-out run (default: largest along ``axis``) or inputs."""
    if target is None:
        target = held.sort_values([axis, "compute"])["run"].iloc[-1]
    if isinstance(target, str):
        if target not in set(held["run"]):
            raise DataError(f"target={target!r} is not a held-out run: {list(held['run'])}")
        row = held.loc[held["run"] == target].iloc[0]
        columns = [c for c in ("n_params", "tokens", "compute", "loss") if c in row]
        return json_safe({"run": target, **row[columns].to_dict()})
    if isinstance(target, Mapping):
        missing = sorted({c for law in laws for c in law.inputs} - set(target))
        if missing:
            raise DataError(f"target={dict(target)} lacks inputs {missing} of the laws")
        return {"run": None, "loss": None, **json_safe(dict(target))}
    raise DataError(f"target={target!r}: expected a held-out run's name or a dict of inputs")


def _sweep_row(law: Law, k: int, largest: float, n_fit: int, outcome: tuple, goal: dict) -> dict:
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
