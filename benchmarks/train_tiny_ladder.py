"""Train a ladder of tiny byte-level transformers on the CPU and write their loss curves.

The ladder is the project's own set of real loss curves of small, short runs (issue 24): five
decoder-only transformers of 25 k to 0.8 M non-embedding parameters, trained for 250 to 3,000
steps with four LR schedules, a small LR sweep and a repeat with a second seed.

Corpus (code, not prose): the Python standard library's own ``.py`` files, which install with
CPython itself, read as bytes (vocabulary 256). Files are split into train and held-out sets by
a hash of their path, so held-out loss is measured on files the model never saw. The corpus of
CPython 3.11.7 is what ``data/tiny_ladder`` was trained on; another Python version gives a
slightly different corpus (the script prints its SHA-256, and SOURCE.md records ours).

Model: pre-LayerNorm GPT (learned positions, causal self-attention with heads of width 32,
GELU MLP of width 4d, untied output head), context 128 bytes, batch 16 sequences (2,048 tokens
per step). Optimiser: AdamW (beta 0.9/0.95, weight decay 0.1, gradient clipped at 1.0), warm-up
over 5 % of the steps, then the run's schedule.

Output, for every run: its TensorBoard event file, written by torch's own ``SummaryWriter``
(``train/loss``, ``eval/loss``, ``lr``, ``tokens``), and the rows of one tidy CSV
(``curves.csv``: run, step, n_params, tokens, batch_size, lr, loss, eval_loss and the run's
settings) that ``scaling_fit.load_runs`` reads as is. ``loss`` is the mean training loss of the
10 steps ending at ``step``; ``eval_loss`` is the loss on a fixed held-out set of 64 sequences,
every 50 steps and at the last step.

torch is a benchmark-only dependency: nothing in the package or its tests imports it.
Run (about 30-45 minutes on 2 cores; ``--quick`` trains a 3-run ladder in about a minute)::

    pip install torch tensorboard
    python benchmarks/train_tiny_ladder.py --out data/tiny_ladder

"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import multiprocessing
import os
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

CONTEXT = 128
BATCH = 16
TOKENS_PER_STEP = CONTEXT * BATCH
EVAL_SEQUENCES = 64
EVAL_EVERY = 50
LOG_EVERY = 10
WARMUP_FRACTION = 0.05
COSINE_FLOOR = 0.1  # cosine decays to 10 % of the peak LR
WSD_DECAY_FRACTION = 0.2  # WSD decays linearly to zero over the last 20 % of the steps
HELD_OUT_BUCKETS = 20  # one file in 20 (by a hash of its path) is held out
# (width, layers) of the five sizes: non-embedding parameters 25 k, 57 k, 150 k, 336 k, 793 k.
SIZES = ((32, 2), (48, 2), (64, 3), (96, 3), (128, 4))
LENGTHS = (250, 500, 1000, 2000, 3000)
PEAK_LR = 2e-3


@dataclass(frozen=True)
class RunSpec:
    """One training run of the ladder."""

    width: int
    layers: int
    steps: int
    schedule: str  # cosine | constant | wsd | linear
    peak_lr: float = PEAK_LR
    seed: int = 0

    @property
    def name(self) -> str:
        return (
            f"d{self.width}L{self.layers}_{self.schedule}_{self.steps}"
            f"_lr{self.peak_lr:g}_s{self.seed}"
        )


def ladder(quick: bool = False) -> list[RunSpec]:
    """The runs: cosine grid, other schedules, LR sweep and a second seed."""
    if quick:
        return [
            RunSpec(32, 2, 100, "cosine"),
            RunSpec(32, 2, 200, "cosine"),
            RunSpec(48, 2, 200, "wsd"),
        ]
    runs = [RunSpec(w, n, t, "cosine") for w, n in SIZES for t in LENGTHS]
    for w, n in (SIZES[1], SIZES[3]):
        runs.append(RunSpec(w, n, 3000, "constant"))  # its prefixes are the shorter constant runs
        runs += [RunSpec(w, n, t, s) for s in ("wsd", "linear") for t in (1000, 3000)]
    runs += [RunSpec(*SIZES[2], 1000, "cosine", peak_lr=lr) for lr in (5e-4, 1e-3, 4e-3, 8e-3)]
    runs += [RunSpec(w, n, 1000, "cosine", seed=1) for w, n in SIZES]
    runs.append(RunSpec(*SIZES[2], 3000, "cosine", seed=1))
    return runs


def lr_at(spec: RunSpec, step: int) -> float:
    """LR of the update that takes the model from ``step - 1`` to ``step`` (1-based)."""
    warmup = max(1, round(WARMUP_FRACTION * spec.steps))
    if step <= warmup:
        return spec.peak_lr * step / warmup
    progress = (step - warmup) / (spec.steps - warmup)
    if spec.schedule == "constant":
        return spec.peak_lr
    if spec.schedule == "cosine":
        cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
        return spec.peak_lr * (COSINE_FLOOR + (1.0 - COSINE_FLOOR) * cosine)
    if spec.schedule == "linear":
        return spec.peak_lr * (1.0 - progress)
    if spec.schedule == "wsd":
        decay_start = spec.steps * (1.0 - WSD_DECAY_FRACTION)
        if step <= decay_start:
            return spec.peak_lr
        return spec.peak_lr * (spec.steps - step) / (spec.steps - decay_start)
    raise ValueError(f"unknown schedule {spec.schedule!r}")


def spec_string(spec: RunSpec) -> str:
    """The run's schedule as a ``scaling_fit`` spec string (``schedules.json``)."""
    warmup = max(1, round(WARMUP_FRACTION * spec.steps))
    head = f"peak={spec.peak_lr:g},total={spec.steps},warmup={warmup}"
    extra = {
        "constant": "",
        "cosine": f",final={COSINE_FLOOR * spec.peak_lr:g}",
        "linear": ",final=0",
        "wsd": f",decay={WSD_DECAY_FRACTION:g},final=0",
    }[spec.schedule]
    return f"{spec.schedule}:{head}{extra}"


def corpus_files() -> list[Path]:
    """The standard library's ``.py`` files, sorted, without tests and bundled tools."""
    root = Path(sysconfig.get_paths()["stdlib"])
    skip = {"site-packages", "test", "tests", "idlelib", "lib2to3"}
    files = [p for p in root.rglob("*.py") if not skip & set(p.relative_to(root).parts)]
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def load_corpus() -> tuple[np.ndarray, np.ndarray, str]:
    """Train and held-out bytes, and the SHA-256 of the whole corpus."""
    root = Path(sysconfig.get_paths()["stdlib"])
    train, held_out, digest = [], [], hashlib.sha256()
    for path in corpus_files():
        text = path.read_bytes()
        digest.update(text)
        bucket = int(hashlib.md5(path.relative_to(root).as_posix().encode()).hexdigest(), 16)
        (held_out if bucket % HELD_OUT_BUCKETS == 0 else train).append(text)
    as_array = lambda parts: np.frombuffer(b"".join(parts), dtype=np.uint8).astype(np.int64)  # noqa: E731
    return as_array(train), as_array(held_out), digest.hexdigest()


class Block(nn.Module):
    """Pre-LayerNorm transformer block: causal self-attention and a GELU MLP."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.heads = max(1, width // 32)
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.qkv, self.out = nn.Linear(width, 3 * width), nn.Linear(width, width)
        self.up, self.down = nn.Linear(width, 4 * width), nn.Linear(4 * width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        qkv = self.qkv(self.norm1(x)).view(b, t, 3, self.heads, d // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.out(y.transpose(1, 2).reshape(b, t, d))
        return x + self.down(F.gelu(self.up(self.norm2(x))))


class TinyGPT(nn.Module):
    """Byte-level decoder-only transformer."""

    def __init__(self, width: int, layers: int) -> None:
        super().__init__()
        self.embed, self.position = nn.Embedding(256, width), nn.Embedding(CONTEXT, width)
        self.blocks = nn.ModuleList(Block(width) for _ in range(layers))
        self.norm, self.head = nn.LayerNorm(width), nn.Linear(width, 256)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        h = self.embed(tokens) + self.position(torch.arange(tokens.shape[1]))
        for block in self.blocks:
            h = block(h)
        return self.head(self.norm(h))

    def non_embedding_params(self) -> int:
        return sum(p.numel() for p in self.blocks.parameters())


def batches(data: np.ndarray, seed: int):
    """Random windows of ``CONTEXT + 1`` bytes; the same seed gives the same sequence."""
    rng = np.random.default_rng(seed)
    while True:
        starts = rng.integers(0, len(data) - CONTEXT - 1, size=BATCH)
        yield torch.from_numpy(np.stack([data[s : s + CONTEXT + 1] for s in starts]))


def eval_sequences(held_out: np.ndarray) -> torch.Tensor:
    """The fixed held-out set: ``EVAL_SEQUENCES`` windows at seeded random places."""
    starts = np.random.default_rng(12345).integers(0, len(held_out) - CONTEXT - 1, EVAL_SEQUENCES)
    return torch.from_numpy(np.stack([held_out[s : s + CONTEXT + 1] for s in starts]))


def mean_loss(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    logits = model(x[:, :-1])
    return F.cross_entropy(logits.reshape(-1, 256), x[:, 1:].reshape(-1))


def train(spec: RunSpec, train_bytes: np.ndarray, eval_set: torch.Tensor, out: Path) -> list[dict]:
    """Train one run; write its TensorBoard events and return its CSV rows."""
    from torch.utils.tensorboard import SummaryWriter

    torch.manual_seed(spec.seed)
    model = TinyGPT(spec.width, spec.layers)
    opt = torch.optim.AdamW(
        model.parameters(), lr=spec.peak_lr, betas=(0.9, 0.95), weight_decay=0.1
    )
    n_params = model.non_embedding_params()
    writer = SummaryWriter(log_dir=str(out / "tensorboard" / spec.name))
    rows, window, data = [], [], batches(train_bytes, spec.seed)
    settings = {
        "width": spec.width,
        "layers": spec.layers,
        "total_steps": spec.steps,
        "schedule": spec.schedule,
        "peak_lr": spec.peak_lr,
        "seed": spec.seed,
    }
    for step in range(1, spec.steps + 1):
        lr = lr_at(spec, step)
        for group in opt.param_groups:
            group["lr"] = lr
        loss = mean_loss(model, next(data))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        window.append(loss.item())
        if step % LOG_EVERY and step != spec.steps:
            continue
        row = {
            "run": spec.name,
            "step": step,
            "n_params": n_params,
            "tokens": step * TOKENS_PER_STEP,
            "batch_size": TOKENS_PER_STEP,
            "lr": lr,
            "loss": float(np.mean(window)),
            "eval_loss": "",
        }
        window = []
        if step % EVAL_EVERY == 0 or step == spec.steps:
            with torch.no_grad():
                row["eval_loss"] = mean_loss(model.eval(), eval_set).item()
            model.train()
            writer.add_scalar("eval/loss", row["eval_loss"], step)
        writer.add_scalar("train/loss", row["loss"], step)
        writer.add_scalar("lr", lr, step)
        writer.add_scalar("tokens", row["tokens"], step)
        rows.append(row | settings)
    writer.close()
    return rows


def _worker(args: tuple) -> tuple[str, list[dict], float]:
    spec, out = args
    torch.set_num_threads(1)  # two one-thread workers beat one two-thread run on tiny models
    train_bytes, held_out, _ = load_corpus()
    start = time.perf_counter()
    rows = train(spec, train_bytes, eval_sequences(held_out), out)
    return spec.name, rows, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("data/tiny_ladder"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="a 3-run ladder, for a smoke test")
    args = parser.parse_args(argv)
    _, _, digest = load_corpus()
    print(
        f"corpus: {len(corpus_files())} files of Python {sys.version.split()[0]}, sha256 {digest}"
    )
    runs = sorted(ladder(args.quick), key=lambda s: -s.steps * s.width**2 * s.layers)
    start, rows = time.perf_counter(), []
    with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
        for name, run_rows, seconds in pool.imap_unordered(_worker, [(s, args.out) for s in runs]):
            rows += run_rows
            print(
                f"{name}: {seconds:.0f} s, final eval loss {run_rows[-1]['eval_loss']:.4f}",
                flush=True,
            )
    rows.sort(key=lambda r: (r["run"], r["step"]))
    with open(args.out / "curves.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    specs = {spec.name: spec_string(spec) for spec in sorted(runs, key=lambda s: s.name)}
    (args.out / "schedules.json").write_text(json.dumps(specs, indent=1) + "\n")
    print(
        f"{len(runs)} runs, {len(rows)} rows in {time.perf_counter() - start:.0f} s wall "
        f"on {os.cpu_count()} cores ({args.workers} workers) -> {args.out / 'curves.csv'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
