"""Tenant enforcement: a tenant whose complaint or hard-bounce rate crosses its threshold is held.

Counts and rates are campaigns.stats's; thresholds are settings (TENANT_HOLD_*). A hold pauses the tenant's
own IPs (the pools assigned to it) through ips.services, writes one audit event, and exports
``emailengine_tenant_held`` so the EmailEngineTenantHeld alert fires with the rate. An operator releases it
(audited): the IPs the hold paused are resumed, and the tenant is not judged again before the next UTC day,
so a release is not undone an hour later by the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from campaigns.models import DailyTenantStat, TenantHold
from campaigns.stats import Counts, format_count_of, format_rate, sums
from core.audit import Author, audit_record
from ips.models import IPAddress, IPStatus
from ips.services import TransitionError, ip_resume, ips_set_status_bulk
from tenants.models import Tenant

SYSTEM = "system: tenant enforcement"


class EnforcementError(ValueError):
    pass


@dataclass(frozen=True)
class Verdict:
    signal: str
    rate: float
    threshold: float
    reason: str


def window(today: date) -> tuple[date, date]:
    return today - timedelta(days=settings.TENANT_ENFORCE_WINDOW_DAYS - 1), today


def judge(counts: Counts) -> Verdict | None:
    """The first threshold a tenant's window crosses (complaints before bounces), or None."""
    if counts.attempted < settings.TENANT_ENFORCE_MIN_ATTEMPTED:
        return None
    complaint, limit = counts.complaint_rate, settings.TENANT_HOLD_COMPLAINT_RATE
    if complaint is not None and complaint >= limit:
        numbers = format_count_of(counts.complaints, counts.delivered)
        why = f"complaints {numbers} delivered ≥ {format_rate(limit)}"
        return Verdict("complaint_rate", complaint, limit, why)
    hard, limit = counts.hard_bounce_rate, settings.TENANT_HOLD_BOUNCE_RATE
    if hard is not None and hard >= limit:
        numbers = format_count_of(counts.hard_bounces, counts.attempted)
        why = f"hard bounces {numbers} attempted ≥ {format_rate(limit)}"
        return Verdict("hard_bounce_rate", hard, limit, why)
    return None


def tenants_enforce(
    *, now: datetime | None = None, provider_verdicts: dict[int, Verdict] | None = None
) -> list[TenantHold]:
    """Judge every tenant over the window and hold those that cross a threshold; returns the new holds.

    ``provider_verdicts``: tenant id -> a verdict from a provider's own data (Gmail's user-reported spam
    rate from Postmaster Tools, which our accounting never sees), gathered by the caller (emailengine.tasks).
    """
    now = now or timezone.now()
    start, end = window(now.date())
    rows = (
        DailyTenantStat.objects.filter(day__gte=start, day__lte=end, tenant_id__isnull=False)
        .order_by()
        .values("tenant_id")
        .annotate(**sums(DailyTenantStat))
    )
    held = set(TenantHold.objects.filter(released_at__isnull=True).values_list("tenant_id", flat=True))
    # Released today: the operator took responsibility for today's numbers.
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    released_today = set(
        TenantHold.objects.filter(released_at__gte=midnight).values_list("tenant_id", flat=True)
    )
    opened = []
    counts_by_tenant = {
        row["tenant_id"]: Counts.from_row(row) for row in rows if row["tenant_id"] is not None
    }
    provider_verdicts = provider_verdicts or {}
    for tenant_id in sorted(set(counts_by_tenant) | set(provider_verdicts)):
        if tenant_id in held or tenant_id in released_today:
            continue
        counts = counts_by_tenant.get(tenant_id, Counts())
        verdict = judge(counts) or provider_verdicts.get(tenant_id)
        if verdict is None:
            continue
        tenant = Tenant.objects.filter(pk=tenant_id).first()
        if tenant is None:
            continue
        opened.append(tenant_hold_open(tenant=tenant, verdict=verdict, counts=counts, start=start, end=end))
    return opened


@transaction.atomic
def tenant_hold_open(
    *, tenant: Tenant, verdict: Verdict, counts: Counts, start: date, end: date
) -> TenantHold:
    hold = TenantHold.objects.create(
        tenant=tenant,
        signal=verdict.signal,
        rate=verdict.rate,
        threshold=verdict.threshold,
        reason=f"{verdict.reason} over {start:%Y-%m-%d}..{end:%Y-%m-%d}"[:500],
        numbers=counts.numbers(),
        window_start=start,
        window_end=end,
    )
    ips = list(
        IPAddress.objects.filter(
            pool__tenant=tenant, status__in=[IPStatus.ACTIVE, IPStatus.WARMING]
        ).select_related("pool__tenant")
    )
    reason = f"{hold.tag}: {hold.reason}"
    ips_set_status_bulk(changes=[(ip, IPStatus.PAUSED, reason) for ip in ips], by=SYSTEM)
    hold.ip_ids = [ip.pk for ip in ips if ip.status == IPStatus.PAUSED]
    hold.save(update_fields=["ip_ids"])
    audit_record(
        action="tenant.hold",
        by=SYSTEM,
        obj=hold,
        tenant=tenant,
        after={
            "signal": hold.signal,
            "rate": round(hold.rate, 6),
            "threshold": hold.threshold,
            "ips": len(ips),
        },
        reason=hold.reason,
    )
    return hold


@transaction.atomic
def tenant_hold_release(*, hold: TenantHold, by: Author, reason: str) -> TenantHold:
    """An operator lets the tenant send again: the IPs this hold paused (and still paused by it) resume."""
    hold = TenantHold.objects.select_for_update().get(pk=hold.pk)
    if not hold.is_open:
        raise EnforcementError("This hold was already released.")
    if not reason.strip():
        raise EnforcementError("Say why the tenant may send again.")
    resumed = []
    for ip in IPAddress.objects.filter(pk__in=hold.ip_ids, status=IPStatus.PAUSED):
        if not ip.status_reason.startswith(hold.tag):
            continue  # paused again since, for another reason: not ours to resume
        try:
            ip_resume(ip=ip, by=by, reason=f"{hold.tag} released: {reason}")
        except TransitionError:
            continue
        resumed.append(ip.address)
    hold.released_at = timezone.now()
    hold.released_by = by if isinstance(by, str) else by.get_username()
    hold.release_reason = reason[:300]
    hold.save(update_fields=["released_at", "released_by", "release_reason"])
    audit_record(
        action="tenant.hold_release",
        by=by,
        obj=hold,
        tenant=hold.tenant,
        before={"held": True, "signal": hold.signal, "rate": round(hold.rate, 6)},
        after={"held": False, "resumed_ips": resumed},
        reason=reason,
    )
    return hold
