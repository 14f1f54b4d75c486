"""Bulk pause / resume / move from the IP list, with htmx row swaps and a no-JavaScript fallback."""

import pytest

from core.models import AuditEvent
from ips.models import IPStatus
from ips.tests.factories import IPAddressFactory, IPPoolFactory, MtaServerFactory

HTMX = {"HX-Request": "true", "HX-Target": "bulk-result"}


@pytest.fixture
def server():
    return MtaServerFactory(name="pmta-x")


@pytest.fixture
def three(server, tenant_a):
    pool = IPPoolFactory(name="a-main", server=server, tenant=tenant_a)
    return [
        IPAddressFactory(address="203.0.113.1", pool=pool, status=IPStatus.ACTIVE),
        IPAddressFactory(address="203.0.113.2", pool=pool, status=IPStatus.WARMING),
        IPAddressFactory(address="203.0.113.3", pool=pool, status=IPStatus.RETIRED),
    ]


@pytest.mark.django_db
def test_it_pauses_selected_ips_and_swaps_their_rows(login, operator, three):
    a, b, _ = three
    response = login(operator).post(
        "/ips/bulk/", {"ids": [a.pk, b.pk], "action": "pause", "reason": "Yahoo deferrals"}, headers=HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    # One out-of-band row per affected IP, already showing the new status, and the status counters.
    assert html.count('hx-swap-oob="true" class="flash"') == 2
    assert html.count('hx-swap-oob="true"') == 3 and 'id="ip-status-counts"' in html
    assert f'id="ip-row-{a.pk}"' in html and f'id="ip-row-{b.pk}"' in html
    assert html.count('class="badge paused ip-status"') == 2
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, a.paused_from, b.status, b.paused_from) == ("paused", "active", "paused", "warming")
    events = AuditEvent.objects.filter(action="ip.status")
    assert events.count() == 2 and {e.reason for e in events} == {"Yahoo deferrals"}


@pytest.mark.django_db
def test_it_reports_a_refused_ip_and_still_changes_the_others(login, operator, three):
    a, b, retired = three
    response = login(operator).post(
        "/ips/bulk/", {"ids": [a.pk, b.pk, retired.pk], "action": "pause", "reason": "sweep"}, headers=HTMX
    )
    outcomes = {o.ip.address: o.result for o in response.context["outcomes"]}
    assert outcomes == {"203.0.113.1": "done", "203.0.113.2": "done", "203.0.113.3": "refused"}
    assert "cannot go from retired to paused" in response.content.decode()
    retired.refresh_from_db()
    assert retired.status == IPStatus.RETIRED
    assert AuditEvent.objects.filter(action="ip.status").count() == 2


@pytest.mark.django_db
def test_it_resumes_each_ip_to_where_it_was(login, operator, three):
    a, b, _ = three
    client = login(operator)
    client.post("/ips/bulk/", {"ids": [a.pk, b.pk], "action": "pause", "reason": "x"}, headers=HTMX)
    response = client.post("/ips/bulk/", {"ids": [a.pk, b.pk], "action": "resume"}, headers=HTMX)
    assert {o.result for o in response.context["outcomes"]} == {"done"}
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, b.status) == (IPStatus.ACTIVE, IPStatus.WARMING)


@pytest.mark.django_db
def test_it_refuses_to_resume_ips_that_are_not_paused(login, operator, three):
    response = login(operator).post("/ips/bulk/", {"ids": [three[0].pk], "action": "resume"}, headers=HTMX)
    assert response.context["outcomes"][0].result == "refused"
    assert "not paused" in response.content.decode()


@pytest.mark.django_db
def test_it_moves_ips_and_refuses_a_pool_on_another_server(login, operator, three, server, tenant_b):
    a, b, _ = three
    foreign = MtaServerFactory(name="pmta-y")
    c = IPAddressFactory(address="192.0.2.50", server=foreign)
    target = IPPoolFactory(name="b-main", server=server, tenant=tenant_b)
    response = login(operator).post(
        "/ips/bulk/",
        {"ids": [a.pk, b.pk, c.pk], "action": "move", "pool": target.pk, "reason": "rebalance"},
        headers=HTMX,
    )
    outcomes = {o.ip.address: (o.result, o.message) for o in response.context["outcomes"]}
    assert outcomes["203.0.113.1"] == ("done", "moved to b-main")
    assert outcomes["192.0.2.50"][0] == "refused" and "pmta-y" in outcomes["192.0.2.50"][1]
    a.refresh_from_db()
    c.refresh_from_db()
    assert a.pool == target and c.pool is None
    assert AuditEvent.objects.filter(action="ip.move").count() == 2


@pytest.mark.django_db
def test_it_needs_a_selection_and_a_reason_to_pause(login, operator, three):
    client = login(operator)
    response = client.post("/ips/bulk/", {"action": "pause", "reason": "x"}, headers=HTMX)
    assert "Select at least one IP." in response.content.decode()
    response = client.post(
        "/ips/bulk/", {"ids": [three[0].pk], "action": "pause", "reason": " "}, headers=HTMX
    )
    assert "Say why these IPs are paused." in response.content.decode()
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_it_works_without_javascript_and_keeps_the_filters(login, operator, three):
    a, _, retired = three
    response = login(operator).post(
        "/ips/bulk/",
        {"ids": [a.pk, retired.pk], "action": "pause", "reason": "x", "next": "status=active&q=203"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/ips/?status=active&q=203"
    page = login(operator).get(response["Location"])
    html = page.content.decode()
    assert "203.0.113.1: paused (was active)" in html
    assert "cannot go from retired to paused" in html


@pytest.mark.django_db
def test_it_never_redirects_off_the_ip_list(login, operator, three):
    response = login(operator).post(
        "/ips/bulk/", {"ids": [three[0].pk], "action": "resume", "next": "https://evil.example/"}
    )
    assert response["Location"].startswith("/ips/")


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["admin_a", "viewer_a"])
def test_it_hides_bulk_actions_from_tenant_users(request, login, persona, three):
    response = login(request.getfixturevalue(persona)).post(
        "/ips/bulk/", {"ids": [three[0].pk], "action": "pause", "reason": "x"}
    )
    assert response.status_code == 404
    three[0].refresh_from_db()
    assert three[0].status == IPStatus.ACTIVE
