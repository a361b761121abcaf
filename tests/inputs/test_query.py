"""Row filters (``where=`` / ``--where``, ``exclude=``) can only filter: an allow-list of syntax,
refused before any row is read, never ``eval`` or ``DataFrame.query``."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scaling_fit as sf
from scaling_fit.cli.main import main
from scaling_fit.inputs.points import select_points
from scaling_fit.inputs.query import parse_query, query_mask

EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "examples"


@pytest.fixture
def table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "run": ["70M", "160M", "410M", "1B"],
            "n_params": [7e7, 1.6e8, 4.1e8, 1e9],
            "tokens": [1e9, 2e9, 4e9, 8e9],
            "val loss": [3.9, 3.5, 3.2, np.nan],
        }
    )


@pytest.mark.parametrize(
    ("text", "rows"),
    [
        ("n_params < 1e8", [0]),
        ("run == '70M'", [0]),
        ('run != "70M"', [1, 2, 3]),
        ("n_params >= 1e8 and run != '410M'", [1, 3]),
        ("n_params < 1e8 or n_params > 5e8", [0, 3]),
        ("not n_params > 1e8", [0]),
        ("1e8 < n_params <= 5e8", [1, 2]),  # chained
        ("run in ['70M', '1B']", [0, 3]),
        ("run not in ('70M', '1B')", [1, 2]),
        ("run == ['70M', '1B']", [0, 3]),  # pandas' list equality is membership
        ("n_params in [7e7, -1]", [0]),
        ("6 * n_params * tokens > 9e18", [2, 3]),
        ("-n_params > -1e8", [0]),
        ("n_params ** 0.5 // 1 % 10000 > 12000", []),
        ("(n_params > 1e8) & (tokens < 5e9) | ~(run != '70M')", [0, 1, 2]),
        ("`val loss` < 3.6", [1, 2]),  # backticks as pandas; NaN compares False
        ("True", [0, 1, 2, 3]),
    ],
)
def test_the_language_selects_what_pandas_query_would(table, text, rows) -> None:
    assert np.flatnonzero(query_mask(table, text)).tolist() == rows


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('n_params.to_csv("in.csv")', "a call 'n_params.to_csv(\"in.csv\")'"),
        ("n_params.values > 1", "attribute access 'n_params.values'"),
        ("__import__('os').system('true')", "a call"),
        ("n_params[0] > 1", "a subscript 'n_params[0]'"),
        ("@limit < n_params", "'@' (a Python variable) at character 1"),
        ("(lambda: 1)() == 1", "a call"),
        ("n_params > 1 if True else False", "an if-expression"),
        ("[x for x in run]", "ListComp"),
        ("n_parms > 1", "'n_parms' is not a column"),
        ("run * n_params > 1", "arithmetic needs numbers"),  # no text repetition
        ("'a' * 99999999999 == run", "arithmetic needs numbers"),
        ("10 ** 10 ** 10 > 1", "overflows"),  # numbers are floats: no huge integers
        ("n_params", "not true/false"),
        ("run in n_params", "a list or tuple of values"),
        ("n_params in [tokens]", "only numbers and strings; found 'tokens'"),
        ("None == n_params", "the constant 'None'"),
        ("n_params >", "not an expression"),
        ("`val loss < 3", "backtick at character 1 is not closed"),
    ],
)
def test_anything_else_is_refused_naming_the_part(table, text, words) -> None:
    with pytest.raises(sf.DataError, match="is not a valid query") as info:
        query_mask(table, text, "exclude")
    assert words in str(info.value)
    assert str(info.value).startswith(f"exclude={text!r}")


def test_refused_before_a_row_is_read(monkeypatch) -> None:
    # The syntax is checked before load_runs opens a file: a missing file is not reached.
    with pytest.raises(sf.DataError, match="a call"):
        sf.load_runs("/nonexistent/runs.csv", where="n_params.to_csv('x.csv')")
    with pytest.raises(sf.DataError, match="a call"):
        sf.fit("/nonexistent/runs.csv", "chinchilla", exclude="print(1)")
    parse_query("'@' == run and `a@b` > 1", "where")  # '@' inside strings/backticks is data


def test_pandas_query_and_eval_are_never_used(monkeypatch, tmp_path) -> None:
    def forbidden(*args, **kwargs):
        raise AssertionError("DataFrame.query/eval must not be used for user text")

    monkeypatch.setattr(pd.DataFrame, "query", forbidden)
    monkeypatch.setattr(pd.DataFrame, "eval", forbidden)
    monkeypatch.setattr(pd, "eval", forbidden)
    kept = sf.load_runs(EXAMPLES / "runs.csv", where="n_params >= 1e8 and run != '410M'")
    assert len(kept) == 8
    table = sf.load_runs(EXAMPLES / "runs.csv")
    points, _ = select_points(table, ["n_params", "tokens"], law_name="x", exclude="n_params > 3e8")
    assert points.attrs["excluded"] == int((table.groupby("run")["n_params"].first() > 3e8).sum())
    assert points.attrs["excluded"] > 0


def test_where_injection_leaves_the_input_untouched(tmp_path, capsys) -> None:
    runs = tmp_path / "in.csv"
    shutil.copy(EXAMPLES / "runs.csv", runs)
    before = runs.read_bytes()
    code = main(["fit", str(runs), "--law", "chinchilla", "--where", f'n_params.to_csv("{runs}")'])
    err = capsys.readouterr().err
    assert runs.read_bytes() == before  # pandas' query rewrote it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "a call" in err
    assert "--where" in err and "Traceback" not in err
