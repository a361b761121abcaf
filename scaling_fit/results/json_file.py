"""JSON text and files of the result classes: one writer and one reader, so every result's
``to_json`` and ``from_json`` behave alike.

:func:`json_dumps` is the one JSON writer of the package (results and the command line):
indented objects, but each array of numbers (or other plain values) on one line, so a
curve of 240 points is one line, not 240.

``to_json(path)`` writes the text atomically and returns it; like
:meth:`scaling_fit.FitResult.to_json` it refuses to replace an existing file unless
``overwrite=True``; ``from_json`` takes JSON text or a
file, checks its ``format`` tag (``scaling_fit.<Class>/1``) and raises
:class:`~scaling_fit.errors.DataError` naming the file when it is not the expected result.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
import pandas as pd

from ..errors import DataError, OutputExistsError
from .atomic import write_text_atomic
from .json_safe import json_safe

Result = TypeVar("Result")


class _HasDict(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


class JsonResult:
    """Mixin: a result's ``to_json`` from its ``to_dict``, the same for every result class."""

    def to_json(
        self: _HasDict, path: str | Path | None = None, *, indent: int = 2, overwrite: bool = False
    ) -> str:
        """Serialise to JSON text; also write it to ``path`` when given.

        Parameters
        ----------
        path
            File to write atomically (:mod:`scaling_fit.results.atomic`), or None to only
            return the text.
        indent
            Indentation of the JSON.
        overwrite
            Replace an existing ``path``; otherwise it raises
            :class:`~scaling_fit.errors.OutputExistsError`.

        Returns
        -------
        str
            Strict JSON text (NaN written as null) tagged with the result's ``format``,
            without a trailing newline (the file gets one).
        """
        return dump_json(self.to_dict(), path, indent, overwrite=overwrite)


def dump_json(
    data: dict[str, Any], path: str | Path | None, indent: int, *, overwrite: bool = False
) -> str:
    """``data`` as strict JSON text (no NaN); also written to ``path`` when given.

    Parameters
    ----------
    data
        A result's ``to_dict()`` (its ``format`` names the result in messages).
    path
        File to write atomically, or None to only return the text.
    indent
        Indentation passed to :func:`json.dumps`.
    overwrite
        Replace ``path`` when it exists; otherwise an existing file raises
        :class:`~scaling_fit.errors.OutputExistsError`.

    Returns
    -------
    str
        The JSON text, without a trailing newline (the file gets one); NaN and ±inf are
        written as null.
    """
    text = json_dumps(json_safe(data), indent)  # NaN and ±inf as null, whatever to_dict missed
    if path is not None:
        try:
            write_text_atomic(path, text + "\n", overwrite=overwrite)
        except FileExistsError:
            what = str(data.get("format", "result")).removeprefix("scaling_fit.").split("/")[0]
            raise OutputExistsError(
                f"{what}.to_json: file {str(path)!r} exists; pass overwrite=True to replace "
                "it, or choose another path"
            ) from None
    return text


def json_dumps(data: Any, indent: int | None = 2) -> str:
    """``data`` as strict JSON (no NaN): indented, each array of plain values on one line.

    Parameters
    ----------
    data
        What :func:`json.dumps` accepts (dicts, lists, tuples, str, int, float, bool, None).
    indent
        Spaces per level of objects and of arrays holding objects or arrays; None writes
        everything on one line.

    Returns
    -------
    str
        The JSON text, without a trailing newline.

    Raises
    ------
    DataError
        When ``data`` holds NaN or an infinity (strict JSON has neither; results write them
        as null through :func:`~scaling_fit.results.json_safe.json_safe`, so this names a
        field that missed it, and the command line prints one line, not a traceback).
    TypeError
        When ``data`` holds something JSON cannot represent.
    """
    try:
        if indent is None:
            return json.dumps(data, allow_nan=False)
        # A round trip checks the values as json.dumps does and makes keys strings.
        plain = json.loads(json.dumps(data, allow_nan=False))
    except ValueError as exc:
        raise DataError(
            f"cannot write strict JSON ({exc}) at {_non_finite(data) or 'a value'}: results "
            "write NaN as null, so this is a bug in scaling_fit; please report it"
        ) from None
    return _indented(plain, 0, indent)


def _non_finite(value: Any, where: str = "") -> str | None:
    """The path (``cells.penalty[3]``) of the first NaN or infinite float in ``value``."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"field {where or '(top)'!r} = {value}"
    items = value.items() if isinstance(value, dict) else None
    if isinstance(value, list | tuple):
        items = ((f"[{i}]", item) for i, item in enumerate(value))
        return next((f for k, v in items if (f := _non_finite(v, where + k))), None)
    if items is not None:
        return next(
            (f for k, v in items if (f := _non_finite(v, f"{where}.{k}" if where else str(k)))),
            None,
        )
    return None


def _indented(value: Any, level: int, indent: int) -> str:
    """JSON of ``value`` (already plain) at depth ``level``: arrays of scalars on one line."""
    if isinstance(value, list) and not any(isinstance(item, list | dict) for item in value):
        return "[" + ", ".join(json.dumps(item) for item in value) + "]"
    if not isinstance(value, list | dict) or not value:
        return json.dumps(value)
    pad, inner = " " * (indent * level), " " * (indent * (level + 1))
    if isinstance(value, dict):
        items = [f"{json.dumps(k)}: {_indented(v, level + 1, indent)}" for k, v in value.items()]
        open_, close = "{", "}"
    else:
        items = [_indented(item, level + 1, indent) for item in value]
        open_, close = "[", "]"
    return open_ + "\n" + ",\n".join(inner + item for item in items) + "\n" + pad + close


def is_json_path(source: str | Path) -> bool:
    """Whether ``source`` names a file (a Path, or text not starting with ``{``)."""
    return isinstance(source, Path) or not str(source).lstrip().startswith("{")


def load_result_json(
    source: str | Path,
    json_format: str | tuple[str, ...],
    build: Callable[[dict[str, Any]], Result],
    *,
    what: str,
    expected: str,
) -> Result:
    """The result ``build(raw)`` makes from JSON text or a file tagged ``json_format``.

    Parameters
    ----------
    source
        JSON text, or the path of a file written by a result's ``to_json``.
    json_format
        The ``format`` tag the JSON must carry, e.g. ``"scaling_fit.HparamsResult/1"``.
    build
        Makes the result from the parsed dictionary.
    what, expected
        For the message: what the JSON should be, and what writes it.

    Raises
    ------
    DataError
        When the text is not JSON, carries another format tag or lacks a field ``build``
        needs; the message names the file.
    """
    is_path = is_json_path(source)
    where = f"file {source}" if is_path else "the JSON text"
    text = read_json_source(source, where, f"expected {expected}")
    try:
        raw = json.loads(text)
        tags = (json_format,) if isinstance(json_format, str) else json_format
        if not isinstance(raw, dict) or raw.get("format") not in tags:
            raise KeyError("format")
        return build(raw)
    except RecursionError:
        raise DataError(
            f"{where} is nested too deep to be read (thousands of levels of brackets); "
            f"expected {expected}"
        ) from None
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{where} is not a scaling_fit {what} (not valid JSON: {exc}); expected {expected}"
        ) from None
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(
            f"{where} is not a scaling_fit {what} ({exc.__class__.__name__}: {exc}); "
            f"expected {expected}"
        ) from None


def read_json_source(source: str | Path, where: str, expected: str) -> str:
    """The text of a JSON file (or ``source`` itself when it is JSON text); DataError naming
    the file when it cannot be read or is not text."""
    if not is_json_path(source):
        return str(source)
    try:
        return Path(source).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DataError(f"{where} is not text (binary data?); {expected}") from None
    except OSError as exc:
        raise DataError(f"{where} cannot be read: {exc.strerror or exc}; {expected}") from None


def parse_json(text: str, where: str, expected: str) -> Any:
    """``json.loads(text)``; DataError naming ``where`` for text that is not JSON or is
    nested too deep for Python's parser (thousands of brackets)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{where}: not JSON ({exc}); {expected}") from None
    except RecursionError:
        raise DataError(
            f"{where}: nested too deep to be read (thousands of levels of brackets); {expected}"
        ) from None


def table_field(
    value: Any,
    field: str,
    required: tuple[str, ...],
    *,
    text: tuple[str, ...] = (),
    positive: tuple[str, ...] = (),
) -> pd.DataFrame:
    """A table stored in a result's JSON, checked: ``{column: [values]}`` of equal lengths
    or a list of ``{column: value}`` records, numbers (or null) in every column but
    ``text``, finite numbers > 0 in ``positive``.

    Raises
    ------
    ValueError
        Naming ``field`` and the column (:func:`load_result_json` adds the file).
    """
    if isinstance(value, list) and all(isinstance(row, dict) for row in value):
        names = list(dict.fromkeys(key for row in value for key in row))
        value = {name: [row.get(name) for row in value] for name in names}
    if not isinstance(value, dict) or not all(isinstance(v, list) for v in value.values()):
        raise ValueError(f"field {field!r}: expected a table (column -> list of values)")
    if len({len(v) for v in value.values()}) > 1:
        raise ValueError(f"field {field!r}: expected columns of equal length (a ragged table)")
    missing = [c for c in required if c not in value]
    if missing:
        raise ValueError(f"field {field!r}: columns {missing} are missing")
    for column, values in value.items():
        if column in text:
            continue
        for row, item in enumerate(values):
            number = isinstance(item, int | float) and not isinstance(item, bool)
            finite = number and _finite(item)
            ok = finite and item > 0 if column in positive else item is None or finite
            if not ok:
                expected = (
                    "a finite number > 0" if column in positive else "a finite number or null"
                )
                raise ValueError(
                    f"field '{field}.{column}[{row}]': expected {expected}, found {item!r}"
                )
    return pd.DataFrame(value).fillna(np.nan).infer_objects()


def _finite(value: float) -> bool:
    """Whether a number is finite as a float (an integer of 400 digits is not)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False
