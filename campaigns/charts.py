"""Server-rendered SVG bar charts.

The CSP forbids inline scripts and inline style attributes, so a chart is plain SVG geometry (x, y, width,
height attributes) computed here and rendered by ``templates/campaigns/_chart.html``; colours come from CSS
classes (``.chart .bar``, ``.bar.bad``...) in app.css. Every series value gets a bar, zeros included, so a
chart of N days by S series always has N*S bars.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "middle"


@dataclass(frozen=True)
class Series:
    name: str
    css: str
    values: Sequence[int]


@dataclass
class Chart:
    width: int
    height: int
    title: str
    bars: list[Bar] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    # (x1, y1, x2, y2) axis and grid lines
    lines: list[tuple[float, float, float, float]] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (name, css)
    max_value: int = 0

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"

    @property
    def empty(self) -> bool:
        return self.max_value == 0


def _nice_max(value: int) -> int:
    """Round the axis maximum up to 1, 2 or 5 times a power of ten, so the grid labels read well."""
    if value <= 0:
        return 1
    magnitude = 1
    while magnitude * 10 <= value:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def _r(value: float) -> float:
    return round(value, 1)


def grouped_bars(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    width: int = 720,
    height: int = 220,
    label_every: int | None = None,
) -> Chart:
    """Vertical bars: one group per category (e.g. a day), one bar per series inside each group."""
    left, right, top, bottom = 44, 8, 10, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((v for s in series for v in s.values), default=0)
    axis_max = _nice_max(peak)
    chart = Chart(width=width, height=height, title=title, max_value=peak)
    chart.legend = [(s.name, s.css) for s in series]
    chart.lines.append((left, top + plot_h, left + plot_w, top + plot_h))
    for fraction in (0.5, 1.0):
        y = _r(top + plot_h - plot_h * fraction)
        chart.lines.append((left, y, left + plot_w, y))
        chart.labels.append(Label(left - 4, y + 3, f"{int(axis_max * fraction):,}", "end"))
    chart.labels.append(Label(left - 4, top + plot_h + 3, "0", "end"))
    if not categories or not series:
        return chart
    group_w = plot_w / len(categories)
    gap = max(group_w * 0.15, 1.0)
    bar_w = max((group_w - gap) / len(series), 0.5)
    every = label_every or max(1, -(-len(categories) // 10))  # at most ~10 labels on the axis
    for i, category in enumerate(categories):
        x0 = left + i * group_w + gap / 2
        for j, s in enumerate(series):
            value = s.values[i] if i < len(s.values) else 0
            h = plot_h * value / axis_max
            chart.bars.append(
                Bar(
                    x=_r(x0 + j * bar_w),
                    y=_r(top + plot_h - h),
                    width=_r(bar_w),
                    height=_r(h),
                    css=s.css,
                    title=f"{category} · {s.name}: {value:,}",
                )
            )
        if i % every == 0:
            chart.labels.append(Label(_r(left + i * group_w + group_w / 2), height - 8, category))
    return chart


def horizontal_bars(
    items: Sequence[tuple[str, int]],
    *,
    title: str,
    css: str = "",
    width: int = 720,
    row_height: int = 22,
) -> Chart:
    """One horizontal bar per (label, value), e.g. bounces by category, longest first as given."""
    left, right, top = 170, 60, 4
    plot_w = width - left - right
    height = top * 2 + row_height * max(len(items), 1)
    peak = max((v for _, v in items), default=0)
    chart = Chart(width=width, height=height, title=title, max_value=peak)
    for i, (label, value) in enumerate(items):
        y = top + i * row_height
        w = plot_w * value / peak if peak else 0
        chart.bars.append(
            Bar(
                x=left,
                y=y + 3,
                width=_r(w),
                height=row_height - 6,
                css=css,
                title=f"{label}: {value:,}",
            )
        )
        chart.labels.append(Label(left - 6, y + row_height / 2 + 4, label[:28], "end"))
        chart.labels.append(Label(_r(left + w + 4), y + row_height / 2 + 4, f"{value:,}", "start"))
    return chart
