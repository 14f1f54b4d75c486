"""Numbers as people read them. Knows no business area: any app's pages, charts and explanations use it."""

from __future__ import annotations

import math

__all__ = ["format_rate"]


def format_rate(value: float | None, *, digits: int = 2) -> str:
    """A fraction as percent with two significant digits: 0.0147 -> "1.5%", 0.00012 -> "0.012%",
    0.25 -> "25%", 1 -> "100%". None (nothing to divide by) -> "—"."""
    if value is None:
        return "—"
    pct = value * 100
    if pct == 0:
        return "0%"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(pct))))
    rounded = round(pct, decimals)
    # 9.96 rounds to 10.0: one significant digit too many.
    if rounded and decimals and math.floor(math.log10(abs(rounded))) > math.floor(math.log10(abs(pct))):
        decimals -= 1
        rounded = round(pct, decimals)
    return f"{rounded:.{decimals}f}%"
