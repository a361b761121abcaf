"""Benchmark: TensorBoard event files read in place, ours against the tensorboard package's own.

Issue 20's goal: a log directory of 100 runs × 10,000 steps (loss and LR logged at every
step: 2,000,000 scalar events in 100 files, ~140 MB) loaded in ≤ 10 s on 2 cores.  Measured
in one process, on the same files, one after the other:

1. **ours, whole loader**: ``scaling_fit.load_runs(DIR)`` (records framed and checksummed,
   each parsed by tensorboard's ``Event`` protobuf class, joined on step, tidied and
   checked as a CSV is);
2. **ours, reading only**: :func:`scaling_fit.inputs.tensorboard_events.read_log_dir`
   (the same without the tidy table's checks);
3. **the library's plain reader**: tensorboard's ``EventFileLoader(path).Load()`` over every
   file, keeping each scalar's (tag, step, value): the least a reader built on it does
   (TensorBoard's ``EventAccumulator``, and readers built on it, add more per event);

and prints the seconds of each and the ratio plain/ours.  The files are written once with
``tensorboard.summary.Writer`` (TF2 tensor scalars, as Keras and Flax write) into ``--dir``
(default: a folder in the system's temp directory, reused when complete).

The script asserts nothing about time; it prints a table.  Needs the tensorboard extra
(``pip install "scaling_fit[tensorboard]"``).

Run: ``python benchmarks/bench_log_stores.py [--runs 100] [--steps 10000] [--dir DIR]``
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

import scaling_fit as sf
from scaling_fit.inputs import tensorboard_events


def write_runs(root: Path, runs: int, steps: int) -> None:
    """``runs`` folders of event files, loss and LR at every step (skipped when present)."""
    from tensorboard.summary import Writer

    done = root / f"complete-{runs}x{steps}"
    if done.exists():
        return
    rng = np.random.default_rng(0)
    lr = 3e-4 * np.minimum(1.0, np.arange(1, steps + 1) / 500)
    for run in range(runs):
        writer = Writer(str(root / f"run{run:03d}"))
        loss = 2.0 + 8.0 * (np.arange(steps) + 10.0) ** -0.3 * (1 + 0.01 * rng.standard_normal())
        for step in range(steps):
            writer.add_scalar("train/loss", loss[step], step, wall_time=1.0 + step)
            writer.add_scalar("train/lr", lr[step], step, wall_time=1.0 + step)
        writer.close()
    done.touch()


def plain_reader(root: Path) -> int:
    """Scalars read by tensorboard's EventFileLoader, kept as (tag, step, value) lists."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    from tensorboard.util import tensor_util

    kept = []
    for path in sorted(root.rglob("*tfevents*")):
        for event in EventFileLoader(str(path)).Load():
            for value in event.summary.value:
                if value.HasField("tensor") and value.tag in ("train/loss", "train/lr"):
                    kept.append((value.tag, event.step, tensor_util.make_ndarray(value.tensor)))
    return len(kept)


def timed(function, *args) -> tuple[tuple[float, float], object]:
    """(wall seconds, CPU seconds of this process) of ``function(*args)``, and its result.
    On a shared machine the CPU seconds show what the wall seconds lost to other work."""
    start, cpu = time.perf_counter(), time.process_time()
    result = function(*args)
    return (time.perf_counter() - start, time.process_time() - cpu), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "sf_bench_tb"))
    args = parser.parse_args()
    root = Path(args.dir) / f"{args.runs}x{args.steps}"
    started = time.perf_counter()
    write_runs(root, args.runs, args.steps)
    written = time.perf_counter() - started
    print(f"# {platform.node()}, {os.cpu_count()} CPUs, files written in {written:.0f} s")
    print(f"# {args.runs} runs x {args.steps} steps, loss and LR at every step")
    print("# load average before reading: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    whole, table = timed(sf.load_runs, str(root))
    assert len(table) == args.runs * args.steps, len(table)
    reading, _ = timed(tensorboard_events.read_log_dir, str(root), {}, _alias)
    plain, kept = timed(plain_reader, root)
    assert kept == 2 * args.runs * args.steps, kept
    print("| reader | wall s | CPU s | plain / this (wall) |")
    print("| --- | --- | --- | --- |")
    for name, (wall, cpu) in [
        ("ours: sf.load_runs(DIR)", whole),
        ("ours: reading only (read_log_dir)", reading),
        ("tensorboard EventFileLoader + make_ndarray", plain),
    ]:
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {plain[0] / wall:.1f}x |")


def _alias(tag: str) -> str | None:
    return {"train/loss": "loss", "train/lr": "lr"}.get(tag)


if __name__ == "__main__":
    main()
