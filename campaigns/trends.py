"""Daily trends (the last 7 or 30 UTC days) and "over threshold" sets, read from the daily aggregates.

Home pages and detail pages (server, IP, domain, campaign, tenant) chart the same three things through here:
sent per day (delivered and bounced), the bounce rates and the complaint rate, each rate chart with its
SIGNAL_* thresholds drawn as labelled lines. Counts and rates come from campaigns.stats (the one definition);
which rates are "over threshold" is ``campaigns.stats.rate_level``, never re-decided here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import BooleanField, F, Func, QuerySet, Subquery
from django.http import HttpRequest

from campaigns.models import DailyStat, DailyTenantStat
from campaigns.stats import (
    Counts,
    Thresholds,
    at_threshold_sql,
    block_categories,
    format_rate,
    rate_level,
    stored_sums,
    sums,
    thresholds,
)
from core.access import ReadScope, scoped
from core.charts import TREND_DAYS, Chart, Series, grouped_bars, line_chart, window
from core.compiled import compiled_rows
from tenants.access import actor_for

# Trend charts sit two abreast on wide screens and alone on phones: a narrower drawing keeps their text
# legible at both sizes (the SVG scales with its box).
CHART_WIDTH = 480

# "Over threshold" on the home pages is judged on the last week, like the IP list's 7-day columns.
LEVEL_DAYS = 7


def daily_counts(
    stats: QuerySet[DailyStat] | QuerySet[DailyTenantStat], *, start: date, end: date
) -> list[tuple[date, Counts]]:
    """One entry per day of [start, end], zero-filled: one query, summed in Postgres."""
    rows = stats.filter(day__gte=start, day__lte=end).order_by().values("day").annotate(**sums(stats.model))
    return _zero_filled(rows, start=start, end=end)


def _zero_filled(rows: Iterable[Mapping[str, Any]], *, start: date, end: date) -> list[tuple[date, Counts]]:
    by_day = {row["day"]: Counts.from_row(row) for row in rows}
    days = (end - start).days + 1
    return [(d, by_day.get(d, Counts())) for d in (start + timedelta(days=i) for i in range(days))]


def tenant_daily(request: HttpRequest, *, days: int) -> list[tuple[date, Counts]]:
    """The user's whole visible traffic per day (all tenants for an operator) from the per-tenant rollup."""
    start, end = window(days)
    scope = ReadScope.of(actor_for(request))
    rows = compiled_rows(DailyTenantStat, _tenant_days, start, end, scope, block_categories())
    return _zero_filled(rows, start=start, end=end)


def _tenant_days(
    start: date, end: date, scope: ReadScope, categories: frozenset[str]
) -> QuerySet[DailyTenantStat, Any]:
    """``tenant_daily``'s statement (core.compiled; ``categories``: what ``sums`` reads from the settings)."""
    stats = scoped(scope, DailyTenantStat.objects.filter(day__gte=start, day__lte=end))
    return stats.order_by().values("day").annotate(**sums(DailyTenantStat))


def total(days: list[tuple[date, Counts]]) -> Counts:
    out = Counts()
    for _, counts in days:
        out.add(counts)
    return out


def _labels(days: list[tuple[date, Counts]]) -> list[str]:
    return [d.strftime("%m-%d") for d, _ in days]


def sent_chart(days: list[tuple[date, Counts]], *, subject: str) -> Chart:
    return grouped_bars(
        _labels(days),
        [
            Series("Delivered", "delivered", [c.delivered for _, c in days]),
            Series("Bounced", "bad", [c.bounces for _, c in days]),
        ],
        title=f"{subject}: sent per day, delivered and bounced",
        width=CHART_WIDTH,
    )


def bounce_rate_chart(days: list[tuple[date, Counts]], *, subject: str) -> Chart:
    t = thresholds()
    return line_chart(
        _labels(days),
        [
            Series("Bounce rate", "bad", [c.bounce_rate for _, c in days]),
            Series("Hard bounce rate", "warn", [c.hard_bounce_rate for _, c in days]),
        ],
        title=f"{subject}: bounce rate per day",
        fmt=format_rate,
        # The hold and pause thresholds apply to the hard bounce rate (campaigns.stats.rate_level).
        references=[(t.hold_bounce_rate, "hard: hold"), (t.pause_bounce_rate, "hard: pause")],
        width=CHART_WIDTH,
    )


def complaint_rate_chart(days: list[tuple[date, Counts]], *, subject: str) -> Chart:
    t = thresholds()
    return line_chart(
        _labels(days),
        [Series("Complaint rate", "bad", [c.complaint_rate for _, c in days])],
        title=f"{subject}: complaint rate per day",
        fmt=format_rate,
        references=[(t.hold_complaint_rate, "hold"), (t.pause_complaint_rate, "pause")],
        width=CHART_WIDTH,
    )


def rate_charts(days: list[tuple[date, Counts]], *, subject: str) -> list[Chart]:
    """The bounce rate and complaint rate per day, each against its thresholds."""
    return [bounce_rate_chart(days, subject=subject), complaint_rate_chart(days, subject=subject)]


def trend_charts(days: list[tuple[date, Counts]], *, subject: str) -> list[Chart]:
    """Sent, bounce rate and complaint rate per day: what every page with a trend shows."""
    return [sent_chart(days, subject=subject), *rate_charts(days, subject=subject)]


def stat_trend(stats: QuerySet[DailyStat] | QuerySet[DailyTenantStat], *, days: int, subject: str) -> dict:
    """Trend charts and the period's totals over daily rows (a server's, a tenant's...): one query.
    ``days`` is one of TREND_DAYS; the card template (campaigns/_trend_card.html) links to the other."""
    start, end = window(days)
    per_day = daily_counts(stats, start=start, end=end)
    return {
        "days": days,
        "start": start,
        "end": end,
        "totals": total(per_day),
        "charts": trend_charts(per_day, subject=subject),
        "choices": TREND_DAYS,
    }


def tenant_trend(request: HttpRequest, tenant_id: int, *, days: int, subject: str) -> dict:
    """One tenant's trend, from the per-tenant rollup (scoped: another tenant's user gets no rows)."""
    return stat_trend(
        scoped(actor_for(request), DailyTenantStat.objects.filter(tenant_id=tenant_id)),
        days=days,
        subject=subject,
    )


def server_trend(request: HttpRequest, server_id: int, *, days: int, subject: str) -> dict:
    """The trend of everything sent from one PMTA server's IPs (by address, the (source_ip, day) index);
    a tenant user sees only their own tenant's traffic."""
    from campaigns.selectors import Host
    from ips.models import IPAddress

    addresses = IPAddress.objects.filter(server_id=server_id).annotate(text=Host("address")).values("text")
    stats = scoped(actor_for(request), DailyStat.objects.filter(source_ip__in=addresses))
    return stat_trend(stats, days=days, subject=subject)


# --- over threshold -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OverThreshold:
    """A tenant or sending IP whose last LEVEL_DAYS are at a hold (warning) or pause (error) threshold."""

    key: int | str  # tenant id, or the IP address as the daily stats hold it
    label: str
    counts: Counts
    level: str


def _worst_first(rows: list[OverThreshold]) -> list[OverThreshold]:
    return sorted(rows, key=lambda r: (r.level != "error", -(r.counts.attempted), str(r.label)))


def tenants_over_threshold(request: HttpRequest, *, days: int = LEVEL_DAYS) -> list[OverThreshold]:
    """Visible tenants whose traffic of the last `days` is at a threshold, worst first (one query + names)."""
    from tenants.models import Tenant

    start, end = window(days)
    scope = ReadScope.of(actor_for(request))
    rows = compiled_rows(DailyTenantStat, _tenant_sums, start, end, scope, block_categories())
    found: dict[int, tuple[Counts, str]] = {}
    t = thresholds()  # read from the settings once, not once a row
    for row in rows:
        tenant_id = row["tenant_id"]
        counts = Counts.from_row(row)
        level = rate_level(counts, t)
        if tenant_id is not None and level != "ok":  # None: traffic no tenant could be matched to
            found[tenant_id] = (counts, level)
    if not found:
        return []
    names = dict(Tenant.objects.filter(pk__in=found).values_list("pk", "name"))
    return _worst_first(
        [
            OverThreshold(pk, names.get(pk, f"tenant {pk}"), counts, level)
            for pk, (counts, level) in found.items()
            if pk in names
        ]
    )


def _tenant_sums(
    start: date, end: date, scope: ReadScope, categories: frozenset[str]
) -> QuerySet[DailyTenantStat, Any]:
    """``tenants_over_threshold``'s statement (core.compiled; ``categories``: what ``sums`` reads)."""
    stats = scoped(scope, DailyTenantStat.objects.filter(day__gte=start, day__lte=end))
    return stats.order_by().values("tenant_id").annotate(**sums(DailyTenantStat))


def ip_levels(*, days: int = LEVEL_DAYS, tenant_id: int | None = None) -> dict[str, tuple[Counts, str]]:
    """{sending address: (counts, level)} for every address with traffic in the last `days` (one query).

    By address (the (source_ip, day) index), as the IP page and the IP list read it; ``tenant_id`` keeps a
    tenant to its own traffic on an IP that may have served another tenant before."""
    rows = _ip_stats(days=days, tenant_id=tenant_id).values("source_ip").annotate(**sums(DailyStat))
    return _levels_by_address(rows, thresholds())


def _levels_by_address(
    rows: Iterable[Mapping[str, Any]], t: Thresholds, *, over_only: bool = False
) -> dict[str, tuple[Counts, str]]:
    """{address: (counts, rate_level)} of summed rows; ``t`` is read once by the caller, not once a row (a
    fleet has thousands of addresses). ``over_only`` keeps the addresses above "ok"."""
    out = {}
    for row in rows:
        counts = Counts.from_row(row)
        level = rate_level(counts, t)
        if not over_only or level != "ok":
            out[row["source_ip"]] = (counts, level)
    return out


def _ip_stats(*, days: int, tenant_id: int | None) -> QuerySet[DailyStat]:
    start, end = window(days)
    return _ip_stats_between(start, end, tenant_id=tenant_id)


def _ip_stats_between(start: date, end: date, *, tenant_id: int | None) -> QuerySet[DailyStat]:
    stats = DailyStat.objects.filter(day__gte=start, day__lte=end).exclude(source_ip="")
    if tenant_id is not None:
        stats = stats.filter(tenant_id=tenant_id)
    return stats.order_by()


class _InArray(Func):
    """``column = ANY(ARRAY(subquery))``: Postgres runs the subquery first (an init plan) and looks its few
    rows up by index, where ``column IN (subquery)`` plans a join sized for every row it might return."""

    template = "%(expressions)s)"  # the subquery brings its own parentheses
    arg_joiner = " = ANY(ARRAY"
    output_field = BooleanField()

    def __init__(self, column: str, queryset: QuerySet) -> None:
        super().__init__(F(column), Subquery(queryset))


def ip_levels_over(*, days: int = LEVEL_DAYS, tenant_id: int | None = None) -> dict[str, tuple[Counts, str]]:
    """``ip_levels`` kept to the addresses at a threshold (level not "ok"), in one query that sums the JSONB
    block categories only for the addresses whose stored counts can be at one (stats.at_threshold_sql; a
    fleet has thousands of addresses and a handful over). The level is still ``rate_level``'s."""
    t = thresholds()
    start, end = window(days)
    rows = compiled_rows(DailyStat, _ip_sums_over, start, end, tenant_id, t, block_categories())
    return _levels_by_address(rows, t, over_only=True)


def _ip_sums_over(
    start: date, end: date, tenant_id: int | None, t: Thresholds, categories: frozenset[str]
) -> QuerySet[DailyStat, Any]:
    """``ip_levels_over``'s statement (core.compiled: its many expressions cost as much to build and compile
    as the statement takes to run; ``categories``: what ``sums`` reads from the settings)."""
    stored = {f"stored_{name}": expression for name, expression in stored_sums().items()}
    candidates = (
        _ip_stats_between(start, end, tenant_id=tenant_id)
        .values("source_ip")
        .annotate(**stored)
        .filter(at_threshold_sql({name.removeprefix("stored_"): F(name) for name in stored}, t))
        .values("source_ip")
    )
    return (
        _ip_stats_between(start, end, tenant_id=tenant_id)
        .filter(_InArray("source_ip", candidates))
        .values("source_ip")
        .annotate(**sums(DailyStat))
    )


def ips_over_threshold(request: HttpRequest, *, days: int = LEVEL_DAYS) -> list[OverThreshold]:
    """Visible inventory IPs whose last `days` are at a threshold, worst first (two queries)."""
    from ips.models import IPAddress

    actor = actor_for(request)
    over = ip_levels_over(days=days, tenant_id=None if actor.is_operator else actor.tenant_id)
    if not over:
        return []
    visible = scoped(actor_for(request), IPAddress.objects.filter(address__in=list(over)), "pool__tenant")
    rows = []
    for pk, address in visible.values_list("pk", "address"):
        counts, level = over[str(address)]
        rows.append(OverThreshold(pk, str(address), counts, level))
    return _worst_first(rows)
