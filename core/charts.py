"""Server-rendered SVG charts: grouped bars, horizontal bars and daily trend lines.

The CSP forbids inline scripts and inline style attributes, so a chart is plain SVG geometry (x, y, width,
height, path data) computed here and rendered by ``templates/core/_chart.html``; colours come from CSS
classes in app.css (``.chart .bar``, ``.bar.bad``, ``.line.s1``...).

Readable without colour (WCAG 1.4.1): series number i gets its own hatch pattern (bars) or its own marker
shape and dash (lines), the legend repeats that pattern or shape next to the name, and every chart carries
its data as a table (``Chart.table``) that the template puts in a ``<details>`` under the figure, for screen
readers and for anyone who wants the exact numbers.

Every series value gets a bar, zeros included, so a chart of N days by S series always has N*S bars.
Bars can also carry a per-category limit (a short mark across the category; a bar over it is drawn "bad"),
per-category events (a labelled dot at the top, e.g. a warmup decision that day) and a log value axis for
values spanning decades (a warmup ramp from 200/day to millions/day); the table gets their columns too.
``None`` in a line series means "no data that day" (e.g. a rate with nothing to divide by): the line breaks
there and the table shows "—" instead of a misleading zero.

This module knows no business area (it lives in core): callers pass the value formatter, e.g.
``campaigns.stats.format_rate`` for rates.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from core.dates import utc_today

__all__ = [
    "TREND_DAYS",
    "Chart",
    "Event",
    "Series",
    "grouped_bars",
    "horizontal_bars",
    "line_chart",
    "trend_days",
    "window",
]

# Series i uses PATTERNS[i % 4] (bars) and MARKERS[i % 4] (lines); the CSS dash for lines is class s<i>.
PATTERNS = ("solid", "hatch", "dots", "cross")
MARKERS = ("circle", "square", "triangle", "diamond")
NO_DATA = "—"

Formatter = Callable[[float], str]

# Trend cards offer the last 7 or the last 30 UTC days (?days=7|30).
TREND_DAYS = (7, 30)

# A per-process counter for pattern ids: several charts on one page must not share an SVG id.
_ids = itertools.count(1)


def format_count(value: float) -> str:
    return f"{int(value):,}"


@dataclass(frozen=True)
class Series:
    name: str
    css: str
    values: Sequence[float | None]


@dataclass(frozen=True)
class Event:
    """Something that happened in a category (a decision that day): a dot at the top of its slot, titled
    ``text``; ``css`` classes it (the caller's vocabulary, e.g. the decision's action)."""

    text: str
    css: str = ""


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str
    pattern: str = "solid"


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "middle"


@dataclass(frozen=True)
class Line:
    """One unbroken run of a series (a None value splits a series into several runs)."""

    points: str  # "x,y x,y ..." for <polyline points>
    css: str
    index: int


@dataclass(frozen=True)
class Marker:
    d: str  # SVG path data of the marker shape, centred on the value
    css: str
    index: int
    title: str


@dataclass(frozen=True)
class Reference:
    """A labelled horizontal line, e.g. a threshold: readable by its label, not by its colour."""

    y: float
    x1: float
    x2: float
    label: str


@dataclass(frozen=True)
class LegendItem:
    name: str
    css: str
    index: int
    pattern: str
    marker_d: str  # the series' marker shape at legend size ("" for bars)


@dataclass
class Table:
    columns: list[str] = field(default_factory=list)
    rows: list[tuple[str, list[str]]] = field(default_factory=list)


@dataclass
class Chart:
    width: int
    height: int
    title: str
    kind: str = "bars"  # bars | lines
    uid: str = field(default_factory=lambda: f"chart{next(_ids)}")
    bars: list[Bar] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    # (x1, y1, x2, y2) axis and grid lines
    lines: list[tuple[float, float, float, float]] = field(default_factory=list)
    series_lines: list[Line] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    # Bar charts: per-category limit marks (drawn as thin bars) and event dots.
    limits: list[Bar] = field(default_factory=list)
    events: list[Marker] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    legend: list[LegendItem] = field(default_factory=list)
    table: Table = field(default_factory=Table)
    max_value: float = 0
    has_data: bool = False

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"

    @property
    def empty(self) -> bool:
        return not self.has_data

    # The marks a chart has many of (a bar and a label per day, a marker per value, a table row per day),
    # rendered here rather than by template loops (core/_chart.html): the same markup, a fraction of the
    # cost on pages with several charts. Values go through localize + escape as a template variable does.
    @property
    def bars_svg(self) -> SafeString:
        out = []
        for b in self.bars:
            x, y, w, h = _v(b.x), _v(b.y), _v(b.width), _v(b.height)
            css = f" {_v(b.css)}" if b.css else ""
            hatch = (
                f'<rect class="hatch" fill="url(#{_v(self.uid)}-{_v(b.pattern)})" x="{x}" y="{y}" width="{w}"'
                f' height="{h}"/>'
                if b.pattern != "solid"
                else ""
            )
            out.append(
                f'<g><title>{_v(b.title)}</title><rect class="bar{css}" x="{x}" y="{y}" width="{w}"'
                f' height="{h}"/>{hatch}</g>\n  '
            )
        return _marks(out)

    @property
    def markers_svg(self) -> SafeString:
        return _marks(
            f'<path class="point{f" {_v(m.css)}" if m.css else ""}" d="{_v(m.d)}">'
            f"<title>{_v(m.title)}</title></path>"
            for m in self.markers
        )

    @property
    def labels_svg(self) -> SafeString:
        return _marks(
            f'<text x="{_v(lb.x)}" y="{_v(lb.y)}" text-anchor="{_v(lb.anchor)}">{_v(lb.text)}</text>'
            for lb in self.labels
        )

    @property
    def lines_svg(self) -> SafeString:
        return _marks(
            f'<line class="axis" x1="{_v(x1)}" y1="{_v(y1)}" x2="{_v(x2)}" y2="{_v(y2)}"/>'
            for x1, y1, x2, y2 in self.lines
        )

    @property
    def table_rows_html(self) -> SafeString:
        return _marks(
            f'<tr><th scope="row">{_v(label)}</th>{"".join(f"<td>{_v(v)}</td>" for v in cells)}</tr>'
            for label, cells in self.table.rows
        )

    @property
    def patterns(self) -> list[str]:
        """The hatch patterns this chart's bars and legend use (defined once in its <defs>)."""
        used = {b.pattern for b in self.bars} | {i.pattern for i in self.legend}
        return [p for p in PATTERNS if p in used and p != "solid"]


def _marks(parts: Iterable[str]) -> SafeString:
    """A chart's marks as one safe string: every value in ``parts`` went through ``_v``."""
    return mark_safe("".join(parts))  # noqa: S308 - every value is escaped by _v


def _v(value: object) -> str:
    """A value as ``{{ value }}`` renders it in a template: localized, then escaped."""
    return str(conditional_escape(str(localize(value))))


def nice_max(value: float) -> float:
    """Round the axis maximum up to 1, 2 or 5 times a power of ten, so the grid labels read well."""
    if value <= 0:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * magnitude >= value * (1 - 1e-9):
            return step * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def _r(value: float) -> float:
    return round(value, 1)


def _marker_d(shape: str, x: float, y: float, size: float = 3.5) -> str:
    """Path data for a marker shape centred on (x, y): shape, not colour, tells series apart."""
    s = size
    if shape == "square":
        s = size * 0.9
        return f"M{_r(x - s)},{_r(y - s)}h{_r(2 * s)}v{_r(2 * s)}h{_r(-2 * s)}z"
    if shape == "triangle":
        return f"M{_r(x)},{_r(y - s * 1.2)}L{_r(x + s * 1.1)},{_r(y + s)}L{_r(x - s * 1.1)},{_r(y + s)}z"
    if shape == "diamond":
        s = size * 1.25
        return f"M{_r(x)},{_r(y - s)}L{_r(x + s)},{_r(y)}L{_r(x)},{_r(y + s)}L{_r(x - s)},{_r(y)}z"
    # circle: two arcs
    return f"M{_r(x - s)},{_r(y)}a{s},{s} 0 1,0 {_r(2 * s)},0a{s},{s} 0 1,0 {_r(-2 * s)},0z"


def _legend(series: Sequence[Series], *, lines: bool) -> list[LegendItem]:
    return [
        LegendItem(
            name=s.name,
            css=s.css,
            index=i,
            pattern=PATTERNS[i % len(PATTERNS)],
            marker_d=_marker_d(MARKERS[i % len(MARKERS)], 12, 5) if lines else "",
        )
        for i, s in enumerate(series)
    ]


def _table(categories: Sequence[str], series: Sequence[Series], fmt: Formatter, first: str) -> Table:
    def cell(values: Sequence[float | None], i: int) -> str:
        value = values[i] if i < len(values) else None
        return NO_DATA if value is None else fmt(value)

    return Table(
        columns=[first, *(s.name for s in series)],
        rows=[(c, [cell(s.values, i) for s in series]) for i, c in enumerate(categories)],
    )


def _label_every(count: int, label_every: int | None) -> int:
    return label_every or max(1, -(-count // 10))  # at most ~10 labels on the axis


def _value_axis(
    chart: Chart, *, left: float, top: float, plot_w: float, plot_h: float, axis_max: float, fmt: Formatter
) -> None:
    chart.lines.append((left, top + plot_h, left + plot_w, top + plot_h))
    shown = {fmt(0)}
    for fraction in (1.0, 0.5):
        y = _r(top + plot_h - plot_h * fraction)
        chart.lines.append((left, y, left + plot_w, y))
        text = fmt(axis_max * fraction)
        if text not in shown:  # a count axis up to 1 has no whole number half way: no "0" twice
            chart.labels.append(Label(left - 4, y + 3, text, "end"))
            shown.add(text)
    chart.labels.append(Label(left - 4, top + plot_h + 3, fmt(0), "end"))


def _log_axis(
    chart: Chart, *, left: float, top: float, plot_w: float, plot_h: float, axis_max: float, fmt: Formatter
) -> None:
    """Grid lines at the axis maximum and at the powers of ten under it, each labelled; a power of ten too
    close to the next line up (its label would overlap) is left out."""
    base = top + plot_h
    chart.lines.append((left, base, left + plot_w, base))
    chart.labels.append(Label(left - 4, base + 3, fmt(0), "end"))
    kept: list[tuple[float, float]] = []  # (value, y), from the top down
    for tick in [axis_max, *reversed([10**k for k in range(1, 13) if 10**k < axis_max])]:
        y = _r(base - _log_height(tick, axis_max, plot_h))
        if (kept and y - kept[-1][1] < 12) or base - y < 12:
            continue
        kept.append((tick, y))
    for tick, y in kept:
        chart.lines.append((left, y, left + plot_w, y))
        chart.labels.append(Label(left - 4, y + 3, fmt(tick), "end"))


def _log_height(value: float, axis_max: float, plot_h: float) -> float:
    return plot_h * math.log10(1 + max(value, 0)) / math.log10(1 + axis_max)


def grouped_bars(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    width: int = 720,
    height: int = 220,
    label_every: int | None = None,
    category_name: str = "Day",
    fmt: Formatter = format_count,
    log: bool = False,
    limit: Series | None = None,
    events: Sequence[Event | None] = (),
    events_name: str = "Event",
) -> Chart:
    """Vertical bars: one group per category (e.g. a day), one bar per series inside each group.

    ``log``: a log value axis (values spanning decades). ``limit``: each category's limit (None: none that
    day), a mark across the category; a bar over it gets the ``bad`` class and says so in its title; the
    axis reaches the highest limit, so a limit is always on the chart. ``events``: per category, an
    ``Event`` (a dot at the top) or None."""
    peak = max((v or 0 for s in series for v in s.values), default=0)
    caps = list(limit.values) if limit else []
    axis_max = nice_max(max([peak, *(c for c in caps if c is not None)]))
    # Room on the left for the longest axis label ("2,000,000" on a warmup ramp), ~6.2 px a character.
    left, right, top, bottom = max(44, round(8 + 6.2 * len(fmt(axis_max)))), 8, 10, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    has_limits = any(c is not None for c in caps)
    chart = Chart(width=width, height=height, title=title, max_value=peak, has_data=peak > 0 or has_limits)
    chart.legend = _legend(series, lines=False)
    if limit:
        chart.legend.append(
            LegendItem(limit.name, f"limit {limit.css}".strip(), len(series), pattern="solid", marker_d="")
        )
    chart.table = _table(categories, [*series, *([limit] if limit else [])], fmt, category_name)
    if events:
        chart.table.columns.append(events_name)
        for i, (_, cells) in enumerate(chart.table.rows):
            event = events[i] if i < len(events) else None
            cells.append(event.text if event else "")
    axis = _log_axis if log else _value_axis
    axis(chart, left=left, top=top, plot_w=plot_w, plot_h=plot_h, axis_max=axis_max, fmt=fmt)
    if not categories or not series:
        return chart

    def height_of(value: float) -> float:
        return _log_height(value, axis_max, plot_h) if log else plot_h * value / axis_max

    group_w = plot_w / len(categories)
    gap = max(group_w * 0.15, 1.0)
    bar_w = max((group_w - gap) / len(series), 0.5)
    every = _label_every(len(categories), label_every)
    for i, category in enumerate(categories):
        x0 = left + i * group_w + gap / 2
        cap = caps[i] if i < len(caps) else None
        for j, s in enumerate(series):
            value = (s.values[i] if i < len(s.values) else 0) or 0
            h = height_of(value)
            over = cap is not None and value > cap
            chart.bars.append(
                Bar(
                    x=_r(x0 + j * bar_w),
                    y=_r(top + plot_h - h),
                    width=_r(bar_w),
                    height=_r(h),
                    css=f"{s.css} bad".strip() if over else s.css,
                    title=f"{category} · {s.name}: {fmt(value)}" + (" (over the limit)" if over else ""),
                    pattern=PATTERNS[j % len(PATTERNS)],
                )
            )
        if limit and cap is not None:
            chart.limits.append(
                Bar(
                    x=_r(left + i * group_w),
                    y=_r(top + plot_h - height_of(cap) - 1),
                    width=_r(group_w),
                    height=2,
                    css=limit.css,
                    title=f"{category} · {limit.name}: {fmt(cap)}",
                )
            )
        event = events[i] if i < len(events) else None
        if event:
            x = _r(left + i * group_w + group_w / 2)
            d = _marker_d("circle", x, top + 4, 4)
            chart.events.append(Marker(d=d, css=event.css, index=0, title=f"{category} · {event.text}"))
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
    category_name: str = "Category",
    value_name: str = "Count",
) -> Chart:
    """One horizontal bar per (label, value), e.g. bounces by category, longest first as given. Each bar is
    labelled with its name and value, so one colour is enough."""
    left, right, top = 170, 60, 4
    plot_w = width - left - right
    height = top * 2 + row_height * max(len(items), 1)
    peak = max((v for _, v in items), default=0)
    chart = Chart(width=width, height=height, title=title, max_value=peak, has_data=peak > 0)
    chart.table = Table(columns=[category_name, value_name], rows=[(k, [f"{v:,}"]) for k, v in items])
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


def line_chart(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    fmt: Formatter = format_count,
    references: Sequence[tuple[float, str]] = (),
    width: int = 720,
    height: int = 220,
    label_every: int | None = None,
    category_name: str = "Day",
) -> Chart:
    """A trend: one line per series over the categories (e.g. the last 7 or 30 days), a marker on every
    value, optional labelled reference lines (thresholds). The axis reaches the highest reference too, so a
    threshold is always on the chart and a rate under it visibly under it."""
    left, right, top, bottom = 52, 8, 10, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    known = [v for s in series for v in s.values if v is not None]
    peak = max(known, default=0)
    axis_max = nice_max(max([peak, *(value for value, _ in references)]))
    chart = Chart(width=width, height=height, title=title, kind="lines", max_value=peak, has_data=bool(known))
    chart.legend = _legend(series, lines=True)
    chart.table = _table(categories, series, fmt, category_name)
    _value_axis(chart, left=left, top=top, plot_w=plot_w, plot_h=plot_h, axis_max=axis_max, fmt=fmt)
    for value, label in references:
        y = _r(top + plot_h - plot_h * value / axis_max)
        chart.references.append(Reference(y=y, x1=left, x2=left + plot_w, label=f"{label} {fmt(value)}"))
    if not categories:
        return chart
    # One point per category, centred in its slot, so 7 days read like 7 bars would.
    slot = plot_w / len(categories)

    def x_of(i: int) -> float:
        return _r(left + slot * i + slot / 2)

    for j, s in enumerate(series):
        run: list[str] = []
        shape = MARKERS[j % len(MARKERS)]
        for i, category in enumerate(categories):
            point = s.values[i] if i < len(s.values) else None
            if point is None:
                if run:
                    chart.series_lines.append(Line(points=" ".join(run), css=s.css, index=j))
                run = []
                continue
            x, y = x_of(i), _r(top + plot_h - plot_h * point / axis_max)
            run.append(f"{x},{y}")
            title = f"{category} · {s.name}: {fmt(point)}"
            chart.markers.append(Marker(d=_marker_d(shape, x, y), css=s.css, index=j, title=title))
        if run:
            chart.series_lines.append(Line(points=" ".join(run), css=s.css, index=j))
    every = _label_every(len(categories), label_every)
    for i, category in enumerate(categories):
        if i % every == 0:
            chart.labels.append(Label(x_of(i), height - 8, category))
    return chart


# --- trend periods ----------------------------------------------------------------------------------------


def trend_days(value: object, default: int = 7) -> int:
    """A ?days= value from a link: one of TREND_DAYS, else the default."""
    try:
        days = int(str(value))
    except ValueError:
        return default
    return days if days in TREND_DAYS else default


def window(days: int, *, end: date | None = None) -> tuple[date, date]:
    """The last `days` UTC days, today included."""
    end = end or utc_today()
    return end - timedelta(days=days - 1), end
