"""Benchmark: issue 18's rows, each as a ratio to its reference measured in the same run.

Timings on a shared machine move with its load, so every row times its own work and a
reference side by side, alternately, ``--rounds`` times (paired rounds), and prints the ratio
ours / reference of each round as min / median / max, with the objective each fitter reaches.
Serial work is timed in CPU seconds (of this process, or of the fresh process), which other
load barely moves; the ``n_jobs`` comparison in wall-clock seconds.
Rows (``--rows``):

``first_fit``
    A fresh ``python -c "import scaling_fit as sf; sf.fit(<Epoch data>, 'chinchilla')"``
    (load the CSV, drop the 5 highest-loss points, fit) against a fresh
    ``python -c "import pandas, scipy.optimize"``, both as CPU seconds of the process (with
    ``--baseline PATH``, also the first fit of the checkout at PATH). Goal: ratio <= 1.25.
``chinchilla``
    ``sf.fit(epoch, "chinchilla")`` against the floor: 100 evaluations of the residuals and
    their analytic Jacobian on the same 240 points (what a handful of Gauss-Newton refines
    costs). Goal: <= 10x the floor. Once per run, also the published recipe (L-BFGS-B with an
    analytic gradient from Hoffmann et al.'s 4,500 starts) timed on every ``--every``-th start
    and scaled up, reported as a speed-up.
``bootstrap``
    ``sf.fit(epoch, "chinchilla", bootstrap=1000)`` (the fit and its bootstrap) against a
    plain serial SciPy loop: one ``least_squares(method="trf", loss="huber")`` refit per
    resample (the same resamples), started from the full fit, and the standard errors of
    both. Goal: < 1 s on a quiet machine.
``parallel``
    The bootstrap and the 4-law Gadre backtest with ``n_jobs=2`` against ``n_jobs=1``. Goal:
    ratio < 1 (bootstrap) and <= 1 / 1.6 (backtest).
``backtest``
    ``sf.backtest(gadre, [chinchilla, kaplan, farseer, overtraining], "n>=1e9")`` against the
    sum of one fit per law on its training runs. Goal: <= 5 s.
``profile``
    The parts of the Chinchilla fit timed alone, against the floor.
``farseer``
    The objective each refined start of Farseer reaches on the Gadre training sets.
``multipower``
    ``sf.fit(log, "multipower")`` of a dense synthetic log (3 runs of 24,000 steps logged
    every 12 steps: 6,000 points, binned to 600) against one local refine: the median of the
    same fit's trust-region refines. Twice: with ``length_check=False`` (the
    search alone) and with the default length check (two more fits of the same data).
    Goal: <= 2x one local refine.

The script imports whichever ``scaling_fit`` is on the path: run it once with
``PYTHONPATH=<a checkout of main>`` and once with this tree to see before and after. It
asserts nothing and is never run by the test suite. Usage::

    python benchmarks/bench_floor.py [--rounds 5] [--rows first_fit chinchilla ...]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

# One BLAS/OpenMP thread (before NumPy is imported): the fits are small dense problems, where
# BLAS threads only spin (benchmarks/README.md).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
for _variable in THREAD_VARIABLES:
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402

import scaling_fit as sf  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
EPOCH = REPO / "data" / "epoch_chinchilla" / "svg_extracted_data.csv"
GADRE = REPO / "data" / "gadre_overtraining" / "gadre_models_flat.csv"
LUO_COSINE = REPO / "data" / "multipower_law" / "csv_400" / "cosine_24000.csv"
COSINE_SPEC = "cosine:peak=3e-4,total=24000,warmup=2160,final=3e-5"
GADRE_LAWS = ["chinchilla", "kaplan", "farseer", "overtraining"]
FIRST_FIT = (
    "import scaling_fit as sf; runs = sf.load_runs({path!r}); "
    "sf.fit(runs, 'chinchilla', exclude=sf.highest_loss_mask(runs, 5), progress=False)"
)
IMPORTS = "import pandas, scipy.optimize"
FLOOR_EVALUATIONS = 100
PYCACHE = tempfile.mkdtemp(prefix="bench_floor_")
ROWS = ("first_fit", "chinchilla", "bootstrap", "backtest")  # the default rows


def quiet(call: Callable[[], Any], clock: Callable[[], float] = time.process_time) -> Any:
    """Value of ``call()`` and its seconds on ``clock``, warnings silenced.

    CPU seconds of this process by default: the serial rows run in this process, and on a
    shared machine their wall-clock time mostly measures the other load. The parallel row
    passes ``time.perf_counter`` (its workers' CPU time is not this process's).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        begin = clock()
        value = call()
        return value, clock() - begin


def fresh(code: str, path: str | None = None) -> float:
    """CPU seconds (user + system) of ``python -c code`` in a fresh process, with ``path``
    first on ``PYTHONPATH`` when given.

    CPU time, not wall-clock: on a loaded machine a process start's wall-clock time mostly
    measures the other load. The process runs in a temporary directory (so ``path``, not the
    current directory, supplies ``scaling_fit``) and caches byte-code under ``PYCACHE``, as an
    installed package has it (without a cache every module is compiled again each time).
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = PYCACHE
    if path:
        env["PYTHONPATH"] = path
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", code], check=True, cwd=PYCACHE, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def report(row: str, ours: list[float], reference: list[float], goal: str, note: str) -> None:
    """One row: ratio ours / reference per paired round as min / median / max."""
    ratios = [a / b for a, b in zip(ours, reference, strict=True)]
    print(
        f"row {row}: ratio min {min(ratios):.3g} median {statistics.median(ratios):.3g} "
        f"max {max(ratios):.3g} over {len(ratios)} rounds (goal {goal}); ours median "
        f"{statistics.median(ours):.4g} s, reference median {statistics.median(reference):.4g} s"
        f"; {note}"
    )


def epoch() -> tuple[Any, Any]:
    """Epoch AI's 245 points and the mask of the 5 highest-loss ones."""
    runs = sf.load_runs(EPOCH)
    return runs, sf.highest_loss_mask(runs, 5)


def row_first_fit(rounds: int, baseline: str | None) -> None:
    """Fresh-process first fit against fresh ``import pandas, scipy.optimize``; with a
    ``baseline`` checkout, its first fit too, in the same rounds."""
    fit_code = FIRST_FIT.format(path=str(EPOCH))
    ours_path = str(Path(sf.__file__).parents[1])
    fresh(IMPORTS), fresh(fit_code)  # fill the byte-code and file caches, untimed
    if baseline:
        fresh(fit_code, baseline)
    ours, reference, before = [], [], []
    for _ in range(rounds):
        reference.append(fresh(IMPORTS))
        ours.append(fresh(fit_code, ours_path))
        if baseline:
            before.append(fresh(fit_code, baseline))
    report("first_fit", ours, reference, "<= 1.25", "reference: " + IMPORTS)
    if baseline:
        report("first_fit_baseline", before, reference, "<= 1.25", f"the fit from {baseline}")


def log_columns(runs: Any, mask: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """log N, log D, log L of the fitted points."""
    kept = runs.loc[~np.asarray(mask)]
    return tuple(np.log(kept[c].to_numpy(float)) for c in ("n_params", "tokens", "loss"))


def residual_and_jacobian(theta: np.ndarray, log_n: Any, log_d: Any, log_l: Any) -> Any:
    """Log residuals of the Chinchilla log-sum-exp model and their Jacobian [a, b, e, α, β]."""
    a, b, e, alpha, beta = theta
    u, v = a - alpha * log_n, b - beta * log_d
    top = np.maximum(np.maximum(u, v), e)
    exp_u, exp_v, exp_e = np.exp(u - top), np.exp(v - top), np.exp(e - top)
    total = exp_u + exp_v + exp_e
    w_u, w_v, w_e = exp_u / total, exp_v / total, exp_e / total
    jacobian = np.column_stack([w_u, w_v, w_e, -w_u * log_n, -w_v * log_d])
    return top + np.log(total) - log_l, jacobian


def floor_seconds(columns: Any, theta: np.ndarray) -> float:
    """Seconds of ``FLOOR_EVALUATIONS`` residual + Jacobian evaluations."""
    begin = time.process_time()
    for _ in range(FLOOR_EVALUATIONS):
        residual_and_jacobian(theta, *columns)
    return time.process_time() - begin


def theta_of(params: dict[str, float]) -> np.ndarray:
    """[a, b, e, α, β] from natural-unit Chinchilla parameters."""
    return np.array(
        [np.log(params["A"]), np.log(params["B"]), np.log(params["E"]), params["alpha"],
         params["beta"]]
    )  # fmt: skip


def lbfgsb_reference(columns: Any, every: int) -> tuple[float, float]:
    """Seconds (scaled to all 4,500 starts) and best objective of the published recipe run
    from every ``every``-th start of Hoffmann et al.'s grid."""
    import itertools

    from scipy.optimize import minimize

    log_n, log_d, log_l = columns

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        r, jac = residual_and_jacobian(theta, log_n, log_d, log_l)
        size = np.abs(r)
        inner = np.minimum(size, 1e-3)
        slope = np.clip(r, -1e-3, 1e-3)
        return float(np.sum(inner * (size - 0.5 * inner))), slope @ jac

    axes = [np.arange(0.0, 25.1, 5.0)] * 2 + [np.arange(-1.0, 1.1, 0.5)]
    axes += [np.arange(0.0, 2.1, 0.5)] * 2
    starts = np.array(list(itertools.product(*axes)))[::every]
    begin, best = time.process_time(), np.inf
    for start in starts:
        best = min(best, minimize(objective, start, jac=True, method="L-BFGS-B").fun)
    return (time.process_time() - begin) * every, best


def row_chinchilla(rounds: int, every: int) -> None:
    """fit() against the residual + Jacobian floor, and once against L-BFGS-B."""
    runs, mask = epoch()
    columns = log_columns(runs, mask)
    quiet(lambda: sf.fit(runs, "chinchilla", exclude=mask))  # imports, caches: untimed
    ours, reference = [], []
    for _ in range(rounds):
        result, seconds = quiet(lambda: sf.fit(runs, "chinchilla", exclude=mask, progress=False))
        ours.append(seconds)
        reference.append(floor_seconds(columns, theta_of(result.params)))
    report(
        "chinchilla",
        ours,
        reference,
        "<= 10",
        f"reference: {FLOOR_EVALUATIONS} residual+Jacobian evaluations; objective ours "
        f"{result.objective:.13g} (n_refined {result.options['n_refined']})",
    )
    if every:
        seconds, best = lbfgsb_reference(columns, every)
        print(
            f"row chinchilla_lbfgsb: L-BFGS-B x 4,500 starts (every {every}th timed, scaled) "
            f"{seconds:.3g} s = {seconds / statistics.median(ours):.0f}x ours; best objective "
            f"{best:.13g} (every {every}th start) vs ours {result.objective:.13g}"
        )


def scipy_bootstrap(runs: Any, mask: Any, theta: np.ndarray, n: int) -> np.ndarray:
    """A plain serial SciPy bootstrap: one trust-region Huber refit per resample of runs,
    started from the full fit (the same resamples as ``sf.fit``'s bootstrap, seed 0)."""
    from scipy.optimize import least_squares

    columns = log_columns(runs, mask)
    kept = runs.loc[~np.asarray(mask)]
    labels, codes = np.unique(kept["run"].to_numpy(), return_inverse=True)
    members = [np.flatnonzero(codes == k) for k in range(len(labels))]
    draws = np.random.default_rng(0).integers(0, len(labels), (n, len(labels)))
    thetas = np.empty((n, 5))
    for i, row in enumerate(draws):
        index = np.concatenate([members[k] for k in row])
        sub = tuple(c[index] for c in columns)
        fitted = least_squares(
            lambda t, sub=sub: residual_and_jacobian(t, *sub)[0],
            theta,
            jac=lambda t, sub=sub: residual_and_jacobian(t, *sub)[1],
            method="trf",
            loss="huber",
            f_scale=1e-3,
            x_scale="jac",
            ftol=1e-14,
            xtol=1e-14,
            gtol=1e-14,
        )
        thetas[i] = fitted.x
    return thetas


def row_bootstrap(rounds: int, n: int) -> None:
    """The bootstrap's own time against a plain serial SciPy loop."""
    runs, mask = epoch()
    quiet(lambda: sf.fit(runs, "chinchilla", exclude=mask, bootstrap=10))  # untimed warm-up
    ours, reference = [], []
    for _ in range(rounds):
        boot, seconds = quiet(lambda: sf.fit(runs, "chinchilla", exclude=mask, bootstrap=n))
        ours.append(seconds)
        start = theta_of(boot.params)
        thetas, ref_seconds = quiet(lambda start=start: scipy_bootstrap(runs, mask, start, n))
        reference.append(ref_seconds)
    column = dict(zip(boot.law.param_names, boot.samples.T, strict=True))
    mine = np.column_stack([np.log(column["A"]), np.log(column["B"]), np.log(column["E"]),
                            column["alpha"], column["beta"]])  # fmt: skip
    ours_se = np.nanstd(mine, axis=0, ddof=1)
    ref_se = np.nanstd(thetas, axis=0, ddof=1)
    worst = float(np.max(np.abs(ours_se / ref_se - 1)))
    report(
        "bootstrap",
        ours,
        reference,
        "< 1 s on a quiet machine",
        f"{n} resamples; s.e. of [a, b, e, alpha, beta] ours "
        f"{np.array2string(ours_se, precision=5)}, reference "
        f"{np.array2string(ref_se, precision=5)} (largest relative difference "
        f"{worst:.2e}); s.e. E {boot.stderr['E']:.6g}, alpha {boot.stderr['alpha']:.6g}, "
        f"beta {boot.stderr['beta']:.6g}",
    )


def gadre() -> Any:
    """The 32 + 3 RedPajama-trained Gadre runs (C4 validation loss)."""
    table = sf.load_runs(GADRE, columns={"loss": "loss_c4_val"})
    return table[table["dataset_name"] == "rpj"].reset_index(drop=True)


def row_backtest(rounds: int) -> None:
    """The 4-law backtest against the sum of one fit per law."""
    runs = gadre()
    train = runs[runs["n_params"] < 1e9]
    quiet(lambda: sf.fit(train, "overtraining"))  # imports: untimed
    ours, reference = [], []
    for _ in range(rounds):
        reference.append(sum(quiet(lambda law=law: sf.fit(train, law))[1] for law in GADRE_LAWS))
        result, seconds = quiet(lambda: sf.backtest(runs, GADRE_LAWS, "n>=1e9"))
        ours.append(seconds)
    report("backtest", ours, reference, "<= 5 s", f"{len(result.stability)} fits per backtest")


def row_forecast(rounds: int) -> None:
    """A forecast with its 30 noise resamples against one fit of the same log."""
    log = sf.load_runs(LUO_COSINE).query("step <= 12000")
    run = str(log["run"].iloc[0])
    quiet(lambda: sf.forecast(log, COSINE_SPEC, bootstrap=30))  # imports: untimed
    ours, reference = [], []
    for _ in range(rounds):
        fit = lambda: sf.fit(log, "lr_annealing", schedules={run: COSINE_SPEC}, length_check=False)  # noqa: E731
        reference.append(quiet(fit)[1])
        ours.append(quiet(lambda: sf.forecast(log, COSINE_SPEC, bootstrap=30))[1])
    report("forecast", ours, reference, "<= 3x", "Luo 400M cosine seen to 12,000 of 24,000 steps")


THREADS = """
import os
from scaling_fit.fitting.workers import run_tasks

def count():
    import numpy  # the BLAS thread pool starts with NumPy
    return len(os.listdir("/proc/self/task"))

if __name__ == "__main__":
    print(list(run_tasks(count, [()] * 2, 2)))
"""


def worker_threads() -> str:
    """Threads in each worker process of scaling_fit's pool (BLAS pools included), in a
    fresh process without this script's thread variables (as a user's shell has them)."""
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    script = Path(PYCACHE) / "worker_threads.py"  # a script, as users run them
    script.write_text(THREADS, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, check=True
    )
    return f"threads per worker process, thread variables unset: {done.stdout.strip()}"


def row_parallel(rounds: int, n: int) -> None:
    """Bootstrap and backtest with n_jobs=2 against n_jobs=1 (the first n_jobs=2 call,
    which starts the workers, is made before the timed rounds)."""
    runs, mask = epoch()
    gadre_runs = gadre()

    def boot(jobs: int) -> Any:
        return sf.fit(runs, "chinchilla", exclude=mask, bootstrap=n, n_jobs=jobs)

    def back(jobs: int) -> Any:
        return sf.backtest(gadre_runs, GADRE_LAWS, "n>=1e9", n_jobs=jobs)

    first = quiet(lambda: boot(2), time.perf_counter)[1]
    print(f"parallel: first n_jobs=2 bootstrap (starts the workers) {first:.2f} s")
    print(f"parallel: {worker_threads()}")
    for name, call in (("bootstrap", boot), ("backtest", back)):
        quiet(lambda call=call: call(2))
        one, two, same = [], [], True
        for _ in range(rounds):
            a, seconds_one = quiet(lambda call=call: call(1), time.perf_counter)
            b, seconds_two = quiet(lambda call=call: call(2), time.perf_counter)
            one.append(seconds_one)
            two.append(seconds_two)
            if name == "bootstrap":
                same = same and np.array_equal(a.samples, b.samples, equal_nan=True)
        goal = "< 1" if name == "bootstrap" else "<= 0.625"
        note = f"identical samples: {same}" if name == "bootstrap" else "n_jobs=2 / n_jobs=1"
        report(f"{name}_n_jobs2", two, one, goal, note)


def best_cpu(call: Callable[[], Any], repeats: int) -> float:
    """Fewest CPU seconds of ``call()`` over ``repeats`` calls."""
    return min(quiet(call)[1] for _ in range(repeats))


def row_profile(rounds: int) -> None:
    """Where the Chinchilla fit's time goes: its parts timed alone (fewest CPU seconds of
    ``5 * rounds`` calls), against 100 residual + Jacobian evaluations."""
    from scaling_fit.fitting import multistart, objective, varpro
    from scaling_fit.fitting.space import ParameterSpace

    runs, mask = epoch()
    kept = runs.loc[~np.asarray(mask)]
    space = ParameterSpace(sf.get_law("chinchilla"), {}, {}, {})
    inputs = (kept["n_params"].to_numpy(float), kept["tokens"].to_numpy(float))
    problem = objective.Problem(space, inputs, kept["loss"].to_numpy(float))
    grid = space.start_grid()
    projected = varpro.projected_starts(problem)
    # The grid check's threshold in a fit: the worst of the 5 best projected starts.
    best = projected[objective.best_rows(problem, projected, multistart.AGREEMENT)]
    worst = float(np.max(objective.score_grid(problem, best)))
    head = list(multistart._candidates(problem, grid, 10)[1])[: multistart.AGREEMENT]
    fit = sf.fit(runs, "chinchilla", exclude=mask)
    repeats = 5 * rounds
    parts = {
        "fit() in all": lambda: sf.fit(runs, "chinchilla", exclude=mask, progress=False),
        "variable projection (1,681 starts)": lambda: varpro.projected_starts(problem),
        "its 5 best starts (screened)": lambda: objective.best_rows(problem, projected, 5),
        "no grid start below them (screened)": lambda: objective.rows_below(problem, grid, worst),
        "refining the 5 starts together": lambda: multistart.refine_together(problem, head),
        "floor: 100 residual+Jacobian evaluations": lambda: floor_seconds(
            log_columns(runs, mask), theta_of(fit.params)
        ),
    }
    for label, call in parts.items():
        print(f"profile: {label:<42} {best_cpu(call, repeats) * 1e3:7.2f} ms")


def row_farseer() -> None:
    """The objective each refined start of Farseer reaches on the Gadre training sets (the
    solver's stopping points along a valley the data do not determine)."""
    from scaling_fit.fitting import multistart

    reached = []
    refine = multistart.refine

    def recording(*args: Any, **kwargs: Any) -> Any:
        solution = refine(*args, **kwargs)
        reached.append(solution)
        return solution

    multistart.refine = recording
    try:
        runs = gadre()
        for label, table in (("N < 1e9", runs[runs["n_params"] < 1e9]), ("all", runs)):
            reached.clear()
            quiet(lambda table=table: sf.fit(table, "farseer"))
            marks = " ".join(f"{s.objective:.5g}{'*' if s.stalled else ''}" for s in reached)
            print(f"farseer {label}: objective per refined start, in order (* stalled): {marks}")
    finally:
        multistart.refine = refine


def row_multipower(rounds: int) -> None:
    """A multi-power fit of a dense 6,000-point log against one local refine of its search."""
    from bench_dense_logs import log

    from scaling_fit.fitting import multistart

    table = log(12, ["constant", "wsd", "cosine"])
    durations: list[float] = []
    refine = multistart.refine

    def timed(*args: Any, **kwargs: Any) -> Any:
        begin = time.process_time()
        solution = refine(*args, **kwargs)
        durations.append(time.process_time() - begin)
        return solution

    multistart.refine = timed
    try:
        quiet(lambda: sf.fit(table, "multipower", length_check=False))  # imports: untimed
        for check in (False, True):
            ours, reference = [], []
            for _ in range(rounds):
                durations.clear()
                seconds = quiet(
                    lambda check=check: sf.fit(table, "multipower", length_check=check)
                )[1]
                ours.append(seconds)
                reference.append(statistics.median(durations))
            note = f"{len(table):,} points, {len(durations)} refines"
            name = "multipower_with_length_check" if check else "multipower"
            report(name, ours, reference, "<= 2x one local refine", note)
    finally:
        multistart.refine = refine


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="paired rounds per row (5)")
    parser.add_argument(
        "--rows",
        nargs="+",
        default=list(ROWS),
        choices=[
            "first_fit",
            "chinchilla",
            "bootstrap",
            "backtest",
            "parallel",
            "profile",
            "farseer",
            "forecast",
            "multipower",
        ],
        help="rows to run (default: the serial rows; parallel starts two worker processes)",
    )
    parser.add_argument(
        "--baseline", help="first_fit: also time the first fit of the checkout at this path"
    )
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument(
        "--every", type=int, default=20, help="L-BFGS-B reference: every k-th start (0: skip)"
    )
    options = parser.parse_args(argv)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"scaling_fit {sf.__file__}; load average {load}; {os.cpu_count()} CPUs")
    rows = {
        "first_fit": lambda: row_first_fit(options.rounds, options.baseline),
        "chinchilla": lambda: row_chinchilla(options.rounds, options.every),
        "bootstrap": lambda: row_bootstrap(options.rounds, options.resamples),
        "backtest": lambda: row_backtest(options.rounds),
        "parallel": lambda: row_parallel(options.rounds, options.resamples),
        "profile": lambda: row_profile(options.rounds),
        "farseer": row_farseer,
        "forecast": lambda: row_forecast(options.rounds),
        "multipower": lambda: row_multipower(options.rounds),
    }
    for row in options.rows:
        rows[row]()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average at the end {load}")


if __name__ == "__main__":
    main()
