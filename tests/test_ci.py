"""CI tests what pyproject promises: the lowest-versions run pins every core dependency at
exactly its lower bound."""

import re
from pathlib import Path

from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def _lower_bounds() -> dict[str, str]:
    text = (ROOT / "pyproject.toml").read_text()
    block = re.search(r"^dependencies = \[(.*?)^\]", text, re.S | re.M)
    assert block, "pyproject.toml has no dependencies list"
    return dict(re.findall(r'^\s*"([A-Za-z0-9_.-]+)>=([0-9.]+)"', block.group(1), re.M))


def _pins() -> dict[str, str]:
    lines = (ROOT / ".ci" / "lowest.txt").read_text().splitlines()
    return dict(line.split("==") for line in lines if "==" in line and not line.startswith("#"))


def test_lowest_constraints_pin_every_lower_bound() -> None:
    bounds = _lower_bounds()
    assert {"numpy", "scipy", "pandas", "lmfit", "matplotlib"} <= set(bounds)
    assert {k: Version(v) for k, v in _pins().items()} == {k: Version(v) for k, v in bounds.items()}


def test_ci_runs_the_readme_test_command_with_both() -> None:
    run = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert 'pytest -m "slow or not slow"' in run and 'pytest -m "slow or not slow"' in readme
    assert 'pip install -e ".[test,dask]"' in readme
    assert "-c .ci/lowest.txt" in run
