"""The report's sections, in page order: summary, data, laws, analyses, provenance."""

from __future__ import annotations

import datetime as _dt
import json
from typing import TYPE_CHECKING, Any

import numpy as np

from .._version import __version__
from ..inputs.columns import FLOPS_PER_PARAM_TOKEN
from . import html as h

if TYPE_CHECKING:
    from ..results.fit_result import FitResult
    from .build import Report


def render(report: Report) -> str:
    """The whole HTML page of ``report``; fills ``report.figures`` on the way."""
    sections = [("summary", "Summary", _summary(report)), ("data", "Data", _data(report))]
    for name, result in report.fits.items():
        if result is not None:
            sections.append((f"law-{name}", f"Law: {name}", _law(report, name, result)))
    if report.backtest is not None:
        sections.append(("backtest", "Backtest: which law extrapolates", _backtest(report)))
    if report.isoflop is not None:
        sections.append(("isoflop", "isoFLOP analysis", _isoflop(report)))
    if report.schedule_choice is not None:
        sections.append(("schedule", "A better schedule", _schedule(report)))
    sections.append(("provenance", "Provenance", _provenance(report)))
    laws = ", ".join(report.fits)
    subtitle = f"{len(report.table)} points · laws: {laws} · scaling_fit {__version__}"
    return h.page("Scaling-law fit report", subtitle, sections)


def _figure(report: Report, name: str, fig: Any, alt: str, caption: str = "") -> str:
    """Embed ``fig`` (kept as ``report.figures[name]``); figures of 2+ panels span the row."""
    from ..plotting.figure import figure_bytes

    report.figures[name] = fig
    report.images[name] = figure_bytes(fig, "png")
    wide = len([a for a in fig.axes if a.get_label() != "<colorbar>"]) > 1
    return h.image(report.images[name], alt, caption, wide=wide)


# ----------------------------------------------------------------------------- summary
def _summary(report: Report) -> str:
    items = []
    if report.best_law is not None:
        how = "lowest backtest error" if report.backtest is not None else "only law fitted"
        if report.backtest is None and len(report.fits) > 1:
            how = "first law that fitted (no backtest)"
        items.append(h.card("Best law", report.best_law, how))
    head = report.headline
    if "loss" in head:
        bounds = (head["loss_lower"], head["loss_upper"])
        given = report.options.get("target_compute") is not None
        where = "the given budget" if given else "10× the largest run's compute"
        items.append(
            h.card(
                f"Predicted loss at {where}",
                f"{head['loss']:.4f}",
                f"95% interval {h.interval(bounds)} nats/token at C = {head['compute']:.3g} "
                "FLOPs, compute-optimally allocated",
            )
        )
        items.append(
            h.card(
                "Compute-optimal allocation",
                f"N = {head['n_params']:.3g}",
                f"D = {head['tokens']:.3g} tokens "
                f"({head['tokens'] / head['n_params']:.1f} tokens/param); N 95% "
                f"{h.interval((head['n_params_lower'], head['n_params_upper']), 3)}",
            )
        )
    if "final_loss" in head:
        gain = head["baseline_loss"] - head["final_loss"]
        items.append(
            h.card(
                "Better schedule: predicted final loss",
                f"{head['final_loss']:.4f}",
                f"baseline {head['baseline_loss']:.4f} ({gain:+.4f} better)",
            )
        )
    if report.backtest is not None and report.best_law is not None:
        row = report.backtest.summary.set_index("law").loc[report.best_law]
        items.append(
            h.card(
                "Backtest error of the best law",
                f"{100 * row['mean_relative_error']:.2f} %",
                f"mean |L̂−L|/L on {int(row['n_held_out'])} held-out runs; worst "
                f"{100 * row['worst_relative_error']:.2f} %",
            )
        )
    items.append(h.card("Warnings", str(len(report.warnings)), "listed below"))
    parts = [h.cards(items)]
    parts.append("<h3>Warnings</h3>" + h.warning_list(report.warnings))
    if report.notes:
        parts.append("<h3>Notes</h3>" + "".join(h.paragraph(n) for n in report.notes))
    return "".join(parts)


# ----------------------------------------------------------------------------- data
def _data(report: Report) -> str:
    from ..plotting.data import plot_runs

    table = report.table
    rows = [["points", len(table)]]
    if "run" in table:
        rows.append(["runs", table["run"].nunique()])
    for column in ("n_params", "tokens", "step", "loss"):
        if column in table:
            values = table[column]
            rows.append([f"{column} range", f"{h.fmt(values.min())} – {h.fmt(values.max())}"])
    if {"n_params", "tokens"} <= set(table.columns):
        compute = FLOPS_PER_PARAM_TOKEN * table["n_params"] * table["tokens"]
        rows.append(["compute C = 6ND (FLOPs)", f"{compute.min():.3g} – {compute.max():.3g}"])
    rows.append(["columns", ", ".join(map(str, table.columns))])
    parts = [h.table(["", "value"], rows)]
    if {"n_params", "tokens", "loss"} <= set(table.columns) and "step" not in table:
        parts.append(h.figures([_figure(report, "data", plot_runs(table), "runs in (N, D)")]))
    return "".join(parts)


# ----------------------------------------------------------------------------- laws
def _law(report: Report, name: str, result: FitResult) -> str:
    errors, intervals = result.stderr, result.ci95
    descriptions = {p.name: p.description for p in result.law.parameters}
    rows = [
        [p, h.fmt(v, 6), h.fmt(errors[p]), h.interval(intervals[p]), descriptions.get(p, "")]
        for p, v in result.params.items()
    ]
    rms = float(np.sqrt(np.mean(np.square(result.residuals))))
    quality = [
        ["points fitted", result.n_points],
        ["objective", h.fmt(result.objective, 6)],
        ["RMS residual", h.fmt(rms, 3)],
        ["converged", "yes" if result.converged else "NO"],
        ["bootstrap resamples", result.options.get("bootstrap", 0)],
    ]
    if report.backtest is not None and name in set(report.backtest.summary["law"]):
        row = report.backtest.summary.set_index("law").loc[name]
        quality.append(["backtest mean error", f"{100 * row['mean_relative_error']:.3f} %"])
    tag = '<span class="tag">best</span>' if name == report.best_law else ""
    parts = [
        f"<p><b>{h.esc(result.law.description)}</b>{tag}<br>"
        f'<span class="muted">{h.esc(result.law.reference)}</span></p>',
        h.table(["parameter", "value", "s.e.", "95% CI", "meaning"], rows),
        h.table(["fit quality", ""], quality),
        h.warning_list(list(result.warnings)) if result.warnings else "",
        h.figures(_law_figures(report, name, result)),
    ]
    return "".join(parts)


def _law_figures(report: Report, name: str, result: FitResult) -> list[str]:
    if result.law.fits_curves:
        return [_figure(report, f"{name}-curves", result.plot("curves"), "loss curves")]
    out = [
        _figure(report, f"{name}-compute", result.plot("compute"), "loss against compute"),
        _figure(report, f"{name}-tokens", result.plot("tokens"), "loss against tokens"),
        _figure(report, f"{name}-residuals", result.plot("residuals"), "residuals by size"),
    ]
    head = report.headline
    if "n_params" in head:
        target = {"n_params": head["n_params"], "tokens": head["tokens"]}
        out.append(
            _figure(
                report,
                f"{name}-extrapolation",
                result.plot("extrapolation", **target),
                "extrapolation to the target",
                "towards the headline's compute-optimal run",
            )
        )
    if "compute" in head:
        grid = np.geomspace(_min_compute(result), head["compute"] * 10, 60)
        out.append(
            _figure(
                report,
                f"{name}-frontier",
                result.plot("frontier", compute=grid),
                "compute-optimal frontier",
                "N_opt(C) and D_opt(C)",
            )
        )
    return out


def _min_compute(result: FitResult) -> float:
    data = result.data
    return float((FLOPS_PER_PARAM_TOKEN * data["n_params"] * data["tokens"]).min())


# ----------------------------------------------------------------------------- analyses
def _backtest(report: Report) -> str:
    result = report.backtest
    summary = result.summary.reset_index(drop=True)
    best = summary.index[summary["law"] == report.best_law]
    rows = [
        [
            r.law,
            f"{100 * r.mean_relative_error:.3f}",
            f"{100 * r.worst_relative_error:.3f}",
            r.worst_run,
            r.n_fit,
            r.n_held_out,
            r.error or "",
        ]
        for r in summary.itertuples()
    ]
    header = ["law", "mean error %", "worst error %", "worst run", "fitted", "held out", "error"]
    figs = [
        _figure(report, "backtest-stability", result.plot(kind="stability"), "stability sweep"),
        _figure(report, "backtest-errors", result.plot(kind="errors"), "held-out errors"),
    ]
    return (
        h.paragraph(
            f"Each law is fitted without the runs held out ({result.holdout}) and predicts them; "
            "the error is |L̂ − L| / L."
        )
        + h.table(header, rows, highlight=int(best[0]) if len(best) else None)
        + h.figures(figs)
    )


def _isoflop(report: Report) -> str:
    result = report.isoflop
    ci = result.ci95
    rows = [[p, h.fmt(v), h.interval(ci[p])] for p, v in result.params.items()]
    figs = [
        _figure(report, "isoflop-profiles", result.plot(kind="profiles"), "isoFLOP profiles"),
        _figure(report, "isoflop-frontier", result.plot(kind="frontier"), "N*(C)"),
    ]
    note = "N* = k·C^a and D* = k_D·C^b from the minima of the isoFLOP profiles."
    return h.paragraph(note) + h.table(["parameter", "value", "95% CI"], rows) + h.figures(figs)


def _schedule(report: Report) -> str:
    choice = report.schedule_choice
    rows = [
        ["chosen", choice.schedule.spec, f"{choice.final_loss:.4f}"],
        ["baseline", choice.baseline.spec, f"{choice.baseline_loss:.4f}"],
    ]
    fig = _figure(report, "schedule-choice", choice.plot(), "chosen schedule vs baseline")
    return h.table(["", "schedule", "predicted final loss"], rows) + h.figures([fig])


# ----------------------------------------------------------------------------- provenance
def _provenance(report: Report) -> str:
    rows = [["scaling_fit version", __version__]]
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    rows.append(["written", now])
    inputs = h.table(["input file", "SHA-256"], list(report.inputs.items()))
    options = json.dumps(report.options, indent=2, default=str)
    return (
        h.table(["", ""], rows)
        + "<h3>Inputs</h3>"
        + (inputs if report.inputs else h.paragraph("Runs given as a DataFrame (no file)."))
        + "<h3>Options</h3>"
        + h.code_block(options)
        + "<h3>Reproduce</h3>"
        + h.code_block(report.command)
        + (
            h.paragraph("SCHEDULES.json: the options' schedule mapping, as JSON.")
            if "SCHEDULES.json" in report.command
            else ""
        )
    )
