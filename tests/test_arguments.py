"""Argument domains declared once (scaling_fit.arguments), checked at every public entry point.

The cases are generated from the signatures: every public function of ``scaling_fit.__all__``
and every public method of its classes, every parameter whose name has a declared domain,
and each of the probes -1, 2.5, "x" and True that lies outside that domain.  A public callable
with such a parameter that is not wrapped by ``checked`` fails ``test_every_declared_name_is_
checked``; one whose check is lost fails its generated cases.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import scaling_fit as sf
from scaling_fit.arguments import DOMAINS, MARK, checked

PROBES: tuple[Any, ...] = (-1, 2.5, "x", True)


def public_callables() -> Iterator[tuple[str, Callable[..., Any]]]:
    """(name, function) for every public function and public method of a public class."""
    for name in sf.__all__:
        value = getattr(sf, name)
        if inspect.isfunction(value):
            yield name, value
        elif inspect.isclass(value) and value.__module__.startswith("scaling_fit"):
            for attr, member in vars(value).items():
                if isinstance(member, (classmethod, staticmethod)):
                    member = member.__func__
                if not attr.startswith("_") and inspect.isfunction(member):
                    yield f"{name}.{attr}", member


def declared(function: Callable[..., Any]) -> list[str]:
    return [p for p in inspect.signature(function).parameters if p in DOMAINS]


def cases() -> list[Any]:
    """One case per (public callable, declared parameter, probe outside its domain)."""
    found = []
    for label, function in public_callables():
        for name in declared(function):
            for probe in PROBES:
                if not DOMAINS[name].test(probe):
                    found.append(
                        pytest.param(function, name, probe, id=f"{label}-{name}={probe!r}")
                    )
    return found


CASES = cases()


def call_with(function: Callable[..., Any], name: str, value: Any) -> None:
    """Call ``function`` with ``name=value``, every other required argument None (or a value
    inside its domain when it has one): the check comes before any work."""
    keywords = {name: value}
    for parameter in inspect.signature(function).parameters.values():
        required = parameter.default is parameter.empty
        if parameter.name == name or not required or parameter.kind in VARIADIC:
            continue
        keywords[parameter.name] = inside(parameter.name) if parameter.name in DOMAINS else None
    function(**keywords)


VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


def inside(name: str) -> Any:
    """A value inside the declared domain of ``name``."""
    return next(v for v in (1000, 0.5, "auto") if DOMAINS[name].test(v))


def test_generated_cases_cover_the_public_surface() -> None:
    labels = {case.id.split("-")[0] for case in CASES}
    # the count is reported in the closing note of issue 19; a drop means a check was lost
    assert len(CASES) >= 150, len(CASES)
    assert {"fit", "isoflop", "fit_hparams", "write_report", "forecast", "choose_law"} <= labels
    assert {"FitResult.predict_curve", "IsoflopResult.curves", "HparamsResult.predict"} <= labels


@pytest.mark.parametrize(("function", "name", "value"), CASES)
def test_value_outside_the_domain_is_a_data_error_naming_it(
    function: Callable[..., Any], name: str, value: Any
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(sf.DataError) as caught:
            call_with(function, name, value)
    message = str(caught.value)
    assert message.startswith(f"{function.__qualname__}: {name}={value!r}"), message
    assert "expected" in message


def test_every_declared_name_is_checked() -> None:
    unchecked = [
        label
        for label, function in public_callables()
        if declared(function) and set(getattr(function, MARK, ())) != set(declared(function))
    ]
    assert unchecked == []


def test_the_unchecked_detector_catches_a_missing_check() -> None:
    def plain(runs: Any, *, seed: int = 0) -> None: ...

    assert declared(plain) == ["seed"] and getattr(plain, MARK, None) is None
    assert getattr(checked(plain), MARK) == ("seed",)


@pytest.mark.parametrize(
    ("name", "inside", "outside"),
    [
        ("bootstrap", [0, 10, 100_000, 5.0], [-1, 2.5, True, "10", 100_001, math.nan]),
        ("seed", [0, 2**32 - 1], [-1, 2**32, None, 1.5, False]),
        ("n_jobs", [1, -1, 4], [0, 1.5, True, "2"]),
        ("level", [0.5, 0.95, 1e-9], [0, 1, 1.0, -0.1, True, math.inf, "0.9"]),
        ("every", [1, 100], [0, -5, 1.5]),
        ("delta", [1e-3, 1e-12, 1e3], [0, -1e-3, 1e4, True, math.nan]),
        ("progress", [True, False, "auto"], [1, 0, "yes", None]),
    ],
)
def test_declared_domains_hold_their_edges(name: str, inside: list, outside: list) -> None:
    assert all(DOMAINS[name].test(v) for v in inside), name
    assert not any(DOMAINS[name].test(v) for v in outside), name


def test_none_passes_only_where_it_is_the_default() -> None:
    # seq_len=None is fit_hparams' default (no conversion); seed=None is no seed of ours
    with pytest.raises(sf.DataError, match=r"^isoflop: seed=None \(--seed\): expected"):
        sf.isoflop(None, seed=None)
    with pytest.raises(sf.DataError, match=r"^fit_hparams: seq_len=0 \(--seq-len\)"):
        sf.fit_hparams(None, seq_len=0)


def test_issue_19_examples() -> None:
    with pytest.raises(sf.DataError, match=r"^isoflop: bootstrap=-5 \(--bootstrap\): expected"):
        sf.isoflop("no-such-file.csv", bootstrap=-5)
    with pytest.raises(sf.DataError, match=r"^fit_hparams: bootstrap=2.5 \(--bootstrap\)"):
        sf.fit_hparams("no-such-file.csv", bootstrap=2.5)
    with pytest.raises(sf.DataError, match=r"^write_report: bootstrap=-1 \(--bootstrap\)"):
        sf.write_report("no-such-file.csv", bootstrap=-1)


def test_write_report_over_an_existing_file_is_ours(tmp_path: Any) -> None:
    page = tmp_path / "report.html"
    page.write_text("keep me")
    with pytest.raises(sf.OutputExistsError, match="exists; pass overwrite=True") as caught:
        sf.write_report("no-such-file.csv", "chinchilla", page)
    assert isinstance(caught.value, sf.ScalingFitError)
    assert page.read_text() == "keep me"


def test_renamed_keyword_warns_and_still_works() -> None:
    with pytest.warns(DeprecationWarning, match=r"forecast: n_boot= is renamed bootstrap="):
        with pytest.raises(sf.DataError, match=r"^forecast: bootstrap=-1 \(--bootstrap\)"):
            sf.forecast(None, "cosine", n_boot=-1)
    with pytest.raises(sf.DataError, match=r"n_boot= is the old name of bootstrap="):
        sf.forecast(None, "cosine", n_boot=5, bootstrap=5)
