"""The one base of every result class: JSON, text and HTML from the same parts, one registry.

A result class names its JSON ``FORMAT`` tag (``"scaling_fit.<Class>/1"``) and defines
``to_dict``, ``_from_dict`` (the inverse) and ``sections``; :class:`Result` gives it
``to_json`` (atomic, refuses an existing file unless ``overwrite=True``), ``from_json``,
``report()`` (text) and ``_repr_html_()`` (notebooks), both rendered from ``sections()``
(as statsmodels' ``Summary``).  Defining the class registers its tag, so
:func:`read_result` reads any result file without being told its class.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pandas as pd

from ..errors import DataError
from .json_file import JsonResult, load_result_json, read_json_source

__all__ = ["REGISTRY", "Result", "Section", "Table", "read_result"]

R = TypeVar("R", bound="Result")

REGISTRY: dict[str, type[Result]] = {}
"""``format`` tag -> result class; filled when a class with a ``FORMAT`` is defined."""


@dataclass(frozen=True)
class Table:
    """A table of a section: pandas' ``to_string`` as text (or ``lines`` when the text
    has its own layout), an HTML ``<table>`` in notebooks."""

    frame: pd.DataFrame
    index: bool = False
    float_format: Callable[[float], str] | None = None
    lines: tuple[str, ...] | None = None

    def text(self) -> str:
        """The table as text."""
        if self.lines is not None:
            return "\n".join(self.lines)
        return self.frame.to_string(index=self.index, float_format=self.float_format)

    def html(self) -> str:
        """The table as an HTML ``<table>``: a header row, then one row per row."""
        frame = self.frame.reset_index() if self.index else self.frame
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
        rows = "".join(
            "<tr>" + "".join(f"<td>{self._cell(v)}</td>" for v in row) + "</tr>"
            for row in frame.itertuples(index=False)
        )
        return f"<table><tr>{head}</tr>{rows}</table>"

    def _cell(self, value: Any) -> str:
        if isinstance(value, float):
            return html.escape(self.float_format(value) if self.float_format else f"{value:.6g}")
        return "" if value is None else html.escape(str(value))


@dataclass(frozen=True)
class Section:
    """One part of a report: a title line, then lines of text and tables in order."""

    title: str
    body: Sequence[str | Table] = field(default_factory=tuple)


class Result(JsonResult):
    """Base of every result: ``to_dict``/``to_json``/``from_json``, ``report``/HTML, registry.

    Subclasses set ``FORMAT`` (the JSON tag, e.g. ``"scaling_fit.FitResult/1"``) and may
    list older tags they still read in ``ALIASES``; they define :meth:`to_dict`,
    :meth:`_from_dict` and :meth:`sections`.
    """

    FORMAT: ClassVar[str] = ""
    ALIASES: ClassVar[tuple[str, ...]] = ()
    WHAT: ClassVar[str] = "result"
    EXPECTED: ClassVar[str] = ""  # what writes the JSON, for messages

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "FORMAT" not in cls.__dict__:
            return
        for tag in (cls.FORMAT, *cls.ALIASES):
            if tag in REGISTRY and REGISTRY[tag].__qualname__ != cls.__qualname__:
                raise TypeError(f"result format {tag!r} is already taken by {REGISTRY[tag]}")
            REGISTRY[tag] = cls

    # ---------------------------------------------------------------- to override
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary carrying ``"format": FORMAT`` (the inverse of ``from_json``)."""
        raise NotImplementedError

    @classmethod
    def _from_dict(cls: type[R], raw: dict[str, Any]) -> R:
        """The result of a parsed ``to_dict`` (raise KeyError/ValueError on a bad field)."""
        raise NotImplementedError

    def sections(self) -> list[Section]:
        """The parts :meth:`report` and ``_repr_html_`` render: title, lines and tables."""
        raise NotImplementedError

    # ---------------------------------------------------------------- provided
    @classmethod
    def from_json(cls: type[R], source: str | Path) -> R:
        """Rebuild a result from JSON text or a file written by :meth:`to_json`.

        Raises
        ------
        DataError
            When the text is not JSON, carries another ``format`` tag or lacks a field;
            the message names the file.
        """
        tags = (cls.FORMAT, *cls.ALIASES)

        def build(raw: dict[str, Any]) -> R:
            return cls._from_dict(raw)

        return load_result_json(
            source,
            tags,
            build,
            what=cls.WHAT,
            expected=cls.EXPECTED or f"the JSON written by {cls.__name__}.to_json()",
        )

    def report(self) -> str:
        """Plain text: each section's title, then its lines and tables."""
        return render_text(self.sections())

    def _repr_html_(self) -> str:
        """HTML for notebooks: the same sections as :meth:`report`."""
        return render_html(self.sections())


def render_text(sections: Sequence[Section]) -> str:
    """The sections as plain text (title line, then body lines and tables)."""
    lines: list[str] = []
    for section in sections:
        lines.append(section.title)
        lines += [part.text() if isinstance(part, Table) else part for part in section.body]
    return "\n".join(lines)


def render_html(sections: Sequence[Section]) -> str:
    """The sections as one HTML ``<div>``: a heading per title, ``<pre>`` text, tables."""
    parts = ['<div class="scaling-fit-result">']
    for section in sections:
        parts.append(f"<h4>{html.escape(section.title)}</h4>")
        text: list[str] = []
        for part in section.body:
            if isinstance(part, Table):
                if text:
                    parts.append(f"<pre>{html.escape(chr(10).join(text))}</pre>")
                    text = []
                parts.append(part.html())
            else:
                text.append(part)
        if text:
            parts.append(f"<pre>{html.escape(chr(10).join(text))}</pre>")
    return "".join(parts) + "</div>"


def read_result(source: str | Path) -> Result:
    """Read any scaling_fit result from JSON text or a file, by its ``format`` tag.

    Parameters
    ----------
    source
        JSON text, or the path of a file written by a result's ``to_json``.

    Returns
    -------
    Result
        An instance of the class registered for the tag (e.g. :class:`~scaling_fit.FitResult`).

    Raises
    ------
    DataError
        When the JSON has no ``format`` tag of a known result; the message lists the tags.
    """
    from .json_file import is_json_path

    where = f"file {source}" if is_json_path(source) else "the JSON text"
    expected = "expected the JSON written by a scaling_fit result's to_json()"
    text = read_json_source(source, where, expected)
    try:
        raw = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise DataError(f"{where} is not JSON ({exc}); {expected}") from None
    tag = raw.get("format") if isinstance(raw, dict) else None
    _load_all()
    if tag not in REGISTRY:
        raise DataError(
            f"{where}: format tag {tag!r} is not a scaling_fit result; expected one of "
            f"{sorted({c.FORMAT for c in REGISTRY.values()})}"
        )
    return REGISTRY[tag].from_json(text)


RESULT_MODULES = (
    "fit_result",
    "isoflop_result",
    "isoflop_groups",
    "backtest_result",
    "choose_law_result",
    "hparams_result",
    "critical_batch_result",
    "schedule_choice",
    "forecast_result",
    "plan_result",
    "predictions_result",
    "report_summary",
)


def _load_all() -> None:
    """Import every result module, so that each class has registered its tag."""
    import importlib

    for name in RESULT_MODULES:
        importlib.import_module(f"{__package__}.{name}")
