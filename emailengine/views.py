"""The home page: one glance at the fleet (operators) or at a tenant's own sending (tenant users).

This is the cross-app glue: it may read every app, and no app reads it.
"""

from datetime import timedelta

from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from campaigns.models import DailyTenantStat
from campaigns.stats import Counts, sums
from core.dates import utc_today
from core.models import AuditEvent
from domains.models import SendingDomain
from emailengine.jobs_overview import scheduled_jobs_overview
from ips.models import IPAddress, IPStatus, MtaServer
from ips.selectors import servers_config_state
from reputation.models import Listing
from reputation.selectors import recent_changes
from tenants.access import actor_for, scope
from tenants.models import Tenant
from warmup.models import IPWarmup


def _ip_counts(request: HttpRequest) -> dict[str, int]:
    rows = scope(request, IPAddress.objects.all(), "pool__tenant").values("status").annotate(n=Count("id"))
    counts = {status: 0 for status in IPStatus.values}
    counts.update({r["status"]: r["n"] for r in rows})
    return counts


def _delivery_24h(request: HttpRequest) -> Counts:
    since = utc_today() - timedelta(days=1)
    qs = scope(request, DailyTenantStat.objects.filter(day__gte=since))
    return Counts.from_row(qs.aggregate(**sums(DailyTenantStat)))


def home(request: HttpRequest) -> HttpResponse:
    actor = actor_for(request)
    ip_counts = _ip_counts(request)
    domains = scope(request, SendingDomain.objects.all()).aggregate(
        total=Count("id"),
        problems=Count("id", filter=Q(status__in=["missing", "invalid", "warning"])),
        unchecked=Count("id", filter=Q(status="")),
    )
    listings = scope(request, Listing.objects.filter(cleared_at__isnull=True)).count()
    warming = scope(request, IPWarmup.objects.exclude(status=IPWarmup.Status.COMPLETED), "ip__pool__tenant")
    warmup_counts = dict(warming.values_list("status").annotate(n=Count("id")))
    context = {
        "ip_counts": ip_counts,
        "domains": domains,
        "open_listings": listings,
        "warmup_counts": warmup_counts,
        "delivery": _delivery_24h(request),
        "changes": recent_changes(request, 8),
        "recent": scope(request, AuditEvent.objects.select_related("tenant"))[:10],
    }
    if actor.is_operator:
        context["totals"] = {
            "tenants": Tenant.objects.count(),
            "IPs": sum(ip_counts.values()),
            "sending IPs": ip_counts[IPStatus.ACTIVE] + ip_counts[IPStatus.WARMING],
            "paused IPs": ip_counts[IPStatus.PAUSED],
            "open listings": listings,
            "domains with problems": domains["problems"],
        }
        servers = list(MtaServer.objects.annotate(n_ips=Count("ips")).order_by("name"))
        states = servers_config_state()
        context["servers"] = [(server, states.get(server.pk)) for server in servers]
        context["jobs"] = scheduled_jobs_overview()
        template = "emailengine/home_operator.html"
    else:
        context["tenant"] = Tenant.objects.filter(pk=actor.tenant_id).first() if actor.tenant_id else None
        context["totals"] = {
            "IPs": sum(ip_counts.values()),
            "warming": ip_counts[IPStatus.WARMING],
            "paused": ip_counts[IPStatus.PAUSED],
            "domains": domains["total"],
            "domains with problems": domains["problems"],
            "open listings": listings,
        }
        template = "emailengine/home_tenant.html"
    return render(request, template, context)
