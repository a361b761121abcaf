"""Tests of scaling_fit.plotting: every figure's labels and units, log axes, one set per group.

The fit figures use a Chinchilla fit to synthetic runs (4 sizes × 4 token counts, 0.3 %
seeded noise so that the bootstrap varies), so the number of point sets and curves is known.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection

import scaling_fit as sf
from scaling_fit.errors import DataError
from scaling_fit.plotting import (
    Figure,
    plot_extrapolation,
    plot_fit,
    plot_frontier,
    plot_loss_curves,
    plot_loss_vs_compute,
    plot_loss_vs_tokens,
    plot_residuals,
    plot_runs,
    plot_schedule_choice,
)
from scaling_fit.plotting.style import size_groups

TRUTH = {"E": 1.7, "A": 400.0, "B": 410.0, "alpha": 0.34, "beta": 0.28}
SIZES = (1e8, 3e8, 1e9, 3e9)
NOISE = 0.003


def synthetic_runs() -> pd.DataFrame:
    noise = np.random.default_rng(0).normal(0.0, NOISE, 16)
    rows = []
    for n in SIZES:
        for ratio in (5, 10, 20, 40):
            d = ratio * n
            loss = TRUTH["E"] + TRUTH["A"] / n ** TRUTH["alpha"] + TRUTH["B"] / d ** TRUTH["beta"]
            loss *= 1 + noise[len(rows)]
            rows.append({"run": f"n{n:g}_d{d:g}", "n_params": n, "tokens": d, "loss": loss})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def result() -> sf.FitResult:
    return sf.fit(synthetic_runs(), "chinchilla", bootstrap=10, seed=0)


def scatter_sets(ax) -> list[PathCollection]:
    return [c for c in ax.collections if isinstance(c, PathCollection)]


def test_figure_shows_itself_in_jupyter(result: sf.FitResult) -> None:
    fig = result.plot()
    assert isinstance(fig, Figure) and fig.canvas.manager is None  # no pyplot
    png = fig._repr_png_()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000


def test_loss_vs_compute(result: sf.FitResult) -> None:
    (ax,) = plot_loss_vs_compute(result).axes
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == "training compute C = 6ND (FLOPs)"
    assert ax.get_ylabel() == "loss (nats/token)"
    assert len(scatter_sets(ax)) == len(SIZES)  # one point set per model size
    # One fitted curve per size plus the compute-optimal frontier.
    assert len(ax.lines) == len(SIZES) + 1
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:4] == ["N = 100M", "N = 300M", "N = 1B", "N = 3B"]
    note = " ".join(t.get_text() for t in ax.texts)
    # The law and its fitted parameters, to 4 significant figures.
    assert "chinchilla: L = E + A/N^alpha" in note
    assert f"alpha = {result.params['alpha']:.4g}" in note


def test_loss_vs_tokens_and_default_kind(result: sf.FitResult) -> None:
    (ax,) = plot_loss_vs_tokens(result).axes
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "training tokens D"
    assert ax.get_ylabel() == "loss (nats/token)"
    assert len(scatter_sets(ax)) == len(SIZES) and len(ax.lines) == len(SIZES)
    # The curve of the smallest size is the fitted law at N = 1e8 (float round-off only).
    line = ax.lines[0]
    x, y = line.get_xdata(), line.get_ydata()
    expected = result.predict(n_params=1e8, tokens=x)
    np.testing.assert_allclose(y, expected, rtol=1e-12)
    assert result.plot().axes[0].get_xlabel() == plot_fit(result, "compute").axes[0].get_xlabel()


def test_residuals(result: sf.FitResult) -> None:
    (ax,) = plot_residuals(result).axes
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "parameters N"
    assert "residual" in ax.get_ylabel() and "%" in ax.get_ylabel()
    assert len(scatter_sets(ax)) == len(SIZES)
    offsets = np.concatenate([c.get_offsets()[:, 1] for c in scatter_sets(ax)])
    # In %: the residuals are the fit's (log L̂ − log L), times 100.
    np.testing.assert_allclose(np.sort(offsets), np.sort(100 * result.residuals), rtol=1e-12)


def test_extrapolation_band_and_target(result: sf.FitResult) -> None:
    (ax,) = plot_extrapolation(result, 7e10, 1.4e12).axes
    assert ax.get_xscale() == "log" and ax.get_ylabel() == "loss (nats/token)"
    assert len(ax.collections) >= 2  # the fitted runs and the bootstrap band
    star = ax.lines[-1]
    expected = float(result.predict(n_params=7e10, tokens=1.4e12, max_extrapolation=np.inf))
    assert star.get_xdata()[0] == pytest.approx(6 * 7e10 * 1.4e12, rel=1e-12)
    assert star.get_ydata()[0] == pytest.approx(expected, rel=1e-12)
    assert f"{expected:.4f}" in star.get_label()


def test_frontier_two_panels_with_intervals(result: sf.FitResult) -> None:
    fig = plot_frontier(result, compute=np.geomspace(1e19, 1e23, 10))
    left, right = fig.axes  # N_opt above D_opt, sharing the compute axis (7 in wide)
    assert fig.get_figwidth() <= 7.5 and "FLOPs" in right.get_xlabel()
    for ax, unit in ((left, "parameters N"), (right, "training tokens D")):
        assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
        assert unit in ax.get_ylabel()
    table = result.compute_optimal(np.geomspace(1e19, 1e23, 10), max_extrapolation=np.inf)
    np.testing.assert_allclose(left.lines[0].get_ydata(), table["n_params"], rtol=1e-12)
    np.testing.assert_allclose(right.lines[0].get_ydata(), table["tokens"], rtol=1e-12)
    assert "95% bootstrap interval" in [t.get_text() for t in left.get_legend().get_texts()]


def test_size_groups_bin_many_sizes() -> None:
    n = pd.Series(np.geomspace(1e7, 1e10, 40))
    index, labels, centres = size_groups(n)
    assert len(labels) == 7 and index.max() == 6 and len(centres) == 7
    assert np.all(np.diff(centres) > 0)


def test_point_plots_refuse_curve_laws() -> None:
    curve = sf.FitResult.from_params("multipower")
    with pytest.raises(DataError, match="needs a law of n_params and tokens"):
        plot_loss_vs_compute(curve)
    with pytest.raises(DataError, match="not a fit plot"):
        plot_fit(sf.FitResult.from_params("chinchilla"), "bars")


def test_runs_figure() -> None:
    (ax, bar) = plot_runs(synthetic_runs()).axes
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlabel() == "parameters N" and ax.get_ylabel() == "training tokens D"
    assert bar.get_ylabel() == "loss (nats/token)"
    assert len(scatter_sets(ax)[0].get_offsets()) == 16


def test_loss_curves_of_published_law() -> None:
    law = sf.FitResult.from_params("multipower")
    specs = {
        "cosine": "cosine:peak=3e-4,total=4000,warmup=200,final=3e-5",
        "constant": "constant:peak=3e-4,total=4000,warmup=200",
    }
    fig = plot_loss_curves(law, specs, every=200)
    top, bottom = fig.axes
    assert top.get_ylabel() == "loss (nats/token)" and bottom.get_ylabel() == "learning rate"
    assert bottom.get_xlabel() == "step"
    assert [line.get_label() for line in top.lines] == [
        "cosine (predicted)",
        "constant (predicted)",
    ]
    assert len(bottom.lines) == 2  # one LR per schedule, beneath
    np.testing.assert_allclose(bottom.lines[1].get_ydata()[-1], 3e-4, rtol=1e-12)
    assert law.plot().axes[0].get_ylabel() == "loss (nats/token)"  # default kind: curves


def test_schedule_choice_figure() -> None:
    law = sf.FitResult.from_params("multipower")
    choice = sf.best_schedule(
        law, 4000, "wsd", peak=3e-4, warmup=200, grid={"shape": ["linear"], "final": [0.1]}
    )
    top, bottom = choice.plot().axes
    assert len(top.lines) == 2 and len(bottom.lines) == 2  # baseline and chosen
    assert top.lines[1].get_ydata()[-1] == pytest.approx(choice.final_loss, rel=1e-12)
    assert "learning rate" == bottom.get_ylabel() and bottom.get_xlabel() == "step"
    assert plot_schedule_choice(choice).axes[0].get_title().startswith("Better schedule")


def test_backtest_errors_of_many_runs_are_placed_at_their_scale() -> None:
    from scaling_fit.analysis.backtest import BacktestResult

    n = np.geomspace(1e9, 1e10, 15)
    errors = pd.concat(
        pd.DataFrame(
            {
                "law": law,
                "run": [f"r{i}" for i in range(15)],
                "n_params": n,
                "relative_error": np.full(15, e),
            }
        )
        for law, e in (("chinchilla", 0.01), ("kaplan", 0.02))
    )
    stability = pd.DataFrame(
        {"law": ["chinchilla"] * 3, "largest_fitted": [1.5e9, 1.6e9, 1.8e9], "predicted": 2.0}
    )
    result = BacktestResult(
        errors, pd.DataFrame(), stability, {}, "n>=1e9", "n_params", {"run": "r14"}, {}
    )
    (ax,) = result.plot(kind="errors").axes
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "held-out run's n_params"
    assert [len(line.get_xdata()) for line in ax.lines] == [15, 15]  # one set per law
    assert "(%)" in ax.get_ylabel()
    (ax,) = result.plot().axes  # a sweep within a decade: log axis, plain tick labels
    assert ax.get_xscale() == "log" and ax.xaxis.get_major_formatter()(1.5e9, 0) == "1.5e+09"


def test_loss_curves_title_names_what_is_drawn_and_the_band_is_in_the_legend() -> None:
    import dataclasses

    law = sf.FitResult.from_params("multipower")
    spread = 1 + 0.01 * np.random.default_rng(0).standard_normal((20, len(law.params)))
    banded = dataclasses.replace(law, samples=np.array(list(law.params.values())) * spread)
    specs = {"cosine": "cosine:peak=3e-4,total=4000,warmup=200,final=3e-5"}
    top = plot_loss_curves(banded, specs, every=400).axes[0]
    labels = [t.get_text() for t in top.get_legend().get_texts()]
    assert labels == ["cosine (predicted)", "95% bootstrap band"]  # one entry for the bands
    assert "dashed predicted" in top.get_title() and "solid fitted" not in top.get_title()
    empty = plot_loss_curves(law, every=400).axes[0]  # nothing fitted, nothing predicted
    assert empty.get_title() == "Loss curves"
