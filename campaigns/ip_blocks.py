"""The "Delivery (last 30 days)" card on the IP page.

ips discovers this module by name (ips.selectors.ip_detail_blocks); ips never imports campaigns.
"""

from django.http import HttpRequest

from campaigns.selectors import ip_delivery_summary
from ips.models import IPAddress
from ips.selectors import IPBlock
from tenants.access import actor_for


def blocks(request: HttpRequest, ip: IPAddress) -> list[IPBlock]:
    actor = actor_for(request)
    # A tenant user sees only their own tenant's traffic on the IP (it may have served another tenant before).
    tenant_id = None if actor.is_operator else actor.tenant_id
    summary = ip_delivery_summary(ip, days=30, tenant_id=tenant_id)
    return [IPBlock("Delivery (last 30 days)", "campaigns/_ip_delivery_stats.html", summary, order=30)]
