"""The output contract (docs/command-line.md, "Output contract"), for every command and the API:
only a regular file or a new path is written; a device, FIFO, socket or directory is refused with
exit 2 before any work; a symlink's target is replaced atomically; one write even without
hard links; a failed write leaves the old file whole and no temporary file.

Run as root, a broken writer would replace ``/dev/null`` itself: the ``guard`` fixture makes
any rename or link onto an existing non-regular file fail the test instead of doing it.
"""

from __future__ import annotations

import errno
import os
import socket
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scaling_fit as sf
import scaling_fit.report.build  # imported before no_work patches fit
from scaling_fit.cli.main import main
from scaling_fit.results import atomic

OLD = "old content, must survive\n"


@pytest.fixture
def guard(monkeypatch) -> None:
    """Fail the test, doing nothing, on a rename or link onto an existing non-regular file."""

    def guarded(function):
        def call(source, target, *args, **kwargs):
            if os.path.lexists(target) and not stat.S_ISREG(os.lstat(target).st_mode):
                if not os.path.islink(target):
                    raise AssertionError(f"{function.__name__} onto non-regular {target}")
            return function(source, target, *args, **kwargs)

        return call

    for name in ("replace", "rename", "link"):
        monkeypatch.setattr(os, name, guarded(getattr(os, name)))


@pytest.fixture
def no_work(monkeypatch) -> None:
    """Any fit fails the test: the output path must be refused before the work."""

    def fit(*args, **kwargs):
        raise AssertionError("the fit ran before the output path was checked")

    monkeypatch.setattr("scaling_fit.fitting.fit.fit", fit)
    monkeypatch.setattr("scaling_fit.report.build.fit", fit)


def runs_csv(path: Path, n: int = 16) -> Path:
    """Chinchilla-like final losses of ``n`` runs (0.3 % seeded noise) as a CSV."""
    rng = np.random.default_rng(0)
    n_params = np.repeat(np.geomspace(1e8, 3e9, 4), n // 4)
    tokens = n_params * np.tile([5, 10, 20, 40], n // 4)
    loss = (1.7 + 400 / n_params**0.34 + 410 / tokens**0.28) * (1 + rng.normal(0, 0.003, n))
    table = {"run": [f"r{i}" for i in range(n)], "n_params": n_params, "tokens": tokens}
    pd.DataFrame({**table, "loss": loss}).to_csv(path, index=False)
    return path


def fifo(tmp_path: Path) -> Path:
    os.mkfifo(tmp_path / "pipe")
    return tmp_path / "pipe"


def unix_socket(tmp_path: Path) -> Path:
    path = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()  # the socket file stays
    return path


def command(kind: str, tmp_path: Path) -> list[str]:
    """The argv of a command reading files in ``tmp_path`` (its output path comes after)."""
    if kind == "fit":
        return ["fit", str(runs_csv(tmp_path / "runs.csv")), "--law", "chinchilla"]
    if kind == "predict":
        sf.FitResult.from_params("chinchilla").to_json(tmp_path / "fit.json")
        return ["predict", str(tmp_path / "fit.json"), "--compute", "1e21"]
    runs = runs_csv(tmp_path / "runs.csv")
    return ["report", str(runs), "--law", "chinchilla", "--bootstrap", "0", "--quiet"]


@pytest.mark.parametrize("kind", ["fit", "report"])
@pytest.mark.parametrize(
    ("target", "words"),
    [
        (fifo, "is a FIFO"),
        (unix_socket, "is a socket"),
        (lambda tmp: tmp, "is a directory"),
        (lambda tmp: Path(os.devnull), "is a character device"),
    ],
    ids=["fifo", "socket", "directory", "devnull"],
)
def test_a_target_that_is_not_a_regular_file_is_refused_first(
    capsys, tmp_path, guard, no_work, kind, target, words
) -> None:
    argv = command(kind, tmp_path)
    path = target(tmp_path)
    before = os.stat(path)
    for force in ([], ["--force"]):
        code = main([*argv, "-o", str(path), *force])
        err = capsys.readouterr().err
        assert code == 2
        assert err.count("\n") == 1 and words in err, err
        after = os.stat(path)
        assert (after.st_mode, after.st_ino, after.st_rdev) == (
            before.st_mode,
            before.st_ino,
            before.st_rdev,
        )


def test_predict_onto_a_fifo_is_refused(capsys, tmp_path, guard) -> None:
    code = main([*command("predict", tmp_path), "-o", str(fifo(tmp_path)), "--force"])
    assert code == 2 and "is a FIFO" in capsys.readouterr().err
    assert stat.S_ISFIFO(os.stat(tmp_path / "pipe").st_mode)


@pytest.mark.parametrize("kind", ["fit", "predict"])
def test_a_symlink_is_followed_and_its_target_replaced(capsys, tmp_path, guard, kind) -> None:
    argv = command(kind, tmp_path)
    (tmp_path / "results").mkdir()
    real = tmp_path / "results" / "out.json"
    real.write_text(OLD)
    link = tmp_path / "out.json"
    link.symlink_to(Path("results") / "out.json")
    assert main([*argv, "-o", str(link), "--force"]) == 0
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert real.read_text() != OLD and real.read_text().strip()
    dangling = tmp_path / "new.json"
    dangling.symlink_to(Path("results") / "new.json")
    assert main([*argv, "-o", str(dangling)]) == 0
    assert dangling.is_symlink() and (tmp_path / "results" / "new.json").stat().st_size > 0
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["new.json", "out.json"]


def test_api_writers_follow_the_contract(tmp_path, guard) -> None:
    result = sf.FitResult.from_params("chinchilla")
    with pytest.raises(sf.OutputPathError, match="is a FIFO"):
        result.to_json(fifo(tmp_path), overwrite=True)
    with pytest.raises(sf.OutputPathError, match="is a character device"):
        result.to_json(os.devnull, overwrite=True)
    with pytest.raises(sf.OutputPathError, match="is a directory"):
        sf.write_report(runs_csv(tmp_path / "runs.csv"), "chinchilla", tmp_path, bootstrap=0)
    (tmp_path / "file").write_text(OLD)
    with pytest.raises(sf.OutputPathError, match=r"--figures .* not a directory"):
        sf.write_report(
            tmp_path / "runs.csv", "chinchilla", tmp_path / "r.html", figures=tmp_path / "file"
        )
    assert not (tmp_path / "r.html").exists()


def full_disk(monkeypatch) -> None:
    """Every write fails with ENOSPC after some bytes went to disk."""

    def write_all(fd, data):
        os.write(fd, bytes(data[:100]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic, "_write_all", write_all)


@pytest.mark.parametrize(
    ("kind", "unnamed"),
    [
        ("fit", True),
        ("fit", False),
        ("predict", True),
        ("predict", False),
        pytest.param("report", True, marks=pytest.mark.slow),  # ~3 s: the report's figures
        pytest.param("report", False, marks=pytest.mark.slow),
    ],
)
def test_a_full_disk_leaves_the_old_file_and_no_temporary(
    capsys, tmp_path, monkeypatch, kind, unnamed
) -> None:
    argv = command(kind, tmp_path)
    out = tmp_path / "out.txt"
    out.write_text(OLD)
    before = sorted(p.name for p in tmp_path.iterdir())
    full_disk(monkeypatch)
    if not unnamed:
        monkeypatch.setattr(atomic, "_unnamed_file", lambda directory: None)
    code = main([*argv, "-o", str(out), "--force"])
    err = capsys.readouterr().err
    assert code == 2 and "No space left on device" in err, err
    assert out.read_text() == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize("unnamed", [True, False], ids=["O_TMPFILE", "named"])
@pytest.mark.parametrize("stop", [KeyboardInterrupt, MemoryError])
def test_an_interrupted_write_leaves_no_temporary(tmp_path, monkeypatch, unnamed, stop) -> None:
    def interrupted(fd, data):
        os.write(fd, bytes(data[:5]))
        raise stop

    monkeypatch.setattr(atomic, "_write_all", interrupted)
    if not unnamed:
        monkeypatch.setattr(atomic, "_unnamed_file", lambda directory: None)
    (tmp_path / "a.txt").write_text(OLD)
    for name, overwrite in (("a.txt", True), ("b.txt", False)):
        with pytest.raises(stop):
            atomic.write_text_atomic(tmp_path / name, "new\n" * 1000, overwrite=overwrite)
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
    assert (tmp_path / "a.txt").read_text() == OLD


@pytest.mark.parametrize("overwrite", [True, False])
def test_without_hard_links_the_bytes_are_written_once(tmp_path, monkeypatch, overwrite) -> None:
    written = []
    real_write, real_link = os.write, os.link

    def counting_write(fd, data):
        written.append(len(data))
        return real_write(fd, data)

    def no_links(*args, **kwargs):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "write", counting_write)
    monkeypatch.setattr(os, "link", no_links)
    monkeypatch.setattr(atomic, "_UNLINKABLE", set(), raising=False)  # none known yet
    monkeypatch.setattr(atomic, "_LINKABLE", set(), raising=False)
    path = tmp_path / "out.txt"
    if overwrite:
        path.write_text(OLD)
    text = "x" * 100_000
    atomic.write_text_atomic(path, text, overwrite=overwrite)
    monkeypatch.setattr(os, "link", real_link)
    assert sum(written) == len(text)
    assert path.read_text() == text
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_a_new_file_is_never_put_over_one_created_meanwhile(tmp_path, monkeypatch) -> None:
    path = tmp_path / "out.txt"
    real = atomic._write_all

    def racing(fd, data):
        real(fd, data)
        path.write_text(OLD)  # another process creates the file while we write

    monkeypatch.setattr(atomic, "_write_all", racing)
    for unnamed in (True, False):
        if not unnamed:
            monkeypatch.setattr(atomic, "_unnamed_file", lambda directory: None)
        with pytest.raises(FileExistsError):
            atomic.write_text_atomic(path, "new\n")
        assert path.read_text() == OLD
        assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
        path.unlink()


def test_a_killed_writers_temporary_file_goes_with_the_next_write(tmp_path, monkeypatch) -> None:
    # Where unnamed files cannot be linked, SIGKILL mid-write leaves a hidden file named with
    # the writer's pid; the next write to that target removes it (and only a dead writer's).
    monkeypatch.setattr(atomic, "_unnamed_file", lambda directory: None)
    finished = psutil_free_dead_pid()
    dead = tmp_path / f".out.txt.{finished}.deadbeef.tmp"
    live = tmp_path / f".out.txt.{os.getppid()}.cafef00d.tmp"
    other = tmp_path / f".other.txt.{finished}.deadbeef.tmp"
    for path in (dead, live, other):
        path.write_text("partial")
    atomic.write_text_atomic(tmp_path / "out.txt", "new\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["out.txt", live.name, other.name])


def psutil_free_dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_report_figures_that_is_a_file_is_refused_before_the_work(
    capsys, tmp_path, no_work
) -> None:
    (tmp_path / "figs").write_text(OLD)
    argv = [*command("report", tmp_path), "-o", str(tmp_path / "r.html")]
    code = main([*argv, "--figures", str(tmp_path / "figs")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--figures" in err and "not a directory" in err
    assert not (tmp_path / "r.html").exists() and (tmp_path / "figs").read_text() == OLD
