"""The HTML report: one self-contained page of fits, analyses, figures and provenance."""

from __future__ import annotations

from .build import Report, write_report

__all__ = ["Report", "write_report"]
