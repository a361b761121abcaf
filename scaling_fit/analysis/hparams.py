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
"relative error"; 0.94 ‰ for their law on their grid), read off the grid, or along the two
lines through the best run when the cell is a "cross" (:mod:`.hparams_penalty`).

Sweeps as people run them: a full grid, a cross (LR varied at one batch size, batch varied
at one LR), an LR-only sweep at one batch size per cell (η* is fitted, B* is not identified:
``HparamsResult.batch`` is None) and cells of one or two runs. Diverged runs (NaN or
infinite loss, or more than ``DIVERGED_RATIO`` times the cell's best) are counted and left
out of the optimum and the penalty.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd

from .._version import __version__
from ..arguments import check, checked
from ..errors import DataError, ScalingFitWarning
from ..inputs.load import canonical_frame, load_runs, parse_number
from ..laws import Law, get_law
from ..results.fit_result import FitResult
from ..results.hparams_result import HparamsResult
from .hparams_cells import DIVERGED_RATIO, RULES, cell_optima, diverged
from .hparams_penalty import NEXT_TO_DIVERGED, cell_penalty

NEEDED = ("n_params", "tokens", "lr", "batch_size", "loss")
# A bootstrap resample whose normal equations are this ill-conditioned (e.g. all cells drawn
# at one N) cannot determine the exponents: it is left out of the intervals.
MAX_CONDITION = 1e12
# Intervals are reported only when at least this share of the resamples determines the law;
# below it the percentiles would describe the few lucky resamples, not the sweep.
MIN_DETERMINED = 0.5
# Fewer resamples than this give no percentile interval worth the name.
MIN_RESAMPLES = 20
# Batch sizes in tokens are >= 2**14 in published sweeps (Step Law: 2**15 and up); a sweep
# whose every batch size is below this counts sequences (e.g. 64-512 of 2,048 tokens).
SEQUENCE_LIKE = 2**14
# A near-optimal band wider than the best loss itself (100 %) keeps every run of a cell.
MAX_BAND = 100.0
# Longest sequence a seq_len may give: 16M tokens, far above any context length in use.


@checked
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
        :func:`scaling_fit.load_runs` reads (its aliases and unit suffixes apply). A
        DataFrame's NaN or infinite loss is a diverged run whatever the column is called; a
        file's is refused by the loader (drop it with ``--nan-policy omit``).
    rule
        ``"band"`` (default): all runs within ``band`` % of their cell's best, as Step Law.
        ``"smooth"``: one point per cell, the minimum of a quadratic in (log lr, log batch)
        (along each line through the best run when the cell is not a 2-D grid).
        On the Step Law dense sweep the band rule's law has the lower loss penalty on cells
        left out of its fit (1.08 ‰ against 1.66 ‰, docs/validation.md), so it is the default.
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
        ``lr`` and ``batch`` (FitResults of the ``steplaw_lr`` / ``steplaw_batch`` forms;
        ``batch`` is None when no cell varies the batch size at two or more token counts),
        the per-cell table with penalties, and the warnings.

    Notes
    -----
    Each law is fitted to the cells that vary its quantity: a cell whose converged runs share
    one batch size (an LR-only line) gives the lr law a point, not the batch law. A run with
    a NaN or infinite loss, or more than 1.5 times its cell's best
    (:data:`~scaling_fit.analysis.hparams_cells.DIVERGED_RATIO`; on the Step Law dense sweep
    no run lies between 1.22 and 1.70 times its cell's best) diverged: it is left out, and
    counted per cell (``cells["n_diverged"]``, a line of :meth:`HparamsResult.report`).
    Diverging at high learning rates is what a sweep expects, so it is no warning; a cell
    whose every run diverged, and a law's choice next to a diverged run, are.
    """
    if rule not in RULES:
        raise DataError(f"rule={rule!r} is not supported: expected one of {', '.join(RULES)}")
    if not (isinstance(band, Real) and not isinstance(band, bool) and 0 < band <= MAX_BAND):
        raise DataError(
            f"band={band!r} (--band) must be a percentage of the best loss, 0 < band <= "
            f"{MAX_BAND:g}, e.g. 0.25"
        )
    table = _sweep_table(sweep, seq_len, columns)
    units = _unit_warnings(table, seq_len)
    _check_swept(table)
    lost = _lost_cells(table)
    if _diverged_everywhere(table):
        raise DataError(
            f"every run of the sweep diverged (NaN or inf loss in all {len(table)} runs), so "
            "no cell holds an optimum; expected converged runs (finite losses). Rerun at "
            "lower learning rates"
        )
    cells, points = cell_optima(table, rule, band)
    lr_cells = cells[cells["swept"].str.contains("lr")]
    if lr_cells["n_params"].nunique() < 2 or lr_cells["tokens"].nunique() < 2:
        raise DataError(_too_few_lr_cells(cells, lr_cells) + "".join(f"; {m}" for m in lost))
    options = {"rule": rule, "band": band, "seq_len": seq_len, "bootstrap": bootstrap}
    options["seed"] = seed
    lr_fit, batch_fit, notes = _fit_laws(cells, points, options)
    cells = _penalties(cells, table, lr_fit, batch_fit)
    fitted = [m for fit in (lr_fit, batch_fit) if fit is not None for m in fit.warnings]
    messages = [*units, *lost, *_unused_cells(cells), *notes, *fitted]
    messages += _warnings(cells, rule)
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
        prediction falls outside the cell's swept runs or next to a diverged run; NaN
        batch_size when the other cells do not identify B*).
    """
    table = _sweep_table(sweep, options.pop("seq_len", None), options.pop("columns", None))
    options["bootstrap"] = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScalingFitWarning)
        fit_hparams(table, **options)  # bad options or sweep: their own error, not a refit's
    rows = []
    for (n, d), held in table.groupby(["n_params", "tokens"], sort=True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ScalingFitWarning)  # the full fit reports them
            try:
                result = fit_hparams(table.drop(index=held.index), **options)
            except DataError as exc:
                raise DataError(
                    f"holdout_penalty: without the cell N={n:.3g} D={d:.3g} the other cells "
                    f"cannot be fitted: {exc}. Each leave-one-cell-out refit needs the rest "
                    "to hold 2 model sizes and 2 token counts that vary lr"
                ) from None
        lr = float(result.lr.law.predict(n, d, **result.lr.params))
        batch = np.nan  # not identified: lr is scored at the cell's best batch size
        if result.batch is not None:
            batch = float(result.batch.law.predict(d, **result.batch.params))
        penalty = cell_penalty(held, lr, batch)[0]
        rows.append({"n_params": n, "tokens": d, "lr": lr, "batch_size": batch, "penalty": penalty})
    return pd.DataFrame(rows)


def _sweep_table(
    sweep: Any, seq_len: int | None, columns: Mapping[str, str] | None
) -> pd.DataFrame:
    tidy = isinstance(sweep, pd.DataFrame) and set(NEEDED) <= set(sweep.columns)
    if tidy and not columns:  # e.g. load_runs' own table: its other columns are not renamed
        table = sweep.copy()
    elif isinstance(sweep, pd.DataFrame):  # named as load_runs names them; NaN/inf loss kept
        table = canonical_frame(sweep, columns)
    else:
        table = load_runs(sweep, columns=columns)
    missing = [c for c in NEEDED if c not in table.columns]
    if missing:
        raise DataError(
            f"a sweep needs columns {list(NEEDED)} (one row per run); missing {missing}. Map "
            "yours with columns={...} (CLI: --col NAME=COLUMN)"
        )
    if not len(table):
        raise DataError("the sweep has no runs; expected one row per run of the sweep")
    if "run" not in table.columns:
        table["run"] = [f"row{i}" for i in range(len(table))]
    for column in NEEDED:  # text as load_runs reads it ("125M", "3e-4"); NaN stays NaN
        if not pd.api.types.is_numeric_dtype(table[column]):
            table[column] = [_as_number(cell) for cell in table[column]]
    _check_sweep_values(table)
    if seq_len is not None:
        check("seq_len", seq_len, "fit_hparams")  # also for holdout_penalty(**options)
        table["batch_size"] = table["batch_size"].astype(float) * float(seq_len)
    return table


def _check_sweep_values(table: pd.DataFrame) -> None:
    """DataError naming the first run whose n_params, tokens, lr, batch_size or loss is not a
    finite number > 0 (logarithms of all of them are taken); a NaN or +inf loss is allowed
    (a diverged run)."""
    for column in NEEDED:
        if pd.api.types.is_bool_dtype(table[column]):
            raise DataError(
                f"sweep column {column!r} holds True/False; expected numbers (the "
                f"{column} of each run). Map the right column with columns={{...}}"
            )
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(float)
        bad = ~(np.isfinite(values) & (values > 0))
        if column == "loss":  # a diverged run: NaN as given (not text) or +inf
            bad &= ~((table[column].isna().to_numpy() & np.isnan(values)) | (values == np.inf))
        if bad.any():
            first = int(np.argmax(bad))
            loss = " (NaN or inf marks a diverged run)" if column == "loss" else ""
            raise DataError(
                f"sweep run {table['run'].iloc[first]!r}, column {column!r}: expected a finite "
                f"number > 0{loss}, found {_shown(table[column].iloc[first])}; fix or drop "
                f"that run ({int(bad.sum())} of {len(values)} runs are bad)"
            )
    table[list(NEEDED)] = table[list(NEEDED)].astype(float)


def _check_swept(table: pd.DataFrame) -> None:
    """DataError when no (N, D) cell tries more than one lr: the sweep then holds no optimal
    lr to fit (one batch size per cell is an LR-only sweep: B* is then not identified)."""
    cells = table.groupby(["n_params", "tokens"])
    if cells["lr"].nunique().max() < 2:
        batch_only = cells["batch_size"].nunique().max() > 1
        what = " (it varies only the batch size: a batch-only sweep)" if batch_only else ""
        raise DataError(
            f"no (n_params, tokens) cell of the sweep has runs at more than one lr{what}, so "
            "none has an optimal lr to fit; expected a sweep (several lr values per cell, e.g. "
            "4 learning rates x 3 batch sizes, or an LR line at one batch size)"
        )


def _as_number(cell: Any) -> Any:
    """A cell of a tidy sweep DataFrame as a float when :func:`parse_number` reads it (125M,
    3e-4, 1,000); a missing cell as NaN; anything else as given, for the error to quote."""
    if cell is None or (isinstance(cell, float) and np.isnan(cell)):
        return np.nan
    try:
        return parse_number(cell)
    except ValueError:
        return cell


def _shown(value: Any) -> str:
    """A cell for a message: a number as written, anything else quoted."""
    if isinstance(value, Real) and not isinstance(value, bool):
        return f"{float(value):g}"
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    return f"{float(number):g}" if pd.notna(number) else repr(value)


def _unit_warnings(table: pd.DataFrame, seq_len: int | None) -> list[str]:
    """A message when every batch size is small enough to count sequences, not tokens, or
    (with ``seq_len``) large enough to count tokens already."""
    sizes = table["batch_size"].astype(float)
    if seq_len is not None and len(sizes) and sizes.min() / seq_len >= SEQUENCE_LIKE:
        given = sizes / seq_len
        return [
            f"every batch_size is {SEQUENCE_LIKE:,} or more ({given.min():g} to "
            f"{given.max():g}) before seq_len={seq_len:g} multiplies it, so "
            f"{sizes.min():.3g} to {sizes.max():.3g} tokens per step: they look like tokens "
            "already. Leave out seq_len= (--seq-len) if batch_size counts tokens"
        ]
    if seq_len is not None or not len(sizes) or sizes.max() >= SEQUENCE_LIKE:
        return []
    return [
        f"every batch_size is below {SEQUENCE_LIKE:,} ({sizes.min():g} to {sizes.max():g}): they "
        "look like sequences, but the laws count tokens per step; B* is fitted and reported in "
        "the sweep's own unit, and the published law (tokens) cannot be scored on it. Pass "
        "seq_len= (--seq-len) with the tokens per sequence, e.g. --seq-len 2048"
    ]


def _power_fit(
    law: Law, points: pd.DataFrame, inputs: tuple[str, ...], counts: np.ndarray, options: dict
) -> FitResult:
    """OLS of ln(output) on ln(inputs), and its bootstrap over cells, as a FitResult."""
    design = np.column_stack([np.ones(len(points))] + [np.log(points[c]) for c in inputs])
    target = np.log(points[law.output].to_numpy(float))
    coef, *_ = np.linalg.lstsq(design, target, rcond=None)
    residuals = design @ coef - target
    cell = np.unique(points["cell"].to_numpy(), return_inverse=True)[1].reshape(-1)
    notes = _determination(law, design, cell, inputs)
    samples = correlation = None
    if len(counts) and not notes:
        finite, notes = _determined(law, _bootstrap(design, target, cell, counts))
        if finite is not None:
            samples = _natural(finite)
            with np.errstate(invalid="ignore", divide="ignore"):  # a constant column: NaN
                correlation = np.corrcoef(finite, rowvar=False)
    names = law.param_names
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
        warnings=tuple(notes),
        options={
            "loss": "mse",
            "delta": None,
            "points_note": f"fit_hparams, rule {options['rule']}: OLS in log space",
            "source": "scaling_fit.fit_hparams",
            **options,
        },
        data=data,
        samples=samples,
        correlation=correlation,
        version=__version__,
    )


def _determination(
    law: Law, design: np.ndarray, cell: np.ndarray, inputs: tuple[str, ...]
) -> list[str]:
    """Why the sweep's cells cannot give the law intervals (empty when they can)."""
    first = np.unique(cell, return_index=True)[1]
    cells = design[first]
    count = len(law.param_names)
    singular = np.linalg.cond(cells.T @ cells) >= MAX_CONDITION
    if singular and (len(inputs) == 1 or np.ptp(cells[:, -1]) < 1e-6):
        return [
            f"law {law.name}: the cells' token counts are too close together to determine "
            "the tokens exponent, and no intervals are given; add cells at other token counts"
        ]
    if singular:
        ratio = np.exp(cells[:, -1] - cells[:, 1])
        spread = f"{ratio.min():.3g}" + ("" if np.ptp(ratio) < 0.01 else f" to {ratio.max():.3g}")
        return [
            f"law {law.name}: ln n_params and ln tokens vary together across the "
            f"{len(cells)} cells (tokens per parameter {spread}), so the exponents a and b "
            "cannot be told apart: only predictions at those tokens per parameter are "
            "determined, and no intervals are given. Add cells with other token counts at "
            "the same model size"
        ]
    if len(cells) <= count:
        return [
            f"law {law.name}: no intervals: a bootstrap over cells needs more cells than the "
            f"law's {count} parameters, and the sweep has {len(cells)}; add cells at other "
            "model sizes or token counts"
        ]
    return []


def _determined(law: Law, coefficients: np.ndarray) -> tuple[np.ndarray | None, list[str]]:
    """The resamples' coefficients that determine the law, or None and the reason."""
    finite = coefficients[np.all(np.isfinite(coefficients), axis=1)]
    if len(coefficients) < MIN_RESAMPLES:
        return None, [
            f"law {law.name}: no intervals from {len(coefficients)} bootstrap resamples; "
            f"pass bootstrap= (--bootstrap) of {MIN_RESAMPLES} or more, e.g. 1000"
        ]
    if len(finite) < MIN_DETERMINED * len(coefficients):
        return None, [
            f"law {law.name}: no intervals: only {len(finite)} of {len(coefficients)} "
            "bootstrap resamples of the cells determine it (the others draw too few distinct "
            "cells); add cells at other model sizes or token counts"
        ]
    return finite, []


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


def _fit_laws(
    cells: pd.DataFrame, points: pd.DataFrame, options: dict
) -> tuple[FitResult, FitResult | None, list[str]]:
    """The lr law on the cells that vary lr, the batch law on those that vary the batch size
    (None, with the reason, when they do not identify it), each with its bootstrap."""
    rng = np.random.default_rng(options["seed"])
    size = options["bootstrap"]
    counts = rng.multinomial(len(cells), np.full(len(cells), 1.0 / len(cells)), size=size)
    fits, notes = [], []
    for law, inputs, quantity in (
        ("steplaw_lr", ("n_params", "tokens"), "lr"),
        ("steplaw_batch", ("tokens",), "batch"),
    ):
        used = cells.loc[cells["swept"].str.contains(quantity), "cell"].to_numpy()
        if quantity == "batch" and cells.loc[used, "tokens"].nunique() < 2:
            notes.append(_not_identified(cells, used))
            fits.append(None)
            continue
        chosen = points[points["cell"].isin(used)]
        fits.append(_power_fit(get_law(law), chosen, inputs, _counts(counts, used, rng), options))
    return fits[0], fits[1], notes


def _counts(counts: np.ndarray, used: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Resample counts over the cells a law is fitted to: the shared draw when that is every
    cell, else a draw over those cells only (columns in the order of ``used``)."""
    if len(used) == counts.shape[1] or not len(counts):
        return counts[:, used] if len(counts) else np.zeros((0, len(used)), dtype=int)
    return rng.multinomial(len(used), np.full(len(used), 1.0 / len(used)), size=len(counts))


def _not_identified(cells: pd.DataFrame, used: np.ndarray) -> str:
    """Why B* is not identified: no cell varies the batch size, or those that do share one
    token count."""
    if not len(used):
        where = "no cell varies the batch size (an LR-only sweep)"
    else:
        where = (
            f"the {len(used)} cells that vary the batch size all have tokens="
            f"{cells.loc[used, 'tokens'].iloc[0]:.3g}, and B*(D) needs two token counts"
        )
    return (
        f"B* is not identified: {where}. The batch law is not fitted (HparamsResult.batch is "
        "None); lr* is the optimal LR at each cell's swept batch size, and the penalties are "
        "read along the LR line at that batch size. Vary the batch size at one LR in cells at "
        "two or more token counts to fit B*"
    )


def _diverged_everywhere(table: pd.DataFrame) -> bool:
    """Whether no run of the sweep has a finite loss."""
    return not np.isfinite(table["loss"].to_numpy(float)).any()


def _lost_cells(table: pd.DataFrame) -> list[str]:
    """A message naming the cells whose every run diverged (they hold no optimum)."""
    lost = [
        key
        for key, runs in table.groupby(["n_params", "tokens"], sort=True)
        if diverged(runs["loss"]).all()
    ]
    if not lost:
        return []
    names = ", ".join(f"N={n:.3g} D={d:.3g}" for n, d in lost)
    return [
        f"every run of {len(lost)} cells diverged (NaN or inf loss): {names}; they hold no "
        "optimum and are left out. Rerun them at lower learning rates"
    ]


def _too_few_lr_cells(cells: pd.DataFrame, lr_cells: pd.DataFrame) -> str:
    """Why the lr law cannot be fitted: too few distinct N or D among the cells whose
    converged runs vary lr, and how many cells lost their LR line to diverged runs."""
    message = (
        f"the cells that vary lr have {lr_cells['n_params'].nunique()} distinct n_params and "
        f"{lr_cells['tokens'].nunique()} distinct tokens values; the lr law needs at least 2 "
        "of each"
    )
    flat = cells[~cells["swept"].str.contains("lr")]
    if len(flat):
        lost = int(flat["n_diverged"].sum())
        message += f"; {len(flat)} of {len(cells)} cells have converged runs at one lr only"
        if lost:
            message += (
                f" ({lost} of their runs diverged: NaN/inf loss or above "
                f"{DIVERGED_RATIO:g}x the cell's best; rerun those at lower learning rates)"
            )
    return message + " (add cells at other model sizes or token counts)"


def _unused_cells(cells: pd.DataFrame) -> list[str]:
    """A message naming the cells whose converged runs share one lr and one batch size:
    they hold no optimum, and neither law uses them."""
    unused = cells[cells["swept"] == ""]
    if not len(unused):
        return []
    lost = int(unused["n_diverged"].sum())
    why = ""
    if lost:
        why = (
            f" Their other {lost} runs count as diverged (NaN/inf loss, or above "
            f"{DIVERGED_RATIO:g}x the cell's best): if they did not diverge, check the best "
            "run's loss for a logging error."
        )
    return [
        f"{len(unused)} of {len(cells)} cells have their converged runs at a single (lr, "
        f"batch size): {_cell_names(unused)}.{why} They hold no optimum and neither law uses "
        "them; add runs at other learning rates there"
    ]


def _penalties(
    cells: pd.DataFrame, sweep: pd.DataFrame, lr_fit: FitResult, batch_fit: FitResult | None
) -> pd.DataFrame:
    """Per cell, the relative loss penalty at the fitted and at the published law's choice,
    and how it was read (``how_fitted``, ``how_published``: grid, lines, scattered or why
    it is NaN). Without a fitted batch law (an LR-only sweep) both laws' lr is scored at each
    cell's best batch size, so the two penalties compare the same thing."""
    published = (FitResult.from_params("steplaw_lr"), FitResult.from_params("steplaw_batch"))
    groups = dict(iter(sweep.groupby(["n_params", "tokens"], sort=True)))
    table = cells.copy()
    for label, (lr_law, batch_law) in (("fitted", (lr_fit, batch_fit)), ("published", published)):
        lr = lr_law.law.predict(table["n_params"], table["tokens"], **lr_law.params)
        batch = np.full(len(table), np.nan)
        if batch_fit is not None:
            batch = batch_law.law.predict(table["tokens"], **batch_law.params)
        table[f"lr_{label}"], table[f"batch_{label}"] = lr, batch
        keys = cells[["n_params", "tokens"]].itertuples(index=False)
        scored = [
            cell_penalty(groups[tuple(key)], a, b)
            for key, a, b in zip(keys, lr, batch, strict=True)
        ]
        table[f"penalty_{label}"] = [value for value, _ in scored]
        table[f"how_{label}"] = [how for _, how in scored]
    return table


def _warnings(cells: pd.DataFrame, rule: str) -> list[str]:
    messages = []
    for label in ("fitted", "published"):
        penalty, how = cells[f"penalty_{label}"], cells[f"how_{label}"]
        if penalty.isna().all() and cells[f"batch_{label}"].isna().all():  # LR-only
            messages.append(
                f"the {label} law's lr lies outside the swept LR line of every cell (or next "
                "to a diverged run), so its loss penalty is not measured (NaN); extend the "
                "LR lines towards it to score it"
            )
        elif penalty.isna().all():
            messages.append(
                f"the {label} law's (lr, batch size) lies outside the swept runs of every "
                "cell (or no cell varies both), so its loss penalty is not measured (NaN); "
                "check that batch_size is in tokens per step (seq_len= (--seq-len) converts "
                "sequences)"
            )
        elif (how == NEXT_TO_DIVERGED).any():
            near = cells[how == NEXT_TO_DIVERGED]
            messages.append(
                f"the {label} law's (lr, batch size) lies between a converged and a diverged "
                f"run in {len(near)} cells ({_cell_names(near)}): their penalty is not "
                "measured (NaN), and a run there risks diverging"
            )
    edge = cells[cells["edge"] != ""]
    if len(edge):
        sides = sorted(set(", ".join(edge["edge"]).split(", ")))
        messages.append(
            f"{len(edge)} of {len(cells)} cells have their best run on the edge of the swept "
            f"grid ({'; '.join(sides)}): {_cell_names(edge)}. The optimum may lie outside; extend "
            "the sweep there"
        )
    single = cells[(cells["n_band"] == 1) & (cells["swept"] != "")]  # unused: said already
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
