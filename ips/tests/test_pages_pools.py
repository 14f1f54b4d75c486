"""Pool pages: operators manage every pool, tenant users read their own."""

import pytest

from core.models import AuditEvent
from ips.models import IPPool, IPStatus
from ips.tests.factories import IPAddressFactory, IPPoolFactory, MtaServerFactory


@pytest.fixture
def pools(tenant_a, tenant_b):
    server = MtaServerFactory(name="pmta-1")
    pa = IPPoolFactory(name="a-main", server=server, tenant=tenant_a, description="A's IPs")
    pb = IPPoolFactory(name="b-main", server=server, tenant=tenant_b)
    free = IPPoolFactory(name="shared-warm", server=server, tenant=None)
    IPAddressFactory.create_batch(2, pool=pa, status=IPStatus.ACTIVE)
    IPAddressFactory(pool=pa, status=IPStatus.PAUSED)
    IPAddressFactory(pool=pb, status=IPStatus.NEW)
    return pa, pb, free


@pytest.mark.django_db
def test_it_lists_every_pool_with_counts_for_operators(login, operator, pools):
    response = login(operator).get("/pools/")
    rows = {pool.name: dict(counts) | {"total": pool.n_total} for pool, counts in response.context["rows"]}
    assert set(rows) == {"a-main", "b-main", "shared-warm"}
    assert rows["a-main"] == {"new": 0, "warming": 0, "active": 2, "paused": 1, "retired": 0, "total": 3}
    assert rows["shared-warm"]["total"] == 0
    assert "New pool" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["admin_a", "viewer_a"])
def test_it_shows_tenant_users_only_their_pools(request, login, persona, pools):
    pa, pb, free = pools
    client = login(request.getfixturevalue(persona))
    response = client.get("/pools/")
    assert [pool.name for pool, _ in response.context["rows"]] == ["a-main"]
    assert "New pool" not in response.content.decode() and "pmta-1" not in response.content.decode()
    detail = client.get(f"/pools/{pa.pk}/")
    assert detail.status_code == 200 and len(detail.context["page"].object_list) == 3
    assert "Edit" not in detail.content.decode()
    assert client.get(f"/pools/{pb.pk}/").status_code == 404
    assert client.get(f"/pools/{free.pk}/").status_code == 404
    assert client.post(f"/pools/{pa.pk}/edit/", {"description": "mine"}).status_code == 403
    assert client.post(f"/pools/{pb.pk}/edit/", {"description": "mine"}).status_code == 404
    assert client.get("/pools/new/").status_code == 404
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_it_lets_an_operator_create_a_pool_and_audits_it(login, operator, tenant_a):
    server = MtaServerFactory(name="pmta-9")
    client = login(operator)
    response = client.post(
        "/pools/new/", {"name": "a-bulk", "server": server.pk, "tenant": tenant_a.pk, "description": "x"}
    )
    pool = IPPool.objects.get(name="a-bulk")
    assert response.status_code == 302 and response["Location"] == f"/pools/{pool.pk}/"
    assert pool.tenant == tenant_a and pool.server == server
    event = AuditEvent.objects.get(action="pool.create")
    assert event.after == {"name": "a-bulk", "server": "pmta-9", "tenant": "tenant-a"}
    duplicate = client.post("/pools/new/", {"name": "a-bulk", "server": server.pk})
    assert duplicate.status_code == 200 and "already exists" in duplicate.content.decode()


@pytest.mark.django_db
def test_it_lets_an_operator_reassign_a_pool_to_another_tenant(login, operator, pools, tenant_b):
    pa, _, _ = pools
    client = login(operator)
    assert client.get(f"/pools/{pa.pk}/edit/").status_code == 200
    response = client.post(f"/pools/{pa.pk}/edit/", {"tenant": tenant_b.pk, "description": "moved"})
    assert response.status_code == 302
    pa.refresh_from_db()
    assert pa.tenant == tenant_b and pa.description == "moved"
    event = AuditEvent.objects.get(action="pool.update")
    assert event.before == {"tenant": "tenant-a", "description": "A's IPs"}
    assert event.after == {"tenant": "tenant-b", "description": "moved"}


@pytest.mark.django_db
def test_it_lists_pools_without_a_query_per_row(login, operator, tenant_a, django_assert_max_num_queries):
    client = login(operator)
    for _ in range(3):
        IPAddressFactory(pool=IPPoolFactory(tenant=tenant_a))
    client.get("/pools/")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get("/pools/")
    for _ in range(20):
        IPAddressFactory(pool=IPPoolFactory(tenant=tenant_a))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/pools/")
