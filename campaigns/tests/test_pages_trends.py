"""Trend charts on the detail pages (server, IP, campaign), read from the daily aggregates: the right rows,
7 or 30 days, rates against their thresholds, scoped like the page, and a query count that does not grow
with the data."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.tests.page_factories import make_campaign, make_stat
from campaigns.trends import server_trend, tenant_trend
from core.charts import trend_days
from core.dates import utc_today
from ips.tests.factories import IPAddressFactory, IPPoolFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def traffic(tenant_a, tenant_b):
    from ips.models import MtaServer

    servers = []
    for name in ("trend-srv-1", "trend-srv-2"):
        server = MtaServer(name=name)
        server.set_webhook_token(MtaServer.new_token())
        server.save()
        servers.append(server)
    ip1 = IPAddressFactory(address="203.0.113.50", server=servers[0], pool=IPPoolFactory(tenant=tenant_a))
    ip2 = IPAddressFactory(address="203.0.113.60", server=servers[1], pool=IPPoolFactory(tenant=tenant_b))
    today = utc_today()
    campaign = make_campaign(tenant_a, "c-trend", first=today - timedelta(days=5), last=today)
    make_stat(campaign, today, source_ip=ip1.address, ip=ip1, delivered=950, hard=50)
    make_stat(campaign, today - timedelta(days=2), source_ip=ip1.address, ip=ip1, delivered=100, complaints=1)
    make_stat(None, today - timedelta(days=20), tenant=tenant_a, source_ip=ip1.address, ip=ip1, delivered=10)
    make_stat(None, today, tenant=tenant_b, source_ip=ip2.address, ip=ip2, delivered=7000)
    return {"servers": servers, "ip1": ip1, "ip2": ip2, "campaign": campaign}


def _rows(chart):
    return dict(chart.table.rows)


def test_the_server_trend_sums_only_that_servers_ips(rf, operator, traffic):
    request = rf.get("/")
    request.user = operator
    trend = server_trend(request, traffic["servers"][0].pk, days=30, subject="pmta-1")
    assert trend["totals"].attempted == 1000 + 100 + 10
    sent, bounce, complaint = trend["charts"]
    today = utc_today().strftime("%m-%d")
    assert _rows(sent)[today] == ["950", "50"]
    assert _rows(bounce)[today] == ["5.0%", "5.0%"]
    assert _rows(complaint)[(utc_today() - timedelta(days=2)).strftime("%m-%d")] == ["1.0%"]
    assert len(sent.table.rows) == 30
    week = server_trend(request, traffic["servers"][0].pk, days=7, subject="pmta-1")
    assert week["totals"].attempted == 1100 and len(week["charts"][0].table.rows) == 7


def test_the_tenant_trend_is_scoped(rf, admin_b, operator, tenant_a, traffic):
    request = rf.get("/")
    request.user = operator
    assert tenant_trend(request, tenant_a.pk, days=30, subject="A")["totals"].attempted == 1110
    other = rf.get("/")  # a new request: the actor is cached per request
    other.user = admin_b
    assert tenant_trend(other, tenant_a.pk, days=30, subject="A")["totals"].attempted == 0


def test_only_7_or_30_days_are_offered():
    assert [trend_days(v) for v in ("7", "30", "9", "", None, "x")] == [7, 30, 7, 7, 7, 7]
    assert trend_days("9", default=30) == 30


def test_the_server_page_shows_the_trend_card(login, operator, traffic):
    client = login(operator)
    server = traffic["servers"][0]
    html = client.get(f"/servers/{server.pk}/").content.decode()
    assert "Traffic trend" in html and "trend-srv-1: bounce rate per day" in html
    assert 'href="?days=7"' in html and 'aria-current="page">30 days' in html
    week = client.get(f"/servers/{server.pk}/?days=7").content.decode()
    assert 'aria-current="page">7 days' in week
    assert "hard: pause 5.0%" in html  # the threshold line is labelled


def test_tenant_users_get_no_server_page(login, admin_a, traffic):
    assert login(admin_a).get(f"/servers/{traffic['servers'][0].pk}/").status_code == 404


def test_the_ip_page_charts_rates_per_day(login, admin_a, traffic):
    response = login(admin_a).get(f"/ips/{traffic['ip1'].pk}/")
    assert response.status_code == 200
    [card] = [b for b in response.context["ip_blocks"] if b.template == "campaigns/_ip_delivery_stats.html"]
    bounce, _complaint = card.context["rate_charts"]
    assert len(bounce.table.rows) == 30
    assert "203.0.113.50: complaint rate per day" in response.content.decode()


def test_another_tenants_ip_and_campaign_are_404(login, admin_b, traffic):
    client = login(admin_b)
    assert client.get(f"/ips/{traffic['ip1'].pk}/").status_code == 404
    assert client.get(f"/campaigns/{traffic['campaign'].pk}/").status_code == 404


def test_the_campaign_page_charts_rates_over_its_days(login, viewer_a, traffic):
    response = login(viewer_a).get(f"/campaigns/{traffic['campaign'].pk}/")
    bounce, _complaint = response.context["rate_charts"]
    assert len(bounce.table.rows) == 6  # first seen 5 days ago, last seen today
    assert _rows(bounce)[utc_today().strftime("%m-%d")] == ["5.0%", "5.0%"]
    assert "style=" not in response.content.decode()


def _queries(client, url):
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_detail_page_query_counts_do_not_grow_with_the_data(login, operator, tenant_a, traffic):
    client = login(operator)
    server, ip, campaign = traffic["servers"][0], traffic["ip1"], traffic["campaign"]
    urls = [f"/servers/{server.pk}/", f"/ips/{ip.pk}/", f"/campaigns/{campaign.pk}/"]
    few = [_queries(client, url) for url in urls]
    today = utc_today()
    pool = IPPoolFactory(tenant=tenant_a)
    for i in range(8):
        extra = IPAddressFactory(address=f"203.0.113.{100 + i}", server=server, pool=pool)
        for back in range(10):
            day = today - timedelta(days=back)
            make_stat(
                campaign, day, source_ip=extra.address, ip=extra, rcpt_domain=f"d{i}.example", delivered=5
            )
            make_stat(campaign, day, source_ip=ip.address, ip=ip, rcpt_domain=f"d{i}.example", delivered=5)
    assert [_queries(client, url) for url in urls] == few


def test_the_tenant_page_charts_its_trend(login, admin_a, admin_b, tenant_a, traffic):
    response = login(admin_a).get(f"/tenants/{tenant_a.pk}/?days=7")
    assert response.status_code == 200
    [block] = [b for b in response.context["tenant_blocks"] if b.template == "campaigns/_trend_card.html"]
    trend = block.context["trend"]
    assert trend["days"] == 7 and trend["totals"].attempted == 1100
    assert f"{tenant_a.name}: complaint rate per day" in response.content.decode()
    assert login(admin_b).get(f"/tenants/{tenant_a.pk}/").status_code == 404
