"""``scaling-fit plan``: peak LR, batch size, steps and (with a fit) loss for a planned run.

Maps its flags to :func:`scaling_fit.plan`; stdout gets a readable table, or with ``--format
json`` (the default of ``-o FILE``; ``rows``, one object per quantity) or ``--format csv`` the
table for machines; warnings go to stderr.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .common import (
    PROG,
    UsageError,
    add_format_options,
    captured_warnings,
    check_output,
    emit,
    load_fit,
    number,
    warn_lines,
)
from .files import input_paths


def add_parser(commands: Any, output: argparse.ArgumentParser) -> None:
    """Register the ``plan`` subcommand on ``commands`` (an argparse subparsers object)."""
    p = commands.add_parser("plan", parents=[output], help="hyperparameters for a planned run")
    p.add_argument("--n-params", type=number, metavar="N", help="parameters, e.g. 7B")
    p.add_argument("--tokens", type=number, metavar="D", help="training tokens, e.g. 1.4T")
    p.add_argument("--compute", type=number, metavar="C", help="FLOPs (with --n-params or --fit)")
    p.add_argument("--seq-len", type=number, default=2048, metavar="T", help="tokens per sequence")
    p.add_argument("--fit", metavar="FIT.json", help="L(N, D) fit from `scaling-fit fit`")
    p.add_argument("--hparams", metavar="HP.json", help="sweep fit from `scaling-fit hparams`")
    p.add_argument("--cbs", metavar="CBS.json", help="critical-batch fit from `scaling-fit cbs`")
    p.add_argument(
        "--warmup-fraction",
        type=number,
        metavar="F",
        help="warm-up steps as a share of the steps (default: scaling_fit.plan's)",
    )
    add_format_options(p, ("plan",))
    p.add_argument(
        "--suggest",
        action="store_true",
        help="instead: which runs to train next to narrow this run's prediction (needs --fit)",
    )
    p.add_argument("--budget", type=number, metavar="C", help="FLOPs for --suggest's runs")
    p.set_defaults(func=run_plan)


def run_plan(args: argparse.Namespace) -> int:
    """Build the plan, write it, print it on stderr; return 0."""
    from ..analysis.plan import plan
    from ..results.critical_batch_result import CriticalBatchResult
    from ..results.hparams_result import HparamsResult
    from ..results.plan_result import PlanResult

    check_output(args.output, args.force, input_paths(args, "fit", "hparams", "cbs"))
    fit = load_fit(args.fit) if args.fit else None
    if args.suggest:
        return _run_suggest(args, fit)
    hparams = None
    if args.hparams:
        if not Path(args.hparams).is_file():
            raise UsageError(
                f"hparams file {args.hparams!r} does not exist (write one with `{PROG} hparams`)"
            )
        hparams = HparamsResult.from_json(Path(args.hparams))
    cbs = None
    if args.cbs:
        if not Path(args.cbs).is_file():
            raise UsageError(f"cbs file {args.cbs!r} does not exist (write one with `{PROG} cbs`)")
        cbs = CriticalBatchResult.from_json(Path(args.cbs))
    with captured_warnings() as caught:
        table = plan(
            n_params=args.n_params,
            tokens=args.tokens,
            compute=args.compute,
            seq_len=args.seq_len,
            fit=fit,
            hparams=hparams,
            cbs=cbs,
            **({} if args.warmup_fraction is None else {"warmup_fraction": args.warmup_fraction}),
        )
    _write(args, PlanResult(table), caught)
    return 0


def _run_suggest(args: argparse.Namespace, fit: Any) -> int:
    """``--suggest``: :func:`scaling_fit.suggest_runs` for the run's loss (or N_opt)."""
    from ..analysis.design import suggest_runs
    from ..results.plan_result import SuggestionResult

    if fit is None or args.budget is None:
        raise UsageError("--suggest needs --fit FIT.json and --budget FLOPS")
    if args.n_params is not None and args.tokens is not None:
        target = {"n_params": args.n_params, "tokens": args.tokens}
    elif args.compute is not None and args.n_params is None and args.tokens is None:
        target = {"compute": args.compute}
    else:
        raise UsageError(
            "--suggest targets --n-params with --tokens (the loss) or --compute (N_opt)"
        )
    with captured_warnings() as caught:
        table = suggest_runs(fit, target=target, budget=args.budget)
    _write(args, SuggestionResult(table), caught)
    return 0


def _write(args: argparse.Namespace, result: Any, caught: list[str]) -> None:
    """The result as text, CSV or JSON; warnings on stderr."""
    warn_lines(args, caught)
    emit(args, result.report(), result.to_dict, lambda _name: result.table)
