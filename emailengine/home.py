"""What the home pages read: "what needs me now" (each count with the link to the list that shows exactly
those rows) and the 7- and 30-day trends.

Cross-app glue like the view: it reads every app's selectors and decides nothing itself. Counts come from
the selector behind the list each one links to; rates from campaigns.stats; thresholds from
campaigns.stats.rate_level.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.http import HttpRequest
from django.urls import reverse

from campaigns import trends
from campaigns.stats import Counts
from core.access import scoped
from core.charts import TREND_DAYS, window
from domains.models import SendingDomain
from ips.models import IPAddress, IPStatus
from ips.selectors import config_behind, servers_with_config_problem, servers_with_config_state
from reputation.home import listed_ip_count, listings_chart, listings_daily, problem_target_count
from tenants.access import Actor, actor_for


@dataclass(frozen=True)
class Attention:
    """One "needs me now" figure: a count and the list that shows exactly those rows."""

    key: str
    label: str
    count: int
    url: str
    level: str = "error"  # badge class when the count is not zero
    hint: str = ""

    @property
    def css(self) -> str:
        return self.level if self.count else "ok"


def _url(name: str, **params: object) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return reverse(name) + (f"?{query}" if query else "")


def ip_counts(request: HttpRequest) -> dict[str, int]:
    """IPs per status, as the IP list's ``?status=`` shows them."""
    rows = (
        scoped(actor_for(request), IPAddress.objects.all(), "pool__tenant")
        .values("status")
        .annotate(n=Count("id"))
    )
    counts = {status: 0 for status in IPStatus.values}
    counts.update({r["status"]: r["n"] for r in rows})
    return counts


def domain_counts(request: HttpRequest) -> dict[str, int]:
    return scoped(actor_for(request), SendingDomain.objects.all()).aggregate(
        total=Count("id"),
        # The domain list's ?problems=1 rows.
        problems=Count("id", filter=Q(status__in=SendingDomain.PROBLEM_STATUSES)),
        unchecked=Count("id", filter=Q(status="")),
    )


def attention(request: HttpRequest, actor: Actor) -> dict:
    """The "needs me now" figures, worst kinds first, and the tenants/IPs over a threshold."""
    counts = ip_counts(request)
    domains = domain_counts(request)
    ips_over = trends.ips_over_threshold(request)
    items = [
        Attention(
            "listed",
            "IPs on a blocklist",
            listed_ip_count(request),
            _url("ip_list", listed=1),
            hint="open listings on enabled lists",
        ),
        Attention(
            "reputation",
            "targets listed or failing a check",
            problem_target_count(request),
            _url("reputation_overview", only="problems"),
        ),
        Attention("paused", "paused IPs", counts[IPStatus.PAUSED], _url("ip_list", status=IPStatus.PAUSED)),
        Attention(
            "ips_over",
            f"IPs over a rate threshold ({trends.LEVEL_DAYS} days)",
            len(ips_over),
            _url("ip_list", over=1),
            hint="hard bounce, complaint or block rate at a hold or pause threshold",
        ),
        Attention(
            "domains",
            "domains with DNS problems",
            domains["problems"],
            _url("domain_list", problems=1),
            level="warning",
        ),
    ]
    context: dict = {"ip_counts": counts, "domains": domains, "ips_over": ips_over[:10]}
    if actor.is_operator:
        # One query for the servers table, these counts and the drift banner (which would read its own).
        servers = servers_with_config_state()
        states = {server.pk: state for server, state in servers}
        tenants_over = trends.tenants_over_threshold(request)
        context["tenants_over"] = tenants_over[:10]
        context["config_states"] = states
        context["servers"] = servers
        context["config_behind"] = config_behind(servers)  # in place of ips.context_processors' query
        items[4:4] = [
            Attention(
                "drift",
                "servers with config not applied",
                len(servers_with_config_problem("drift", states)),
                _url("server_list", config="drift"),
                level="warning",
            ),
            Attention(
                "silent",
                "servers whose agent is silent",
                len(servers_with_config_problem("silent", states)),
                _url("server_list", config="silent"),
            ),
            Attention(
                "tenants_over",
                f"tenants over a rate threshold ({trends.LEVEL_DAYS} days)",
                len(tenants_over),
                # campaigns/tenant_filters.py: the tenant list kept to trends.tenants_over_threshold.
                _url("tenant_list", over=1),
            ),
        ]
    context["attention"] = items
    context["attention_total"] = sum(1 for item in items if item.count)
    return context


def home_trends(request: HttpRequest, *, days: int, subject: str) -> dict:
    """Sent, bounce rate, complaint rate and listings per day over the last `days` (two queries)."""
    per_day = trends.tenant_daily(request, days=days)
    start, end = window(days)
    charts = trends.trend_charts(per_day, subject=subject)
    charts.append(listings_chart(listings_daily(request, start=start, end=end), subject=subject))
    last_24h = Counts()
    for _, counts in per_day[-2:]:  # today and yesterday (UTC), as the "last 24 hours" card always read
        last_24h.add(counts)
    return {
        "trend_days": days,
        "trend_choices": TREND_DAYS,
        "trend_totals": trends.total(per_day),
        "charts": charts,
        "delivery": last_24h,
    }
