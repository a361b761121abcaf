"""Bad and awkward log stores (issue 20), each through the API and the real CLI.

Every case writes a TensorBoard log directory or an MLflow store with the library's own
writer (``tests/log_stores.py``), then checks ``sf.load_runs`` (the error, or the warning of
a usable input) and ``scaling-fit fit`` (exit 2 and one line, no traceback; or exit 0 and
the warning line).  A case is a name, a builder ``(folder) -> (source, extra CLI flags)``,
the extra it needs, the exit code and words of the line.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest
from bad_input_runner import run_case
from log_stores import copy_store, empty_store, ladder, log_runs, write_tensorboard

import scaling_fit as sf
from scaling_fit.cli.main import main

LOSS = {"train/loss": [(100, 3.0), (200, 2.5), (300, 2.2)]}


def tb_ladder(folder: Path) -> Path:
    """The ladder as a TensorBoard log directory, one file per run (PyTorch's scalars)."""
    for name, (scalars, values) in ladder().items():
        write_tensorboard(folder / "runs" / name, scalars, values, simple=True)
    return folder / "runs"


def tb_damaged(position: int, truncate: bool):
    def build(folder: Path):
        root = tb_ladder(folder)
        path = next(iter(sorted(root.rglob("*tfevents*"))))
        data = bytearray(path.read_bytes())
        if truncate:
            del data[position:]
        else:
            data[position] ^= 0xFF
        path.write_bytes(bytes(data))
        return root, []

    return build


def tb_restarted(folder: Path):
    root = tb_ladder(folder)
    scalars, _ = ladder()["100M-004k"]
    resumed = {tag: points[5:] for tag, points in scalars.items()}  # steps after a restart
    write_tensorboard(root / "100M-004k", resumed, simple=True)
    return root, []


def tb_runs(**runs):
    def build(folder: Path):
        for name, scalars in runs.items():
            write_tensorboard(folder / "runs" / name, scalars, simple=True)
        return folder / "runs", []

    return build


def tb_col(flag: str):
    def build(folder: Path):
        return tb_runs(r=LOSS)(folder)[0], ["--col", flag]

    return build


def no_events(folder: Path):
    (folder / "runs").mkdir()
    (folder / "runs" / "notes.txt").write_text("no events here\n")
    return folder / "runs", []


def mlflow_runs(runs, form="uri", flags=()):
    def build(folder: Path):
        db = copy_store(_empty(folder), folder / "mlflow.db")
        log_runs(f"sqlite:///{db}", runs)
        return (f"sqlite:///{db}" if form == "uri" else db), list(flags)

    return build


def mlflow_restarted(folder: Path):
    runs = ladder()
    scalars, values = runs["100M-004k"]
    runs["100M-004k"] = ({t: p + p[5:] for t, p in scalars.items()}, values)  # logged again
    return mlflow_runs(runs)(folder)


def not_mlflow(folder: Path):
    with sqlite3.connect(folder / "other.db") as db:
        db.execute("CREATE TABLE t (x)")
    return folder / "other.db", []


def empty_mlflow(folder: Path):
    return copy_store(_empty(folder), folder / "mlflow.db"), []


def _empty(folder: Path) -> Path:
    """A migrated empty store, made once per session (MLflow takes seconds to create one)."""
    if "db" not in _EMPTY:
        _EMPTY["db"] = empty_store(folder.parent / "empty-mlflow.db")
    return _EMPTY["db"]


_EMPTY: dict[str, Path] = {}
NAN, INF = float("nan"), float("inf")
DIVERGED = {"loss": [(1, 3.0), (2, NAN), (3, 2.0)]}
# name, builder, extra, exit code, words of the line (lowercase match)
# fmt: off
CASES = [
    ("no event files", no_events, None, 2,
     ["is a directory with no tensorboard event files", "mlflow"]),
    ("truncated event file", tb_damaged(-7, truncate=True), "tensorboard", 0,
     ["intact records, dropped 1 record", "cut short"]),
    ("corrupt record", tb_damaged(-10, truncate=False), "tensorboard", 0,
     ["intact records, dropped 1 record"]),
    ("corrupt length", tb_damaged(8, truncate=False), "tensorboard", 2,
     ["no scalar reads as the loss", "its tags: none", "dropped the rest", "checksum"]),
    ("restart duplicates", tb_restarted, "tensorboard", 0,
     ["logged more than once", "later write"]),
    ("missing tag", tb_col("loss=eval/loss"), "tensorboard", 2,
     ["columns={'loss': 'eval/loss'}", "no such tag", "'train/loss'"]),
    ("no loss tag", tb_runs(r={"accuracy": [(1, 0.5)], "lr-AdamW": [(1, 1e-3)]}),
     "tensorboard", 2, ["no scalar reads as the loss", "'accuracy', 'lr-adamw'", "--col loss="]),
    ("nan loss", tb_runs(r=DIVERGED), "tensorboard", 2,
     ["step 2, column 'loss'", "empty/nan", "--nan-policy omit"]),
    ("inf loss", tb_runs(r={"loss": [(1, 3.0), (2, INF), (3, 2.0)]}), "tensorboard", 2,
     ["step 2, column 'loss'", "empty/nan"]),
    ("different tags", tb_runs(a={"eval/loss": [(1, 3.0)]}, b={"train/loss": [(1, 3.0)]}),
     "tensorboard", 2, ["run 'b'", "reads loss from tag(s) ['train/loss']", "--col loss="]),
    ("mlflow missing key", mlflow_runs({"r": ({"val/ppl": [(1, 30.0)]}, {})}), "mlflow", 2,
     ["no scalar reads as the loss", "its tags: ['val/ppl']"]),
    ("mlflow mapped key missing",
     mlflow_runs({"r": (LOSS, {"n_params": "1e8"})}, "db", ["--col", "loss=val/loss"]),
     "mlflow", 2,
     ["no such tag; its tags: ['train/loss']; its run-level values: ['n_params']"]),
    ("mlflow nan and inf", mlflow_runs({"r": ({"loss": [(1, 3.0), (2, INF), (3, NAN)]}, {})}),
     "mlflow", 2, ["step 2, column 'loss'", "empty/nan"]),
    ("mlflow restart duplicates", mlflow_restarted, "mlflow", 0,
     ["5 steps were logged more than once", "later write"]),
    ("mlflow different keys",
     mlflow_runs({"a": ({"val_loss": [(1, 3.0)]}, {}), "b": ({"loss": [(1, 3.0)]}, {})}),
     "mlflow", 2, ["reads loss from tag(s)", "--col loss="]),
    ("mlflow no runs", empty_mlflow, "mlflow", 2, ["holds no runs"]),
    ("not an mlflow store", not_mlflow, None, 2, ["other.db", "without mlflow's tables"]),
]
# fmt: on


def _case(case: tuple) -> object:
    """An MLflow case is slow: mlflow's import (~3 s) and a store each; the full suite runs it."""
    marks = [pytest.mark.slow] if case[2] == "mlflow" else []
    return pytest.param(*case, id=case[0], marks=marks)


@pytest.mark.parametrize(("name", "build", "extra", "code", "words"), [_case(c) for c in CASES])
def test_bad_log_store(capsys, tmp_path, name, build, extra, code, words) -> None:
    if extra:
        pytest.importorskip(extra)
    source, flags = build(tmp_path)
    capsys.readouterr()  # MLflow's INFO lines when it created the store: the writer's
    _check_api(source, flags, code, words)
    argv = ["fit", source, "--law", "chinchilla", *flags]
    if code != 0:
        run_case(capsys, tmp_path, {}, argv, code, words)
        return
    assert main([str(a) for a in argv]) == 0
    out, err = capsys.readouterr()  # the warning: with fit's summary on stdout, or on stderr
    assert "Traceback" not in err
    lines = (out + err).lower().splitlines()
    assert any(all(w in line for w in words) for line in lines), (words, out, err)


def _check_api(source, flags: list[str], code: int, words: list[str]) -> None:
    columns = dict([flags[1].split("=", 1)]) if flags else None
    if code == 0:
        with pytest.warns(sf.ScalingFitWarning) as record:
            sf.load_runs(source, columns=columns)
        messages = [str(w.message).lower() for w in record]
        assert any(all(w in m for w in words) for m in messages), messages
        return
    with pytest.raises(sf.ScalingFitError) as caught:
        sf.load_runs(source, columns=columns)
    for word in words:
        assert word.lower() in str(caught.value).lower(), (word, str(caught.value))


@pytest.mark.parametrize("extra", ["tensorboard", "mlflow"])
def test_missing_extra_is_one_line(capsys, tmp_path, monkeypatch, extra) -> None:
    if extra == "tensorboard":
        (tmp_path / "runs").mkdir()
        (tmp_path / "runs" / "events.out.tfevents.1.host").write_bytes(b"")
        source = tmp_path / "runs"
    else:
        source = tmp_path / "mlflow.db"
        with sqlite3.connect(source) as db:  # MLflow's tables, as far as the loader looks
            for table in ("experiments", "runs", "metrics", "params"):
                db.execute(f"CREATE TABLE {table} (x)")
    modules = ("tensorboard", "google_crc32c", "mlflow")
    for module in [m for m in sys.modules if m.split(".")[0] in modules] + list(modules):
        monkeypatch.setitem(sys.modules, module, None)  # None: the import is refused
    words = [f'pip install "scaling_fit[{extra}]"']
    _check_api(source, [], 2, words)
    run_case(capsys, tmp_path, {}, ["fit", source, "--law", "chinchilla"], 2, words)


def test_output_over_an_mlflow_store_is_refused(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("mlflow.db").write_bytes(b"SQLite format 3\x00")  # -o is checked before any read
    argv = ["fit", "sqlite:///mlflow.db", "--law", "chinchilla", "-o", "mlflow.db", "--force"]
    run_case(capsys, tmp_path, {}, argv, 2, ["is the input file", "refusing to overwrite"])
    assert Path("mlflow.db").read_bytes() == b"SQLite format 3\x00"
