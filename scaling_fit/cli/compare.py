"""``scaling-fit compare``: backtest laws on held-out runs (:func:`scaling_fit.backtest`).

Each law is fitted on the runs that are not held out and predicts the held-out ones; stdout
gets a human table of per-law mean and worst relative errors, the error per held-out run (up
to 10 runs) and the stability sweep (with
``--format json``, the default of ``-o FILE``, the whole result; with ``--format csv`` one
table), stderr the warnings.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from .common import (
    UsageError,
    add_format_options,
    add_input_options,
    captured_warnings,
    check_output,
    emit,
    error,
    number,
    read_runs,
    warn_lines,
)
from .options import add_fit_options, add_jobs_option, add_laws_option, fit_arguments

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

HOLDOUT_HELP = (
    "runs to hold out: largest-compute (default), largest-n, largest-d, a threshold such as "
    "'n>=1e9', 'd>2e10' or 'compute>=1e21', or a fraction such as 0.2 (top share by compute)"
)
TABLES = ("errors", "summary", "stability", "ranking")
PER_RUN_SHOWN = 10  # the summary shows the error per held-out run up to this many runs
TARGET_FLAGS = {"target_n": "n_params", "target_tokens": "tokens", "target_compute": "compute"}


def add_parser(commands: Any, output: argparse.ArgumentParser) -> None:
    """Register the ``compare`` subcommand on ``commands`` (an argparse subparsers object)."""
    p = commands.add_parser(
        "compare", parents=[output], help="backtest laws: fit small runs, predict held-out ones"
    )
    p.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="log files or globs, TensorBoard log dirs, MLflow stores (sqlite:///mlflow.db)",
    )
    add_laws_option(p, "law to compare (repeat)")
    holdout = p.add_mutually_exclusive_group()
    holdout.add_argument("--holdout", default="largest-compute", help=HOLDOUT_HELP)
    holdout.add_argument(
        "--holdout-run", action="append", metavar="RUN", help="hold out this run (repeat)"
    )
    add_input_options(p)
    # No --points: backtest fits each run's final point. No --bootstrap: its result has no
    # intervals to show.
    add_fit_options(p, points=False)
    add_format_options(p, TABLES)
    add_jobs_option(p)
    target = "the target run; two of --target-n/--target-tokens/--target-compute choose a law"
    p.add_argument("--target-n", type=number, metavar="N", help=f"N of {target} (7B)")
    p.add_argument("--target-tokens", type=number, metavar="D", help=f"D of {target} (2T)")
    p.add_argument("--target-compute", type=number, metavar="C", help=f"FLOPs of {target}")
    p.add_argument(
        "--fit-unidentified",
        action="store_true",
        help="with a target: fit laws with more parameters than the runs' sizes identify",
    )
    p.set_defaults(func=run_compare)


def run_compare(args: argparse.Namespace) -> int:
    """Backtest the laws; print the tables, or write JSON or CSV.

    Parameters
    ----------
    args
        Parsed ``compare`` arguments.

    Returns
    -------
    int
        0, or 1 when a law's fit failed (the output is written all the same).
    """
    from ..analysis.backtest import backtest

    check_output(args.output, args.force, list(args.paths))
    target = {k: getattr(args, f) for f, k in TARGET_FLAGS.items() if getattr(args, f) is not None}
    if target:
        return _run_choose_law(args, target)
    if args.table == "ranking" or args.fit_unidentified:
        flag = "--table ranking" if args.table == "ranking" else "--fit-unidentified"
        raise UsageError(f"{flag} needs a target: give --target-n and --target-tokens")
    with captured_warnings() as caught:
        runs = read_runs(args)
        holdout = args.holdout if args.holdout_run is None else _run_mask(runs, args.holdout_run)
        options = fit_arguments(args)
        result = backtest(runs, args.laws, holdout, fit_options=options, n_jobs=args.n_jobs)
    warn_lines(args, caught)
    for law, messages in result.warnings.items():
        warn_lines(args, messages, f"{law}: ")
    per_run = result.errors["run"].nunique() <= PER_RUN_SHOWN
    summary = result.report(per_run=per_run)
    emit(args, summary, result.to_dict, lambda table: getattr(result, table))
    failed = result.summary.loc[result.summary["error"] != "", ["law", "error"]]
    if len(failed):
        details = "; ".join(f"{law}: {message}" for law, message in failed.to_numpy())
        error(f"the fit of {len(failed)} law(s) failed ({details}); the output was written")
        return 1
    return 0


def _run_choose_law(args: argparse.Namespace, target: dict[str, float]) -> int:
    """``compare --target-n … --target-tokens …``: :func:`scaling_fit.choose_law`."""
    from ..analysis.choose_law import choose_law

    if args.holdout_run is not None or args.holdout != "largest-compute":
        raise UsageError(
            "--holdout/--holdout-run choose a backtest's held-out runs; with a target "
            "(--target-n/--target-tokens/--target-compute) the backtest is shaped like the "
            "target: drop one of them"
        )
    with captured_warnings() as caught:
        runs = read_runs(args)  # --col, --where, --nan-policy as without a target
        options = fit_arguments(args)  # --fix, --tie, --loss, --delta
        result = choose_law(
            runs, args.laws, target, fit_options=options, n_jobs=args.n_jobs,
            fit_unidentified=args.fit_unidentified,
        )  # fmt: skip
    warn_lines(args, caught)
    emit(args, result.report(), result.to_dict, result.table)
    return 0


def _run_mask(runs: pd.DataFrame, names: list[str]) -> np.ndarray:
    """Boolean mask over the rows of ``runs``: the rows of the named runs."""
    import pandas as pd

    known = list(pd.unique(runs["run"]))
    unknown = [name for name in names if name not in known]
    if unknown:
        shown = ", ".join(known[:8]) + (", …" if len(known) > 8 else "")
        raise UsageError(
            f"--holdout-run names unknown run(s) {unknown}; the runs are named {shown} "
            "(the 'run' column, or file stem:row)"
        )
    return runs["run"].isin(names).to_numpy()
