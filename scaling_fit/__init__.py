"""scaling_fit: fit scaling laws to language-model training results and predict bigger runs."""

from ._version import __version__
from .errors import DataError, FitError, ScalingFitError, ScalingFitWarning, UnknownLawError
from .fitting import fit, highest_loss_mask
from .io import load_runs
from .laws import LAWS, Law, Parameter, get_law, list_laws
from .result import FitResult

__all__ = [
    "LAWS",
    "DataError",
    "FitError",
    "FitResult",
    "Law",
    "Parameter",
    "ScalingFitError",
    "ScalingFitWarning",
    "UnknownLawError",
    "__version__",
    "fit",
    "get_law",
    "highest_loss_mask",
    "list_laws",
    "load_runs",
]
