"""Benchmark: the loss-curve laws (multi-power, LR annealing) against naive implementations.

Measures, in one run, on ``data/multipower_law`` (Luo et al. 2025, arXiv:2503.12811):

1. **Multi-power fit** on the three 400M training curves (cosine 24k, constant 24k,
   two-stage 9e-5): ``scaling_fit.fit(runs, "multipower", schedules=...)`` (128-start grid
   plus the staged start, 11 trust-region refinements) against a naive fit written here: the
   loss-drop sum evaluated term by term for every point (O(steps) work per point, one NumPy
   sum per point) and ``scipy.optimize.least_squares`` (Huber δ = 1e-3, same tolerances)
   from the same staged start, one start only.  Target for ours: ≤ 3 s on 2 cores.
2. **Annealing-law fit** (λ = 0.999, warm-up at peak LR) on the same curves:
   ``scaling_fit.fit(runs, "lr_annealing", ...)`` against the recipe of laws.md §4.3 written
   naively: S₁ and S₂ by a per-step Python loop (the momentum recursion), then L-BFGS-B from
   the law's 81-start grid on the summed Huber objective.  Target: ≤ 0.5 s.
3. **Predicting a 72,000-step curve** (cosine 72k, 400M published parameters) at the 546
   logged steps, at every 100th step and at every step, against the naive per-point sum.
   Target: ≤ 20 ms (logged steps / every 100th).
   Also the same predictions from one ``Schedule`` object reused across calls ("warm": its
   LR history and Gauss rules are cached).
4. **Memory** (``tracemalloc`` peak) of predicting a 1,000,000-step cosine curve at every
   1000th, every 100th and (with ``--full``) every step.  Target: < 200 MB.
5. **Choosing a schedule**: ``scaling_fit.best_schedule`` with the published 400M
   parameters, 24,000 steps, the default WSD grid (198 candidates), against predicting each
   candidate's whole curve every 100 steps and taking its last value.

Every naive result is compared with ours (largest relative difference of the predictions,
objectives of the fits).  The script asserts nothing about time; it prints a table.

Run: ``python benchmarks/bench_curve_laws.py [--full] [--repeats K]``
"""

from __future__ import annotations

import argparse
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # tiny matrices: BLAS threads only spin (see README)

import platform  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scipy  # noqa: E402
from scipy.optimize import least_squares, minimize  # noqa: E402

import scaling_fit as sf  # noqa: E402
from scaling_fit.fitting.objective import huber  # noqa: E402
from scaling_fit.laws import lr_annealing, multipower  # noqa: E402
from scaling_fit.results import curves  # noqa: E402
from scaling_fit.schedules import from_spec  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "data" / "multipower_law" / "csv_400"
SPECS = {
    "cosine_24000": "cosine:peak=3e-4,total=24000,warmup=2160,final=3e-5",
    "constant_24000": "constant:peak=3e-4,total=24000,warmup=2160",
    "wsdcon_9": "multistage:peak=3e-4,total=16000,warmup=2160,stages=8000@9e-5",
    "cosine_72000": "cosine:peak=3e-4,total=72000,warmup=2160,final=3e-5",
}
TRAIN = ["cosine_24000", "constant_24000", "wsdcon_9"]
NAMES = ("L0", "A", "alpha", "B", "C", "beta", "gamma")
DELTA = 1e-3
TOLERANCE = 1e-14  # scaling_fit.optimize.TOLERANCE, for a like-for-like naive fit
MEMORY_STEPS = 1_000_000


# ------------------------------------------------------------------------ naive laws
def naive_multipower(lr: np.ndarray, steps: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Luo et al.'s formula term by term: one O(t) NumPy sum per point."""
    L0, A, alpha, B, C, beta, gamma = p
    s = np.cumsum(lr)
    out = np.empty(steps.size)
    for i, t in enumerate(steps):
        k = np.arange(1, t + 1)
        g = 1.0 - (C * lr[k] ** -gamma * (s[t] - s[k - 1]) + 1.0) ** -beta
        out[i] = L0 + A * s[t] ** -alpha - B * np.sum((lr[k - 1] - lr[k]) * g)
    return out


def naive_areas(lr: np.ndarray, steps: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """S₁ and S₂ by the per-step recursion m_i = λ m_{i−1} + η_{i−1} − η_i, in Python."""
    s1 = s2 = m = 0.0
    out1, out2 = np.empty(lr.size), np.empty(lr.size)
    for i, eta in enumerate(lr):
        m = lam * m + (lr[i - 1] - eta if i else 0.0)
        s1, s2 = s1 + eta, s2 + m
        out1[i], out2[i] = s1, s2
    return out1[steps], out2[steps]


# ------------------------------------------------------------------------ data
def training_table() -> pd.DataFrame:
    return sf.load_runs([str(DATA / f"{n}.csv") for n in TRAIN])


def after_warmup(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["step"] > 2160].reset_index(drop=True)


def timed(func, repeats: int = 1):
    """(result of the first call, first-call seconds, median seconds over ``repeats``)."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = func()
        times.append(time.perf_counter() - start)
        result = value if result is None else result
    return result, times[0], float(np.median(times))


# ------------------------------------------------------------------------ 1. multi-power
def bench_multipower(repeats: int) -> list[tuple]:
    table = training_table()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, first, median = timed(lambda: sf.fit(table, "multipower", schedules=SPECS), repeats)
    points = after_warmup(table)
    groups = [(from_spec(SPECS[n]).lr, points.loc[points.run == n]) for n in TRAIN]
    observed = np.concatenate([g["loss"].to_numpy() for _, g in groups])
    inputs = multipower.features(points, {n: from_spec(SPECS[n]).lr for n in TRAIN})
    start = multipower.staged_guess(inputs, points["loss"].to_numpy())[0]

    def residuals(p: np.ndarray) -> np.ndarray:
        pred = np.concatenate([naive_multipower(lr, g["step"].to_numpy(), p) for lr, g in groups])
        return np.log(np.maximum(pred, 1e-12)) - np.log(observed)

    x0 = np.array([start[n] for n in NAMES])
    evals = {"n": 0}

    def counted(p: np.ndarray) -> np.ndarray:
        evals["n"] += 1
        return residuals(p)

    naive, naive_time, _ = timed(
        lambda: least_squares(
            counted,
            x0,
            bounds=(0, np.inf),
            loss="huber",
            f_scale=DELTA,
            x_scale="jac",
            ftol=TOLERANCE,
            xtol=TOLERANCE,
            gtol=TOLERANCE,
            max_nfev=300,
        )
    )
    naive_objective = float(huber(residuals(naive.x), DELTA).sum())
    p = np.array([ours.params[n] for n in NAMES])
    one_naive = timed(lambda: residuals(p), 3)[2]
    one_ours = timed(lambda: multipower.LAW.predict(*inputs, **ours.params), 20)[2]
    diff = np.max(
        np.abs(np.exp(residuals(p)) * observed / ours.law.predict(*inputs, **ours.params) - 1)
    )
    return [
        (
            "multi-power fit, 3 curves (400M)",
            f"{naive_time:.2f} s (1 start, {evals['n']} evals)",
            f"{first:.2f} s first, {median:.2f} s median of {repeats} (11 starts)",
            "≤ 3 s",
            f"objective naive {naive_objective:.6e}, ours {ours.objective:.6e}",
        ),
        (
            "  one evaluation (450 points)",
            f"{1e3 * one_naive:.1f} ms",
            f"{1e3 * one_ours:.2f} ms",
            "",
            f"max rel. diff of predictions {diff:.1e}",
        ),
    ]


# ------------------------------------------------------------------------ 2. annealing
def bench_annealing(repeats: int) -> list[tuple]:
    table = training_table()
    ours, first, median = timed(lambda: sf.fit(table, "lr_annealing", schedules=SPECS), repeats)

    def naive_fit() -> tuple[float, dict[str, float]]:
        points = after_warmup(table)
        s1, s2 = [], []
        for n in TRAIN:
            lr = lr_annealing.annealing_lr(from_spec(SPECS[n]).lr, "constant")
            a, b = naive_areas(lr, points.loc[points.run == n, "step"].to_numpy(), 0.999)
            s1.append(a)
            s2.append(b)
        s1, s2 = np.concatenate(s1), np.concatenate(s2)
        y = np.log(points["loss"].to_numpy())

        def objective(x: np.ndarray) -> float:
            pred = np.exp(x[0]) + np.exp(x[1]) * s1 ** -x[2] - x[3] * s2
            return float(huber(np.log(np.maximum(pred, 1e-12)) - y, DELTA).sum())

        grid = (
            np.array(np.meshgrid(*(p.fit_start for p in lr_annealing.LAW.parameters)))
            .reshape(4, -1)
            .T
        )
        runs = [
            minimize(
                objective,
                g,
                method="L-BFGS-B",
                bounds=[(None, None), (None, None), (0, None), (0, None)],
            )
            for g in grid
        ]
        bestrun = min(runs, key=lambda r: r.fun)
        x = bestrun.x
        return bestrun.fun, {"L0": np.exp(x[0]), "A": np.exp(x[1]), "alpha": x[2], "C": x[3]}

    (naive_obj, _), naive_time, _ = timed(naive_fit)
    return [
        (
            "annealing-law fit, 3 curves (400M)",
            f"{naive_time:.2f} s (81 L-BFGS-B starts)",
            f"{first:.3f} s first, {median:.3f} s median of {repeats}",
            "≤ 0.5 s",
            f"objective naive {naive_obj:.6e}, ours {ours.objective:.6e}",
        ),
    ]


# ------------------------------------------------------------------------ 3. prediction
def bench_prediction(repeats: int, full: bool) -> list[tuple]:
    result = sf.FitResult.from_params("multipower")
    sched = from_spec(SPECS["cosine_72000"])
    logged = pd.read_csv(DATA / "cosine_72000.csv")["step"].to_numpy()
    p = np.array([result.params[n] for n in NAMES])
    rows = []
    cases = [("546 logged steps", logged), ("every 100th step (720)", np.arange(100, 72000, 100))]
    cases.append(("every step (71,999)", np.arange(1, 72000)))
    for label, steps in cases:
        # A spec string each time, as a user passes it: schedule and LR history are rebuilt.
        curve, first, median = timed(
            lambda s=steps: curves.predict_curve(result, SPECS["cosine_72000"], steps=s), repeats
        )
        if len(steps) > 1000 and not full:
            naive_note = "not run (--full)"
            check = np.arange(0, len(steps), len(steps) // 200)
        else:
            check = np.arange(len(steps))
        naive, naive_time, _ = timed(lambda s=steps[check]: naive_multipower(sched.lr, s, p))
        if len(check) == len(steps):
            naive_note = f"{1e3 * naive_time:.0f} ms"
        else:
            naive_note = f"~{naive_time * len(steps) / len(check):.0f} s (from {len(check)} points)"
        diff = np.max(np.abs(curve["loss"].to_numpy()[check] / naive - 1))
        target = "≤ 20 ms" if len(steps) < 1000 else ""
        rows.append(
            (
                f"predict 72k-step curve, {label}",
                naive_note,
                f"{1e3 * first:.1f} ms first, {1e3 * median:.1f} ms median",
                target,
                f"max rel. diff {diff:.1e}",
            )
        )
        # The same Schedule object each call: its LR history and Gauss rules are reused.
        warm, _, warm_median = timed(
            lambda s=steps: curves.predict_curve(result, sched, steps=s), repeats + 1
        )
        same = np.array_equal(warm["loss"].to_numpy(), curve["loss"].to_numpy())
        rows.append(
            (
                "  same, one Schedule object reused (warm)",
                "",
                f"{1e3 * warm_median:.1f} ms median",
                "",
                f"identical: {same}",
            )
        )
    return rows


# ------------------------------------------------------------------------ 4. memory
def bench_memory(full: bool) -> list[tuple]:
    result = sf.FitResult.from_params("multipower")
    sched = from_spec(f"cosine:peak=3e-4,total={MEMORY_STEPS},warmup=2160,final=3e-5")
    rows = []
    for every in (1000, 100, *((1,) if full else ())):
        tracemalloc.start()
        start = time.perf_counter()
        curve = curves.predict_curve(result, sched, every=every)
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        dense = 8 * MEMORY_STEPS * len(curve) / 1e6
        rows.append(
            (
                f"1,000,000-step curve, every {every}: peak memory",
                f"{dense:,.0f} MB for a dense steps x points matrix (not run)",
                f"{peak:.0f} MB ({seconds:.2f} s, {len(curve):,} points)",
                "< 200 MB",
                "",
            )
        )
    return rows


# ------------------------------------------------------------------------ 5. best_schedule
def bench_best_schedule(repeats: int) -> list[tuple]:
    result = sf.FitResult.from_params("multipower")
    choice, first, median = timed(
        lambda: sf.best_schedule(result, 24000, peak=3e-4, warmup=2160), repeats
    )
    specs = choice.candidates["spec"].tolist()

    def whole_curves() -> np.ndarray:
        return np.array(
            [curves.predict_curve(result, s, every=100)["loss"].iloc[-1] for s in specs]
        )

    last, slow, _ = timed(whole_curves)
    diff = np.max(np.abs(last / choice.candidates["final_loss"].to_numpy() - 1))
    return [
        (
            f"best_schedule, WSD grid ({len(specs)} candidates, 24k steps)",
            f"{slow:.2f} s (whole curves every 100 steps)",
            f"{first:.2f} s first, {median:.2f} s median of {repeats}",
            "",
            f"winner {choice.schedule.spec.split(',', 3)[-1]}; max rel. diff {diff:.1e}",
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also run the slow naive cases")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"scaling_fit {sf.__version__}, {os.cpu_count()} CPUs, threads "
        f"{os.environ['OPENBLAS_NUM_THREADS']}"
    )
    rows = [
        *bench_multipower(args.repeats),
        *bench_annealing(args.repeats),
        *bench_prediction(args.repeats, args.full),
        *bench_memory(args.full),
        *bench_best_schedule(max(1, args.repeats // 2)),
    ]
    print("| measurement | naive | ours | target | check |")
    print("| --- | --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
