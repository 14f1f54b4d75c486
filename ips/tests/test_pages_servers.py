"""Server pages: operator only; tokens shown once; the API key is never sent back."""

import pytest
from django.utils import timezone

from core.models import AuditEvent
from ips.models import MtaServer, hash_token
from ips.services import server_for_token
from ips.tests.factories import IPAddressFactory, IPPoolFactory, MtaServerFactory


@pytest.mark.django_db
def test_it_lists_servers_with_health_and_counts(login, operator, tenant_a):
    up = MtaServerFactory(
        name="pmta-up",
        health_up=True,
        health_checked_at=timezone.now(),
        health_traffic_hour_out_msg=12345,
        health_queued_rcp=77,
        health_backoff_queues=[{"name": "gmail.com/vmta-1", "rcp": 10}],
    )
    MtaServerFactory(name="pmta-down", health_up=False, health_error="connection refused")
    IPAddressFactory.create_batch(2, pool=IPPoolFactory(server=up, tenant=tenant_a))
    response = login(operator).get("/servers/")
    html = response.content.decode()
    assert response.status_code == 200
    for text in ("pmta-up", "pmta-down", "12345", "77", "connection refused", "badge up", "badge down"):
        assert text in html, text
    row = {server.name: server for server, _ in response.context["rows"]}
    assert (row["pmta-up"].n_total, row["pmta-up"].n_pools) == (2, 1)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["admin_a", "viewer_a"])
def test_it_hides_servers_from_tenant_users(request, login, persona, tenant_a):
    server = MtaServerFactory()
    IPPoolFactory(server=server, tenant=tenant_a)
    client = login(request.getfixturevalue(persona))
    for url in ("/servers/", "/servers/new/", f"/servers/{server.pk}/"):
        assert client.get(url).status_code == 404, url
    for url in (f"/servers/{server.pk}/rotate-token/", f"/servers/{server.pk}/edit/", "/servers/new/"):
        assert client.post(url, {"name": "x", "hostname": "h"}).status_code == 404, url
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_it_creates_a_server_and_shows_the_token_once(login, operator):
    client = login(operator)
    response = client.post(
        "/servers/new/",
        {
            "name": "pmta-7",
            "hostname": "pmta-7.example.net",
            "mgmt_url": "http://10.0.0.7:8080",
            "mgmt_api_key": "s3cret-key",
        },
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    token = response.context["token"]
    assert token.startswith("ee_") and token in response.content.decode()
    server = MtaServer.objects.get(name="pmta-7")
    assert server.webhook_token_hash == hash_token(token) and server_for_token(token) == server
    assert server.mgmt_api_key == "s3cret-key"
    detail = client.get(f"/servers/{server.pk}/").content.decode()
    assert token not in detail and "s3cret-key" not in detail
    assert server.webhook_token_hint in detail and ">set<" in detail
    event = AuditEvent.objects.get(action="server.create")
    assert token not in str(event.after) and "s3cret" not in str(event.after)


@pytest.mark.django_db
def test_it_rotates_the_token_and_the_old_one_stops_working(login, operator):
    server = MtaServerFactory()
    old_hash = server.webhook_token_hash
    client = login(operator)
    assert client.get(f"/servers/{server.pk}/rotate-token/").status_code == 405
    response = client.post(f"/servers/{server.pk}/rotate-token/")
    token = response.context["token"]
    assert token in response.content.decode()
    server.refresh_from_db()
    assert server.webhook_token_hash != old_hash and server_for_token(token) == server
    assert AuditEvent.objects.filter(action="server.rotate_token").count() == 1


@pytest.mark.django_db
def test_it_edits_a_server_without_ever_showing_the_api_key(login, operator):
    server = MtaServerFactory(mgmt_api_key="old-key")
    client = login(operator)
    page = client.get(f"/servers/{server.pk}/").content.decode()
    assert "old-key" not in page
    client.post(
        f"/servers/{server.pk}/edit/",
        {"hostname": "new.example.net", "mgmt_url": "http://10.1.1.1:8080", "mgmt_api_key": ""},
    )
    server.refresh_from_db()
    assert server.hostname == "new.example.net" and server.mgmt_api_key == "old-key"
    client.post(
        f"/servers/{server.pk}/edit/",
        {"hostname": "new.example.net", "mgmt_url": "http://10.1.1.1:8080", "mgmt_api_key": "new-key"},
    )
    server.refresh_from_db()
    assert server.mgmt_api_key == "new-key"
    client.post(
        f"/servers/{server.pk}/edit/",
        {"hostname": "new.example.net", "mgmt_url": "http://10.1.1.1:8080", "clear_api_key": "on"},
    )
    server.refresh_from_db()
    assert server.mgmt_api_key == ""
    events = list(AuditEvent.objects.filter(action="server.update").order_by("id"))
    assert len(events) == 3
    assert all("key" not in str(e.after).replace("api_key_changed", "") for e in events)
    bad = client.post(f"/servers/{server.pk}/edit/", {"mgmt_url": "not a url"})
    assert bad.status_code == 400 and "Enter a valid URL" in bad.content.decode()


@pytest.mark.django_db
def test_it_shows_pools_and_ip_counts_on_the_server_page(login, operator, tenant_a):
    server = MtaServerFactory(name="pmta-5")
    pool = IPPoolFactory(name="a-main", server=server, tenant=tenant_a)
    IPAddressFactory.create_batch(2, pool=pool)
    IPAddressFactory(server=server, pool=None)
    response = login(operator).get(f"/servers/{server.pk}/")
    assert [p.name for p, _ in response.context["pool_rows"]] == ["a-main"]
    assert response.context["counts"]["new"] == 3
    assert response.context["unpooled"] == 1
    assert "1 IP not in any pool" in response.content.decode()


@pytest.mark.django_db
def test_it_keeps_the_admin_api_key_write_only_and_issues_a_token(client, django_user_model, tenant_a):
    root = django_user_model.objects.create_superuser(username="root", password="pw-root-123")
    client.force_login(root)
    server = MtaServerFactory(mgmt_api_key="hidden-key")
    IPAddressFactory(pool=IPPoolFactory(server=server, tenant=tenant_a))
    for url in ("/admin/ips/mtaserver/", "/admin/ips/ippool/", "/admin/ips/ipaddress/"):
        assert client.get(url).status_code == 200, url
    change = client.get(f"/admin/ips/mtaserver/{server.pk}/change/").content.decode()
    assert "hidden-key" not in change and "webhook_token_hash" not in change
    response = client.post(
        "/admin/ips/mtaserver/add/",
        {"name": "pmta-adm", "hostname": "", "mgmt_url": "", "notes": "", "new_mgmt_api_key": "k1"},
        follow=True,
    )
    created = MtaServer.objects.get(name="pmta-adm")
    assert created.mgmt_api_key == "k1" and created.webhook_token_hash
    assert "shown once" in response.content.decode()
    assert AuditEvent.objects.filter(action="server.create", object_id=str(created.pk)).exists()
