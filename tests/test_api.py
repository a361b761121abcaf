"""The public namespace: everything the README uses is importable from ``scaling_fit``."""

from __future__ import annotations

import scaling_fit as sf

README_NAMES = {
    "load_runs", "fit", "FitResult", "Law", "Parameter", "list_laws", "get_law",
    "highest_loss_mask", "isoflop", "IsoflopResult", "backtest", "BacktestResult",
    "schedules", "Schedule", "DataError", "FitError", "ScalingFitWarning", "best_schedule",
}  # fmt: skip


def test_public_names_exist_and_are_listed() -> None:
    assert README_NAMES <= set(sf.__all__)
    missing = [name for name in sf.__all__ if not hasattr(sf, name)]
    assert missing == []


def test_schedules_module_is_the_submodule() -> None:
    schedule = sf.schedules.from_spec("cosine:peak=3e-4,total=100,final=3e-5")
    assert isinstance(schedule, sf.Schedule) and schedule.lr.shape == (100,)
