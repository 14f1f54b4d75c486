"""The "Blocklist listings per day" card on the domain page (the last 7 or 30 UTC days).

A sending domain's traffic is not in the daily aggregates (they are keyed by sending IP, recipient domain,
campaign and tenant), so the domain's trend is its blocklist history. domains discovers this module by name
(domains.selectors.domain_detail_blocks); domains never imports reputation.
"""

from django.http import HttpRequest

from core.charts import TREND_DAYS, trend_days, window
from domains.models import SendingDomain
from ips.selectors import IPBlock
from reputation.home import listings_chart, listings_daily


def blocks(request: HttpRequest, domain: SendingDomain) -> list[IPBlock]:
    days = trend_days(request.GET.get("days"), default=30)
    start, end = window(days)
    rows = listings_daily(request, start=start, end=end, domain_id=domain.pk)
    context = {
        "trend": {
            "days": days,
            "start": start,
            "end": end,
            "choices": TREND_DAYS,
            "charts": [listings_chart(rows, subject=domain.name)],
        }
    }
    return [IPBlock("Blocklist listings per day", "reputation/_listing_trend_card.html", context, order=40)]
