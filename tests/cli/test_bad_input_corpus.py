"""A corpus of bad and awkward inputs, each run through the real CLI (in-process).

Every case asserts the exit code (0 ok, 1 the fit failed, 2 bad input) and the one line a
user reads: ``scaling-fit: error: …`` for errors (and nothing else on stderr, no traceback),
or the ``warning: …`` line a suspicious but usable input earns.  Each case is a row of
:data:`CASES`: a name, the files it writes, the command line, the exit code and words of the
line.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from bad_input_runner import run_case

import scaling_fit as sf

DATA = Path(__file__).resolve().parents[2] / "data"
COSINE = DATA / "multipower_law" / "csv_25" / "cosine_24000.csv"


def final_losses(n_params=None, tokens=None, loss=None, header="n_params,tokens,loss") -> str:
    """A CSV of 20 Chinchilla-like final losses (5 sizes × 4 token counts, 1 % noise)."""
    rng = np.random.default_rng(0)
    n = np.repeat([1e8, 3e8, 1e9, 3e9, 1e10], 4) if n_params is None else np.asarray(n_params)
    d = np.tile([2e9, 6e9, 2e10, 6e10], 5) if tokens is None else np.asarray(tokens)
    if loss is None:
        loss = (1.7 + 400 / n**0.34 + 410 / d**0.28) * np.exp(rng.normal(0, 0.01, len(n)))
    rows = [
        f"{a:.6g},{b:.6g},{float(c)!r}"
        for a, b, c in zip(n, d, np.asarray(loss, float), strict=True)
    ]
    return "\n".join([header, *rows]) + "\n"


GOOD = final_losses()
LINES = GOOD.splitlines()


def fit_json(edit=None) -> str:
    raw = sf.FitResult.from_params("chinchilla").to_dict()
    if edit:
        edit(raw)
    return json.dumps(raw)


def _set(path: str, value):
    def edit(raw):
        *parents, last = path.split(".")
        for key in parents:
            raw = raw[key]
        raw[last] = value

    return edit


def _drop(path: str):
    def edit(raw):
        *parents, last = path.split(".")
        for key in parents:
            raw = raw[key]
        del raw[last]

    return edit


FIT = ["fit", "runs.csv", "--law", "chinchilla"]
PREDICT = ["predict", "fit.json", "--n-params", "7e10", "--tokens", "1.4e12"]
CBS = ["cbs", "s.csv"]
# name, files {name: text or bytes}, argv, exit code, words of the line (lowercase match)
# fmt: off
CASES = [
    # ---- the classics
    ("good", {"runs.csv": GOOD}, FIT, 0, None),
    ("bom", {"runs.csv": "\ufeff" + GOOD}, FIT, 0, None),
    ("truncated", {"runs.csv": GOOD[: GOOD.rindex(",")]}, FIT, 2, ["runs.csv", "empty/nan"]),
    ("wrong delimiter", {"runs.csv": GOOD.replace(",", ";")}, FIT, 2, ["no loss column"]),
    ("empty file", {"runs.csv": ""}, FIT, 2, ["runs.csv", "empty"]),
    ("header only", {"runs.csv": LINES[0] + "\n"}, FIT, 2, ["no data rows"]),
    ("binary file", {"runs.csv": bytes(range(256)) * 8}, FIT, 2, ["runs.csv"]),
    (
        "duplicate column",
        {"runs.csv": GOOD.replace("loss", "loss,loss").replace("\n", "\n", 1)},
        FIT,
        2,
        ["column 'loss' appears twice"],
    ),
    (
        "duplicate n_params column",
        {
            "runs.csv": "n_params,n_params,tokens,loss\n"
            + "\n".join(f"{r.split(',')[0]},{r}" for r in LINES[1:])
            + "\n"
        },
        FIT,
        2,
        ["column 'n_params' appears twice"],
    ),
    ("a directory", {}, ["fit", ".", "--law", "chinchilla"], 2, ["is a directory"]),
    ("/dev/null", {}, ["fit", "/dev/null", "--law", "chinchilla"], 2, ["not a regular file"]),
    ("missing file", {}, ["fit", "nope.csv", "--law", "chinchilla"], 2, ["file not found"]),
    (
        "mixed unit suffixes",
        {"runs.csv": GOOD.replace("1e+08,", "100M,").replace("1e+10,", "0.01T,")},
        FIT,
        0,
        None,
    ),
    (
        "text in a number cell",
        {"runs.csv": GOOD.replace("3e+08", "3e8x", 1)},
        FIT,
        2,
        ["row 5", "'n_params'", "expected a number"],
    ),
    (
        "NaN loss",
        {"runs.csv": GOOD.replace(LINES[3].split(",")[2], "nan")},
        FIT,
        2,
        ["column 'loss'", "empty/nan"],
    ),
    (
        "negative loss",
        {"runs.csv": GOOD.replace(LINES[3].split(",")[2], "-1")},
        FIT,
        2,
        ["row 3", "'loss'", "> 0"],
    ),
    (
        "zero loss",
        {"runs.csv": GOOD.replace(LINES[3].split(",")[2], "0")},
        FIT,
        2,
        ["row 3", "'loss'", "> 0"],
    ),
    (
        "infinite loss",
        {"runs.csv": GOOD.replace(LINES[3].split(",")[2], "1e309")},
        FIT,
        2,
        ["'loss'", "finite"],
    ),
    (
        "constant loss",
        {"runs.csv": final_losses(loss=np.full(20, 3.0))},
        FIT,
        2,
        ["same value 3.0 in all 20 rows"],
    ),
    (
        "single run",
        {"runs.csv": final_losses([1e9], [2e10], [3.0])},
        FIT,
        2,
        ["'n_params' has one value"],
    ),
    (
        "single N",
        {"runs.csv": final_losses(np.full(4, 1e9), [2e9, 6e9, 2e10, 6e10], [3.1, 3.0, 2.9, 2.8])},
        FIT,
        2,
        ["'n_params' has one value", "--fix"],
    ),
    ("exact duplicate rows", {"runs.csv": GOOD + LINES[1] + "\n"}, FIT, 2, ["repeats row 1"]),
    (
        "losses 1e-300",
        {"runs.csv": final_losses(loss=1e-300 * np.linspace(2, 3, 20))},
        FIT,
        1,
        ["did not converge"],
    ),
    (
        "N in billions without a suffix",
        {"runs.csv": final_losses(n_params=np.repeat([0.1, 0.3, 1, 3, 10], 4))},
        FIT,
        0,
        ["warning:", "n_params", "without a unit"],
    ),
    (
        "loss rising with N",
        {
            "runs.csv": final_losses(
                loss=np.repeat([2.0, 2.2, 2.4, 2.6, 2.8], 4) + np.tile([0.3, 0.2, 0.1, 0.0], 5)
            )
        },
        FIT,
        0,
        # The N term vanishes (A -> 0): whether its columns round to exactly 0 ("do not
        # affect the fitted points") or to ~1e-20 (a near-flat direction) depends on the
        # platform; both warnings say the parameters are not identified.
        ["warning:", "not identified"],
    ),
    # ---- loss curves
    (
        "duplicated step, other loss",
        {"run.csv": "step,lr,loss\n100,3e-4,4.0\n200,3e-4,3.5\n200,3e-4,3.6\n"},
        ["fit", "run.csv", "--law", "multipower"],
        2,
        ["logs step 200 again"],
    ),
    (
        "schedule total=1e13",
        {},
        [
            "fit",
            str(COSINE),
            "--law",
            "multipower",
            "--schedule",
            "cosine:peak=3e-4,total=1e13,warmup=2160,final=3e-5",
        ],
        2,
        ["total", "100000000"],
    ),
    (
        "logged steps of 10^12 (tokens in the step column)",
        {"run.csv": "step,lr,loss\n0,0,5.0\n1e12,3e-4,3.5\n2e12,3e-4,3.4\n"},
        ["fit", "run.csv", "--law", "lr_annealing"],
        2,
        ["step 2,000,000,000,000 is logged", "100,000,000 steps", "optimizer steps"],
    ),
    (
        "lr 0 at every logged step",
        {"run.csv": "step,lr,loss\n0,0,5.0\n100,0,4.0\n200,0,3.5\n300,0,3.4\n"},
        ["fit", "run.csv", "--law", "lr_annealing"],
        2,
        ["column 'lr' is 0 at every logged step", "--schedule"],
    ),
    # ---- flags out of their domains
    ("--n-jobs 0", {"runs.csv": GOOD}, [*FIT, "--n-jobs", "0"], 2, ["n_jobs=0 (--n-jobs)"]),
    ("--seed -1", {"runs.csv": GOOD}, [*FIT, "--seed", "-1"], 2, ["seed=-1 (--seed)"]),
    ("--delta 0", {"runs.csv": GOOD}, [*FIT, "--delta", "0"], 2, ["(--delta)", "0 < delta"]),
    ("--delta -1", {"runs.csv": GOOD}, [*FIT, "--delta", "-1"], 2, ["(--delta)", "0 < delta"]),
    ("--delta 1e-300", {"runs.csv": GOOD}, [*FIT, "--delta", "1e-300"], 2,
     ["delta=1e-300 (--delta)", "at least 1e-12"]),
    ("--delta 1e300", {"runs.csv": GOOD}, [*FIT, "--delta", "1e300"], 2, ["(--delta)"]),
    ("--bootstrap 1e12", {"runs.csv": GOOD}, [*FIT, "--bootstrap", "1e12"], 2, ["--bootstrap"]),
    (
        "--bootstrap 10**12",
        {"runs.csv": GOOD},
        [*FIT, "--bootstrap", str(10**12)],
        2,
        ["bootstrap=1000000000000 (--bootstrap)", "100,000"],
    ),
    ("--fix E=-5", {"runs.csv": GOOD}, [*FIT, "--fix", "E=-5"], 2, ["(--fix)", "bounds"]),
    ("--fix E=1e300", {"runs.csv": GOOD}, [*FIT, "--fix", "E=1e300"], 2, ["(--fix)"]),
    ("--fix E=nan", {"runs.csv": GOOD}, [*FIT, "--fix", "E=nan"], 2, ["--fix"]),
    (
        "-o in a missing directory",
        {"runs.csv": GOOD},
        [*FIT, "-o", "no/such/dir/fit.json"],
        2,
        ["output directory 'no/such/dir'"],
    ),
    (
        "-o the input with --force",
        {"runs.csv": GOOD},
        [*FIT, "-o", "runs.csv", "--force"],
        2,
        ["is the input file"],
    ),
    # ---- predict
    (
        "predict --n-params 0",
        {"fit.json": fit_json()},
        ["predict", "fit.json", "--n-params", "0", "--tokens", "1e12"],
        2,
        ["n_params= (--n-params) must be finite and > 0"],
    ),
    (
        "predict --n-params -1e9",
        {"fit.json": fit_json()},
        ["predict", "fit.json", "--n-params", "-1e9", "--tokens", "1e12"],
        2,
        ["(--n-params) must be finite and > 0", "-1000000000.0"],
    ),
    (
        "predict --tokens -2B",
        {"fit.json": fit_json()},
        ["predict", "fit.json", "--n-params", "1e9", "--tokens", "-2B"],
        2,
        ["(--tokens) must be finite and > 0"],
    ),
    (
        "predict --compute -1",
        {"fit.json": fit_json()},
        ["predict", "fit.json", "--compute", "-1"],
        2,
        ["(--compute) must be finite and > 0"],
    ),
    # ---- edited fit files
    (
        "fit: a parameter 'abc'",
        {"fit.json": fit_json(_set("params.E.value", "abc"))},
        PREDICT,
        2,
        ["fit.json", "field 'params.e.value'", "'abc'"],
    ),
    (
        "fit: params a list",
        {"fit.json": fit_json(_set("params", [1, 2]))},
        PREDICT,
        2,
        ["fit.json", "field 'params'"],
    ),
    (
        "fit: beta removed",
        {"fit.json": fit_json(_drop("params.beta"))},
        PREDICT,
        2,
        ["fit.json", "field 'params'", "law 'chinchilla'"],
    ),
    (
        "fit: law renamed",
        {"fit.json": fit_json(_set("law", "chinchila"))},
        PREDICT,
        2,
        ["fit.json", "field 'law'", "chinchila"],
    ),
    (
        "fit: residuals a string",
        {"fit.json": fit_json(_set("residuals", "oops"))},
        PREDICT,
        2,
        ["fit.json", "field 'residuals'"],
    ),
    (
        "fit: data a number",
        {"fit.json": fit_json(_set("data", 3))},
        PREDICT,
        2,
        ["fit.json", "field 'data'"],
    ),
    (
        "fit: converged a string",
        {"fit.json": fit_json(_set("converged", "yes"))},
        PREDICT,
        2,
        ["field 'converged'"],
    ),
    (
        "fit: NaN parameter",
        {"fit.json": fit_json(_set("params.E.value", None))},
        PREDICT,
        1,
        ["parameters {'e': nan}", "not finite"],
    ),
    ("fit: not JSON", {"fit.json": "hello"}, PREDICT, 2, ["fit.json", "not valid json"]),
    ("fit: binary", {"fit.json": bytes(range(256))}, PREDICT, 2, ["fit.json", "not text"]),
    ("fit: a JSON list", {"fit.json": "[1, 2]"}, PREDICT, 2, ["expected a json object"]),
    ("fit: missing", {}, PREDICT, 2, ["fit.json", "does not exist"]),
    # ---- the steps-to-target table of `cbs` (read by the analysis, not load_runs)
    ("cbs: empty file", {"s.csv": ""}, CBS, 2, ["s.csv", "empty"]),
    ("cbs: binary file", {"s.csv": bytes(range(256)) * 8}, CBS, 2, ["s.csv", "not a readable"]),
    ("cbs: no steps column", {"s.csv": "batch_size,loss\n1e5,3\n"}, CBS, 2, ["missing 'steps'"]),
    (
        "cbs: text batch size",
        {"s.csv": "batch_size,steps\n1e5,100\n2e5x,60\n4e5,40\n"},
        CBS,
        2,
        ["s.csv, row 2, column 'batch_size'", "positive number", "'2e5x'"],
    ),
    (
        "cbs: zero steps",
        {"s.csv": "batch_size,steps\n1e5,100\n2e5,0\n4e5,40\n"},
        CBS,
        2,
        ["row 2, column 'steps'", "found 0"],
    ),
]
# fmt: on


@pytest.mark.parametrize(
    ("files", "argv", "code", "words"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_bad_input(capsys, tmp_path, monkeypatch, files, argv, code, words) -> None:
    monkeypatch.chdir(tmp_path)
    run_case(capsys, tmp_path, files, argv, code, words, warning_on_stdout=True)


def test_the_corpus_is_large() -> None:
    assert len(CASES) >= 50
