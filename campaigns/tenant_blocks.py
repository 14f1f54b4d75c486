"""The tenant page's "Sending" section: the last 7 and 30 UTC days (campaigns.stats definitions), the latest
campaigns, and links into the bounces and messages filtered to the tenant; and its "Traffic trend" charts
(sent, bounce and complaint rate per day over 7 or 30 days, campaigns.trends).

tenants.selectors.tenant_detail_blocks discovers this module; tenants never imports campaigns.
"""

from datetime import timedelta

from django.http import HttpRequest

from campaigns.models import Campaign, DailyTenantStat
from campaigns.selectors import attach_totals
from campaigns.stats import Counts, sums
from campaigns.trends import tenant_trend
from core.access import scoped
from core.charts import trend_days
from core.dates import utc_today
from tenants.access import actor_for
from tenants.models import Tenant
from tenants.selectors import TenantBlock

WINDOWS = (7, 30)
LATEST_CAMPAIGNS = 10


def blocks(request: HttpRequest, tenant: Tenant) -> list[TenantBlock]:
    today = utc_today()
    actor = actor_for(request)
    stats = scoped(actor, DailyTenantStat.objects.filter(tenant_id=tenant.pk)).order_by()
    windows = []
    for days in WINDOWS:
        start = today - timedelta(days=days - 1)
        row = stats.filter(day__gte=start, day__lte=today).aggregate(**sums(DailyTenantStat))
        windows.append((days, start, Counts.from_row(row)))
    campaigns = scoped(actor, Campaign.objects.filter(tenant=tenant))
    latest = list(campaigns.order_by("-last_seen", "pk")[:LATEST_CAMPAIGNS])
    month_start = today - timedelta(days=WINDOWS[-1] - 1)
    context = {
        "tenant": tenant,
        "windows": windows,
        "campaigns": attach_totals(latest, start=month_start, end=today),
        "month_start": month_start,
        "today": today,
    }
    days = trend_days(request.GET.get("days"), default=30)
    trend = tenant_trend(request, tenant.pk, days=days, subject=tenant.name)
    return [
        TenantBlock("Sending", "campaigns/_tenant_block.html", context, order=30),
        TenantBlock("Traffic trend", "campaigns/_trend_card.html", {"trend": trend}, order=31),
    ]
