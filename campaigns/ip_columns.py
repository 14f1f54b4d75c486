"""The IP list's 7-day sent, bounce rate and complaint rate columns.

ips discovers this module by name (ips.selectors.ip_list_columns); ips never imports campaigns.
"""

from datetime import timedelta
from typing import Any

from django.db.models import Case, IntegerField, Q, Value, When
from django.http import HttpRequest

from campaigns.selectors import IP_LIST_DAYS, ip_recent_figures
from campaigns.trends import ip_levels_over
from core.dates import utc_today
from ips.selectors import IPColumn
from tenants.access import actor_for


def columns(request: HttpRequest) -> list[IPColumn]:
    actor = actor_for(request)
    # A tenant user sees only their own tenant's traffic on the IP (it may have served another tenant before).
    figures = ip_recent_figures(tenant_id=None if actor.is_operator else actor.tenant_id)
    days = f"last {IP_LIST_DAYS} UTC days"
    # The cells open the drill-down over the same days: the IP's messages and its bounce explorer.
    since = (utc_today() - timedelta(days=IP_LIST_DAYS - 1)).isoformat()

    def over_the_days(ip: Any) -> dict[str, str]:
        return {"ip": str(ip.address), "start": since}

    return [
        IPColumn(
            "sent",
            f"Sent {IP_LIST_DAYS}d",
            figures["sent"],
            title=f"Attempted (delivered + bounced), {days}",
            order=10,
            link="message_search",
            link_query=over_the_days,
        ),
        IPColumn(
            "bounce",
            "Bounce",
            figures["bounce_rate"],
            kind="rate",
            title=f"Bounces / attempted, {days}",
            order=11,
            link="bounce_explorer",
            link_query=over_the_days,
        ),
        IPColumn(
            "complaint",
            "Compl.",
            figures["complaint_rate"],
            kind="rate",
            title=f"Complaints / delivered, {days}",
            order=12,
            link="bounce_explorer",
            link_query=over_the_days,
        ),
        _level_column(tenant_id=None if actor.is_operator else actor.tenant_id),
    ]


# The level column's values: 0 under every threshold, 1 at a hold threshold, 2 at a pause threshold, so
# sorting by -level puts the worst first.
LEVEL_VALUE = {"ok": 0, "warning": 1, "error": 2}


def _level_column(*, tenant_id: int | None) -> IPColumn:
    """The IP's 7-day level as campaigns.stats.rate_level judges it (hard bounce, complaint and block rate
    against the SIGNAL_* hold and pause thresholds), decided in Python by the one rule and carried into
    the list's SQL as a CASE over the addresses, so the list can filter (?over=1) and sort by it. The home
    page's "IPs over a rate threshold" count links here and counts the same set (campaigns.trends)."""
    by_level: dict[int, list[str]] = {1: [], 2: []}
    for address, (_, level) in ip_levels_over(days=IP_LIST_DAYS, tenant_id=tenant_id).items():
        if LEVEL_VALUE[level]:
            by_level[LEVEL_VALUE[level]].append(address)
    whens = [
        When(Q(address__in=addresses), then=Value(n))
        for n, addresses in sorted(by_level.items(), reverse=True)
        if addresses
    ]
    expression = (
        Case(*whens, default=Value(0), output_field=IntegerField()) if whens else Value(0, IntegerField())
    )
    return IPColumn(
        "level",
        "Level",
        expression,
        kind="level",
        title=f"Hold or pause level of the hard bounce, complaint or block rate, last {IP_LIST_DAYS} days",
        filter_param="over",
        filter_label="only over a rate threshold",
        filter_q=Q(level__gt=0),
        order=13,
    )
