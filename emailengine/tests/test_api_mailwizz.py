"""MailWizz through the API: a tenant admin configures, tests and syncs their connection against the
stand-in, reads the synced campaigns and the outbox, retries a failed row; viewers read, others get 404."""

import pytest

from core.models import AuditEvent
from mailwizz.models import MailWizzConfig, MailWizzOutbox
from testsupport.api import api_as
from testsupport.mailwizz_standin import MailWizzStandin

pytestmark = pytest.mark.django_db


@pytest.fixture
def mw(settings):
    settings.MAILWIZZ_TIMEOUT = 0.5
    # The stand-in listens on 127.0.0.1: an operator has allowed that network (core/outbound.py).
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with MailWizzStandin(api_key="secret-api-key-123", auth="mw2") as standin:
        standin.add_campaign("ab111", name="Spring sale", list_uid="lu1")
        yield standin


def test_a_tenant_admin_connects_tests_and_syncs(admin_a, tenant_a, mw):
    api = api_as(admin_a, "mw-script")
    assert api.get(f"mailwizz/tenants/{tenant_a.pk}").json()["configured"] is False

    saved = api.put(
        f"mailwizz/tenants/{tenant_a.pk}",
        {"base_url": mw.url, "mode": "mw2", "api_key": "secret-api-key-123", "header_prefix": "X-"},
    )
    assert saved.status_code == 200, saved.content
    body = saved.json()
    assert (body["configured"], body["api_key_set"], body["header_prefix"]) == (True, True, "X-")
    assert "secret" not in saved.content.decode()
    event = AuditEvent.objects.get(action="mailwizz.config_create")
    assert event.via == f"api token: {api.token_name}"

    tested = api.post(f"mailwizz/tenants/{tenant_a.pk}/test").json()
    assert tested["ok"] and "this key sees 1 campaign" in tested["message"]
    synced = api.post(f"mailwizz/tenants/{tenant_a.pk}/sync").json()
    assert (synced["ok"], synced["campaigns"]) == (True, 1)
    campaigns = api.get(f"mailwizz/tenants/{tenant_a.pk}/campaigns", q="spring").json()
    assert [(c["uid"], c["name"]) for c in campaigns["items"]] == [("ab111", "Spring sale")]

    # Empty keys keep the stored one, as on the page.
    api.put(f"mailwizz/tenants/{tenant_a.pk}", {"base_url": mw.url, "mode": "mw2"})
    assert MailWizzConfig.objects.get(tenant=tenant_a).api_key == "secret-api-key-123"


def test_it_refuses_settings_that_cannot_work(admin_a, tenant_a):
    response = api_as(admin_a).put(
        f"mailwizz/tenants/{tenant_a.pk}", {"base_url": "http://169.254.169.254/api", "mode": "mw1"}
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} >= {"base_url", "api_key", "private_key"}
    assert not MailWizzConfig.objects.exists()


def test_the_outbox_is_scoped_and_a_failed_row_can_be_retried(admin_a, viewer_a, admin_b, tenant_a, tenant_b):
    mine = MailWizzOutbox.objects.create(
        tenant=tenant_a, kind="complaint", email="a@x.example", status="failed"
    )
    MailWizzOutbox.objects.create(tenant=tenant_b, kind="complaint", email="b@x.example", status="failed")
    rows = api_as(viewer_a).get("mailwizz/outbox", status="failed").json()
    assert [r["email"] for r in rows["items"]] == ["a@x.example"]
    assert api_as(viewer_a).post(f"mailwizz/outbox/{mine.pk}/retry").status_code == 403
    assert api_as(admin_b).post(f"mailwizz/outbox/{mine.pk}/retry").status_code == 404
    assert api_as(admin_b).get(f"mailwizz/tenants/{tenant_a.pk}").status_code == 404

    retried = api_as(admin_a).post(f"mailwizz/outbox/{mine.pk}/retry")
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    again = api_as(admin_a).post(f"mailwizz/outbox/{mine.pk}/retry")
    assert again.status_code == 409
