"""Bad and awkward inputs of ``scaling-fit isoflop``, each run through the real CLI.

A row of :data:`CASES`: a name, the files it writes, the command line, the exit code and words
of the line a user reads (:func:`bad_input_runner.run_case`).
"""

from __future__ import annotations

import numpy as np
import pytest
from bad_input_runner import run_case

BUDGETS = (1e18, 1e19, 1e20)


def profiles(budgets=BUDGETS, header: str = "compute,n_params,loss", group: str = "") -> str:
    """Exact parabolas in ln N around N* = 0.08 C^0.55, five points per budget."""
    lines = [header]
    for c in budgets:
        for offset in (-1.0, -0.5, 0.0, 0.5, 1.0):
            n = float(0.08 * c**0.55 * np.exp(offset))
            lines.append(f"{group}{c!r},{n!r},{2 + 30 * c**-0.1 + 0.05 * offset**2!r}")
    return "\n".join(lines) + "\n"


DATA = profiles()
LINES = DATA.splitlines()
GOOD = {"iso.csv": DATA}
# Offsets -0.5, 0, +0.5 of each budget: the vertex has one sampled N on each side.
THREE = [line for i, line in enumerate(LINES[1:]) if i % 5 in (1, 2, 3)]
# Budget 1e19 with every loss 3.0: a flat profile, not an optimum at the edge.
FLAT = (
    "\n".join(
        LINES[:1]
        + [x if not x.startswith("1e+19,") else x.rsplit(",", 1)[0] + ",3.0" for x in LINES[1:]]
    )
    + "\n"
)
RUN = ["isoflop", "iso.csv", "--bootstrap", "0"]
GROUPED = {  # group b: the same sizes, 1 % higher losses
    "iso.csv": profiles(header="g,compute,n_params,loss", group="a,")
    + "".join(
        f"b,{c},{n},{float(loss) * 1.01!r}\n"
        for c, n, loss in (line.split(",") for line in LINES[1:])
    )
}


# name, files, argv, exit code, words of the line (lowercase match)
# fmt: off
CASES = [
    ("good", GOOD, RUN, 0, None),
    ("good with a bootstrap", GOOD, ["isoflop", "iso.csv", "--bootstrap", "20"], 0, None),
    ("two groups", GROUPED, [*RUN, "--group-by", "g"], 0, None),
    # ---- --bootstrap and --seed
    ("bootstrap -1", GOOD, [*RUN, "--bootstrap", "-1"], 2, ["--bootstrap", "non-negative"]),
    ("bootstrap 1e9", GOOD, [*RUN, "--bootstrap", "1e9"], 2, ["--bootstrap", "'1e9'"]),
    ("bootstrap text", GOOD, [*RUN, "--bootstrap", "x"], 2, ["--bootstrap", "'x'"]),
    ("bootstrap 10 million", GOOD, [*RUN, "--bootstrap", "10000000"], 2,
     ["bootstrap=10000000 (--bootstrap)", "100,000"]),
    ("seed -1", GOOD, [*RUN, "--bootstrap", "10", "--seed", "-1"], 2,
     ["seed=-1 (--seed)", "whole number"]),
    ("seed 2**70", GOOD, [*RUN, "--bootstrap", "10", "--seed", str(2**70)], 2,
     ["(--seed)", "4,294,967,295"]),
    ("seed text", GOOD, [*RUN, "--seed", "x"], 2, ["--seed", "invalid int"]),
    # ---- --budget-rtol
    ("rtol -1", GOOD, [*RUN, "--budget-rtol", "-1"], 2, ["grouping=-1.0 (--budget-rtol)"]),
    ("rtol nan", GOOD, [*RUN, "--budget-rtol", "nan"], 2, ["--budget-rtol", "'nan'"]),
    ("rtol inf", GOOD, [*RUN, "--budget-rtol", "inf"], 2, ["--budget-rtol", "'inf'"]),
    ("rtol text", GOOD, [*RUN, "--budget-rtol", "x"], 2, ["--budget-rtol", "'x'"]),
    ("rtol 1e300", GOOD, [*RUN, "--budget-rtol", "1e300"], 2,
     ["grouping=1e+300 (--budget-rtol)", ">= 0 and < 1"]),
    ("rtol 1", GOOD, [*RUN, "--budget-rtol", "1"], 2, ["grouping=1.0 (--budget-rtol)"]),
    ("rtol 0", GOOD, [*RUN, "--budget-rtol", "0"], 0, None),
    # ---- --group-by
    ("group-by missing column", GOOD, [*RUN, "--group-by", "nope"], 2,
     ["--group-by", "['nope']"]),
    ("group-by the loss", GOOD, [*RUN, "--group-by", "loss"], 2,
     ["group loss=", "at least 2 usable budgets"]),
    ("group too small", {"iso.csv": GROUPED["iso.csv"] + "c,1e18,1e8,3.0\n"},
     [*RUN, "--group-by", "g"], 2, ["group g=c"]),
    # ---- output
    ("format xml", GOOD, [*RUN, "--format", "xml"], 2, ["--format", "'xml'"]),
    ("table nope", GOOD, [*RUN, "--format", "csv", "--table", "nope"], 2, ["--table", "'nope'"]),
    ("-o missing dir", GOOD, [*RUN, "-o", "nodir/i.json"], 2, ["output directory 'nodir'"]),
    ("-o the input", GOOD, [*RUN, "-o", "iso.csv", "--force"], 2, ["is the input file"]),
    ("-o exists", {**GOOD, "out.json": "{}"}, [*RUN, "-o", "out.json"], 2,
     ["exists; pass --force"]),
    # ---- the profiles
    # ---- --min-side and profiles probed as a new user would
    ("min-side 0", GOOD, [*RUN, "--min-side", "0"], 2,
     ["min_side=0 (--min-side)", "whole number in [1,"]),
    ("min-side text", GOOD, [*RUN, "--min-side", "x"], 2, ["--min-side", "'x'"]),
    ("three points per budget", {"iso.csv": "\n".join(LINES[:1] + THREE) + "\n"}, RUN, 2,
     ["near_edge", "min_side=1 (--min-side)"]),
    ("three points, min-side 1", {"iso.csv": "\n".join(LINES[:1] + THREE) + "\n"},
     [*RUN, "--min-side", "1"], 0, None),
    ("a flat budget", {"iso.csv": FLAT}, RUN, 0, ["same loss", "flat profile has no minimum"]),
    ("one budget", {"iso.csv": profiles(budgets=(1e19,))}, RUN, 2,
     ["at least 2 usable budgets"]),
    ("no compute or tokens", {"iso.csv": DATA.replace("compute", "flops_x")}, RUN, 2,
     ["isoflop needs columns", "compute"]),
    ("no loss", {"iso.csv": DATA.replace("loss", "val")}, RUN, 2, ["loss"]),
    ("text in a number", {"iso.csv": DATA.replace(LINES[2].split(",")[1], "3e8x", 1)}, RUN, 2,
     ["row 2", "'n_params'"]),
    ("NaN loss", {"iso.csv": DATA.replace(LINES[3].split(",")[2], "nan", 1)}, RUN, 2,
     ["row 3", "'loss'"]),
    ("NaN loss omitted", {"iso.csv": DATA.replace(LINES[3].split(",")[2], "nan", 1)},
     [*RUN, "--nan-policy", "omit"], 0, None),
    ("zero compute", {"iso.csv": DATA.replace("1e+18,", "0,", 1)}, RUN, 2,
     ["row 1", "'compute'"]),
    ("negative N", {"iso.csv": DATA.replace(LINES[1].split(",")[1], "-1", 1)}, RUN, 2,
     ["row 1", "'n_params'"]),
    ("empty file", {"iso.csv": ""}, RUN, 2, ["iso.csv", "empty"]),
    ("header only", {"iso.csv": LINES[0] + "\n"}, RUN, 2, ["no data rows"]),
    ("binary", {"iso.csv": bytes(range(256)) * 8}, RUN, 2, ["iso.csv"]),
    ("missing file", {}, RUN, 2, ["iso.csv"]),
    ("a directory", {}, ["isoflop", "."], 2, ["is a directory"]),
    ("a loss curve", {"log.csv": "step,loss\n100,3.0\n200,2.9\n"}, ["isoflop", "log.csv"], 2,
     ["isoflop needs columns"]),
    ("--col to a missing column", GOOD, [*RUN, "--col", "loss=nope"], 2, ["'nope'"]),
    ("--where keeps nothing", GOOD, [*RUN, "--where", "compute < 0"], 2, ["keeps none"]),
    ("--where bad query", GOOD, [*RUN, "--where", "compute <"], 2, ["where='compute <'"]),
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
    assert len(CASES) >= 40
