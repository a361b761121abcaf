"""ForecastResult: where a running job will end (:func:`scaling_fit.forecast`).

JSON tag ``scaling_fit.Forecast/1``.  The command line wrote the same fields without a tag
before this class existed; :meth:`ForecastResult.from_json` still reads those files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .base import Result, Section
from .fit_result import FitResult
from .json_file import table_field
from .json_safe import json_columns, json_safe


@dataclass(frozen=True, repr=False)
class ForecastResult(Result):
    """Where a running job will end, from the part seen so far.

    Attributes
    ----------
    final_loss : float
        Predicted loss at the end of training (step ``total`` of the schedule).
    interval : tuple of float or None
        ``level`` interval of ``final_loss``: the noise part and the law part (``error_band``)
        added in quadrature on the log scale: finite, > 0 and around ``final_loss``, or None
        when neither is available, the forecast final loss is <= 0, the prior did not
        converge, or the run lies beyond a prior whose length extrapolation could not be
        measured (each with a warning).
    curve : pandas.DataFrame
        ``step, lr, loss`` predicted from the last seen step to the end.
    seen_steps : int
        The last logged step used.
    fit : FitResult
        The fit of the seen part (``fit.fixed`` holds what the prior supplied).
    noise_interval : tuple of float or None
        The noise part alone: block-bootstrap interval (None when ``n_boot=0``).
    error_band : float or None
        The law part: relative half-width measured on published runs at this fraction seen,
        and at this run's peak LR over the prior's (None for a law without measurements).
    peak_ratio : float or None
        The run's peak LR over the nearest peak LR of the prior's runs (None without a prior;
        1.0 when the prior does not record its schedules).
    level : float
        Confidence level of the intervals.
    prior : str
        The prior the shape came from (its file, or ``"a fit of law …"``); "" without one.
    """

    FORMAT = "scaling_fit.Forecast/1"
    WHAT = "forecast"

    final_loss: float
    interval: tuple[float, float] | None
    curve: pd.DataFrame
    seen_steps: int
    fit: FitResult
    noise_interval: tuple[float, float] | None = None
    error_band: float | None = None
    peak_ratio: float | None = None
    level: float = 0.95
    prior: str = ""

    def sections(self) -> list[Section]:
        """The final loss and its interval, what was seen, then the predicted curve."""
        curve = self.curve
        total = int(curve["step"].iloc[-1])
        prior = f", shape from --prior {self.prior}" if self.prior else ", no prior"
        if self.peak_ratio not in (None, 1.0):
            prior += f" (at x{1 / self.peak_ratio:.3g} this run's peak LR)"
        return [
            Section(
                f"final loss {self.final_loss:.4f} at step {total}{self._interval_text()}",
                [
                    f"seen {self.seen_steps} of {total} steps ({self.seen_steps / total:.0%}); "
                    f"law {self.fit.law.name}{prior}"
                ],
            ),
            Section(
                f"curve: {len(curve)} points from step {int(curve['step'].iloc[0])}, loss "
                f"{curve['loss'].iloc[0]:.4f} -> {curve['loss'].iloc[-1]:.4f} "
                "(all: --format json or csv)",
            ),
        ]

    def _interval_text(self) -> str:
        """`` (95 % interval lo-hi: noise and ±x % measured law error)``."""
        if self.interval is None:
            return " (no interval: see the warning)"
        lo, hi = self.interval
        level = f"{100 * self.level:.4g} %"
        if self.error_band is None:
            return f" ({level} noise-only interval {lo:.4f}-{hi:.4f})"
        noise = "noise and " if self.noise_interval is not None else ""
        error = f"{noise}±{self.error_band:.2%} measured law error"
        return f" ({level} interval {lo:.4f}-{hi:.4f}: {error})"

    def __repr__(self) -> str:
        return self.report()

    def plot(self, ax: Any = None, *, kind: str = "curve") -> Any:
        """The predicted rest of the curve (loss against step) on ``ax`` or a new Figure."""
        from ..plotting.figure import target_axes

        ax = target_axes(ax)
        fig = ax.figure
        ax.plot(self.curve["step"], self.curve["loss"], label=f"forecast ({self.fit.law.name})")
        if self.interval is not None:
            ax.errorbar(
                [self.curve["step"].iloc[-1]],
                [self.final_loss],
                yerr=[[self.final_loss - self.interval[0]], [self.interval[1] - self.final_loss]],
                fmt="o",
                label=f"{100 * self.level:.4g} % interval",
            )
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        ax.legend()
        return fig

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (NaN as None)."""
        return {
            "format": self.FORMAT,
            "final_loss": json_safe(self.final_loss),
            "interval": _listed(self.interval),
            "noise_interval": _listed(self.noise_interval),
            "error_band": self.error_band,
            "seen_steps": self.seen_steps,
            "peak_ratio": self.peak_ratio,
            "level": self.level,
            "prior": self.prior,
            "curve": json_columns(self.curve),
            "fit": self.fit.to_dict(),
        }

    @classmethod
    def from_json(cls, source: str | Path) -> ForecastResult:
        """Rebuild a forecast from JSON text or a file written by :meth:`to_json` (or by
        ``scaling-fit forecast`` before the tag existed)."""
        from .json_file import is_json_path, read_json_source

        where = f"file {source}" if is_json_path(source) else "the JSON text"
        text = read_json_source(source, where, "expected a forecast's JSON")
        try:
            raw = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            raw = None  # the common reader says what is wrong
        if (
            isinstance(raw, dict)
            and "format" not in raw
            and {"final_loss", "seen_steps"} <= set(raw)
        ):
            text = json.dumps({"format": cls.FORMAT, **raw})  # untagged: as the CLI wrote it before
        return super().from_json(text)

    @classmethod
    def _from_dict(cls, raw: dict[str, Any]) -> ForecastResult:
        final = raw["final_loss"]
        return cls(
            final_loss=float("nan") if final is None else float(final),
            interval=_pair(raw["interval"]),
            curve=table_field(raw["curve"], "curve", ("step", "loss")),
            seen_steps=int(raw["seen_steps"]),
            fit=FitResult.from_json(json_text(raw["fit"])),
            noise_interval=_pair(raw.get("noise_interval")),
            error_band=raw.get("error_band"),
            peak_ratio=raw.get("peak_ratio"),
            level=float(raw.get("level", 0.95)),
            prior=str(raw.get("prior") or ""),
        )


def json_text(data: dict[str, Any]) -> str:
    """``data`` as JSON text (for a nested result's reader)."""
    return json.dumps(data)


def _listed(interval: tuple[float, float] | None) -> list[float] | None:
    return None if interval is None else [float(v) for v in interval]


def _pair(value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    if not (isinstance(value, list) and len(value) == 2):
        raise ValueError(f"expected an interval [lower, upper] or null, found {value!r}")
    return (float(value[0]), float(value[1]))
