"""Reads the warmup pages share; every one is scoped to what the request's user may see."""

from datetime import timedelta

from django.db.models import Count, QuerySet
from django.http import HttpRequest

from campaigns.models import DailyStat
from campaigns.stats import Counts, sums, thresholds
from core.access import scoped
from core.dates import utc_today
from ips.models import IPAddress
from tenants.access import actor_for
from warmup.models import IPWarmup, WarmupDecision


def warmups_for(request: HttpRequest) -> QuerySet[IPWarmup]:
    return scoped(
        actor_for(request), IPWarmup.objects.select_related("ip__pool__tenant", "plan"), "ip__pool__tenant"
    )


def step_counts(plan_ids: set[int]) -> dict[int, int]:
    from warmup.models import WarmupStep

    rows = WarmupStep.objects.filter(plan_id__in=plan_ids).values("plan_id").annotate(n=Count("id"))
    return {r["plan_id"]: r["n"] for r in rows}


def counts_on(day, addresses: list[str]) -> dict[str, Counts]:
    """campaigns.stats counts per sending IP for one day."""
    rows = (
        DailyStat.objects.filter(day=day, source_ip__in=addresses)
        .order_by()
        .values("source_ip")
        .annotate(**sums(DailyStat))
    )
    return {r["source_ip"]: Counts.from_row(r) for r in rows}


def is_over_limit(attempted: int, limit: int | None) -> bool:
    """Attempts past the cap by more than the tolerance (settings.SIGNAL_OVER_LIMIT_TOLERANCE): a fault."""
    return limit is not None and attempted > limit * (1 + thresholds().over_limit_tolerance)


def timeline(ip: IPAddress, days: int = 30) -> list[tuple[str, int, int | None, str]]:
    """(day, attempted, limit that day, decision) for the last `days` days."""
    today = utc_today()
    start = today - timedelta(days=days - 1)
    sent = {
        r["day"]: Counts.from_row(r).attempted
        for r in DailyStat.objects.filter(source_ip=ip.address, day__gte=start)
        .order_by()
        .values("day")
        .annotate(**sums(DailyStat))
    }
    decisions = {}
    for dec in WarmupDecision.objects.filter(warmup__ip=ip, day__gte=start).order_by("day", "id"):
        decisions[dec.day] = dec
    result, limit = [], None
    earlier = WarmupDecision.objects.filter(warmup__ip=ip, day__lt=start).order_by("-day", "-id").first()
    if earlier:
        limit = earlier.daily_limit
    for i in range(days):
        day = start + timedelta(days=i)
        decision = decisions.get(day)
        if decision:
            limit = decision.daily_limit
        result.append((day.isoformat(), sent.get(day, 0), limit, decision.action if decision else ""))
    return result
