"""The canonical columns of the tidy runs table and the cost model's FLOPs constant.

One row per observation (design of the data model):

========== ==========================================================================
column     meaning
========== ==========================================================================
run        run identifier (string)
step       optimizer steps taken at the observation (the loss after ``step`` updates)
n_params   model parameters N (each law states total or non-embedding)
tokens     training tokens D seen at the observation (final-loss data: total tokens)
compute    training FLOPs C
lr         learning rate at that step (loss-curve laws)
batch_size tokens per optimizer step
loss       the loss being modelled (nats/token unless the data says otherwise)
========== ==========================================================================
"""

from __future__ import annotations

CANONICAL = ("run", "step", "n_params", "tokens", "compute", "lr", "batch_size", "loss")
NUMERIC = CANONICAL[1:]
NON_NEGATIVE = ("step", "lr")  # may be 0; every other numeric column must be > 0
# Training FLOPs per parameter and token, C = 6 N D (Kaplan et al. 2020; Hoffmann et al. 2022).
FLOPS_PER_PARAM_TOKEN = 6.0
# Longest schedule, from settings or a logged LR: 10⁸ steps (0.8 GB of float64 LRs) is ~100x
# the longest published pre-training run; more is a typo, and would ask for terabytes.
MAX_STEPS = 100_000_000
