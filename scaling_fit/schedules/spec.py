"""Schedule spec strings: ``family:key=value,...`` → :class:`~scaling_fit.schedules.Schedule`.

Spec grammar (:func:`from_spec`)
--------------------------------
::

    spec    := family ":" setting ("," setting)*      (spaces are ignored)
    setting := key "=" value
    family  := constant | cosine | linear | wsd | multistage | step | invsqrt
    stages  := start "@" lr ((";" | "+") start "@" lr)*

Every family takes ``peak`` and ``total`` (required) and ``warmup`` (default 0).  Extra keys
(:data:`FAMILIES`): cosine, linear ``final``; wsd ``decay`` (required; < 1 a fraction of
``total``, >= 1 a number of steps), ``final``, ``shape`` (linear | exp | sqrt | cosine);
multistage ``stages`` (required); step ``every`` (required), ``factor``; invsqrt
``timescale``.  Numbers use Python syntax; step counts must be whole.  Example:
``wsd:peak=3e-4,total=24000,warmup=2160,decay=4000,final=3e-5,shape=exp``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from .builders import (
    Schedule,
    ScheduleLike,
    bad_value,
    check_lr,
    constant,
    cosine,
    inverse_sqrt,
    linear,
    multistage,
    step_decay,
    whole_number,
    wsd,
)

FAMILIES: dict[str, tuple[Callable[..., Schedule], tuple[str, ...], tuple[str, ...]]] = {
    # family: (builder, its extra keys, the required ones among them)
    "constant": (constant, (), ()),
    "cosine": (cosine, ("final",), ()),
    "linear": (linear, ("final",), ()),
    "wsd": (wsd, ("decay", "final", "shape"), ("decay",)),
    "multistage": (multistage, ("stages",), ("stages",)),
    "step": (step_decay, ("every", "factor"), ("every",)),
    "invsqrt": (inverse_sqrt, ("timescale",), ()),
}
_EXAMPLE = "cosine:peak=3e-4,total=24000,warmup=2160,final=3e-5"


def _parse_value(key: str, text: str, where: str) -> Any:
    try:
        if key == "shape":
            return text
        if key != "stages":
            return float(text)
        items = [p for part in text.split(";") for p in re.split(r"(?<![eE])\+", part)]
        return [(float(a), float(b)) for a, b in (item.split("@") for item in items)]
    except ValueError:
        stages = key == "stages"
        want = f"{key} = " + ("start@lr items joined by ';' or '+'" if stages else "a number")
        raise bad_value(
            where, want, text, "e.g. 8000@9e-5;12000@3e-5." if stages else "e.g. 3e-4."
        ) from None


def from_spec(spec: str, *, total: int | None = None) -> Schedule:
    """Build a schedule from a spec string (grammar in the module docstring).

    Parameters
    ----------
    spec : str
        E.g. ``"wsd:peak=3e-4,total=24000,warmup=2160,decay=0.2,final=3e-5,shape=linear"``.
    total : int, optional
        Number of steps, used when the spec has no ``total``.

    Raises
    ------
    DataError
        Unknown family or key, missing or malformed value; the message lists what is valid.
    """
    where, fix = f"schedule spec {spec!r}", f"write 'family:key=value,...', e.g. {_EXAMPLE!r}."
    if not isinstance(spec, str):
        raise bad_value("schedule spec", "a string", spec, fix)
    family, colon, body = "".join(spec.split()).partition(":")
    if not colon:
        raise bad_value(where, "'family:key=value,...'", spec, fix)
    if family not in FAMILIES:
        raise bad_value(where, f"a family in {', '.join(FAMILIES)}", family, fix)
    builder, extra, required = FAMILIES[family]
    keys, kwargs = ("peak", "total", "warmup", *extra), {}
    for item in filter(None, body.split(",")):
        key, eq, text = item.partition("=")
        if not eq or key in kwargs or key not in keys:
            want = f"key=value settings, each key once, keys of {family}: {', '.join(keys)}"
            raise bad_value(where, want, item, f"use only those keys, e.g. {_EXAMPLE!r}.")
        kwargs[key] = _parse_value(key, text, where)
    if total is not None:
        kwargs.setdefault("total", total)
    missing = [k for k in ("peak", "total", *required) if k not in kwargs]
    if missing:
        want = f"the keys {', '.join(('peak', 'total', *required))}"
        found = f"no {', '.join(missing)}"
        raise bad_value(where, want, found, f"add {missing[0]}=..., e.g. {_EXAMPLE!r}.")
    return builder(kwargs.pop("peak"), kwargs.pop("total"), **kwargs)


def as_schedule(obj: ScheduleLike, total: int | None = None) -> Schedule:
    """Turn a Schedule, spec string, callable or LR array into a :class:`Schedule`.

    Parameters
    ----------
    obj : Schedule, str, callable or array_like
        A callable is called once with the 1-based steps ``1..total`` and returns their LRs
        (a scalar is broadcast).  An array holds one LR per step (``lr[i]`` is step i + 1).
        Callables and arrays give ``name="custom"``, ``warmup=0`` and an empty ``spec``.
    total : int, optional
        Number of steps: needed for a callable, fills in a spec without ``total``, and
        otherwise must equal the schedule's length.
    """
    if isinstance(obj, str):
        obj = from_spec(obj, total=total)
    elif not isinstance(obj, Schedule):
        if callable(obj):
            if total is None:
                raise bad_value(
                    "as_schedule", "total (steps) with a callable", None, "pass total=."
                )
            steps = np.arange(1, whole_number(total, "total", "as_schedule", 1, np.inf) + 1)
            values = np.asarray(obj(steps), dtype=np.float64)
            obj = np.broadcast_to(values, steps.shape) if values.ndim == 0 else values
        lr = check_lr(obj, "as_schedule")
        obj = Schedule("custom", {"total": lr.size}, lr)
    if total is not None and obj.total != total:
        fix = "drop total or make the two agree."
        raise bad_value("as_schedule", f"total={total} steps", f"{obj.total} steps", fix)
    return obj
