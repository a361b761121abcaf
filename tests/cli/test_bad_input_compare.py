"""Bad and awkward inputs of ``scaling-fit compare``, each run through the real CLI.

A row of :data:`CASES`: a name, the files it writes, the command line, the exit code and words
of the line a user reads (:func:`bad_input_runner.run_case`).  Options every law reads alike
(``--delta``, the target, ``--n-jobs``) are bad input for all of them: exit 2 with one line,
not one failed fit per law (exit 1).
"""

from __future__ import annotations

import numpy as np
import pytest
from bad_input_runner import run_case


def final_losses(header: str = "n_params,tokens,loss") -> str:
    """A CSV of 20 Chinchilla-like final losses (5 sizes × 4 token counts, 1 % noise)."""
    rng = np.random.default_rng(0)
    n = np.repeat([1e8, 3e8, 1e9, 3e9, 1e10], 4)
    d = np.tile([2e9, 6e9, 2e10, 6e10], 5)
    loss = (1.7 + 400 / n**0.34 + 410 / d**0.28) * np.exp(rng.normal(0, 0.01, len(n)))
    rows = [f"{a:.6g},{b:.6g},{c!r}" for a, b, c in zip(n, d, loss.tolist(), strict=True)]
    return "\n".join([header, *rows]) + "\n"


RUNS = final_losses()
LINES = RUNS.splitlines()
GOOD = {"runs.csv": RUNS}
RUN = ["compare", "runs.csv", "--law", "chinchilla"]
# 4 sizes x 2 token multipliers (20 and 80 tokens per parameter): 8 runs, 8 distinct D.
SMALL = {
    "runs.csv": "n_params,tokens,loss\n"
    + "".join(
        f"{n:g},{m * n:g},{1.7 + 400 / n**0.34 + 410 / (m * n) ** 0.28!r}\n"
        for n in (1e8, 3e8, 1e9, 3e9)
        for m in (20, 80)
    )
}


def target(n: str, d: str) -> list[str]:
    return [*RUN, "--target-n", n, "--target-tokens", d]


# name, files, argv, exit code, words of the line (lowercase match)
# fmt: off
CASES = [
    ("good", GOOD, RUN, 0, None),
    # ---- --delta (issue 21: a tiny --delta gave "array must not contain infs or NaNs")
    ("delta 1e-300", GOOD, [*RUN, "--delta", "1e-300"], 2,
     ["delta=1e-300 (--delta)", "at least 1e-12"]),
    ("delta just below 1e-12", GOOD, [*RUN, "--delta", "9e-13"], 2, ["delta=9e-13 (--delta)"]),
    ("delta 0", GOOD, [*RUN, "--delta", "0"], 2, ["delta=0.0 (--delta)", "0 < delta"]),
    ("delta -1", GOOD, [*RUN, "--delta", "-1"], 2, ["delta=-1.0 (--delta)"]),
    ("delta 1e300", GOOD, [*RUN, "--delta", "1e300"], 2, ["delta=1e+300 (--delta)", "1000"]),
    ("delta nan", GOOD, [*RUN, "--delta", "nan"], 2, ["--delta", "'nan' is not a number"]),
    ("delta inf", GOOD, [*RUN, "--delta", "inf"], 2, ["--delta", "'inf' is not a number"]),
    ("delta text", GOOD, [*RUN, "--delta", "x"], 2, ["--delta", "'x'"]),
    ("delta per law", GOOD, [*RUN, "--law", "kaplan", "--delta", "1e-20"], 2,
     ["delta=1e-20 (--delta)"]),
    # ---- other fit options
    ("loss unknown", GOOD, [*RUN, "--loss", "nope"], 2, ["--loss", "'nope'"]),
    ("fix nan", GOOD, [*RUN, "--fix", "E=nan"], 2, ["--fix", "'nan' is not a number"]),
    ("fix inf", GOOD, [*RUN, "--fix", "E=inf"], 2, ["--fix", "'inf'"]),
    ("fix text", GOOD, [*RUN, "--fix", "E=abc"], 2, ["--fix", "'abc' is not a number"]),
    ("fix without value", GOOD, [*RUN, "--fix", "E"], 2, ["--fix", "name=value"]),
    ("fix unknown parameter", GOOD, [*RUN, "--fix", "Z=1"], 1,
     ["the fit of 1 law(s) failed", "fixed= (--fix)", "['z']"]),
    ("tie unknown parameter", GOOD, [*RUN, "--tie", "beta=nope"], 1,
     ["tie={'beta': 'nope'} (--tie)"]),
    ("law unknown", GOOD, ["compare", "runs.csv", "--law", "nope"], 2, ["unknown law 'nope'"]),
    ("law twice", GOOD, [*RUN, "--law", "chinchilla"], 2, ["laws= (--law)", "distinct"]),
    ("no law", GOOD, ["compare", "runs.csv"], 2, ["--law"]),
    # ---- --holdout
    ("holdout 0", GOOD, [*RUN, "--holdout", "0"], 2, ["holdout='0' (--holdout)", "(0, 1)"]),
    ("holdout 1", GOOD, [*RUN, "--holdout", "1"], 2, ["holdout='1' (--holdout)"]),
    ("holdout 1.5", GOOD, [*RUN, "--holdout", "1.5"], 2, ["holdout='1.5'"]),
    ("holdout -0.2", GOOD, [*RUN, "--holdout", "-0.2"], 2, ["holdout='-0.2'"]),
    ("holdout nan", GOOD, [*RUN, "--holdout", "nan"], 2, ["holdout='nan'"]),
    ("holdout inf", GOOD, [*RUN, "--holdout", "inf"], 2, ["holdout='inf'"]),
    ("holdout empty", GOOD, [*RUN, "--holdout", ""], 2, ["holdout=''"]),
    ("holdout unknown", GOOD, [*RUN, "--holdout", "biggest"], 2, ["holdout='biggest'"]),
    ("holdout threshold text", GOOD, [*RUN, "--holdout", "n>=x"], 2, ["'x' is not a number"]),
    ("holdout everything", GOOD, [*RUN, "--holdout", "n>=1"], 2, ["holds out 20 of 20 runs"]),
    ("holdout nothing", GOOD, [*RUN, "--holdout", "n>=1e300"], 2, ["holds out 0 of 20 runs"]),
    ("holdout-run unknown", GOOD, [*RUN, "--holdout-run", "nope"], 2,
     ["--holdout-run", "['nope']"]),
    ("holdout and holdout-run", GOOD, [*RUN, "--holdout", "0.2", "--holdout-run", "x"], 2,
     ["not allowed"]),
    ("holdout a fraction", GOOD, [*RUN, "--holdout", "0.2"], 0, None),
    # ---- the target of choose_law
    ("target N 0", GOOD, target("0", "1e12"), 2,
     ["(--target-n/--target-tokens/--target-compute)", "n = 0"]),
    ("target N -1", GOOD, target("-1", "1e12"), 2, ["must be positive and finite"]),
    ("target N nan", GOOD, target("nan", "1e12"), 2, ["--target-n", "'nan' is not a number"]),
    ("target N inf", GOOD, target("inf", "1e12"), 2, ["--target-n", "'inf'"]),
    ("target overflowing 6ND", GOOD, target("1e300", "1e300"), 2, ["c = inf"]),
    ("target N only", GOOD, [*RUN, "--target-n", "7e9"], 2, ["needs two of"]),
    ("target disagreeing", GOOD, [*target("7e9", "1e12"), "--target-compute", "1e10"], 2,
     ["disagrees with 6·n·d"]),
    # 4 sizes x 2 token counts: no 3-size fit set holds Chinchilla's 5 parameters + 2 runs.
    ("target on a 4x2 ladder", SMALL, target("1e11", "2e12"), 2,
     ["no law can be fitted and backtested", "a fit needs 7 runs (free parameters + 2), the "
      "largest rolling-origin fit set holds 6", "fixed= (--fix)"]),
    ("target on a 4x2 ladder, kaplan too", SMALL, [*target("1e11", "2e12"), "--law", "kaplan"],
     0, None),
    # M = 0.05, 4x below every run's: not advice to prefer an over-training law.
    ("target less trained than the runs", GOOD, target("1e11", "5e9"), 0,
     ["tokens per parameter (0.05) lie 4x outside", "less trained"]),
    ("fit-unidentified without a target", GOOD, [*RUN, "--fit-unidentified"], 2,
     ["--fit-unidentified needs a target"]),
    ("holdout-run with a target", GOOD, [*target("1e11", "2e12"), "--holdout-run", "x"], 2,
     ["--holdout/--holdout-run", "shaped like the target: drop one of them"]),
    ("ranking without a target", GOOD, [*RUN, "--table", "ranking"], 2,
     ["--table ranking needs a target"]),
    # ---- --n-jobs
    ("n-jobs 0", GOOD, [*RUN, "--n-jobs", "0"], 2, ["n_jobs=0 (--n-jobs)"]),
    ("n-jobs 2.5", GOOD, [*RUN, "--n-jobs", "2.5"], 2, ["--n-jobs", "invalid int"]),
    ("n-jobs text", GOOD, [*RUN, "--n-jobs", "x"], 2, ["--n-jobs", "invalid int"]),
    # ---- output
    ("format xml", GOOD, [*RUN, "--format", "xml"], 2, ["--format", "'xml'"]),
    ("table nope", GOOD, [*RUN, "--format", "csv", "--table", "nope"], 2, ["--table", "'nope'"]),
    ("-o missing dir", GOOD, [*RUN, "-o", "nodir/b.json"], 2, ["output directory 'nodir'"]),
    ("-o the input", GOOD, [*RUN, "-o", "runs.csv", "--force"], 2, ["is the input file"]),
    # ---- the runs
    ("empty file", {"runs.csv": ""}, RUN, 2, ["runs.csv", "empty"]),
    ("header only", {"runs.csv": LINES[0] + "\n"}, RUN, 2, ["no data rows"]),
    ("no loss column", {"runs.csv": RUNS.replace("loss", "val")}, RUN, 2, ["no loss column"]),
    ("text in a number", {"runs.csv": RUNS.replace("3e+08", "3e8x", 1)}, RUN, 2,
     ["row 5", "'n_params'"]),
    ("negative tokens", {"runs.csv": RUNS.replace(",2e+09,", ",-2e+09,", 1)}, RUN, 2,
     ["'tokens'"]),
    ("one run", {"runs.csv": "\n".join(LINES[:2]) + "\n"}, RUN, 2, None),
    ("binary", {"runs.csv": bytes(range(256)) * 8}, RUN, 2, ["runs.csv"]),
    ("missing file", {}, RUN, 2, ["runs.csv"]),
    ("--col to a missing column", GOOD, [*RUN, "--col", "loss=nope"], 2, ["'nope'"]),
    ("--where keeps nothing", GOOD, [*RUN, "--where", "loss < 0"], 2, ["keeps none"]),
    ("--nan-policy nope", GOOD, [*RUN, "--nan-policy", "nope"], 2, ["--nan-policy"]),
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
