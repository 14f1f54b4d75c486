"""The home page: what needs the user now (operators: the fleet; tenant users: their tenant), with
7- and 30-day trends.

This is the cross-app glue: it may read every app, and no app reads it. One view and one template per
persona; the "needs me now" counters are the template's ``attention`` partial, which the page polls
(every 30 s) and the trend charts its ``trends`` partial (the 7/30-day switch).
"""

from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import render

from core.access import scoped
from core.charts import trend_days
from core.http import HtmxRequest
from core.models import AuditEvent
from emailengine import home as selectors
from emailengine.jobs_overview import scheduled_jobs_overview
from ips.models import IPStatus
from reputation.selectors import recent_changes
from tenants.access import actor_for
from tenants.models import Tenant
from warmup.models import IPWarmup

# The ids of the swapped elements: an htmx request targeting one gets only that partial.
PARTIALS = {"attention": "attention", "trends": "trends"}
TEMPLATE = "emailengine/home.html"


def home(request: HtmxRequest) -> HttpResponse:
    actor = actor_for(request)
    template = TEMPLATE
    tenant = None
    if not actor.is_operator:
        tenant = Tenant.objects.filter(pk=actor.tenant_id).first() if actor.tenant_id else None
        if tenant is None:
            return render(request, template, {"tenant": None, "is_operator": False})
    base = {"is_operator": actor.is_operator, "tenant": tenant}
    subject = "Fleet" if actor.is_operator else tenant.name  # type: ignore[union-attr]
    days = trend_days(request.GET.get("days"))
    target = request.htmx.target if request.htmx else None
    if target == PARTIALS["attention"]:
        return render(request, f"{template}#attention", {**base, **selectors.attention(request, actor)})
    if target == PARTIALS["trends"]:
        trends = selectors.home_trends(request, days=days, subject=subject)
        return render(request, f"{template}#trends", {**base, **trends})

    context = {
        **base,
        **selectors.attention(request, actor),
        **selectors.home_trends(request, days=days, subject=subject),
        "changes": recent_changes(request, 8),
        "recent": scoped(actor_for(request), AuditEvent.objects.select_related("tenant"))[:10],
    }
    warming = scoped(
        actor_for(request), IPWarmup.objects.exclude(status=IPWarmup.Status.COMPLETED), "ip__pool__tenant"
    )
    context["warmup_counts"] = dict(warming.values_list("status").annotate(n=Count("id")))
    counts = context["ip_counts"]
    if actor.is_operator:
        context["totals"] = {
            "tenants": Tenant.objects.count(),
            "IPs": sum(counts.values()),
            "sending IPs": counts[IPStatus.ACTIVE] + counts[IPStatus.WARMING],
            "paused IPs": counts[IPStatus.PAUSED],
        }
        context["jobs"] = scheduled_jobs_overview()
    else:
        context["totals"] = {
            "IPs": sum(counts.values()),
            "warming": counts[IPStatus.WARMING],
            "paused": counts[IPStatus.PAUSED],
            "domains": context["domains"]["total"],
        }
    return render(request, template, context)
