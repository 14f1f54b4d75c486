"""The warmup pages' charts, drawn by core.charts (the one chart implementation: SVG geometry, patterns,
a data table under each chart); this module only says what warmup plots."""

from core.charts import Chart, Event, Series, grouped_bars


def ramp_chart(limits: list[int]) -> Chart:
    """A plan's daily limit per step, one bar per step, on a log axis (ramps span 200/day to millions/day)."""
    return grouped_bars(
        [f"step {n}" for n in range(1, len(limits) + 1)],
        [Series("Daily limit", "", limits)],
        title="Daily limit per step (log scale)",
        category_name="Step",
        log=True,
    )


def timeline_chart(days: list[tuple[str, int, int | None, str]]) -> Chart:
    """Per day (label, sent, limit, decision action): sent bars (over the day's limit: "bad"), the limit as a
    mark across the day, and a dot for each ramp decision that changed something (not a hold)."""
    return grouped_bars(
        [label for label, _, _, _ in days],
        [Series("Sent", "", [sent for _, sent, _, _ in days])],
        title="Sent per day against the daily limit",
        limit=Series("Daily limit", "", [limit for _, _, limit, _ in days]),
        events=[Event(action, action) if action and action != "hold" else None for _, _, _, action in days],
        events_name="Decision",
    )
