"""The API's server operations: config delivery state, render, diff and save, Poll now, rDNS, top queues.

The same selectors and services as the server and IP pages (ips/views_ops.py), audited with the token.
"""

import dns.reversename
import pytest

from core.models import AuditEvent
from ips.models import IPAddress, IPPool, IPStatus, MtaServer, PmtaConfigRender
from testsupport.api import api_as
from testsupport.fixtures import PMTA_FIXTURES

pytestmark = pytest.mark.django_db


@pytest.fixture
def server():
    server = MtaServer(name="mta-1", hostname="mta1.example.com")
    server.set_webhook_token(MtaServer.new_token())
    server.save()
    return server


@pytest.fixture
def ip(server, tenant_a):
    pool = IPPool.objects.create(name="a-main", server=server, tenant=tenant_a)
    return IPAddress.objects.create(
        address="192.0.2.10",
        server=server,
        pool=pool,
        hostname="mta1.example.com",
        vmta_name="vmta-192-0-2-10",
        status=IPStatus.ACTIVE,
    )


def test_it_renders_saves_and_diffs_the_config(server, ip, operator):
    api = api_as(operator, "ops")
    state = api.get(f"servers/{server.pk}/config").json()
    assert (state["desired_version"], state["applied_version"], state["label"]) == (None, None, "no agent")

    rendered = api.get(f"servers/{server.pk}/config/render").json()
    assert rendered["unsaved"] and rendered["saved"] is None and rendered["diff"] == ""
    assert any("vmta-192-0-2-10" in text for text in rendered["files"].values())

    saved = api.post(f"servers/{server.pk}/config/render")
    assert saved.status_code == 200, saved.content
    assert saved.json()["changed"] and saved.json()["saved"]["version"] == 1
    assert saved.json()["saved"]["digest"] == rendered["digest"]
    event = AuditEvent.objects.get(action="server.config_render")
    assert (event.actor, event.via) == (operator, f"api token: {api.token_name}")

    again = api.post(f"servers/{server.pk}/config/render").json()
    assert (again["changed"], again["saved"]["version"]) == (False, 1)
    assert PmtaConfigRender.objects.filter(server=server).count() == 1

    ip.hostname = "mta9.example.com"
    ip.save(update_fields=["hostname"])
    changed = api.get(f"servers/{server.pk}/config/render").json()
    assert changed["unsaved"] and changed["saved"]["version"] == 1
    assert "+" in changed["diff"] and changed["lines_added"] >= 1

    detail = api.get(f"servers/{server.pk}").json()
    assert detail["config"]["desired_version"] == 1
    listed = api.get("servers").json()["items"]
    assert [s["config"]["desired_version"] for s in listed] == [1]


def test_it_polls_health_now(server, operator):
    # No management URL: the poll stores "unknown" without any network call, as on the page.
    response = api_as(operator).post(f"servers/{server.pk}/health/poll")
    assert response.status_code == 200, response.content
    assert response.json()["health"]["state"] == "unknown"
    server.refresh_from_db()
    assert server.health_checked_at is not None


def test_it_checks_rdns_now_and_audits_with_the_token(ip, operator, settings, dns_server):
    settings.DNS_NAMESERVERS = [dns_server.nameserver]
    ptr = dns.reversename.from_address(ip.address).to_text(omit_final_dot=True)
    dns_server.add(ptr, "PTR", "mta1.example.com.")
    dns_server.add("mta1.example.com", "A", ip.address)
    api = api_as(operator, "rdns")

    response = api.post(f"ips/{ip.address}/rdns/check")

    assert response.status_code == 200, response.content
    assert response.json()["rdns"]["status"] == "ok"
    assert response.json()["rdns"]["ptr"] == "mta1.example.com"
    event = AuditEvent.objects.get(action="ip.rdns")
    assert event.via == f"api token: {api.token_name}"


def test_a_tenant_admin_sees_but_cannot_check_rdns(ip, admin_a, viewer_a):
    for user in (admin_a, viewer_a):
        assert api_as(user).get(f"ips/{ip.address}").status_code == 200
        assert api_as(user).post(f"ips/{ip.address}/rdns/check").status_code == 403


def test_it_reads_pasted_topqueues_with_our_ip_behind_each(operator, server):
    IPAddress.objects.create(address="23.236.100.164", server=server, vmta_name="vmta-a")
    text = (PMTA_FIXTURES / "show-topqueues.dom.txt").read_text()

    response = api_as(operator).post("servers/topqueues", {"output": text})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["total_recipients"], body["backoff"], len(body["queues"])) == (61078, 59, 100)
    first = body["queues"][0]
    assert (first["name"], first["recipients"], first["ip"]) == (
        "aol.com/23.236.100.164",
        77,
        "23.236.100.164",
    )
    counts = [q["recipients"] for q in body["queues"]]
    assert counts == sorted(counts, reverse=True)


def test_it_explains_unreadable_topqueues(operator):
    response = api_as(operator).post("servers/topqueues", {"output": "not pmta output"})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "output"
