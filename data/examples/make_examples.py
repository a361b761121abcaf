"""Write the example logs of this folder (see SOURCE.md): one synthetic data set, five formats.

Run from the repository root: ``python data/examples/make_examples.py``.  Deterministic
(seeded), so the files it writes are the ones committed.
"""

from __future__ import annotations

import json
import math
from functools import partial
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
# Hoffmann et al. 2022 (arXiv:2203.15556), Approach 3, rounded: L = E + A/N^alpha + B/D^beta.
E, A, B, ALPHA, BETA = 1.69, 406.4, 410.7, 0.34, 0.28
BATCH = 262144  # tokens per optimizer step (2^18)
PEAK, WARMUP, TOTAL = 3e-4, 500, 8000  # linear warm-up, then cosine to 10 % of the peak
RUNS = {"70M": (7e7, 8000), "160M": (1.6e8, 8000), "410M": (4.1e8, 6000)}  # 410M stopped early
STEPS = range(1000, 8001, 1000)
NOISE = 0.005  # Gaussian, on the loss


def lr(step: int) -> float:
    if step < WARMUP:
        return PEAK * step / WARMUP
    progress = (step - WARMUP) / (TOTAL - WARMUP)
    return float(f"{PEAK * (0.1 + 0.45 * (1 + math.cos(math.pi * progress))):.6g}")


def rows() -> list[dict]:
    rng = np.random.default_rng(0)
    out = []
    for run, (n_params, last) in RUNS.items():
        for step in (s for s in STEPS if s <= last):
            loss = E + A / n_params**ALPHA + B / (step * BATCH) ** BETA + NOISE * rng.normal()
            out.append(
                {
                    "run": run,
                    "step": step,
                    "n_params": n_params,
                    "lr": lr(step),
                    "loss": round(loss, 4),
                }
            )
    return out


def write(name: str, lines: list[str], folder: Path = HERE) -> None:
    path = folder / name
    path.parent.mkdir(exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def main(folder: Path = HERE) -> None:
    """Write every example file into ``folder`` (default: this one)."""
    put = partial(write, folder=folder)
    data = rows()
    put(
        "runs.csv",
        ["run,step,n_params,batch_size,lr,loss"]
        + [
            f"{r['run']},{r['step']},{r['n_params']:g},{BATCH},{r['lr']!r},{r['loss']!r}"
            for r in data
        ],
    )
    header = ["Step"] + [f"{run} - train/loss{x}" for run in RUNS for x in ("", "__MIN", "__MAX")]
    panel = [",".join(f'"{h}"' for h in header)]
    for step in STEPS:
        cells = [str(step)]
        for run in RUNS:
            found = [r["loss"] for r in data if r["run"] == run and r["step"] == step]
            cells += (
                [f"{found[0]!r}", f"{found[0] - 0.01:.4f}", f"{found[0] + 0.01:.4f}"]
                if (found)
                else ["", "", ""]
            )
        panel.append(",".join(cells))
    put("wandb_panel.csv", panel)
    put(
        "wandb_history.csv",
        ["_step,_runtime,_timestamp,train/loss,train/lr,run"]
        + [
            f"{r['step']},{r['step'] * 0.8:.1f},{1764547200 + r['step'] * 0.8:.1f},{r['loss']!r},"
            f"{r['lr']!r},{r['run']}"
            for r in data
        ],
    )
    for run in RUNS:
        mine = [r for r in data if r["run"] == run]
        for tag, key in (("train_loss", "loss"), ("train_lr", "lr")):
            put(
                f"tensorboard/run-{run}-tag-{tag}.csv",
                ["Wall time,Step,Value"]
                + [f"{1764547200 + r['step'] * 0.8:.3f},{r['step']},{r[key]!r}" for r in mine],
            )
    put(
        "training_log.jsonl",
        [
            json.dumps(
                {
                    "run": r["run"],
                    "step": r["step"],
                    "n_params": f"{r['n_params'] / 1e6:g}M",
                    "batch_size": BATCH,
                    "train": {"loss": r["loss"], "lr": r["lr"]},
                }
            )
            for r in data
        ],
    )


if __name__ == "__main__":
    main()
