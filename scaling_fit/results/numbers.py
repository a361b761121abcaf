"""Counts of parameters, tokens and FLOPs as people write them (1.3B, 70M, 3T)."""

from __future__ import annotations


def human(value: float) -> str:
    """A count as people write it: 1.3e9 -> '1.3B', 7e7 -> '70M', 3e12 -> '3T'."""
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= 0.9995 * size:  # 999.96M is shown as 1B, not 1e+03M
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}"


def count(value: float) -> str:
    """A count of parameters or tokens as people write it: 34B, 1.4T, 125M; '—' for NaN."""
    number = float(value)
    return "—" if number != number else human(number)
