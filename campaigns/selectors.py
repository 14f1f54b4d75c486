"""Reads the campaign, bounce, message, suppression and import pages share. Every read is scoped.

Counts come from DailyStat (kept for good); drill-down texts from DeliveryEvent (kept
ACCOUNTING_EVENT_RETENTION_DAYS). What each count and rate means is defined once, in campaigns/stats.py.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    Func,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Lower, Trim
from django.http import HttpRequest

from campaigns.accounting.classify import HARD_BOUNCE, SOFT_BOUNCE
from campaigns.models import (
    AccountingFile,
    Campaign,
    DailyCampaignStat,
    DailyDomainStat,
    DailyStat,
    DailyTenantStat,
    DeliveryEvent,
    ImportRejection,
    Suppression,
    SuppressionImport,
    diag_text,
)
from campaigns.stats import Counts, attempted_sql, rate_sql, sums
from campaigns.trends import rate_charts
from core.access import scoped
from core.charts import Chart, Series, grouped_bars, horizontal_bars
from core.dates import utc_today
from ips.models import IPAddress
from tenants.access import actor_for
from tenants.models import Tenant

# --- recipient providers -----------------------------------------------------------------------------

_PROVIDER_EXACT = {
    "gmail.com": "Gmail",
    "googlemail.com": "Gmail",
    "outlook.com": "Microsoft",
    "msn.com": "Microsoft",
    "aol.com": "Yahoo/AOL",
    "ymail.com": "Yahoo/AOL",
    "rocketmail.com": "Yahoo/AOL",
}
# Country variants: hotmail.fr, live.co.uk, yahoo.co.jp ...
_PROVIDER_PREFIX = (
    ("hotmail.", "Microsoft"),
    ("live.", "Microsoft"),
    ("outlook.", "Microsoft"),
    ("yahoo.", "Yahoo/AOL"),
)


def provider_for_domain(domain: str) -> str:
    """The mailbox provider behind a recipient domain; unknown domains stand for themselves."""
    domain = domain.strip().lower()
    if not domain:
        return "(no domain)"
    if domain in _PROVIDER_EXACT:
        return _PROVIDER_EXACT[domain]
    for prefix, provider in _PROVIDER_PREFIX:
        if domain.startswith(prefix):
            return provider
    return domain


# --- totals and rates: campaigns.stats is the one definition -----------------------------------------------


def _sums(model: type = DailyStat) -> dict:
    return sums(model)


def _time_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return datetime.combine(start, time.min, UTC), datetime.combine(end + timedelta(days=1), time.min, UTC)


def day_range(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


# --- campaigns ---------------------------------------------------------------------------------------------


def campaigns_in_range(request: HttpRequest, *, start: date, end: date, q: str = "") -> QuerySet[Campaign]:
    """Campaigns active in [start, end], newest first; `attach_totals` adds a page's totals."""
    lo, hi = _time_bounds(start, end)
    qs = scoped(actor_for(request), Campaign.objects.select_related("tenant"), tenant_field="tenant").filter(
        last_seen__gte=lo, first_seen__lt=hi
    )
    if q:
        qs = qs.filter(Q(key__icontains=q) | Q(name__icontains=q))
    return qs.order_by("-last_seen", "pk")


def attach_totals(campaigns: list[Campaign], *, start: date, end: date) -> list[Campaign]:
    """Set `.totals` (over [start, end]) on each campaign: one query for all of them.

    Summed for the shown campaigns only, from the per-campaign-and-day rollup (DailyCampaignStat, one row
    per campaign and day instead of one per IP, vmta and recipient domain); annotating the paginated
    queryset instead joined every stat row of every campaign in range, and counting the pages did it again.
    """
    rows = (
        DailyCampaignStat.objects.filter(
            campaign_id__in=[c.pk for c in campaigns], day__gte=start, day__lte=end
        )
        .order_by()
        .values("campaign_id")
        .annotate(**_sums(DailyCampaignStat))
    )
    by_campaign = {row["campaign_id"]: Counts.from_row(row) for row in rows}
    for campaign in campaigns:
        campaign.totals = by_campaign.get(campaign.pk, Counts())  # type: ignore[attr-defined]
    return campaigns


def _stats_for(campaign: Campaign, start: date, end: date) -> QuerySet[DailyStat]:
    return DailyStat.objects.filter(campaign=campaign, day__gte=start, day__lte=end).order_by()


def campaign_totals(campaign: Campaign, *, start: date, end: date) -> Counts:
    rows = DailyCampaignStat.objects.filter(campaign_id=campaign.pk, day__gte=start, day__lte=end)
    return Counts.from_row(rows.order_by().aggregate(**_sums(DailyCampaignStat)))


@dataclass
class Breakdown:
    label: str
    totals: Counts = field(default_factory=Counts)
    members: list[str] = field(default_factory=list)  # domains of a provider
    link_id: int | None = None  # the IPAddress pk, for a link to the IP page


def totals_by_provider(stats: QuerySet[DailyStat], *, limit_members: int = 8) -> list[Breakdown]:
    rows = stats.values("rcpt_domain").annotate(**_sums()).order_by()
    groups: dict[str, Breakdown] = {}
    for row in rows:
        provider = provider_for_domain(row["rcpt_domain"])
        group = groups.setdefault(provider, Breakdown(provider))
        group.totals.add(Counts.from_row(row))
        if len(group.members) < limit_members and row["rcpt_domain"] != provider:
            group.members.append(row["rcpt_domain"])
    return sorted(groups.values(), key=lambda g: (-g.totals.attempted, g.label))


def totals_by_ip(stats: QuerySet[DailyStat]) -> list[Breakdown]:
    rows = stats.values("source_ip").annotate(ip_pk=Min("ip_id"), **_sums()).order_by()
    found = [
        Breakdown(row["source_ip"] or "(unknown)", Counts.from_row(row), link_id=row["ip_pk"]) for row in rows
    ]
    return sorted(found, key=lambda g: (-g.totals.attempted, g.label))


def daily_totals(stats: QuerySet[DailyStat], *, start: date, end: date) -> list[tuple[date, Counts]]:
    """One entry per day of [start, end], zero-filled."""
    by_day = {row["day"]: Counts.from_row(row) for row in stats.values("day").annotate(**_sums()).order_by()}
    return [(day, by_day.get(day, Counts())) for day in day_range(start, end)]


def daily_chart(days: list[tuple[date, Counts]], *, title: str) -> Chart:
    return grouped_bars(
        [day.strftime("%m-%d") for day, _ in days],
        [
            Series("Delivered", "delivered", [t.delivered for _, t in days]),
            Series("Bounced", "bad", [t.bounces for _, t in days]),
        ],
        title=title,
    )


def campaign_report(campaign: Campaign, *, start: date, end: date) -> dict:
    stats = _stats_for(campaign, start, end)
    days = daily_totals(stats, start=start, end=end)
    totals = Counts()
    for _, t in days:
        totals.add(t)
    return {
        "totals": totals,
        "by_provider": totals_by_provider(stats),
        "by_ip": totals_by_ip(stats),
        "days": days,
        "chart": daily_chart(days, title=f"{campaign}: delivered and bounced per day"),
        "rate_charts": rate_charts(days, subject=str(campaign)),
    }


# --- bounces -----------------------------------------------------------------------------------------------


def provider_names() -> list[str]:
    """The mailbox providers provider_for_domain() knows by name (any other domain stands for itself)."""
    return sorted({*_PROVIDER_EXACT.values(), *(p for _, p in _PROVIDER_PREFIX)})


@dataclass(frozen=True)
class EventFilters:
    """The drill-down filters the bounce explorer and the message search share (and other pages link with:
    ?tenant=<id>&ip=<address>&campaign=<id>&provider=<name>&category=<cat>&domain=<rcpt domain>)."""

    tenant_id: int | None = None
    ip: str = ""
    campaign_id: int | None = None
    provider: str = ""
    category: str = ""
    domain: str = ""

    @property
    def needs_detail(self) -> bool:
        """Only the detailed DailyStat rows carry the IP, campaign and recipient domain."""
        return bool(self.ip or self.campaign_id or self.provider or self.domain)

    def apply(self, qs: QuerySet, *, category_field: str = "") -> QuerySet:
        """These filters on DailyStat or DeliveryEvent rows (same column names); ``category_field`` when
        the category is a column (events' bounce_cat), not a key of the daily rows' category counts."""
        if self.tenant_id is not None:
            qs = qs.filter(tenant_id=self.tenant_id)
        if self.ip:
            qs = qs.filter(source_ip=self.ip)
        if self.campaign_id is not None:
            qs = qs.filter(campaign_id=self.campaign_id)
        if self.domain:
            qs = qs.filter(rcpt_domain=self.domain)
        if self.provider:
            qs = qs.alias(provider=provider_expression("rcpt_domain")).filter(provider=self.provider)
        if self.category and category_field:
            qs = qs.filter(**{category_field: self.category})
        return qs


NO_FILTERS = EventFilters()


def _bounce_stats(
    request: HttpRequest, *, start: date, end: date, filters: EventFilters = NO_FILTERS
) -> QuerySet[DailyStat] | QuerySet[DailyTenantStat]:
    """The rows to sum: per day and tenant (a few hundred rows for a week of the whole fleet) unless an IP,
    campaign, provider or recipient domain is asked for, which only the detailed DailyStat rows carry."""
    if filters.needs_detail:
        detail = scoped(actor_for(request), DailyStat.objects.filter(day__gte=start, day__lte=end))
        return filters.apply(detail).order_by()
    per_tenant = scoped(actor_for(request), DailyTenantStat.objects.filter(day__gte=start, day__lte=end))
    if filters.tenant_id is not None:
        per_tenant = per_tenant.filter(tenant_id=filters.tenant_id)
    return per_tenant.order_by()


def bounce_totals(
    request: HttpRequest, *, start: date, end: date, filters: EventFilters = NO_FILTERS
) -> Counts:
    qs = _bounce_stats(request, start=start, end=end, filters=filters)
    return Counts.from_row(qs.aggregate(**_sums(qs.model)))


def bounce_category_counts(
    request: HttpRequest, *, start: date, end: date, filters: EventFilters = NO_FILTERS
) -> list[tuple[str, int]]:
    """(category, bounces) over DailyStat.bounce_categories, largest first: one query, summed in Postgres."""
    inner = _bounce_stats(request, start=start, end=end, filters=filters).values("bounce_categories")
    sql, params = inner.query.sql_with_params()
    # Only Django's own compiled SQL is interpolated; every value stays a bound parameter.
    query = (
        "SELECT c.key, SUM(c.value::bigint) AS n "  # noqa: S608
        f"FROM ({sql}) AS s CROSS JOIN LATERAL jsonb_each_text(s.bounce_categories) AS c "
        # The per-tenant rollup keeps categories whose count went back to zero.
        "GROUP BY c.key HAVING SUM(c.value::bigint) > 0 ORDER BY n DESC, c.key"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return [(key or "(none)", int(n)) for key, n in cursor.fetchall()]


def category_chart(counts: list[tuple[str, int]]) -> Chart:
    return horizontal_bars(counts, title="Bounces by category", css="bad")


# The diagnostics table reads this many of the period's latest bounces: a fleet bounces tens of thousands
# of messages a day, and normalising every text of a week would take seconds; the latest few thousand
# show the same leaders (and what is happening now).
DIAGNOSTICS_SAMPLE = 5_000


def top_diagnostics(
    request: HttpRequest, *, start: date, end: date, filters: EventFilters = NO_FILTERS, limit: int = 25
) -> list[dict]:
    """The most frequent texts among the period's latest DIAGNOSTICS_SAMPLE bounces (variable parts
    normalised), with a sample recipient to search for. The latest bounces come from the partial
    bounce indexes, by time, by category or by tenant."""
    lo, hi = _time_bounds(start, end)
    qs = DeliveryEvent.objects.filter(
        time_logged__gte=lo, time_logged__lt=hi, outcome__in=(HARD_BOUNCE, SOFT_BOUNCE)
    )
    qs = filters.apply(qs, category_field="bounce_cat")
    qs = scoped(actor_for(request), qs, tenant_field="tenant")
    # The normalised text comes from the bounce indexes (models.diag_text) when one serves the filters.
    latest = (
        qs.order_by("-time_logged")
        .annotate(text=diag_text())
        .values("text", "bounce_cat", "outcome", "rcpt", "rcpt_domain")
    )
    inner, params = latest[:DIAGNOSTICS_SAMPLE].query.sql_with_params()
    # ``inner`` is the SQL Django compiled from the queryset above; every value stays a parameter. Grouped
    # by text, category and recipient domain first (hash aggregates, byte-wise "C" comparisons: equality
    # is the same under the database's deterministic collation), then by text and category: the number
    # of per-domain groups is the number of distinct domains, without a sort per group.
    statement = (
        "SELECT text, bounce_cat, sum(n)::bigint AS n, sum(hard)::bigint AS hard, min(sample) AS sample,"  # noqa: S608
        " count(*) AS domains FROM ("
        ' SELECT text COLLATE "C" AS text, bounce_cat COLLATE "C" AS bounce_cat, rcpt_domain COLLATE "C",'
        " count(*) AS n, count(*) FILTER (WHERE outcome = %s) AS hard, min(rcpt) AS sample"
        " FROM (" + inner + ") AS latest GROUP BY 1, 2, 3) AS per_domain"
        ' GROUP BY 1, 2 ORDER BY n DESC, text COLLATE "default" LIMIT %s'
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [HARD_BOUNCE, *params, limit])
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# --- message search ----------------------------------------------------------------------------------------

# Counting every event of gmail.com over the retention would cost more than the page: counts stop here.
SEARCH_COUNT_CAP = 1_000
_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")


def search_days() -> int:
    """How far back the message search reaches: the events' retention."""
    return settings.ACCOUNTING_EVENT_RETENTION_DAYS


def search_kind(q: str) -> str | None:
    """'address', 'ip', 'domain' or None (the search needs one of them, never a substring)."""
    q = q.strip().lower()
    if "@" in q:
        try:
            validate_email(q)
        except ValidationError:
            return None
        return "address"
    try:
        ipaddress.ip_address(q)
    except ValueError:
        pass
    else:
        return "ip"
    if _DOMAIN_RE.match(q):
        return "domain"
    return None


def _scope_events(request: HttpRequest, qs: QuerySet[DeliveryEvent]) -> QuerySet[DeliveryEvent]:
    """Tenant users get tenant_id = theirs; operators see every event, with no condition at all.

    Both are served by their own index: operators' lead with what is searched for (so no tenant list
    is walked per partition), tenants' searches by domain and IP lead with the tenant (models.DeliveryEvent).
    Every search is bounded by the retention window, which prunes the day partitions outside it when
    the query is planned, and newest first with ``id`` as the tie-break, the order those indexes keep.
    """
    since = datetime.now(UTC) - timedelta(days=search_days())
    qs = qs.filter(time_logged__gte=since)
    if not actor_for(request).is_operator:
        qs = scoped(actor_for(request), qs, tenant_field="tenant")
    return qs.order_by("-time_logged", "-pk")


def search_windows(now: datetime | None = None) -> list[Q]:
    """Filters that split the retained events into UTC-day-aligned spans, newest first: today (and any
    day ahead), the two days before, the seven before those, and the rest. A search pages through
    them in this order (core.paging.KeysetPaginator) and stops at the span that fills its count, so a
    recipient domain, sending IP or campaign with thousands of events a day is planned over today's
    partition or a few, not over every day of the retention. Day-aligned so that each span is whole
    partitions."""
    today = datetime.combine((now or datetime.now(UTC)).astimezone(UTC).date(), time.min, UTC)
    edges = [today, today - timedelta(days=2), today - timedelta(days=9)]
    windows = [Q(time_logged__gte=edges[0])]
    windows += [Q(time_logged__gte=lo, time_logged__lt=hi) for hi, lo in pairwise(edges)]
    windows.append(Q(time_logged__lt=edges[-1]))
    return windows


def events_for_recipient(request: HttpRequest, q: str) -> QuerySet[DeliveryEvent]:
    """Every retained event for an address, a sending IP or a recipient domain; newest first.

    PMTA keeps the recipient's case as the sender wrote it, and the (rcpt, time_logged) index is
    case-sensitive, so an address is looked up as typed, lower-cased, and with only its domain
    lower-cased. IPs and domains are one value each (an IPv6 address is stored compressed), so the
    index gives the order and the page stops after its rows.
    """
    kind = search_kind(q)
    q = q.strip()
    base = DeliveryEvent.objects.select_related("campaign", "tenant", "ip")
    if kind == "address":
        local, _, domain = q.rpartition("@")
        qs = base.filter(rcpt__in=sorted({q, q.lower(), f"{local}@{domain.lower()}"}))
    elif kind == "ip":
        qs = base.filter(source_ip__in=sorted({q, q.lower(), ipaddress.ip_address(q).compressed}))
    elif kind == "domain":
        qs = base.filter(rcpt_domain=q.lower())
    else:
        return base.none()
    return _scope_events(request, qs)


def events_for_campaign(request: HttpRequest, campaign: Campaign) -> QuerySet[DeliveryEvent]:
    """The campaign's retained events, newest first (the caller got the campaign through its access
    helper; the scope is applied again all the same)."""
    qs = DeliveryEvent.objects.select_related("campaign", "tenant", "ip").filter(campaign=campaign)
    return _scope_events(request, qs)


# Without an address, IP, domain or campaign to lead the index, a search looks at this many recent days.
BROAD_SEARCH_DAYS = 1


def events_filtered(
    request: HttpRequest,
    *,
    q: str = "",
    campaign: Campaign | None = None,
    filters: EventFilters = NO_FILTERS,
    start: date | None = None,
    end: date | None = None,
) -> QuerySet[DeliveryEvent]:
    """Retained events, newest first: for ``q`` (address, IP or recipient domain) or ``campaign`` as
    events_for_recipient / events_for_campaign find them, narrowed by ``filters`` and the UTC days
    [start, end]; with neither, the last BROAD_SEARCH_DAYS days of the filtered events (the caller checked
    the campaign through its access helper)."""
    if q:
        qs = events_for_recipient(request, q)
    elif campaign is not None:
        qs = events_for_campaign(request, campaign)
    else:
        days = BROAD_SEARCH_DAYS if start is None else search_days()
        since = datetime.now(UTC) - timedelta(days=days)
        recent = DeliveryEvent.objects.select_related("campaign", "tenant", "ip").filter(
            time_logged__gte=since
        )
        qs = _scope_events(request, recent).order_by("-time_logged", "-pk")
    if start is not None or end is not None:
        lo, hi = _time_bounds(start or date.min, end or utc_today())
        qs = qs.filter(time_logged__gte=lo, time_logged__lt=hi)
    return filters.apply(qs, category_field="bounce_cat")


def suppressions_for_address(request: HttpRequest, q: str) -> QuerySet[Suppression]:
    if search_kind(q) != "address":
        return Suppression.objects.none()
    return scoped(
        actor_for(request),
        Suppression.objects.select_related("tenant").filter(email=q.strip().lower()),
        tenant_field="tenant",
    )


# --- suppression list --------------------------------------------------------------------------------------


def suppressions_filtered(
    request: HttpRequest, *, q: str = "", reason: str = "", tenant: Tenant | None = None
) -> QuerySet[Suppression]:
    qs = scoped(actor_for(request), Suppression.objects.select_related("tenant"), tenant_field="tenant")
    if tenant is not None:
        qs = qs.filter(tenant=tenant)
    if reason:
        qs = qs.filter(reason=reason)
    if q:
        qs = qs.filter(email__icontains=q.strip().lower())
    return qs.order_by("-created_at", "-pk")


def suppression_imports_visible(request: HttpRequest) -> QuerySet[SuppressionImport]:
    """Suppression import jobs the user may see (their tenant's; all for operators), newest first, without
    the uploads themselves."""
    qs = SuppressionImport.objects.select_related("tenant").defer("data").order_by("-created_at", "-pk")
    return scoped(actor_for(request), qs, tenant_field="tenant")


def suppression_reason_counts(qs: QuerySet[Suppression]) -> list[tuple[str, str, int]]:
    """(reason, label, n) for every reason, zeros included (one query)."""
    found = dict(qs.order_by().values_list("reason").annotate(n=Count("id")))
    return [(value, label, found.get(value, 0)) for value, label in Suppression.Reason.choices]


# --- import history ----------------------------------------------------------------------------------------


def accounting_files() -> QuerySet[AccountingFile]:
    return AccountingFile.objects.select_related("server").order_by("-updated_at", "-pk")


REJECTION_STATUSES = ("open", "resolved", "all")


def import_rejections(
    *,
    kind: str = "",
    status: str = "open",
    server_id: int | None = None,
    source_id: int | None = None,
    q: str = "",
) -> QuerySet[ImportRejection]:
    """Kept accounting records (rejected or held aside), newest first: the Imports pages and the API.

    Operator-only data: callers check the role (tenants.access.require_operator) before calling.
    ``kind``: rejected | mismatch | '' (both); ``status``: open | resolved | all; ``q`` searches the
    reason and the start of the record.
    """
    qs = ImportRejection.objects.select_related("file", "server").defer("data").order_by("-created_at", "-pk")
    if kind:
        qs = qs.filter(kind=kind)
    if status == "open":
        qs = qs.filter(resolution="")
    elif status == "resolved":
        qs = qs.exclude(resolution="")
    if server_id:
        qs = qs.filter(server_id=server_id)
    if source_id:
        qs = qs.filter(file_id=source_id)
    if q:
        qs = qs.filter(Q(reason__icontains=q) | Q(raw__icontains=q))
    return qs


# --- the IP page's delivery card ------------------------------------------------------------------------


def ip_delivery_summary(ip: IPAddress, days: int = 30, *, tenant_id: int | None = None) -> dict:
    """Counts, per-provider table and daily chart for one sending IP over the last `days` UTC days.

    Looked up by address (the (source_ip, day) index), so stats recorded before the IP was in the inventory
    count too. `tenant_id` limits it to one tenant's traffic: an IP can change hands, and a tenant must not
    see what a previous tenant sent.
    """
    end = utc_today()
    start = end - timedelta(days=days - 1)
    stats = DailyStat.objects.filter(source_ip=ip.address, day__gte=start, day__lte=end).order_by()
    if tenant_id is not None:
        stats = stats.filter(tenant_id=tenant_id)
    day_rows = daily_totals(stats, start=start, end=end)
    totals = Counts()
    for _, t in day_rows:
        totals.add(t)
    return {
        "days": days,
        "start": start,
        "end": end,
        "totals": totals,
        "by_provider": totals_by_provider(stats)[:10],
        "chart": daily_chart(day_rows, title=f"{ip.address}: delivered and bounced per day"),
        "rate_charts": rate_charts(day_rows, subject=ip.address),
    }


# --- the IP list's per-IP figures (campaigns/ip_columns.py) -------------------------------------------------

IP_LIST_DAYS = 7


class Host(Func):
    """PostgreSQL ``host(inet)``: the address as text without its netmask, as DailyStat.source_ip holds it."""

    function = "HOST"
    output_field = CharField()


def ip_recent_figures(*, days: int = IP_LIST_DAYS, tenant_id: int | None = None) -> dict[str, Any]:
    """{"sent", "bounce_rate", "complaint_rate"}: SQL over one IPAddress row (``OuterRef("address")``) for
    its last ``days`` UTC days, as ``campaigns.stats`` defines them (sent = attempted), one subquery each.

    Looked up by address (the (source_ip, day) index), as the IP page's card is; ``tenant_id`` keeps a
    tenant to its own traffic on an IP that may have served another tenant before."""
    end = utc_today()
    stats = DailyStat.objects.filter(
        source_ip=Host(OuterRef("address")), day__gte=end - timedelta(days=days - 1), day__lte=end
    )
    if tenant_id is not None:
        stats = stats.filter(tenant_id=tenant_id)
    counts = {name: expr for name, expr in _sums().items() if name in COUNTED_FOR_LIST}
    per_ip = stats.order_by().values("source_ip").annotate(**counts)
    columns = {name: F(name) for name in counts}

    def one(expression: Any) -> Subquery:
        return Subquery(per_ip.annotate(figure=expression).values("figure")[:1])

    return {
        "sent": Coalesce(one(attempted_sql(columns)), Value(0)),
        "bounce_rate": one(rate_sql("bounce_rate", columns)),
        "complaint_rate": one(rate_sql("complaint_rate", columns)),
    }


# The counts the list's figures need (summing the block categories out of JSON would be wasted work).
COUNTED_FOR_LIST = ("delivered", "hard_bounces", "soft_bounces", "complaints")


# --- daily stats for the API -------------------------------------------------------------------------------

STAT_GROUPS = ("tenant", "ip", "campaign", "provider")


def provider_expression(field: str) -> Case:
    """provider_for_domain() in SQL, built from the same tables, so stats can be grouped by provider."""
    domain = Lower(Trim(F(field)))
    whens = [When(Q(**{f"{field}__iexact": d}), then=Value(p)) for d, p in _PROVIDER_EXACT.items()]
    whens += [When(Q(**{f"{field}__istartswith": prefix}), then=Value(p)) for prefix, p in _PROVIDER_PREFIX]
    whens.append(When(Q(**{field: ""}), then=Value("(no domain)")))
    return Case(*whens, default=domain, output_field=CharField())


def daily_stats(
    request: HttpRequest,
    *,
    start: date,
    end: date,
    by: str,
    tenant: str = "",
    ip: str = "",
    campaign: str = "",
) -> QuerySet:
    """Per day and per tenant, IP, campaign or provider: the summed counts (rows of dicts, newest first).

    By provider or tenant, without an IP or campaign to narrow to, from the per-day, tenant and recipient
    domain rollup (DailyDomainStat: the same sums over a few rows per tenant and day); otherwise from
    the detailed DailyStat rows, which alone carry the IP and campaign."""
    if by in ("provider", "tenant") and not ip and not campaign:
        return _daily_stats_by_domain(request, start=start, end=end, by=by, tenant=tenant)
    qs = scoped(actor_for(request), DailyStat.objects.all(), tenant_field="tenant").filter(
        day__gte=start, day__lte=end
    )
    if tenant:
        qs = qs.filter(tenant__slug=tenant)
    if ip:
        qs = qs.filter(source_ip=ip)
    if campaign:
        qs = qs.filter(campaign_key=campaign)
    key = {
        "tenant": F("tenant__slug"),
        "ip": F("source_ip"),
        "campaign": F("campaign_key"),
        "provider": provider_expression("rcpt_domain"),
    }[by]
    return qs.annotate(key=key).values("day", "key").annotate(**_sums()).order_by("-day", "key")


def daily_stats_count(qs: QuerySet) -> int:
    """How many rows `daily_stats` gives, counted in its own order (newest day, then key).

    Django drops a counted query's ORDER BY unless it is sliced; kept, Postgres groups the (day, IP)
    pairs along daily_stat_day_ip, index-only, instead of hashing every pair of the range (which spilled
    to disk on the scale data set). The slice bounds nothing: no range has that many pairs."""
    return qs[: 2**62].count()


def _daily_stats_by_domain(request: HttpRequest, *, start: date, end: date, by: str, tenant: str) -> QuerySet:
    qs = scoped(actor_for(request), DailyDomainStat.objects.filter(day__gte=start, day__lte=end))
    if tenant:
        qs = qs.filter(tenant_id__in=Tenant.objects.filter(slug=tenant).values("pk"))
    if by == "provider":
        return (
            qs.annotate(key=provider_expression("rcpt_domain"))
            .values("day", "key")
            .annotate(**_sums(DailyDomainStat))
            .order_by("-day", "key")
        )
    # The rollup keeps the tenant as a bare id: grouped by (day, tenant id), the same groups as by slug
    # (slugs are unique), and the slug, as DailyStat's join gives it, looked up once per group after the
    # sums: the count query then never looks it up, the page's query only for the groups it sorts.
    slug = Subquery(Tenant.objects.filter(pk=OuterRef("tenant_id")).order_by().values("slug")[:1])
    return (
        qs.values("day", "tenant_id")
        .annotate(**_sums(DailyDomainStat))
        .annotate(key=slug)
        .order_by("-day", "key")
    )
