"""Bulk add: paste IPs and CIDR ranges, preview every line, then confirm; nothing is saved on any error."""

import re

import pytest

from core.models import AuditEvent
from ips.models import IPAddress
from ips.tests.factories import IPAddressFactory, IPPoolFactory, MtaServerFactory


@pytest.fixture
def server():
    return MtaServerFactory(name="pmta-1")


def post(client, server, text, *, confirm=False, digest="", **extra):
    data = {"text": text, "server": server.pk, "pool": "", "hostname_template": "", **extra}
    if confirm:
        data |= {"confirm": "1", "digest": digest}
    else:
        data["preview"] = "1"
    return client.post("/ips/add/", data)


@pytest.mark.django_db
def test_it_previews_a_slash_24_as_254_hosts_and_saves_nothing_yet(login, operator, server):
    response = post(login(operator), server, "203.0.113.0/24")
    assert response.status_code == 200
    preview = response.context["preview"]
    assert len(preview.addresses) == 254
    assert preview.addresses[0] == "203.0.113.1" and preview.addresses[-1] == "203.0.113.254"
    html = response.content.decode()
    assert "Confirm and add 254 IPs" in html and "<strong>254</strong> addresses ready to add" in html
    assert not IPAddress.objects.exists() and not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_it_reports_every_bad_line_with_its_number_and_saves_nothing(login, operator, server):
    IPAddressFactory(address="198.51.100.7", server=server)
    text = "\n".join(
        [
            "# new block",  # 1: comment only
            "203.0.113.10",  # 2: fine
            "not-an-ip",  # 3
            "203.0.113.10",  # 4: duplicate of line 2
            "198.51.100.7",  # 5: already in the inventory
            "10.0.0.0/16",  # 6: too large
            "127.0.0.1",  # 7: loopback
        ]
    )
    client = login(operator)
    response = post(client, server, text)
    assert response.status_code == 400
    errors = {line.line_no: line.error for line in response.context["preview"].errors}
    assert set(errors) == {3, 4, 5, 6, 7}
    assert "already on line 2" in errors[4]
    assert "already in the inventory" in errors[5]
    html = response.content.decode()
    for n in (3, 4, 5, 6, 7):
        assert f"Line {n}:" in html
    assert "Confirm and add" not in html
    # Even a forged confirm is re-validated and refused.
    forged = post(client, server, text, confirm=True, digest=response.context["digest"])
    assert forged.status_code == 400
    assert IPAddress.objects.count() == 1 and not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_it_adds_on_confirm_with_pool_and_hostnames_and_audits_each_ip(login, operator, server, tenant_a):
    pool = IPPoolFactory(name="a-main", server=server, tenant=tenant_a)
    client = login(operator)
    extra = {"pool": pool.pk, "hostname_template": "mail-{ip}.example.com"}
    text = "203.0.113.8/30\n2001:db8::10"
    preview = post(client, server, text, **extra)
    assert preview.context["preview"].addresses == ["203.0.113.9", "203.0.113.10", "2001:db8::10"]
    response = post(client, server, text, confirm=True, digest=preview.context["digest"], **extra)
    assert response.status_code == 302 and response["Location"] == f"/ips/?server={server.pk}"
    ips = {ip.address: ip for ip in IPAddress.objects.all()}
    assert set(ips) == {"203.0.113.9", "203.0.113.10", "2001:db8::10"}
    assert ips["203.0.113.9"].hostname == "mail-203-0-113-9.example.com"
    assert ips["203.0.113.9"].vmta_name == "vmta-203-0-113-9"
    assert all(ip.pool == pool and ip.server == server and ip.status == "new" for ip in ips.values())
    events = AuditEvent.objects.filter(action="ip.create")
    assert events.count() == 3
    assert {e.tenant_id for e in events} == {tenant_a.pk} and {e.actor for e in events} == {operator}


@pytest.mark.django_db
def test_it_previews_again_when_the_input_changed_after_the_preview(login, operator, server):
    client = login(operator)
    preview = post(client, server, "203.0.113.20")
    response = post(client, server, "203.0.113.21", confirm=True, digest=preview.context["digest"])
    assert response.status_code == 200
    assert "changed since the preview" in response.content.decode()
    assert not IPAddress.objects.exists()


@pytest.mark.django_db
def test_it_refuses_a_pool_on_another_server(login, operator, server):
    pool = IPPoolFactory(server=MtaServerFactory(name="pmta-2"))
    response = post(login(operator), server, "203.0.113.30", pool=pool.pk)
    assert re.search(r"is on pmta-2, not pmta-1", response.content.decode())
    assert response.context["preview"] is None


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["admin_a", "viewer_a"])
def test_it_is_operator_only(request, login, persona, server):
    client = login(request.getfixturevalue(persona))
    assert client.get("/ips/add/").status_code == 404
    assert post(client, server, "203.0.113.40", confirm=True).status_code == 404
    assert not IPAddress.objects.exists()
