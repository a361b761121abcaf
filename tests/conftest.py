"""Shared test fixtures: paths to the datasets shipped in ``data/``."""

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def data_dir() -> Path:
    """The repository's ``data/`` folder."""
    return DATA


@pytest.fixture
def refined_starts(monkeypatch) -> list:
    """Every ``multistart.refine`` call of the next fits, as ``Solution``s in order: the
    search's starts, then (above ``SEARCH_POINTS``) the polish of its optima."""
    from scaling_fit.fitting import multistart

    refined, refine = [], multistart.refine

    def recording(problem, start, max_evaluations=None):
        solution = refine(problem, start, max_evaluations)
        refined.append(solution)
        return solution

    monkeypatch.setattr(multistart, "refine", recording)
    return refined
