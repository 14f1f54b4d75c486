"""The daily stats by provider and by tenant, and the campaign list's totals, read the rollups
(DailyDomainStat, DailyCampaignStat) and answer exactly what summing the detailed DailyStat rows does."""

import json
from datetime import timedelta

import pytest
from django.db.models import F

from campaigns.api import _stat_row
from campaigns.models import DailyStat
from campaigns.selectors import provider_expression
from campaigns.stats import Counts, sums
from campaigns.tests.factories import CampaignFactory
from core.dates import utc_today
from testsupport.api import api_as

pytestmark = pytest.mark.django_db

DOMAINS = ("gmail.com", "googlemail.com", "hotmail.fr", "orange.fr", "")


@pytest.fixture
def stats(tenant_a, tenant_b):
    today = utc_today()
    campaigns = {t.pk: CampaignFactory(tenant=t) for t in (tenant_a, tenant_b)}
    rows = []
    for i in range(60):
        tenant = (tenant_a, tenant_b, None)[i % 3]
        campaign = campaigns[tenant.pk] if tenant and i % 2 else None
        rows.append(
            DailyStat(
                day=today - timedelta(days=i % 4),
                source_ip=f"10.0.{i % 5}.1",
                vmta=f"vmta-{i % 2}",
                rcpt_domain=DOMAINS[i % len(DOMAINS)],
                campaign_key=campaign.key if campaign else "",
                campaign=campaign,
                tenant=tenant,
                delivered=100 + i,
                hard_bounces=i % 7,
                soft_bounces=i % 5,
                transient=i % 3 + 1,
                complaints=i % 2,
                bounce_categories={"bad-mailbox": i % 7, "spam-related": i % 5},
                transient_categories={"policy-related": 1, "other": i % 3},
            )
        )
    DailyStat.objects.bulk_create(rows)
    return campaigns


def _expected(by: str, tenant=None) -> list[dict]:
    """What the API answered when it summed DailyStat itself (the selector before the rollups)."""
    qs = DailyStat.objects.filter(day__gte=utc_today() - timedelta(days=30))
    if tenant is not None:
        qs = qs.filter(tenant=tenant)
    key = provider_expression("rcpt_domain") if by == "provider" else F("tenant__slug")
    rows = qs.annotate(key=key).values("day", "key").annotate(**sums(DailyStat)).order_by("-day", "key")
    return json.loads(json.dumps([_stat_row(r) for r in rows], default=str))


@pytest.mark.parametrize("by", ["provider", "tenant"])
def test_daily_stats_from_the_rollup_match_the_detailed_rows(stats, operator, admin_a, tenant_a, by):
    everyone = api_as(operator).get("stats/daily", by=by, limit=500).json()
    assert everyone["items"] == _expected(by)
    assert any(item["blocked"] and item["blocked_deferrals"] for item in everyone["items"])
    if by == "provider":
        assert {"Gmail", "Microsoft", "orange.fr", "(no domain)"} <= {i["key"] for i in everyone["items"]}

    mine = api_as(admin_a).get("stats/daily", by=by, limit=500).json()
    assert mine["items"] == _expected(by, tenant_a) and mine["count"] == len(mine["items"])
    chosen = api_as(operator).get("stats/daily", by=by, tenant=tenant_a.slug, limit=500).json()
    assert chosen["items"] == mine["items"]


def test_the_campaign_list_totals_match_the_detailed_rows(stats, operator):
    items = api_as(operator).get("campaigns", limit=500).json()["items"]
    assert len(items) == 2
    for item in items:
        detail = DailyStat.objects.filter(campaign_id=item["id"], day__gte=utc_today() - timedelta(days=30))
        expected = Counts.from_row(detail.aggregate(**sums(DailyStat)))
        assert item["totals"] == {
            "bounces": expected.bounces,
            **{name: getattr(expected, name) for name in item["totals"] if name != "bounces"},
        }
