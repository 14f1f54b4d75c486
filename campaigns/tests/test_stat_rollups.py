"""DailyDomainStat (per day x tenant x recipient domain) and DailyCampaignStat (per campaign x day), the
rollups the daily-stat trigger keeps, always equal a fresh GROUP BY of DailyStat, whichever way it was
written: the importer's upserts, COPY, the ORM, deletes, a campaign's or a tenant's deletion."""

from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Sum

from campaigns.accounting.importer import accounting_import_body, accounting_import_path
from campaigns.models import Campaign, DailyCampaignStat, DailyDomainStat, DailyStat
from campaigns.tests.factories import (
    FIXTURES,
    CampaignFactory,
    bounce,
    csv_text,
    record,
    server_with_token,
    tenant_ip,
)
from tenants.models import Tenant

pytestmark = pytest.mark.django_db
FIELDS = ("delivered", "hard_bounces", "soft_bounces", "transient", "complaints", "received", "other")
DOMAIN_KEY = ("day", "tenant_id", "rcpt_domain")
CAMPAIGN_KEY = ("campaign_id", "day")


def _key(row, keys: tuple[str, ...]) -> tuple:
    return tuple(getattr(row, k) for k in keys)


def _grouped(keys: tuple[str, ...], rows=None) -> dict:
    """A fresh GROUP BY of DailyStat: counts and (non-zero) category counts per key."""
    stats = DailyStat.objects.all() if rows is None else rows
    sums = stats.values(*keys).annotate(**{f: Sum(f) for f in FIELDS})
    totals = {tuple(r[k] for k in keys): tuple(r[f] for f in FIELDS) for r in sums}
    bounces: dict = {}
    deferrals: dict = {}
    for s in stats:
        bounces.setdefault(_key(s, keys), Counter()).update(s.bounce_categories)
        deferrals.setdefault(_key(s, keys), Counter()).update(s.transient_categories)
    return {key: (value, +bounces[key], +deferrals[key]) for key, value in totals.items()}


def _rollup(model, keys: tuple[str, ...]) -> dict:
    return {
        _key(r, keys): (
            tuple(getattr(r, f) for f in FIELDS),
            +Counter(r.bounce_categories),
            +Counter(r.transient_categories),
        )
        for r in model.objects.all()
    }


def assert_exact() -> None:
    assert _rollup(DailyDomainStat, DOMAIN_KEY) == _grouped(DOMAIN_KEY)
    assert _rollup(DailyCampaignStat, CAMPAIGN_KEY) == _grouped(
        CAMPAIGN_KEY, DailyStat.objects.filter(campaign_id__isnull=False)
    )


def test_it_follows_the_importer_updates_and_deletes(tenant_a):
    for address in ("91.229.239.75", "91.229.239.77"):
        tenant_ip(tenant_a, address)
    for path in sorted(Path(FIXTURES).glob("acct-*.csv")):
        accounting_import_path(path=path)
    assert {t for _, t, _ in _rollup(DailyDomainStat, DOMAIN_KEY)} == {tenant_a.pk, None}
    assert_exact()

    for path in sorted(Path(FIXTURES).glob("acct-*.csv")):
        accounting_import_path(path=path)  # duplicates: nothing changes
    assert_exact()

    row = DailyStat.objects.filter(hard_bounces__gt=0).first()
    row.hard_bounces += 5
    row.bounce_categories = {
        **row.bounce_categories,
        "bad-mailbox": row.bounce_categories.get("bad-mailbox", 0) + 5,
    }
    row.transient_categories = {**row.transient_categories, "spam-related": 2}
    row.transient += 2
    row.save()
    assert_exact()
    DailyStat.objects.filter(delivered__gt=0).first().delete()
    assert_exact()


def test_webhook_batches_upserting_the_same_rows_add_up(tenant_a):
    """The importer's second batch for a day updates rows (the trigger's UPDATE path), a third adds some."""
    server, _ = server_with_token()
    tenant_ip(tenant_a, "203.0.113.10", server=server)
    first = [record(rcpt=f"a{i}@gmail.com") for i in range(5)] + [bounce("x@gmail.com")]
    second = [record(rcpt=f"b{i}@gmail.com") for i in range(3)] + [
        bounce("y@gmail.com", category="spam-related"),
        record(type="t", rcpt="z@orange.fr", bounceCat="policy-related", dsnAction="delayed"),
    ]
    third = [record(rcpt="c@yahoo.fr", jobId="camp-2")]
    for batch in (first, second, third):
        result = accounting_import_body(server=server, body=csv_text(batch).encode(), content_type="text/csv")
        assert result.imported == len(batch)
        assert_exact()

    gmail = DailyDomainStat.objects.get(rcpt_domain="gmail.com")
    assert (gmail.tenant_id, gmail.delivered, gmail.soft_bounces + gmail.hard_bounces) == (tenant_a.pk, 8, 2)
    assert gmail.bounce_categories == {"bad-mailbox": 1, "spam-related": 1}
    campaign = Campaign.objects.get(key="camp-1")
    assert DailyCampaignStat.objects.get(campaign_id=campaign.pk).delivered == 8


def test_a_copy_into_daily_stats_is_rolled_up_too(tenant_a):
    campaign = CampaignFactory(tenant=tenant_a)
    columns = ("day", "source_ip", "vmta", "rcpt_domain", "campaign_key", "tenant_id", "campaign_id")
    counts = (*FIELDS, "bounce_categories", "transient_categories")
    with connection.cursor() as cursor:
        sql = f"COPY campaigns_dailystat ({', '.join(columns + counts)}) FROM STDIN"
        with cursor.cursor.copy(sql) as copy:
            for i in range(20):
                key = (date(2026, 11, 1), f"10.0.0.{i}", "", "gmail.com", campaign.key, tenant_a.pk)
                copy.write_row(
                    (*key, campaign.pk, 10, 1, 0, 0, 0, 0, 0, '{"bad-mailbox": 1}', '{"spam-related": 2}')
                )
    rollup = DailyDomainStat.objects.get()
    assert (rollup.delivered, rollup.hard_bounces, rollup.bounce_categories, rollup.transient_categories) == (
        200,
        20,
        {"bad-mailbox": 20},
        {"spam-related": 40},
    )
    assert DailyCampaignStat.objects.get(campaign_id=campaign.pk).delivered == 200
    assert_exact()


def _stats(tenant, campaign=None, *, n: int = 4) -> None:
    DailyStat.objects.bulk_create(
        DailyStat(
            day=date(2026, 11, 1 + i % 2),
            source_ip=f"10.0.0.{i}",
            rcpt_domain=("gmail.com", "orange.fr")[i % 2],
            tenant=tenant,
            campaign=campaign,
            campaign_key=campaign.key if campaign else "",
            delivered=10,
            soft_bounces=1,
            bounce_categories={"spam-related": 1},
        )
        for i in range(n)
    )


def test_deleting_a_campaign_or_a_tenant_takes_their_rows_away(tenant_a, tenant_b):
    gone = Tenant.objects.create(name="Gone", slug="gone")
    _stats(gone, CampaignFactory(tenant=gone))
    kept = CampaignFactory(tenant=tenant_a)
    _stats(tenant_a, kept)
    dropped = CampaignFactory(tenant=tenant_b)
    _stats(tenant_b, dropped)
    assert DailyCampaignStat.objects.count() == 6
    assert_exact()

    dropped.delete()  # its stat rows keep their counts, without a campaign (SET NULL)
    assert not DailyCampaignStat.objects.filter(campaign_id=dropped.pk).exists()
    assert DailyDomainStat.objects.filter(tenant_id=tenant_b.pk).count() == 2
    assert_exact()

    gone.delete()  # cascades to its campaigns and stat rows
    assert not DailyDomainStat.objects.filter(tenant_id=gone.pk).exists()
    assert set(DailyCampaignStat.objects.values_list("campaign_id", flat=True)) == {kept.pk}
    assert_exact()


def test_an_update_that_moves_rows_to_another_key_moves_their_counts(tenant_a, tenant_b):
    campaign = CampaignFactory(tenant=tenant_a)
    _stats(tenant_a, campaign)
    DailyStat.objects.filter(rcpt_domain="orange.fr").update(rcpt_domain="gmail.com", tenant=tenant_b)
    assert set(DailyDomainStat.objects.values_list("tenant_id", "rcpt_domain")) == {
        (tenant_a.pk, "gmail.com"),
        (tenant_b.pk, "gmail.com"),
    }
    DailyStat.objects.filter(day=date(2026, 11, 1)).update(day=date(2026, 11, 2))
    assert set(DailyCampaignStat.objects.values_list("day", flat=True)) == {date(2026, 11, 2)}
    assert_exact()
