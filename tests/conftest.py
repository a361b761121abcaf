"""Shared test fixtures: paths to the datasets shipped in ``data/``."""

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def data_dir() -> Path:
    """The repository's ``data/`` folder."""
    return DATA
