"""Run every benchmark in benchmarks/ and print one table of figures and ratios.

Usage::

    python benchmarks/run.py            # every benchmark, full size (tens of minutes)
    python benchmarks/run.py --quick    # small versions (CI smoke run; times not asserted)
    python benchmarks/run.py --only scale coverage

Each benchmark script runs in its own process (``python benchmarks/<script> <args>``); this
script reads the figures it prints and tabulates them: ``benchmark | figure | value |
reference | ratio | goal``. A ratio is value / reference (for speed-ups, reference / ours, as
the benchmark defines it). The header names the machine, its load and the commit: timings on a
shared machine move with its load, so compare figures from one run only. A benchmark that
fails is listed with its exit code and the last line it printed; the exit status is then 1.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
Row = tuple[str, str, str, str, str]  # figure, value, reference, ratio, goal


@dataclass(frozen=True)
class Benchmark:
    """One script: its arguments full and quick (None: no small version) and its parser."""

    name: str
    script: str
    full: list[str]
    quick: list[str] | None
    parse: Callable[[str], list[Row]]


def _find(pattern: str, text: str) -> str | None:
    match = re.search(pattern, text, re.MULTILINE)
    return match.group(1) if match else None


def _ratio(value: str | None, reference: str | None, invert: bool = False) -> str:
    try:
        a, b = float(value or "nan"), float(reference or "nan")
        return f"{(b / a) if invert else (a / b):.3g}"
    except ZeroDivisionError:
        return "-"


def parse_chinchilla(text: str) -> list[Row]:
    ours = _find(r"^ours: fit\(\) median\s+([\d.]+)", text)
    reference = _find(r"^reference \(L-BFGS-B, analytic\)\s+([\d.]+)", text)
    objective = _find(r"^ours: fit\(\) median\s+[\d.]+\s+[\d.]+\s+([\d.e-]+)", text)
    epoch = _find(r"^Epoch AI \(cell 18\)\s+([\d.e-]+)", text)
    rows = [
        (
            "fit() s vs L-BFGS-B reference s",
            ours or "?",
            reference or "?",
            _ratio(ours, reference, invert=True) + "x speed-up",
            ">= 100x",
        ),
        (
            "best objective vs Epoch AI",
            objective or "?",
            epoch or "?",
            _ratio(objective, epoch),
            "<= 1",
        ),
    ]
    n1 = _find(r"n_jobs=1 bootstrap median ([\d.]+) s", text)
    n2 = _find(r"n_jobs=2 bootstrap median ([\d.]+) s", text)
    if n1 and n2:
        rows.append(("bootstrap n_jobs=2 s vs n_jobs=1 s", n2, n1, _ratio(n2, n1), "<= 1"))
    return rows


def parse_scale(text: str) -> list[Row]:
    rows = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 5:
            continue
        name, seconds, peak, reference, goal = parts
        value = f"{seconds.split()[0]} s, {peak}"
        ref = reference.replace("reference ", "")
        ratio = _ratio(seconds.split()[0], ref.split()[0])
        rows.append((name, value, ref, ratio, goal.replace("goal ", "")))
    return rows


def parse_coverage(text: str) -> list[Row]:
    rows = []
    for match in re.finditer(r"^\s*(\S.*?)\s+([\d.]+)\s+([\d.]+)\s+[\d.]+\s*$", text, re.MULTILINE):
        name, coverage, se = match.groups()
        label = f"95% coverage {name}"
        rows.append((label, f"{coverage} ± {se}", "0.95", _ratio(coverage, "0.95"), "0.92-0.98"))
    return rows


def parse_schedule(text: str) -> list[Row]:
    match = re.search(r"^\s*10000\s+([\d.]+)\s+([\d.]+)\s+(\d+)", text, re.MULTILINE)
    if not match:
        return [("annealing_area ms at 10,000 steps", "?", "?", "?", "")]
    ours, reference, ratio = match.groups()
    label = "annealing_area ms vs numpy O(n²), 10,000 steps"
    return [(label, ours, reference, f"{ratio}x speed-up", "O(steps)")]


def parse_hparams(text: str) -> list[Row]:
    ours = _find(r"^fit_hparams, .*: ([\d.]+) s", text)
    reference = _find(r"^plain per-cell loop, .*: ([\d.]+) s", text)
    ratio = _ratio(ours, reference, invert=True) + "x speed-up"
    return [("fit_hparams s vs per-cell loop s", ours or "?", reference or "?", ratio, "")]


def parse_floor(text: str) -> list[Row]:
    """bench_floor.py: one row per issue-18 row, its ratio min / median / max to the
    reference measured in the same run, and what each fitter reached."""
    rows = []
    pattern = (
        r"^row (\S+): ratio min (\S+) median (\S+) max (\S+) over (\d+) rounds \(goal "
        r"([^)]*)\); ours median (\S+) s, reference median (\S+) s; (.*)$"
    )
    for match in re.finditer(pattern, text, re.MULTILINE):
        name, low, median, high, rounds, goal, ours, reference, note = match.groups()
        ratio = f"{median} ({low}-{high}, {rounds} rounds)"
        rows.append((f"{name}: {note}"[:160], f"{ours} s", f"{reference} s", ratio, goal))
    lbfgsb = _find(r"^row chinchilla_lbfgsb: (.*)$", text)
    if lbfgsb:
        rows.append(("chinchilla vs L-BFGS-B recipe: " + lbfgsb[:140], "-", "-", "-", ""))
    return rows


def parse_lines(patterns: dict[str, tuple[str, str]]) -> Callable[[str], list[Row]]:
    """A parser reading one figure per regex: label -> (pattern, goal)."""

    def parse(text: str) -> list[Row]:
        return [
            (label, _find(p, text) or "?", "-", "-", goal) for label, (p, goal) in patterns.items()
        ]

    return parse


BENCHMARKS = [
    Benchmark(
        "floor",
        "bench_floor.py",
        ["--rows", "first_fit", "chinchilla", "bootstrap", "backtest", "parallel"],
        ["--rows", "first_fit", "chinchilla", "--rounds", "2", "--every", "0"],
        parse_floor,
    ),
    Benchmark("scale", "bench_scale.py", [], ["--quick"], parse_scale),
    Benchmark(
        "coverage", "coverage.py", [], ["--replicates", "4", "--resamples", "20"], parse_coverage
    ),
    Benchmark(
        "chinchilla_fit",
        "bench_chinchilla_fit.py",
        [],
        ["--quick", "--bootstrap", "0", "--repeats", "1"],
        parse_chinchilla,
    ),
    Benchmark(
        "schedule_features",
        "bench_schedule_features.py",
        [],
        [],
        parse_schedule,
    ),
    Benchmark(
        "hparams",
        "bench_hparams.py",
        [],
        ["--bootstrap", "20", "--repeats", "1"],
        parse_hparams,
    ),
    Benchmark(
        "backtest",
        "bench_backtest.py",
        [],
        None,
        parse_lines(
            {
                "backtest n_jobs=1 median s": (r"^n_jobs=1\s+[\d.]+\s+([\d.]+)", "< 5 s"),
                "backtest n_jobs=2 median s": (r"^n_jobs=2\s+[\d.]+\s+([\d.]+)", "< 5 s"),
            }
        ),
    ),
    Benchmark(
        "farseer",
        "bench_farseer.py",
        [],
        None,
        parse_lines({"Farseer fits": (r"(\d+ sizes, \d+ runs)", "a fit < 5 s")}),
    ),
    Benchmark(
        "curve_laws",
        "bench_curve_laws.py",
        [],
        None,
        parse_lines({"benchmark ran": (r"^(\S.*)$", "")}),
    ),
]


def machine() -> str:
    """One line naming the machine, its load, Python and the commit."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=HERE,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = "?"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"{platform.platform()}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, load {load}, Python {platform.python_version()}, "
        f"commit {commit or '?'}"
    )


def run(benchmark: Benchmark, quick: bool) -> tuple[list[Row], float, int, str]:
    """Figures, seconds, exit code and last output line of one benchmark."""
    args = benchmark.quick if quick else benchmark.full
    if args is None:
        return [("skipped: no small version (run without --quick)", "-", "-", "-", "-")], 0, 0, ""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(HERE / benchmark.script), *args],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    last = (done.stdout + done.stderr).strip().splitlines()[-1:] or [""]
    rows = benchmark.parse(done.stdout) if done.returncode == 0 else []
    return rows, seconds, done.returncode, last[0]


def table(results: list[tuple[str, list[Row], float, int, str]]) -> str:
    """The one table of every benchmark's figures."""
    head = ("benchmark", "figure", "value", "reference", "ratio", "goal")
    lines = []
    for name, rows, seconds, code, last in results:
        if code:
            lines.append((name, f"FAILED (exit {code})", last[:60], "-", "-", "-"))
        for row in rows:
            lines.append((name, *row))
        if seconds:
            lines.append((name, "wall time of the benchmark", f"{seconds:.1f} s", "-", "-", "-"))
    widths = [max(len(str(r[i])) for r in [head, *lines]) for i in range(len(head))]
    fmt = " | ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(
        [
            fmt.format(*head),
            "-+-".join("-" * w for w in widths),
            *(fmt.format(*map(str, r)) for r in lines),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small versions, for CI")
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="NAME",
        help=f"run only these: {', '.join(b.name for b in BENCHMARKS)}",
    )
    args = parser.parse_args(argv)
    chosen = [b for b in BENCHMARKS if not args.only or b.name in args.only]
    print(f"machine: {machine()}")
    print("mode: " + ("quick (small sizes; times are smoke figures)" if args.quick else "full"))
    results = [(b.name, *run(b, args.quick)) for b in chosen]
    print(table(results))
    return 1 if any(code for _, _, _, code, _ in results) else 0


if __name__ == "__main__":
    sys.exit(main())
