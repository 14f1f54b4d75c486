"""Headless Chromium: an operator bulk-pauses two IPs and the rows update in place, without a reload."""

import pytest

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_it_bulk_pauses_two_ips_in_place(page, live_server, django_user_model):
    from core.models import AuditEvent
    from ips.models import IPAddress, IPStatus
    from ips.tests.factories import IPAddressFactory, IPPoolFactory
    from tenants.models import Tenant

    django_user_model.objects.create_user(username="ops", password="ops-password-1", is_staff=True)
    pool = IPPoolFactory(name="acme-main", tenant=Tenant.objects.create(name="Acme", slug="acme"))
    first = IPAddressFactory(address="203.0.113.1", pool=pool, status=IPStatus.ACTIVE)
    second = IPAddressFactory(address="203.0.113.2", pool=pool, status=IPStatus.WARMING)
    untouched = IPAddressFactory(address="203.0.113.3", pool=pool, status=IPStatus.ACTIVE)

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "ops")
    page.fill("input[name=password]", "ops-password-1")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Fleet overview")
    page.click("nav >> text=IPs")
    page.wait_for_selector(f"#ip-row-{first.pk}")
    # A marker on window survives only if htmx swaps the rows instead of loading a new page.
    page.evaluate("window.__stayed = true")

    page.check(f"#ip-row-{first.pk} input[name=ids]")
    page.check(f"#ip-row-{second.pk} input[name=ids]")
    page.select_option("select[name=action]", "pause")
    page.fill("#bulk-form input[name=reason]", "Outlook blocks")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    page.click("#bulk-form button[type=submit]")

    for ip in (first, second):
        page.locator(f"#ip-row-{ip.pk} .ip-status").get_by_text("paused").wait_for()
    assert page.evaluate("window.__stayed") is True
    assert dialogs == ["Apply this action to the selected IPs?"]
    assert page.locator(f"#ip-row-{untouched.pk} .ip-status").inner_text() == "active"
    assert "203.0.113.1: paused (was active)" in page.inner_text("#bulk-result").replace("\n", " ")
    assert set(IPAddress.objects.filter(status="paused").values_list("address", flat=True)) == {
        "203.0.113.1",
        "203.0.113.2",
    }
    assert AuditEvent.objects.filter(action="ip.status", reason="Outlook blocks").count() == 2
    assert not [e for e in page.csp_errors if "Content Security Policy" in e], page.csp_errors
