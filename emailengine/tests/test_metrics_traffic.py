"""Traffic since 00:00 UTC on /metrics: bounces by category, complaints, per-tenant and per-IP counts."""

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from campaigns.models import DailyStat
from campaigns.tests.factories import bounce, csv_text, record, server_with_token, tenant_ip

pytestmark = pytest.mark.django_db


def scrape(client) -> dict[tuple[str, frozenset], float]:
    body = client.get("/metrics").content.decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def _stat(day, **fields) -> DailyStat:
    key = {"source_ip": "", "vmta": "", "rcpt_domain": "example.org", "campaign_key": ""}
    key.update({k: fields.pop(k) for k in list(key) if k in fields})
    return DailyStat.objects.create(day=day, **key, **fields)


def test_it_counts_todays_traffic_by_tenant_ip_and_category(client, tenant_a, tenant_b):
    today = datetime.now(UTC).date()
    _stat(
        today,
        tenant=tenant_a,
        source_ip="192.0.2.1",
        delivered=900,
        hard_bounces=30,
        soft_bounces=5,
        complaints=2,
        bounce_categories={"bad-mailbox": 30, "spam-related": 5},
    )
    _stat(
        today,
        tenant=tenant_a,
        source_ip="192.0.2.2",
        rcpt_domain="example.net",
        delivered=100,
        hard_bounces=1,
        complaints=1,
        bounce_categories={"bad-mailbox": 1},
    )
    _stat(today, tenant=None, source_ip="192.0.2.3", delivered=7, bounce_categories={"": 4})
    # Yesterday's rows are outside the window: the counters reset at midnight UTC.
    _stat(
        today - timedelta(days=1), tenant=tenant_b, delivered=5000, complaints=50, bounce_categories={"x": 9}
    )

    m = scrape(client)
    tenant_a_labels = frozenset({("tenant", "tenant-a")})
    assert m[("emailengine_tenant_delivered_total", tenant_a_labels)] == 1000
    assert m[("emailengine_tenant_bounces_total", tenant_a_labels)] == 36
    assert m[("emailengine_tenant_complaints_total", tenant_a_labels)] == 3
    assert m[("emailengine_tenant_delivered_total", frozenset({("tenant", "(none)")}))] == 7
    assert ("emailengine_tenant_delivered_total", frozenset({("tenant", "tenant-b")})) not in m
    assert m[("emailengine_ip_delivered_total", frozenset({("ip", "192.0.2.1")}))] == 900
    assert m[("emailengine_ip_bounces_total", frozenset({("ip", "192.0.2.1")}))] == 35
    assert m[("emailengine_ip_complaints_total", frozenset({("ip", "192.0.2.2")}))] == 1
    assert m[("emailengine_bounces_total", frozenset({("category", "bad-mailbox")}))] == 31
    assert m[("emailengine_bounces_total", frozenset({("category", "spam-related")}))] == 5
    assert m[("emailengine_bounces_total", frozenset({("category", "(none)")}))] == 4
    assert ("emailengine_bounces_total", frozenset({("category", "x")})) not in m
    assert m[("emailengine_complaints_total", frozenset())] == 3


def test_it_shows_records_imported_through_the_webhook(client, tenant_a):
    server, token = server_with_token("mta-metrics")
    tenant_ip(tenant_a, "203.0.113.10", server=server)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S+0000")
    body = csv_text(
        [
            record(rcpt="a@example.org", timeLogged=now),
            record(rcpt="b@example.org", timeLogged=now),
            bounce("c@example.org", category="bad-mailbox", timeLogged=now),
            record(type="f", rcpt="d@example.org", timeLogged=now, feedbackType="abuse"),
        ]
    )
    response = client.post(
        "/hooks/pmta/accounting", body, content_type="text/csv", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 200, response.content

    m = scrape(client)
    tenant = frozenset({("tenant", "tenant-a")})
    assert m[("emailengine_tenant_delivered_total", tenant)] == 2
    assert m[("emailengine_tenant_bounces_total", tenant)] == 1
    assert m[("emailengine_tenant_complaints_total", tenant)] == 1
    assert m[("emailengine_bounces_total", frozenset({("category", "bad-mailbox")}))] == 1
    assert m[("emailengine_ip_delivered_total", frozenset({("ip", "203.0.113.10")}))] == 2


def test_it_reports_zero_complaints_on_a_quiet_day(client):
    m = scrape(client)
    assert m[("emailengine_complaints_total", frozenset())] == 0
    assert not any(name == "emailengine_tenant_delivered_total" for name, _ in m)
