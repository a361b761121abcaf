"""Benchmark: the O(steps) schedule features against naive O(steps²) references.

Measures, in one run:

1. ``annealing_area`` (``scipy.signal.lfilter`` + cumsum) against two references of the
   definition S₂(s) = Σ_{i≤s} Σ_{k≤i} (η_{k−1} − η_k)·λ^{i−k} (Tissue et al. 2024,
   arXiv:2408.11029): a pure-Python double loop, run only while it finishes in a few
   seconds, and a NumPy O(steps²) version (one dot product per step) up to 20,000 steps.
   Each row prints the times, the speed ratio and the largest difference scaled by max|S₂|.
2. The peak memory (``tracemalloc``) of building a 1,000,000-step cosine schedule with its
   forward and annealing areas; the script exits with status 1 if it reaches 200 MB.

Schedule: cosine 3e-4 → 3e-5 with a 9 % linear warm-up, the MultiPowerLaw shape.  The script
asserts nothing about wall-clock time and is never run by the test suite.

Run: ``python benchmarks/bench_schedule_features.py``
"""

from __future__ import annotations

import platform
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
import scipy

from scaling_fit.schedules import annealing_area, cosine, forward_area

LAMBDA = 0.999
PYTHON_BUDGET_S = 3.0  # stop the pure-Python loop once the next size would exceed this
SIZES = (250, 500, 1_000, 2_000, 5_000, 10_000, 20_000)
MEMORY_STEPS = 1_000_000
MEMORY_LIMIT_MB = 200.0


def schedule(total: int) -> np.ndarray:
    return cosine(3e-4, total, final=3e-5, warmup=max(1, int(0.09 * total))).lr


def naive_python(lr: np.ndarray, lam: float) -> np.ndarray:
    """The definition term by term in pure Python: O(steps²) operations."""
    eta = [float(lr[0]), *map(float, lr)]  # eta[k] = η_k (1-based), η_0 = η_1
    out, total = [], 0.0
    for i in range(1, len(eta)):
        m_i = 0.0
        for k in range(1, i + 1):
            m_i += (eta[k - 1] - eta[k]) * lam ** (i - k)
        total += m_i
        out.append(total)
    return np.array(out)


def naive_numpy(lr: np.ndarray, lam: float) -> np.ndarray:
    """The definition with one NumPy dot product per step: O(steps²) work, O(steps) memory."""
    drops = np.concatenate(([0.0], lr[:-1] - lr[1:]))
    powers = lam ** np.arange(lr.size)[::-1]  # powers[-1 - j] = λ^j
    m = np.array([drops[: i + 1] @ powers[lr.size - 1 - i :] for i in range(lr.size)])
    return np.cumsum(m)


def best_time(func: Callable[[], np.ndarray], repeat: int) -> tuple[float, np.ndarray]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = func()
        times.append(time.perf_counter() - start)
    return min(times), out


def speed_table() -> None:
    print(f"annealing_area (λ = {LAMBDA}) against O(steps²) references; best of repeats, ms")
    head = f"{'steps':>7} {'ours':>9} {'numpy n²':>10} {'ratio':>8} {'python n²':>10} {'ratio':>8}"
    print(head + f" {'max|diff|/max|S2|':>18}")
    python_next = 0.0
    for n in SIZES:
        lr = schedule(n)
        t_ours, ours = best_time(lambda lr=lr: annealing_area(lr, LAMBDA), repeat=20)
        t_np, ref = best_time(lambda lr=lr: naive_numpy(lr, LAMBDA), repeat=1 if n > 5000 else 3)
        diff = np.max(np.abs(ours - ref)) / np.max(np.abs(ref))
        py_cells = f"{'—':>10} {'—':>8}"
        if python_next <= PYTHON_BUDGET_S:
            t_py, ref_py = best_time(lambda lr=lr: naive_python(lr, LAMBDA), repeat=1)
            diff = max(diff, np.max(np.abs(ours - ref_py)) / np.max(np.abs(ref_py)))
            py_cells = f"{t_py * 1e3:>10.1f} {t_py / t_ours:>8.0f}"
            python_next = t_py * (SIZES[min(SIZES.index(n) + 1, len(SIZES) - 1)] / n) ** 2
        row = f"{n:>7} {t_ours * 1e3:>9.3f} {t_np * 1e3:>10.1f} {t_np / t_ours:>8.0f}"
        print(f"{row} {py_cells} {diff:>18.1e}")
    print(f"('—': the pure-Python loop would take more than {PYTHON_BUDGET_S:.0f} s)")


def memory_check() -> bool:
    tracemalloc.start()
    start = time.perf_counter()
    sched = cosine(3e-4, MEMORY_STEPS, final=3e-5, warmup=90_000)
    s1, s2 = forward_area(sched), annealing_area(sched, LAMBDA)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak_mb = peak / 2**20
    arrays_mb = (sched.lr.nbytes + s1.nbytes + s2.nbytes) / 2**20
    print(f"\n{MEMORY_STEPS:,}-step cosine schedule + S1 + S2: built in {elapsed * 1e3:.0f} ms")
    print(f"  tracemalloc peak {peak_mb:.1f} MB (the three results alone: {arrays_mb:.1f} MB)")
    ok = peak_mb < MEMORY_LIMIT_MB
    print(f"  limit {MEMORY_LIMIT_MB:.0f} MB: {'ok' if ok else 'EXCEEDED'}")
    return ok


def main() -> int:
    print(f"Python {platform.python_version()}, NumPy {np.__version__}, SciPy {scipy.__version__}")
    speed_table()
    return 0 if memory_check() else 1


if __name__ == "__main__":
    raise SystemExit(main())
