"""DailyTenantStat, the per-day-and-tenant rollup a trigger keeps, always equals DailyStat summed."""

from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from django.db.models import Sum

from campaigns.accounting.importer import accounting_import_path
from campaigns.models import DailyStat, DailyTenantStat
from campaigns.tests.factories import FIXTURES, tenant_ip
from core.dates import utc_today

pytestmark = pytest.mark.django_db
FIELDS = ("delivered", "hard_bounces", "soft_bounces", "transient", "complaints", "received", "other")


def from_daily_stats() -> dict:
    rows = DailyStat.objects.values("day", "tenant_id").annotate(**{f: Sum(f) for f in FIELDS})
    totals = {(r["day"], r["tenant_id"]): tuple(r[f] for f in FIELDS) for r in rows}
    categories: dict = {}
    for s in DailyStat.objects.all():
        categories.setdefault((s.day, s.tenant_id), Counter()).update(s.bounce_categories)
    return {key: (value, +categories[key]) for key, value in totals.items()}


def from_rollup() -> dict:
    return {
        (r.day, r.tenant_id): (tuple(getattr(r, f) for f in FIELDS), +Counter(r.bounce_categories))
        for r in DailyTenantStat.objects.all()
        if any(getattr(r, f) for f in FIELDS)
    }


def test_it_follows_imports_updates_and_deletes(tenant_a):
    # Two of the fixture files' sending IPs belong to tenant A; the rest stay without a tenant.
    for address in ("91.229.239.75", "91.229.239.77"):
        tenant_ip(tenant_a, address)
    for path in sorted(Path(FIXTURES).glob("acct-*.csv")):
        accounting_import_path(path=path)
    assert {tenant for _, tenant in from_rollup()} == {tenant_a.pk, None}
    assert from_rollup() == from_daily_stats()

    for path in sorted(Path(FIXTURES).glob("acct-*.csv")):
        accounting_import_path(path=path)  # duplicates: nothing changes
    assert from_rollup() == from_daily_stats()

    row = DailyStat.objects.filter(hard_bounces__gt=0).first()
    row.hard_bounces += 5
    row.bounce_categories = {
        **row.bounce_categories,
        "bad-mailbox": row.bounce_categories.get("bad-mailbox", 0) + 5,
    }
    row.save()
    DailyStat.objects.filter(delivered__gt=0).first().delete()
    assert from_rollup() == from_daily_stats()


def test_a_bulk_copy_into_daily_stats_is_rolled_up_too(tenant_a):
    DailyStat.objects.bulk_create(
        DailyStat(
            day=date(2026, 11, 1),
            source_ip=f"10.0.0.{i}",
            tenant=tenant_a,
            delivered=10,
            hard_bounces=1,
            bounce_categories={"bad-mailbox": 1},
        )
        for i in range(20)
    )
    rollup = DailyTenantStat.objects.get(day=date(2026, 11, 1), tenant_id=tenant_a.pk)
    assert (rollup.delivered, rollup.hard_bounces, rollup.bounce_categories) == (200, 20, {"bad-mailbox": 20})


def test_the_bounce_explorer_reads_the_same_numbers_from_the_rollup(
    login, operator, admin_a, tenant_a, tenant_b
):
    day = utc_today()
    for tenant, n in ((tenant_a, 3), (tenant_b, 7)):
        DailyStat.objects.create(
            day=day,
            source_ip="10.1.1.1",
            tenant=tenant,
            delivered=100,
            hard_bounces=n,
            bounce_categories={"bad-mailbox": n},
        )
    ops = login(operator).get("/bounces/").context
    assert ops["totals"].hard_bounces == 10 and dict(ops["categories"]) == {"bad-mailbox": 10}
    mine = login(admin_a).get("/bounces/").context
    assert mine["totals"].hard_bounces == 3 and dict(mine["categories"]) == {"bad-mailbox": 3}
