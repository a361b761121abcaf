"""HTML pieces of the report: the page, sections, tables, cards and embedded figures.

Everything the page needs is inside it: styles inline, figures as base64 PNG data URIs, no
script, no font or image fetched, so it opens from disk and in a mail attachment alike.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence
from typing import Any

from ..results.numbers import count, human  # noqa: F401  (count kept importable here)

# A word longer than this many characters may be broken anywhere in a table cell.
LONG_WORD = 24
CSS = """
:root { --ink: #1d2430; --muted: #5b6576; --line: #dfe3ea; --bg: #f6f7f9; --accent: #2b5cab;
  --warn: #9a5b00; --warn-bg: #fff6e5; --good: #1f7a4d; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1140px; margin: 0 auto; padding: 28px 28px 60px; }
@media (max-width: 900px) { main { padding: 16px 10px 40px; } section { padding: 14px 12px; } }
header h1 { margin: 0 0 4px; font-size: 28px; }
header p { margin: 0; color: var(--muted); }
nav { margin: 14px 0 22px; font-size: 14px; }
nav a { color: var(--accent); text-decoration: none; margin-right: 16px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 10px;
  padding: 18px 22px; margin: 18px 0; }
h2 { margin: 0 0 12px; font-size: 20px; }
h3 { margin: 18px 0 8px; font-size: 16px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(190px, 1fr)); gap: 12px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px;
  background: #fbfcfe; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase;
  letter-spacing: .04em; }
.card .value { font-size: 24px; font-weight: 600; margin: 2px 0; }
.card .note { color: var(--muted); font-size: 13px; }
.figures { display: grid; grid-template-columns: minmax(0, 1fr); gap: 14px; }
figure { margin: 0; min-width: 0; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--line);
  border-radius: 6px; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
.scroll { max-width: 100%; overflow-x: auto; }
table { border-collapse: collapse; font-size: 14px; margin: 6px 0 10px; }
td { overflow-wrap: break-word; }
td.long { word-break: break-all; min-width: 12em; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { color: var(--muted); font-weight: 600; }
tr.best td { background: #eef6f0; }
.warnings { background: var(--warn-bg); border-left: 4px solid var(--warn); padding: 8px 14px;
  border-radius: 6px; }
.warnings li { margin: 3px 0; }
.muted { color: var(--muted); }
code, pre { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: #f1f3f6; padding: 10px 12px; border-radius: 6px; overflow-x: auto;
  white-space: pre-wrap; word-break: break-all; }
.tag { display: inline-block; font-size: 12px; padding: 1px 8px; border-radius: 10px;
  background: #e8eefb; color: var(--accent); margin-left: 8px; vertical-align: middle; }
"""


def esc(value: Any) -> str:
    """HTML-escaped text of ``value``."""
    return html.escape(str(value))


def page(title: str, subtitle: str, sections: Sequence[tuple[str, str, str]]) -> str:
    """The whole document: header, a table of contents, and (id, heading, body) sections."""
    nav = "".join(f'<a href="#{sid}">{esc(head)}</a>' for sid, head, _ in sections)
    body = "".join(
        f'<section id="{sid}"><h2>{esc(head)}</h2>{content}</section>'
        for sid, head, content in sections
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body><main>"
        f"<header><h1>{esc(title)}</h1><p>{esc(subtitle)}</p></header>"
        f"<nav>{nav}</nav>{body}</main></body></html>\n"
    )


def card(label: str, value: str, note: str = "") -> str:
    """A summary card: a small label, a big value, a note beneath."""
    return (
        f'<div class="card"><div class="label">{esc(label)}</div>'
        f'<div class="value">{esc(value)}</div><div class="note">{esc(note)}</div></div>'
    )


def cards(items: Iterable[str]) -> str:
    """Cards side by side."""
    return f'<div class="cards">{"".join(items)}</div>'


def table(
    header: Sequence[str], rows: Iterable[Sequence[Any]], highlight: int | None = None
) -> str:
    """A table; row ``highlight`` (0-based) is marked as the best."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join(
        f"<tr{' class=best' if i == highlight else ''}>" + "".join(map(_cell, row)) + "</tr>"
        for i, row in enumerate(rows)
    )
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody>'
        "</table></div>"
    )


def _cell(value: Any) -> str:
    """A table cell; one holding a long unbroken word (a hash, a path, a schedule spec) may
    break anywhere, so that it never widens the page."""
    text = str(value)
    long = any(len(word) > LONG_WORD for word in text.split())
    return f"<td{' class=long' if long else ''}>{esc(text)}</td>"


def warning_list(messages: Sequence[str]) -> str:
    """The warnings as a highlighted list, or a line saying there were none."""
    if not messages:
        return '<p class="muted">No warnings.</p>'
    items = "".join(f"<li>{esc(m)}</li>" for m in messages)
    return f'<div class="warnings"><ul>{items}</ul></div>'


def image(png: bytes, alt: str, caption: str = "") -> str:
    """A figure embedded as a base64 PNG data URI, with alt text and an optional caption.

    The image is shown at its own pixel size, or narrower to fit the page (never enlarged),
    so its text is read at the size it was drawn (:func:`scaling_fit.plotting.figure.readable`).
    """
    data = base64.b64encode(png).decode("ascii")
    note = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return f'<figure><img src="data:image/png;base64,{data}" alt="{esc(alt)}">{note}</figure>'


def figures(items: Iterable[str]) -> str:
    """Figures one under the other, each as wide as it was drawn or as the page allows."""
    return f'<div class="figures">{"".join(items)}</div>'


def count_interval(bounds: Any) -> str:
    """'[40B, 107B]' or '—' when there is no interval."""
    if bounds is None:
        return "—"
    lo, hi = bounds
    return "—" if lo != lo or hi != hi else f"[{count(lo)}, {count(hi)}]"


def paragraph(text: str) -> str:
    """An escaped paragraph."""
    return f"<p>{esc(text)}</p>"


def code_block(text: str) -> str:
    """Preformatted, escaped text."""
    return f"<pre><code>{esc(text)}</code></pre>"


def fmt(value: Any, digits: int = 4) -> str:
    """A number to ``digits`` significant figures; '—' for None/NaN."""
    if value is None:
        return "—"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return "—" if number != number else f"{number:.{digits}g}"


def interval(bounds: Any, digits: int = 4) -> str:
    """'[lo, hi]' or '—' when there is no interval."""
    if bounds is None:
        return "—"
    lo, hi = bounds
    return "—" if lo != lo else f"[{fmt(lo, digits)}, {fmt(hi, digits)}]"
