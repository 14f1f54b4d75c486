"""Headless Chromium: the reputation grid of a fleet fits a laptop screen (every list visible without
scrolling), listed IPs come first, and on a phone the grid scrolls inside its own box."""

import pytest

pytestmark = pytest.mark.browser


def _login(page, live_server) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "ops")
    page.fill("input[name=password]", "ops-password-1")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Fleet overview")


@pytest.mark.django_db(transaction=True)
def test_the_grid_fits_a_laptop_and_scrolls_in_its_box_on_a_phone(page, live_server, django_user_model):
    from ips.models import IPAddress
    from ips.tests.factories import IPPoolFactory
    from reputation.models import Blocklist, CheckState, CheckStatus, Kind
    from reputation.services import catalogue_load
    from tenants.models import Tenant

    catalogue_load()  # a transactional test starts without the migration's catalogue
    django_user_model.objects.create_user(username="ops", password="ops-password-1", is_staff=True)
    pool = IPPoolFactory(name="fleet", tenant=Tenant.objects.create(name="Acme Sending Co", slug="acme"))
    lists = list(Blocklist.objects.filter(kind=Kind.IP, enabled=True).order_by("name"))
    for n in range(1, 31):
        ip = IPAddress.objects.create(
            address=f"10.100.0.{n}", server=pool.server, pool=pool, vmta_name=f"v{n}", hostname=f"mta{n}.test"
        )
        for bl in lists:
            listed = n == 30 and bl == lists[-1]
            CheckState.objects.create(
                target=ip.address,
                target_kind=Kind.IP,
                ip=ip,
                blocklist=bl,
                status=CheckStatus.LISTED if listed else CheckStatus.CLEAN,
                meaning="listed for spam" if listed else "",
            )

    page.set_viewport_size({"width": 1440, "height": 900})
    _login(page, live_server)
    page.goto(f"{live_server.url}/reputation/")
    page.wait_for_selector(".rep-grid")
    # The one listed IP is the first row, even though its address sorts last.
    assert page.locator(".rep-grid tbody tr").first.inner_text().startswith("10.100.0.30") or (
        "10.100.0.30" in page.locator(".rep-grid tbody tr").first.inner_text()
    )
    fit = page.evaluate(
        """() => {
          const box = document.querySelector('.rep-grid-scroll');
          return {box: box.clientWidth, grid: box.scrollWidth,
                  page: document.documentElement.scrollWidth, view: window.innerWidth};
        }"""
    )
    assert fit["grid"] <= fit["box"], fit  # every list's column is on screen
    assert fit["page"] <= fit["view"], fit
    page.screenshot(path="/tmp/dash-lists-reputation-1440.png", full_page=False)

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_selector(".rep-grid")
    box = page.evaluate(
        """() => { const r = document.querySelector('.rep-grid-scroll').getBoundingClientRect();
                   return {right: r.right, view: window.innerWidth}; }"""
    )
    assert box["right"] <= box["view"], box
    assert not page.csp_errors, page.csp_errors
