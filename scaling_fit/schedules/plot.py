"""Plot LR schedules (matplotlib object API; imported only when plotting)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .builders import Schedule
from .spec import as_schedule

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def plot_schedule(
    schedules: Schedule | str | Iterable[Schedule | str], ax: Axes | None = None
) -> Axes:
    """Plot LR against the 1-based step, one line per schedule labelled by its spec.

    Uses the matplotlib object API only: without ``ax`` a new ``Figure`` (no pyplot) is
    made.  Returns the Axes.
    """
    items = [schedules] if isinstance(schedules, (Schedule, str)) else list(schedules)
    if ax is None:
        from matplotlib.figure import Figure

        ax = Figure().add_subplot()
    for item in items:
        sched = as_schedule(item)
        ax.plot(sched.steps, sched.lr, label=sched.spec or sched.name)
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    if items:
        ax.legend(fontsize="small")
    return ax
