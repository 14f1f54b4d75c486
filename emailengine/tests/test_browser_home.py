"""Headless Chromium on the home page: the counters refresh in place, the 7/30-day switch swaps the trend
charts without a reload, nothing overflows the page at 1440 or 390 px, and no console (CSP) error.
Screenshots go to $ARTIFACTS_DIR (default: the pytest tmp dir)."""

import os
from datetime import timedelta
from pathlib import Path

import pytest

from campaigns.tests.page_factories import make_stat
from core.dates import utc_today

pytestmark = pytest.mark.browser


def _shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("ARTIFACTS_DIR", tmp_path)) / "dash-home"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.mark.django_db(transaction=True)
def test_the_home_refreshes_in_place_and_fits_the_screen(page, live_server, django_user_model, tmp_path):
    from ips.models import IPAddress, IPPool, MtaServer
    from tenants.models import Tenant

    django_user_model.objects.create_user(username="ops", password="ops-password-1", is_staff=True)
    tenant = Tenant.objects.create(name="Acme", slug="acme")
    server = MtaServer(name="pmta-browser")
    server.set_webhook_token(MtaServer.new_token())
    server.save()
    pool = IPPool.objects.create(name="acme-pool", server=server, tenant=tenant)
    ip = IPAddress.objects.create(
        address="203.0.113.77",
        server=server,
        pool=pool,
        vmta_name=IPAddress.default_vmta_name("203.0.113.77"),
    )
    today = utc_today()
    for back in range(30):
        make_stat(
            None,
            today - timedelta(days=back),
            tenant=tenant,
            source_ip=ip.address,
            ip=ip,
            delivered=1000 + 10 * back,
            hard=back % 7 * 8,
            complaints=back % 5,
        )

    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "ops")
    page.fill("input[name=password]", "ops-password-1")
    page.click("button[type=submit]")
    page.wait_for_selector("#attention")
    assert page.locator("#trends svg.chart").count() == 4
    shots = _shots(tmp_path)
    page.screenshot(path=str(shots / "home-1440.png"), full_page=True)
    assert _overflow(page) <= 0

    # The Refresh link swaps the counters in place (htmx), as the 30 s poll does.
    page.evaluate("window.__stayed = true")
    before = page.inner_text("#attention .small.muted")
    page.wait_for_timeout(1100)  # the "updated" clock shows seconds
    page.click("#attention >> text=Refresh")
    page.wait_for_function(
        "prev => document.querySelector('#attention .small.muted').innerText !== prev", arg=before
    )
    assert page.evaluate("window.__stayed") is True

    # The 30-day switch swaps the charts and pushes the URL, still without a reload.
    page.click("#trends >> text=30 days")
    page.wait_for_selector("#trends h2:has-text('Last 30 days')")
    assert page.evaluate("window.__stayed") is True
    assert page.url.endswith("?days=30")
    rows = page.locator("#trends details.chart-data").first.locator("tbody tr")
    assert rows.count() == 30

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/")
    page.wait_for_selector("#attention")
    assert _overflow(page) <= 0
    page.screenshot(path=str(shots / "home-390.png"), full_page=True)
    assert not page.csp_errors, page.csp_errors
