"""Progress bars: silent unless stderr is a terminal (or forced), never under --quiet."""

from __future__ import annotations

import io
from pathlib import Path

import joblib
import pytest

import scaling_fit as sf
from scaling_fit import progress
from scaling_fit.cli.main import main

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "examples" / "runs.csv"
# A quick fit: Chinchilla on every logged point of the three example runs.
FIT = {"law": "chinchilla", "points": "all", "n_refine": 3}


class Terminal(io.StringIO):
    """A stderr that says it is a TTY."""

    def isatty(self) -> bool:
        return True


def terminal(monkeypatch: pytest.MonkeyPatch) -> Terminal:
    """Make stderr a terminal for the rest of the test (in its body: pytest's capture resets
    sys.stderr after fixtures run)."""
    stream = Terminal()
    monkeypatch.setattr("sys.stderr", stream)
    monkeypatch.setattr(progress, "DELAY", 0.0)  # show at once: these fits take < 2 s
    return stream


def quiet_fit(**options: object) -> sf.FitResult:
    with pytest.warns(sf.ScalingFitWarning, match="distinct n_params"):  # 3 sizes, 5 params
        return sf.fit(sf.load_runs(EXAMPLE), **FIT, **options)


def test_silent_when_stderr_is_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    quiet_fit(bootstrap=10)
    assert capsys.readouterr().err == ""


def test_forced_bar_prints_anywhere(capsys: pytest.CaptureFixture[str]) -> None:
    quiet_fit(bootstrap=10, progress=True)
    err = capsys.readouterr().err
    assert "refining starts" in err
    assert "bootstrap:   0%" in err and "0/10" in err  # tqdm's first draw; later ones are
    # rate-limited (0.1 s) and cleared at the end (leave=False), so their text is not pinned


def test_bars_advance_per_refit_not_per_evaluation(monkeypatch: pytest.MonkeyPatch) -> None:
    from contextlib import contextmanager

    from scaling_fit.fitting import bootstrap, multistart

    counts: dict[str, list[int]] = {}

    @contextmanager
    def counting_bar(total: int, description: str, unit: str, shown: object):
        updates = counts.setdefault(description, [total, 0])

        class Bar:
            def update(self, n: int = 1) -> None:
                updates[1] += n

        yield Bar()

    monkeypatch.setattr(multistart, "progress_bar", counting_bar)
    monkeypatch.setattr(bootstrap, "progress_bar", counting_bar)
    result = quiet_fit(bootstrap=10)
    assert counts["bootstrap"] == [10, 10]  # one update per resample
    total, done = counts["refining starts"]
    assert done == result.options["n_refined"] <= total  # one per refined start


def test_auto_prints_on_a_terminal_and_false_silences_it(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = terminal(monkeypatch)
    quiet_fit()
    assert "refining starts" in stream.getvalue()
    stream.seek(0)
    stream.truncate()
    quiet_fit(progress=False)
    assert stream.getvalue() == ""


def test_progress_default_changes_auto_only(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal(monkeypatch)
    with progress.progress_default(False):
        assert not progress.shown("auto")
        assert progress.shown(True)
    assert progress.shown("auto")


def test_cli_quiet_silences_the_bar(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    stream = terminal(monkeypatch)
    argv = ["fit", str(EXAMPLE), "--law", "chinchilla", "--points", "all"]
    assert main([*argv, "-o", str(tmp_path / "a.json")]) == 0
    assert "refining starts" in stream.getvalue()
    stream.seek(0)
    stream.truncate()
    assert main([*argv, "-o", str(tmp_path / "b.json"), "--quiet"]) == 0
    assert stream.getvalue() == ""


@pytest.mark.slow  # ~4 s: two fits of the Epoch data; the bar machinery is tested above
def test_backtest_bar_counts_fits(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    runs = sf.load_runs(data_dir / "epoch_chinchilla" / "svg_extracted_data.csv")
    sf.backtest(runs, ["chinchilla"], max_dropped=1, progress=True)
    err = capsys.readouterr().err
    assert "backtest fits" in err
    assert "0/2" in err  # the main fit and one sweep step (first draw; see above)
    assert "refining starts" not in err  # the fits inside a backtest stay silent


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_bad_progress_value(value: object) -> None:
    with pytest.raises(ValueError, match=r"progress=.*: expected True, False or 'auto'"):
        sf.fit(EXAMPLE, "chinchilla", progress=value)


def test_parallel_bootstrap_bar_advances_as_work_completes(monkeypatch: pytest.MonkeyPatch) -> None:
    # With n_jobs=2 the bar used to move once per worker: its first update came at 50 %.
    # Now it moves per finished chunk: monotone, and the first step is a small share.
    from contextlib import contextmanager

    from scaling_fit.fitting import bootstrap

    steps: list[int] = []

    @contextmanager
    def recording_bar(total: int, description: str, unit: str, shown: object):
        class Bar:
            def update(self, n: int = 1) -> None:
                steps.append(n)

        yield Bar()

    monkeypatch.setattr(bootstrap, "progress_bar", recording_bar)
    # The parallel path: Chinchilla's resamples are otherwise all settled by one batched
    # refit in this process (one update of 16), and only unsettled ones go to the workers.
    monkeypatch.setattr(bootstrap, "batchable", lambda problem: False)
    with joblib.parallel_backend("threading"):  # two workers without process start-up time
        quiet_fit(bootstrap=16, n_jobs=2)
    assert all(n > 0 for n in steps) and sum(steps) == 16  # monotone, ends at the total
    assert steps[0] <= 16 // 4  # the first update comes well before half the work
    assert len(steps) >= 4


def overtraining_runs(path: Path) -> Path:
    """15 runs of the over-training law (5 sizes x 3 token multipliers), as a CSV."""
    import numpy as np
    import pandas as pd

    n, m = (np.ravel(a) for a in np.meshgrid([1e7, 3e7, 1e8, 3e8, 1e9], [5, 20, 80]))
    truth = {"E": 1.84, "A": 166.2, "B": 366.7, "eta": 0.273}
    loss = sf.get_law("overtraining").predict(n, m * n, **truth)
    pd.DataFrame({"n_params": n, "tokens": m * n, "loss": loss}).to_csv(path, index=False)
    return path


@pytest.mark.slow  # ~3 s: the target-shaped backtest and a bootstrapped fit
def test_compare_with_a_target_shows_its_progress(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # compare --target-n/--target-tokens (choose_law) ran ~100 s without a word.
    stream = terminal(monkeypatch)
    runs = overtraining_runs(tmp_path / "runs.csv")
    argv = ["compare", str(runs), "--law", "overtraining", "--target-n", "1e9"]
    argv += ["--target-tokens", "2e10", "-o", str(tmp_path / "c.json")]
    assert main(argv) == 0
    shown = stream.getvalue()
    assert "backtest fits" in shown and "fits with 40 bootstrap refits" in shown
    stream.seek(0)
    stream.truncate()
    assert main([*argv[:-1], str(tmp_path / "d.json"), "--quiet"]) == 0
    assert "backtest fits" not in stream.getvalue()
