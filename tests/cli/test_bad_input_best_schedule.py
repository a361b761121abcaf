"""Bad and awkward inputs of ``scaling-fit best-schedule``, each run through the real CLI.

A row of :data:`CASES`: a name, the files it writes, the command line, the exit code and words
of the line a user reads (:func:`bad_input_runner.run_case`).
"""

from __future__ import annotations

import dataclasses
import json

import pytest
from bad_input_runner import run_case

import scaling_fit as sf

MULTIPOWER = {  # data/multipower_law/SOURCE.md, 400M
    "L0": 2.37474466, "A": 0.65421216, "alpha": 0.42878731, "B": 523.42464371,
    "C": 2.02462735, "beta": 0.59350493, "gamma": 0.63472457,
}  # fmt: skip
TRAINED = "cosine:peak=3e-4,total=24000,warmup=2160,final=3e-5"


def _fit(edit=None, schedules: bool = False) -> str:
    """The published 400M multi-power fit as JSON, optionally trained on TRAINED, edited."""
    fit = sf.FitResult.from_params("multipower", MULTIPOWER)
    if schedules:
        recorded = {"schedules": {"cosine_24000": TRAINED}}
        fit = dataclasses.replace(fit, options={**fit.options, **recorded})
    raw = json.loads(fit.to_json())
    if edit:
        edit(raw)
    return json.dumps(raw)


def _params(name: str, value) -> callable:
    def edit(raw):
        raw["params"][name]["value"] = value

    return edit


FIT = {"mpl.json": _fit()}
TRAINED_FIT = {"mpl.json": _fit(schedules=True)}
RUN = ["best-schedule", "mpl.json", "--total-steps", "24000", "--every", "4000"]
SET = [*RUN, "--family", "cosine", "--peak", "3e-4", "--warmup", "2160"]


def baseline(spec: str) -> list[str]:
    return [*SET, "--baseline", spec]


# name, files, argv, exit code, words of the line (lowercase match)
# fmt: off
CASES = [
    ("good", FIT, SET, 0, None),
    ("peak and warm-up from the fit", TRAINED_FIT, [*RUN, "--family", "cosine"], 0, None),
    ("no peak recorded", FIT, RUN, 2, ["peak= (--peak) not given", "none recorded"]),
    # ---- --total-steps
    ("total 0", FIT, [*SET, "--total-steps", "0"], 2, ["total_steps=0.0 (--total-steps)"]),
    ("total -1", FIT, [*SET, "--total-steps", "-1"], 2, ["total_steps=-1.0 (--total-steps)"]),
    ("total text", FIT, [*SET, "--total-steps", "x"], 2, ["--total-steps", "'x' is not a number"]),
    ("total nan", FIT, [*SET, "--total-steps", "nan"], 2, ["--total-steps", "'nan'"]),
    ("total inf", FIT, [*SET, "--total-steps", "inf"], 2, ["--total-steps", "'inf'"]),
    ("total 1e30", FIT, [*SET, "--total-steps", "1e30"], 2, ["total_steps=1e+30 (--total-steps)"]),
    ("total 0.5", FIT, [*SET, "--total-steps", "0.5"], 2, ["total_steps=0.5", "whole steps"]),
    ("total fractional", FIT, [*SET, "--total-steps", "24000.5"], 2, ["whole steps"]),
    ("total within warm-up", FIT, [*SET, "--total-steps", "2000"], 2,
     ["warmup + 2 = 2162", "shorter warmup= (--warmup)"]),
    ("total with a suffix", FIT, [*SET, "--total-steps", "24k"], 0, None),
    # ---- --family
    ("family unknown", FIT, [*SET, "--family", "nope"], 2, ["family='nope' (--family)", "wsd"]),
    ("family empty", FIT, [*SET, "--family", ""], 2, ["family='' (--family)"]),
    ("family constant", FIT, [*SET, "--family", "constant"], 2, ["family='constant'"]),
    ("family step", FIT, [*SET, "--family", "step"], 2, ["family='step'"]),
    # ---- --peak
    ("peak 0", FIT, [*SET, "--peak", "0"], 2, ["peak=0.0 (--peak)", "lr > 0"]),
    ("peak -1", FIT, [*SET, "--peak", "-1"], 2, ["peak=-1.0 (--peak)"]),
    ("peak -1e-3", FIT, [*SET, "--peak", "-1e-3"], 2, ["peak=-0.001 (--peak)"]),
    ("peak nan", FIT, [*SET, "--peak", "nan"], 2, ["--peak", "'nan' is not a number"]),
    ("peak inf", FIT, [*SET, "--peak", "inf"], 2, ["--peak", "'inf' is not a number"]),
    ("peak text", FIT, [*SET, "--peak", "x"], 2, ["--peak", "'x'"]),
    ("peak far above the fit's", TRAINED_FIT, [*SET, "--peak", "1e-2"], 0,
     ["warning:", "peak=0.01 (--peak) lies beyond 2x", "0.0003"]),
    ("peak far below the fit's", TRAINED_FIT, [*SET, "--peak", "1e-5"], 0,
     ["warning:", "peak=1e-05 (--peak)", "extrapolation"]),
    # ---- --warmup
    ("warm-up -1", FIT, [*SET, "--warmup", "-1"], 2, ["--warmup", "non-negative integer"]),
    ("warm-up text", FIT, [*SET, "--warmup", "x"], 2, ["--warmup", "'x'"]),
    ("warm-up fraction", FIT, [*SET, "--warmup", "0.5"], 2, ["--warmup", "'0.5'"]),
    ("warm-up = total", FIT, [*SET, "--warmup", "24000"], 2, ["warmup + 2 = 24002"]),
    ("warm-up above total", FIT, [*SET, "--warmup", "30000"], 2, ["warmup + 2 = 30002"]),
    # ---- --baseline (warm-up and decay fractions outside [0, 1] included)
    ("baseline unknown", FIT, baseline("nope"), 2, ["schedule spec 'nope'"]),
    ("baseline empty", FIT, baseline(""), 2, ["schedule spec ''"]),
    ("baseline other length", FIT, baseline("cosine:peak=3e-4,total=100"), 2,
     ["baseline= (--baseline) has 100 steps", "24000"]),
    ("baseline warm-up 1.5", FIT, baseline("cosine:peak=3e-4,total=24000,warmup=1.5"), 2,
     ["warmup", "found 1.5"]),
    ("baseline warm-up -1", FIT, baseline("cosine:peak=3e-4,total=24000,warmup=-1"), 2,
     ["warmup", "found -1"]),
    ("baseline decay 1.5", FIT, baseline("wsd:peak=3e-4,total=24000,decay=1.5"), 2,
     ["decay", "found 1.5"]),
    ("baseline decay -0.2", FIT, baseline("wsd:peak=3e-4,total=24000,decay=-0.2"), 2,
     ["decay", "-0.2"]),
    ("baseline peak 0", FIT, baseline("cosine:peak=0,total=24000"), 2, ["peak", "found 0.0"]),
    ("baseline final above peak", FIT, baseline("cosine:peak=3e-4,total=24000,final=1"), 2,
     ["final in [0, peak=0.0003]"]),
    ("baseline a family", FIT, baseline("linear"), 0, None),
    # ---- --every and output
    ("every 0", FIT, [*SET, "--every", "0"], 2, ["--every", "integer >= 1"]),
    ("every -1", FIT, [*SET, "--every", "-1"], 2, ["--every", "'-1'"]),
    ("every 1e30", FIT, [*SET, "--every", "1e30"], 2, ["--every", "'1e30'"]),
    ("format xml", FIT, [*SET, "--format", "xml"], 2, ["--format", "'xml'"]),
    ("table nope", FIT, [*SET, "--format", "csv", "--table", "nope"], 2, ["--table", "'nope'"]),
    ("-o missing dir", FIT, [*SET, "-o", "nodir/c.json"], 2, ["output directory 'nodir'"]),
    ("-o the fit", FIT, [*SET, "-o", "mpl.json", "--force"], 2, ["is the input file"]),
    # ---- the fit file
    ("fit missing", {}, SET, 2, ["fit file 'mpl.json' does not exist"]),
    ("fit not JSON", {"mpl.json": "step,loss\n1,2\n"}, SET, 2, ["mpl.json", "not valid json"]),
    ("fit empty", {"mpl.json": ""}, SET, 2, ["mpl.json"]),
    ("fit truncated", {"mpl.json": _fit()[:300]}, SET, 2, ["mpl.json"]),
    ("fit a list", {"mpl.json": "[1, 2]"}, SET, 2, ["mpl.json"]),
    ("fit of an L(N, D) law", {"mpl.json": sf.FitResult.from_params("chinchilla").to_json()},
     SET, 2, ["law 'chinchilla' is not a loss-curve law"]),
    ("fit unknown law", {"mpl.json": _fit(lambda raw: raw.update(law="nope"))}, SET, 2,
     ["mpl.json"]),
    ("fit text parameter", {"mpl.json": _fit(_params("A", "abc"))}, SET, 2, ["mpl.json"]),
    ("fit other format", {"mpl.json": _fit(lambda raw: raw.update(format="x/1"))}, SET, 2,
     ["mpl.json"]),
    ("fit a directory", {}, ["best-schedule", ".", "--total-steps", "24000"], 2, ["'.'"]),
]
# fmt: on


@pytest.mark.parametrize(
    ("files", "argv", "code", "words"), [pytest.param(*c[1:], id=c[0]) for c in CASES]
)
def test_bad_input(capsys, tmp_path, monkeypatch, files, argv, code, words) -> None:
    monkeypatch.chdir(tmp_path)
    run_case(capsys, tmp_path, files, argv, code, words)


def test_the_corpus_is_large() -> None:
    assert len(CASES) >= 50
