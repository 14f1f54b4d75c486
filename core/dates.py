"""The one notion of "today": the UTC day. Daily stats, the warmup ramp and every date range are UTC days."""

from datetime import UTC, date, datetime


def utc_today() -> date:
    return datetime.now(UTC).date()
