"""The home page answers "what needs me now": each count links to the list that shows exactly those rows,
rates over a SIGNAL_* threshold are named (campaigns.stats.rate_level), the counters refresh through an
htmx partial, and 7- and 30-day trends are charts with their numbers in a table. Tenant users see only
their tenant; the query count does not grow with the fleet."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.tests.page_factories import make_stat
from core.dates import utc_today

pytestmark = pytest.mark.django_db


def _ip(server, pool, address, status="active"):
    from ips.models import IPAddress

    return IPAddress.objects.create(
        address=address,
        server=server,
        pool=pool,
        status=status,
        vmta_name=IPAddress.default_vmta_name(address),
    )


def _fleet(tenants, *, ips_per_tenant=3, with_stats=True):
    """A server whose agent never reported and whose desired config is not applied, IPs per tenant
    (the last one paused), and a week of traffic on each IP."""
    from ips.models import IPPool, MtaServer, PmtaConfigRender

    server = MtaServer(name=f"pmta-home-{len(tenants)}")
    server.set_webhook_token(MtaServer.new_token())
    server.save()
    PmtaConfigRender.objects.create(server=server, created_by="t", files={}, digest="d1", version=1)
    today = utc_today()
    by_tenant = {}
    for tenant in tenants:
        pool = IPPool.objects.create(name=f"pool-{tenant.slug}", server=server, tenant=tenant)
        ips = []
        for i in range(ips_per_tenant):
            status = "paused" if i == ips_per_tenant - 1 else "active"
            ip = _ip(server, pool, f"10.{tenant.pk // 250 % 250}.{tenant.pk % 250}.{i + 1}", status)
            ips.append(ip)
            if with_stats:
                for back in range(7):
                    make_stat(
                        None,
                        today - timedelta(days=back),
                        tenant=tenant,
                        source_ip=ip.address,
                        ip=ip,
                        delivered=1000,
                    )
        by_tenant[tenant.pk] = ips
    return server, by_tenant


@pytest.fixture
def fleet(tenant_a, tenant_b):
    from domains.models import SendingDomain
    from reputation.models import Blocklist, CheckState, Listing

    server, by_tenant = _fleet([tenant_a, tenant_b])
    bad_ip = by_tenant[tenant_a.pk][0]
    # 10% hard bounces on one of tenant A's IPs: over the pause threshold (SIGNAL_PAUSE_BOUNCE_RATE 5%).
    make_stat(
        None,
        utc_today(),
        tenant=tenant_a,
        source_ip=bad_ip.address,
        ip=bad_ip,
        rcpt_domain="x.com",
        hard=1000,
    )
    zen = Blocklist.objects.filter(enabled=True, kind="ip").first() or Blocklist.objects.create(
        key="zen-t", name="ZEN", zone="zen.test", kind="ip", severity="critical"
    )
    Listing.objects.create(target=bad_ip.address, ip=bad_ip, blocklist=zen, code="127.0.0.2", tenant=tenant_a)
    CheckState.objects.create(
        target=bad_ip.address, target_kind="ip", ip=bad_ip, blocklist=zen, status="listed", code="127.0.0.2"
    )
    SendingDomain.objects.create(
        tenant=tenant_a, name="broken.example", return_path_domain="rp.broken.example", status="missing"
    )
    SendingDomain.objects.create(tenant=tenant_a, name="fine.example", return_path_domain="rp.fine.example")
    return {"server": server, "bad_ip": bad_ip, "by_tenant": by_tenant}


def _items(response):
    return {item.key: item for item in response.context["attention"]}


def test_it_shows_the_operator_what_needs_attention_with_links(login, operator, fleet, tenant_a):
    response = login(operator).get("/")
    assert response.status_code == 200
    items = _items(response)
    assert items["paused"].count == 2 and items["paused"].url == "/ips/?status=paused"
    assert items["listed"].count == 1 and items["listed"].url == "/ips/?listed=1"
    assert items["drift"].count == 1 and items["drift"].url == "/servers/?config=drift"
    assert items["silent"].count == 1 and items["silent"].url == "/servers/?config=silent"
    assert items["reputation"].url == "/reputation/?only=problems"
    assert items["domains"].url == "/domains/?problems=1"
    assert items["ips_over"].count == 1 and items["ips_over"].url == "/ips/?over=1"
    assert [row.key for row in response.context["tenants_over"]] == [tenant_a.pk]
    assert items["tenants_over"].count == 1 and items["tenants_over"].url == "/tenants/?over=1"
    [ip_row] = response.context["ips_over"]
    assert ip_row.label == fleet["bad_ip"].address and ip_row.level == "error"
    html = response.content.decode()
    for item in items.values():  # every number is a link
        assert f'href="{item.url}" class="attention-link"><span class="attention-count">{item.count}<' in html
    # rates with two significant digits (1,000 hard of 8,000 attempted)
    assert "<td>12%</td>" in html or "<td>13%</td>" in html
    assert f'href="/bounces/?ip={fleet["bad_ip"].address}"' in html


def test_the_links_show_exactly_the_counted_rows(login, operator, fleet, tenant_a):
    client = login(operator)
    items = _items(client.get("/"))
    paused = client.get(items["paused"].url)
    assert {ip.status for ip in paused.context["page"]} == {"paused"}
    assert len(paused.context["page"].object_list) == items["paused"].count
    for key in ("listed", "ips_over"):
        rows = client.get(items[key].url).context["page"]
        assert [ip.address for ip in rows] == [fleet["bad_ip"].address]
    assert items["reputation"].count == 1 and items["domains"].count == 1
    grid = client.get(items["reputation"].url).context["page"]
    assert [t.target for t in grid.object_list] == [fleet["bad_ip"].address]
    domain_rows = client.get(items["domains"].url).context["page"]
    assert [d.name for d in domain_rows] == ["broken.example"]
    tenants = client.get(items["tenants_over"].url)
    assert [t.pk for t in tenants.context["page"]] == [tenant_a.pk]
    assert len(tenants.context["page"].object_list) == items["tenants_over"].count
    for key in ("drift", "silent"):
        servers = client.get(items[key].url)
        assert [s.pk for s, _ in servers.context["rows"]] == [fleet["server"].pk]
        assert "Showing servers with" in servers.content.decode()


def test_the_tenant_list_shows_its_over_threshold_filter_and_clears_it(
    login, operator, fleet, tenant_a, tenant_b
):
    client = login(operator)
    html = client.get("/tenants/?over=1").content.decode()
    assert 'name="over" value="1" checked' in html  # visible, and unticking it clears it
    assert '<a href="/tenants/">show all tenants</a>' in html
    assert tenant_a.name in html and tenant_b.name not in html
    # The checkbox's own value ("on" from older forms) reads the same; off, every tenant is listed.
    assert [t.pk for t in client.get("/tenants/?over=on").context["page"]] == [tenant_a.pk]
    unfiltered = client.get("/tenants/")
    assert {tenant_a.pk, tenant_b.pk} <= {t.pk for t in unfiltered.context["page"]}
    assert "show all tenants" not in unfiltered.content.decode()
    assert 'name="over" value="1">' in unfiltered.content.decode()


def test_the_server_list_filter_leaves_out_servers_without_the_problem(login, operator, fleet):
    from django.utils import timezone

    from ips.models import MtaServer

    ok = MtaServer(name="pmta-ok", agent_last_seen=timezone.now())
    ok.set_webhook_token(MtaServer.new_token())
    ok.save()
    client = login(operator)
    names = [s.name for s, _ in client.get("/servers/?config=silent").context["rows"]]
    assert "pmta-ok" not in names and fleet["server"].name in names
    assert "pmta-ok" in [s.name for s, _ in client.get("/servers/?config=bogus").context["rows"]]


def test_tenant_admins_see_their_own_tenant_only(login, admin_a, fleet, tenant_a):
    response = login(admin_a).get("/")
    items = _items(response)
    assert set(items) == {"listed", "reputation", "paused", "ips_over", "domains"}  # no servers, no tenants
    assert items["paused"].count == 1
    assert items["listed"].count == 1
    assert [row.label for row in response.context["ips_over"]] == [fleet["bad_ip"].address]
    html = response.content.decode()
    assert "pmta-home" not in html and "Tenants over a rate threshold" not in html
    assert tenant_a.name in html


def test_viewers_see_the_same_home_as_their_admin(login, viewer_a, fleet):
    response = login(viewer_a).get("/")
    assert response.status_code == 200
    assert _items(response)["paused"].count == 1


def test_another_tenant_sees_none_of_it(login, admin_b, fleet):
    response = login(admin_b).get("/")
    items = _items(response)
    assert items["listed"].count == 0
    assert items["paused"].count == 1  # its own paused IP
    assert response.context["ips_over"] == []
    assert fleet["bad_ip"].address not in response.content.decode()
    # its own traffic only: 3 IPs x 7 days x 1,000
    assert response.context["trend_totals"].attempted == 21_000


def test_the_counters_refresh_through_their_partial(login, operator, fleet):
    client = login(operator)
    html = client.get("/").content.decode()
    section = re.search(r'<section id="attention"[^>]*>', html).group(0)
    assert 'hx-trigger="every 30s"' in section and 'hx-get="/"' in section
    assert '<a href="/" hx-get="/" hx-target="#attention"' in html  # the no-JavaScript fallback
    partial = client.get("/", headers={"HX-Request": "true", "HX-Target": "attention"})
    body = partial.content.decode()
    assert body.lstrip().startswith('<section id="attention"')
    assert "<html" not in body and "Last 24 hours" not in body
    assert "/ips/?status=paused" in body


def test_the_trends_cover_7_or_30_days(login, operator, fleet):
    client = login(operator)
    week = client.get("/")
    assert week.context["trend_days"] == 7
    sent, bounce, _complaint, listings = week.context["charts"]
    assert len(sent.bars) == 7 * 2
    assert len(bounce.table.rows) == 7 and len(listings.table.rows) == 7
    assert [r.label for r in bounce.references] == ["hard: hold 2.0%", "hard: pause 5.0%"]
    assert listings.table.rows[-1][1] == ["1", "1"]  # open at the end of today, found today
    month = client.get("/?days=30", headers={"HX-Request": "true", "HX-Target": "trends"})
    body = month.content.decode()
    assert body.lstrip().startswith('<section id="trends"')
    assert len(month.context["charts"][0].table.rows) == 30
    assert 'aria-current="page">30 days' in body
    assert client.get("/?days=9").context["trend_days"] == 7
    html = week.content.decode()
    assert html.count('<details class="chart-data small">') == 4
    assert "style=" not in html


def _query_count(client, url, **kwargs):
    client.get(url, **kwargs)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, **kwargs).status_code == 200
    return len(ctx.captured_queries)


def test_the_query_count_does_not_grow_with_the_fleet(login, operator, tenant_a, tenant_b):
    from tenants.models import Tenant

    client = login(operator)
    _fleet([tenant_a])
    few = (
        _query_count(client, "/"),
        _query_count(client, "/", headers={"HX-Request": "true", "HX-Target": "attention"}),
    )
    more = [Tenant.objects.create(name=f"T{i}", slug=f"t{i}") for i in range(4)]
    _fleet([tenant_b, *more], ips_per_tenant=5)
    many = (
        _query_count(client, "/"),
        _query_count(client, "/", headers={"HX-Request": "true", "HX-Target": "attention"}),
    )
    assert many == few
    assert few[0] <= 30 and few[1] <= 12


def test_the_ip_list_sorts_and_filters_by_level(login, admin_a, fleet):
    client = login(admin_a)
    rows = list(client.get("/ips/?sort=-level").context["page"])
    assert rows[0].address == fleet["bad_ip"].address
    html = client.get("/ips/?over=1").content.decode()
    assert '<span class="badge error">pause</span>' in html
