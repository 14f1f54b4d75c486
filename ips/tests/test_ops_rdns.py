"""rDNS checks stored on IPs, against the real local DNS server (conftest `dns_server`)."""

import dns.reversename
import pytest

from core.models import AuditEvent
from ips import tasks
from ips.models import IPAddress, IPPool, IPStatus, MtaServer
from ips.rdns_service import ip_rdns_check

pytestmark = pytest.mark.django_db


def ptr_name(ip: str) -> str:
    return dns.reversename.from_address(ip).to_text(omit_final_dot=True)


@pytest.fixture
def resolver_settings(settings, dns_server):
    settings.DNS_NAMESERVERS = [dns_server.nameserver]
    settings.DNS_TIMEOUT = 0.5
    return dns_server


@pytest.fixture
def server():
    return MtaServer.objects.create(name="mta-1", webhook_token_hash="h")


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


def test_it_stores_ok_and_audits_the_first_status(ip, resolver_settings):
    resolver_settings.add(ptr_name("192.0.2.10"), "PTR", "mta1.example.com.")
    resolver_settings.add("mta1.example.com", "A", "192.0.2.10")
    result = ip_rdns_check(ip=ip)
    ip.refresh_from_db()
    assert (result.status, ip.rdns_status, ip.rdns_ptr) == ("ok", "ok", "mta1.example.com")
    assert ip.rdns_explanation == "192.0.2.10 -> mta1.example.com -> 192.0.2.10 (forward-confirmed)"
    assert ip.rdns_checked_at is not None
    event = AuditEvent.objects.get(action="ip.rdns")
    assert event.before == {"status": "", "ptr": ""}
    assert event.after == {"status": "ok", "ptr": "mta1.example.com"}
    assert event.tenant_id == ip.pool.tenant_id


def test_it_audits_only_when_the_status_changes(ip, resolver_settings):
    resolver_settings.add(ptr_name("192.0.2.10"), "PTR", "mta1.example.com.")
    resolver_settings.add("mta1.example.com", "A", "192.0.2.10")
    ip_rdns_check(ip=ip)
    first_checked = IPAddress.objects.get(pk=ip.pk).rdns_checked_at
    ip_rdns_check(ip=ip)
    assert AuditEvent.objects.filter(action="ip.rdns").count() == 1
    assert IPAddress.objects.get(pk=ip.pk).rdns_checked_at > first_checked


def test_it_stores_a_mismatch(ip, resolver_settings):
    resolver_settings.add(ptr_name("192.0.2.10"), "PTR", "static-10.isp.example.net.")
    resolver_settings.add("static-10.isp.example.net", "A", "192.0.2.10")
    ip_rdns_check(ip=ip)
    ip.refresh_from_db()
    assert (ip.rdns_status, ip.rdns_ptr) == ("mismatch", "static-10.isp.example.net")
    assert ip.rdns_explanation == "PTR of 192.0.2.10 is static-10.isp.example.net, expected mta1.example.com"


def test_it_stores_missing(ip, resolver_settings):
    ip_rdns_check(ip=ip)
    ip.refresh_from_db()
    assert (ip.rdns_status, ip.rdns_ptr, ip.rdns_explanation) == (
        "missing",
        "",
        "192.0.2.10 has no PTR record",
    )


def test_a_timeout_is_unknown_not_missing(ip, resolver_settings):
    resolver_settings.add(ptr_name("192.0.2.10"), "PTR", "mta1.example.com.")
    ip_rdns_check(ip=ip)
    resolver_settings.set_behaviour(ptr_name("192.0.2.10"), "timeout")
    ip.rdns_status = "ok"
    ip.save()
    ip_rdns_check(ip=ip)
    ip.refresh_from_db()
    assert ip.rdns_status == "unknown"
    assert "DNS did not answer" in ip.rdns_explanation
    assert AuditEvent.objects.filter(action="ip.rdns").latest("pk").after["status"] == "unknown"


def test_the_button_returns_the_partial_for_htmx(ip, resolver_settings, operator, login):
    resolver_settings.add(ptr_name("192.0.2.10"), "PTR", "mta1.example.com.")
    resolver_settings.add("mta1.example.com", "A", "192.0.2.10")
    response = login(operator).post(f"/ips/{ip.pk}/rdns/check/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert f'id="ip-rdns-{ip.pk}"' in response.text
    assert 'class="badge ok"' in response.text and "mta1.example.com" in response.text
    assert "Recheck" in response.text and "<html" not in response.text
    event = AuditEvent.objects.get(action="ip.rdns")
    assert event.actor == operator


def test_the_button_redirects_without_htmx(ip, resolver_settings, operator, login):
    response = login(operator).post(f"/ips/{ip.pk}/rdns/check/")
    assert response.status_code == 302
    assert response["Location"] == f"/ips/{ip.pk}/"


def test_tenant_users_may_not_check(ip, resolver_settings, admin_a, viewer_a, admin_b, login):
    url = f"/ips/{ip.pk}/rdns/check/"
    assert login(admin_a).post(url).status_code == 403  # their IP, but only operators act on IPs
    assert login(viewer_a).post(url).status_code == 403
    assert login(admin_b).post(url).status_code == 404  # not their IP
    ip.refresh_from_db()
    assert ip.rdns_checked_at is None


def test_the_tasks_check_every_ip_that_is_not_retired(
    ip, server, resolver_settings, monkeypatch, django_capture_on_commit_callbacks
):
    IPAddress.objects.create(
        address="192.0.2.11", server=server, vmta_name="vmta-192-0-2-11", status=IPStatus.RETIRED
    )
    queued = []
    monkeypatch.setattr(tasks.ip_rdns_check_task, "delay", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.recheck_rdns_all() == 1
    assert queued == [ip.pk]
    assert tasks.ip_rdns_check_task(ip.pk) == "missing"
    assert tasks.ip_rdns_check_task(999999) == "gone"
