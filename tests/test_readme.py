"""The Python examples of README.md and of every docs/*.md page run as written and print the
numbers their comments quote.

Each page's ```python blocks are executed in order in one namespace of their own (a page
stands alone: its first block imports and loads what it uses), from a scratch directory that
links to ``data/`` (an example writes ``fit.json``; nothing is written into the checkout),
with the Agg backend.  pytest turns warnings into errors, so an example that warns fails here.
A block that is not meant to run is marked ```text or ```bash.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before anything imports pyplot

import numpy as np
import pytest

# Every example of every page runs (~40 s): the full suite (`pytest -m "slow or not slow"`, CI)
# runs it.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def python_blocks(page: str) -> list[str]:
    """The ```python blocks of ``page`` (a path relative to the repository root)."""
    return BLOCK.findall((ROOT / page).read_text(encoding="utf-8"))


DOCS = [f"docs/{p.name}" for p in sorted((ROOT / "docs").glob("*.md"))]
PAGES = ["README.md"] + [page for page in DOCS if python_blocks(page)]


@pytest.fixture(scope="module")
def run_page(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], dict[str, Any]]:
    """Run a page's blocks once (cached for the module) and return its namespace."""
    done: dict[str, dict[str, Any]] = {}

    def run(page: str) -> dict[str, Any]:
        if page not in done:
            scratch = tmp_path_factory.mktemp(Path(page).stem)
            (scratch / "data").symlink_to(ROOT / "data", target_is_directory=True)
            blocks = python_blocks(page)
            namespace: dict[str, Any] = {"__name__": "__main__"}
            with pytest.MonkeyPatch.context() as patch:
                patch.chdir(scratch)
                for index, source in enumerate(blocks):
                    exec(compile(source, f"{page} python block {index}", "exec"), namespace)
            namespace["_blocks"] = blocks
            namespace["_scratch"] = scratch
            done[page] = namespace
        return done[page]

    return run


def test_pages_with_examples_are_found() -> None:
    # The README and the guides with examples (fitting, laws, allocation, isoFLOP, backtest,
    # curves, forecasting, hyperparameters, report, input formats, Dask).
    assert len(PAGES) >= 12 and "docs/fitting.md" in PAGES and "docs/hparams.md" in PAGES


@pytest.mark.parametrize("page", PAGES)
def test_every_example_runs_and_writes_only_into_the_scratch_directory(
    run_page: Callable[[str], dict[str, Any]], page: str
) -> None:
    namespace = run_page(page)
    assert len(namespace["_blocks"]) >= 1
    assert not (ROOT / "fit.json").exists() and not (ROOT / "report.html").exists()


@pytest.mark.parametrize("page", ["README.md", "docs/fitting.md"])
def test_quoted_fit_numbers(run_page: Callable[[str], dict[str, Any]], page: str) -> None:
    namespace = run_page(page)
    assert (namespace["_scratch"] / "fit.json").is_file()
    result = namespace["result"]
    # Epoch's plain-Huber refit (data/epoch_chinchilla/SOURCE.md), quoted to 4 decimals.
    assert result.params["E"] == pytest.approx(1.8172, abs=5e-5)
    # "loss of a 70B model on 1.4T tokens: 1.9734" (4 decimals quoted).
    assert float(result.predict(n_params=70e9, tokens=1.4e12)) == pytest.approx(1.9734, abs=5e-5)
    # Hoffmann's unrounded law at the Gopher budget: 40.4B (laws.md §10, 3 figures).
    hoffmann = namespace["sf"].FitResult.from_params("chinchilla").compute_optimal(5.76e23)
    assert float(hoffmann["n_params"].iloc[0]) == pytest.approx(4.04e10, rel=2e-3)


def test_quoted_formula_law_numbers(run_page: Callable[[str], dict[str, Any]]) -> None:
    guide = run_page("docs/law-guide.md")
    sf, own = guide["sf"], guide["own_fit"]
    registered = sf.fit(guide["runs"], "chinchilla", exclude=guide["drop"])
    # "1.8172" quoted to 4 decimals; the registered law's optimum on the same points.
    assert own.params["E"] == pytest.approx(1.8172, abs=5e-5)
    assert own.objective == pytest.approx(registered.objective, rel=1e-10)  # "agree to 1e-10"
    assert (guide["_scratch"] / "own_fit.json").is_file()


def test_quoted_backtest_and_isoflop_numbers(run_page: Callable[[str], dict[str, Any]]) -> None:
    summary = run_page("docs/backtest.md")["bt"].summary.set_index("law")
    # "over-training 0.18/0.31 %, Chinchilla 1.8/3.0 %": quoted to the last digit shown.
    assert summary.loc["overtraining", "mean_relative_error"] == pytest.approx(0.0018, abs=5e-5)
    assert summary.loc["chinchilla", "worst_relative_error"] == pytest.approx(0.030, abs=5e-4)
    # "a = 0.5033" for Porian et al.'s tuned RefinedWeb configuration (4 decimals).
    assert run_page("docs/isoflop.md")["iso"].params["a"] == pytest.approx(0.5033, abs=5e-5)


def test_quoted_schedule_choice(run_page: Callable[[str], dict[str, Any]]) -> None:
    choice = run_page("docs/curves.md")["choice"]
    # "2.7053, 2.7419, 0.0366": 4 decimals quoted.
    assert choice.final_loss == pytest.approx(2.7053, abs=5e-5)
    assert choice.baseline_loss == pytest.approx(2.7419, abs=5e-5)
    assert choice.schedule.spec.startswith("wsd:peak=0.0003,total=24000,warmup=2160,decay=7200")


def test_quoted_input_formats(run_page: Callable[[str], dict[str, Any]]) -> None:
    page = run_page("docs/input-formats.md")
    # "22, 22, 22, 8": three runs of 8 + 8 + 6 logged steps; one run of 8 (data/examples).
    lengths = [len(page[name]) for name in ("plain", "panel", "board", "one")]
    assert lengths == [22, 22, 22, 8]
    assert page["plain"].attrs["derived"]["tokens"] == "step * batch_size"
    assert len(page["big"]) == 14  # "14 rows: 160M, 410M" (8 + 6)
    assert set(page["big"]["run"]) == {"160M", "410M"}


def test_quoted_hyperparameter_numbers(run_page: Callable[[str], dict[str, Any]]) -> None:
    page = run_page("docs/hparams.md")
    # "9.35e-4", "5.00e6 tokens", "1.07e6 tokens": 3 figures quoted.
    sf = page["sf"]
    assert float(page["lr_law"].predict(n_params=7e9, tokens=1.4e12)) == pytest.approx(
        9.35e-4, rel=1e-3
    )
    kaplan = sf.FitResult.from_params("kaplan_bcrit")
    assert float(kaplan.predict(loss=3.0)) == pytest.approx(1.07e6, rel=5e-3)
    hp = page["hp"]
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
    fits = page["cbs"].fits
    np.testing.assert_allclose(fits["b_noise"], [1.14e6, 1.69e6, 2.78e6, 4.05e6, 5.70e6], rtol=5e-3)
    row = page["cbs"].scaling.set_index("against").loc["tokens"]
    assert row["exponent"] == pytest.approx(0.61, abs=5e-3)
    assert (row["exponent_lower"], row["exponent_upper"]) == pytest.approx((0.52, 0.70), abs=5e-3)
    # plan: "peak_lr 9.35e-4 [7.6e-4, 1.15e-3]; ... 2,440 sequences; 2.80e5 steps".
    plan = page["table"].set_index("quantity")
    assert plan.loc["peak_lr", "lower"] == pytest.approx(7.6e-4, rel=5e-3)
    assert plan.loc["peak_lr", "upper"] == pytest.approx(1.15e-3, rel=5e-3)
    assert plan.loc["batch_sequences", "value"] == pytest.approx(2440, rel=1e-3)
    assert plan.loc["steps", "value"] == pytest.approx(2.80e5, rel=5e-3)
    assert "loss_opt" in set(page["plan_with_fit"]["quantity"])
    suggested = page["suggested"]
    assert suggested["cumulative_compute"].iloc[-1] <= 1e21
    assert suggested["target_sd"].iloc[-1] < suggested.attrs["start"]["sd"]


def test_plot_and_report_examples(run_page: Callable[[str], dict[str, Any]]) -> None:
    page = run_page("docs/report.md")
    scratch = page["_scratch"]
    assert (scratch / "extrapolation.png").read_bytes().startswith(b"\x89PNG")
    assert not (ROOT / "report.html").exists() and not (ROOT / "extrapolation.png").exists()
    report = page["report"]
    assert (scratch / "report.html").is_file() and report.best_law == "chinchilla"
    # The headline is the fit's own compute-optimal loss at 10x the largest run's 6ND.
    fit = report.fits["chinchilla"]
    optimum = fit.compute_optimal(report.headline["compute"], max_extrapolation=float("inf"))
    assert report.headline["loss"] == optimum["loss"].iloc[0]
    assert report.headline["loss_lower"] < report.headline["loss"] < report.headline["loss_upper"]


def test_quoted_choose_law_numbers(run_page: Callable[[str], dict[str, Any]]) -> None:
    page = run_page("docs/backtest.md")
    # "the target lies 16.7x beyond the runs, the data can emulate only 2.68x" (3 figures).
    note = page["shaped"].emulation["note"]
    assert "the target lies 16.7x beyond the runs, the data can emulate only 2.68x" in note
    pick = page["pick"]
    # "'overtraining', loss 2.4325 in [1.8691, 2.7296]": 4 decimals quoted (seeded bootstrap).
    assert pick.chosen == "overtraining"
    assert pick.recommended["loss"] == pytest.approx(2.4325, abs=5e-5)
    assert pick.recommended["lower"] == pytest.approx(1.8691, abs=5e-5)
    assert pick.recommended["upper"] == pytest.approx(2.7296, abs=5e-5)


def test_quoted_forecast_numbers(run_page: Callable[[str], dict[str, Any]]) -> None:
    # "2.7277 (loss predicted at step 24000), 11888" and "(1.88, 3.96)": as quoted, to the
    # digits quoted.
    job = run_page("docs/forecasting.md")["job"]
    assert job.final_loss == pytest.approx(2.7277, abs=5e-5) and job.seen_steps == 11888
    np.testing.assert_allclose(job.interval, (1.88, 3.96), atol=5e-3)


def test_compute_optimal_examples(run_page: Callable[[str], dict[str, Any]]) -> None:
    sf = run_page("docs/allocation.md")["sf"]
    # "Kaplan's numeric optimum: ~242B, 1.6 tokens/param" (2-3 figures quoted).
    kaplan = sf.FitResult.from_params("kaplan").compute_optimal(5.76e23)
    assert float(kaplan["n_params"].iloc[0]) == pytest.approx(2.42e11, rel=5e-3)
    assert float(kaplan["tokens_per_param"].iloc[0]) == pytest.approx(1.6, abs=0.05)
