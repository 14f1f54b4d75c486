"""Headless Chromium: after a bulk pause on the IP list, the status counters show the new numbers without
a reload (out-of-band swap), and a sort header reorders the rows in place."""

import pytest

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_counters_follow_a_bulk_pause_and_headers_sort(page, live_server, django_user_model):
    from ips.models import IPStatus
    from ips.tests.factories import IPAddressFactory, IPPoolFactory
    from tenants.models import Tenant

    django_user_model.objects.create_user(username="ops", password="ops-password-1", is_staff=True)
    pool = IPPoolFactory(name="acme-main", tenant=Tenant.objects.create(name="Acme", slug="acme"))
    ips = [
        IPAddressFactory(address=f"10.100.0.{n}", pool=pool, status=IPStatus.ACTIVE) for n in (1, 2, 11, 101)
    ]

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "ops")
    page.fill("input[name=password]", "ops-password-1")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Fleet overview")
    page.goto(f"{live_server.url}/ips/")
    page.evaluate("window.__stayed = true")

    def counter(status: str) -> str:
        return page.locator(f"#ip-status-counts a:has(.badge.{status}) .stat-value").inner_text()

    assert (counter("active"), counter("paused")) == ("4", "0")
    page.check(f"#ip-row-{ips[0].pk} input[name=ids]")
    page.check(f"#ip-row-{ips[1].pk} input[name=ids]")
    page.select_option("select[name=action]", "pause")
    page.fill("#bulk-form input[name=reason]", "Outlook blocks")
    page.on("dialog", lambda d: d.accept())
    page.click("#bulk-form button[type=submit]")
    page.locator(f"#ip-row-{ips[0].pk} .ip-status").get_by_text("paused").wait_for()
    paused = "#ip-status-counts a:has(.badge.paused) .stat-value"
    page.wait_for_function(f"() => document.querySelector('{paused}').textContent === '2'")
    assert (counter("active"), counter("paused")) == ("2", "2")

    page.click("th >> text=Address")  # ascending is the default order; once more for descending
    page.wait_for_selector("th[aria-sort=ascending]")
    page.click("th >> text=Address")
    page.wait_for_selector("th[aria-sort=descending]")
    first = page.locator("#ip-rows tr").first.inner_text()
    assert "10.100.0.101" in first
    assert page.evaluate("window.__stayed") is True
    assert "sort=-address" in page.url
    assert not page.csp_errors, page.csp_errors
