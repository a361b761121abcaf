"""``scaling-fit predict``: losses, compute-optimal allocations or loss curves from a fit.

An L(N, D) fit predicts the loss over a grid (``--n-params`` × ``--tokens``) or the
compute-optimal N, D and loss per budget (``--compute``; cost model C = K·N·D with K = 6
unless ``--flops-per-param-token``), with bootstrap intervals (``--level``, 0.95).  A
loss-curve fit predicts ``step, lr, loss`` under a schedule (``--schedule SPEC``, every
``--every`` steps or at ``--steps``), and with ``--level P`` the bootstrap band ``lower,
upper``; a schedule longer than the fitted runs adds ``loss_lower, loss_upper``, the
interval of the law's measured length extrapolation, and warns
(:mod:`scaling_fit.results.length_band`).  Stdout gets the table, readable (at most 20
rows, then a count), or with ``--format csv`` (the default of ``-o FILE``) as CSV, or with
``--format json`` one array per column.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..inputs.columns import FLOPS_PER_PARAM_TOKEN
from .common import (
    PROG,
    ResultError,
    UsageError,
    add_format_options,
    captured_warnings,
    check_output,
    count,
    emit,
    load_fit,
    number,
    positive,
    say,
    warn_lines,
)

if TYPE_CHECKING:
    from ..results.fit_result import FitResult

HELP = f"see `{PROG} predict --help`"
# Default stride of a predicted loss curve: a 24k-step schedule gives 240 rows.
DEFAULT_EVERY = 100
DEFAULT_LEVEL = 0.95  # interval columns of L(N, D) predictions


def add_parser(commands: Any, output: argparse.ArgumentParser) -> None:
    """Register the ``predict`` subcommand on ``commands`` (an argparse subparsers object)."""
    p = commands.add_parser("predict", parents=[output], help="predict from a fit, write CSV")
    p.add_argument("fit_json", metavar="FIT.json", help="JSON written by `scaling-fit fit`")
    p.add_argument("--n-params", nargs="+", type=number, metavar="N", help="model sizes")
    p.add_argument("--tokens", nargs="+", type=number, metavar="D", help="training tokens")
    p.add_argument("--compute", nargs="+", type=number, metavar="C", help="FLOP budgets")
    p.add_argument(
        "--flops-per-param-token",
        type=number,
        metavar="K",
        help=f"cost model C = K*N*D of --compute (default {FLOPS_PER_PARAM_TOKEN:g})",
    )
    p.add_argument("--schedule", metavar="SPEC", help="curve laws: the LR schedule to predict")
    p.add_argument(
        "--every",
        type=positive,
        metavar="K",
        help=f"curve laws: every K-th step after warm-up, and the last (default {DEFAULT_EVERY})",
    )
    p.add_argument("--steps", nargs="+", type=count, metavar="STEP", help="curve laws: steps")
    p.add_argument(
        "--level",
        type=number,
        metavar="P",
        help="bootstrapped fits: columns lower, upper of the central P interval (L(N, D) laws: "
        "always, P = 0.95 by default; curve laws: when given)",
    )
    p.add_argument(
        "--allow-unconverged",
        action="store_true",
        help="predict from a fit that did not converge (with a warning) instead of exit 1",
    )
    add_format_options(p, ("predictions",))
    p.set_defaults(func=run_predict)


def run_predict(args: argparse.Namespace) -> int:
    """Print the predictions of a saved fit, or write them as CSV or JSON.

    Parameters
    ----------
    args
        Parsed ``predict`` arguments.

    Returns
    -------
    int
        0. Raises :class:`UsageError` (exit 2) for options that do not suit the fit's law
        and :class:`ResultError` (exit 1) when the law has no compute-optimal allocation.
    """
    import pandas as pd

    from ..results.predictions_result import PredictionsResult

    check_output(args.output, args.force, [args.fit_json])
    result = load_fit(args.fit_json)
    curve = result.law.fits_curves
    _check_options(args, result, curve)
    allow = args.allow_unconverged
    with captured_warnings() as caught:
        if curve:
            table = _curve(result, args)
        elif args.compute is not None:
            table = _allocation(result, args.compute, args.flops_per_param_token, args.level, allow)
        else:
            table = _grid(result, args.n_params, args.tokens, args.level, allow)
    if args.compute is not None:
        say(args, f"cost model: {table['cost_model'].iloc[0]} (K set by --flops-per-param-token)")
    warn_lines(args, caught)
    predictions = PredictionsResult(pd.DataFrame(table))
    emit(
        args,
        predictions.report(),
        predictions.to_dict,
        lambda _name: table,
        file_default="csv",
        echo=False,
    )
    return 0


def _check_options(args: argparse.Namespace, result: FitResult, curve: bool) -> None:
    """UsageError for options that do not suit the law (curve vs L(N, D)) or each other."""
    name = result.law.name
    flags = {
        "--n-params": args.n_params,
        "--tokens": args.tokens,
        "--compute": args.compute,
        "--flops-per-param-token": args.flops_per_param_token,
        "--schedule": args.schedule,
        "--every": args.every,
        "--steps": args.steps,
    }
    used = [flag for flag, value in flags.items() if value is not None]
    if curve:
        wrong = [flag for flag in used if flag not in ("--schedule", "--every", "--steps")]
        if wrong or args.schedule is None:
            what = f"{wrong[0]} is for L(N, D) laws; " if wrong else ""
            raise UsageError(
                f"{what}law {name!r} is a loss-curve law: predict its curve with --schedule SPEC "
                f"[--every K | --steps STEP ...] ({HELP})"
            )
        if args.every is not None and args.steps is not None:
            raise UsageError(f"give --every or --steps, not both ({HELP})")
        return
    wrong = [flag for flag in used if flag in ("--schedule", "--every", "--steps")]
    if wrong:
        raise UsageError(
            f"{wrong[0]} is for loss-curve laws (multipower, lr_annealing); law {name!r} takes "
            f"{list(result.law.inputs)}: use --n-params and --tokens, or --compute ({HELP})"
        )
    others = [c for c in result.law.inputs if c not in ("n_params", "tokens")]
    if others:
        raise UsageError(
            f"law {name!r} also reads {others}, which `{PROG} predict` does not take (only "
            "--n-params, --tokens or --compute): predict it in Python with "
            f"FitResult.from_json(...).predict(n_params=..., tokens=..., {others[0]}=...)"
        )
    grid = args.n_params is not None or args.tokens is not None
    if grid == (args.compute is not None):
        raise UsageError(f"give either --n-params and --tokens, or --compute ({HELP})")
    if grid and (args.n_params is None or args.tokens is None):
        raise UsageError(f"--n-params and --tokens go together ({HELP})")
    if grid and args.flops_per_param_token is not None:
        raise UsageError(f"--flops-per-param-token sets the cost model of --compute ({HELP})")


def _curve(result: FitResult, args: argparse.Namespace) -> Any:
    """``step, lr, loss`` of the curve, and ``lower, upper`` with ``--level``."""
    every = DEFAULT_EVERY if args.every is None else args.every
    table = result.predict_curve(
        args.schedule,
        args.steps,
        every=every,
        level=args.level,
        allow_unconverged=args.allow_unconverged,
    )
    return table.rename(columns={"loss_lo": "lower", "loss_hi": "upper"})


def _grid(
    result: FitResult,
    n_params: list[float],
    tokens: list[float],
    level: float | None,
    allow: bool = False,
) -> dict[str, Any]:
    """Losses over the N × D grid, with bootstrap intervals when the fit has samples.

    Without samples the interval columns are empty, unless ``--level`` asks for them (then
    the library says that the fit needs a bootstrap).
    """
    import numpy as np

    from ..results.json_safe import check_finite

    n = np.repeat(n_params, len(tokens))
    d = np.tile(tokens, len(n_params))
    loss = result.predict(n_params=n, tokens=d, allow_unconverged=allow)
    table = {"n_params": n, "tokens": d, "loss": loss}
    table["lower"] = table["upper"] = np.full(len(n), np.nan)
    if result.samples is not None or level is not None:
        interval = result.predict_interval(
            n_params=n,
            tokens=d,
            level=DEFAULT_LEVEL if level is None else level,  # --level 0 is refused, not 0.95
            allow_unconverged=allow,
        )
        table["lower"], table["upper"] = interval["lower"], interval["upper"]
    check_finite(
        table,
        ["n_params", "tokens"],
        ["loss"],
        "predict",
        f"law {result.law.name!r} overflows there; predict at sizes nearer its fitted range",
        bounds=["lower", "upper"],
    )
    return table


def _allocation(
    result: FitResult,
    compute: list[float],
    k: float | None,
    level: float | None,
    allow: bool = False,
) -> Any:
    """Compute-optimal table; ResultError where the law has no finite optimum."""
    k = FLOPS_PER_PARAM_TOKEN if k is None else k
    level = DEFAULT_LEVEL if level is None else level
    table = result.compute_optimal(
        compute, flops_per_param_token=k, level=level, allow_unconverged=allow
    )
    missing = table["n_params"].isna().to_numpy()
    if missing.any():
        raise ResultError(_no_optimum(result, float(table["compute"][missing].iloc[0]), k))
    return table


def _no_optimum(result: FitResult, budget: float, k: float) -> str:
    """Why a budget has no optimum: the loss falls towards the small or the large N end."""
    import numpy as np

    from ..results.allocation import SPAN_DECADES, describe_cost

    n = np.sqrt(budget / k) * 10.0 ** np.array([-SPAN_DECADES, SPAN_DECADES])
    with np.errstate(all="ignore"):
        loss = result.law.predict(n, budget / (k * n), **result.params)
    way = "grows" if loss[1] < loss[0] else "shrinks"
    return (
        f"law {result.law.name!r} with these parameters has no compute-optimal allocation at "
        f"C={budget:.4g} FLOPs under {describe_cost(k)}: at fixed compute its predicted loss "
        f"keeps falling as N {way} (no minimum between 1e-12 and 1e12 tokens per parameter). "
        "Predict chosen sizes with --n-params and --tokens instead"
    )
