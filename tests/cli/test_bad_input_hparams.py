"""Bad-input corpus of ``hparams``, ``plan``, ``cbs``, ``predict`` and ``--schedules`` files,
run through the real CLI in-process, in the style of :mod:`tests.test_bad_input_corpus`.

Each row of :data:`CASES` is a name, the files it writes, the command line, the exit code
(0 ok, 1 the law cannot answer, 2 bad input) and words of the one line a user reads: the
``scaling-fit: error: …`` line (the only line on stderr for exit 2, never a traceback), or
for exit 0 the ``warning: …`` line a suspicious but usable input earns.
"""

from __future__ import annotations

import gzip
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bad_input_runner import run_case

import scaling_fit as sf

COSINE = Path(__file__).resolve().parents[2] / "data" / "multipower_law" / "csv_25"
COSINE = COSINE / "cosine_24000.csv"
SPEC = "cosine:peak=3e-4,total=24000,warmup=2160,final=3e-5"


def sweep(tokens_per_param=(10.0, 20.0, 40.0), batches=(64, 180, 512)) -> pd.DataFrame:
    """3 sizes x len(tokens_per_param) cells x 4 LRs x 3 batch sizes (sequences): optimum
    lr* = 3e-3 (N/1e8)^-0.3, B* = 128 (N/1e8)^0.2, 0.1 % noise."""
    rng = np.random.default_rng(0)
    rows = []
    for n in (1e8, 3e8, 1e9):
        for ratio in tokens_per_param:
            d, best_lr, best_batch = ratio * n, 3e-3 * (n / 1e8) ** -0.3, 128 * (n / 1e8) ** 0.2
            for lr in (3e-4, 1e-3, 3e-3, 1e-2):
                for batch in batches:
                    shape = (
                        0.01 * np.log(lr / best_lr) ** 2 + 0.004 * np.log(batch / best_batch) ** 2
                    )
                    loss = (1.7 + 400 / n**0.34 + 410 / d**0.28) * (1 + shape)
                    rows.append((n, d, lr, batch, loss * np.exp(rng.normal(0, 0.001))))
    return pd.DataFrame(rows, columns=["n_params", "tokens", "lr", "batch_size", "loss"])


def steps_table() -> pd.DataFrame:
    """Steps to a target loss, S = S_min (1 + B_noise/B), for 3 models at 3 token counts."""
    rows = [
        (f"m{i}", d, b, s_min * (1 + b_noise / b))
        for i, (d, s_min, b_noise) in enumerate(
            [(1e9, 1e3, 2e5), (3e9, 2e3, 4e5), (1e10, 4e3, 9e5)]
        )
        for b in (5e4, 1e5, 2e5, 4e5, 8e5, 1.6e6)
    ]
    return pd.DataFrame(rows, columns=["model", "tokens", "batch_size", "steps"])


with warnings.catch_warnings():
    warnings.simplefilter("ignore", sf.ScalingFitWarning)  # a coarse grid: edge warnings
    HP = sf.fit_hparams(sweep(), seq_len=2048, bootstrap=50).to_dict()
    HP_SEQUENCES = sf.fit_hparams(sweep(), bootstrap=50).to_dict()  # batch_size as given
CBS = sf.fit_critical_batch(steps_table()).to_dict()
FIT = sf.FitResult.from_params("chinchilla").to_dict()
# A Chinchilla fit of 20 runs (5 sizes x 4 token counts, 1 % noise) for plan --suggest.
_N, _D = np.repeat([1e8, 3e8, 1e9, 3e9, 1e10], 4), np.tile([2e9, 6e9, 2e10, 6e10], 5)
_LOSS = (1.7 + 400 / _N**0.34 + 410 / _D**0.28) * np.exp(
    np.random.default_rng(0).normal(0, 0.01, 20)
)
FITTED = sf.fit(pd.DataFrame({"n_params": _N, "tokens": _D, "loss": _LOSS}), "chinchilla").to_json()
SWEEP = sweep().to_csv(index=False)
# Every run at lr 1e-2 diverged (loss 7): 27 of the 108.
DIVERGED = sweep().assign(loss=lambda t: t["loss"].where(t["lr"] < 1e-2, 7.0)).to_csv(index=False)


def loss_of_row(index: int, text: str) -> str:
    """The sweep CSV with data row ``index``'s loss written as ``text`` (pandas 2.0's to_csv
    warns when casting NaN or inf to text, so the line is edited)."""
    lines = list(LINES)
    lines[index + 1] = ",".join([*lines[index + 1].split(",")[:-1], text])
    return "\n".join(lines) + "\n"


LINES = SWEEP.splitlines()
NAN_LOSS, INF_LOSS = loss_of_row(5, ""), loss_of_row(5, "inf")  # one run's loss blank / inf
STEPS = steps_table().to_csv(index=False)


def edit(raw: dict, path: str, value=None, *, drop: bool = False) -> str:
    """JSON text of ``raw`` with the field at dotted ``path`` set to ``value`` (or dropped)."""
    raw = json.loads(json.dumps(raw))
    *parents, last = path.split(".")
    node = raw
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if drop:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return json.dumps(raw)


def deep(levels: int = 100_000) -> str:
    return "[" * levels + "]" * levels


def rows(keep) -> str:
    """The sweep CSV with only the data lines ``keep(fields)`` accepts."""
    return "\n".join([LINES[0], *(x for x in LINES[1:] if keep(x.split(",")))]) + "\n"


def steps_csv(*pairs: str) -> str:
    return "batch_size,steps\n" + "\n".join(pairs) + "\n"


HPARAMS = ["hparams", "sweep.csv", "--seq-len", "2048", "--bootstrap", "50"]
S = {"sweep.csv": SWEEP}
RUN = ["plan", "--n-params", "1e9", "--tokens", "2e10"]
PLAN_HP = [*RUN, "--hparams", "hp.json"]
PLAN_CBS = [*RUN, "--cbs", "cbs.json"]
SUGGEST = ["plan", "--suggest", "--fit", "fit.json", "--budget", "1e21"]
CBS_ARGV = ["cbs", "s.csv"]
GRID = ["predict", "fit.json", "--n-params", "1e9", "--tokens", "1e10"]
BUDGET = ["predict", "fit.json", "--compute"]
F = {"fit.json": json.dumps(FIT)}
FIT_CURVE = ["fit", "cosine_24000.csv", "--law", "multipower", "--schedules", "s.json"]
C = {"cosine_24000.csv": COSINE.read_bytes()} if COSINE.is_file() else {}
TOO_DEEP = "nested too deep"
MULTIPOWER = json.dumps(sf.FitResult.from_params("multipower").to_dict())
KAPLAN = json.dumps(sf.FitResult.from_params("kaplan").to_dict())


def lr_c_as(literal: str) -> str:
    """The hparams JSON with the LR law's coefficient written as ``literal`` (NaN, digits)."""
    value = json.dumps(HP["lr"]["params"]["c"]["value"])
    return json.dumps(HP).replace(f'"value": {value}', f'"value": {literal}', 1)


# name, files {name: text or bytes}, argv, exit code, words of the line (lowercase match)
# fmt: off
CASES = [
    # ---- hparams: the sweep and the flags
    ("hparams: good", S, HPARAMS, 0, None),
    ("hparams: sequences without --seq-len", S, HPARAMS[:2], 0,
     ["warning:", "look like sequences", "--seq-len"]),
    ("hparams: --seq-len 0", S, [*HPARAMS[:2], "--seq-len", "0"], 2,
     ["seq_len=0.0 (--seq-len)", "whole number"]),
    ("hparams: --seq-len -1", S, [*HPARAMS[:2], "--seq-len", "-1"], 2, ["(--seq-len)"]),
    ("hparams: --seq-len 2048.5", S, [*HPARAMS[:2], "--seq-len", "2048.5"], 2, ["(--seq-len)"]),
    ("hparams: --seq-len 1e30", S, [*HPARAMS[:2], "--seq-len", "1e30"], 2, ["(--seq-len)"]),
    ("hparams: --band 0", S, [*HPARAMS, "--band", "0"], 2, ["(--band)", "0 < band <= 100"]),
    ("hparams: --band 1e300", S, [*HPARAMS, "--band", "1e300"], 2, ["(--band)"]),
    ("hparams: --seed -1", S, [*HPARAMS, "--seed", "-1"], 2, ["seed=-1 (--seed)"]),
    ("hparams: --bootstrap -1", S, [*HPARAMS, "--bootstrap", "-1"], 2, ["--bootstrap"]),
    ("hparams: --bootstrap 1", S, [*HPARAMS[:4], "--bootstrap", "1"], 0,
     ["warning:", "no intervals from 1 bootstrap resamples"]),
    ("hparams: lr 0", {"sweep.csv": SWEEP.replace(",0.0003,", ",0,", 1)}, HPARAMS, 2,
     ["column 'lr'", "finite number > 0", "found 0"]),
    ("hparams: lr text", {"sweep.csv": SWEEP.replace(",0.0003,", ",abc,", 1)}, HPARAMS, 2,
     ["row 1", "'lr'", "'abc'"]),
    ("hparams: lr inf", {"sweep.csv": SWEEP.replace(",0.0003,", ",inf,", 1)}, HPARAMS, 2,
     ["'lr'", "inf"]),
    ("hparams: blank batch", {"sweep.csv": SWEEP.replace(",64,", ",,", 1)}, HPARAMS, 2,
     ["'batch_size'", "empty/nan"]),
    ("hparams: no lr column", {"sweep.csv": SWEEP.replace(",lr,", ",eta,")}, HPARAMS, 2,
     ["missing ['lr']", "--col"]),
    ("hparams: one size", {"sweep.csv": rows(lambda f: f[0] == "100000000.0")}, HPARAMS, 2,
     ["1 distinct n_params"]),
    ("hparams: one lr per cell", {"sweep.csv": rows(lambda f: f[2] == "0.001")}, HPARAMS, 2,
     ["more than one lr", "several lr values per cell"]),
    ("hparams: one batch per cell (LR-only)", {"sweep.csv": rows(lambda f: f[3] == "64")},
     HPARAMS, 0, ["warning:", "b* is not identified", "lr-only sweep"]),
    ("hparams: a cross (LR line and batch line)",
     {"sweep.csv": rows(lambda f: f[3] == "180" or f[2] == "0.003")}, HPARAMS, 0, None),
    ("hparams: diverged runs at loss 7", {"sweep.csv": DIVERGED}, HPARAMS, 0,
     ["diverged runs left out: 27 of 108"]),
    ("hparams: NaN loss in a CSV", {"sweep.csv": NAN_LOSS}, HPARAMS, 2,
     ["column 'loss'", "--nan-policy omit"]),
    ("hparams: NaN loss dropped", {"sweep.csv": NAN_LOSS}, [*HPARAMS, "--nan-policy", "omit"], 0,
     ["warning:", "dropped 1 of 108 rows"]),
    ("hparams: inf loss in a CSV", {"sweep.csv": INF_LOSS},
     HPARAMS, 2, ["column 'loss'", "found inf", "diverged run", "--nan-policy omit"]),
    ("hparams: one run", {"sweep.csv": "\n".join(LINES[:2]) + "\n"}, HPARAMS, 2,
     ["more than one"]),
    ("hparams: tokens = 20 N", {"sweep.csv": sweep((20.0,)).to_csv(index=False)}, HPARAMS, 0,
     ["warning:", "vary together", "no intervals"]),
    ("hparams: 3 cells, 3 parameters",
     {"sweep.csv": rows(lambda f: f[1] in ("1000000000.0", "6000000000.0", "40000000000.0"))},
     HPARAMS, 0, ["warning:", "more cells than the law's 3 parameters"]),
    ("hparams: empty file", {"sweep.csv": ""}, HPARAMS, 2, ["sweep.csv", "empty"]),
    ("hparams: binary file", {"sweep.csv": bytes(range(256)) * 8}, HPARAMS, 2, ["sweep.csv"]),
    ("hparams: -o the input", S, [*HPARAMS, "-o", "sweep.csv", "--force"], 2,
     ["is the input file"]),
    # ---- plan: the run and its options
    ("plan: good", {}, RUN, 0, None),
    ("plan: --seq-len 0", {}, [*RUN, "--seq-len", "0"], 2, ["seq_len=0.0 (--seq-len)"]),
    ("plan: --seq-len 0.5", {}, [*RUN, "--seq-len", "0.5"], 2, ["(--seq-len)"]),
    ("plan: --seq-len 1e9", {}, [*RUN, "--seq-len", "1e9"], 2, ["(--seq-len)"]),
    ("plan: --warmup-fraction 2", {}, [*RUN, "--warmup-fraction", "2"], 2,
     ["(--warmup-fraction)", "from 0 to 1"]),
    ("plan: --warmup-fraction -0.1", {}, [*RUN, "--warmup-fraction", "-0.1"], 2,
     ["(--warmup-fraction)"]),
    ("plan: N = D = 1e300", {}, ["plan", "--n-params", "1e300", "--tokens", "1e300"], 2,
     ["plan:", "overflows"]),
    ("plan: N = D = 1e-300", {}, ["plan", "--n-params", "1e-300", "--tokens", "1e-300"], 2,
     ["less than one batch"]),
    ("plan: --compute 1e308 with a fit", F, ["plan", "--compute", "1e308", "--fit", "fit.json"],
     2, ["compute_optimal", "inf", "smaller budget"]),
    ("plan: --n-params 0", {}, ["plan", "--n-params", "0", "--tokens", "1e9"], 2,
     ["(--n-params) must be finite and > 0"]),
    ("plan: tokens only", {}, ["plan", "--tokens", "1e9"], 2, ["found ['tokens']"]),
    ("plan: suggest for --compute 1e308", {"fit.json": FITTED},
     [*SUGGEST, "--compute", "1e308"], 2, ["compute=1e+308", "overflow"]),
    ("plan: suggest with a budget too small", {"fit.json": FITTED},
     [*SUGGEST, "--n-params", "70B", "--tokens", "1.4T", "--budget", "1e10"], 0,
     ["warning:", "buys none of the candidate runs"]),
    ("plan: suggest with a budget of -1", {"fit.json": FITTED},
     [*SUGGEST, "--n-params", "70B", "--tokens", "1.4T", "--budget", "-1"], 2,
     ["budget=-1.0", ">= 0"]),
    # ---- plan --hparams: tampered or foreign files
    ("plan: hp good", {"hp.json": json.dumps(HP)}, PLAN_HP, 0, None),
    ("plan: hp fitted on sequences", {"hp.json": json.dumps(HP_SEQUENCES)}, PLAN_HP, 0,
     ["warning:", "look like sequences", "--seq-len"]),
    ("plan: hp batch null (an LR-only sweep)", {"hp.json": edit(HP, "batch", None)}, PLAN_HP,
     0, ["warning:", "does not identify b*", "published step law"]),
    ("plan: hp missing", {}, PLAN_HP, 2, ["hp.json", "does not exist"]),
    ("plan: hp binary", {"hp.json": bytes(range(256))}, PLAN_HP, 2, ["hp.json", "not text"]),
    ("plan: hp not JSON", {"hp.json": "hello"}, PLAN_HP, 2, ["hp.json", "not valid json"]),
    ("plan: hp nested deep", {"hp.json": deep()}, PLAN_HP, 2, ["hp.json", TOO_DEEP]),
    ("plan: hp a fit file", F | {"hp.json": json.dumps(FIT)}, PLAN_HP, 2,
     ["hp.json", "'format'"]),
    ("plan: hp lr text", {"hp.json": edit(HP, "lr", "abc")}, PLAN_HP, 2,
     ["hp.json", "field 'lr'"]),
    ("plan: hp lr law swapped", {"hp.json": edit(HP, "lr.law", "steplaw_batch")}, PLAN_HP, 2,
     ["hp.json", "field 'lr'", "steplaw_batch"]),
    ("plan: hp c text", {"hp.json": edit(HP, "lr.params.c.value", "abc")}, PLAN_HP, 2,
     ["hp.json", "field 'lr'", "params.c.value", "'abc'"]),
    ("plan: hp c negative", {"hp.json": edit(HP, "lr.params.c.value", -1.0)}, PLAN_HP, 2,
     ["hp.json", "params.c.value", "bounds"]),
    ("plan: hp c a 400-digit integer",
     {"hp.json": lr_c_as("1" + "0" * 400)},
     PLAN_HP, 2, ["hp.json", "params.c.value"]),
    ("plan: hp c NaN", {"hp.json": lr_c_as("NaN")},
     PLAN_HP, 2, ["hp.json", "params.c.value", "nan"]),
    ("plan: hp exponent 1e300", {"hp.json": edit(HP, "lr.params.a.value", 1e300)}, PLAN_HP, 2,
     ["plan:", "peak_lr comes out as inf"]),
    ("plan: hp samples ragged", {"hp.json": edit(HP, "lr.bootstrap_samples", [[1, 2, 3], [1]])},
     PLAN_HP, 2, ["hp.json", "bootstrap_samples"]),
    ("plan: hp samples null rows", {"hp.json": edit(HP, "lr.bootstrap_samples", [None, None])},
     PLAN_HP, 2, ["hp.json", "bootstrap_samples[0]"]),
    ("plan: hp samples all null",
     {"hp.json": edit(HP, "lr.bootstrap_samples", [[None, None, None]] * 4)}, PLAN_HP, 0, None),
    ("plan: hp cells ragged", {"hp.json": edit(HP, "cells.n_params", [1e8])}, PLAN_HP, 2,
     ["hp.json", "field 'cells'", "ragged"]),
    ("plan: hp cells text", {"hp.json": edit(HP, "cells.tokens", ["x"] * 9)}, PLAN_HP, 2,
     ["hp.json", "cells.tokens[0]", "'x'"]),
    ("plan: hp cells null", {"hp.json": edit(HP, "cells.n_params", [None] * 9)}, PLAN_HP, 2,
     ["hp.json", "cells.n_params[0]"]),
    ("plan: hp warnings a number", {"hp.json": edit(HP, "warnings", 3)}, PLAN_HP, 2,
     ["hp.json", "field 'warnings'"]),
    # ---- plan --cbs: tampered files
    ("plan: cbs good", {"cbs.json": json.dumps(CBS)}, PLAN_CBS, 0, None),
    ("plan: cbs nested deep", {"cbs.json": deep()}, PLAN_CBS, 2, ["cbs.json", TOO_DEEP]),
    ("plan: cbs b_noise text", {"cbs.json": edit(CBS, "fits.0.b_noise", "abc")}, PLAN_CBS, 2,
     ["cbs.json", "fits.b_noise[0]", "'abc'"]),
    ("plan: cbs b_noise null", {"cbs.json": edit(CBS, "fits.0.b_noise", None)}, PLAN_CBS, 2,
     ["cbs.json", "fits.b_noise[0]"]),
    ("plan: cbs b_noise negative", {"cbs.json": edit(CBS, "fits.0.b_noise", -5)}, PLAN_CBS, 2,
     ["cbs.json", "fits.b_noise[0]", "> 0"]),
    ("plan: cbs fits ragged", {"cbs.json": edit(CBS, "fits", {"model": ["a"], "b_noise": [1, 2]})},
     PLAN_CBS, 2, ["cbs.json", "ragged"]),
    ("plan: cbs level 2", {"cbs.json": edit(CBS, "level", 2)}, PLAN_CBS, 2,
     ["cbs.json", "field 'level'"]),
    ("plan: cbs group renamed", {"cbs.json": edit(CBS, "group", "size")}, PLAN_CBS, 2,
     ["cbs.json", "['size'] are missing"]),
    # ---- cbs: the steps-to-target table and the flags
    ("cbs: good", {"s.csv": STEPS}, CBS_ARGV, 0, None),
    ("cbs: steps grow with the batch",
     {"s.csv": steps_csv("1e5,100", "2e5,200", "4e5,400", "8e5,800")}, CBS_ARGV, 2,
     ["grow with the batch size", "slope +1.00"]),
    ("cbs: flat steps", {"s.csv": steps_csv("1e5,1000", "2e5,1000", "4e5,1001", "8e5,999")},
     CBS_ARGV, 0, ["warning:", "edge of the search"]),
    ("cbs: infinite steps", {"s.csv": steps_csv("1e5,300", "2e5,inf", "4e5,150", "8e5,120")},
     CBS_ARGV, 2, ["row 2, column 'steps'", "never reached"]),
    ("cbs: steps 1e308",
     {"s.csv": steps_csv("1e5,1e308", "2e5,1e308", "4e5,1e300", "8e5,1e300")}, CBS_ARGV, 2,
     ["column 'steps'", "up to 1e+15"]),
    ("cbs: batch 1e300", {"s.csv": steps_csv("1e300,300", "1e305,200", "1e308,150")}, CBS_ARGV,
     2, ["column 'batch_size'", "up to 1e+15"]),
    ("cbs: a 400-digit batch", {"s.csv": steps_csv("1" + "0" * 400 + ",300", "2e5,200", "4e5,150")},
     CBS_ARGV, 2, ["row 1, column 'batch_size'"]),
    ("cbs: --level 0", {"s.csv": STEPS}, [*CBS_ARGV, "--level", "0"], 2, ["level=0.0 (--level)"]),
    ("cbs: --level 95", {"s.csv": STEPS}, [*CBS_ARGV, "--level", "95"], 2, ["(--level)"]),
    ("cbs: --group names no column", {"s.csv": STEPS}, [*CBS_ARGV, "--group", "size"], 2,
     ["group='size' (--group) names no column"]),
    ("cbs: blank group cell", {"s.csv": STEPS.replace("m0,", ",", 1)}, CBS_ARGV, 2,
     ["row 1, column 'model'", "blank"]),
    ("cbs: tokens text", {"s.csv": STEPS.replace("m1,3000000000.0", "m1,abc", 1)}, CBS_ARGV, 2,
     ["column 'tokens'", "'abc'"]),
    ("cbs: tokens 0", {"s.csv": STEPS.replace("m1,3000000000.0", "m1,0", 1)}, CBS_ARGV, 2,
     ["column 'tokens'", "found 0"]),
    ("cbs: tokens vary within a sweep",
     {"s.csv": STEPS.replace("m1,3000000000.0", "m1,4000000000.0", 1)}, CBS_ARGV, 2,
     ["column 'tokens' takes 2 values in group 'm1'"]),
    ("cbs: --level 1 - 1e-16", {"s.csv": STEPS}, [*CBS_ARGV, "--level", "0.9999999999999999"],
     2, ["interval of b_noise is unbounded", "(--level)"]),
    ("cbs: 2 batch sizes", {"s.csv": steps_csv("1e5,100", "2e5,60")}, CBS_ARGV, 2,
     ["2 distinct batch sizes"]),
    # ---- predict: budgets and grids out of range
    ("predict: --compute 1e308", F, [*BUDGET, "1e308"], 2,
     ["compute_optimal", "compute=1e+308", "overflow"]),
    ("predict: --compute 1e400", F, [*BUDGET, "1e400"], 2,
     ["(--compute) must be finite and > 0"]),
    ("predict: K 1e-300", F, [*BUDGET, "1e30", "--flops-per-param-token", "1e-300"], 2,
     ["compute_optimal", "--flops-per-param-token"]),
    ("predict: kaplan at N = 1e-300", {"fit.json": KAPLAN},
     ["predict", "fit.json", "--n-params", "1e-300", "--tokens", "1e12"], 2,
     ["predict: loss comes out as inf", "n_params=1e-300"]),
    ("predict: --level 2", F, [*GRID, "--level", "2"], 2, ["level=2.0 (--level)"]),
    ("predict: lr law under --compute",
     {"fit.json": json.dumps(sf.FitResult.from_params("steplaw_lr").to_dict())},
     [*BUDGET, "1e20"], 2, ["loss law", "'steplaw_lr' predicts lr"]),
    ("predict: a curve at step 10**30", {"fit.json": MULTIPOWER},
     ["predict", "fit.json", "--schedule", SPEC, "--steps", str(10**30)], 2,
     ["step 1e+30 lies outside its schedule of 24000 steps"]),
    # ---- predict: tampered fit files
    ("predict: fit nested deep", {"fit.json": deep()}, GRID, 2, ["fit.json", "recursion"]),
    ("predict: E negative", {"fit.json": edit(FIT, "params.E.value", -1.0)}, GRID, 2,
     ["fit.json", "params.e.value", "bounds"]),
    ("predict: alpha negative", {"fit.json": edit(FIT, "params.alpha.value", -0.3)}, GRID, 2,
     ["fit.json", "params.alpha.value"]),
    ("predict: E a 400-digit integer", {"fit.json": edit(FIT, "params.E.value", 10**400)}, GRID,
     2, ["fit.json", "params.e.value"]),
    ("predict: draws with a negative E",
     {"fit.json": edit(FIT, "bootstrap_samples", [[-5, 400, 410, 0.34, 0.28]] * 4)}, GRID, 2,
     ["fit.json", "bootstrap_samples[0][0]"]),
    ("predict: draws all null", {"fit.json": edit(FIT, "bootstrap_samples", [[None] * 5] * 4)},
     [*BUDGET, "1e20"], 0, None),
    ("predict: A 1e308 under --compute", {"fit.json": edit(FIT, "params.A.value", 1e308)},
     [*BUDGET, "1e20"], 2, ["compute_optimal", "inf"]),
    ("predict: fit is gzip", {"fit.json": gzip.compress(json.dumps(FIT).encode())}, GRID, 2,
     ["fit.json", "not text"]),
    # ---- --schedules files (fit of a loss curve)
    ("schedules: nested deep", C | {"s.json": deep()}, FIT_CURVE, 2, ["s.json", TOO_DEEP]),
    ("schedules: nested deep in a run", C | {"s.json": '{"cosine_24000": ' + deep(5000) + "}"},
     FIT_CURVE, 2, ["s.json", TOO_DEEP]),
    ("schedules: a 400-digit learning rate",
     C | {"s.json": '{"cosine_24000": [1' + "0" * 400 + ", 2e-4]}"}, FIT_CURVE, 2,
     ["run 'cosine_24000'", "finite learning rates"]),
    ("schedules: not JSON", C | {"s.json": "cosine"}, FIT_CURVE, 2, ["s.json", "not json"]),
]
# fmt: on


@pytest.mark.parametrize(
    ("files", "argv", "code", "words"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_bad_input(capsys, tmp_path, monkeypatch, files, argv, code, words) -> None:
    monkeypatch.chdir(tmp_path)
    run_case(capsys, tmp_path, files, argv, code, words, warning_on_stdout=True)


def test_the_corpus_is_wide() -> None:
    # As wide as fit's (issue 21): at least 60 cases over the five readers.
    assert len(CASES) >= 60
    assert len({case[0] for case in CASES}) == len(CASES)


HP_RESULT = sf.HparamsResult.from_json(json.dumps(HP))
STEPS_FRAME = steps_table()
SWEEP_FRAME = sweep()
# The same contract through the API: name, call, the DataError's words (regex).
API_CASES = [
    ("fit_hparams: empty sweep", lambda: sf.fit_hparams(SWEEP_FRAME.iloc[:0]), "no runs"),
    (
        "fit_hparams: loss as text",
        lambda: sf.fit_hparams(
            SWEEP_FRAME.assign(loss=SWEEP_FRAME["loss"].astype(object)).assign(
                loss=lambda t: t["loss"].where(t.index != 3, "diverged")
            )
        ),
        r"run 'row3', column 'loss': expected a finite number > 0 \(NaN or inf marks a "
        r"diverged run\), found 'diverged'",
    ),
    (
        "fit_hparams: loss 0",
        lambda: sf.fit_hparams(
            SWEEP_FRAME.assign(loss=SWEEP_FRAME["loss"].where(SWEEP_FRAME.index != 3, 0.0))
        ),
        r"run 'row3', column 'loss': expected a finite number > 0",
    ),
    (
        "fit_hparams: every cell's runs diverged but one lr",
        lambda: sf.fit_hparams(
            SWEEP_FRAME.assign(loss=SWEEP_FRAME["loss"].where(SWEEP_FRAME["lr"] == 1e-3))
        ),
        "the cells that vary lr have 0 distinct n_params",
    ),
    (
        "fit_hparams: seq_len='2048'",
        lambda: sf.fit_hparams(SWEEP_FRAME, seq_len="2048"),
        r"seq_len='2048' \(--seq-len\)",
    ),
    (
        "fit_hparams: bootstrap=2.5",
        lambda: sf.fit_hparams(SWEEP_FRAME, bootstrap=2.5),
        r"bootstrap=2.5 \(--bootstrap\)",
    ),
    (  # before: pandas' "No objects to concatenate"
        "fit_hparams: every run diverged (NaN)",
        lambda: sf.fit_hparams(SWEEP_FRAME.assign(loss=np.nan)),
        r"every run of the sweep diverged \(NaN or inf loss in all 108 runs\)",
    ),
    (
        "fit_hparams: every run diverged (None in an object column)",
        lambda: sf.fit_hparams(SWEEP_FRAME.astype(object).assign(loss=None)),
        "every run of the sweep diverged",
    ),
    (  # before: the bare "1 distinct n_params", not why
        "fit_hparams: all cells but one diverged",
        lambda: sf.fit_hparams(
            SWEEP_FRAME.assign(loss=SWEEP_FRAME["loss"].where(SWEEP_FRAME["n_params"] == 1e8))
        ),
        r"1 distinct n_params.*; every run of 6 cells diverged",
    ),
    (  # before: True read as loss 1.0 in every run, and a fit
        "fit_hparams: a True/False loss column",
        lambda: sf.fit_hparams(SWEEP_FRAME.assign(loss=True)),
        "sweep column 'loss' holds True/False; expected numbers",
    ),
    (
        "HparamsResult.predict: lengths 2 and 3",
        lambda: HP_RESULT.predict([1e9, 2e9], [1e10, 2e10, 3e10]),
        "different lengths",
    ),
    (
        "fit_critical_batch: a list",
        lambda: sf.fit_critical_batch([1, 2, 3]),
        "expected a DataFrame or the path of a CSV file, found list",
    ),
    (
        "fit_critical_batch: no rows",
        lambda: sf.fit_critical_batch(STEPS_FRAME.iloc[:0]),
        "has no rows",
    ),
    (
        "plan: fit= a path",
        lambda: sf.plan(n_params=1e9, tokens=1e10, fit="fit.json"),
        "fit= expected a FitResult",
    ),
    (
        "plan: hparams= a path",
        lambda: sf.plan(n_params=1e9, tokens=1e10, hparams="hp.json"),
        "hparams= expected a HparamsResult",
    ),
    (
        "plan: cbs= a number",
        lambda: sf.plan(n_params=1e9, tokens=1e10, cbs=3),
        "cbs= expected a CriticalBatchResult",
    ),
    (
        "compute_optimal: 1e308",
        lambda: sf.FitResult.from_params("chinchilla").compute_optimal([1e20, 1e308]),
        r"compute=1e\+308 FLOPs .* overflow",
    ),
]


@pytest.mark.parametrize(
    ("call", "words"), [pytest.param(*case[1:], id=case[0]) for case in API_CASES]
)
def test_bad_input_through_the_api(call, words) -> None:
    # Before: ValueError, TypeError or AttributeError from pandas/numpy, or no error at all.
    with pytest.raises(sf.DataError, match=words):
        call()


def test_a_step_beyond_int64_is_refused_without_a_cast_warning() -> None:
    # Before: numpy's "invalid value encountered in cast" (an error under filterwarnings).
    curve = sf.FitResult.from_json(MULTIPOWER)
    with pytest.raises(sf.DataError, match=r"step 1e\+30 lies outside"):
        curve.predict_curve(SPEC, [10**30])
