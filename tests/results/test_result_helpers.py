"""The small helpers every result shares: intervals, JSON-safe values, extrapolation factors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from scaling_fit.errors import DataError, OutputExistsError
from scaling_fit.results.extrapolation import extrapolation_factors, row_extrapolation
from scaling_fit.results.intervals import percentile_interval
from scaling_fit.results.json_file import dump_json, load_result_json
from scaling_fit.results.json_safe import json_columns, json_floats, json_records, json_safe


def test_percentile_interval_ignores_nan_and_is_central() -> None:
    values = np.array([[v, 10 * v] for v in range(101)], dtype=float)
    values[5] = np.nan  # a failed refit is left out
    lo, hi = percentile_interval(values, 0.9, axis=0)
    # 101 values 0..100 without 5: the 5th and 95th percentiles by linear interpolation
    expected = np.nanpercentile(values[:, 0], [5.0, 95.0])
    np.testing.assert_allclose([lo[0], hi[0]], expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose([lo[1], hi[1]], 10 * expected, rtol=1e-15)


def test_json_safe_writes_strict_json() -> None:
    value = {
        "a": np.float64("nan"),
        "b": np.int64(3),
        "c": [1.5, float("nan")],
        "d": np.array([[1.0, np.nan]]),
        "e": (np.bool_(True), "text", None),
    }
    assert json_safe(value) == {
        "a": None,
        "b": 3,
        "c": [1.5, None],
        "d": [[1.0, None]],
        "e": [True, "text", None],
    }
    json.dumps(json_safe(value), allow_nan=False)  # raises on NaN or NumPy scalars
    assert json_floats(None) is None
    assert json_floats((1, np.nan)) == [1.0, None]
    table = pd.DataFrame({"x": [1.0, np.nan], "n": [1, 2], "ok": [True, False]})
    assert json_records(table) == [{"x": 1.0, "n": 1, "ok": True}, {"x": None, "n": 2, "ok": False}]
    assert json_columns(table) == {"x": [1.0, None], "n": [1, 2], "ok": [True, False]}


def test_extrapolation_factor_is_one_inside_and_the_ratio_outside() -> None:
    fitted = np.array([1e8, 1e9])
    np.testing.assert_array_equal(
        extrapolation_factors(fitted, [5e8, 1e10, 1e7]), [1.0, 10.0, 10.0]
    )
    fitted_table = pd.DataFrame({"n_params": fitted, "tokens": [1e9, 1e10]})
    rows = pd.DataFrame({"n_params": [5e8, 2e9], "tokens": [4e10, 5e9]})
    np.testing.assert_allclose(
        row_extrapolation(fitted_table, rows, ["n_params", "tokens"]), [4.0, 2.0], rtol=1e-15
    )


def test_dump_json_returns_the_text_and_overwrites_only_when_asked(tmp_path) -> None:
    path = tmp_path / "result.json"
    path.write_text("old")
    # Like FitResult.to_json: an existing file is kept unless overwrite=True, named in the error.
    with pytest.raises(OutputExistsError, match=r"X.to_json: file .*result.json"):
        dump_json({"format": "scaling_fit.X/1", "v": 1.5}, path, 2)
    assert path.read_text() == "old"
    text = dump_json({"format": "scaling_fit.X/1", "v": 1.5}, path, 2, overwrite=True)
    # The file ends with one newline, the text not.
    assert path.read_text() == text + "\n"
    assert json.loads(text) == {"format": "scaling_fit.X/1", "v": 1.5}


def test_load_result_json_checks_the_format_and_names_the_file(tmp_path) -> None:
    path = tmp_path / "other.json"
    dump_json({"format": "scaling_fit.Other/1"}, path, 2)
    build = lambda raw: raw["v"]  # noqa: E731
    assert (
        load_result_json(
            '{"format": "scaling_fit.X/1", "v": 2}',
            "scaling_fit.X/1",
            build,
            what="x",
            expected="y",
        )
        == 2
    )
    with pytest.raises(DataError, match=rf"file {path} is not a scaling_fit X result \(KeyError"):
        load_result_json(path, "scaling_fit.X/1", build, what="X result", expected="an X")
    with pytest.raises(DataError, match=r"the JSON text is not a scaling_fit X.*expected an X"):
        load_result_json("{", "scaling_fit.X/1", build, what="X result", expected="an X")
