"""The "Traffic trend" card on the server page: sent, bounce rate and complaint rate per day from its IPs.

ips discovers this module by name (ips.selectors.server_detail_blocks); ips never imports campaigns.
"""

from django.http import HttpRequest

from campaigns.trends import server_trend
from core.charts import trend_days
from ips.models import MtaServer
from ips.selectors import IPBlock


def blocks(request: HttpRequest, server: MtaServer) -> list[IPBlock]:
    days = trend_days(request.GET.get("days"), default=30)
    trend = server_trend(request, server.pk, days=days, subject=server.name)
    return [IPBlock("Traffic trend", "campaigns/_trend_card.html", {"trend": trend}, order=30)]
