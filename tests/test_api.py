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


def test_first_chinchilla_fit_loads_only_its_own_law() -> None:
    # Laws load on first lookup (scaling_fit.laws.LAWS): a Chinchilla fit in a fresh process
    # must not import the curve laws' machinery (SciPy's interpolation, the schedules), the
    # other laws, or joblib (only a parallel bootstrap needs it).
    code = (
        "import sys, numpy as np, pandas as pd, scaling_fit as sf; "
        "n = np.repeat([1e7, 1e8, 1e9], 3); d = np.tile([1e9, 1e10, 1e11], 3); "
        "runs = pd.DataFrame({'run': [str(i) for i in range(9)], 'n_params': n, 'tokens': d, "
        "'loss': 1.7 + 400 / n**0.34 + 410 / d**0.28}); "
        "sf.fit(runs, 'chinchilla', progress=False); "
        "heavy = ('scipy.interpolate', 'joblib', 'scaling_fit.schedules', "
        "'scaling_fit.laws.farseer', 'scaling_fit.laws.multipower', 'scaling_fit.laws.kaplan'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_law_registry_lists_every_law_once_loaded() -> None:
    # The lazy registry still behaves as the mapping it was: names in listing order, a lookup
    # returns the same Law object each time, and list_laws() has one row per name.
    assert list(sf.LAWS)[:3] == ["chinchilla", "kaplan", "farseer"]
    assert all(sf.LAWS[name].name == name and sf.LAWS[name] is sf.get_law(name) for name in sf.LAWS)
    assert list(sf.list_laws()["name"]) == list(sf.LAWS)
    assert "not_a_law" not in sf.LAWS and len(dict(sf.LAWS.items())) == len(sf.LAWS)


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        sf.not_a_name  # noqa: B018
    except AttributeError as exc:
        assert "not_a_name" in str(exc)
    else:
        raise AssertionError("sf.not_a_name did not raise")
