"""``scaling-fit isoflop``: compute-optimal N*(C) and D*(C) from isoFLOP profiles.

Runs :func:`scaling_fit.isoflop` (Hoffmann et al. 2022, Approach 2) on all runs, or once per
group of ``--group-by`` columns (e.g. one per experimental configuration).  Stdout: one
summary line per group (the power-law fits N*(C) = k·C^a, D*(C) = k_D·C^b with 95 %
intervals; at most 20 groups, then a count), or with ``--format json`` (the default of ``-o
FILE``) the whole result, or as CSV the per-budget optima (``--table optima``) or the fits
(``--table fits``); stderr: warnings (optimum at the edge of a budget's sampled N, too few
points).
"""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING, Any

from ..errors import DataError
from .common import (
    UsageError,
    add_format_options,
    add_input_options,
    captured_warnings,
    check_output,
    emit,
    number,
    read_runs,
    shortened,
    warn_lines,
)
from .options import add_bootstrap_options

if TYPE_CHECKING:
    import pandas as pd

    from ..results.isoflop_result import IsoflopResult

GROUPS_FORMAT = "scaling_fit.IsoflopGroups/1"
TABLES = ("optima", "fits")
SHOWN = 20  # groups in the summary
OPTIMA = ["budget", "n_opt", "tokens_opt", "loss_opt", "n_points", "n_local", "flag", "note"]


def add_parser(commands: Any, output: argparse.ArgumentParser) -> None:
    """Register the ``isoflop`` subcommand on ``commands`` (an argparse subparsers object)."""
    p = commands.add_parser(
        "isoflop", parents=[output], help="compute-optimal N*(C), D*(C) from isoFLOP profiles"
    )
    p.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="log files or globs, TensorBoard log dirs, MLflow stores (sqlite:///mlflow.db)",
    )
    p.add_argument(
        "--group-by",
        action="append",
        default=[],
        metavar="COL",
        help="one analysis per value of COL (repeat for several columns)",
    )
    add_input_options(p)
    add_bootstrap_options(p, default=1000)
    p.add_argument(
        "--budget-rtol",
        type=number,
        metavar="R",
        help="runs whose compute is within a factor 1+R share a budget (default: equal values)",
    )
    p.add_argument("--keep-flagged", action="store_true", help="fit flagged budgets too")
    p.add_argument(
        "--min-side",
        type=int,
        default=2,
        metavar="K",
        help="sampled N needed on each side of a budget's optimum, else it is near_edge (2)",
    )
    p.add_argument(
        "--method",
        default="auto",
        metavar="RULE",
        help="window of each budget's parabola: auto (default: the basin of a dense profile, "
        "else 3 points), local (lowest point and its 2 neighbours) or quadratic (whole profile)",
    )
    add_format_options(p, TABLES)
    p.set_defaults(func=run_isoflop)


def run_isoflop(args: argparse.Namespace) -> int:
    """Analyse the runs (per group); print a summary, or write JSON or CSV.

    Parameters
    ----------
    args
        Parsed ``isoflop`` arguments.

    Returns
    -------
    int
        0 (a group that cannot be analysed is an input error, exit 2).
    """

    check_output(args.output, args.force, list(args.paths))
    with captured_warnings() as caught:
        runs = read_runs(args)
    warn_lines(args, caught)
    results = [(key, _analyse(args, key, table)) for key, table in _groups(runs, args.group_by)]
    lines = [f"{_label(key) or 'isoflop'}: {_summary(result)}" for key, result in results]
    how = "all: --format json or csv"
    summary = "\n".join(shortened(lines, SHOWN, "groups", how))
    emit(args, summary, lambda: _json(args.group_by, results), lambda t: _table(t, results))
    return 0


def _groups(runs: pd.DataFrame, columns: list[str]) -> list[tuple[dict, pd.DataFrame]]:
    """(group key as {column: value}, its runs) per group; one group without --group-by."""
    if not columns:
        return [({}, runs)]
    missing = [c for c in columns if c not in runs.columns]
    if missing:
        raise UsageError(f"--group-by names missing column(s) {missing}; found {list(runs)}")
    groups = runs.groupby(columns, sort=True, dropna=False)
    return [(dict(zip(columns, map(_plain, key), strict=True)), table) for key, table in groups]


def _analyse(args: argparse.Namespace, key: dict, table: pd.DataFrame) -> IsoflopResult:
    """isoflop() on one group; its warnings on stderr, its errors naming the group."""
    from ..analysis.isoflop import isoflop

    with captured_warnings() as caught:
        try:
            result = isoflop(
                table,
                grouping=args.budget_rtol,
                method=args.method,
                bootstrap=args.bootstrap,
                seed=args.seed,
                keep_flagged=args.keep_flagged,
                min_side=args.min_side,
            )
        except DataError as exc:
            where = f"group {_label(key)}: " if key else ""
            raise DataError(where + str(exc)) from None
    prefix = f"{_label(key)}: " if key else ""
    warn_lines(args, caught, prefix)
    return result


def _json(group_by: list[str], results: list[tuple[dict, IsoflopResult]]) -> dict[str, Any]:
    """The result of the one analysis, or every group's result with its key."""
    if len(results) == 1 and not results[0][0]:
        return results[0][1].to_dict()
    groups = [{"group": key, **result.to_dict()} for key, result in results]
    return {"format": GROUPS_FORMAT, "group_by": list(group_by), "groups": groups}


def _table(table: str, results: list[tuple[dict, IsoflopResult]]) -> pd.DataFrame:
    """The optima or the fits of every group, one table."""
    import pandas as pd

    rows = _optima if table == "optima" else _fits
    return pd.concat([rows(key, result) for key, result in results], ignore_index=True)


def _optima(key: dict, result: IsoflopResult) -> pd.DataFrame:
    """Per-budget optima of one group, group columns first."""
    import pandas as pd

    table = result.budgets[[*OPTIMA, "used"]]
    return pd.concat([pd.DataFrame([key] * len(table)), table.reset_index(drop=True)], axis=1)


def _fits(key: dict, result: IsoflopResult) -> pd.DataFrame:
    """One row: group columns, a, k, b, k_D with 95 % bounds, R², budgets used."""
    import pandas as pd

    row: dict[str, Any] = dict(key)
    for name, interval in result.ci95.items():
        row[name] = result.params[name]
        row[f"{name}_lower"], row[f"{name}_upper"] = interval or (math.nan, math.nan)
    row["r2_n"], row["r2_tokens"] = result.r2["n"], result.r2["tokens"]
    row["budgets_used"] = result.options["budgets_used"]
    row["budgets_flagged"] = result.options["budgets_flagged"]
    return pd.DataFrame([row])


def _summary(result: IsoflopResult) -> str:
    p, ci = result.params, result.ci95

    def show(name: str) -> str:
        bounds = "" if ci[name] is None else " [{:.4g}, {:.4g}]".format(*ci[name])
        return f"{name} = {p[name]:.4g}{bounds}"

    used, flagged = result.options["budgets_used"], result.options["budgets_flagged"]
    return (
        f"N* = k*C^a with {show('a')}, {show('k')}; D* = k_D*C^b with {show('b')}, "
        f"{show('k_D')}; {used} budgets used, {flagged} flagged"
    )


def _label(key: dict) -> str:
    return ", ".join(f"{column}={value}" for column, value in key.items())


def _plain(value: Any) -> Any:
    """A group value as a JSON-ready Python scalar."""
    return value.item() if hasattr(value, "item") else value
