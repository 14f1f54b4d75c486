"""Small server-rendered SVG charts (no JavaScript; CSP allows no inline styles, so only attributes)."""

import math
from dataclasses import dataclass

WIDTH, HEIGHT, PAD_L, PAD_B, PAD_T = 720, 220, 56, 24, 10


@dataclass
class Bar:
    x: float
    y: float
    w: float
    h: float
    label: str
    cls: str = "bar"


@dataclass
class Marker:
    x: float
    y: float
    label: str
    cls: str


def _scale(value: float, top: float, log: bool) -> float:
    """Pixel height of a value; log scale for ramps spanning 200/day to millions/day."""
    plot = HEIGHT - PAD_B - PAD_T
    if top <= 0:
        return 0.0
    if log:
        return plot * math.log10(1 + value) / math.log10(1 + top)
    return plot * value / top


def ramp_chart(limits: list[int]) -> dict:
    """Daily limit per step, one bar per step, log scale."""
    top = max(limits or [1])
    n = max(1, len(limits))
    slot = (WIDTH - PAD_L) / n
    bars = []
    for i, v in enumerate(limits):
        h = _scale(v, top, log=True)
        bars.append(
            Bar(PAD_L + i * slot + 1, HEIGHT - PAD_B - h, max(1.0, slot - 2), h, f"step {i + 1}: {v:,}/day")
        )
    ticks = [t for t in (100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000) if t <= top * 1.01]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "bars": bars,
        "ticks": [(HEIGHT - PAD_B - _scale(t, top, log=True), f"{t:,}") for t in ticks],
        "pad_l": PAD_L,
        "base": HEIGHT - PAD_B,
    }


def timeline_chart(days: list[tuple[str, int, int | None, str]]) -> dict:
    """Per day: (label, sent, limit, decision action) -> sent bars, limit ticks and decision markers."""
    top = max([max(sent, limit or 0) for _, sent, limit, _ in days] or [1]) or 1
    n = max(1, len(days))
    slot = (WIDTH - PAD_L) / n
    bars, limits, markers = [], [], []
    for i, (label, sent, limit, action) in enumerate(days):
        x = PAD_L + i * slot
        h = _scale(sent, top, log=False)
        over = limit is not None and sent > limit
        bars.append(
            Bar(
                x + 1,
                HEIGHT - PAD_B - h,
                max(1.0, slot - 2),
                h,
                f"{label}: {sent:,} sent",
                "bar bad" if over else "bar",
            )
        )
        if limit is not None:
            y = HEIGHT - PAD_B - _scale(limit, top, log=False)
            limits.append(Bar(x, y, slot, 2, f"{label}: limit {limit:,}", "limit"))
        if action and action != "hold":
            markers.append(Marker(x + slot / 2, PAD_T + 4, f"{label}: {action}", f"marker {action}"))
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "bars": bars,
        "limits": limits,
        "markers": markers,
        "top": top,
        "pad_l": PAD_L,
        "base": HEIGHT - PAD_B,
        "first": days[0][0] if days else "",
        "last": days[-1][0] if days else "",
    }
