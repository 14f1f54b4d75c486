"""Every page in the navigation, as an operator, a tenant admin and a tenant viewer, on a laptop (1440x900)
and a phone (390x844), in headless Chromium on the demo data (issue #19). Each visit must show:

- no sideways page scroll (wide tables scroll inside their own box),
- the page's own content (a heading; the IP page's warmup card names the plan; the menu marks the page),
- no progress bar over text, no summary card cutting its text,
- no console error (CSP violations and failed loads show there),
- no accessibility violation of impact serious or critical, as axe-core finds them (testsupport/axe).

A full-page screenshot of every visit is written to $BROWSER_ARTIFACTS_DIR (or pytest's temporary directory,
whose path the run prints) for people to look at; the test reads nothing back from them. One browser for the
module, one context per persona and screen size; problems are collected and reported together.
"""

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db(transaction=True)

AXE_JS = Path(settings.BASE_DIR) / "testsupport" / "axe" / "axe.min.js"
SCREENS = {"laptop": (1440, 900), "phone": (390, 844)}
# seed_demo's logins (emailengine/demo.py); the tenant personas belong to SOS-Expat.
PERSONAS = {"operator": "operator", "tenant-admin": "sos-expat-admin", "viewer": "sos-expat-viewer"}
TENANT_SLUG = "sos-expat"
# Django's own admin is not this project's pages.
SKIP = ("/admin/",)

AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id} (${v.help}): `
      + v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | "));
}"""


# Text a progress bar lies over, and summary cards too narrow for their text (both seen in issue #19).
OVERLAPS = """() => {
  const found = [];
  for (const bar of document.querySelectorAll("main progress")) {
    const b = bar.getBoundingClientRect();
    if (!b.width) continue;
    const scope = bar.closest("tr, li, .card") || bar.parentElement;
    const walker = document.createTreeWalker(scope, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent.trim() || bar.contains(node)) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      for (const r of range.getClientRects()) {
        if (r.left < b.right - 1 && r.right > b.left + 1 && r.top < b.bottom - 1 && r.bottom > b.top + 1) {
          found.push(`a progress bar covers "${node.textContent.trim().slice(0, 40)}"`);
        }
      }
    }
  }
  for (const card of document.querySelectorAll("main .stat")) {
    if (card.scrollWidth > card.clientWidth + 1) {
      found.push(`the card "${card.innerText.trim().slice(0, 40)}" cuts its text`);
    }
  }
  return found;
}"""


@pytest.fixture(scope="module")
def browser(chromium_path) -> Iterator:
    from conftest import CHROMIUM_ARGS

    with pytest.MonkeyPatch.context() as mp:
        # Playwright's sync API runs an event loop in this thread; the live server's DB work is elsewhere.
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            chromium = pw.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
            yield chromium
            # See conftest.page: connections opened while Playwright ran must be closed before it stops.
            from django.db import connections

            connections.close_all()
            chromium.close()


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory) -> Path:
    configured = os.environ.get("BROWSER_ARTIFACTS_DIR")
    path = Path(configured) if configured else tmp_path_factory.mktemp("browser-crawl")
    path.mkdir(parents=True, exist_ok=True)
    print(f"browser crawl screenshots: {path}")
    return path


@pytest.fixture
def demo(db):
    from io import StringIO

    from django.core.management import call_command

    call_command("seed_demo", "--json", stdout=StringIO())
    # A list half checked, so the validation list shows a progress bar beside its counts.
    from hygiene.models import ValidationJob
    from tenants.models import Tenant

    ValidationJob.objects.create(
        tenant=Tenant.objects.get(slug=TENANT_SLUG),
        filename="customers-2026-11-export.csv",
        status=ValidationJob.Status.RUNNING,
        total=125_000,
        done=48_211,
        counts={"status": {"valid": 41_234, "invalid": 3_120, "risky": 2_200, "unknown": 1_657}},
    )


def _session_cookie(username: str, live_server_url: str) -> dict:
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": live_server_url,
    }


def _detail_pages(persona: str) -> dict[str, str]:
    """Pages outside the menu people open first, with the text each must show."""
    from domains.models import SendingDomain
    from ips.models import MtaServer
    from tenants.models import Tenant
    from warmup.models import IPWarmup

    tenant = Tenant.objects.get(slug=TENANT_SLUG)
    warming = IPWarmup.objects.select_related("ip", "plan").filter(ip__pool__tenant=tenant).first()
    assert warming is not None, "the demo data has a warming IP for the tenant"
    pages = {
        reverse("ip_detail", args=[warming.ip_id]): warming.plan.name,
        reverse("warmup_ip", args=[warming.ip_id]): warming.plan.name,
        reverse("tenant_detail", args=[tenant.pk]): tenant.name,
    }
    domain = SendingDomain.objects.filter(tenant=tenant).first()
    if domain is not None:
        pages[reverse("domain_detail", args=[domain.pk])] = domain.name
    if persona == "operator":
        server = MtaServer.objects.first()
        assert server is not None
        pages[reverse("server_detail", args=[server.pk])] = server.name
    return pages


def _new_page(context):
    """A page whose console errors and uncaught exceptions collect in page.errors (cleared per visit)."""
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    return page


def _visit(page, url: str, *, problems: list[str], where: str, shot: Path, expect: str | None = None) -> None:
    page.errors.clear()
    response = page.goto(url)
    page.wait_for_load_state("load")
    page.screenshot(path=str(shot), full_page=True)
    if response is None or response.status != 200:
        problems.append(f"{where}: HTTP {response.status if response else 'no response'}")
        return
    scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if scroll_width > inner_width:
        problems.append(f"{where}: the page scrolls sideways ({scroll_width} px wide in {inner_width} px)")
    headings = page.locator("main h1")
    if headings.count() != 1 or not headings.first.inner_text().strip():
        problems.append(f"{where}: expected one non-empty <h1> in main, found {headings.count()}")
    if expect is not None and expect not in page.locator("main").inner_text():
        problems.append(f"{where}: {expect!r} is not on the page")
    problems.extend(f"{where}: {overlap}" for overlap in page.evaluate(OVERLAPS))
    page.evaluate(AXE_JS.read_text())
    problems.extend(f"{where}: axe {violation}" for violation in page.evaluate(AXE_RUN))
    problems.extend(f"{where}: console error {e}" for e in page.errors)


def _shot_name(persona: str, screen: str, path: str) -> str:
    return f"{persona}-{screen}-{re.sub(r'[^a-z0-9]+', '_', path.lower()).strip('_') or 'home'}.png"


def test_every_menu_page_fits_reads_and_passes_axe(browser, live_server, demo, artifacts):
    problems: list[str] = []
    for persona, username in PERSONAS.items():
        problems.extend(_crawl(browser, live_server.url, persona, username, artifacts))
    (artifacts / "problems.txt").write_text("\n".join(problems) + "\n")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


def _crawl(browser, base_url: str, persona: str, username: str, artifacts: Path) -> list[str]:
    """Visit the persona's menu pages and detail pages at each screen size; return what is wrong."""
    cookie = _session_cookie(username, base_url)
    details = _detail_pages(persona)
    problems: list[str] = []
    visited = 0
    for screen, (width, height) in SCREENS.items():
        context = browser.new_context(viewport={"width": width, "height": height})
        try:
            page = _new_page(context)
            if persona == "operator":  # the signed-out page, once per screen
                _visit(
                    page,
                    f"{base_url}/accounts/login/",
                    problems=problems,
                    where=f"signed out @{screen} /accounts/login/",
                    shot=artifacts / _shot_name("signed-out", screen, "login"),
                )
            context.add_cookies([cookie])
            page.goto(f"{base_url}/")
            menu = page.locator("nav[aria-label=Main] a")
            paths = list(menu.evaluate_all("els => els.map((a) => a.getAttribute('href'))"))
            assert "/" in paths and len(paths) > 8, paths
            if screen == "phone":
                # The menu is folded away on a phone (the page starts on the first screen) and opens on a tap.
                assert not menu.first.is_visible()
                page.locator("#navmenu > summary").click()
                assert menu.last.is_visible()
            else:
                assert menu.first.is_visible()
            for path in [p for p in paths if not p.startswith(SKIP)] + list(details):
                where = f"{persona} @{screen} {path}"
                _visit(
                    page,
                    base_url + path,
                    problems=problems,
                    where=where,
                    shot=artifacts / _shot_name(persona, screen, path),
                    expect=details.get(path),
                )
                visited += 1
                if path in paths:
                    current = page.locator('nav[aria-label=Main] a[aria-current="page"]')
                    if current.count() != 1 or current.get_attribute("href") != path:
                        problems.append(f"{where}: the menu does not mark this page as the current one")
        finally:
            context.close()
    assert visited > 20, f"{persona}: only {visited} pages"
    return problems
