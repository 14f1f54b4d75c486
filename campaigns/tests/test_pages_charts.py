"""The server-rendered SVG charts: one bar per value (zeros included), geometry inside the plot, no
inline styles (the CSP forbids them)."""

from django.template.loader import render_to_string

from campaigns.charts import Series, grouped_bars, horizontal_bars


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
    html = render_to_string("campaigns/_chart.html", {"chart": chart})
    assert html.count('<rect class="bar delivered"') == 2
    assert "style=" not in html
    assert "Two &lt;days&gt;" in html


def test_it_draws_an_empty_chart_with_a_note():
    chart = grouped_bars(["a"], [Series("Delivered", "", [0])], title="t")
    assert chart.empty
    assert "No data in this period." in render_to_string("campaigns/_chart.html", {"chart": chart})


def test_it_draws_horizontal_bars_scaled_to_the_largest():
    chart = horizontal_bars([("bad-mailbox", 10), ("quota-issues", 5)], title="t", css="bad")
    assert len(chart.bars) == 2
    assert chart.bars[1].width == chart.bars[0].width / 2
