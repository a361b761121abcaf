"""scaling_fit: fit scaling laws to language-model training results and predict bigger runs.

The public API is the names in ``__all__``.  They are imported on first use (PEP 562), so
``import scaling_fit`` stays fast and a script pays only for the parts it uses.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import (
    DataError,
    FitError,
    MissingExtraError,
    NoAnswerError,
    OutputExistsError,
    OutputPathError,
    ScalingFitError,
    ScalingFitWarning,
    UnknownLawError,
)

# public name -> module that defines it
_LAZY = {
    "BacktestResult": "results.backtest_result",
    "backtest": "analysis.backtest",
    "ChooseLawResult": "results.choose_law_result",
    "choose_law": "analysis.choose_law",
    "Forecast": "analysis.forecast",  # deprecated name of ForecastResult
    "ForecastResult": "results.forecast_result",
    "forecast": "analysis.forecast",
    "isoflop": "analysis.isoflop",
    "isoflop_groups": "analysis.isoflop_groups",
    "IsoflopGroupsResult": "results.isoflop_groups",
    "ScheduleChoice": "results.schedule_choice",  # deprecated name of ScheduleChoiceResult
    "ScheduleChoiceResult": "results.schedule_choice",
    "Result": "results.base",
    "PlanResult": "results.plan_result",
    "PredictionsResult": "results.predictions_result",
    "predictions": "results.predictions_result",
    "ReportSummaryResult": "results.report_summary",
    "SuggestionResult": "results.plan_result",
    "read_result": "results.base",
    "best_schedule": "analysis.schedule_search",
    "fit": "fitting.fit",
    "fit_critical_batch": "analysis.critical_batch",
    "noise_scale": "analysis.critical_batch",
    "steps_to_target": "analysis.critical_batch",
    "CriticalBatchResult": "results.critical_batch_result",
    "fit_hparams": "analysis.hparams",
    "holdout_penalty": "analysis.hparams",
    "HparamsResult": "results.hparams_result",
    "highest_loss_mask": "inputs.points",
    "load_runs": "inputs.load",
    "plan": "analysis.plan",
    "suggest_runs": "analysis.design",
    "LAWS": "laws",
    "Law": "laws",
    "Parameter": "laws",
    "get_law": "laws",
    "list_laws": "laws",
    "FitResult": "results.fit_result",
    "IsoflopResult": "results.isoflop_result",
    "plotting": "",
    "Report": "report.build",
    "write_report": "report.build",
    "Schedule": "schedules",
    "schedules": "",
}

if TYPE_CHECKING:
    from . import plotting, schedules
    from .analysis.backtest import backtest
    from .analysis.choose_law import choose_law
    from .analysis.critical_batch import fit_critical_batch, noise_scale, steps_to_target
    from .analysis.design import suggest_runs
    from .analysis.forecast import forecast
    from .analysis.hparams import fit_hparams, holdout_penalty
    from .analysis.isoflop import isoflop
    from .analysis.isoflop_groups import isoflop_groups
    from .analysis.plan import plan
    from .analysis.schedule_search import best_schedule
    from .fitting.fit import fit
    from .inputs.load import load_runs
    from .inputs.points import highest_loss_mask
    from .laws import LAWS, Law, Parameter, get_law, list_laws
    from .report.build import Report, write_report
    from .results.backtest_result import BacktestResult
    from .results.base import Result, read_result
    from .results.choose_law_result import ChooseLawResult
    from .results.critical_batch_result import CriticalBatchResult
    from .results.fit_result import FitResult
    from .results.forecast_result import ForecastResult
    from .results.hparams_result import HparamsResult
    from .results.isoflop_groups import IsoflopGroupsResult
    from .results.isoflop_result import IsoflopResult
    from .results.plan_result import PlanResult, SuggestionResult
    from .results.predictions_result import PredictionsResult, predictions
    from .results.report_summary import ReportSummaryResult
    from .results.schedule_choice import ScheduleChoiceResult
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
    "ChooseLawResult",
    "CriticalBatchResult",
    "DataError",
    "FitError",
    "FitResult",
    "ForecastResult",
    "HparamsResult",
    "IsoflopGroupsResult",
    "IsoflopResult",
    "Law",
    "MissingExtraError",
    "NoAnswerError",
    "OutputExistsError",
    "OutputPathError",
    "Parameter",
    "PlanResult",
    "PredictionsResult",
    "Report",
    "ReportSummaryResult",
    "Result",
    "ScalingFitError",
    "ScalingFitWarning",
    "Schedule",
    "ScheduleChoiceResult",
    "SuggestionResult",
    "UnknownLawError",
    "__version__",
    "backtest",
    "best_schedule",
    "choose_law",
    "fit",
    "fit_critical_batch",
    "fit_hparams",
    "forecast",
    "get_law",
    "highest_loss_mask",
    "holdout_penalty",
    "isoflop",
    "isoflop_groups",
    "list_laws",
    "load_runs",
    "noise_scale",
    "plan",
    "plotting",
    "predictions",
    "read_result",
    "schedules",
    "steps_to_target",
    "suggest_runs",
    "write_report",
]
