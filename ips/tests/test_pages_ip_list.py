"""The IP list: who sees which IPs, filters, search, counts, pagination and a flat query count."""

import pytest
from django.test.utils import override_settings

from ips.models import IPStatus
from ips.tests.factories import IPAddressFactory, IPPoolFactory, MtaServerFactory


@pytest.fixture
def fleet(tenant_a, tenant_b):
    server = MtaServerFactory(name="pmta-a")
    other_server = MtaServerFactory(name="pmta-b")
    pool_a = IPPoolFactory(name="a-main", server=server, tenant=tenant_a)
    pool_b = IPPoolFactory(name="b-main", server=other_server, tenant=tenant_b)
    shared = IPPoolFactory(name="shared", server=server, tenant=None)
    return {
        "a1": IPAddressFactory(address="203.0.113.1", pool=pool_a, status=IPStatus.ACTIVE),
        "a2": IPAddressFactory(
            address="203.0.113.2", pool=pool_a, status=IPStatus.PAUSED, hostname="out2.a.test"
        ),
        "b1": IPAddressFactory(address="198.51.100.1", pool=pool_b, status=IPStatus.WARMING),
        "s1": IPAddressFactory(address="192.0.2.9", pool=shared, status=IPStatus.NEW),
        "loose": IPAddressFactory(address="192.0.2.10", server=server, pool=None),
        "pool_a": pool_a,
        "pool_b": pool_b,
        "server": server,
        "other_server": other_server,
    }


def rows(response) -> set[str]:
    return {ip.address for ip in response.context["page"].object_list}


@pytest.mark.django_db
def test_it_shows_an_operator_every_ip(login, operator, fleet):
    response = login(operator).get("/ips/")
    assert response.status_code == 200
    assert rows(response) == {"203.0.113.1", "203.0.113.2", "198.51.100.1", "192.0.2.9", "192.0.2.10"}
    assert response.context["counts"] == {"new": 2, "warming": 1, "active": 1, "paused": 1, "retired": 0}
    html = response.content.decode()
    assert 'id="bulk-form"' in html and "Add IPs" in html


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["admin_a", "viewer_a"])
def test_it_shows_tenant_users_only_their_pools_ips_read_only(request, login, persona, fleet):
    response = login(request.getfixturevalue(persona)).get("/ips/")
    assert response.status_code == 200
    assert rows(response) == {"203.0.113.1", "203.0.113.2"}
    html = response.content.decode()
    assert "198.51.100.1" not in html and "192.0.2.9" not in html
    assert 'id="bulk-form"' not in html and 'name="ids"' not in html
    # Servers and other tenants are not theirs to filter on.
    assert "tenant" not in response.context["form"].fields and "server" not in response.context["form"].fields
    assert "pmta-b" not in html and "b-main" not in html


@pytest.mark.django_db
def test_it_filters_by_status_pool_tenant_and_server(login, operator, fleet, tenant_b):
    client = login(operator)
    assert rows(client.get("/ips/?status=paused")) == {"203.0.113.2"}
    assert rows(client.get(f"/ips/?pool={fleet['pool_a'].pk}")) == {"203.0.113.1", "203.0.113.2"}
    assert rows(client.get(f"/ips/?tenant={tenant_b.pk}")) == {"198.51.100.1"}
    assert rows(client.get(f"/ips/?server={fleet['server'].pk}")) == {
        "203.0.113.1",
        "203.0.113.2",
        "192.0.2.9",
        "192.0.2.10",
    }
    combined = client.get(f"/ips/?server={fleet['server'].pk}&status=new")
    assert rows(combined) == {"192.0.2.9", "192.0.2.10"}
    # The counts ignore the status filter so the other statuses stay one click away.
    assert combined.context["counts"]["active"] == 1


@pytest.mark.django_db
def test_it_searches_address_hostname_and_vmta(login, operator, fleet):
    client = login(operator)
    assert rows(client.get("/ips/?q=198.51")) == {"198.51.100.1"}
    assert rows(client.get("/ips/?q=out2.a")) == {"203.0.113.2"}
    assert rows(client.get("/ips/?q=vmta-192-0-2-10")) == {"192.0.2.10"}


@pytest.mark.django_db
def test_it_ignores_another_tenants_pool_in_a_tenant_users_filter(login, admin_a, fleet):
    response = login(admin_a).get(f"/ips/?pool={fleet['pool_b'].pk}")
    # An unknown choice makes the filter invalid, which falls back to the user's own scope.
    assert rows(response) == {"203.0.113.1", "203.0.113.2"}


@pytest.mark.django_db
@override_settings(PAGE_SIZE=3)
def test_it_paginates_and_keeps_filters_in_page_links(login, operator):
    server = MtaServerFactory()
    IPAddressFactory.create_batch(7, server=server, status=IPStatus.ACTIVE)
    client = login(operator)
    first = client.get("/ips/?status=active")
    assert len(first.context["page"].object_list) == 3
    assert "status=active&amp;page=2" in first.content.decode()
    last = client.get("/ips/?status=active&page=3")
    assert len(last.context["page"].object_list) == 1


@pytest.mark.django_db
def test_it_returns_only_the_results_partial_to_htmx(login, operator, fleet):
    response = login(operator).get(
        "/ips/?status=active", headers={"HX-Request": "true", "HX-Target": "ip-results"}
    )
    html = response.content.decode()
    assert "<html" not in html and "203.0.113.1" in html and "203.0.113.2" not in html


def _fill(n: int, tenant) -> None:
    pool = IPPoolFactory(tenant=tenant)
    IPAddressFactory.create_batch(n, pool=pool, rdns_status="ok", daily_limit=1000)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["operator", "admin_a"])
def test_it_runs_the_same_number_of_queries_for_many_rows(
    request, login, persona, tenant_a, django_assert_max_num_queries
):
    client = login(request.getfixturevalue(persona))
    _fill(2, tenant_a)
    client.get("/ips/")  # warm up session and caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get("/ips/").status_code == 200
    _fill(30, tenant_a)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/ips/")
    assert len(response.context["page"].object_list) == 32


@pytest.mark.django_db
@override_settings(PAGE_SIZE=100)
def test_it_sorts_addresses_numerically_not_as_text(login, operator):
    server = MtaServerFactory(name="pmta-sort")
    pool = IPPoolFactory(name="sort", server=server, tenant=None)
    for last in (101, 11, 2, 103, 1, 20):
        IPAddressFactory(address=f"10.100.0.{last}", server=server, pool=pool)
    IPAddressFactory(address="10.99.0.200", server=server, pool=pool)
    IPAddressFactory(address="2001:db8::1", server=server, pool=pool)

    # The IP list (plain and filtered) and the pool page list the same rows in the same order.
    for url in ("/ips/", f"/ips/?server={server.pk}", f"/pools/{pool.pk}/"):
        listed = [ip.address for ip in login(operator).get(url).context["page"].object_list]
        assert listed == [
            "10.99.0.200",
            "10.100.0.1",
            "10.100.0.2",
            "10.100.0.11",
            "10.100.0.20",
            "10.100.0.101",
            "10.100.0.103",
            "2001:db8::1",
        ]
