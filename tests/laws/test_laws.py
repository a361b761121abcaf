"""Laws: closed-form values and the contract every registered law must meet."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from allowances import allow_multistart_diagnostic

import scaling_fit as sf
from scaling_fit.fitting.objective import Problem
from scaling_fit.fitting.space import ParameterSpace
from scaling_fit.laws import LAWS
from scaling_fit.laws.base import log_sum_exp
from scaling_fit.schedules import from_spec

CANONICAL_INPUTS = {"step", "n_params", "tokens", "compute", "lr", "batch_size"}
HPARAM_LAWS = {
    "steplaw_lr",
    "steplaw_batch",
    "deepseek_lr",
    "deepseek_batch",
    "porian_lr",
    "porian_batch",
    "kaplan_bcrit",
}


def test_kaplan_table2_value() -> None:
    # laws.md §10: Kaplan Table 2 parameters give 2.3739 at N = 1e9, D = 2e10 (4 decimals).
    law = sf.get_law("kaplan")
    assert law.predict(1e9, 2e10, **law.published) == pytest.approx(2.3739, abs=5e-5)


def test_log_sum_exp_recomputes_only_the_sums_outside_the_float_range() -> None:
    # Sums that overflow, underflow to 0 or are NaN are recomputed by logaddexp; the others
    # (and every element of an array without such sums) keep the direct log of the sum.
    a = np.array([0.0, 800.0, -800.0, np.nan, 1.0])
    b = np.array([1.0, 799.0, -801.0, 0.0, -2.0])
    with np.errstate(invalid="ignore"):
        expected = np.logaddexp(a, b)
    np.testing.assert_allclose(log_sum_exp(a, b), expected, rtol=1e-15)
    # 1e-15: the direct log of the sum and logaddexp differ by rounding only, and arrays of
    # other lengths may take other SIMD paths on another CPU
    direct = np.log(np.exp(a[[0, 4]]) + np.exp(b[[0, 4]]))
    np.testing.assert_allclose(log_sum_exp(a, b)[[0, 4]], direct, rtol=1e-15)
    np.testing.assert_allclose(log_sum_exp(a[[0, 4]], b[[0, 4]]), direct, rtol=1e-15)
    assert log_sum_exp(np.log(2.0), np.log(3.0)) == pytest.approx(np.log(5.0), rel=1e-15)
    assert log_sum_exp(np.empty((3, 0)), 1.0).shape == (3, 0)  # nothing to check


def test_chinchilla_rounded_prediction() -> None:
    # laws.md §1.5: L(70B, 1.4T) = 1.9366 with Hoffmann's rounded values.
    rounded = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
    value = sf.get_law("chinchilla").predict(70e9, 1.4e12, **rounded)
    assert value == pytest.approx(1.9366, abs=5e-5)


def test_chinchilla_allocation_closed_form_rounded() -> None:
    # laws.md §10: rounded parameters give N_opt 3.22e10 and D_opt 2.98e12 at 5.76e23
    # (3 significant figures quoted, so 0.5 % tolerance).
    rounded = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
    n_opt, d_opt = sf.get_law("chinchilla").allocation(5.76e23, **rounded)
    assert n_opt == pytest.approx(3.22e10, rel=5e-3)
    assert d_opt == pytest.approx(2.98e12, rel=5e-3)
    assert 6 * n_opt * d_opt == pytest.approx(5.76e23, rel=1e-12)


def test_list_laws_table() -> None:
    table = sf.list_laws()
    assert {"chinchilla", "kaplan"} <= set(table["name"])
    row = table.set_index("name").loc["chinchilla"]
    assert row["parameters"] == "E, A, B, alpha, beta"
    assert "2203.15556" in row["reference"]


def test_hyperparameter_laws_published_values() -> None:
    # Step Law at N = 7e9, D = 1.4e12 from the bootstrap means (data/steplaw/SOURCE.md, verified
    # [C][R]): 9.35e-4 and 5.00e6 tokens, 3 significant figures quoted, so 0.1 %.
    lr = sf.get_law("steplaw_lr")
    assert lr.output == "lr"
    assert lr.predict(7e9, 1.4e12, **lr.published) == pytest.approx(9.35e-4, rel=1e-3)
    batch = sf.get_law("steplaw_batch")
    assert batch.output == "batch_size"
    assert batch.predict(1.4e12, **batch.published) == pytest.approx(5.00e6, rel=1e-3)
    # Kaplan et al. B_crit(L = 3.0) = 2e8 / 3^(1/0.21) = 1.07e6 tokens (laws.md §10, [R] from [P]).
    kaplan = sf.get_law("kaplan_bcrit")
    assert kaplan.predict(3.0, **kaplan.published) == pytest.approx(1.07e6, rel=5e-3)
    # DeepSeek at C = 1e20: lr 9.86e-4, B 1.017e6 tokens (laws.md §10, [R] from [C3] numbers).
    ds_lr, ds_b = sf.get_law("deepseek_lr"), sf.get_law("deepseek_batch")
    assert ds_lr.predict(1e20, **ds_lr.published) == pytest.approx(9.86e-4, rel=1e-3)
    assert ds_b.predict(1e20, **ds_b.published) == pytest.approx(1.017e6, rel=1e-3)


def test_hyperparameter_law_fit_saves_and_loads(tmp_path) -> None:
    # A fitted lr law round-trips through JSON and predicts the same learning rates.
    law = sf.get_law("steplaw_lr")
    table = _sample_table(law, 30, seed=2)
    table["lr"] = law.predict(table["n_params"], table["tokens"], **law.published)
    result = sf.fit(table.drop(columns="loss"), "steplaw_lr", loss="mse")  # lr, no loss column
    assert result.params["a"] == pytest.approx(-0.712922, rel=1e-6)
    assert list(result.data.columns) == ["run", "n_params", "tokens", "lr"]
    loaded = sf.FitResult.from_json(result.to_json(tmp_path / "lr.json"))
    assert loaded.law is law
    assert float(loaded.predict(n_params=7e9, tokens=1.4e12)) == pytest.approx(9.35e-4, rel=1e-3)


def test_law_output_must_be_a_column() -> None:
    with pytest.raises(ValueError, match=r"output 'eta' must be a column"):
        sf.Law(
            name="bad",
            formula=lambda tokens, *, c: c * tokens,
            inputs=("tokens",),
            parameters=(sf.Parameter("c", (1.0, 2.0)),),
            reference="none",
            output="eta",
        )


def test_unknown_law_message() -> None:
    with pytest.raises(sf.UnknownLawError, match=r"unknown law 'chinchila'.*chinchilla"):
        sf.get_law("chinchila")


# ---------------------------------------------------------------------------- contract
# farseer's nine-parameter fit takes ~5 s: the full suite (CI) runs it.
@pytest.fixture(
    params=[pytest.param(n, marks=pytest.mark.slow) if n == "farseer" else n for n in sorted(LAWS)]
)
def law(request: pytest.FixtureRequest) -> sf.Law:
    return LAWS[request.param]


def test_contract_metadata(law: sf.Law) -> None:
    assert law.name in LAWS and LAWS[law.name] is law
    # Loss laws take run descriptors; hyperparameter laws predict lr or batch size (and
    # Kaplan's critical batch takes the loss as its input).
    assert (law.output != "loss") == (law.name in HPARAM_LAWS)
    assert set(law.inputs) <= CANONICAL_INPUTS | ({"loss"} if law.output != "loss" else set())
    assert len(set(law.param_names)) == len(law.param_names)
    assert "arXiv" in law.reference
    doc = law.formula.__doc__ or ""
    assert "References" in doc and "arXiv" in doc, "numpydoc formula docstring with the paper"
    # Published values are all-or-nothing: the annealing law's paper gives none we can verify.
    assert set(law.published) in (set(), set(law.param_names))
    # Curve laws take step-indexed inputs built from each run's LR schedule.
    assert (law.features is not None) == (law.inputs == ("step",))


def test_contract_start_grid_inside_bounds(law: sf.Law) -> None:
    for p in law.parameters:
        lo, hi = p.fit_bounds()
        assert len(p.start) >= 2
        assert all(lo <= s <= hi for s in p.fit_start), p.name
        assert all(p.bounds[0] <= s <= p.bounds[1] for s in p.start), p.name  # natural units


# Curve laws: two schedules that differ in decay, evaluated after the warm-up.
CURVE_SCHEDULES = {
    "cosine": "cosine:peak=3e-4,total=12000,warmup=500,final=3e-5",
    "wsd": "wsd:peak=3e-4,total=12000,warmup=500,decay=0.3,final=3e-5,shape=linear",
}
# Truth for laws without published values: plausible annealing-law values (laws.md §4).
TRUTH = {"lr_annealing": {"L0": 2.4, "A": 0.65, "alpha": 0.6, "C": 0.5}}


def _truth(law: sf.Law) -> dict[str, float]:
    return dict(law.published) or TRUTH[law.name]


def _sample_table(law: sf.Law, n: int, seed: int = 0) -> pd.DataFrame:
    """Seeded points: N over 3 decades and 5-200 tokens per parameter (C = 6ND, losses
    2-4.5 for laws of the loss), or curve steps."""
    rng = np.random.default_rng(seed)
    if law.features is not None:
        steps = np.sort(rng.choice(np.arange(600, 12000), size=n, replace=False))
        return pd.DataFrame({"run": np.resize(list(CURVE_SCHEDULES), n), "step": steps})
    n_params = 10 ** rng.uniform(7.0, 10.0, n)
    tokens = n_params * 10 ** rng.uniform(np.log10(5), np.log10(200), n)
    return pd.DataFrame(
        {
            "run": [f"r{i}" for i in range(n)],
            "n_params": n_params,
            "tokens": tokens,
            "compute": 6 * n_params * tokens,
            "loss": rng.uniform(2.0, 4.5, n),
        }
    )


def _sample_inputs(law: sf.Law, n: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """The arrays ``law.formula`` takes for the points of :func:`_sample_table`."""
    table = _sample_table(law, n, seed)
    if law.features is not None:
        lr = {run: from_spec(spec).lr for run, spec in CURVE_SCHEDULES.items()}
        return law.features(table, lr)
    return tuple(table[c].to_numpy() for c in law.inputs)


def test_contract_broadcasts_over_parameter_stacks(law: sf.Law) -> None:
    inputs = _sample_inputs(law, 7)
    scales = np.array([0.9, 1.0, 1.1])[:, None]
    truth = _truth(law)
    stacked = {k: v * scales for k, v in truth.items()}
    grid = law.predict(*inputs, **stacked)
    assert grid.shape == (3, 7)
    for i, s in enumerate(scales[:, 0]):
        row = law.predict(*inputs, **{k: v * s for k, v in truth.items()})
        np.testing.assert_allclose(grid[i], row, rtol=1e-14)


def test_contract_log_formula_matches_formula(law: sf.Law) -> None:
    inputs = _sample_inputs(law, 50)
    # 1e-12: the log-sum-exp form differs from log(formula) only by rounding.
    truth = _truth(law)
    np.testing.assert_allclose(
        law.log_predict(*inputs, **truth),
        np.log(law.predict(*inputs, **truth)),
        rtol=1e-12,
    )


def test_contract_recovers_published_parameters(law: sf.Law) -> None:
    table = _sample_table(law, 60, seed=1)
    truth = _truth(law)
    table[law.output] = law.predict(*_sample_inputs(law, 60, seed=1), **truth)
    schedules = CURVE_SCHEDULES if law.features is not None else None
    with allow_multistart_diagnostic():  # which start reaches the optimum is platform-specific
        result = sf.fit(table, law, schedules=schedules)
    # Noise-free data: the optimum is the truth; 1e-4 relative allows for the flat,
    # strongly correlated amplitude/exponent directions at solver tolerance.
    for name, value in truth.items():
        assert result.params[name] == pytest.approx(value, rel=1e-4), name
    assert result.objective < 1e-12


@pytest.mark.parametrize("loss", ["huber", "mse_linear"])
def test_contract_log_gradient_matches_differences(law: sf.Law, loss: str) -> None:
    if law.log_gradient is None:
        pytest.skip(f"{law.name} has no analytic log_gradient")
    inputs = _sample_inputs(law, 40)
    truth = _truth(law)
    space = ParameterSpace(law, {}, {}, {})
    observed = law.predict(*inputs, **truth) * 1.01
    problem = Problem(space, inputs, observed, loss=loss)
    rng = np.random.default_rng(3)
    theta0 = space.to_theta(truth)
    # The truth and relative perturbations of it (signs kept, so exponents stay in range).
    for shift in (0.0, 0.02, 0.1):
        theta = theta0 * (1.0 + shift * rng.standard_normal(theta0.shape))
        analytic = problem.analytic_jacobian(theta)
        numeric = problem.difference_jacobian(theta)
        assert analytic.shape == numeric.shape == (len(observed), len(space.free))
        # Central differences with steps eps^(1/3) are accurate to ~1e-10 relative to the
        # Jacobian's scale (their rounding error is absolute, so a near-zero column is only
        # that accurate); 1e-6 per column, plus 1e-9 of the largest entry for near-zero
        # columns, leaves that room and still catches any wrong or missing term.
        scale = np.abs(numeric).max(axis=0)
        tolerance = 1e-6 * scale + 1e-9 * scale.max()
        assert np.all(np.abs(analytic - numeric) <= tolerance), (law.name, shift)


def test_log_gradient_with_tied_and_fixed_parameters() -> None:
    # Chain rule through a tie (beta = alpha adds beta's column to alpha's) and a fixed E.
    law = sf.get_law("chinchilla")
    inputs = _sample_inputs(law, 40)
    truth = _truth(law)
    space = ParameterSpace(law, {"E": 1.8}, {"beta": "alpha"}, {})
    problem = Problem(space, inputs, law.predict(*inputs, **truth))
    theta = space.to_theta(truth) + 0.1
    analytic = problem.analytic_jacobian(theta)
    assert analytic.shape == (40, 3)
    # Same tolerance argument as the contract test above.
    np.testing.assert_allclose(
        analytic, problem.difference_jacobian(theta), rtol=0, atol=1e-6 * np.abs(analytic).max()
    )


# ------------------------------------------------------------------ validation at construction
def _law(formula, inputs=("n_params", "tokens"), names=("E", "A")) -> sf.Law:
    params = tuple(sf.Parameter(n, (1.0,)) for n in names)
    return sf.Law("mine", formula, inputs, params, reference="test")


def test_law_whose_formula_lacks_a_parameter_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"missing \['A'\], extra \[\]"):
        _law(lambda n, d, *, E: E + 0 * n)


def test_law_whose_formula_has_an_extra_keyword_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"missing \[\], extra \['B'\]"):
        _law(lambda n, d, *, E, A, B: E + A / n + B / d)


def test_law_may_read_any_column_but_not_run_names_or_a_column_twice() -> None:
    law = _law(lambda n, u, *, E, A: E + A / n * u, inputs=("n_params", "unique_tokens"))
    assert law.inputs == ("n_params", "unique_tokens")
    for inputs in (("run",), ("n_params", "n_params"), ("",), (3,)):
        with pytest.raises(ValueError, match=r"inputs must be distinct names of numeric columns"):
            _law(lambda *x, E, A: E + A, inputs=inputs)


def test_law_whose_formula_takes_too_few_inputs_is_rejected() -> None:
    with pytest.raises(ValueError, match="takes 1 positional inputs, but the law has 2 inputs"):
        _law(lambda n, *, E, A: E + A / n)


def test_valid_laws_construct_and_kwargs_formulas_are_accepted() -> None:
    law = _law(lambda n, d, **p: p["E"] + p["A"] / n)
    assert law.param_names == ("E", "A") and not law.fits_curves
    assert law.default_points == "final"
    assert LAWS["multipower"].fits_curves and LAWS["multipower"].default_points == "after_warmup"
