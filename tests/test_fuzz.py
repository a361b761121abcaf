"""Hypothesis fuzzing of the edges: the loader, fit, predict and from_json.

Properties: only documented exceptions escape (:class:`scaling_fit.ScalingFitError` and its
subclasses, which inherit the matching built-ins), and a fit that reports ``converged`` has
finite parameters, a finite objective and a JSON form.  Each target runs a few examples on
every test run and 200 in the slow (CI) suite, derandomized (the same examples every run).
"""

from __future__ import annotations

import json
import math
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scaling_fit as sf
from scaling_fit import ScalingFitError, ScalingFitWarning

QUICK = settings(max_examples=15, deadline=None, database=None, derandomize=True)
FULL = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,  # the same examples on every CI run: a failure is a change, not luck
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ------------------------------------------------------------------ strategies
wild_floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -1.0, 1e-300, 1e308, 5e-324, -0.0]),
    st.floats(1e-3, 1e13),
)
cells = st.one_of(
    wild_floats.map(repr),
    st.sampled_from(["", "nan", "NA", "125M", "1.3B", "2T", "1,000", "abc", "1e", "-", " "]),
    st.text(alphabet="0123456789.,eEkMBT-+ \"'x;", max_size=8),
)
headers = st.lists(
    st.sampled_from(["n_params", "tokens", "loss", "step", "run", "lr", "N", "D", "val_loss", "x"]),
    min_size=0,
    max_size=5,
)


@st.composite
def csv_texts(draw) -> str:
    header = draw(headers)
    rows = draw(st.lists(st.lists(cells, min_size=0, max_size=6), max_size=8))
    sep = draw(st.sampled_from([",", ",", ";", "\t"]))
    text = "\n".join([sep.join(header), *(sep.join(r) for r in rows)])
    return draw(st.sampled_from(["", "\ufeff"])) + text + draw(st.sampled_from(["", "\n"]))


@st.composite
def run_frames(draw) -> pd.DataFrame:
    n = draw(st.integers(0, 10))
    sizes = st.one_of(st.floats(1e7, 1e11), wild_floats)
    losses = st.one_of(st.floats(1.5, 5.0), wild_floats)
    return pd.DataFrame(
        {
            "run": [f"r{i}" for i in range(n)],
            "n_params": draw(st.lists(sizes, min_size=n, max_size=n)),
            "tokens": draw(st.lists(sizes, min_size=n, max_size=n)),
            "loss": draw(st.lists(losses, min_size=n, max_size=n)),
        }
    )


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), wild_floats, st.text(max_size=5)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value, prefix=()):
    """Every key path into a JSON value."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value[:3]):
            yield from _paths(item, (*prefix, i))


FITTED = sf.FitResult.from_params("chinchilla").to_dict()
PATHS = [p for p in _paths(FITTED) if p]


# ------------------------------------------------------------------ properties
def check_loader(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore", ScalingFitWarning)
        path = Path(folder) / "runs.csv"
        path.write_text(text, encoding="utf-8")
        try:
            table = sf.load_runs(path)
        except ScalingFitError:
            return
    numeric = [c for c in ("step", "n_params", "tokens", "compute", "lr", "loss") if c in table]
    assert np.isfinite(table[numeric].to_numpy(float)).all()
    assert (table["loss"] > 0).all()


def check_fit(frame: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScalingFitWarning)
        try:
            result = sf.fit(frame, "chinchilla", n_refine=2)
        except ScalingFitError:
            return
    if result.converged:
        assert all(math.isfinite(v) for v in result.params.values()), result.params
        assert math.isfinite(result.objective)
    json.loads(result.to_json())  # never raises, converged or not


def check_predict(inputs: dict) -> None:
    result = sf.FitResult.from_params("chinchilla")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScalingFitWarning)
        try:
            predicted = result.predict(**inputs)
        except ScalingFitError:
            return
    assert not np.isnan(predicted).any()


def check_from_json(path: tuple, value) -> None:
    raw = json.loads(json.dumps(FITTED))
    target = raw
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    try:
        text = json.dumps(raw)
    except ValueError:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScalingFitWarning)
        try:
            result = sf.FitResult.from_json(text)
            result.predict(n_params=7e10, tokens=1.4e12)
        except ScalingFitError:
            return


predict_inputs = st.dictionaries(
    st.sampled_from(["n_params", "tokens", "compute", "N", "x"]),
    st.one_of(wild_floats, st.lists(wild_floats, max_size=3), st.text(max_size=3), st.none()),
    max_size=3,
)
edits = st.tuples(st.sampled_from(PATHS), json_values)


@QUICK
@given(csv_texts())
def test_loader_quick(text) -> None:
    check_loader(text)


@QUICK
@given(run_frames())
def test_fit_quick(frame) -> None:
    check_fit(frame)


@QUICK
@given(predict_inputs)
def test_predict_quick(inputs) -> None:
    check_predict(inputs)


@QUICK
@given(edits)
def test_from_json_quick(edit) -> None:
    check_from_json(*edit)


@pytest.mark.slow
@FULL
@given(csv_texts())
def test_loader_fuzz(text) -> None:
    check_loader(text)


@pytest.mark.slow
@FULL
@given(run_frames())
def test_fit_fuzz(frame) -> None:
    check_fit(frame)


@pytest.mark.slow
@FULL
@given(predict_inputs)
def test_predict_fuzz(inputs) -> None:
    check_predict(inputs)


@pytest.mark.slow
@FULL
@given(edits)
def test_from_json_fuzz(edit) -> None:
    check_from_json(*edit)
