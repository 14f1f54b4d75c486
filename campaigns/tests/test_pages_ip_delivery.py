"""The IP page's delivery card (campaigns/ip_blocks.py): last 30 days of DailyStat for the address, and
a tenant user sees only their own tenant's traffic on it."""

from datetime import timedelta

import pytest

from campaigns.selectors import ip_delivery_summary
from campaigns.tests.page_factories import make_stat
from core.dates import utc_today
from ips.tests.factories import IPAddressFactory, IPPoolFactory


@pytest.fixture
def ip(tenant_a, tenant_b):
    ip = IPAddressFactory(address="203.0.113.40", pool=IPPoolFactory(tenant=tenant_a))
    today = utc_today()
    make_stat(
        None, today, tenant=tenant_a, source_ip=ip.address, rcpt_domain="gmail.com", delivered=80, hard=4
    )
    make_stat(
        None,
        today - timedelta(days=3),
        tenant=tenant_a,
        source_ip=ip.address,
        rcpt_domain="yahoo.com",
        delivered=20,
        soft=1,
        complaints=1,
    )
    # Before the IP moved to tenant A it sent for tenant B; and 40 days ago is out of the window.
    make_stat(None, today - timedelta(days=10), tenant=tenant_b, source_ip=ip.address, delivered=500)
    make_stat(None, today - timedelta(days=40), tenant=tenant_a, source_ip=ip.address, delivered=999)
    make_stat(None, today, tenant=tenant_a, source_ip="203.0.113.41", delivered=7)
    return ip


@pytest.mark.django_db
def test_it_sums_the_last_30_days_of_the_address(ip):
    summary = ip_delivery_summary(ip)
    assert summary["totals"].delivered == 600
    assert len(summary["chart"].bars) == 60
    assert {row.label: row.totals.delivered for row in summary["by_provider"]} == {
        "Gmail": 580,
        "Yahoo/AOL": 20,
    }
    assert ip_delivery_summary(ip, days=7)["totals"].delivered == 100


@pytest.mark.django_db
def test_it_shows_the_card_on_the_ip_page_per_persona(login, operator, admin_a, ip):
    html = login(operator).get(f"/ips/{ip.pk}/").content.decode()
    assert "Delivery (last 30 days)" in html
    assert html.count('<rect class="bar') == 60
    response = login(admin_a).get(f"/ips/{ip.pk}/")
    block = next(
        b for b in response.context["ip_blocks"] if b.template == "campaigns/_ip_delivery_stats.html"
    )
    assert block.context["totals"].delivered == 100  # tenant B's earlier traffic is not shown to A
    assert block.context["totals"].hard_bounces == 4
