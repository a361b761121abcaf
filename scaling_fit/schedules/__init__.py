"""Learning-rate schedules: builders, spec strings, O(steps) features and the LR history.

The public face of the subpackage (``sf.schedules.cosine(...)``, ``from_spec(...)``):
:mod:`.builders` (the :class:`Schedule` record and its families), :mod:`.spec` (spec strings),
:mod:`.areas` (forward and annealing areas); ``Schedule.plot()`` draws one.  Below the laws
also live :mod:`.by_run` (one schedule per run, the step convention), :mod:`.history` (sums
over earlier LR changes in O(log steps) terms) and :mod:`.features` (per-point features of
curve laws).
"""

from .areas import annealing_area, forward_area, lr_for_annealing_law
from .builders import (
    WSD_SHAPES,
    Schedule,
    ScheduleLike,
    constant,
    cosine,
    inverse_sqrt,
    linear,
    multistage,
    step_decay,
    wsd,
)
from .spec import FAMILIES, as_schedule, from_spec

__all__ = [
    "FAMILIES",
    "WSD_SHAPES",
    "Schedule",
    "ScheduleLike",
    "annealing_area",
    "as_schedule",
    "constant",
    "cosine",
    "forward_area",
    "from_spec",
    "inverse_sqrt",
    "linear",
    "lr_for_annealing_law",
    "multistage",
    "step_decay",
    "wsd",
]
