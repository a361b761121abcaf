"""The report's sections, in page order: summary, data, laws, analyses, provenance."""

from __future__ import annotations

import datetime as _dt
import json
from typing import TYPE_CHECKING, Any

import numpy as np

from .._version import __version__
from ..inputs.columns import FLOPS_PER_PARAM_TOKEN
from . import html as h
from .bands import degenerate, no_band, shown

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
    """Embed ``fig`` (kept as ``report.figures[name]``), its text made readable as shown."""
    from ..plotting.figure import figure_bytes, readable

    report.figures[name] = readable(fig)
    report.images[name] = figure_bytes(fig, "png")
    return h.image(report.images[name], alt, caption)


# ----------------------------------------------------------------------------- summary
def _summary(report: Report) -> str:
    items = [_law_card(report)] if report.best_law is not None else []
    head = report.headline
    if "loss" in head:
        bounds = (head["loss_lower"], head["loss_upper"])
        given = report.options.get("target_compute") is not None
        where = "the given budget" if given else "10× the largest run's compute"
        band = f"95% interval {h.interval(bounds)} nats/token"
        if bounds[0] != bounds[0]:
            band = _no_interval(report.fits[report.best_law])
        items.append(
            h.card(
                f"Predicted loss at {where}",
                f"{head['loss']:.4f}",
                f"{band} at C = {head['compute']:.3g} FLOPs, compute-optimally allocated",
            )
        )
        n_bounds = (head["n_params_lower"], head["n_params_upper"])
        items.append(
            h.card(
                "Compute-optimal allocation",
                f"N = {h.count(head['n_params'])}",
                f"D = {h.count(head['tokens'])} tokens "
                f"({head['tokens'] / head['n_params']:.1f} tokens/param); N 95% "
                f"{h.count_interval(n_bounds)}",
            )
        )
    if "final_loss" in head:
        gain = head["baseline_loss"] - head["final_loss"]
        why = degenerate(report.fits[report.best_law])
        caveat = f"; the fit is degenerate ({why}): the gain may be far off" if why else ""
        items.append(
            h.card(
                "Better schedule: predicted final loss",
                f"{head['final_loss']:.4f}",
                f"baseline {head['baseline_loss']:.4f} ({gain:+.4f} better){caveat}",
            )
        )
    if report.ranked:
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


def _law_card(report: Report) -> str:
    """Which law the summary speaks for, called best only when a backtest ranked it."""
    if report.ranked:
        return h.card("Best law", report.best_law, "lowest backtest error")
    fitted = [name for name, result in report.fits.items() if result is not None]
    if len(fitted) == 1:
        return h.card("Law", report.best_law, "the only law fitted (not ranked)")
    curves = all(report.fits[name].law.fits_curves for name in fitted)
    why = (
        "curve laws are not backtested"
        if curves
        else "no backtest ran (give --holdout, or two or more final-loss laws)"
    )
    return h.card("Law shown", report.best_law, f"the first law that fitted; not ranked: {why}")


def _no_interval(result: FitResult) -> str:
    """Why the headline has no interval."""
    why = no_band(result)
    return f"no interval: {why}" if why else "no interval (no bootstrap: --bootstrap 0)"


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
            show = h.count if column in ("n_params", "tokens") else h.fmt
            rows.append([f"{column} range", f"{show(values.min())} – {show(values.max())}"])
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
    why = no_band(result)
    with np.errstate(all="ignore"):  # resamples that ran off to inf: their spread is inf
        errors, intervals = result.stderr, result.ci95
    if why:  # the same bootstrap the figures leave out (no_band)
        errors, intervals = dict.fromkeys(result.params), dict.fromkeys(result.params)
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
        ["converged", _converged(result)],
        ["bootstrap resamples", result.options.get("bootstrap", 0)],
    ]
    if report.backtest is not None and name in set(report.backtest.summary["law"]):
        row = report.backtest.summary.set_index("law").loc[name]
        quality.append(["backtest mean error", f"{100 * row['mean_relative_error']:.3f} %"])
    ranked_best = report.ranked and name == report.best_law
    tag = '<span class="tag">best (backtest)</span>' if ranked_best else ""
    parts = [
        f"<p><b>{h.esc(result.law.description)}</b>{tag}<br>"
        f'<span class="muted">{h.esc(result.law.reference)}</span></p>',
        h.table(["parameter", "value", "s.e.", "95% CI", "meaning"], rows),
        h.paragraph(f"No bootstrap intervals: {why}.") if why else "",
        h.table(["fit quality", ""], quality),
        h.warning_list(list(result.warnings)) if result.warnings else "",
        h.figures(_law_figures(report, name, result)),
    ]
    return "".join(parts)


def _converged(result: FitResult) -> str:
    """The optimizer's verdict, never a bare 'yes' beside a degenerate fit."""
    if not result.converged:
        return "NO"
    why = degenerate(result)
    return f"optimizer stopped, but the fit is degenerate ({why})" if why else "yes"


def _law_figures(report: Report, name: str, result: FitResult) -> list[str]:
    why = no_band(result)
    caption = f"No bootstrap band: {why}." if why else ""
    result = shown(result)
    if result.law.fits_curves:
        fig = _clip_to_data(result.plot("curves"), result)
        return [_figure(report, f"{name}-curves", fig, "loss curves", caption)]
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
                " ".join(["Towards the headline's compute-optimal run.", caption]).strip(),
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
                " ".join(["N_opt(C) and D_opt(C).", caption]).strip(),
            )
        )
    return out


def _clip_to_data(fig: Any, result: FitResult) -> Any:
    """Keep the loss axis of a curve figure to the observed losses (10 % margins), so that a
    wide band or a runaway prediction cannot squash the data into a line."""
    loss = result.data["loss"].to_numpy(float)
    if len(loss) and fig.axes:
        span = max(float(loss.max() - loss.min()), 1e-3)
        fig.axes[0].set_ylim(loss.min() - 0.1 * span, loss.max() + 0.1 * span)
    return fig


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
        [
            "baseline",
            choice.baseline.spec or "as logged (see Notes)",
            f"{choice.baseline_loss:.4f}",
        ],
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
