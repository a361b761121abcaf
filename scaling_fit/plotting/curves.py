"""Figures of loss curves and LR schedules: observed vs fitted vs predicted, the LR beneath.

Each function returns the :class:`~scaling_fit.plotting.Figure` it drew on.  Steps and the
LR are linear (a schedule's shape is read linearly); loss is in nats/token.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ScalingFitWarning
from ..schedules.builders import Schedule
from ..schedules.spec import as_schedule
from .figure import new_figure, target_axes
from .style import LOSS, LR, STEP, annotate_figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ..results.fit_result import FitResult
    from ..results.schedule_choice import ScheduleChoiceResult


def plot_schedule(
    schedules: Schedule | str | Iterable[Schedule | str], ax: Axes | None = None
) -> Any:
    """LR against the 1-based step, one line per schedule labelled by its spec.

    Without ``ax`` a new :class:`~scaling_fit.plotting.Figure` is made (no pyplot).  Returns
    the figure drawn on.
    """
    items = [schedules] if isinstance(schedules, (Schedule, str)) else list(schedules)
    ax = target_axes(ax, 8, 3.5)
    for item in items:
        sched = as_schedule(item)
        ax.plot(sched.steps, sched.lr, label=sched.spec or sched.name)
    ax.set_xlabel(STEP)
    ax.set_ylabel(LR)
    if items:
        ax.legend(fontsize="small")
    return ax.figure


def plot_loss_curves(
    result: FitResult,
    schedules: Mapping[str, Any] | None = None,
    *,
    level: float | None = None,
    every: int | None = None,
) -> Any:
    """Observed loss curves, the fit of each, and predictions for other schedules.

    Parameters
    ----------
    result
        A fitted loss-curve law; its ``data`` (``run``, ``step``, ``loss``) are drawn as dots
        and each fitted run's curve as a solid line, under its schedule: the spec in
        ``options["schedules"]``, or the LR it was fitted with (from the log's ``lr`` column
        or an array), rebuilt from ``options["lr_history"]``.
    schedules
        Name → schedule (spec, :class:`Schedule` or LR array) to predict, drawn dashed.
    level
        Shade this bootstrap percentile band around every curve (default 0.95 when the fit
        has bootstrap samples; pass 0 for none).
    every
        Stride in steps of the drawn curves (default: a 200th of each schedule, at most 100
        steps, so a short run's curve is as smooth as a long one's).

    The lower panel shows each schedule's LR in the same colour.
    """
    from ..results.curves import curve_band, fitted_schedules, predict_curve

    level = (0.95 if result.samples is not None else 0) if level is None else level
    fitted, unrecorded = fitted_schedules(result)
    curves = [(run, sched, "-") for run, sched in fitted.items()]
    curves += [(name, spec, "--") for name, spec in (schedules or {}).items()]
    fig = new_figure(9, 6)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    band_label = f"{100 * level:g}% bootstrap band" if level else None
    for i, (name, spec, style) in enumerate(curves):
        colour = f"C{i % 10}"
        if style == "-":
            _observed(top, result, name, colour)
        sched = as_schedule(spec)
        stride = every or min(100, max(1, sched.total // 200))
        curve = predict_curve(result, sched, every=stride)
        kind = "fit" if style == "-" else "predicted"
        top.plot(curve["step"], curve["loss"], style, color=colour, label=f"{name} ({kind})")
        if level and result.samples is not None:
            lo, hi = curve_band(result, sched, curve["step"].to_numpy(), result.samples, level)
            steps = curve["step"].to_numpy(float)  # matplotlib 3.7 refuses some pandas Series
            top.fill_between(steps, lo, hi, color=colour, alpha=0.2, label=band_label)
            band_label = None  # one legend entry for the bands, in the first curve's colour
        bottom.plot(sched.steps, sched.lr, style, color=colour)
    for i, run in enumerate(unrecorded, start=len(curves)):
        _observed(top, result, run, f"C{i % 10}", label=f"{run} (data; LR not recorded)")
    _warn_unrecorded(unrecorded)
    drawn = ["dots observed"] if fitted or unrecorded else []
    drawn += ["solid fitted"] if fitted else []
    drawn += ["dashed predicted"] if schedules else []
    top.set(ylabel=LOSS, title="Loss curves" + (": " + ", ".join(drawn) if drawn else ""))
    bottom.set(xlabel=STEP, ylabel=LR)
    if curves or unrecorded:
        top.legend(fontsize="small", loc="upper right")
    annotate_figure(fig, result)
    return fig


def _observed(ax: Axes, result: FitResult, run: str, colour: str, label: str = "") -> None:
    """The fitted points of one run as dots."""
    rows = result.data.loc[result.data["run"].astype(str) == str(run)]
    if len(rows):
        ax.plot(
            rows["step"], rows["loss"], ".", ms=3, color=colour, alpha=0.6, zorder=3,
            label=label or None,
        )  # fmt: skip


def _warn_unrecorded(runs: list[str]) -> None:
    """Say which runs are drawn without their fitted curve (a fit without LR knots)."""
    if runs:
        shown = ", ".join(repr(r) for r in runs[:5]) + (", ..." if len(runs) > 5 else "")
        warnings.warn(
            f"the fit does not record the LR of runs {shown} (fitted from LR arrays and written "
            "by an older scaling_fit, without options['lr_history']): only their data are "
            "drawn. Refit them to draw their fitted curves",
            ScalingFitWarning,
            stacklevel=3,
        )


def plot_schedule_choice(choice: ScheduleChoiceResult) -> Any:
    """The chosen schedule's predicted curve against the baseline's, their LRs beneath."""
    fig = new_figure(9, 5.5)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    pairs = (
        (choice.baseline, choice.baseline_curve, choice.baseline_loss, "baseline", "C0"),
        (choice.schedule, choice.curve, choice.final_loss, "chosen", "C3"),
    )
    for sched, curve, final, role, colour in pairs:
        label = f"{role}: {sched.spec or sched.name} → {final:.4f}"
        top.plot(curve["step"], curve["loss"], color=colour, label=label)
        bottom.plot(sched.steps, sched.lr, color=colour)
    top.set(ylabel=f"predicted {LOSS}", title=f"Better schedule: {choice.improvement:+.4f} loss")
    top.legend(fontsize="small", loc="lower left")  # curves fall from the top left: room here
    bottom.set(xlabel=STEP, ylabel=LR)
    return fig
