"""The README's Python examples run as written and print the numbers their comments quote.

The ```python blocks of README.md are executed in order in one namespace, from a scratch
directory that links to ``data/`` (an example writes ``fit.json``; nothing is written into
the checkout), with the Agg backend.  pytest turns warnings into errors, so an example that
warns fails here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before anything imports pyplot

import numpy as np
import pytest

# Every README example runs (~25 s): the full suite (`pytest -m "slow or not slow"`, CI) runs it.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


@pytest.fixture(scope="module")
def readme(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    scratch = tmp_path_factory.mktemp("readme")
    (scratch / "data").symlink_to(ROOT / "data", target_is_directory=True)
    blocks = BLOCK.findall((ROOT / "README.md").read_text())
    namespace: dict[str, Any] = {"__name__": "__main__"}
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(scratch)
        for index, source in enumerate(blocks):
            exec(compile(source, f"README.md python block {index}", "exec"), namespace)
    namespace["_blocks"] = blocks
    namespace["_scratch"] = scratch
    return namespace


def test_examples_ran_and_wrote_only_into_the_scratch_directory(readme: dict[str, Any]) -> None:
    assert len(readme["_blocks"]) >= 8
    assert (readme["_scratch"] / "fit.json").is_file()
    assert not (ROOT / "fit.json").exists()


def test_quoted_fit_numbers(readme: dict[str, Any]) -> None:
    result = readme["result"]
    # Epoch's plain-Huber refit (data/epoch_chinchilla/SOURCE.md), quoted to 4 decimals.
    assert result.params["E"] == pytest.approx(1.8172, abs=5e-5)
    # "loss of a 70B model on 1.4T tokens: 1.9734" (4 decimals quoted).
    assert float(result.predict(n_params=70e9, tokens=1.4e12)) == pytest.approx(1.9734, abs=5e-5)
    # Hoffmann's unrounded law at the Gopher budget: 40.4B (laws.md §10, 3 figures).
    hoffmann = readme["sf"].FitResult.from_params("chinchilla").compute_optimal(5.76e23)
    assert float(hoffmann["n_params"].iloc[0]) == pytest.approx(4.04e10, rel=2e-3)


def test_quoted_formula_law_numbers(readme: dict[str, Any]) -> None:
    own, registered = readme["own_fit"], readme["result"]
    # "1.8172" quoted to 4 decimals; the registered law's optimum on the same points.
    assert own.params["E"] == pytest.approx(1.8172, abs=5e-5)
    assert own.objective == pytest.approx(registered.objective, rel=1e-10)  # "agree to 1e-10"
    assert (readme["_scratch"] / "own_fit.json").is_file()


def test_quoted_backtest_and_isoflop_numbers(readme: dict[str, Any]) -> None:
    summary = readme["bt"].summary.set_index("law")
    # "over-training 0.18/0.31 %, Chinchilla 1.8/3.0 %": quoted to the last digit shown.
    assert summary.loc["overtraining", "mean_relative_error"] == pytest.approx(0.0018, abs=5e-5)
    assert summary.loc["chinchilla", "worst_relative_error"] == pytest.approx(0.030, abs=5e-4)
    # "a = 0.5033" for Porian et al.'s tuned RefinedWeb configuration (4 decimals).
    assert readme["iso"].params["a"] == pytest.approx(0.5033, abs=5e-5)


def test_quoted_schedule_choice(readme: dict[str, Any]) -> None:
    choice = readme["choice"]
    # "2.7053, 2.7419, 0.0366": 4 decimals quoted.
    assert choice.final_loss == pytest.approx(2.7053, abs=5e-5)
    assert choice.baseline_loss == pytest.approx(2.7419, abs=5e-5)
    assert choice.schedule.spec.startswith("wsd:peak=0.0003,total=24000,warmup=2160,decay=7200")


def test_quoted_input_formats(readme: dict[str, Any]) -> None:
    # "22, 22, 22, 8": three runs of 8 + 8 + 6 logged steps; one run of 8 (data/examples).
    lengths = [len(readme[name]) for name in ("plain", "panel", "board", "one")]
    assert lengths == [22, 22, 22, 8]
    assert readme["plain"].attrs["derived"]["tokens"] == "step * batch_size"
    assert len(readme["big"]) == 14  # "14 rows: 160M, 410M" (8 + 6)
    assert set(readme["big"]["run"]) == {"160M", "410M"}


def test_quoted_hyperparameter_numbers(readme: dict[str, Any]) -> None:
    # "9.35e-4", "5.00e6 tokens", "1.07e6 tokens": 3 figures quoted.
    sf = readme["sf"]
    assert float(readme["lr_law"].predict(n_params=7e9, tokens=1.4e12)) == pytest.approx(
        9.35e-4, rel=1e-3
    )
    kaplan = sf.FitResult.from_params("kaplan_bcrit")
    assert float(kaplan.predict(loss=3.0)) == pytest.approx(1.07e6, rel=5e-3)
    hp = readme["hp"]
    # "a = -0.766, b = 0.197; B exponent 0.613"; "fitted 1.04 permille, published 1.23".
    assert hp.lr.params["a"] == pytest.approx(-0.766, abs=5e-4)
    assert hp.lr.params["b"] == pytest.approx(0.197, abs=5e-4)
    assert hp.batch.params["b"] == pytest.approx(0.613, abs=5e-4)
    assert hp.penalty["fitted"] == pytest.approx(1.04e-3, abs=5e-6)
    assert hp.penalty["published"] == pytest.approx(1.23e-3, abs=5e-6)
    # s.e. "0.060, 0.043, 0.053" of the band rule (3 decimals).
    assert hp.lr.stderr["a"] == pytest.approx(0.060, abs=5e-4)
    assert hp.lr.stderr["b"] == pytest.approx(0.043, abs=5e-4)
    assert hp.batch.stderr["b"] == pytest.approx(0.053, abs=5e-4)
    # "B_noise 1.14e6, 1.69e6, 2.78e6, 4.05e6, 5.70e6 tokens"; "D^0.61 (0.52-0.70)".
    fits = readme["cbs"].fits
    np.testing.assert_allclose(fits["b_noise"], [1.14e6, 1.69e6, 2.78e6, 4.05e6, 5.70e6], rtol=5e-3)
    row = readme["cbs"].scaling.set_index("against").loc["tokens"]
    assert row["exponent"] == pytest.approx(0.61, abs=5e-3)
    assert (row["exponent_lower"], row["exponent_upper"]) == pytest.approx((0.52, 0.70), abs=5e-3)
    # plan: "peak_lr 9.35e-4 [7.6e-4, 1.15e-3]; ... 2,440 sequences; 2.80e5 steps".
    plan = readme["table"].set_index("quantity")
    assert plan.loc["peak_lr", "lower"] == pytest.approx(7.6e-4, rel=5e-3)
    assert plan.loc["peak_lr", "upper"] == pytest.approx(1.15e-3, rel=5e-3)
    assert plan.loc["batch_sequences", "value"] == pytest.approx(2440, rel=1e-3)
    assert plan.loc["steps", "value"] == pytest.approx(2.80e5, rel=5e-3)
    assert "loss_opt" in set(readme["plan_with_fit"]["quantity"])
    suggested = readme["suggested"]
    assert suggested["cumulative_compute"].iloc[-1] <= 1e21
    assert suggested["target_sd"].iloc[-1] < suggested.attrs["start"]["sd"]


def test_plot_and_report_examples(readme: dict[str, Any]) -> None:
    scratch = readme["_scratch"]
    assert (scratch / "extrapolation.png").read_bytes().startswith(b"\x89PNG")
    assert not (ROOT / "report.html").exists() and not (ROOT / "extrapolation.png").exists()
    report = readme["report"]
    assert (scratch / "report.html").is_file() and report.best_law == "chinchilla"
    # The headline is the fit's own compute-optimal loss at 10x the largest run's 6ND.
    fit = report.fits["chinchilla"]
    optimum = fit.compute_optimal(report.headline["compute"], max_extrapolation=float("inf"))
    assert report.headline["loss"] == optimum["loss"].iloc[0]
    assert report.headline["loss_lower"] < report.headline["loss"] < report.headline["loss_upper"]


def test_quoted_choose_law_numbers(readme: dict[str, Any]) -> None:
    # "the target lies 16.7x beyond the runs, the data can emulate only 2.68x" (3 figures).
    note = readme["shaped"].emulation["note"]
    assert "the target lies 16.7x beyond the runs, the data can emulate only 2.68x" in note
    pick = readme["pick"]
    # "'overtraining', loss 2.4325 in [1.8691, 2.7296]": 4 decimals quoted (seeded bootstrap).
    assert pick.chosen == "overtraining"
    assert pick.recommended["loss"] == pytest.approx(2.4325, abs=5e-5)
    assert pick.recommended["lower"] == pytest.approx(1.8691, abs=5e-5)
    assert pick.recommended["upper"] == pytest.approx(2.7296, abs=5e-5)


def test_quoted_forecast_numbers(readme: dict[str, Any]) -> None:
    # "2.7277 (loss predicted at step 24000), 11888" and "(1.88, 3.96)": as quoted, to the
    # digits quoted.
    job = readme["job"]
    assert job.final_loss == pytest.approx(2.7277, abs=5e-5) and job.seen_steps == 11888
    np.testing.assert_allclose(job.interval, (1.88, 3.96), atol=5e-3)
