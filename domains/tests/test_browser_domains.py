"""Headless Chromium: an admin adds a domain, publishes its records, and "Recheck now" turns it green."""

import pytest

from domains.tests.dnsdata import publish_all

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_it_adds_a_domain_and_rechecks_it_in_place(page, live_server, dns_settings, django_user_model):
    from ips.models import IPAddress, IPPool, MtaServer
    from tenants.models import Membership, Tenant

    tenant = Tenant.objects.create(name="Acme", slug="acme")
    user = django_user_model.objects.create_user(username="acme-admin", password="acme-password-1")
    Membership.objects.create(user=user, tenant=tenant, role="admin")
    server = MtaServer(name="pmta1", hostname="pmta1.example.net")
    server.set_webhook_token(MtaServer.new_token())
    server.save()
    pool = IPPool.objects.create(name="pool", server=server, tenant=tenant)
    for address, hostname in (("192.0.2.10", "mta1.example.net"), ("192.0.2.11", "mta2.example.net")):
        IPAddress.objects.create(
            address=address,
            hostname=hostname,
            server=server,
            pool=pool,
            vmta_name=f"v{address[-2:]}",
            status="active",
        )

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "acme-admin")
    page.fill("input[name=password]", "acme-password-1")
    page.click("button[type=submit]")
    page.click("nav >> text=Domains")
    page.click("text=Add domain")
    page.fill("input[name=name]", "example.com")
    page.select_option("select[name=key_bits]", "1024")
    page.click("button:has-text('Add domain')")
    page.locator("pre.zone-snippet").wait_for()
    assert "v=spf1 ip4:192.0.2.10 ip4:192.0.2.11 -all" in page.inner_text("pre.zone-snippet")

    from domains.models import SendingDomain

    publish_all(dns_settings, SendingDomain.objects.get(name="example.com"))
    page.evaluate("window.__stayed = true")
    page.click("button:has-text('Recheck now')")
    page.locator("#checks tr.check-ptr .badge.ok").wait_for()
    assert page.locator("#checks .badge.ok").count() >= 6  # the summary and one per check
    assert page.evaluate("window.__stayed") is True  # swapped by htmx, not reloaded
    assert not [e for e in page.csp_errors if "Content Security Policy" in e], page.csp_errors
