"""The public namespace: everything the README uses is importable from ``scaling_fit``."""

from __future__ import annotations

import subprocess
import sys

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


def test_import_is_light() -> None:
    # `import scaling_fit` loads the API on first use (PEP 562): importing the package must not
    # pull in pandas, scipy or matplotlib (together ~1-3 s), only what the first call needs.
    code = (
        "import sys, scaling_fit; "
        "print(sorted(m for m in ('pandas', 'scipy', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        sf.not_a_name  # noqa: B018
    except AttributeError as exc:
        assert "not_a_name" in str(exc)
    else:
        raise AssertionError("sf.not_a_name did not raise")
