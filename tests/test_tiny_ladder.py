"""Our own small ladder (``data/tiny_ladder``, issue 24): what it holds, and the curve laws'
length extrapolation, forecasts and ``choose_law`` on it, from the committed curves (no torch).

The ladder: byte-level transformers of 25 k-0.8 M non-embedding parameters trained on the
Python standard library for 250-3,000 steps (``data/tiny_ladder/SOURCE.md``).  The model is
the held-out loss (``eval_loss``), as in the published curve sets.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scaling_fit as sf
from scaling_fit.errors import ScalingFitWarning

LADDER = Path(__file__).resolve().parents[1] / "data" / "tiny_ladder"


@pytest.fixture(scope="module")
def curves() -> pd.DataFrame:
    return pd.read_csv(LADDER / "curves.csv")


@pytest.fixture(scope="module")
def specs() -> dict[str, str]:
    return json.loads((LADDER / "schedules.json").read_text())


def held_out(curves: pd.DataFrame, prefix: str, seed: int = 0) -> pd.DataFrame:
    """``run, step, loss`` (held-out) of one size's runs at peak LR 2e-3 with one seed."""
    mine = curves[curves["run"].str.startswith(prefix) & curves["run"].str.endswith(f"s{seed}")]
    mine = mine[np.isclose(mine["peak_lr"], 2e-3)].dropna(subset=["eval_loss"])
    return mine[["run", "step", "eval_loss"]].rename(columns={"eval_loss": "loss"})


def test_the_ladder_spans_what_issue_24_asks(curves, specs) -> None:
    runs = curves.groupby("run").first()
    assert len(runs) == 45 and set(specs) == set(runs.index)
    sizes = np.unique(runs["n_params"])
    assert sizes.size >= 5 and sizes.max() / sizes.min() >= 8
    assert runs["total_steps"].max() / runs["total_steps"].min() >= 12
    assert set(runs["schedule"]) == {"cosine", "constant", "wsd", "linear"}
    assert runs["seed"].nunique() >= 2 and runs["peak_lr"].nunique() >= 4
    last = curves.groupby("run")["step"].max()
    assert (last == runs["total_steps"]).all()  # every run logged to its end
    # every run has its held-out loss at its last step, finite and a loss
    ends = curves[curves["step"] == curves["total_steps"]]
    assert ends["eval_loss"].between(1.0, np.log(256)).all()


def test_the_logged_lr_is_the_runs_schedule_spec(curves, specs) -> None:
    for run, rows in curves.groupby("run"):
        schedule = sf.schedules.from_spec(specs[run])
        after = rows[rows["step"] > schedule.warmup]
        expected = schedule.lr[after["step"].to_numpy() - 1]
        # the trainer counts decay progress from the step reached, the library from the step
        # before: they differ by at most one step's change of the LR (SOURCE.md)
        one_step = np.abs(np.diff(schedule.lr[schedule.warmup :])).max(initial=0.0)
        np.testing.assert_allclose(after["lr"], expected, rtol=0, atol=1.01 * one_step + 1e-12)


def test_the_public_loader_reads_the_held_out_loss(curves) -> None:
    with pytest.warns(ScalingFitWarning, match="eval_loss|empty|NaN"):  # rows between evals
        runs = sf.load_runs(LADDER / "curves.csv", columns={"loss": "eval_loss"}, nan_policy="omit")
    assert runs["run"].nunique() == 45
    assert len(runs) == curves["eval_loss"].notna().sum()
    assert "loss_unused" in runs.columns  # the training loss is kept, not mistaken for it


def test_the_torch_event_files_read_as_the_csv(curves) -> None:
    # The ladder's TensorBoard files were written by torch's own SummaryWriter: the reader of
    # run directories (issue 20) gives the held-out loss and LR of the CSV at the same steps.
    pytest.importorskip("tensorboard")
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "dropped .* empty/NaN", ScalingFitWarning
        )  # between evals
        runs = sf.load_runs(
            LADDER / "tensorboard", columns={"loss": "eval/loss"}, nan_policy="omit"
        )
    csv = curves.dropna(subset=["eval_loss"])
    both = runs.merge(csv, on=["run", "step"], suffixes=("", "_csv"), validate="one_to_one")
    assert len(both) == len(csv) == len(runs)
    # event files store float32 scalars: agreement to float32's resolution, 1e-6 relative
    np.testing.assert_allclose(both["loss"], both["eval_loss"], rtol=1e-6)
    np.testing.assert_allclose(both["lr"], both["lr_csv"], rtol=1e-6)


def test_omitted_rows_of_many_runs_are_one_warning(tmp_path) -> None:
    # 45 runs with rows between evaluations once gave 45 warning lines; more than three
    # sources losing rows now give one, with the total and the source that lost most.
    frame = pd.read_csv(LADDER / "curves.csv")
    for run, rows in list(frame.groupby("run"))[:5]:
        with np.errstate(invalid="ignore"):  # pandas 2.0's to_csv casts the NaN cells noisily
            rows.to_csv(tmp_path / f"{run}.csv", index=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sf.load_runs(str(tmp_path / "*.csv"), columns={"loss": "eval_loss"}, nan_policy="omit")
    (message,) = [str(w.message) for w in caught]
    assert re.search(
        r"dropped \d+ of \d+ rows with an empty/NaN value from 5 of 5 sources", message
    )
    assert "most from" in message and "--nan-policy omit" in message
