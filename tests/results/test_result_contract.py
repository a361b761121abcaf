"""Every result class has the same surface: JSON round trip (own reader and
``sf.read_result``), text and HTML from the same sections, ``plot()`` returning a Figure,
``to_json`` refusing an existing file, and one registry holding every class."""

from __future__ import annotations

import inspect
import re
import warnings
from collections.abc import Callable
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

import scaling_fit as sf
from scaling_fit.results import base
from scaling_fit.results.base import REGISTRY, Result

matplotlib.use("Agg")
DATA = Path(__file__).resolve().parents[2] / "data"
EPOCH = DATA / "epoch_chinchilla" / "svg_extracted_data.csv"
PORIAN = DATA / "porian_isoflop" / "isoflop_points.csv"
ZHANG = DATA / "zhang_cbs" / "chinchilla_steps_to_target.csv"
OVERTRAINING = {"E": 1.836648, "A": 166.211, "B": 366.687, "eta": 0.272851}
ANNEALING = {"L0": 2.5, "A": 0.6, "alpha": 0.5, "C": 0.4}
COSINE = "cosine:peak=3e-4,total=12000,warmup=500,final=3e-5"


def _quiet(make: Callable[[], Result]) -> Callable[[], Result]:
    def build() -> Result:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return make()

    return build


def _epoch_fit() -> sf.FitResult:
    runs = sf.load_runs(EPOCH)
    return sf.fit(runs, "chinchilla", exclude=sf.highest_loss_mask(runs, 5), bootstrap=20)


def _grid() -> pd.DataFrame:
    """15 over-training-law runs: 5 sizes x 3 token multipliers (exact losses)."""
    n, m = (np.ravel(a) for a in np.meshgrid((1e7, 3e7, 1e8, 3e8, 1e9), (5, 20, 80)))
    loss = sf.get_law("overtraining").predict(n, m * n, **OVERTRAINING)
    names = [f"n{a:.0e}-m{b:g}" for a, b in zip(n, m, strict=True)]
    return pd.DataFrame({"run": names, "n_params": n, "tokens": m * n, "loss": loss})


def _bowl() -> pd.DataFrame:
    """Noise-free hyperparameter sweep: loss quadratic in (log lr, log batch)."""
    rows = []
    for n in (1e8, 3e8, 1e9):
        for d in (2e9, 2e10, 2e11):
            lr_opt, b_opt = 0.3 * n**-0.25 * d**0.1, 0.5 * d**0.5
            for x in np.linspace(-2, 2, 9):
                for y in np.linspace(-1.5, 1.5, 7):
                    loss = 2.5 * (1 + 0.01 * (x + 0.1) ** 2 + 0.006 * (y - 0.05) ** 2)
                    rows.append((n, d, lr_opt * np.exp(x), b_opt * np.exp(y), loss))
    return pd.DataFrame(rows, columns=["n_params", "tokens", "lr", "batch_size", "loss"])


def _seen_log() -> pd.DataFrame:
    steps = np.arange(600, 9001, 50)
    truth = sf.FitResult.from_params("lr_annealing", ANNEALING)
    clean = truth.predict_curve(COSINE, steps)["loss"].to_numpy()
    noise = np.exp(np.random.default_rng(0).normal(0.0, 2e-3, len(steps)))
    return pd.DataFrame({"run": "job", "step": steps, "loss": clean * noise})


def _porian(configurations: int = 1) -> pd.DataFrame:
    """The isoFLOP points of one configuration of Porian et al. per dataset (1 or 2)."""
    points = pd.read_csv(PORIAN).rename(
        columns={"flops": "compute", "n": "n_params", "t": "tokens"}
    )
    for column in ("hparams", "warmup", "decay", "param_count", "val"):
        points = points[points[column] == points[column].iloc[0]]
    points = points[points["dataset"].isin(points["dataset"].unique()[:configurations])]
    return points[["dataset", "compute", "n_params", "tokens", "loss"]]


def _isoflop_groups() -> sf.IsoflopGroupsResult:
    return sf.isoflop_groups(_porian(2), "dataset", bootstrap=20)


def _schedule_choice() -> sf.ScheduleChoiceResult:
    fit = sf.FitResult.from_params("lr_annealing", ANNEALING)
    grid = {"decay": [0.1, 0.2], "shape": ["linear"], "final": [0.1]}
    return sf.best_schedule(fit, 6000, "wsd", peak=3e-4, warmup=500, grid=grid, every=500)


def _report_summary() -> sf.ReportSummaryResult:
    import tempfile

    page = Path(tempfile.mkdtemp()) / "report.html"
    return sf.write_report(EPOCH, "chinchilla", page, bootstrap=10).summary()


# class name -> a function building a small instance of it
BUILDERS: dict[str, Callable[[], Result]] = {
    "FitResult": _epoch_fit,
    "IsoflopResult": lambda: sf.isoflop(_porian(), bootstrap=20),
    "IsoflopGroupsResult": _isoflop_groups,
    "BacktestResult": lambda: sf.backtest(_grid(), ["chinchilla"], max_dropped=1),
    "ChooseLawResult": lambda: sf.choose_law(
        _grid(),
        ["overtraining", "chinchilla"],
        target={"n_params": 3e9, "tokens": 6e10},
        bootstrap=10,
    ),
    "HparamsResult": lambda: sf.fit_hparams(_bowl(), band=0.5, bootstrap=20),
    "CriticalBatchResult": lambda: sf.fit_critical_batch(ZHANG),
    "ScheduleChoiceResult": _schedule_choice,
    "ForecastResult": lambda: sf.forecast(_seen_log(), COSINE, n_boot=4),
    "PredictionsResult": lambda: sf.PredictionsResult(
        sf.FitResult.from_params("lr_annealing", ANNEALING).predict_curve(COSINE, every=500)
    ),
    "ReportSummaryResult": _report_summary,
    "PlanResult": lambda: sf.PlanResult(sf.plan(n_params=7e9, tokens=1.4e12)),
    "SuggestionResult": lambda: sf.SuggestionResult(
        sf.suggest_runs(_epoch_fit(), target={"compute": 5.76e23}, budget=1e21)
    ),
}
PLOTS = {  # classes with a figure: the kind of it to draw
    "FitResult": None,
    "IsoflopResult": "profiles",
    "IsoflopGroupsResult": "frontier",
    "BacktestResult": "stability",
    "ScheduleChoiceResult": "curves",
    "ForecastResult": "curve",
}
SLOW = {"ReportSummaryResult"}  # ~2.5 s: a whole report; the others take ~3 s together
CASES = [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in BUILDERS]
_BUILT: dict[str, Result] = {}


def built(name: str) -> Result:
    if name not in _BUILT:
        _BUILT[name] = _quiet(BUILDERS[name])()
    return _BUILT[name]


def test_the_registry_holds_every_result_class_and_each_has_a_builder() -> None:
    base._load_all()
    classes = {cls.__name__ for cls in REGISTRY.values()}
    defined = {
        cls.__name__
        for module in list(__import__("sys").modules.values())
        if getattr(module, "__name__", "").startswith("scaling_fit.")
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, Result) and cls is not Result
    }
    assert defined <= classes, f"result classes without a FORMAT: {defined - classes}"
    assert classes == set(BUILDERS), "a result class without a builder in this test"
    assert all(re.fullmatch(r"scaling_fit\.\w+/\d+", tag) for tag in REGISTRY)
    public = {name for name in sf.__all__ if name.endswith("Result") and name != "Result"}
    assert public == classes


@pytest.mark.parametrize("name", CASES)
def test_json_round_trip(name: str, tmp_path: Path) -> None:
    result = built(name)
    assert type(result).__name__ == name
    data = result.to_dict()
    assert data["format"] == type(result).FORMAT
    path = tmp_path / "result.json"
    text = result.to_json(path)
    assert path.read_text(encoding="utf-8") == text + "\n"
    again = type(result).from_json(path)
    assert again.to_json() == text
    generic = sf.read_result(path)
    assert type(generic) is type(result) and generic.to_json() == text
    assert sf.read_result(text).to_json() == text  # JSON text, not only files


@pytest.mark.parametrize("name", CASES)
def test_to_json_refuses_an_existing_file(name: str, tmp_path: Path) -> None:
    result = built(name)
    path = tmp_path / "result.json"
    path.write_text("keep me")
    with pytest.raises(sf.OutputExistsError, match="overwrite=True"):
        result.to_json(path)
    assert path.read_text() == "keep me"
    result.to_json(path, overwrite=True)
    assert sf.read_result(path).to_dict() == sf.read_result(result.to_json()).to_dict()


@pytest.mark.parametrize("name", CASES)
def test_text_and_html_hold_the_same_sections(name: str) -> None:
    import html

    result = built(name)
    sections = result.sections()
    assert sections, "no section"
    text, page = result.report(), result._repr_html_()
    lines = text.splitlines()
    for section in sections:
        assert section.title in lines, f"{section.title!r} not a line of the report"
        assert f"<h4>{html.escape(section.title)}</h4>" in page


@pytest.mark.parametrize("name", [name for name in BUILDERS if name in PLOTS])
def test_plot_returns_a_figure(name: str) -> None:
    from matplotlib.figure import Figure

    result = built(name)
    kind = PLOTS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        figure = result.plot() if kind is None else result.plot(kind=kind)
    assert isinstance(figure, Figure)


def test_read_result_names_an_unknown_tag(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"format": "scaling_fit.Nothing/1"}')
    with pytest.raises(sf.DataError, match=r"x\.json.*'scaling_fit\.Nothing/1'.*FitResult/1"):
        sf.read_result(path)


def test_old_names_warn_and_still_work() -> None:
    import scaling_fit.analysis.forecast as forecast_module
    import scaling_fit.results.schedule_choice as choice_module

    with pytest.warns(DeprecationWarning, match="ForecastResult"):
        assert forecast_module.Forecast is sf.ForecastResult
    with pytest.warns(DeprecationWarning, match="ScheduleChoiceResult"):
        assert choice_module.ScheduleChoice is sf.ScheduleChoiceResult


def test_files_of_the_previous_version_still_read(tmp_path: Path) -> None:
    # `scaling-fit forecast` wrote its JSON without a format tag (and without level/prior);
    # `scaling-fit best-schedule` wrote no improvement_interval, law and family first.
    forecast = built("ForecastResult")
    old = {k: v for k, v in forecast.to_dict().items() if k not in ("format", "level", "prior")}
    path = tmp_path / "forecast.json"
    path.write_text(__import__("json").dumps(old))
    again = sf.ForecastResult.from_json(path)
    assert again.final_loss == forecast.final_loss and again.interval == forecast.interval
    assert again.curve.equals(forecast.curve) and again.fit.params == forecast.fit.params
    choice = built("ScheduleChoiceResult")
    old = {k: v for k, v in choice.to_dict().items() if k != "improvement_interval"}
    again = sf.read_result(__import__("json").dumps(old))
    assert isinstance(again, sf.ScheduleChoiceResult) and again.improvement_interval is None
    assert again.schedule.spec == choice.schedule.spec
    np.testing.assert_array_equal(again.baseline.lr, choice.baseline.lr)
