"""scaling_fit: fit scaling laws to language-model training results and predict bigger runs."""

from .errors import DataError, FitError, ScalingFitError, ScalingFitWarning, UnknownLawError
from .laws import LAWS, Law, Parameter, get_law, list_laws

__version__ = "0.1.0"

__all__ = [
    "LAWS",
    "DataError",
    "FitError",
    "Law",
    "Parameter",
    "ScalingFitError",
    "ScalingFitWarning",
    "UnknownLawError",
    "__version__",
    "get_law",
    "list_laws",
]
