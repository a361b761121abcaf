"""`report`'s corpus of bad and awkward inputs, each run through the real CLI (in-process).

As tests/cli/test_bad_input_corpus.py does for `fit`: every case asserts the exit code (0 ok,
1 the fit failed, 2 bad input) and words of the one line a user reads, with no traceback.
And a report that fails leaves nothing behind: no ``r.html`` (an existing one untouched) and
no figures folder.  Output paths are refused before any fit (cases marked ``early`` must not
fit at all).
"""

from __future__ import annotations

import numpy as np
import pytest

from scaling_fit.cli.main import main


def final_losses(sizes: tuple[float, ...] = (1e8, 3e8, 1e9, 3e9, 1e10)) -> str:
    """A CSV of Chinchilla-like final losses (4 token counts per size, 1 % noise)."""
    rng = np.random.default_rng(0)
    n = np.repeat(sizes, 4)
    d = np.tile([2e9, 6e9, 2e10, 6e10], len(sizes))
    loss = (1.7 + 400 / n**0.34 + 410 / d**0.28) * np.exp(rng.normal(0, 0.01, len(n)))
    rows = [f"{a:.6g},{b:.6g},{float(c)!r}" for a, b, c in zip(n, d, loss, strict=True)]
    return "\n".join(["n_params,tokens,loss", *rows]) + "\n"


GOOD = final_losses()
CURVE = "step,lr,loss\n" + "".join(f"{k * 100},3e-4,{4 - k / 100:.4f}\n" for k in range(1, 40))
REPORT = ["report", "runs.csv", "--law", "chinchilla", "--bootstrap", "0", "-o", "r.html"]
OLD = "<p>an older report</p>"


def with_(*extra: str, argv: list[str] = REPORT) -> list[str]:
    return [*argv, *extra]


# name, files {name: text}, argv, exit code, words of the line (lowercase match), early
# fmt: off
CASES = [
    ("good", {"runs.csv": GOOD}, REPORT, 0, None, False),
    ("good with a new nested figures folder", {"runs.csv": GOOD},
     with_("--figures", "figs/new"), 0, None, False),
    # ---- output paths: refused before any fit
    ("no -o", {"runs.csv": GOOD}, REPORT[:-2], 2, ["needs -o file.html"], True),
    ("-o in a missing folder", {"runs.csv": GOOD}, [*REPORT[:-1], "nowhere/r.html"], 2,
     ["output directory", "does not exist"], True),
    ("-o is a folder", {"runs.csv": GOOD, "d/keep": ""}, [*REPORT[:-1], "d"], 2,
     ["is a directory"], True),
    ("-o exists", {"runs.csv": GOOD, "r.html": OLD}, REPORT, 2, ["exists", "--force"], True),
    ("-o is the input", {"runs.csv": GOOD}, [*REPORT[:-1], "runs.csv", "--force"], 2,
     ["input file"], True),
    ("--figures is a file", {"runs.csv": GOOD, "figs": "x"}, with_("--figures", "figs"), 2,
     ["--figures", "not a directory"], True),
    ("--figures under a file", {"runs.csv": GOOD, "figs": "x"},
     with_("--figures", "figs/sub"), 2, ["--figures", "not a directory"], True),
    # ---- options outside their domain: refused before any fit
    ("unknown law", {"runs.csv": GOOD}, [*REPORT[:3], "nosuch", *REPORT[4:]], 2,
     ["unknown law 'nosuch'"], True),
    ("law given twice", {"runs.csv": GOOD}, with_("--law", "chinchilla"), 2,
     ["--law repeats a law"], True),
    ("negative seed", {"runs.csv": GOOD}, with_("--seed", "-1"), 2, ["seed", "--seed"], True),
    ("huge seed", {"runs.csv": GOOD}, with_("--seed", "1e30"), 2, ["seed"], True),
    ("negative bootstrap", {"runs.csv": GOOD}, with_("--bootstrap", "-3"), 2,
     ["--bootstrap"], True),
    ("zero target compute", {"runs.csv": GOOD}, with_("--target-compute", "0"), 2,
     ["target_compute", "--target-compute", "> 0"], True),
    ("nan target compute", {"runs.csv": GOOD}, with_("--target-compute", "nan"), 2,
     ["--target-compute"], True),
    ("infinite target compute", {"runs.csv": GOOD}, with_("--target-compute", "1e400"), 2,
     ["--target-compute"], True),
    ("text target compute", {"runs.csv": GOOD}, with_("--target-compute", "lots"), 2,
     ["--target-compute"], True),
    ("unknown holdout", {"runs.csv": GOOD}, with_("--holdout", "bogus"), 2,
     ["holdout='bogus'", "--holdout", "not supported"], True),
    ("holdout of nothing", {"runs.csv": GOOD}, with_("--holdout", "n>=1e20"), 2,
     ["holdout"], True),
    ("drop every point", {"runs.csv": GOOD}, with_("--drop-top-loss", "100"), 2,
     ["cannot drop the 100"], True),
    ("where keeps nothing", {"runs.csv": GOOD}, with_("--where", "n_params > 1e20"), 2,
     ["keeps none"], True),
    ("where is not a query", {"runs.csv": GOOD}, with_("--where", "n_params >>> 1"), 2,
     ["not a valid query"], True),
    ("column mapped to nothing", {"runs.csv": GOOD}, with_("--col", "loss=nope"), 2,
     ["no such column"], True),
    ("--schedules file missing", {"runs.csv": GOOD}, with_("--schedules", "s.json"), 2,
     ["--schedules file", "does not exist"], True),
    ("--schedules not json", {"runs.csv": GOOD, "s.json": "{oops"},
     with_("--schedules", "s.json"), 2, ["not json"], True),
    # ---- the runs themselves
    ("input missing", {}, REPORT, 2, ["runs.csv"], True),
    ("empty file", {"runs.csv": ""}, REPORT, 2, ["runs.csv"], True),
    ("header only", {"runs.csv": "n_params,tokens,loss\n"}, REPORT, 2,
     ["no data rows"], True),
    ("no loss column", {"runs.csv": GOOD.replace("loss", "val")}, REPORT, 2,
     ["loss"], True),
    ("text in a number column", {"runs.csv": GOOD.replace("1e+08", "big", 1)}, REPORT, 2,
     ["row 1", "n_params"], True),
    ("empty cell", {"runs.csv": GOOD.replace(",2e+09,", ",,", 1)}, REPORT, 2,
     ["nan_policy='omit'"], True),
    # ---- no law can be fitted: bad input (2) or a failed fit (1); nothing written
    ("too few runs for the law", {"runs.csv": final_losses((1e8,))[:80]}, REPORT, 2,
     ["no law could be fitted", "no report written"], False),
    ("curve law on final losses", {"runs.csv": GOOD},
     [*REPORT[:3], "multipower", *REPORT[4:]], 2, ["no law could be fitted"], False),
    ("warmup with a schedule", {"runs.csv": CURVE},
     [*REPORT[:3], "multipower", *REPORT[4:], "--warmup", "100", "--schedule",
      "constant:peak=3e-4,total=4000,warmup=100"], 2, ["--warmup", "no report written"], False),
    ("curve log flat from the start needs --warmup", {"runs.csv": CURVE},
     [*REPORT[:3], "multipower", *REPORT[4:]], 2, ["--warmup", "no report written"], False),
    ("failed run keeps no figures folder", {"runs.csv": final_losses((1e8,))[:80]},
     with_("--figures", "figs"), 2, ["no law could be fitted"], False),
]
# fmt: on
# A second whole report with figures (~3 s): the full suite (CI) runs it.
SLOW = {"good with a new nested figures folder"}


@pytest.mark.parametrize(
    ("files", "argv", "code", "words", "early"),
    [
        pytest.param(*case[1:], id=case[0], marks=[pytest.mark.slow] if case[0] in SLOW else [])
        for case in CASES
    ],
)
def test_bad_report_input(capsys, tmp_path, monkeypatch, files, argv, code, words, early) -> None:
    monkeypatch.chdir(tmp_path)
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content)
    if early:  # refused before any fit: a fit here is a failure of the case
        monkeypatch.setattr("scaling_fit.report.build.fit", _no_fit)
    found = main(argv)
    err = capsys.readouterr().err
    assert found == code, err
    assert "Traceback" not in err
    figures = argv[argv.index("--figures") + 1] if "--figures" in argv else None
    if code == 0:
        assert (tmp_path / "r.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
        if figures is not None:
            assert (tmp_path / figures / "data.png").is_file()
        return
    errors = [x for x in err.splitlines() if x.startswith("scaling-fit: error: ")]
    assert err.splitlines() == errors and len(errors) == 1, err
    for word in words:
        assert word.lower() in errors[0].lower(), (word, errors[0])
    # Nothing left behind: no new report, an old one untouched, no figures folder made.
    html = tmp_path / "r.html"
    assert html.read_text() == OLD if "r.html" in files else not html.exists()
    if figures is not None and figures not in files:
        assert not (tmp_path / figures).exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def _no_fit(*args: object, **kwargs: object) -> None:
    raise AssertionError("a bad output path or option must be refused before any fit")


def test_the_corpus_is_wide() -> None:
    assert len(CASES) >= 30
