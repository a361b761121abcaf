"""FitResult: a fitted law with its uncertainty, predictions, report and JSON round trip."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._version import __version__
from ..arguments import checked
from ..errors import DataError, FitError, ScalingFitWarning, argument
from ..inputs.validate import check_positive_inputs
from ..laws import Law, get_law
from ..laws.base import Array
from ..progress import progress_bar
from .allocation import FLOPS_PER_PARAM_TOKEN, FlopsPerToken, describe_cost, optimal_allocation
from .base import Result, Section, Table
from .extrapolation import extrapolation_factors
from .fit_json import JSON_FORMAT, fit_from_json, fit_to_dict
from .intervals import percentile_interval

# Predictions more than this factor outside the fitted range of an input warn by default.
MAX_EXTRAPOLATION = 10.0
# Values (points × resamples) predicted at once by predict_interval: ~160 MB of float64.
INTERVAL_BLOCK = 20_000_000


@dataclass(frozen=True, repr=False)
class FitResult(Result):
    """The outcome of :func:`scaling_fit.fit`. Immutable; round-trips through JSON.

    Attributes
    ----------
    law
        The fitted :class:`Law`.
    params
        Fitted values in natural units, in the law's parameter order (fixed and tied
        parameters included).
    free, fixed, tie
        Which parameters were fitted, held fixed (with their values) or tied to another.
    objective
        Summed objective at the optimum: Σ Huber_δ(log L̂ − log L) for ``loss="huber"``,
        Σ ½r² for the MSE losses.
    converged
        Whether the trust-region solver reported convergence at the best start.
    n_points
        Number of points fitted.
    residuals
        Residual of every fitted point (log L̂ − log L; L̂ − L for ``mse_linear``).
    warnings
        Messages about the fit: parameter at a bound, not identified, not converged, …
    options
        Provenance: loss, δ, points used, exclusions, starts, bootstrap, seed, version.
    data
        The fitted points: ``run``, the law's inputs and its output (``loss`` for loss laws).
    samples
        Bootstrap parameter values, shape ``(n_resamples, n_params)`` in law order, or None.
    correlation
        Correlation matrix of the free parameters (from the bootstrap when there is one,
        otherwise the Gauss–Newton approximation at the optimum), or None.
    """

    FORMAT = JSON_FORMAT
    WHAT = "fit result"

    law: Law
    params: dict[str, float]
    free: tuple[str, ...]
    fixed: dict[str, float]
    tie: dict[str, str]
    objective: float
    converged: bool
    n_points: int
    residuals: Array
    warnings: tuple[str, ...]
    options: dict[str, Any]
    data: pd.DataFrame
    samples: Array | None = None
    correlation: Array | None = None
    version: str = field(default="")

    @classmethod
    def from_params(cls, law: str | Law, params: Mapping[str, float] | None = None) -> FitResult:
        """A result holding given parameters (default: the law's published ones), unfitted.

        Use it to predict or allocate with a paper's coefficients, e.g.
        ``FitResult.from_params("chinchilla").compute_optimal(5.76e23)``.
        """
        law = get_law(law)
        values = dict(law.published if params is None else params)
        missing = [n for n in law.param_names if n not in values]
        if missing:
            raise DataError(
                f"law {law.name!r} needs values for {missing}; pass params={{...}} with all of "
                f"{list(law.param_names)}"
            )
        source = "published" if params is None else "given"
        return cls(
            law=law,
            params={n: float(values[n]) for n in law.param_names},
            free=(),
            fixed={n: float(values[n]) for n in law.param_names},
            tie={},
            objective=float("nan"),
            converged=False,
            n_points=0,
            residuals=np.empty(0),
            warnings=(),
            options={"source": f"{source} parameters, not fitted ({law.reference})"},
            data=pd.DataFrame(columns=["run", *law.inputs, law.output]),
            version=__version__,
        )

    # ----------------------------------------------------------------- uncertainty
    @property
    def stderr(self) -> dict[str, float | None]:
        """Bootstrap standard error of each parameter (None without a bootstrap)."""
        if self.samples is None:
            return dict.fromkeys(self.params)
        spread = np.nanstd(self.samples, axis=0, ddof=1)
        return {n: float(s) for n, s in zip(self.params, spread, strict=True)}

    @checked
    def interval(self, level: float = 0.95) -> dict[str, tuple[float, float] | None]:
        """Bootstrap percentile interval of each parameter (None without a bootstrap)."""
        if self.samples is None:
            return dict.fromkeys(self.params)
        lo, hi = percentile_interval(self.samples, level, axis=0)
        return {n: (float(a), float(b)) for n, a, b in zip(self.params, lo, hi, strict=True)}

    @property
    def ci95(self) -> dict[str, tuple[float, float] | None]:
        """95 % bootstrap percentile intervals."""
        return self.interval(0.95)

    # ----------------------------------------------------------------- predictions
    def predict(
        self,
        data: pd.DataFrame | None = None,
        *,
        max_extrapolation: float = MAX_EXTRAPOLATION,
        allow_unconverged: bool = False,
        **inputs: Any,
    ) -> Array:
        """Predicted loss (or the law's ``output``), from keyword inputs or a DataFrame.

        Warns (:class:`ScalingFitWarning`) when an input lies more than ``max_extrapolation``
        times beyond the fitted range.  A fit that did not converge raises
        :class:`~scaling_fit.errors.FitError` unless ``allow_unconverged=True`` (then it warns);
        so do :meth:`predict_interval`, :meth:`predict_curve` and :meth:`compute_optimal`.

        Examples
        --------
        >>> result.predict(n_params=7e10, tokens=1.4e12)            # doctest: +SKIP
        >>> result.predict(n_params=[1e9, 1e10], tokens=2e10)       # doctest: +SKIP
        """
        self._require_point_law("predict")
        self._require_finite_params("predict")
        self._require_converged("predict", allow_unconverged)
        columns = self._inputs(data, inputs)
        self._warn_extrapolation(
            dict(zip(self.law.inputs, columns, strict=True)), max_extrapolation
        )
        with np.errstate(over="ignore", under="ignore", divide="ignore"):
            predicted = self.law.predict(*columns, **self.params)
        if not np.all(np.isfinite(predicted)):
            warnings.warn(
                f"some predictions of law {self.law.name!r} are not finite (the parameters "
                f"{self.params} overflow at these inputs): do not use them",
                ScalingFitWarning,
                stacklevel=2,
            )
        return predicted

    def extrapolation(self, **inputs: Any) -> dict[str, float]:
        """How far each input lies outside the fitted range, as a factor (1 = inside).

        The factor of a value x against the fitted range [lo, hi] is max(x/hi, lo/x, 1).
        """
        factors = {}
        for name, values in inputs.items():
            if name not in self.data or len(self.data) == 0:
                continue
            fitted = self.data[name].to_numpy(float)
            x = np.asarray(values, dtype=float)
            x = x[np.isfinite(x) & (x > 0)]
            if x.size:
                factors[name] = float(extrapolation_factors(fitted, x).max())
        return factors

    def _warn_extrapolation(self, inputs: Mapping[str, Any], limit: float) -> None:
        for name, factor in self.extrapolation(**inputs).items():
            if factor > limit:
                lo, hi = self.data[name].min(), self.data[name].max()
                warnings.warn(
                    f"{name} extrapolates {factor:.3g}x beyond the fitted range "
                    f"[{lo:.3g}, {hi:.3g}] (more than {limit:g}x): treat the prediction as a "
                    "guess, and check it with scaling_fit.backtest",
                    ScalingFitWarning,
                    stacklevel=3,
                )

    @checked
    def predict_interval(
        self,
        data: pd.DataFrame | None = None,
        *,
        level: float = 0.95,
        allow_unconverged: bool = False,
        progress: bool | str = "auto",
        **inputs: Any,
    ) -> pd.DataFrame:
        """Predicted output (column named by ``law.output``, ``loss`` for loss laws) with its
        bootstrap percentile interval (needs ``bootstrap>0``).  The points are predicted in
        blocks of at most :data:`INTERVAL_BLOCK` values (points × resamples), with a progress
        bar of the points on a terminal (``progress``, :mod:`scaling_fit.progress`)."""
        self._require_point_law("predict_interval")
        self._require_finite_params("predict_interval")
        self._require_converged("predict_interval", allow_unconverged)
        samples = self._require_samples("predict_interval")
        columns = [np.ravel(x) for x in np.broadcast_arrays(*self._inputs(data, inputs))]
        size = columns[0].size
        lo, hi = np.empty(size), np.empty(size)
        step = max(1, INTERVAL_BLOCK // max(1, len(samples)))
        with progress_bar(size, "predict interval", "point", progress) as bar:
            for start in range(0, size, step):
                part = [c[start : start + step] for c in columns]
                draws = self.law.predict(*part, **self._sample_columns(samples))
                lo[start : start + step], hi[start : start + step] = percentile_interval(
                    draws, level, axis=0
                )
                bar.update(part[0].size)
        table = pd.DataFrame(dict(zip(self.law.inputs, columns, strict=True)))
        table[self.law.output] = self.law.predict(*columns, **self.params)
        table["lower"], table["upper"] = lo, hi
        return table

    @checked
    def predict_curve(
        self,
        schedule: Any,
        steps: Any = None,
        *,
        every: int = 1,
        level: float | None = None,
        allow_unconverged: bool = False,
    ) -> pd.DataFrame:
        """Predicted loss curve of a loss-curve law under a schedule: ``step, lr, loss``.

        Parameters
        ----------
        schedule
            A :class:`~scaling_fit.schedules.Schedule`, spec string (e.g.
            ``"wsd:peak=3e-4,total=24000,warmup=2160,decay=0.2,final=3e-5"``) or LR array.
        steps
            Steps to predict (a row at step t is the loss after t steps, LR ``lr[t]``); default
            every ``every``-th step after the warm-up and the last one
            (:func:`scaling_fit.results.curves.predict_curve`).
        every
            Stride of the default steps.
        level
            With a bootstrapped fit, add the ``level`` percentile band of the bootstrap
            predictions as columns ``loss_lo`` and ``loss_hi``.

        Beyond the longest fitted run (in steps or LR area), columns ``loss_lower`` and
        ``loss_upper`` hold the interval of the law's measured length extrapolation, and
        more than 1.1x beyond a warning says how far and what the law's own backtest within
        the fitted runs missed by (:mod:`scaling_fit.results.length_band`).
        allow_unconverged
            Predict from a fit that did not converge (with a warning) instead of raising
            :class:`~scaling_fit.errors.FitError`.
        """
        from ..schedules.spec import as_schedule
        from .curves import curve_band, predict_curve
        from .length_band import length_band

        self._require_converged("predict_curve", allow_unconverged)
        table = predict_curve(self, schedule, steps, every=every)
        band = length_band(self, as_schedule(schedule), table)
        if band is not None:
            table["loss_lower"], table["loss_upper"] = band
        if level is not None:
            samples = self._require_samples("predict_curve(level=...)")
            band = curve_band(self, schedule, table["step"].to_numpy(), samples, level)
            table["loss_lo"], table["loss_hi"] = band
        return table

    @checked
    def compute_optimal(
        self,
        compute: Any,
        *,
        level: float = 0.95,
        flops_per_param_token: float = FLOPS_PER_PARAM_TOKEN,
        flops_per_token: FlopsPerToken | None = None,
        max_extrapolation: float = MAX_EXTRAPOLATION,
        allow_unconverged: bool = False,
    ) -> pd.DataFrame:
        """Loss-minimising N and D for each budget in FLOPs.

        The cost model is ``C = 6 N D`` unless ``flops_per_param_token`` (``C = k N D``) or
        ``flops_per_token`` (a function ``M(N)``, ``C = M(N) D``) says otherwise; the table's
        ``cost_model`` column states it. Closed form for Chinchilla (Hoffmann et al. 2022,
        §3.3), numeric otherwise. Interval columns hold bootstrap percentiles, NaN without a
        bootstrap. Warns when N_opt or D_opt lie more than ``max_extrapolation`` times outside
        the fitted range.
        """
        self._require_finite_params("compute_optimal")
        self._require_converged("compute_optimal", allow_unconverged)
        budgets = np.atleast_1d(np.asarray(compute, dtype=float)).reshape(-1)
        check_positive_inputs({"compute": budgets}, "compute_optimal")
        cost = {"flops_per_param_token": flops_per_param_token, "flops_per_token": flops_per_token}
        n_opt, d_opt = optimal_allocation(self.law, self.params, budgets, **cost)
        self._warn_extrapolation({"n_params": n_opt, "tokens": d_opt}, max_extrapolation)
        table = pd.DataFrame({"compute": budgets, "n_params": n_opt, "tokens": d_opt})
        table["loss"] = self.law.predict(n_opt, d_opt, **self.params)
        table["tokens_per_param"] = d_opt / n_opt
        empty = np.full(len(budgets), np.nan)
        bounds = {"n": (empty, empty), "d": (empty, empty)}
        if self.samples is not None:
            draws = [
                optimal_allocation(
                    self.law, dict(zip(self.params, row, strict=True)), budgets, **cost
                )
                for row in self.samples
                if np.all(np.isfinite(row))
            ]
            bounds["n"] = percentile_interval(np.array([d[0] for d in draws]), level, axis=0)
            bounds["d"] = percentile_interval(np.array([d[1] for d in draws]), level, axis=0)
        table["n_params_lower"], table["n_params_upper"] = bounds["n"]
        table["tokens_lower"], table["tokens_upper"] = bounds["d"]
        table["cost_model"] = describe_cost(flops_per_param_token, flops_per_token)
        return table

    # ----------------------------------------------------------------- presentation
    def plot(self, kind: str | None = None, **options: Any) -> Any:
        """A figure of the fit; the default suits the law (a matplotlib Figure, no pyplot).

        ``kind``: ``"compute"`` (default for L(N, D) laws: loss against compute per model
        size with the fitted curves), ``"tokens"``, ``"residuals"`` (default for a law that
        reads other columns too), ``"extrapolation"``
        (needs ``n_params=``, ``tokens=``), ``"frontier"`` (N_opt(C), D_opt(C)) or
        ``"curves"`` (default for loss-curve laws). ``options`` go to the function of
        :mod:`scaling_fit.plotting` that draws it (:func:`~scaling_fit.plotting.plot_fit`).

        Examples
        --------
        >>> result.plot()                                                 # doctest: +SKIP
        >>> result.plot("extrapolation", n_params=70e9, tokens=1.4e12)    # doctest: +SKIP
        """
        from ..plotting.fit import plot_fit

        return plot_fit(self, kind, **options)

    def sections(self) -> list[Section]:
        """The parts of :meth:`report` (in the style of lmfit's ``fit_report``) and HTML."""
        from .length_band import length_summary

        sections = [
            Section(
                f"[[Fit]] law {self.law.name}: {self.law.description}",
                [
                    f"    reference      = {self.law.reference}",
                    f"    loss           = {self.options.get('loss')} "
                    f"(delta={self.options.get('delta')})",
                    f"    points         = {self.n_points} ({self.options.get('points_note', '')})",
                    f"    objective      = {self.objective:.10g}",
                    f"    converged      = {self.converged}",
                    f"    starts         = {self.options.get('n_starts')} scored, "
                    f"{self.options.get('n_refined')} refined, {self.options.get('n_at_best')} "
                    "reached the best objective",
                ],
            ),
            Section(
                "[[Parameters]]" + (f" (s.e. and 95% CI: {self._uncertainty_note()})"),
                [self._parameter_table()],
            ),
        ]
        if self.correlation is not None and len(self.free) > 1:
            pairs = [
                f"    C({a}, {self.free[j]}) = {self.correlation[i, j]:+.4f}"
                for i, a in enumerate(self.free)
                for j in range(i + 1, len(self.free))
                if abs(self.correlation[i, j]) > 0.5
            ]
            sections.append(Section("[[Correlations]] (|r| > 0.5)", pairs))
        sections += self._meaning()
        length = length_summary(self)
        if length:
            sections.append(Section(length[0], length[1:]))
        if self.warnings:
            sections.append(Section("[[Warnings]]", [f"    {w}" for w in self.warnings]))
        return sections

    def summary(self, warnings: list[str] | None = None) -> str:
        """A few lines: law, points, objective, convergence, parameters, warnings (what
        ``scaling-fit fit`` prints; :meth:`report` is the full report).

        ``warnings`` replaces the result's own warnings in the last lines (the command line
        adds those of loading the runs).
        """
        from .fit_summary import fit_summary

        return fit_summary(self, list(self.warnings) if warnings is None else warnings)

    def _parameter_table(self) -> Table:
        """The parameters: value, s.e., 95 % interval (the text keeps lmfit's layout)."""
        errors, intervals = self.stderr, self.ci95
        lines = tuple(
            f"    {name:<10} = {value:.8g}{self._param_note(name, errors, intervals)}"
            for name, value in self.params.items()
        )
        frame = pd.DataFrame(
            {
                "parameter": list(self.params),
                "value": list(self.params.values()),
                "s.e.": [errors[n] for n in self.params],
                "95% CI": [
                    "" if intervals[n] is None else "[{:.6g}, {:.6g}]".format(*intervals[n])
                    for n in self.params
                ],
            }
        )
        return Table(frame, lines=lines)

    def _meaning(self) -> list[Section]:
        """What each parameter means, and how the law counts its inputs and loss."""
        described = [p for p in self.law.parameters if p.description]
        conventions = self.law.conventions
        sections = []
        if described:
            lines = [f"    {p.name:<10} : {p.description}" for p in described]
            sections.append(Section("[[Parameter meanings]]", lines))
        if conventions:
            lines = [f"    {name:<10} : {text}" for name, text in conventions.items()]
            sections.append(Section("[[Conventions]]", lines))
        return sections

    def _uncertainty_note(self) -> str:
        n = self.options.get("bootstrap", 0)
        return f"bootstrap, {n} resamples of runs" if n else "not computed; pass bootstrap=N"

    def _param_note(self, name: str, errors: Mapping, intervals: Mapping) -> str:
        if name in self.fixed:
            return " (fixed)"
        if name in self.tie:
            return f" (tied to {self.tie[name]})"
        if errors[name] is None:
            return ""
        lo, hi = intervals[name]
        return f" +/- {errors[name]:.4g}  [{lo:.6g}, {hi:.6g}]"

    def __repr__(self) -> str:
        values = ", ".join(f"{k}={v:.6g}" for k, v in self.params.items())
        return f"FitResult(law={self.law.name!r}, {values}, objective={self.objective:.6g})"

    # ----------------------------------------------------------------- lmfit
    def to_lmfit_params(self) -> Any:
        """The parameters as :class:`lmfit.Parameters`: values, bounds, ``vary=False`` for
        fixed, ``expr`` for ties, bootstrap ``stderr`` and ``correl`` when present."""
        from .lmfit_params import to_lmfit_params

        return to_lmfit_params(self)

    @classmethod
    def from_lmfit(cls, params: Any, law: str | Law, **options: Any) -> FitResult:
        """A result from :class:`lmfit.Parameters` (or a ``ModelResult``) of ``law``, to
        predict with; see :func:`scaling_fit.results.lmfit_params.from_lmfit`."""
        from .lmfit_params import from_lmfit

        return from_lmfit(cls, params, law, **options)

    # ----------------------------------------------------------------- JSON
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (the format :meth:`from_json` reads)."""
        return fit_to_dict(self)

    @classmethod
    def from_json(cls, source: str | Path, *, law: Law | None = None) -> FitResult:
        """Rebuild a result from JSON text or a JSON file written by :meth:`to_json`.

        Pass ``law=`` for a user-defined law that is not in the registry; a law built by
        :meth:`Law.from_formula` is rebuilt from the JSON.
        """
        return fit_from_json(cls, source, law)

    # ----------------------------------------------------------------- helpers
    def _inputs(self, data: pd.DataFrame | None, inputs: Mapping[str, Any]) -> list[Array]:
        source: Mapping[str, Any] = data if data is not None else inputs
        missing = [c for c in self.law.inputs if c not in source]
        if missing:
            raise DataError(
                f"law {self.law.name!r} needs inputs {list(self.law.inputs)}; missing "
                f"{missing}; pass them as keywords or DataFrame columns, e.g. "
                f"predict({', '.join(f'{c}=...' for c in self.law.inputs)})"
            )
        if data is None:
            unknown = sorted(set(inputs) - set(self.law.inputs))
            if unknown:
                raise DataError(
                    f"law {self.law.name!r} takes inputs {list(self.law.inputs)}; unknown "
                    f"keyword(s) {unknown}: check the spelling"
                )
        try:
            columns = [np.asarray(source[c], dtype=float) for c in self.law.inputs]
        except (TypeError, ValueError) as exc:
            raise DataError(f"inputs of law {self.law.name!r} must be numbers: {exc}") from None
        check_positive_inputs(dict(zip(self.law.inputs, columns, strict=True)), "predict")
        try:
            np.broadcast_shapes(*(c.shape for c in columns))
        except ValueError:
            shapes = ", ".join(
                f"{n}: {c.size}" for n, c in zip(self.law.inputs, columns, strict=True)
            )
            raise DataError(
                f"inputs of law {self.law.name!r} have different lengths ({shapes}); give "
                "each the same number of values (one row each), or one value to use for all"
            ) from None
        return columns

    def _require_finite_params(self, what: str) -> None:
        bad = {n: v for n, v in self.params.items() if not np.isfinite(v)}
        if bad:
            raise FitError(
                f"{what}: parameters {bad} of law {self.law.name!r} are not finite (converged="
                f"{self.converged}): the fit failed; refit, or check the data it was fitted to"
            )

    def _require_converged(self, what: str, allow: bool) -> None:
        """FitError for a fit that did not converge, unless ``allow`` (then a warning).
        Parameters given rather than fitted (:meth:`from_params`, :meth:`from_lmfit`: a
        ``source`` option and no objective) are not a fit that failed."""
        given = "source" in self.options and not np.isfinite(self.objective)
        if self.converged or given:
            return
        problem = (
            f"the fit of law {self.law.name!r} did not converge (its parameters {self.params} "
            "are where the optimiser stopped, not an optimum)"
        )
        if not allow:
            raise FitError(
                f"{what}: {problem}, so its predictions are not answers; refit (more starts, "
                "fixed or tied parameters, more runs), or pass allow_unconverged=True "
                "(--allow-unconverged) to predict anyway"
            )
        warnings.warn(  # one text for every method: the CLI prints it once
            f"{problem}; predicting anyway (allow_unconverged=True): treat the numbers as a guess",
            ScalingFitWarning,
            stacklevel=3,
        )

    def _require_point_law(self, what: str) -> None:
        if self.law.fits_curves:
            raise DataError(
                f"law {self.law.name!r} is a loss-curve law: its loss depends on the whole LR "
                f"schedule, not on input columns, so {what} does not apply. Use "
                "predict_curve(schedule, steps=...), e.g. predict_curve('cosine:peak=3e-4,"
                "total=24000,warmup=2160,final=3e-5', every=100)"
            )

    def _require_samples(self, what: str) -> Array:
        if self.samples is None:
            raise DataError(
                f"{what} needs bootstrap samples: refit with {argument('bootstrap', 1000)}"
            )
        return self.samples[np.all(np.isfinite(self.samples), axis=1)]

    def _sample_columns(self, samples: Array) -> dict[str, Array]:
        return {n: samples[:, i, None] for i, n in enumerate(self.params)}
