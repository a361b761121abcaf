"""fit_hparams(): optimal learning rate and batch size laws from your own sweep.

The procedure of Step Law (Li et al. 2025, arXiv:2503.04715, the authors' ``fit_tool.py``):

1. in each (N, D) cell, the near-optimal runs (``rule="band"``: loss within ``band`` % of the
   cell's best, 0.25 % by default) or the minimum of a smooth local fit (``rule="smooth"``,
   :mod:`scaling_fit.analysis.hparams_cells`);
2. ordinary least squares of ln lr on (ln N, ln D) and of ln B on ln D;
3. a bootstrap over cells (whole cells resampled with replacement, so the runs of one cell
   stay together), solved in one vectorised pass from per-cell normal equations.

Each cell also gets the loss penalty of the fitted law and of the published one: the loss
interpolated at the law's (lr, B) over the cell's best run, minus 1 (the Step Law paper's
"relative error"; 0.94 ‰ for their law on their grid).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._version import __version__
from ..errors import DataError, ScalingFitWarning
from ..inputs.load import load_runs
from ..laws import Law, get_law
from ..results.fit_result import FitResult
from ..results.hparams_result import HparamsResult
from .hparams_cells import RULES, cell_optima, relative_penalty

NEEDED = ("n_params", "tokens", "lr", "batch_size", "loss")
# A bootstrap resample whose normal equations are this ill-conditioned (e.g. all cells drawn
# at one N) cannot determine the exponents: it is left out of the intervals.
MAX_CONDITION = 1e12


def fit_hparams(
    sweep: Any,
    *,
    rule: str = "band",
    band: float = 0.25,
    seq_len: int | None = None,
    bootstrap: int = 1000,
    seed: int = 0,
    columns: Mapping[str, str] | None = None,
) -> HparamsResult:
    """Fit η*(N, D) = c·N^a·D^b and B*(D) = c·D^b to a learning-rate × batch-size sweep.

    Parameters
    ----------
    sweep
        One row per run with ``n_params`` (non-embedding), ``tokens``, ``lr`` (peak),
        ``batch_size`` and the final ``loss``: a DataFrame or anything
        :func:`scaling_fit.load_runs` reads (its aliases and unit suffixes apply).
    rule
        ``"band"`` (default): all runs within ``band`` % of their cell's best, as Step Law.
        ``"smooth"``: one point per cell, the minimum of a quadratic in (log lr, log batch).
        On the Step Law dense sweep the band rule's law has the lower loss penalty on cells
        left out of its fit (1.08 ‰ against 1.66 ‰, README), so it is the default.
    band
        Width of the near-optimal band, in % of the best loss.
    seq_len
        When given, ``batch_size`` counts sequences of ``seq_len`` tokens and is converted to
        tokens (the laws' unit).
    bootstrap
        Resamples of cells for the intervals (0: none).
    seed
        Seed of the resampling.
    columns
        Passed to :func:`scaling_fit.load_runs` (e.g. ``{"loss": "smooth loss"}``).

    Returns
    -------
    HparamsResult
        ``lr`` and ``batch`` (FitResults of the ``steplaw_lr`` / ``steplaw_batch`` forms),
        the per-cell table with penalties, and the warnings.
    """
    if rule not in RULES:
        raise DataError(f"rule={rule!r} is not supported: expected one of {', '.join(RULES)}")
    if not band > 0:
        raise DataError(f"band={band!r} must be a positive percentage, e.g. 0.25")
    table = _sweep_table(sweep, seq_len, columns)
    cells, points = cell_optima(table, rule, band)
    if cells["n_params"].nunique() < 2 or cells["tokens"].nunique() < 2:
        raise DataError(
            f"the sweep has {cells['n_params'].nunique()} distinct n_params and "
            f"{cells['tokens'].nunique()} distinct tokens values; the lr law needs at least 2 "
            "of each (add cells at other model sizes or token counts)"
        )
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(len(cells), np.full(len(cells), 1.0 / len(cells)), size=bootstrap)
    options = {"rule": rule, "band": band, "seq_len": seq_len, "bootstrap": bootstrap}
    options["seed"] = seed
    lr_fit = _power_fit(get_law("steplaw_lr"), points, ("n_params", "tokens"), counts, options)
    batch_fit = _power_fit(get_law("steplaw_batch"), points, ("tokens",), counts, options)
    cells = _penalties(cells, table, lr_fit, batch_fit)
    messages = _warnings(cells, rule)
    for message in messages:
        warnings.warn(message, ScalingFitWarning, stacklevel=2)
    return HparamsResult(lr=lr_fit, batch=batch_fit, cells=cells, warnings=tuple(messages))


def holdout_penalty(sweep: Any, **options: Any) -> pd.DataFrame:
    """Leave-one-cell-out check of a rule: each cell's loss penalty under the laws fitted to
    the other cells.

    Parameters
    ----------
    sweep
        As for :func:`fit_hparams`.
    **options
        Passed to :func:`fit_hparams` (``rule``, ``band``, ``seq_len``, ``columns``); the
        refits skip the bootstrap.

    Returns
    -------
    pandas.DataFrame
        ``n_params, tokens, lr, batch_size, penalty`` per held-out cell (NaN penalty when the
        prediction falls outside the cell's swept region).
    """
    table = _sweep_table(sweep, options.pop("seq_len", None), options.pop("columns", None))
    options["bootstrap"] = 0
    rows = []
    for (n, d), held in table.groupby(["n_params", "tokens"], sort=True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ScalingFitWarning)  # the full fit reports them
            result = fit_hparams(table.drop(index=held.index), **options)
        lr = float(result.lr.law.predict(n, d, **result.lr.params))
        batch = float(result.batch.law.predict(d, **result.batch.params))
        penalty = relative_penalty(held, lr, batch)
        rows.append({"n_params": n, "tokens": d, "lr": lr, "batch_size": batch, "penalty": penalty})
    return pd.DataFrame(rows)


def _sweep_table(
    sweep: Any, seq_len: int | None, columns: Mapping[str, str] | None
) -> pd.DataFrame:
    tidy = isinstance(sweep, pd.DataFrame) and set(NEEDED) <= set(sweep.columns)
    table = sweep.copy() if tidy and not columns else load_runs(sweep, columns=columns)
    missing = [c for c in NEEDED if c not in table.columns]
    if missing:
        raise DataError(
            f"a sweep needs columns {list(NEEDED)} (one row per run); missing {missing}. Map "
            "yours with columns={...} (CLI: --col NAME=COLUMN)"
        )
    if "run" not in table.columns:
        table["run"] = [f"row{i}" for i in range(len(table))]
    if seq_len is not None:
        if not seq_len > 0:
            raise DataError(f"seq_len={seq_len!r} must be a positive number of tokens")
        table["batch_size"] = table["batch_size"].astype(float) * seq_len
    return table


def _power_fit(
    law: Law, points: pd.DataFrame, inputs: tuple[str, ...], counts: np.ndarray, options: dict
) -> FitResult:
    """OLS of ln(output) on ln(inputs), and its bootstrap over cells, as a FitResult."""
    design = np.column_stack([np.ones(len(points))] + [np.log(points[c]) for c in inputs])
    target = np.log(points[law.output].to_numpy(float))
    coef, *_ = np.linalg.lstsq(design, target, rcond=None)
    residuals = design @ coef - target
    samples = _bootstrap(design, target, points["cell"].to_numpy(), counts) if len(counts) else None
    names = law.param_names
    correlation = None
    if samples is not None:
        finite = samples[np.all(np.isfinite(samples), axis=1)]
        correlation = np.corrcoef(finite, rowvar=False) if len(finite) > 2 else None
    data = points[["run", *inputs, law.output]].reset_index(drop=True)
    return FitResult(
        law=law,
        params=dict(zip(names, map(float, _natural(coef)), strict=True)),
        free=names,
        fixed={},
        tie={},
        objective=float(0.5 * np.sum(residuals**2)),
        converged=True,
        n_points=len(points),
        residuals=residuals,
        warnings=(),
        options={
            "loss": "mse",
            "delta": None,
            "points_note": f"fit_hparams, rule {options['rule']}: OLS in log space",
            "source": "scaling_fit.fit_hparams",
            **options,
        },
        data=data,
        samples=None if samples is None else _natural(samples),
        correlation=correlation,
        version=__version__,
    )


def _natural(coefficients: np.ndarray) -> np.ndarray:
    """(ln c, exponents...) → (c, exponents...), along the last axis."""
    return np.concatenate([np.exp(coefficients[..., :1]), coefficients[..., 1:]], axis=-1)


def _bootstrap(
    design: np.ndarray, target: np.ndarray, cell: np.ndarray, counts: np.ndarray
) -> np.ndarray:
    """Coefficients of every resample of cells, from per-cell normal equations (NaN rows
    for resamples that cannot determine them)."""
    n_cells = counts.shape[1]
    gram = np.zeros((n_cells, design.shape[1], design.shape[1]))
    moment = np.zeros((n_cells, design.shape[1]))
    np.add.at(gram, cell, design[:, :, None] * design[:, None, :])
    np.add.at(moment, cell, design * target[:, None])
    weights = counts.astype(float)
    lhs = np.einsum("rc,cij->rij", weights, gram)
    rhs = np.einsum("rc,ci->ri", weights, moment)
    good = np.linalg.cond(lhs) < MAX_CONDITION
    solution = np.full(rhs.shape, np.nan)
    solution[good] = np.linalg.solve(lhs[good], rhs[good][..., None])[..., 0]
    return solution


def _penalties(
    cells: pd.DataFrame, sweep: pd.DataFrame, lr_fit: FitResult, batch_fit: FitResult
) -> pd.DataFrame:
    """Per cell, the relative loss penalty at the fitted and at the published law's choice."""
    published = (FitResult.from_params("steplaw_lr"), FitResult.from_params("steplaw_batch"))
    groups = dict(iter(sweep.groupby(["n_params", "tokens"], sort=True)))
    table = cells.copy()
    for label, (lr_law, batch_law) in (("fitted", (lr_fit, batch_fit)), ("published", published)):
        lr = lr_law.law.predict(table["n_params"], table["tokens"], **lr_law.params)
        batch = batch_law.law.predict(table["tokens"], **batch_law.params)
        table[f"lr_{label}"], table[f"batch_{label}"] = lr, batch
        keys = cells[["n_params", "tokens"]].itertuples(index=False)
        table[f"penalty_{label}"] = [
            relative_penalty(groups[tuple(key)], a, b)
            for key, a, b in zip(keys, lr, batch, strict=True)
        ]
    return table


def _warnings(cells: pd.DataFrame, rule: str) -> list[str]:
    messages = []
    edge = cells[cells["edge"] != ""]
    if len(edge):
        sides = sorted(set(", ".join(edge["edge"]).split(", ")))
        messages.append(
            f"{len(edge)} of {len(cells)} cells have their best run on the edge of the swept "
            f"grid ({'; '.join(sides)}): {_cell_names(edge)}. The optimum may lie outside; extend "
            "the sweep there"
        )
    single = cells[cells["n_band"] == 1]
    if rule == "band" and len(single):
        messages.append(
            f"{len(single)} cells have a single run in the near-optimal band: "
            f"{_cell_names(single)}. Their optimum rests on one noisy run; widen band= or add "
            "runs nearby"
        )
    if "smooth_fallback" in cells and cells["smooth_fallback"].any():
        fallback = cells[cells["smooth_fallback"]]
        messages.append(
            f"{len(fallback)} cells have no smooth minimum inside their runs (their best run is "
            f"used instead): {_cell_names(fallback)}"
        )
    return messages


def _cell_names(cells: pd.DataFrame) -> str:
    """``N=… D=…`` of each cell, for messages."""
    return ", ".join(f"N={n:.3g} D={d:.3g}" for n, d in cells[["n_params", "tokens"]].to_numpy())
