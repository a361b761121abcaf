"""Laws that read any column of the runs table, written as a user writes them.

The data-repetition law of Muennighoff et al. (2023), "Scaling Data-Constrained Language
Models" (arXiv:2305.16264, eqs. 5-6): the loss of Chinchilla's form at an *effective* model
size and data, D' = U_D + U_D·R*_D·(1 − exp(−R_D/R*_D)) with R_D = D/U_D − 1 repetitions of
the U_D unique tokens, and likewise N' from the U_N = min(N, U_D/20) parameters the unique
data warrants (20 tokens per parameter stands in for the paper's compute-optimal N of U_D).
It reads a ``unique_tokens`` column. The runs are synthetic, generated from known
parameters, so recovery is checked against the truth; the law is not in the registry
(docs/laws.md does not document verified coefficients for it).
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import scaling_fit as sf
from scaling_fit.cli.main import main
from scaling_fit.inputs.points import select_points

TOKENS_PER_PARAM = 20.0
TRUTH = {"E": 1.9, "A": 500.0, "alpha": 0.35, "B": 1500.0, "beta": 0.35, "R_N": 5.3, "R_D": 15.4}


def effective(unique, total, r_star):
    """U + U·R*·(1 − exp(−R/R*)), R = total/unique − 1 repetitions."""
    repeats = total / unique - 1.0
    return unique + unique * r_star * -np.expm1(-repeats / r_star)


def data_constrained(n_params, tokens, unique_tokens, *, E, A, alpha, B, beta, R_N, R_D):
    """Muennighoff et al. (2023), arXiv:2305.16264: L = E + A/N'^alpha + B/D'^beta."""
    unique_d = np.minimum(unique_tokens, tokens)
    unique_n = np.minimum(n_params, unique_d / TOKENS_PER_PARAM)
    n_eff = effective(unique_n, n_params, R_N)
    d_eff = effective(unique_d, tokens, R_D)
    return E + A / n_eff**alpha + B / d_eff**beta


LAW = sf.Law(
    name="data_constrained",
    formula=data_constrained,
    inputs=("n_params", "tokens", "unique_tokens"),
    parameters=(  # starts in natural units, like bounds, also for log=True
        sf.Parameter("E", (1.0, 2.0, 4.0), log=True, bounds=(0, np.inf)),
        sf.Parameter("A", (1e2, 1e3, 1e4), log=True, bounds=(0, np.inf)),
        sf.Parameter("alpha", (0.2, 0.35, 0.5), bounds=(0, 2)),
        sf.Parameter("B", (1e2, 1e3, 1e4), log=True, bounds=(0, np.inf)),
        sf.Parameter("beta", (0.2, 0.35, 0.5), bounds=(0, 2)),
        sf.Parameter("R_N", (1.0, 5.0, 25.0), log=True, bounds=(0, np.inf)),
        sf.Parameter("R_D", (2.0, 10.0, 50.0), log=True, bounds=(0, np.inf)),
    ),
    reference="Muennighoff et al. (2023), arXiv:2305.16264",
    description="L = E + A/N'^alpha + B/D'^beta at effective N', D' of repeated data",
    linear=("E", "A", "B"),
)


def repeated_runs(seed: int = 0, noise: float = 1e-3) -> pd.DataFrame:
    """5 sizes x 4 unique-data sizes x 5 epochs (1-16), log-normal noise on the loss."""
    rows = [
        {"run": f"N{n:.0e}-U{u:.0e}-x{e}", "n_params": n, "tokens": e * u, "unique_tokens": u}
        for n in (1e8, 2e8, 4e8, 8e8, 1.6e9)
        for u in (1e9, 3e9, 1e10, 3e10)
        for e in (1, 2, 4, 8, 16)
    ]
    runs = pd.DataFrame(rows)
    loss = LAW.predict(runs["n_params"], runs["tokens"], runs["unique_tokens"], **TRUTH)
    runs["loss"] = loss * np.exp(np.random.default_rng(seed).normal(0.0, noise, len(runs)))
    return runs


@pytest.fixture(scope="module")
def runs() -> pd.DataFrame:
    return repeated_runs()


@pytest.fixture(scope="module")
def result(runs: pd.DataFrame) -> sf.FitResult:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning on data that determine the law
        return sf.fit(runs, LAW, bootstrap=50, seed=0, n_jobs=1, progress=False)


# ------------------------------------------------------------------ the data-repetition law
def test_recovers_the_data_repetition_parameters(result: sf.FitResult) -> None:
    assert result.converged and result.n_points == 100
    # 100 runs, 0.1 % noise. Largest deviations over seeds 0-5: E 0.7 %, A 12 %, alpha
    # 0.008, B 4 %, beta 0.002, R_N 2 %, R_D 6 % (A trades off against alpha, as in
    # Chinchilla fits); tolerances ~3x those.
    p = result.params
    assert p["E"] == pytest.approx(TRUTH["E"], rel=0.02)
    assert p["A"] == pytest.approx(TRUTH["A"], rel=0.35)
    assert p["alpha"] == pytest.approx(TRUTH["alpha"], abs=0.025)
    assert p["B"] == pytest.approx(TRUTH["B"], rel=0.12)
    assert p["beta"] == pytest.approx(TRUTH["beta"], abs=0.006)
    assert p["R_N"] == pytest.approx(TRUTH["R_N"], rel=0.06)
    assert p["R_D"] == pytest.approx(TRUTH["R_D"], rel=0.2)


def test_predicts_new_points_from_keywords_and_frames(result: sf.FitResult) -> None:
    new = {"n_params": [3e9, 1e9], "tokens": [2e11, 4e10], "unique_tokens": [2.5e10, 4e10]}
    truth = LAW.predict(*(np.array(new[c]) for c in LAW.inputs), **TRUTH)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 3e9 lies 1.9x beyond the fitted sizes
        from_keywords = result.predict(**new)
        from_frame = result.predict(pd.DataFrame(new))
    # Seeds 0-5 miss the 3e9 point by at most 0.09 %.
    assert from_keywords == pytest.approx(truth, rel=3e-3)
    np.testing.assert_array_equal(from_keywords, from_frame)
    # One unique-token count fewer than the tokens: the data repeat, the loss rises.
    repeated = result.predict(n_params=1e9, tokens=4e10, unique_tokens=[4e10, 5e9])
    assert repeated[1] > repeated[0] + 0.01
    band = result.predict_interval(n_params=1e9, tokens=4e10, unique_tokens=5e9)
    assert band["lower"].iloc[0] < band["loss"].iloc[0] < band["upper"].iloc[0]


def test_bootstrap_and_json_round_trip_keep_the_column(result: sf.FitResult) -> None:
    assert result.samples is not None and result.samples.shape == (50, 7)
    assert all(0 < result.stderr[n] < abs(result.params[n]) for n in LAW.param_names)
    assert "unique_tokens" in result.data.columns
    back = sf.FitResult.from_json(result.to_json(), law=LAW)
    assert back.params == result.params
    point = {"n_params": 5e8, "tokens": 1e11, "unique_tokens": 1e10}
    assert back.predict(**point) == result.predict(**point)


def test_backtest_holds_out_the_largest_models(runs: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sf.ScalingFitWarning)
        backtest = sf.backtest(runs, [LAW], holdout="largest-n", progress=False)
    held = backtest.errors
    assert set(held["n_params"]) == {1.6e9} and len(held) == 20
    assert "unique_tokens" in held.columns and "unique_tokens" in backtest.target
    # Fitted on 0.1-0.8B, the 1.6B runs (2x beyond): worst error 0.14-0.24 % over seeds 0-3.
    assert held["relative_error"].max() < 0.006
    assert backtest.stability["predicted"].notna().all()  # the sweep predicts the target too


def test_allocation_and_size_plots_refuse_a_law_with_other_inputs(result) -> None:
    with pytest.raises(sf.DataError, match=r"does not determine \['unique_tokens'\]"):
        result.compute_optimal(1e21)
    pytest.importorskip("matplotlib")
    with pytest.raises(sf.DataError, match=r"also reads \['unique_tokens'\]: use kind='resid"):
        result.plot(kind="compute")
    assert result.plot().axes[0].get_title() == "Residuals by model size"  # the default


# ------------------------------------------------------------------ columns refused clearly
def test_a_missing_column_names_the_law_the_column_and_the_columns_present(runs) -> None:
    with pytest.raises(sf.DataError) as caught:
        sf.fit(runs.drop(columns="unique_tokens"), LAW)
    message = str(caught.value)
    assert "law 'data_constrained' needs columns" in message
    assert "missing ['unique_tokens']" in message
    assert "found ['run', 'n_params', 'tokens', 'loss']" in message
    assert "Add column 'unique_tokens' to the runs" in message


def test_an_alias_of_a_canonical_column_says_the_loader_renames_it(runs, tmp_path) -> None:
    law = sf.Law.from_formula("E + A/N**a", inputs={"N": "params"}, name="aliased")
    path = tmp_path / "runs.csv"
    runs.to_csv(path, index=False)
    with pytest.raises(sf.DataError, match="reads a column named 'params' as the canonical"):
        sf.fit(path, law)


@pytest.mark.parametrize(
    ("value", "found"),
    [("lots", "'lots'"), (np.nan, "nan"), (np.inf, "inf"), (True, "True")],
)
def test_a_value_that_is_not_a_finite_number_names_column_and_row(runs, value, found) -> None:
    bad = runs.astype({"unique_tokens": object})
    bad.loc[7, "unique_tokens"] = value
    with pytest.raises(sf.DataError) as caught:
        sf.fit(bad, LAW)
    assert str(caught.value).startswith(
        f"law 'data_constrained' reads column 'unique_tokens': runs table row 7 (run "
        f"'{runs['run'][7]}') holds {found}; expected a finite number (1 of 100"
    )


def test_suffixed_numbers_in_a_csv_column_are_read(runs, tmp_path) -> None:
    path = tmp_path / "runs.csv"
    runs.assign(unique_tokens=[f"{u / 1e9:g}B" for u in runs["unique_tokens"]]).to_csv(
        path, index=False
    )
    table, _ = select_points(sf.load_runs(path), LAW.inputs, law_name=LAW.name)
    np.testing.assert_allclose(table["unique_tokens"], runs["unique_tokens"], rtol=1e-12)


def test_predict_refuses_a_missing_or_non_finite_input(result) -> None:
    with pytest.raises(sf.DataError, match=r"missing \['unique_tokens'\]; pass them as"):
        result.predict(n_params=1e9, tokens=4e10)
    with pytest.raises(sf.DataError, match=r"unique_tokens= must be a finite number; found nan"):
        result.predict(n_params=1e9, tokens=4e10, unique_tokens=np.nan)


# ------------------------------------------------------------------ an epochs column
EPOCHS_FORM = "E + A/N**alpha + B/D**beta * X**gamma"
EPOCHS_TRUTH = {"E": 1.8, "A": 400.0, "alpha": 0.33, "B": 1200.0, "beta": 0.3, "gamma": 0.12}


def epochs_runs(seed: int = 1) -> pd.DataFrame:
    """4 sizes x 3 unique-data sizes x 4 epochs; the data term grows as epochs^gamma."""
    rows = [
        {"run": f"N{n:.0e}-U{u:.0e}-x{e}", "n_params": n, "tokens": e * u, "epochs": e}
        for n in (1e8, 3e8, 1e9, 3e9)
        for u in (2e9, 6e9, 2e10)
        for e in (1, 2, 4, 8)
    ]
    runs = pd.DataFrame(rows)
    n, d, x = (runs[c].to_numpy(float) for c in ("n_params", "tokens", "epochs"))
    t = EPOCHS_TRUTH
    loss = t["E"] + t["A"] / n ** t["alpha"] + t["B"] / d ** t["beta"] * x ** t["gamma"]
    runs["loss"] = loss * np.exp(np.random.default_rng(seed).normal(0.0, 1e-3, len(runs)))
    return runs


def test_an_epochs_formula_law_fits_from_the_cli_and_reads_back(capsys, tmp_path) -> None:
    path, output = tmp_path / "runs.csv", tmp_path / "fit.json"
    epochs_runs().to_csv(path, index=False)
    inputs = ["--input", "N=n_params", "--input", "D=tokens", "--input", "X=epochs"]
    code = main(["fit", str(path), "--formula", EPOCHS_FORM, *inputs, "-o", str(output)])
    assert code == 0, capsys.readouterr().err
    capsys.readouterr()
    result = sf.FitResult.from_json(output)  # a formula law travels with its result
    assert result.law.inputs == ("n_params", "tokens", "epochs")
    # 48 runs, 0.1 % noise; worst over seeds 1-4: E 1.4 %, alpha, beta 0.007, gamma 0.004
    # (seed 1: E 0.08 %, gamma 1e-4); tolerances ~3x the worst.
    assert result.params["E"] == pytest.approx(EPOCHS_TRUTH["E"], rel=0.04)
    for name in ("alpha", "beta"):
        assert result.params[name] == pytest.approx(EPOCHS_TRUTH[name], abs=0.02), name
    assert result.params["gamma"] == pytest.approx(EPOCHS_TRUTH["gamma"], abs=0.012)
    more = result.predict(n_params=1e9, tokens=4e10, epochs=[1, 4])
    assert more[1] > more[0]  # repeating the data costs loss
    # The CLI's predict takes no epochs: one line, exit 2, naming the column.
    code = main(["predict", str(output), "--n-params", "1e9", "--tokens", "4e10"])
    err = capsys.readouterr().err
    assert code == 2 and "also reads ['epochs']" in err and len(err.strip().splitlines()) == 1


# ------------------------------------------------------------------ starts in natural units
def test_starts_are_natural_units_like_bounds() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = sf.Parameter("A", (1e2, 1e3), log=True, bounds=(0, np.inf))
    assert p.start == (1e2, 1e3)
    assert p.fit_start == pytest.approx(np.log([1e2, 1e3]), rel=1e-15)
    assert sf.Parameter("a", (-1.0, 0.5)).fit_start == (-1.0, 0.5)  # log=False: as given
    with pytest.raises(ValueError, match=r"log=True parameter must be natural values > 0"):
        sf.Parameter("A", (-1.0, 5.0), log=True, bounds=(1.0, 10.0))  # neither form fits


@pytest.mark.parametrize(
    ("start", "options", "why"),
    [
        ((-1.0, 0.0, 1.0), {}, "starts <= 0 or outside the bounds"),  # <= 0: not natural
        ((0.5, 2.0), {"bounds": (1.0, np.inf)}, "starts <= 0 or outside the bounds"),
        ((5.0, 6.0), {"start_is_log": True}, "start_is_log=True"),  # the explicit flag
    ],
)
def test_log_space_starts_are_read_with_a_deprecation_warning(start, options, why) -> None:
    with pytest.warns(DeprecationWarning, match=f"read as logarithms \\({why}\\)") as caught:
        p = sf.Parameter("A", start, log=True, **options)
    assert "Give start=(" in str(caught[0].message)
    assert p.fit_start == start  # exactly the values given
    assert p.start == pytest.approx(np.exp(start), rel=1e-15)
    assert not p.start_is_log  # converted: a copy with new starts takes natural values
    with pytest.raises(ValueError, match="start_is_log=True is for log=True parameters"):
        sf.Parameter("a", start, start_is_log=True)


def test_a_formula_law_json_written_with_log_starts_reads_them_as_logs() -> None:
    law = sf.Law.from_formula("E + A/N**a", inputs={"N": "n_params"}, starts={"A": [10, 1e3]})
    result = sf.FitResult.from_params(law, {"E": 2.0, "A": 100.0, "a": 0.3})
    new = result.to_dict()
    assert new["formula_law"]["start_units"] == "natural"
    assert new["formula_law"]["parameters"][1]["start"] == [10.0, 1e3]
    old = dict(new, formula_law=dict(new["formula_law"]))
    del old["formula_law"]["start_units"]  # a file from before starts were natural
    old["formula_law"]["parameters"] = [
        dict(p, start=list(np.log(p["start"])) if p["log"] else p["start"])
        for p in new["formula_law"]["parameters"]
    ]
    for raw in (new, old):
        back = sf.FitResult.from_json(json.dumps(raw))
        assert back.law.parameter("A").start == pytest.approx((10.0, 1e3), rel=1e-12)
