"""scaling_fit: fit scaling laws to language-model training results and predict bigger runs."""

from . import schedules
from ._version import __version__
from .analysis.backtest import BacktestResult, backtest
from .analysis.isoflop import isoflop
from .analysis.schedule_search import ScheduleChoice, best_schedule
from .errors import DataError, FitError, ScalingFitError, ScalingFitWarning, UnknownLawError
from .fitting.fit import fit, highest_loss_mask
from .inputs.load import load_runs
from .laws import LAWS, Law, Parameter, get_law, list_laws
from .results.fit_result import FitResult
from .results.isoflop_result import IsoflopResult
from .schedules import Schedule

__all__ = [
    "LAWS",
    "BacktestResult",
    "DataError",
    "FitError",
    "FitResult",
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
    "get_law",
    "highest_loss_mask",
    "isoflop",
    "list_laws",
    "load_runs",
    "schedules",
]
