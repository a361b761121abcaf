"""The example notebooks run top to bottom in a real Jupyter kernel, warning-free, show every
figure, and compute what their text says.

Each notebook is executed by nbclient in an IPython kernel (as Jupyter runs it), from the
repository root (notebook 01) or from ``notebooks/`` (notebook 02), so both ways of finding
``data/`` are exercised.  A cell that writes to stderr (a warning) fails the test; a cell
that ends in a figure must have an ``image/png`` output.  After the last cell, the variables
the checks read are sent back from the kernel with cloudpickle, so the
checks below are the ones the notebooks' text quotes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

# The notebooks execute end to end (~15 s of fits): the full suite (CI) runs them.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
FIT_NOTEBOOK = NOTEBOOKS / "01_fit_and_compute_optimal.ipynb"
CURVE_NOTEBOOK = NOTEBOOKS / "02_loss_curves_and_schedules.ipynb"
LADDER_NOTEBOOK = NOTEBOOKS / "03_tiny_ladder.ipynb"
# The variables each notebook leaves for the checks.
NAMES = {
    FIT_NOTEBOOK: ("result", "optimal", "n_opt", "ax", "backtest", "iso", "authors"),
    CURVE_NOTEBOOK: (
        "features",
        "cosine",
        "wsd",
        "fits",
        "errors",
        "test",
        "fig",
        "predicted",
        "job",
        "job_truth",
        "job_fig",
    ),
    LADDER_NOTEBOOK: ("runs", "fitted", "longer", "job", "job_truth", "pick", "truth_row", "out"),
}
# A figure cell: its last line is a figure variable or a call of a plot method or function.
FIGURE_CELL = re.compile(r"(^\w*fig$|\.plot\(|^plot_\w+\()")
# Seconds a cell may take in CI (the bootstrap of notebook 01 is the longest).
CELL_TIMEOUT = 1200


def figure_cells(notebook: Any) -> list[int]:
    """Indices of the code cells whose last line shows a figure."""
    return [
        i
        for i, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and FIGURE_CELL.search(cell.source.strip().splitlines()[-1])
    ]


def execute(path: Path, cwd: Path, probe: Path | None = None) -> Any:
    """Run the notebook in a fresh IPython kernel; optionally pickle NAMES[path] to ``probe``."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    if probe is not None:
        names = ", ".join(repr(n) for n in NAMES[path])
        notebook.cells.append(
            nbformat.v4.new_code_cell(
                "import cloudpickle as _cp\n"
                f"with open({str(probe)!r}, 'wb') as _f:\n"
                f"    _cp.dump({{_n: globals()[_n] for _n in ({names},)}}, _f)"
            )
        )
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute()
    if probe is not None:
        notebook.cells.pop()
    return notebook


def run_notebook(path: Path, cwd: Path, tmp: Path) -> dict[str, Any]:
    """Execute ``path`` in a kernel, check its outputs, return the variables it left."""
    import pickle

    probe = tmp / f"{path.stem}.pickle"
    notebook = execute(path, cwd, probe)
    check_outputs(notebook, path.name)
    with probe.open("rb") as handle:
        return pickle.load(handle)


def check_outputs(notebook: Any, name: str) -> None:
    """No cell wrote to stderr or failed; every figure cell shows a PNG; no bare Figure repr."""
    for i, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        for output in cell.outputs:
            assert output.output_type != "error", f"{name} cell {i}: {output.get('evalue')}"
            assert output.get("name") != "stderr", f"{name} cell {i} warned: {output.get('text')}"
            plain = output.get("data", {}).get("text/plain", "")
            assert not ("<Figure size" in plain and "image/png" not in output.get("data", {}))
    for i in figure_cells(notebook):
        kinds = [set(o.get("data", {})) for o in notebook.cells[i].outputs]
        assert any("image/png" in k for k in kinds), f"{name} cell {i} shows no figure"


@pytest.fixture(scope="module")
def fit_nb(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return run_notebook(FIT_NOTEBOOK, ROOT, tmp_path_factory.mktemp("nb01"))


@pytest.fixture(scope="module")
def curve_nb(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return run_notebook(CURVE_NOTEBOOK, NOTEBOOKS, tmp_path_factory.mktemp("nb02"))


@pytest.fixture(scope="module")
def ladder_nb(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return run_notebook(LADDER_NOTEBOOK, NOTEBOOKS, tmp_path_factory.mktemp("nb03"))


def test_every_notebook_is_listed_and_valid() -> None:
    found = sorted(NOTEBOOKS.glob("*.ipynb"))
    # A new notebook must get its own execution test here.
    assert found == [FIT_NOTEBOOK, CURVE_NOTEBOOK, LADDER_NOTEBOOK]
    for path in found:
        notebook = json.loads(path.read_text())
        assert notebook["nbformat"] == 4 and notebook["nbformat_minor"] >= 4
        kinds = {cell["cell_type"] for cell in notebook["cells"]}
        assert kinds == {"markdown", "code"}, path.name


@pytest.mark.parametrize("path", [FIT_NOTEBOOK, CURVE_NOTEBOOK], ids=lambda p: p.stem)
def test_stored_outputs_show_the_figures(path: Path) -> None:
    """The notebooks are committed executed, so GitHub and a reader see the figures."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    assert len(figure_cells(notebook)) >= 3
    check_outputs(notebook, path.name)
    counts = [c.execution_count for c in notebook.cells if c.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1))  # run once, top to bottom


@pytest.mark.parametrize("path", [FIT_NOTEBOOK, CURVE_NOTEBOOK], ids=lambda p: p.stem)
def test_outside_the_repository_says_where_to_run(path: Path, tmp_path: Path) -> None:
    notebook = json.loads(path.read_text())
    first = next(cell for cell in notebook["cells"] if cell["cell_type"] == "code")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        with pytest.raises(FileNotFoundError, match="run from the repository") as caught:
            exec("".join(first["source"]), {"__name__": "__main__"})
    assert str(tmp_path) in str(caught.value)


# ------------------------------------------------------------------ 01: fit and allocate
@pytest.mark.slow
def test_epoch_refit(fit_nb: dict[str, Any]) -> None:
    result = fit_nb["result"]
    assert result.n_points == 240 and result.converged
    # Epoch AI's plain-Huber refit (data/epoch_chinchilla/SOURCE.md); reproduced to 0.02 %
    # by the fitter's own tests, 0.2 % leaves room for solver/BLAS differences.
    for name, value in {"E": 1.8172, "alpha": 0.34731, "beta": 0.36718}.items():
        assert result.params[name] == pytest.approx(value, rel=2e-3), name
    assert result.objective == pytest.approx(0.0010182740, rel=2e-3)
    assert result.options["bootstrap"] == 200
    low, high = result.ci95["E"]
    assert low < result.params["E"] < high and np.isfinite(result.stderr["E"])


@pytest.mark.slow
def test_prediction_and_allocation(fit_nb: dict[str, Any]) -> None:
    interval = fit_nb["result"].predict_interval(n_params=70e9, tokens=1.4e12)
    # laws.md §1.5: Epoch's parameters give L(70B, 1.4T) = 1.9734; the plain-Huber refit
    # differs from them in the 4th digit.
    assert interval["loss"].iloc[0] == pytest.approx(1.9734, abs=1e-3)
    assert interval["lower"].iloc[0] < interval["loss"].iloc[0] < interval["upper"].iloc[0]
    optimal = fit_nb["optimal"]
    assert list(optimal["compute"]) == [1e21, 5.76e23]
    # Closed form at the refit's parameters: measured 21.38 and 17.92 tokens per parameter
    # (laws.md §1.5 quotes ~22 and ~18 for Epoch's headline parameters). 1 %: the parameters
    # are reproduced to 0.2 % and the ratio moves less.
    assert list(optimal["tokens_per_param"]) == pytest.approx([21.38, 17.92], rel=1e-2)
    assert (optimal["n_params_lower"] < optimal["n_params"]).all()
    assert (optimal["n_params"] < optimal["n_params_upper"]).all()
    assert set(optimal["cost_model"]) == {"C = 6 * N * D"}
    # Hoffmann et al.'s unrounded coefficients: N_opt = 40.4B at the Gopher budget (laws.md
    # §1.3, the paper's "40B"); closed form, so 0.5 % is the rounding of 40.4 only.
    assert fit_nb["n_opt"] == pytest.approx(4.04e10, rel=5e-3)


@pytest.mark.slow
def test_fit_figure(fit_nb: dict[str, Any]) -> None:
    ax = fit_nb["ax"]
    # 3 fixed-size curves and the frontier, over the whole compute grid.
    assert len(ax.lines) == 4 and ax.get_xscale() == "log"
    assert len(ax.collections[0].get_offsets()) == 240


@pytest.mark.slow
def test_gadre_backtest(fit_nb: dict[str, Any]) -> None:
    backtest = fit_nb["backtest"]
    summary = backtest.summary.set_index("law")
    assert list(summary.index) == ["chinchilla", "kaplan", "overtraining"]
    assert (summary["n_fit"] == 32).all() and (summary["n_held_out"] == 3).all()
    mean, worst = summary["mean_relative_error"], summary["worst_relative_error"]
    assert np.isfinite(mean).all() and np.isfinite(worst).all()
    # The reported summary is the mean and max of the per-run errors.
    per_law = backtest.errors.groupby("law")["relative_error"]
    np.testing.assert_allclose(mean, per_law.mean().loc[mean.index], rtol=1e-12)
    np.testing.assert_allclose(worst, per_law.max().loc[worst.index], rtol=1e-12)
    # The notebook's text: over-training 0.1-0.3 %, Chinchilla 1-3 %, Kaplan worst.
    # Measured 0.178/0.311 %, 1.83/3.02 %, 8.65/14.2 % (as tests/analysis/test_backtest.py).
    assert per_law.get_group("overtraining").between(0.0009, 0.0035).all()  # 0.097-0.311 %
    assert per_law.get_group("chinchilla").between(0.010, 0.031).all()  # 1.11-3.02 %
    assert worst["chinchilla"] == pytest.approx(0.0302, rel=2e-2)
    assert mean.idxmax() == "kaplan"
    assert any("distinct n_params" in m for m in backtest.warnings["overtraining"])


@pytest.mark.slow
def test_porian_isoflop(fit_nb: dict[str, Any]) -> None:
    iso, authors = fit_nb["iso"], fit_nb["authors"]
    # Issue 3's criterion for each configuration: within 0.015 of the authors' basic
    # exponent (0.4970 here). Measured 0.5033 (method="auto"; 0.4957 with method="local").
    assert iso.params["a"] == pytest.approx(authors["n_exponent"], abs=0.015)
    assert iso.params["a"] == pytest.approx(0.5033, abs=1e-3)
    low, high = iso.ci95["a"]
    assert low < authors["n_exponent"] < high
    # This configuration's 12 budgets all have their minimum inside the sampled sizes.
    assert iso.warnings == () and iso.options["budgets_used"] == 12


# ------------------------------------------------------------- 02: schedules and curves
@pytest.mark.slow
def test_schedule_features(curve_nb: dict[str, Any]) -> None:
    features = curve_nb["features"]
    # Constant 3e-4 after a linear warm-up linspace(0, 3e-4, 2160): S1 = 2160 * 3e-4 / 2 +
    # (24000 - 2160) * 3e-4 = 0.324 + 6.552 (closed form; float round-off only).
    assert features.loc["constant_24000", "S1"] == pytest.approx(6.876, rel=1e-12)
    assert features.loc["constant_24000", "S2"] == pytest.approx(0.0, abs=1e-15)
    cosine = curve_nb["cosine"]
    assert cosine.lr[2159] == pytest.approx(3e-4) and cosine.total == 24000
    assert curve_nb["wsd"].lr[19999] == pytest.approx(3e-4)
    # Geometric decay 3e-4 -> 3e-5 over 4000 steps, stopping one step short of final.
    assert curve_nb["wsd"].lr[-1] == pytest.approx(3e-5 * 10 ** (1 / 4000), rel=1e-9)


@pytest.mark.slow
def test_curve_fits_and_prediction(curve_nb: dict[str, Any]) -> None:
    fits, errors = curve_nb["fits"], curve_nb["errors"]
    for law, fitted in fits.items():
        assert fitted.converged, law
        assert fitted.options["warmup_points_dropped"] == 1, law  # cosine_24000 logs 2160
        assert fitted.n_points == 450, law
    test = curve_nb["test"]
    assert len(test) == 546 and test["step"].min() > 2160
    mean = errors["mean_relative_error"]
    # Published parameters, no fit: only the curve law's quadrature (< 1e-9 of the loss)
    # separates this from the measured 0.002020.
    assert mean["multipower (published)"] == pytest.approx(0.002020, rel=1e-3)
    # Fits by the multi-start solver: measured 0.001187 (lr_annealing) and 0.006348
    # (multipower). 5 % allows solver differences; the three errors differ by 1.7x or more.
    assert mean["lr_annealing"] == pytest.approx(0.001187, rel=5e-2)
    assert mean["multipower"] == pytest.approx(0.006348, rel=5e-2)
    assert mean.idxmin() == "lr_annealing"  # as the notebook's closing text says
    assert (errors["worst_relative_error"] > mean).all()


@pytest.mark.slow
def test_curve_figures(curve_nb: dict[str, Any]) -> None:
    fig = curve_nb["fig"]
    assert isinstance(fig, Figure)
    left, right = fig.axes
    # Measured curve plus three predictions; residuals of the three predictions.
    assert len(left.lines) == 4 and len(right.lines) == 4  # with the zero line
    predicted = curve_nb["predicted"]["lr_annealing"]
    assert isinstance(predicted, pd.DataFrame) and list(predicted) == ["step", "lr", "loss"]


def test_forecast_section(curve_nb: dict[str, Any]) -> None:
    # "forecast 2.7043 in [2.5854, 2.8286] (±4.60%)", "measured 2.7222": the printed digits.
    job, truth = curve_nb["job"], curve_nb["job_truth"]
    assert job.final_loss == pytest.approx(2.7043, abs=5e-5) and truth == 2.7222
    np.testing.assert_allclose(job.interval, (2.5854, 2.8286), atol=5e-5)
    assert job.interval[0] < truth < job.interval[1]  # the measured end inside the interval
    assert job.fit.fixed.keys() == {"alpha", "C"}  # the prior lent the shape
    assert len(curve_nb["job_fig"].axes[0].lines) >= 3  # seen, rest, forecast (+ error bar)


def test_tiny_ladder_notebook_says_what_its_text_says(ladder_nb: dict[str, Any]) -> None:
    # "45 runs", a degenerate fit whose own backtest missed by +22 %, longer runs 7-22 % high
    # yet inside their intervals; a forecast 4.7 % high inside its interval; choose_law 18 %
    # high, covered; a report written outside the repository (rounded as the text quotes).
    assert ladder_nb["runs"]["run"].nunique() == 45
    backtest = ladder_nb["fitted"].options["length_check"]["backtest"]
    assert backtest["error"] == pytest.approx(0.22, abs=0.01)
    longer = ladder_nb["longer"]
    assert len(longer) == 5 and longer["covered"].all()
    assert longer["error"].between(0.07, 0.23).all()
    job, truth = ladder_nb["job"], ladder_nb["job_truth"]
    assert job.final_loss / truth - 1 == pytest.approx(0.047, abs=0.005)
    assert job.interval[0] < truth < job.interval[1]
    best, measured = ladder_nb["pick"].recommended, ladder_nb["truth_row"]["loss"]
    assert best["lower"] < measured < best["upper"]
    assert best["loss"] / measured - 1 == pytest.approx(0.18, abs=0.06)  # "18-23 % high"
    assert ladder_nb["out"].stat().st_size > 0 and ROOT not in ladder_nb["out"].parents
