"""Tests of the HTML report: one self-contained file with every section, numbers that match
the fits, figures embedded, and a page that a real browser loads without errors or requests.

The browser test drives Debian's ``chromium`` through its ``chromedriver`` with selenium
(both from the system's package manager, so nothing is downloaded at test time); in CI
(``CI=true``) a missing browser fails the test instead of skipping it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scaling_fit as sf
from scaling_fit.cli.main import main
from scaling_fit.plotting.figure import NARROWEST_SHOWN_PX, PNG_DPI, smallest_text, text_px
from scaling_fit.plotting.style import human
from scaling_fit.report.bands import degenerate

EPOCH = Path(__file__).resolve().parents[2] / "data" / "epoch_chinchilla" / "svg_extracted_data.csv"
SECTIONS = ("summary", "data", "law-chinchilla", "law-kaplan", "backtest", "provenance")
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def small_runs(path: Path) -> Path:
    """4 sizes × 4 token counts from Chinchilla-like parameters, 0.3 % seeded noise, as CSV."""
    noise = np.random.default_rng(1).normal(0.0, 0.003, 16)
    rows = []
    for n in (1e8, 3e8, 1e9, 3e9):
        for ratio in (5, 10, 20, 40):
            d = ratio * n
            loss = (1.7 + 400 / n**0.34 + 410 / d**0.28) * (1 + noise[len(rows)])
            rows.append({"run": f"n{n:g}_d{d:g}", "n_params": n, "tokens": d, "loss": loss})
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> sf.Report:
    folder = tmp_path_factory.mktemp("small")
    runs = small_runs(folder / "runs.csv")
    return sf.write_report(
        runs, ["chinchilla", "kaplan"], folder / "report.html", holdout="largest-n", bootstrap=10
    )


@pytest.fixture(scope="module")
def epoch(tmp_path_factory: pytest.TempPathFactory) -> sf.Report:
    path = tmp_path_factory.mktemp("epoch") / "report.html"
    return sf.write_report(EPOCH, ["chinchilla", "kaplan"], path, holdout="n>=2e9", bootstrap=20)


def check_self_contained(report: sf.Report) -> str:
    """The report is one file whose every image is an embedded PNG; return its text."""
    folder = report.path.parent
    assert sorted(p.name for p in folder.iterdir() if p.suffix == ".html") == ["report.html"]
    text = report.path.read_text(encoding="utf-8")
    sources = re.findall(r'<img[^>]*\ssrc="([^"]*)"', text)
    assert len(sources) == len(report.figures) >= 8
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    # Nothing is fetched: no external URL or file reference anywhere in an attribute.
    assert not re.search(r'(?:src|href)="(?!data:|#)', text)
    assert "<script" not in text and "@import" not in text and "url(" not in text
    for section in SECTIONS:
        assert f'<section id="{section}">' in text, section
    return text


def check_summary_numbers(report: sf.Report, text: str) -> None:
    """The summary's numbers are the best fit's own, to the digits shown."""
    best = report.fits[report.best_law]
    head = report.headline
    optimum = best.compute_optimal(head["compute"], max_extrapolation=np.inf).iloc[0]
    band = best.predict_interval(n_params=optimum["n_params"], tokens=optimum["tokens"]).iloc[0]
    assert head["n_params"] == optimum["n_params"] and head["loss"] == optimum["loss"]
    assert (head["loss_lower"], head["loss_upper"]) == (band["lower"], band["upper"])
    summary = text.split('<section id="data">')[0]
    assert f">{report.best_law}<" in summary
    assert f"{optimum['loss']:.4f}" in summary
    assert f"[{band['lower']:.4g}, {band['upper']:.4g}]" in summary
    assert f"N = {human(optimum['n_params'])}" in summary  # 57.2B, not 5.72e+10
    assert not re.search(r"[ND] = [0-9.]+e\+", summary)
    errors = report.backtest.summary.set_index("law")["mean_relative_error"]
    assert report.best_law == errors.idxmin()
    assert f"{100 * errors.min():.2f} %" in summary
    for name, value in best.params.items():  # the best law's table shows its parameters
        assert f"<td>{name}</td><td>{value:.6g}</td>" in text


@pytest.mark.slow
def test_small_report_is_self_contained_and_matches_the_fits(small: sf.Report) -> None:
    text = check_self_contained(small)
    check_summary_numbers(small, text)
    assert small.backtest is not None and small.backtest.holdout.startswith("largest-n")
    assert set(small.fits) == {"chinchilla", "kaplan"}
    # Provenance: version, the input's SHA-256, the command that reproduces it.
    (source, digest) = next(iter(small.inputs.items()))
    import hashlib

    assert digest == hashlib.sha256(Path(source).read_bytes()).hexdigest() and digest in text
    assert f"scaling_fit {sf.__version__}" in text
    assert small.command.startswith("scaling-fit report ") and "--law kaplan" in small.command
    assert "--holdout largest-n" in small.command


@pytest.mark.slow
def test_report_refuses_to_overwrite(small: sf.Report) -> None:
    with pytest.raises(FileExistsError, match="exists; pass overwrite=True"):
        sf.write_report(small.path.parent / "runs.csv", "chinchilla", small.path)


@pytest.mark.slow
def test_epoch_report_two_laws_and_a_holdout(epoch: sf.Report) -> None:
    text = check_self_contained(epoch)
    check_summary_numbers(epoch, text)
    assert epoch.fits["chinchilla"].n_points == 245
    # Epoch's runs are not isoFLOP profiles: no section, and no note pasting an API error.
    assert "isoflop" not in text.lower()
    assert "--budget-rtol" not in text and "keep_flagged" not in text


@pytest.mark.slow
def test_cli_report_writes_figures(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    runs = small_runs(tmp_path / "runs.csv")
    out, figures = tmp_path / "r.html", tmp_path / "figs"
    argv = ["report", str(runs), "--law", "chinchilla", "--bootstrap", "10", "-o", str(out)]
    assert main([*argv, "--figures", str(figures), "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    out.unlink()
    assert main([*argv, "--figures", str(figures)]) == 0
    err = capsys.readouterr().err
    assert f"report written to {out}" in err and "law: chinchilla (the only law fitted)" in err
    assert "best law" not in err  # one law, no backtest: nothing ranked it
    names = sorted(p.name for p in figures.iterdir())
    assert "chinchilla-compute.png" in names and "chinchilla-compute.svg" in names
    assert len(names) == 2 * len(re.findall("<img ", out.read_text()))
    assert (figures / "data.png").read_bytes().startswith(b"\x89PNG")
    assert main(argv) == 2  # never overwrite silently
    assert "exists; pass --force" in capsys.readouterr().err


@pytest.mark.slow  # two whole reports, ~1.2 s
def test_cli_report_reads_runs_as_fit_does(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    # --where and --nan-policy mean what they mean in fit, and the command that reproduces
    # the report keeps them.
    runs = small_runs(tmp_path / "runs.csv")
    out = tmp_path / "r.html"
    where = "n_params >= 3e8"
    argv = ["report", str(runs), "--law", "chinchilla", "--bootstrap", "10", "-o", str(out)]
    assert main([*argv, "--where", where, "--nan-policy", "omit", "--quiet"]) == 0
    text = out.read_text(encoding="utf-8")
    assert "--where &#x27;n_params &gt;= 3e8&#x27; --nan-policy omit" in text
    points = re.search(r"<td>points</td><td>(\d+)</td>", text)
    assert points is not None and points.group(1) == "12"  # 3 of the 4 sizes, 4 runs each


def test_cli_report_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    runs = str(tmp_path / "runs.csv")  # refused before the runs are read
    assert main(["report", runs, "--law", "chinchilla"]) == 2
    assert capsys.readouterr().err == (
        "scaling-fit: error: report needs -o FILE.html (an HTML page is not written to stdout)\n"
    )
    assert main(["report", runs, "--law", "kaplan", "--law", "kaplan", "-o", "r.html"]) == 2
    assert "--law repeats a law" in capsys.readouterr().err


def test_page_pieces_are_self_contained() -> None:
    from scaling_fit.report import html

    png = b"\x89PNG\r\n\x1a\n fake"
    text = html.page(
        "T <1>",
        "sub",
        [("a", "A & B", html.image(png, 'alt "x"', "cap")), ("b", "B", html.table(["h"], [["<"]]))],
    )
    assert text.startswith("<!DOCTYPE html>") and "<title>T &lt;1&gt;</title>" in text
    assert 'src="data:image/png;base64,iVBORw0KGgogZmFrZQ=="' in text
    assert 'alt="alt &quot;x&quot;"' in text and "<td>&lt;</td>" in text
    assert '<section id="a"><h2>A &amp; B</h2>' in text and '<a href="#b">B</a>' in text
    assert not re.search(r'(?:src|href)="(?!data:|#)', text) and "<script" not in text
    assert html.interval((1.23456, float("nan"))) == "[1.235, —]"
    assert html.interval(None) == "—" and html.fmt(float("nan")) == html.fmt(None) == "—"


# ----------------------------------------------------------------------- in a browser
def browser_check(report: sf.Report, tmp_path: Path) -> None:
    """Load the report in headless Chromium at 800 and 1280 px: no console error, no request,
    images drawn, no horizontal scrolling, figures never enlarged and their smallest text at
    least 10 CSS px as shown."""
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        message = f"{CHROMIUM} and {CHROMEDRIVER} are needed (apt-get install chromium-driver)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; .ci/run installs them")
        pytest.skip(message)
    for width in (800, 1280):
        images, console, events, widths = load_in_chromium(report.path, tmp_path, width)
        assert [e for e in console if e["level"] == "SEVERE"] == []
        page = report.path.as_uri()
        requests = [  # what the page asked for (the browser's own start-up pages are not its)
            e["params"]["request"]["url"]
            for e in events
            if e["method"] == "Network.requestWillBeSent" and e["params"].get("documentURL") == page
        ]
        assert page in requests  # the log does see the page's requests
        assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
        scroll, client = widths
        assert scroll <= client, f"horizontal scrolling at {width} px: {scroll} > {client}"
        assert len(images) == len(report.figures) >= 1
        for (complete, natural, shown, height), fig in zip(
            images, report.figures.values(), strict=True
        ):
            assert complete and natural > 0 and shown > 0 and height > 0
            assert shown <= natural + 0.5  # never enlarged (blurred, and text no bigger)
            assert text_px(fig, smallest_text(fig), shown) >= 10.0, (width, fig)


def load_in_chromium(path: Path, tmp_path: Path, width: int) -> tuple:
    """Images as [complete, natural width, shown width (no border), shown height], console
    and network logs, and (document scroll width, viewport width) of ``path`` in a
    ``width``-px window."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--window-size={width},900", f"--user-data-dir={tmp_path / f'profile{width}'}",
        "--hide-scrollbars", "--force-device-scale-factor=1",
    ):  # fmt: skip
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.get(path.as_uri())
        images = driver.execute_script(
            "return Array.from(document.images).map(i => {const r = i.getBoundingClientRect();"
            " return [i.complete, i.naturalWidth, i.width, r.height];});"
        )
        widths = driver.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth];"
        )
        console = driver.get_log("browser")
        events = [json.loads(e["message"])["message"] for e in driver.get_log("performance")]
    finally:
        driver.quit()
    return images, console, events, widths


@pytest.mark.slow
def test_small_report_in_chromium(small: sf.Report, tmp_path: Path) -> None:
    browser_check(small, tmp_path)


@pytest.mark.slow
def test_epoch_report_in_chromium(epoch: sf.Report, tmp_path: Path) -> None:
    browser_check(epoch, tmp_path)


@pytest.mark.slow
def test_curve_law_report_has_loss_curves_and_a_better_schedule(tmp_path: Path) -> None:
    folder = EPOCH.parents[1] / "multipower_law" / "csv_400"
    specs = {
        "cosine_24000": "cosine:peak=3e-4,total=24000,warmup=2160,final=3e-5",
        "constant_24000": "constant:peak=3e-4,total=24000,warmup=2160",
        "wsdcon_9": "multistage:peak=3e-4,total=16000,warmup=2160,stages=8000@9e-5",
    }
    runs = [folder / f"{name}.csv" for name in specs]
    report = sf.write_report(
        runs, "multipower", tmp_path / "report.html", schedule=specs, bootstrap=0
    )
    text = report.path.read_text(encoding="utf-8")
    for section in ("summary", "data", "law-multipower", "schedule", "provenance"):
        assert f'<section id="{section}">' in text, section
    assert list(report.figures) == ["multipower-curves", "schedule-choice"]
    choice = report.schedule_choice
    assert report.headline == {
        "final_loss": choice.final_loss,
        "baseline_loss": choice.baseline_loss,
    }
    assert f"{choice.final_loss:.4f}" in text.split('<section id="data">')[0]
    assert choice.final_loss < choice.baseline_loss
    assert "--schedules SCHEDULES.json" in report.command and "wsdcon_9" in text


@pytest.mark.slow
def test_isoflop_section_when_the_runs_are_isoflop_profiles(tmp_path: Path) -> None:
    points = pd.read_csv(EPOCH.parents[1] / "porian_isoflop" / "isoflop_points.csv")
    config = {"dataset": "rw", "hparams": "tuned", "warmup": "short", "decay": "const",
              "param_count": "standard", "val": "val"}  # fmt: skip
    one = points.loc[(points[list(config)] == pd.Series(config)).all(axis=1)]
    runs = one.rename(columns={"flops": "compute", "n": "n_params", "t": "tokens"})
    runs = runs[["compute", "n_params", "tokens", "loss"]].reset_index(drop=True)
    report = sf.write_report(runs, "chinchilla", tmp_path / "report.html", bootstrap=10)
    text = report.path.read_text(encoding="utf-8")
    assert '<section id="isoflop">' in text and report.isoflop is not None
    # The notebook's number for this configuration (isoflop is deterministic; 4 decimals).
    assert report.isoflop.params["a"] == pytest.approx(0.5033, abs=5e-5)
    assert f"<td>a</td><td>{report.isoflop.params['a']:.4g}</td>" in text
    assert "isoflop-profiles" in report.figures and "isoflop-frontier" in report.figures
    assert report.inputs == {} and "no command line reproduces" in report.command


# ------------------------------------------------------------ figures that read as shown
def clipped_texts(fig: object) -> list[str]:
    """Texts of ``fig`` drawn partly outside the figure (a clipped title or note)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    canvas = FigureCanvasAgg(fig)  # lay it out as embedded (constrained layout)
    canvas.draw()
    renderer = canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    ticks = {  # tick labels beyond the axis limits exist but are not drawn
        id(label)
        for ax in fig.axes
        for axis in (ax.xaxis, ax.yaxis)
        for tick in axis.get_major_ticks() + axis.get_minor_ticks()
        for label in (tick.label1, tick.label2)
    }
    out = []
    for text in fig.findobj(Text):
        if id(text) in ticks or not (text.get_visible() and text.get_text().strip()):
            continue
        box = text.get_window_extent(renderer)
        if box.x0 < -1 or box.y0 < -1 or box.x1 > width + 1 or box.y1 > height + 1:
            out.append(text.get_text()[:60])
    return out


def check_figures_readable(report: sf.Report) -> None:
    """Every figure's smallest text reads >= 10 CSS px at the width an 800-px window gives it
    (or its own width), and no text runs off the figure."""
    for name, fig in report.figures.items():
        shown = min(NARROWEST_SHOWN_PX, fig.get_figwidth() * PNG_DPI)
        assert text_px(fig, smallest_text(fig), shown) >= 10.0, name
        assert clipped_texts(fig) == [], name


@pytest.mark.slow
def test_epoch_report_figures_read_at_10_px_and_nothing_is_clipped(epoch: sf.Report) -> None:
    check_figures_readable(epoch)
    frontier = epoch.figures["kaplan-frontier"]
    assert frontier.get_figwidth() <= 7.5  # stacked panels, not 10 in squeezed to a column


@pytest.fixture(scope="module")
def curves(tmp_path_factory: pytest.TempPathFactory) -> sf.Report:
    """Two curve laws on a W&B history export whose LR comes from its own sparse lr column."""
    path = tmp_path_factory.mktemp("curves") / "report.html"
    log = EPOCH.parents[1] / "examples" / "wandb_history.csv"
    return sf.write_report(
        log, ["multipower", "lr_annealing"], path, warmup=500, bootstrap=10, seed=1
    )  # its warnings (sparse lr column, few curves, ...) are collected in report.warnings


@pytest.mark.slow
def test_curve_report_says_what_it_knows(curves: sf.Report) -> None:
    text = curves.path.read_text(encoding="utf-8")
    summary = text.split('<section id="data">')[0]
    # Curve laws are not backtested: the summary's law is not called the best.
    assert not curves.ranked and "Best law" not in summary and ">best" not in text
    assert "not ranked: curve laws are not backtested" in summary
    # The schedule search works around an LR read from the log instead of asking the user
    # to fix a spec they never wrote.
    assert not [n for n in curves.notes if "schedule spec" in n or "Fix: write" in n]
    assert curves.schedule_choice is not None
    assert curves.schedule_choice.schedule.total == 8001  # the longest logged run's length
    # converged: never a bare "yes" beside the fit's own degenerate-fit verdict.
    for name, result in curves.fits.items():
        section = text.split(f'<section id="law-{name}">')[1].split("</section>")[0]
        bare_yes = "<td>converged</td><td>yes</td>" in section
        assert bare_yes == (result.converged and not degenerate(result)), name
    check_figures_readable(curves)


@pytest.mark.slow
def test_curve_report_draws_no_lopsided_band_and_keeps_the_axis_on_the_data(
    curves: sf.Report,
) -> None:
    # Three curves (fewer than 5): a resample leaving a run out predicts it rather than fits
    # it, so the band sat on one side of the line (2.620 in [2.506, 2.630]); it is left out
    # and the caption says why.
    text = curves.path.read_text(encoding="utf-8")
    for name in curves.fits:
        top = curves.figures[f"{name}-curves"].axes[0]
        assert [c for c in top.collections if type(c).__name__ == "FillBetweenPolyCollection"
                or type(c).__name__ == "PolyCollection"] == []  # fmt: skip
        assert "dashed" not in top.get_title()  # nothing is predicted in this figure
        loss = curves.fits[name].data["loss"]
        span = loss.max() - loss.min()
        low, high = top.get_ylim()
        # The loss axis stays on the data (10 % margins; 15 % allowed for rounding).
        assert loss.min() - 0.15 * span <= low <= loss.min()
        assert loss.max() <= high <= loss.max() + 0.15 * span
    assert text.count("No bootstrap band: ") == 2  # one per law: degenerate, or few curves
    assert "No bootstrap band: the bootstrap resamples whole curves" in text


def test_law_card_for_several_final_loss_laws_without_a_backtest(tmp_path: Path) -> None:
    from scaling_fit.report import sections

    fit = sf.fit(small_runs(tmp_path / "runs.csv"), "chinchilla", n_refine=2)
    report = sf.Report(path=tmp_path / "r.html", fits={}, best_law="chinchilla", headline={})
    report.fits = {"chinchilla": fit, "kaplan": None, "farseer": fit}  # no backtest ran
    card = sections._law_card(report)
    assert "Law shown" in card and "not ranked: no backtest ran" in card
    assert "Best law" not in card
    report.fits = {"chinchilla": fit}
    assert "the only law fitted (not ranked)" in sections._law_card(report)


@pytest.mark.slow
def test_curve_report_in_chromium(curves: sf.Report, tmp_path: Path) -> None:
    browser_check(curves, tmp_path)
