"""The reputation figures the home pages show: what is listed now (each count the row count of the list it
links to) and open listings per day for the trend charts."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connections
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest

from core.access import ReadScope, scoped
from core.charts import Chart, Series, line_chart
from core.compiled import compiled_count
from ips.models import IPAddress
from reputation.models import Listing
from reputation.selectors import _problem_exists, _scope_by_target, visible_domains_for, visible_ips_for
from tenants.access import actor_for


def listed_ip_count(request: HttpRequest) -> int:
    """Visible IPs with an open listing on an enabled list: the rows of the IP list's ``?listed=1``."""
    return compiled_count(IPAddress, _listed_ips, ReadScope.of(actor_for(request)))


def _listed_ips(scope: ReadScope) -> QuerySet[IPAddress, Any]:
    """``listed_ip_count``'s rows (core.compiled: a statement compiled once per scope)."""
    open_listing = Listing.objects.filter(ip=OuterRef("pk"), cleared_at__isnull=True, blocklist__enabled=True)
    ips = scoped(scope, IPAddress.objects.all(), "pool__tenant")
    return ips.filter(Exists(open_listing)).order_by().values("pk")


def problem_target_count(request: HttpRequest) -> int:
    """Targets with a listed or failing check: the rows of the reputation page's ``?only=problems``
    (``overview_targets(problems=True)``, same filters, counted)."""
    return compiled_count(IPAddress, _problem_targets, ReadScope.of(actor_for(request)))  # one query


def _problem_targets(scope: ReadScope) -> QuerySet[IPAddress, Any]:
    """``problem_target_count``'s rows (core.compiled: a statement compiled once per scope)."""
    ips = visible_ips_for(scope).filter(_problem_exists("ip")).order_by().values("pk")
    domains = visible_domains_for(scope).filter(_problem_exists("domain")).order_by().values("pk")
    return ips.union(domains, all=True)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def listings_daily(
    request: HttpRequest, *, start: date, end: date, domain_id: int | None = None
) -> list[tuple[date, int, int]]:
    """(day, listings open at the end of the day, listings found that day) for each UTC day of [start,
    end], over the listings the user may see on enabled lists (of one domain if given): one query."""
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    qs = _scope_by_target(
        request,
        Listing.objects.filter(
            blocklist__enabled=True, first_seen__lt=_midnight(end + timedelta(days=1))
        ).filter(Q(cleared_at__isnull=True) | Q(cleared_at__gte=_midnight(start))),
    )
    if domain_id is not None:
        qs = qs.filter(domain_id=domain_id)
    # Each listing against each day, counted in SQL over the scoped rows: a day list joined to them (two
    # counts a day built as ORM aggregates cost more to compile than to run, 6 ms at 7 days, 25 at 30).
    rows = qs.order_by().values("first_seen", "cleared_at")
    sql, params = rows.query.sql_with_params()
    bounds = [(i, _midnight(day), _midnight(day + timedelta(days=1))) for i, day in enumerate(days)]
    values = ", ".join("(%s, %s::timestamptz, %s::timestamptz)" for _ in bounds)
    # Only Django's own compiled SQL is interpolated; every value stays a bound parameter.
    query = (
        "SELECT d.i, "  # noqa: S608
        "count(*) FILTER (WHERE l.first_seen < d.day_end"
        " AND (l.cleared_at IS NULL OR l.cleared_at >= d.day_end)), "
        "count(*) FILTER (WHERE l.first_seen >= d.day_start AND l.first_seen < d.day_end) "
        f"FROM (VALUES {values}) AS d(i, day_start, day_end) CROSS JOIN ({sql}) AS l GROUP BY d.i"
    )
    with connections[rows.db].cursor() as cursor:  # the database the router reads listings from
        cursor.execute(query, [value for bound in bounds for value in bound] + list(params))
        counts = {i: (opened, new) for i, opened, new in cursor.fetchall()}
    return [(day, *counts.get(i, (0, 0))) for i, day in enumerate(days)]


def listings_chart(rows: list[tuple[date, int, int]], *, subject: str) -> Chart:
    return line_chart(
        [day.strftime("%m-%d") for day, _, _ in rows],
        [
            Series("Open at the end of the day", "bad", [n for _, n, _ in rows]),
            Series("Found that day", "warn", [n for _, _, n in rows]),
        ],
        title=f"{subject}: blocklist listings per day",
        width=480,  # as campaigns.trends.CHART_WIDTH: legible two abreast and on phones
    )
