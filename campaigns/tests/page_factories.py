"""Test data for the campaign, bounce, message, suppression and import pages, written straight onto the
models (no importer involved, so these tests do not depend on it)."""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, date, datetime, time

from campaigns.models import AccountingFile, Campaign, DailyStat, DeliveryEvent, ImportRejection, Suppression
from tenants.models import Tenant

_seq = itertools.count(1)


def at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), UTC)


def make_campaign(tenant: Tenant | None, key: str, *, first: date, last: date, name: str = "") -> Campaign:
    return Campaign.objects.create(
        tenant=tenant, key=key, name=name, first_seen=at(first, 1), last_seen=at(last, 23)
    )


def make_stat(
    campaign: Campaign | None,
    day: date,
    *,
    tenant: Tenant | None = None,
    source_ip: str = "203.0.113.1",
    rcpt_domain: str = "gmail.com",
    ip=None,
    delivered: int = 0,
    hard: int = 0,
    soft: int = 0,
    complaints: int = 0,
    transient: int = 0,
    categories: dict[str, int] | None = None,
) -> DailyStat:
    return DailyStat.objects.create(
        day=day,
        source_ip=source_ip,
        rcpt_domain=rcpt_domain,
        campaign_key=campaign.key if campaign else "",
        campaign=campaign,
        tenant=campaign.tenant if campaign else tenant,
        ip=ip,
        delivered=delivered,
        hard_bounces=hard,
        soft_bounces=soft,
        complaints=complaints,
        transient=transient,
        bounce_categories=categories or {},
    )


def make_event(
    tenant: Tenant | None,
    rcpt: str,
    *,
    when: datetime,
    type: str = "d",
    outcome: str = "delivered",
    source_ip: str = "203.0.113.1",
    dsn_status: str = "",
    dsn_diag: str = "",
    bounce_cat: str = "",
    campaign: Campaign | None = None,
    feedback_type: str = "",
) -> DeliveryEvent:
    n = next(_seq)
    return DeliveryEvent.objects.create(
        time_logged=when,
        type=type,
        outcome=outcome,
        rcpt=rcpt,
        rcpt_domain=rcpt.rpartition("@")[2].lower(),
        source_ip=source_ip,
        dsn_status=dsn_status,
        dsn_diag=dsn_diag,
        bounce_cat=bounce_cat,
        feedback_type=feedback_type,
        campaign=campaign,
        campaign_key=campaign.key if campaign else "",
        tenant=tenant,
        fingerprint=hashlib.sha256(f"test-{n}-{rcpt}".encode()).hexdigest()[:32],
    )


def make_suppression(tenant: Tenant, email: str, *, reason: str = "manual", detail: str = "") -> Suppression:
    return Suppression.objects.create(
        tenant=tenant, email=email, reason=reason, detail=detail, created_by="test"
    )


def make_accounting_file(path: str = "/var/log/pmta/acct-2025-01-01-0000.csv", **fields) -> AccountingFile:
    defaults = {
        "status": AccountingFile.Status.DONE,
        "offset": 1234,
        "lines": 10,
        "records_read": 9,
        "imported": 7,
        "duplicates": 1,
        "rejected": 1,
    }
    defaults.update(fields)
    return AccountingFile.objects.create(path=path, **defaults)


def make_rejection(source: AccountingFile, line: int, reason: str, raw: str = "") -> ImportRejection:
    return ImportRejection.objects.create(file=source, line=line, reason=reason, raw=raw)
