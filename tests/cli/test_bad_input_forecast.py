"""Bad and awkward inputs of ``scaling-fit forecast``, each run through the real CLI.

A row of :data:`CASES`: a name, the files it writes, the command line, the exit code and words
of the line a user reads (:func:`bad_input_runner.run_case`).  Every option outside its
domain is refused by the library with one line naming the API argument and the flag.
"""

from __future__ import annotations

import dataclasses
import gzip

import numpy as np
import pandas as pd
import pytest
from bad_input_runner import run_case

import scaling_fit as sf
from scaling_fit.results import curves

TRUTH = {"L0": 2.5, "A": 0.6, "alpha": 0.5, "C": 0.4}
COSINE = "cosine:peak=3e-4,total=12000,warmup=500,final=3e-5"


def _log() -> str:
    """The first half of a run of the annealing-area law under COSINE, 0.2 % noise."""
    steps = pd.DataFrame({"run": "job", "step": np.arange(600, 6001, 50)})
    clean = curves.predict_runs(sf.FitResult.from_params("lr_annealing", TRUTH), steps, COSINE)
    noise = np.exp(np.random.default_rng(0).normal(0.0, 2e-3, len(steps)))
    return steps.assign(loss=clean * noise)[["step", "loss"]].to_csv(index=False)


def _prior(peak: float = 3e-4, family: str = "cosine", law: str = "lr_annealing") -> str:
    """A prior fitted (as it records) on one run of ``family`` at ``peak``."""
    params = TRUTH if law == "lr_annealing" else None
    prior = sf.FitResult.from_params(law, params)
    recorded = {"schedule_family": {"trunk": family}, "peak_lr": {"trunk": peak}}
    return dataclasses.replace(prior, options={**prior.options, **recorded}).to_json()


LOG = _log()
LINES = LOG.splitlines()
PRIOR = _prior()
GOOD = {"log.csv": LOG}
TWO_RUNS = "run,step,loss\n" + "".join(f"{r},{x}\n" for r in "ab" for x in LINES[1:])
WITH_PRIOR = {"log.csv": LOG, "prior.json": PRIOR}
RUN = ["forecast", "log.csv", "--schedule", COSINE, "--bootstrap", "0"]
PRIORED = [*RUN, "--prior", "prior.json"]


def spec(text: str) -> list[str]:
    return ["forecast", "log.csv", "--schedule", text, "--bootstrap", "0"]


# name, files, argv, exit code, words of the line (lowercase match)
# fmt: off
CASES = [
    ("good", GOOD, RUN, 0, None),
    ("good with a prior", WITH_PRIOR, PRIORED, 0, None),
    # ---- --level (issue 21: a text level, 0, above 1)
    ("--level text", GOOD, [*RUN, "--level", "abc"], 2, ["--level", "'abc' is not a number"]),
    ("--level 0", GOOD, [*RUN, "--level", "0"], 2, ["level=0.0 (--level)", "strictly between"]),
    ("--level 1", GOOD, [*RUN, "--level", "1"], 2, ["level=1.0 (--level)", "strictly between"]),
    ("--level -0.5", GOOD, [*RUN, "--level", "-0.5"], 2, ["level=-0.5 (--level)"]),
    ("--level 95", GOOD, [*RUN, "--level", "95"], 2, ["level=95.0 (--level)", "0.95"]),
    ("--level nan", GOOD, [*RUN, "--level", "nan"], 2, ["--level", "'nan' is not a number"]),
    ("--level inf", GOOD, [*RUN, "--level", "inf"], 2, ["--level", "'inf' is not a number"]),
    # ---- resampling and output options
    ("--bootstrap -1", GOOD, [*RUN, "--bootstrap", "-1"], 2, ["--bootstrap", "non-negative"]),
    ("--bootstrap text", GOOD, [*RUN, "--bootstrap", "x"], 2, ["--bootstrap", "'x'"]),
    ("--bootstrap 1e9", GOOD, [*RUN, "--bootstrap", "1e9"], 2, ["--bootstrap", "'1e9'"]),
    ("--bootstrap too many", GOOD, [*RUN, "--bootstrap", "1000000"], 2,
     ["bootstrap=1000000 (--bootstrap)"]),
    ("--every 0", GOOD, [*RUN, "--every", "0"], 2, ["--every", "integer >= 1"]),
    ("--every -3", GOOD, [*RUN, "--every", "-3"], 2, ["--every", "'-3'"]),
    ("--every 1e30", GOOD, [*RUN, "--every", "1e30"], 2, ["--every", "'1e30'"]),
    ("--seed -1", GOOD, [*RUN, "--seed", "-1"], 2, ["seed=-1 (--seed)", "whole number"]),
    ("--seed 2**70", GOOD, [*RUN, "--seed", str(2**70)], 2, ["(--seed)", "4,294,967,295"]),
    ("--seed text", GOOD, [*RUN, "--seed", "x"], 2, ["--seed", "invalid int"]),
    ("--format xml", GOOD, [*RUN, "--format", "xml"], 2, ["--format", "'xml'"]),
    ("--table nope", GOOD, [*RUN, "--format", "csv", "--table", "nope"], 2, ["--table", "'nope'"]),
    ("-o missing dir", GOOD, [*RUN, "-o", "nodir/x.json"], 2, ["output directory 'nodir'"]),
    ("-o the input", GOOD, [*RUN, "-o", "log.csv", "--force"], 2, ["is the input file"]),
    # ---- the schedule, including warm-up fractions outside [0, 1]
    ("empty spec", GOOD, spec(""), 2, ["schedule spec ''", "family:key=value"]),
    ("family only", GOOD, spec("cosine"), 2, ["schedule spec 'cosine'"]),
    ("unknown family", GOOD, spec("foo:bar"), 2, ["'foo:bar'", "cosine, linear, wsd"]),
    ("peak 0", GOOD, spec("cosine:peak=0,total=12000"), 2, ["peak", "found 0.0"]),
    ("peak nan", GOOD, spec("cosine:peak=nan,total=12000"), 2, ["peak", "found nan"]),
    ("peak inf", GOOD, spec("cosine:peak=inf,total=12000"), 2, ["peak", "found inf"]),
    ("total too short", GOOD, spec("cosine:peak=3e-4,total=100"), 2,
     ["step 600 lies outside its schedule of 100 steps"]),
    ("total 1e30", GOOD, spec("cosine:peak=3e-4,total=1e30"), 2, ["total", "100000000"]),
    ("warm-up 1.5", GOOD, spec("cosine:peak=3e-4,total=12000,warmup=1.5"), 2,
     ["warmup", "whole number of steps", "found 1.5"]),
    ("warm-up -0.5", GOOD, spec("cosine:peak=3e-4,total=12000,warmup=-0.5"), 2,
     ["warmup", "found -0.5"]),
    ("warm-up past the log", GOOD, spec("cosine:peak=3e-4,total=12000,warmup=7000"), 2,
     ["within the schedule's warm-up"]),
    ("decay fraction 1.5", GOOD, spec("wsd:peak=3e-4,total=12000,decay=1.5"), 2,
     ["decay", "found 1.5"]),
    ("decay -0.2", GOOD, spec("wsd:peak=3e-4,total=12000,decay=-0.2"), 2, ["decay", "-0.2"]),
    ("final above peak", GOOD, spec("cosine:peak=3e-4,total=12000,warmup=500,final=1"), 2,
     ["final in [0, peak=0.0003]"]),
    # ---- the prior and --refit
    ("prior missing", GOOD, [*RUN, "--prior", "nope.json"], 2, ["nope.json", "cannot be read"]),
    ("prior not JSON", GOOD, [*RUN, "--prior", "log.csv"], 2, ["log.csv", "not valid json"]),
    ("prior a directory", GOOD, [*RUN, "--prior", "."], 2, ["is a directory"]),
    ("prior /dev/null", GOOD, [*RUN, "--prior", "/dev/null"], 2, ["/dev/null"]),
    ("prior of an L(N, D) law", {**GOOD, "chin.json": _prior(law="chinchilla")},
     [*RUN, "--prior", "chin.json"], 2, ["prior= (--prior)", "law 'chinchilla'"]),
    ("prior truncated", {**GOOD, "prior.json": PRIOR[:200]}, PRIORED, 2, ["prior.json"]),
    ("--refit without --prior", GOOD, [*RUN, "--refit", "L0"], 2,
     ["refit=('l0',) (--refit)", "no prior= (--prior)"]),
    ("--refit unknown", WITH_PRIOR, [*PRIORED, "--refit", "ZZ"], 2,
     ["unknown parameter(s) ['zz']"]),
    ("--refit empty", WITH_PRIOR, [*PRIORED, "--refit", ""], 2, ["unknown parameter(s) ['']"]),
    ("--refit every parameter", WITH_PRIOR,
     [*PRIORED, *(x for p in TRUTH for x in ("--refit", p))], 2,
     ["names every parameter", "the prior holds none"]),
    ("--law other than the prior's", WITH_PRIOR, [*PRIORED, "--law", "multipower"], 2,
     ["law='multipower' (--law)", "prior's law"]),
    ("--law unknown", GOOD, [*RUN, "--law", "nope"], 2, ["unknown law 'nope'"]),
    ("--law of final losses", GOOD, [*RUN, "--law", "chinchilla"], 2,
     ["law 'chinchilla'", "does not use it"]),
    ("prior from another peak", {**GOOD, "p.json": _prior(peak=1.8e-4)},
     [*RUN, "--prior", "p.json"], 0, ["warning:", "peak lr 0.0003 differs", "x1.67"]),
    ("prior from another family", {**GOOD, "p.json": _prior(family="wsd")},
     [*RUN, "--prior", "p.json"], 0, ["warning:", "family 'cosine' is not among"]),
    ("prior recording no schedules",
     {**GOOD, "p.json": sf.FitResult.from_params("lr_annealing", TRUTH).to_json()},
     [*RUN, "--prior", "p.json"], 0, ["warning:", "does not record the schedules"]),
    # ---- the log
    ("empty log", {"log.csv": ""}, RUN, 2, ["log.csv", "empty"]),
    ("header only", {"log.csv": "step,loss\n"}, RUN, 2, ["no data rows"]),
    ("no loss column", {"log.csv": LOG.replace("loss", "val")}, RUN, 2, ["loss"]),
    ("text loss", {"log.csv": LOG.replace(LINES[3].split(",")[1], "abc", 1)}, RUN, 2,
     ["row 3", "'loss'"]),
    ("NaN loss", {"log.csv": LOG.replace(LINES[3].split(",")[1], "nan", 1)}, RUN, 2,
     ["row 3", "'loss'"]),
    ("negative loss", {"log.csv": LOG.replace(LINES[3].split(",")[1], "-1", 1)}, RUN, 2,
     ["row 3", "'loss'"]),
    ("two runs", {"log.csv": TWO_RUNS}, RUN, 2, ["holds 2 runs", '--where "run ==']),
    ("binary", {"log.csv": bytes(range(256)) * 8}, RUN, 2, ["log.csv"]),
    ("gzipped log", {"log.csv.gz": gzip.compress(LOG.encode())},
     ["forecast", "log.csv.gz", "--schedule", COSINE, "--bootstrap", "0"], 0, None),
    ("--col to a missing column", GOOD, [*RUN, "--col", "loss=nope"], 2, ["'nope'"]),
    ("--where bad query", GOOD, [*RUN, "--where", "loss >"], 2, ["where='loss >'"]),
    ("--where code", GOOD, [*RUN, "--where", "__import__('os')"], 2, ["(--where)", "not allowed"]),
    ("--where keeps nothing", GOOD, [*RUN, "--where", "step < 0"], 2, ["keeps none"]),
]
# fmt: on


@pytest.mark.parametrize(
    ("files", "argv", "code", "words"), [pytest.param(*c[1:], id=c[0]) for c in CASES]
)
def test_bad_input(capsys, tmp_path, monkeypatch, files, argv, code, words) -> None:
    monkeypatch.chdir(tmp_path)
    run_case(capsys, tmp_path, files, argv, code, words)


def test_the_corpus_is_large() -> None:
    assert len(CASES) >= 60
