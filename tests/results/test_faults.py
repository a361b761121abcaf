"""Files and processes under faults: outputs written atomically and checked before any work,
inputs never overwritten, SIGKILL/SIGINT/SIGTERM mid-write, no joblib worker outliving the CLI.

The kill tests run the real CLI in a subprocess.  To hit the write itself (which takes
milliseconds), the subprocess slows down :func:`scaling_fit.results.atomic._write_all` (the
one function that writes the bytes) and says ``WRITING`` on stderr when it starts; everything
else — naming, replacing, the signal handling — is the shipped code.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest

import scaling_fit as sf
from scaling_fit.cli.main import main
from scaling_fit.cli.signals import Terminated, terminate_as_interrupt
from scaling_fit.errors import OutputExistsError
from scaling_fit.results import atomic

SLOW_WRITER = textwrap.dedent(
    """
    import os, signal, sys, time
    import scaling_fit.results.atomic as atomic

    # A shell starts background jobs with SIGINT ignored, and a child inherits that: restore
    # Python's Ctrl-C handler so the test means the same however pytest was launched.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    def slow_write_all(fd, data):
        sys.stderr.write("WRITING\\n"); sys.stderr.flush()
        for start in range(0, len(data), 4096):
            os.write(fd, data[start:start + 4096])
            time.sleep(0.005)
        os.fsync(fd)

    atomic._write_all = slow_write_all
    from scaling_fit.cli.main import main
    sys.exit(main(sys.argv[1:]))
    """
)
OLD = "old content, must survive\n"
# Polling limits of the subprocess tests: generous on a shared 2-core machine; they bound how
# long a broken test hangs, they are not timings being asserted.
WAIT = 120.0


def synthetic_runs(path: Path, n: int = 20, seed: int = 0) -> Path:
    """Chinchilla-like final losses of ``n`` runs (1 % noise) as a CSV."""
    rng = np.random.default_rng(seed)
    n_params = np.geomspace(1e8, 1e10, n)
    tokens = np.geomspace(2e9, 6e10, n)[rng.permutation(n)]
    loss = 1.7 + 400 / n_params**0.34 + 410 / tokens**0.28
    loss *= np.exp(rng.normal(0, 0.01, n))
    pd.DataFrame({"n_params": n_params, "tokens": tokens, "loss": loss}).to_csv(path, index=False)
    return path


def start_cli(tmp_path: Path, *argv: object) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITER, *map(str, argv)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def run(capsys, *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def wait_for_line(process: subprocess.Popen, marker: str) -> list[str]:
    lines = []
    for line in process.stderr:
        lines.append(line)
        if line.strip() == marker:
            return lines
    raise AssertionError(f"the CLI ended before {marker!r}: {''.join(lines)}")


def leftover_after_sigkill(tmp_path: Path, sig: int, output: str, *force: str) -> bool:
    """Where unnamed files cannot be linked (e.g. ``/proc`` links give EXDEV), a SIGKILLed
    writer leaves its hidden temporary file: check that there is at most that one, and that
    the next write to the same target removes it.  True when that write was made."""
    fd = atomic._unnamed_file(tmp_path)
    if fd is not None:
        os.close(fd)
        return False
    if sig != signal.SIGKILL:
        return False
    hidden = [p.name for p in tmp_path.iterdir() if p.name.startswith(f".{output}.")]
    assert len(hidden) <= 1, hidden
    (tmp_path / "fit.json").unlink()  # predict_args writes it again
    args = predict_args(tmp_path)
    previous = Path.cwd()
    os.chdir(tmp_path)
    try:
        assert main([*args, "-o", output, *force]) == 0
    finally:
        os.chdir(previous)
    if force:
        (tmp_path / output).write_text(OLD)
    return True


def predict_args(tmp_path: Path) -> list[str]:
    """A predict run whose CSV output is ~2 MB (40,000 rows): ~2.5 s to write when slowed."""
    sf.FitResult.from_params("chinchilla").to_json(tmp_path / "fit.json")
    sizes = [f"{n:.6g}" for n in np.geomspace(1e8, 1e11, 200)]
    return ["predict", "fit.json", "--n-params", *sizes, "--tokens", *sizes]


@pytest.mark.slow  # a real CLI process killed mid-run (2-4 s); CI runs it
@pytest.mark.parametrize(
    ("sig", "code"),
    [
        (signal.SIGKILL, -9),
        pytest.param(signal.SIGINT, 130, marks=pytest.mark.slow),  # ~4 s each
        pytest.param(signal.SIGTERM, 143, marks=pytest.mark.slow),
    ],
)
def test_a_signal_mid_write_leaves_the_old_file_whole(tmp_path, sig, code) -> None:
    (tmp_path / "out.csv").write_text(OLD)
    process = start_cli(tmp_path, *predict_args(tmp_path), "-o", "out.csv", "--force")
    wait_for_line(process, "WRITING")
    time.sleep(0.2)  # well inside the ~2 s slowed write
    process.send_signal(sig)
    rest = process.communicate(timeout=WAIT)[1]
    assert process.returncode == code
    assert (tmp_path / "out.csv").read_text() == OLD
    # No partial, temporary or 0-byte file next to it (after SIGKILL without linkable unnamed
    # files: the hidden temporary file is gone after the next write to the same target).
    leftover_after_sigkill(tmp_path, sig, "out.csv", "--force")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fit.json", "out.csv"]
    if sig != signal.SIGKILL:  # one line, no traceback
        word = "interrupted" if sig == signal.SIGINT else "terminated"
        assert rest.splitlines() == [f"scaling-fit: error: {word}"]


@pytest.mark.slow  # a real CLI process killed mid-run (2-4 s); CI runs it
def test_sigkill_mid_write_of_a_new_file_leaves_no_file(tmp_path) -> None:
    process = start_cli(tmp_path, *predict_args(tmp_path), "-o", "new.csv")
    wait_for_line(process, "WRITING")
    time.sleep(0.2)
    process.kill()
    process.communicate(timeout=WAIT)
    assert not (tmp_path / "new.csv").exists()
    if leftover_after_sigkill(tmp_path, signal.SIGKILL, "new.csv"):
        (tmp_path / "new.csv").unlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fit.json"]


def test_the_finished_write_replaces_the_old_file(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out.csv").write_text(OLD)
    code, _, err = run(capsys, *predict_args(tmp_path), "-o", "out.csv", "--force")
    assert code == 0, err
    assert len(pd.read_csv(tmp_path / "out.csv")) == 200 * 200
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fit.json", "out.csv"]


@pytest.mark.slow  # a real CLI process killed mid-run (2-4 s); CI runs it
def test_no_worker_outlives_sigterm_during_a_parallel_bootstrap(tmp_path) -> None:
    synthetic_runs(tmp_path / "runs.csv")
    process = start_cli(
        tmp_path, "fit", "runs.csv", "--law", "chinchilla", "--bootstrap", "50000",
        "--n-jobs", "2", "-o", "fit.json",
    )  # fmt: skip
    parent = psutil.Process(process.pid)
    deadline = time.monotonic() + WAIT
    children: list[psutil.Process] = []
    while len(children) < 2 and time.monotonic() < deadline:  # the two loky workers
        time.sleep(0.1)
        children = parent.children(recursive=True)
    assert len(children) >= 2, "the bootstrap never started its workers"
    process.send_signal(signal.SIGTERM)
    err = process.communicate(timeout=WAIT)[1]
    assert process.returncode == 143
    assert err.splitlines() == ["scaling-fit: error: terminated"]
    _, alive = psutil.wait_procs(children, timeout=30)
    assert alive == [], f"orphaned: {[(p.pid, p.name()) for p in alive]}"
    assert not (tmp_path / "fit.json").exists()


# --------------------------------------------------------------------- in-process checks
@pytest.mark.parametrize("stop", [Terminated(15), KeyboardInterrupt()], ids=["term", "int"])
def test_a_stop_that_python_drops_is_delivered_again(stop) -> None:
    # A signal's handler can run inside code whose exceptions Python reports and drops: an
    # os.fork callback (the lowest allowed joblib forks each worker; a SIGTERM caught in
    # logging's after-fork callback was lost and the CLI ran on: test above, 1 run in 40
    # under load), a __del__, a weakref callback.  Here a __del__ raises the stop; within
    # terminate_as_interrupt it must come back in the main thread, not vanish.
    class DropsIt:
        def __del__(self) -> None:
            raise stop

    with terminate_as_interrupt(), pytest.raises(type(stop)):
        DropsIt()  # deleted at once: Python reports __del__'s exception and drops it
        time.sleep(30)  # delivered again ~10 ms later, here (a sleep ends on a signal)


@pytest.mark.parametrize(
    ("stop", "code", "word"),
    [(Terminated(15), 143, "terminated"), (KeyboardInterrupt(), 130, "interrupted")],
)
def test_a_signal_whose_clean_up_fails_still_ends_as_stopped(
    capsys, tmp_path, monkeypatch, stop, code, word
) -> None:
    # The CI race: SIGTERM landed while loky started its manager thread, and joblib's abort
    # then failed to join that thread, so a RuntimeError replaced the signal (exit 1, traceback).
    runs = synthetic_runs(tmp_path / "runs.csv")

    def stopped_while_starting_workers(*args, **kwargs):
        try:
            raise stop
        finally:
            raise RuntimeError("cannot join thread before it is started")

    monkeypatch.setattr("scaling_fit.fitting.fit.fit", stopped_while_starting_workers)
    assert run(capsys, "fit", runs, "--law", "chinchilla") == (
        code,
        "",
        f"scaling-fit: error: {word}\n",
    )


def test_a_bad_output_directory_fails_before_the_work(capsys, tmp_path, monkeypatch) -> None:
    runs = synthetic_runs(tmp_path / "runs.csv")

    def no_fit(*args, **kwargs):
        raise AssertionError("the fit ran before the output path was checked")

    monkeypatch.setattr("scaling_fit.fitting.fit.fit", no_fit)
    for output, words in [
        (tmp_path / "missing" / "fit.json", "output directory"),
        (tmp_path, "is a directory"),
    ]:
        code, _, err = run(capsys, "fit", runs, "--law", "chinchilla", "-o", output)
        assert code == 2
        assert err.count("\n") == 1 and words in err, err


@pytest.mark.parametrize("spelling", ["same", "relative", "symlink"])
def test_an_input_is_never_overwritten_even_with_force(capsys, tmp_path, spelling) -> None:
    runs = synthetic_runs(tmp_path / "runs.csv")
    before = runs.read_text()
    output = {"same": runs, "relative": tmp_path / "." / "runs.csv", "symlink": tmp_path / "l"}
    if spelling == "symlink":
        output["symlink"].symlink_to(runs)
    code, _, err = run(
        capsys, "fit", runs, "--law", "chinchilla", "-o", output[spelling], "--force"
    )
    assert code == 2
    assert "refusing to overwrite an input" in err
    assert runs.read_text() == before


def test_an_input_matched_by_a_glob_is_not_overwritten(capsys, tmp_path) -> None:
    runs = synthetic_runs(tmp_path / "runs.csv")
    code, _, err = run(
        capsys, "fit", str(tmp_path / "*.csv"), "--law", "chinchilla", "-o", runs, "--force"
    )
    assert code == 2 and "is the input file" in err


def test_predict_refuses_to_overwrite_its_fit_file(capsys, tmp_path) -> None:
    path = tmp_path / "fit.json"
    sf.FitResult.from_params("chinchilla").to_json(path)
    code, _, err = run(capsys, "predict", path, "--compute", "1e21", "-o", path, "--force")
    assert code == 2 and "is the input file" in err
    assert sf.FitResult.from_json(path).params == sf.FitResult.from_params("chinchilla").params


def test_to_json_refuses_to_overwrite_unless_asked(tmp_path) -> None:
    path = tmp_path / "fit.json"
    result = sf.FitResult.from_params("chinchilla")
    result.to_json(path)
    path.write_text(OLD)
    with pytest.raises(OutputExistsError, match=r"exists; pass overwrite=True") as caught:
        result.to_json(path)
    assert isinstance(caught.value, FileExistsError)  # inherits the matching built-in
    assert path.read_text() == OLD
    result.to_json(path, overwrite=True)
    assert sf.FitResult.from_json(path).params == result.params


@pytest.mark.parametrize("unnamed", [True, False])
def test_atomic_write_both_ways(tmp_path, monkeypatch, unnamed) -> None:
    # Without O_TMPFILE (or where it cannot be linked) a named temporary file is used.
    if not unnamed:
        monkeypatch.setattr(atomic, "_unnamed_file", lambda directory: None)
    path = tmp_path / "a.txt"
    atomic.write_text_atomic(path, "one\n")
    with pytest.raises(FileExistsError):
        atomic.write_text_atomic(path, "two\n")
    atomic.write_text_atomic(path, "three\n", overwrite=True)
    assert path.read_text() == "three\n"
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_an_error_during_the_write_leaves_nothing(tmp_path, monkeypatch) -> None:
    def full_disk(fd, data):
        os.write(fd, data[:10])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic, "_write_all", full_disk)
    (tmp_path / "out.csv").write_text(OLD)
    for unnamed in (True, False):
        if not unnamed:
            monkeypatch.setattr(atomic, "_unnamed_file", lambda directory: None)
        with pytest.raises(OSError, match="No space"):
            atomic.write_text_atomic(tmp_path / "out.csv", "new\n", overwrite=True)
        assert (tmp_path / "out.csv").read_text() == OLD
        assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_out_of_memory_is_one_line_exit_1(capsys, tmp_path, monkeypatch) -> None:
    runs = synthetic_runs(tmp_path / "runs.csv")

    def too_big(*args, **kwargs):
        raise MemoryError("Unable to allocate 37.6 GiB")

    monkeypatch.setattr("scaling_fit.fitting.fit.fit", too_big)
    code, _, err = run(capsys, "fit", runs, "--law", "chinchilla")
    assert code == 1
    assert err.splitlines() == [
        "scaling-fit: error: out of memory (Unable to allocate 37.6 GiB); fit fewer points "
        "(--points final), fewer resamples (--bootstrap) or fewer rows"
    ]
