"""write_report(): fit the laws, run the analyses that apply, and write one self-contained HTML.

The analyses: each law fitted to all the runs (with a bootstrap for intervals); with several
final-loss laws or a ``holdout``, a backtest picks the best law by its mean relative error on
held-out runs; the compute-optimal allocation at a target budget (the headline); an isoFLOP
analysis when the runs form isoFLOP profiles; for loss-curve laws the observed, fitted and
predicted curves and a better schedule (:func:`scaling_fit.best_schedule`).
"""

from __future__ import annotations

import hashlib
import shlex
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..analysis.backtest import BacktestResult, backtest
from ..analysis.isoflop import isoflop
from ..analysis.schedule_search import best_schedule
from ..arguments import checked
from ..errors import DataError, FitError, ScalingFitWarning
from ..fitting.fit import fit
from ..inputs.columns import FLOPS_PER_PARAM_TOKEN
from ..inputs.load import load_runs
from ..inputs.points import top_loss_rows
from ..inputs.validate import check_bootstrap
from ..laws import Law, get_law
from ..results.fit_result import FitResult
from ..results.isoflop_result import IsoflopResult
from ..results.report_summary import ReportSummaryResult
from ..results.schedule_choice import ScheduleChoiceResult
from .bands import shown
from .outputs import check_holdout, check_outputs, write_all

# The headline budget, when none is given: this many times the largest fitted run's compute.
TARGET_FACTOR = 10.0
# An isoFLOP section needs at least this many budgets with an interior minimum.
MIN_ISOFLOP_BUDGETS = 3
# ... each sampled at this many model sizes or more (a parabola needs three).
ISOFLOP_SIZES = 3


@dataclass
class Report:
    """What :func:`write_report` computed and wrote.

    Attributes
    ----------
    path
        The HTML file written.
    fits
        Each law's fit to all the runs (None when it failed; the reason is in ``notes``).
    best_law
        The law the summary speaks for: lowest backtest mean relative error when a backtest
        ran, else the first law that fitted (``ranked`` says which).
    ranked
        Whether a backtest ranked the laws (only then is ``best_law`` called the best).
    headline
        The summary's numbers: for final-loss laws ``compute``, ``n_params``, ``tokens``,
        ``loss`` and the bootstrap bounds ``loss_lower``, ``loss_upper``, ``n_params_lower``,
        ``n_params_upper``, ``tokens_lower``, ``tokens_upper`` (NaN without a bootstrap); for
        curve laws ``final_loss`` and ``baseline_loss`` of the better schedule.
    backtest, isoflop, schedule_choice
        The analyses that ran (None otherwise).
    warnings
        Every warning raised while building, prefixed by where it came from.
    notes
        Analyses that did not apply or failed, and why.
    figures, images
        Figure name → the matplotlib figure, and → its PNG as embedded, in page order.
    command
        The command line that reproduces the report.
    inputs
        Input file → SHA-256 of its bytes.
    """

    path: Path
    fits: dict[str, FitResult | None]
    best_law: str | None
    headline: dict[str, float]
    ranked: bool = False
    backtest: BacktestResult | None = None
    isoflop: IsoflopResult | None = None
    schedule_choice: ScheduleChoiceResult | None = None
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    images: dict[str, bytes] = field(default_factory=dict)
    command: str = ""
    inputs: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    table: pd.DataFrame | None = None

    def summary(
        self, warnings: Sequence[str] = (), figures_dir: str | Path | None = None
    ) -> ReportSummaryResult:
        """What was written, in a few lines (``scaling-fit report`` prints it).

        ``warnings`` are those of the run besides the report's own; ``figures_dir`` the
        folder the figures went to (None: not written).
        """
        return ReportSummaryResult(
            path=str(self.path),
            bytes=Path(self.path).stat().st_size,
            best_law=self.best_law,
            laws={law: fit is not None for law, fit in self.fits.items()},
            headline=dict(self.headline),
            figures=sorted(self.figures),
            notes=list(self.notes),
            warnings=list(dict.fromkeys([*warnings, *self.warnings])),
            ranked=self.ranked,
            figures_dir=None if figures_dir is None else str(figures_dir),
        )


@checked
def write_report(
    runs: Any,
    laws: str | Sequence[str | Law] = "chinchilla",
    path: str | Path = "report.html",
    *,
    holdout: Any = None,
    schedule: Any = None,
    bootstrap: int = 100,
    seed: int = 0,
    target_compute: float | None = None,
    drop_top_loss: int = 0,
    columns: Mapping[str, str] | None = None,
    where: str | None = None,
    nan_policy: str = "raise",
    warmup: int | Mapping[str, int] | None = None,
    figures: str | Path | None = None,
    overwrite: bool = False,
    command: str | None = None,
) -> Report:
    """Fit ``laws`` to ``runs``, run the analyses that apply, write one self-contained HTML.

    Parameters
    ----------
    runs
        CSV path(s), glob(s) or a tidy DataFrame (:func:`scaling_fit.load_runs`).
    laws
        One law name or several; several final-loss laws are backtested to pick the best.
    path
        The HTML file to write (refused if it exists, unless ``overwrite``).
    holdout
        Runs the backtest holds out (:func:`scaling_fit.backtest`); default
        ``"largest-compute"`` when several final-loss laws are given, no backtest otherwise.
    schedule
        LR schedule(s) of loss-curve runs: a spec for all runs or a mapping run → spec.
    bootstrap, seed
        Bootstrap resamples of every fit (the intervals) and its seed.
    target_compute
        Budget (FLOPs) of the headline prediction; default 10× the largest run's C = 6ND.
    drop_top_loss
        Leave out the K highest-loss fitted points from every fit and analysis, as
        ``scaling-fit fit --drop-top-loss`` does (on loss curves, fitted by a final-point law,
        the runs ending highest; :func:`scaling_fit.inputs.points.top_loss_rows`; Epoch AI
        drop 5 of the Hoffmann et al. runs).
    columns, where, nan_policy
        Column mapping, row query and empty-cell policy of :func:`scaling_fit.load_runs`.
    warmup
        Loss-curve laws whose LR comes from a sparse ``lr`` column: the runs' warm-up steps
        (as ``warmup=`` of :func:`scaling_fit.fit`).
    figures
        Also write every figure into this folder as ``NAME.png`` and ``NAME.svg``.
    command
        The command recorded as reproducing the report; default the equivalent
        ``scaling-fit report`` command.

    Returns
    -------
    Report
        What was computed; ``report.path`` is the file written.

    Raises
    ------
    FileExistsError, DataError
        ``path`` exists (without ``overwrite``), or ``path`` or ``figures`` cannot be
        written: checked before any work.
    DataError, FitError
        No law could be fitted (DataError when the data or options are to blame); nothing
        is written.

    Nothing is written until everything is computed: a run that fails leaves no file.
    """
    from .sections import render

    path = Path(path)
    check_outputs(path, overwrite, figures)  # before any work (the output contract)
    check_bootstrap(bootstrap)  # 0 or at least 10 resamples (the rest: @checked)
    names = [laws] if isinstance(laws, (str, Law)) else list(laws)
    law_list = [get_law(law) for law in names]
    table = load_runs(runs, columns=columns, where=where, nan_policy=nan_policy)
    sources = table.attrs.get("sources", [])
    if drop_top_loss:  # the fit's meaning: K fitted points (run ends of point laws' curves)
        final = not all(law.fits_curves for law in law_list)
        dropped, _ = top_loss_rows(table, drop_top_loss, final=final)
        table = table.loc[~dropped].reset_index(drop=True)
    check_holdout(table, law_list, holdout)
    report = Report(path=path, fits={}, best_law=None, headline={}, table=table)
    report.options = {
        "laws": [law.name for law in law_list],
        "holdout": holdout,
        "schedule": schedule,
        "bootstrap": bootstrap,
        "seed": seed,
        "target_compute": target_compute,
        "drop_top_loss": drop_top_loss,
        "columns": dict(columns or {}),
        "where": where,
        "nan_policy": nan_policy,
        "warmup": warmup,
    }
    if not isinstance(runs, pd.DataFrame):  # a DataFrame may be any edit of its files
        report.inputs = _hashes(sources)
    report.command = command or _command(report.inputs, report.options, path)
    if drop_top_loss:
        report.notes.append(f"the {drop_top_loss} highest-loss points are left out everywhere")
    _fit_all(report, table, law_list, schedule, warmup, bootstrap, seed)
    if all(result is None for result in report.fits.values()):
        raise FitError(
            "no law could be fitted (" + "; ".join(report.notes) + "); no report written"
        )
    _backtest(report, table, law_list, holdout)
    report.best_law, report.ranked = _best_law(report)
    _headline(report, target_compute)
    _isoflop(report, table, seed)
    _schedule_choice(report, warmup)
    text = render(report)
    write_all(report, text, overwrite, figures)
    return report


@contextmanager
def _collect(report: Report, where: str) -> Iterator[None]:
    """Record the ScalingFitWarnings raised in the block as ``where: message``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScalingFitWarning)
        try:
            yield
        finally:
            for w in caught:
                message = f"{where}: {w.message}"
                if message not in report.warnings:
                    report.warnings.append(message)


def _fit_all(
    report: Report,
    table: pd.DataFrame,
    laws: list[Law],
    schedule: Any,
    warmup: Any,
    bootstrap: int,
    seed: int,
) -> None:
    """Fit every law; a law that fails is noted and the others go on.  When none fits,
    raise: DataError when every failure was the data's or the options' fault, else
    FitError (either way before anything is written)."""
    failures = []
    for law in laws:
        options: dict[str, Any] = {"bootstrap": bootstrap, "seed": seed}
        if law.fits_curves:
            options |= {"schedules": schedule, "warmup": warmup}
        try:
            with _collect(report, f"fit {law.name}"):
                report.fits[law.name] = fit(table, law, **options)
        except (DataError, FitError) as exc:
            report.fits[law.name] = None
            report.notes.append(f"{law.name}: the fit failed: {exc}")
            failures.append((law.name, exc))
    if failures and len(failures) == len(laws):
        data = all(isinstance(exc, DataError) for _, exc in failures)
        why = "; ".join(f"{name}: {exc}" for name, exc in failures)
        raise (DataError if data else FitError)(
            f"no law could be fitted ({why}); no report written"
        )


def _point_laws(report: Report, laws: list[Law]) -> list[Law]:
    return [law for law in laws if not law.fits_curves and report.fits.get(law.name) is not None]


def _backtest(report: Report, table: pd.DataFrame, laws: list[Law], holdout: Any) -> None:
    point = _point_laws(report, laws)
    if not point or (holdout is None and len(point) < 2):
        return
    try:
        with _collect(report, "backtest"):
            report.backtest = backtest(table, point, holdout=holdout or "largest-compute")
    except (DataError, FitError) as exc:
        report.notes.append(f"backtest: not run: {exc}")


def _best_law(report: Report) -> tuple[str | None, bool]:
    """The law the summary speaks for, and whether a backtest ranked it first."""
    if report.backtest is not None:
        summary = report.backtest.summary
        ok = summary.loc[np.isfinite(summary["mean_relative_error"])]
        if len(ok):
            return str(ok.loc[ok["mean_relative_error"].idxmin(), "law"]), True
    first = next((name for name, result in report.fits.items() if result is not None), None)
    return first, False


def _headline(report: Report, target_compute: float | None) -> None:
    best = report.fits.get(report.best_law or "")
    if best is None or best.law.fits_curves:
        return
    best = shown(best)  # no interval where the bootstrap means nothing (no_band)
    fitted = FLOPS_PER_PARAM_TOKEN * best.data["n_params"] * best.data["tokens"]
    budget = float(target_compute or TARGET_FACTOR * fitted.max())
    with _collect(report, f"headline ({best.law.name})"):
        optimum = best.compute_optimal(budget).iloc[0]
        n, d = float(optimum["n_params"]), float(optimum["tokens"])
        lower = upper = np.nan
        if best.samples is not None:
            band = best.predict_interval(n_params=n, tokens=d).iloc[0]
            lower, upper = float(band["lower"]), float(band["upper"])
    report.headline = {
        "compute": budget,
        "n_params": n,
        "tokens": d,
        "loss": float(optimum["loss"]),
        "loss_lower": lower,
        "loss_upper": upper,
        **{k: float(optimum[k]) for k in ("n_params_lower", "n_params_upper")},
        **{k: float(optimum[k]) for k in ("tokens_lower", "tokens_upper")},
    }


def _isoflop(report: Report, table: pd.DataFrame, seed: int) -> None:
    """The isoFLOP section, only for runs shaped as isoFLOP profiles (else nothing is said)."""
    if not _isoflop_shaped(table):
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ScalingFitWarning)  # judged below, not reported
            result = isoflop(table, bootstrap=200, seed=seed)
    except (DataError, FitError, ValueError):
        report.notes.append(
            "isoFLOP: the runs form isoFLOP profiles, but their minima could not be located "
            "(run `scaling-fit isoflop` on them for the details)"
        )
        return
    used = int(result.budgets["used"].sum())
    if used < MIN_ISOFLOP_BUDGETS:
        report.notes.append(
            f"isoFLOP: not shown: only {used} budget(s) have a minimum inside their sampled "
            f"sizes; {MIN_ISOFLOP_BUDGETS} are needed"
        )
        return
    report.isoflop = result
    report.warnings.extend(f"isoFLOP: {w}" for w in result.warnings)


def _isoflop_shaped(table: pd.DataFrame) -> bool:
    """Whether final-loss runs share budgets: at least :data:`MIN_ISOFLOP_BUDGETS` compute
    budgets (C = 6ND to 6 digits) each sampled at 3 or more model sizes."""
    if not {"n_params", "tokens", "loss"} <= set(table.columns) or "step" in table.columns:
        return False
    compute = FLOPS_PER_PARAM_TOKEN * table["n_params"] * table["tokens"]
    budgets = pd.DataFrame({"budget": compute.map(lambda c: f"{c:.6g}"), "n": table["n_params"]})
    sizes = budgets.groupby("budget")["n"].nunique()
    return int((sizes >= ISOFLOP_SIZES).sum()) >= MIN_ISOFLOP_BUDGETS


def _schedule_choice(report: Report, warmup: Any) -> None:
    best = report.fits.get(report.best_law or "")
    if best is None or not best.law.fits_curves:
        return
    try:
        options, baseline = _search_around(best, report.table, warmup)
        with _collect(report, "better schedule"):
            report.schedule_choice = best_schedule(best, family="wsd", **options)
    except (DataError, FitError, ValueError) as exc:
        report.notes.append(f"better schedule: not searched: {exc}")
        return
    if baseline:
        report.notes.append(f"better schedule: searched around {baseline}")
    choice = report.schedule_choice
    report.headline = {"final_loss": choice.final_loss, "baseline_loss": choice.baseline_loss}


def _search_around(best: FitResult, table: pd.DataFrame, warmup: Any) -> tuple[dict[str, Any], str]:
    """``best_schedule`` arguments: the longest training schedule's length, and for an LR read
    from the log (no spec) its peak and warm-up, with that logged schedule as the baseline
    (described in the second item; empty for specs)."""
    from ..inputs.lr_column import lr_source, rising_prefix
    from ..schedules.spec import as_schedule

    specs = best.options.get("schedules", {})
    try:
        return {"total_steps": max(as_schedule(spec).total for spec in specs.values())}, ""
    except DataError:  # "custom (N steps)": an LR taken from the log, no spec to read
        pass
    logged, _, _ = lr_source(table, None, warmup)
    if not logged:
        raise DataError("the runs' LR schedules are unknown (no spec and no lr column)")
    run = max(logged, key=lambda name: len(logged[name]))
    lr = np.asarray(logged[run], dtype=float)
    options = {"total_steps": len(lr), "peak": float(np.max(lr)), "warmup": rising_prefix(lr)}
    described = (
        f"the LR of run {run!r} as read from the log ({len(lr)} steps, peak {options['peak']:.3g}, "
        f"warm-up {options['warmup']} steps): the baseline below is that schedule, and the "
        "candidates share its length, peak and warm-up"
    )
    return options | {"baseline": lr}, described


def _hashes(sources: Sequence[str]) -> dict[str, str]:
    hashes = {}
    for source in sources:
        file = Path(source)
        if file.is_file():
            hashes[str(source)] = hashlib.sha256(file.read_bytes()).hexdigest()
    return hashes


def _command(inputs: Mapping[str, str], options: Mapping[str, Any], path: Path) -> str:
    sources = list(inputs)
    if not sources:
        return "(runs given as a DataFrame: no command line reproduces this report)"
    words = ["scaling-fit", "report", *sources]
    for law in options["laws"]:
        words += ["--law", law]
    if options["holdout"] is not None:
        words += ["--holdout", str(options["holdout"])]
    if isinstance(options["schedule"], str):
        words += ["--schedule", options["schedule"]]
    elif isinstance(options["schedule"], Mapping):  # the mapping is in the options shown
        words += ["--schedules", "SCHEDULES.json"]
    if isinstance(options["warmup"], int):
        words += ["--warmup", str(options["warmup"])]
    for canonical, column in options["columns"].items():
        words += ["--col", f"{canonical}={column}"]
    if options["where"] is not None:
        words += ["--where", options["where"]]
    if options["nan_policy"] != "raise":
        words += ["--nan-policy", options["nan_policy"]]
    words += ["--bootstrap", str(options["bootstrap"]), "--seed", str(options["seed"])]
    if options["drop_top_loss"]:
        words += ["--drop-top-loss", str(options["drop_top_loss"])]
    if options["target_compute"] is not None:
        words += ["--target-compute", f"{options['target_compute']:g}"]
    return shlex.join([*words, "-o", str(path)])
