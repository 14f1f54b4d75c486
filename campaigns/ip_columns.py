"""The IP list's 7-day sent, bounce rate and complaint rate columns.

ips discovers this module by name (ips.selectors.ip_list_columns); ips never imports campaigns.
"""

from django.http import HttpRequest

from campaigns.selectors import IP_LIST_DAYS, ip_recent_figures
from ips.selectors import IPColumn
from tenants.access import actor_for


def columns(request: HttpRequest) -> list[IPColumn]:
    actor = actor_for(request)
    # A tenant user sees only their own tenant's traffic on the IP (it may have served another tenant before).
    figures = ip_recent_figures(tenant_id=None if actor.is_operator else actor.tenant_id)
    days = f"last {IP_LIST_DAYS} UTC days"
    return [
        IPColumn(
            "sent",
            f"Sent {IP_LIST_DAYS}d",
            figures["sent"],
            title=f"Attempted (delivered + bounced), {days}",
            order=10,
        ),
        IPColumn(
            "bounce",
            "Bounce",
            figures["bounce_rate"],
            kind="rate",
            title=f"Bounces / attempted, {days}",
            order=11,
        ),
        IPColumn(
            "complaint",
            "Compl.",
            figures["complaint_rate"],
            kind="rate",
            title=f"Complaints / delivered, {days}",
            order=12,
        ),
    ]
