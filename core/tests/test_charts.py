"""The server-rendered SVG charts (core.charts + core/_chart.html): one bar per value (zeros included),
geometry inside the plot, no inline styles (the CSP forbids them), series told apart without colour
(patterns, marker shapes, dashes), and every chart's numbers in a table under it."""

import re

from django.template.loader import render_to_string

from core.charts import MARKERS, PATTERNS, Series, grouped_bars, horizontal_bars, line_chart, nice_max


def _render(chart) -> str:
    return render_to_string("core/_chart.html", {"chart": chart})


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def test_it_draws_one_bar_per_day_and_series():
    chart = grouped_bars(
        ["01", "02", "03"],
        [Series("Delivered", "delivered", [10, 0, 30]), Series("Bounced", "bad", [1, 2, 0])],
        title="t",
    )
    assert len(chart.bars) == 6
    assert [b.css for b in chart.bars] == ["delivered", "bad"] * 3
    tallest = max(chart.bars, key=lambda b: b.height)
    assert tallest.title == "03 · Delivered: 30"
    assert all(
        b.y >= 0 and b.y + b.height <= chart.height and b.x + b.width <= chart.width for b in chart.bars
    )
    assert chart.bars[2].height == 0  # a zero still gets its (flat) bar


def test_it_renders_svg_without_inline_styles():
    chart = grouped_bars(["a", "b"], [Series("Delivered", "delivered", [3, 4])], title="Two <days>")
    html = _render(chart)
    assert html.count('<rect class="bar delivered"') == 2
    assert "style=" not in html
    assert "<style" not in html
    assert "Two &lt;days&gt;" in html


def test_it_draws_an_empty_chart_with_a_note():
    chart = grouped_bars(["a"], [Series("Delivered", "", [0])], title="t")
    assert chart.empty
    assert "No data in this period." in _render(chart)


def test_it_draws_horizontal_bars_scaled_to_the_largest():
    chart = horizontal_bars([("bad-mailbox", 10), ("quota-issues", 5)], title="t", css="bad")
    assert len(chart.bars) == 2
    assert chart.bars[1].width == chart.bars[0].width / 2
    html = _render(chart)
    assert '<th scope="row">quota-issues</th><td>5</td>' in html


def test_it_hatches_each_bar_series_differently_and_repeats_it_in_the_legend():
    chart = grouped_bars(
        ["01", "02"],
        [Series("Delivered", "delivered", [5, 6]), Series("Bounced", "bad", [1, 2])],
        title="t",
    )
    assert [b.pattern for b in chart.bars] == ["solid", "hatch"] * 2
    html = _render(chart)
    pattern_id = f"{chart.uid}-hatch"
    assert f'<pattern id="{pattern_id}"' in html
    # two bars and one legend swatch wear the hatch
    assert html.count(f'fill="url(#{pattern_id})"') == 3


def test_it_gives_every_chart_its_own_pattern_ids():
    one = grouped_bars(["a"], [Series("A", "", [1]), Series("B", "", [1])], title="t")
    two = grouped_bars(["a"], [Series("A", "", [1]), Series("B", "", [1])], title="t")
    assert one.uid != two.uid


def test_it_puts_the_numbers_in_a_table_under_the_chart():
    chart = grouped_bars(
        ["01", "02"],
        [Series("Delivered", "delivered", [1200, 0]), Series("Bounced", "bad", [3, 4])],
        title="Per day",
    )
    assert chart.table.columns == ["Day", "Delivered", "Bounced"]
    assert chart.table.rows == [("01", ["1,200", "3"]), ("02", ["0", "4"])]
    html = _render(chart)
    assert '<details class="chart-data small"><summary>Table: Per day</summary>' in html
    assert '<th scope="row">01</th><td>1,200</td><td>3</td>' in html


def test_it_draws_a_trend_line_with_a_marker_per_value():
    days = [f"{d:02d}" for d in range(1, 8)]
    chart = line_chart(
        days,
        [Series("Bounce rate", "bad", [0.01, 0.02, 0.0, 0.03, 0.01, 0.02, 0.01])],
        title="Bounce rate",
        fmt=_pct,
    )
    assert chart.kind == "lines"
    assert len(chart.series_lines) == 1
    assert len(chart.series_lines[0].points.split()) == 7
    assert len(chart.markers) == 7
    assert chart.markers[3].title == "04 · Bounce rate: 3.0%"
    points = [tuple(map(float, p.split(","))) for p in chart.series_lines[0].points.split()]
    xs = [x for x, _ in points]
    assert xs == sorted(xs) and all(0 < x < chart.width for x in xs)
    assert all(0 <= y <= chart.height for _, y in points)
    # the highest value is the highest point (smallest y)
    assert min(points, key=lambda p: p[1]) == points[3]
    assert chart.table.rows[2] == ("03", ["0.0%"])
    assert not chart.empty


def test_it_breaks_the_line_where_there_is_no_data():
    chart = line_chart(["1", "2", "3", "4"], [Series("Rate", "", [0.1, None, 0.2, 0.3])], title="t", fmt=_pct)
    assert [len(line.points.split()) for line in chart.series_lines] == [1, 2]
    assert len(chart.markers) == 3
    assert chart.table.rows[1] == ("2", ["—"])
    assert line_chart(["1"], [Series("Rate", "", [None])], title="t").empty


def test_it_tells_line_series_apart_by_shape_and_dash():
    chart = line_chart(
        ["1", "2"],
        [Series(f"S{i}", "", [i, i + 1]) for i in range(4)],
        title="t",
    )
    shapes = {m.index: "".join(re.findall("[a-zA-Z]", m.d)) for m in chart.markers}
    assert len(set(shapes.values())) == len(MARKERS)  # four different path shapes
    html = _render(chart)
    for i in range(4):
        assert f'class="line s{i}"' in html
    assert "style=" not in html
    assert len(chart.legend) == 4 and all(item.marker_d for item in chart.legend)


def test_it_labels_reference_lines_and_keeps_them_on_the_axis():
    chart = line_chart(
        ["1", "2"], [Series("Rate", "", [0.001, 0.002])], title="t", fmt=_pct, references=[(0.02, "hold")]
    )
    (ref,) = chart.references
    assert ref.label == "hold 2.0%"
    assert 0 <= ref.y <= chart.height
    assert "hold 2.0%" in _render(chart)


def test_it_rounds_the_axis_to_a_readable_maximum():
    assert nice_max(0) == 1
    assert nice_max(7) == 10
    assert nice_max(1200) == 2000
    assert nice_max(0.013) == 0.02
    assert nice_max(5) == 5
    assert len(PATTERNS) == len(MARKERS) == 4


def test_it_never_labels_the_axis_with_the_same_number_twice():
    chart = line_chart(["1", "2"], [Series("Listings", "", [0, 0])], title="t")
    texts = [label.text for label in chart.labels if label.anchor == "end"]
    assert sorted(texts) == ["0", "1"]


def test_bars_can_carry_a_limit_per_category_and_events():
    """What the warmup timeline needs: the day's limit as a mark, a bar over it drawn "bad", a dot per
    event; the table carries the limit and the events too, and the axis reaches the highest limit."""
    from core.charts import Event

    chart = grouped_bars(
        ["d1", "d2", "d3"],
        [Series("Sent", "", [100, 300, 0])],
        title="t",
        limit=Series("Daily limit", "", [200, 200, None]),
        events=[None, Event("advance", "advance"), Event("pause", "pause")],
        events_name="Decision",
    )
    assert [b.css for b in chart.bars] == ["", "bad", ""]
    assert chart.bars[1].title == "d2 · Sent: 300 (over the limit)"
    assert [m.title for m in chart.limits] == ["d1 · Daily limit: 200", "d2 · Daily limit: 200"]
    assert chart.limits[0].y == chart.limits[1].y and chart.limits[0].y < chart.bars[0].y
    assert [e.css for e in chart.events] == ["advance", "pause"]
    assert chart.table.columns == ["Day", "Sent", "Daily limit", "Decision"]
    assert chart.table.rows[2] == ("d3", ["0", "—", "pause"])
    html = _render(chart)
    assert html.count('<rect class="limit"') == 2 and '<path class="marker pause"' in html
    assert '<rect class="bar bad"' in html and '<rect class="swatch limit"' in html
    assert "style=" not in html
    # Only a limit, no traffic yet: still a chart, with the limit on it.
    assert not grouped_bars(["d1"], [Series("Sent", "", [0])], title="t", limit=Series("L", "", [50])).empty


def test_bars_can_use_a_log_axis_for_values_spanning_decades():
    chart = grouped_bars(
        ["1", "2", "3"], [Series("Daily limit", "", [200, 20_000, 2_000_000])], title="t", log=True
    )
    heights = [b.height for b in chart.bars]
    # Equal ratios, equal steps: 200 -> 20,000 -> 2,000,000 climb by the same height each time.
    assert abs((heights[1] - heights[0]) - (heights[2] - heights[1])) < 1
    assert heights[0] > 0.25 * heights[2]  # a linear axis would make the first bar invisible (0.01%)
    labels = [label.text for label in chart.labels]
    assert {"100", "1,000", "10,000", "100,000", "2,000,000"} <= set(labels)  # the maximum is labelled
    assert "1,000,000" not in labels  # 9 px under 2,000,000: its label would overlap
    assert all(b.y >= 0 and b.y + b.height <= chart.height for b in chart.bars)
