"""Headless Chromium: log in, see the dashboard, and use an htmx-driven filter that swaps results in place."""

import pytest

pytestmark = pytest.mark.browser


def login(page, live_server, username, password):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


@pytest.mark.django_db(transaction=True)
def test_it_logs_in_and_filters_the_audit_log_with_htmx(page, live_server, django_user_model):
    from core.audit import audit_record
    from tenants.models import Tenant

    django_user_model.objects.create_user(username="ops", password="ops-password-1", is_staff=True)
    tenant = Tenant.objects.create(name="Acme", slug="acme")
    audit_record(action="demo.first", by="system: test", obj=tenant)
    audit_record(action="demo.second", by="system: test", obj=tenant)

    login(page, live_server, "ops", "ops-password-1")
    page.wait_for_selector("text=Fleet overview")
    page.click("nav >> text=Audit")
    page.wait_for_selector("text=demo.second")
    # A marker on window survives only if htmx swaps the results instead of loading a new page.
    page.evaluate("window.__stayed = true")
    page.fill("input[name=action]", "demo.first")
    page.press("input[name=action]", "Enter")
    page.locator("#audit-results").get_by_text("demo.second").wait_for(state="detached")
    assert page.evaluate("window.__stayed") is True
    assert "demo.first" in page.inner_text("#audit-results")
    assert "action=demo.first" in page.url
    assert not [e for e in page.csp_errors if "Content Security Policy" in e], page.csp_errors
