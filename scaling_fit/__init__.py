"""scaling_fit: fit scaling laws to language-model training results and predict bigger runs.

The public API is the names in ``__all__``.  They are imported on first use (PEP 562), so
``import scaling_fit`` stays fast and a script pays only for the parts it uses.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import DataError, FitError, ScalingFitError, ScalingFitWarning, UnknownLawError

# public name -> module that defines it
_LAZY = {
    "BacktestResult": "analysis.backtest",
    "backtest": "analysis.backtest",
    "Forecast": "analysis.forecast",
    "forecast": "analysis.forecast",
    "isoflop": "analysis.isoflop",
    "ScheduleChoice": "analysis.schedule_search",
    "best_schedule": "analysis.schedule_search",
    "fit": "fitting.fit",
    "highest_loss_mask": "fitting.fit",
    "load_runs": "inputs.load",
    "LAWS": "laws",
    "Law": "laws",
    "Parameter": "laws",
    "get_law": "laws",
    "list_laws": "laws",
    "FitResult": "results.fit_result",
    "IsoflopResult": "results.isoflop_result",
    "Schedule": "schedules",
    "schedules": "",
}

if TYPE_CHECKING:
    from . import schedules
    from .analysis.backtest import BacktestResult, backtest
    from .analysis.forecast import Forecast, forecast
    from .analysis.isoflop import isoflop
    from .analysis.schedule_search import ScheduleChoice, best_schedule
    from .fitting.fit import fit, highest_loss_mask
    from .inputs.load import load_runs
    from .laws import LAWS, Law, Parameter, get_law, list_laws
    from .results.fit_result import FitResult
    from .results.isoflop_result import IsoflopResult
    from .schedules import Schedule


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'scaling_fit' has no attribute {name!r}")
    module = importlib.import_module(f".{_LAZY[name]}" if _LAZY[name] else f".{name}", __name__)
    value = module if not _LAZY[name] else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "LAWS",
    "BacktestResult",
    "DataError",
    "FitError",
    "FitResult",
    "Forecast",
    "IsoflopResult",
    "Law",
    "Parameter",
    "ScalingFitError",
    "ScalingFitWarning",
    "Schedule",
    "ScheduleChoice",
    "UnknownLawError",
    "__version__",
    "backtest",
    "best_schedule",
    "fit",
    "forecast",
    "get_law",
    "highest_loss_mask",
    "isoflop",
    "list_laws",
    "load_runs",
    "schedules",
]
