"""The IP list for a big fleet: per-IP 7-day figures (from campaigns.stats), open listings, sorting by any
column, the "listed" filter, bulk actions on every IP matching the filters, and counters that follow."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from campaigns.tests.page_factories import make_stat
from core.dates import utc_today
from core.models import AuditEvent
from ips.models import IPStatus
from ips.tests.factories import IPAddressFactory, IPPoolFactory, MtaServerFactory
from reputation.models import Blocklist, Kind, Listing

HTMX_BULK = {"HX-Request": "true", "HX-Target": "bulk-result"}


def _blocklist(key: str = "test-bl") -> Blocklist:
    return Blocklist.objects.create(key=key, name=key, zone=f"{key}.test", kind=Kind.IP)


def _list(ip, blocklist: Blocklist, *, cleared: bool = False) -> Listing:
    from django.utils import timezone

    return Listing.objects.create(
        target=ip.address,
        target_kind=Kind.IP,
        ip=ip,
        blocklist=blocklist,
        code="127.0.0.2",
        meaning="listed",
        cleared_at=timezone.now() if cleared else None,
    )


@pytest.fixture
def fleet(tenant_a, tenant_b):
    server = MtaServerFactory(name="pmta-a")
    pool_a = IPPoolFactory(name="a-main", server=server, tenant=tenant_a)
    pool_b = IPPoolFactory(name="b-main", server=server, tenant=tenant_b)
    ips = {
        "a1": IPAddressFactory(address="10.0.0.1", pool=pool_a, status=IPStatus.ACTIVE),
        "a2": IPAddressFactory(address="10.0.0.2", pool=pool_a, status=IPStatus.PAUSED),
        "a10": IPAddressFactory(address="10.0.0.10", pool=pool_a, status=IPStatus.WARMING),
        "b1": IPAddressFactory(address="10.0.1.1", pool=pool_b, status=IPStatus.ACTIVE),
    }
    today = utc_today()
    # a1: 1,000 attempted over the week, 50 bounced (5%), 2 complaints of 950 delivered.
    make_stat(None, today, tenant=tenant_a, source_ip="10.0.0.1", delivered=500, hard=20, complaints=2)
    make_stat(None, today - timedelta(days=6), tenant=tenant_a, source_ip="10.0.0.1", delivered=450, soft=30)
    # Older than 7 days: not counted.
    make_stat(None, today - timedelta(days=7), tenant=tenant_a, source_ip="10.0.0.1", delivered=9999)
    # a10: 100 attempted, 1 bounce (1%).
    make_stat(None, today, tenant=tenant_a, source_ip="10.0.0.10", delivered=99, hard=1)
    # b1: tenant B's traffic.
    make_stat(None, today, tenant=tenant_b, source_ip="10.0.1.1", delivered=10, hard=10)
    # a2 was tenant B's before: its traffic from then is not tenant A's to see.
    make_stat(None, today, tenant=tenant_b, source_ip="10.0.0.2", delivered=70)
    bl = _blocklist()
    _list(ips["a2"], bl)
    _list(ips["a2"], _blocklist("other-bl"))
    _list(ips["b1"], bl)
    _list(ips["a1"], bl, cleared=True)
    return ips | {"pool_a": pool_a, "pool_b": pool_b, "server": server}


def _figures(response) -> dict[str, dict[str, object]]:
    return {
        ip.address: {column.key: value for column, value, _link in ip.figures}
        for ip in response.context["page"].object_list
    }


def _order(response) -> list[str]:
    return [ip.address for ip in response.context["page"].object_list]


@pytest.mark.django_db
def test_it_shows_each_ips_7_day_figures_and_open_listings(login, operator, fleet):
    response = login(operator).get("/ips/")
    figures = _figures(response)
    assert figures["10.0.0.1"]["sent"] == 1000
    assert figures["10.0.0.1"]["bounce"] == pytest.approx(0.05)
    assert figures["10.0.0.1"]["complaint"] == pytest.approx(2 / 950)
    assert figures["10.0.0.1"]["listings"] == 0  # its one listing was cleared
    assert figures["10.0.0.2"] == {"sent": 70, "bounce": 0.0, "complaint": 0.0, "level": 0, "listings": 2}
    # No traffic: no rate (shown as a dash), never 0%.
    assert figures["10.0.0.10"]["complaint"] == 0.0
    html = response.content.decode()
    # Rates through the one display rule (two significant digits).
    assert "5.0%" in html and "0.21%" in html
    assert "aria-sort" not in html or 'aria-sort="ascending"' not in html


@pytest.mark.django_db
def test_its_figures_open_the_drill_down_behind_them(login, operator, fleet):
    """Sent opens the IP's messages, the rates its bounce explorer over the same days, listings its
    blocklist history; a zero leads nowhere."""
    response = login(operator).get("/ips/")
    links = {
        ip.address: {column.key: link for column, _value, link in ip.figures}
        for ip in response.context["page"].object_list
    }
    since = (utc_today() - timedelta(days=6)).isoformat()
    assert links["10.0.0.1"]["sent"] == f"/messages/?ip=10.0.0.1&start={since}"
    assert links["10.0.0.1"]["bounce"] == f"/bounces/?ip=10.0.0.1&start={since}"
    assert links["10.0.0.1"]["listings"] == ""  # cleared: nothing open
    assert links["10.0.0.2"]["listings"] == f"/reputation/ips/{fleet['a2'].pk}/"
    assert links["10.0.0.2"]["bounce"] == ""  # 0%
    html = response.content.decode()
    assert f'href="/bounces/?ip=10.0.0.1&amp;start={since}"' in html
    # The links reach pages that answer (the filters exist there).
    assert login(operator).get(links["10.0.0.1"]["bounce"]).status_code == 200
    assert login(operator).get(links["10.0.0.1"]["sent"]).status_code == 200


@pytest.mark.django_db
def test_it_gives_a_rate_of_none_when_nothing_was_sent(login, operator, fleet):
    IPAddressFactory(address="10.0.0.99", pool=fleet["pool_a"])
    figures = _figures(login(operator).get("/ips/"))
    assert figures["10.0.0.99"] == {"sent": 0, "bounce": None, "complaint": None, "level": 0, "listings": 0}


@pytest.mark.django_db
def test_it_shows_a_tenant_only_its_own_traffic_on_its_ips(login, admin_a, fleet):
    figures = _figures(login(admin_a).get("/ips/"))
    assert set(figures) == {"10.0.0.1", "10.0.0.2", "10.0.0.10"}
    assert figures["10.0.0.2"]["sent"] == 0 and figures["10.0.0.2"]["bounce"] is None
    assert figures["10.0.0.1"]["sent"] == 1000


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("", ["10.0.0.1", "10.0.0.2", "10.0.0.10", "10.0.1.1"]),
        ("address", ["10.0.0.1", "10.0.0.2", "10.0.0.10", "10.0.1.1"]),
        ("-address", ["10.0.1.1", "10.0.0.10", "10.0.0.2", "10.0.0.1"]),
        ("status", ["10.0.0.1", "10.0.1.1", "10.0.0.2", "10.0.0.10"]),
        ("pool", ["10.0.0.1", "10.0.0.2", "10.0.0.10", "10.0.1.1"]),
        ("-pool", ["10.0.1.1", "10.0.0.1", "10.0.0.2", "10.0.0.10"]),
        ("-sent", ["10.0.0.1", "10.0.0.10", "10.0.0.2", "10.0.1.1"]),
        ("-bounce", ["10.0.1.1", "10.0.0.1", "10.0.0.10", "10.0.0.2"]),
        ("-listings", ["10.0.0.2", "10.0.1.1", "10.0.0.1", "10.0.0.10"]),
        ("nonsense", ["10.0.0.1", "10.0.0.2", "10.0.0.10", "10.0.1.1"]),
    ],
)
def test_it_sorts_by_any_column(login, operator, fleet, sort, expected):
    assert _order(login(operator).get(f"/ips/?sort={sort}")) == expected


@pytest.mark.django_db
def test_its_header_links_sort_and_keep_the_filters(login, operator, fleet):
    html = login(operator).get(f"/ips/?pool={fleet['pool_a'].pk}&sort=-bounce").content.decode()
    assert 'aria-sort="descending"' in html
    # Clicking the sorted header again reverses it; another header sorts by itself; filters stay.
    assert f"/ips/?pool={fleet['pool_a'].pk}&amp;sort=bounce" in html
    assert f"/ips/?pool={fleet['pool_a'].pk}&amp;sort=sent" in html
    assert 'name="sort" value="-bounce" form="ip-filters"' in html


@pytest.mark.django_db
def test_it_filters_to_listed_ips(login, operator, admin_a, fleet):
    assert set(_order(login(operator).get("/ips/?listed=1"))) == {"10.0.0.2", "10.0.1.1"}
    assert _order(login(admin_a).get("/ips/?listed=on")) == ["10.0.0.2"]
    # The status counters follow the other filters.
    counts = login(operator).get("/ips/?listed=1").context["counts"]
    assert counts["paused"] == 1 and counts["active"] == 1 and counts["warming"] == 0


@pytest.mark.django_db
@override_settings(PAGE_SIZE=2)
def test_it_pauses_every_ip_matching_the_filters_not_only_the_page(login, operator, fleet):
    client = login(operator)
    page = client.get(f"/ips/?pool={fleet['pool_a'].pk}&status=active")
    html = page.content.decode()
    assert 'name="all_matching"' not in html  # one page: ticking them all is the same
    page = client.get(f"/ips/?pool={fleet['pool_a'].pk}")
    assert 'name="all_matching"' in page.content.decode() and "all 3 matching" in page.content.decode()

    response = client.post(
        "/ips/bulk/",
        {
            "all_matching": "1",
            "matching": "3",
            "next": f"pool={fleet['pool_a'].pk}",
            "shown": [fleet["a1"].pk, fleet["a2"].pk],
            "action": "pause",
            "reason": "Spamhaus listing on the /24",
        },
        headers=HTMX_BULK,
    )
    assert response.status_code == 200
    results = {o.ip.address: o.result for o in response.context["outcomes"]}
    assert results == {"10.0.0.1": "done", "10.0.0.2": "unchanged", "10.0.0.10": "done"}
    for key, status in (("a1", "paused"), ("a10", "paused"), ("b1", "active")):
        fleet[key].refresh_from_db()
        assert fleet[key].status == status
    assert AuditEvent.objects.filter(action="ip.status", reason="Spamhaus listing on the /24").count() == 2
    html = response.content.decode()
    # Only rows on the page are swapped (a10 is on page 2); the counters come along out of band.
    assert f'id="ip-row-{fleet["a1"].pk}"' in html and f'id="ip-row-{fleet["a10"].pk}"' not in html
    assert response.context["counts"]["paused"] == 3 and response.context["counts"]["active"] == 0
    assert '<section id="ip-status-counts" class="stats ips-status-counts" hx-swap-oob="true">' in html


@pytest.mark.django_db
def test_it_refuses_all_matching_when_the_set_changed_since_the_page(login, operator, fleet):
    response = login(operator).post(
        "/ips/bulk/",
        {
            "all_matching": "1",
            "matching": "2",
            "next": f"pool={fleet['pool_a'].pk}",
            "action": "pause",
            "reason": "x",
        },
        headers=HTMX_BULK,
    )
    assert response.context["outcomes"] == []
    assert "3 IPs match these filters now, not 2" in response.content.decode()
    fleet["a1"].refresh_from_db()
    assert fleet["a1"].status == IPStatus.ACTIVE


@pytest.mark.django_db
def test_it_refuses_all_matching_with_filters_that_no_longer_read(login, operator, fleet):
    response = login(operator).post(
        "/ips/bulk/",
        {"all_matching": "1", "next": "pool=999999", "action": "pause", "reason": "x"},
        headers=HTMX_BULK,
    )
    assert response.context["outcomes"] == []
    fleet["b1"].refresh_from_db()
    assert fleet["b1"].status == IPStatus.ACTIVE


@pytest.mark.django_db
def test_it_summarises_a_big_bulk_action_without_javascript(login, operator, fleet, settings):
    pool = fleet["pool_a"]
    IPAddressFactory.create_batch(25, pool=pool, status=IPStatus.ACTIVE)
    response = login(operator).post(
        "/ips/bulk/",
        {"all_matching": "1", "next": f"pool={pool.pk}&status=active", "action": "pause", "reason": "x"},
        follow=True,
    )
    texts = [str(m) for m in response.context["messages"]]
    assert "26 IP(s): done." in texts and len(texts) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["admin_a", "viewer_a"])
def test_it_refuses_a_tenant_users_bulk_action(request, login, persona, fleet):
    # Bulk actions are operator-only: like every operator-only page, a 404 to anyone else.
    response = login(request.getfixturevalue(persona)).post(
        "/ips/bulk/", {"all_matching": "1", "next": "", "action": "pause", "reason": "x"}
    )
    assert response.status_code == 404
    fleet["a1"].refresh_from_db()
    assert fleet["a1"].status == IPStatus.ACTIVE


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["operator", "admin_a"])
def test_it_keeps_the_query_count_flat_when_sorted_by_a_figure_and_filtered(
    request, login, persona, tenant_a
):
    client = login(request.getfixturevalue(persona))
    pool = IPPoolFactory(tenant=tenant_a)
    url = "/ips/?sort=-bounce&listed=1"
    bl = _blocklist()

    def add(n: int) -> None:
        for ip in IPAddressFactory.create_batch(n, pool=pool):
            make_stat(None, utc_today(), tenant=tenant_a, source_ip=ip.address, delivered=10, hard=1)
            _list(ip, bl)

    add(2)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert len(client.get(url).context["page"].object_list) == 2
    add(20)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(url).context["page"].object_list) == 22
    assert len(many.captured_queries) == len(few.captured_queries)


def test_a_columns_link_is_a_url_name_resolved_per_row():
    """IPColumn.link names a URL; the path kwargs and the query come from the row, escaped (an IPv6
    address's colons), never a URL patched by string replacement."""
    from types import SimpleNamespace

    from ips.selectors import IPColumn

    row = SimpleNamespace(pk=42, address="2001:db8::1")
    by_pk = IPColumn("x", "X", None, link="reputation_ip", link_kwargs=lambda ip: {"ip_id": ip.pk})
    assert by_pk.href(row) == "/reputation/ips/42/"
    by_query = IPColumn("y", "Y", None, link="message_search", link_query=lambda ip: {"ip": ip.address})
    assert by_query.href(row) == "/messages/?ip=2001%3Adb8%3A%3A1"
    assert IPColumn("z", "Z", None).href(row) == ""
