"""Provider data feeding tenant enforcement: the glue between reputation (Postmaster Tools) and campaigns
(tenant holds), which sit on the same floor and may not import each other."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from campaigns.enforcement import Verdict
from campaigns.stats import format_rate
from reputation.models import PostmasterDomainStat


def gmail_spam_verdicts(*, now: datetime | None = None) -> dict[int, Verdict]:
    """Per tenant, the worst Gmail user-reported spam rate of its domains over the enforcement window when it
    reaches TENANT_HOLD_COMPLAINT_RATE (Gmail: never reach 0.3%, support.google.com/a/answer/14229414)."""
    now = now or timezone.now()
    since = now.date() - timedelta(days=settings.TENANT_ENFORCE_WINDOW_DAYS)
    limit = settings.TENANT_HOLD_COMPLAINT_RATE
    rows = (
        PostmasterDomainStat.objects.filter(
            day__gte=since, spam_rate__gte=limit, domain__tenant__isnull=False
        )
        .order_by("-spam_rate", "-day")
        .values_list("domain__tenant_id", "domain__name", "day", "spam_rate")
    )
    verdicts: dict[int, Verdict] = {}
    for tenant_id, name, day, rate in rows:
        if tenant_id is None or rate is None or tenant_id in verdicts:  # the query excludes both
            continue
        why = (
            f"Gmail user-reported spam rate {format_rate(rate)} for {name} on {day:%Y-%m-%d} "
            f"(Postmaster Tools) ≥ {format_rate(limit)}"
        )
        verdicts[tenant_id] = Verdict("gmail_spam_rate", rate, limit, why)
    return verdicts
