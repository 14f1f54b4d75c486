"""MailWizz pages per persona: admins configure their tenant, viewers read, operators see all, other
tenants are a 404; keys are write-only and never audited; test connection, sync now, outbox and retry."""

import pytest

from core.models import AuditEvent
from mailwizz.models import MailWizzCampaign, MailWizzConfig, MailWizzOutbox
from mailwizz.services import mailwizz_config_save
from testsupport.mailwizz_standin import MailWizzStandin


@pytest.fixture(autouse=True)
def short_timeout(settings):
    settings.MAILWIZZ_TIMEOUT = 0.5


@pytest.fixture
def mw(settings):
    # The stand-in listens on 127.0.0.1: an operator has allowed that network (core/outbound.py).
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with MailWizzStandin(
        api_key="secret-api-key-123", private_key="secret-private-456", auth="mw1"
    ) as standin:
        standin.add_campaign("ab111", name="Spring sale", list_uid="lu1")
        yield standin


def form_data(mw, **overrides) -> dict:
    data = {
        "enabled": "on",
        "base_url": mw.url,
        "mode": "mw1",
        "api_key": "secret-api-key-123",
        "private_key": "secret-private-456",
        "header_prefix": "X-Mw-",
        "campaign_key_prefix": "mailwizz-",
    }
    return {**data, **overrides}


def configure(tenant, mw) -> MailWizzConfig:
    return mailwizz_config_save(
        tenant=tenant,
        by="test",
        base_url=mw.url,
        mode="mw1",
        api_key="secret-api-key-123",
        private_key="secret-private-456",
    )


def outbox(tenant, email: str, status: str = "pending", kind: str = "hard_bounce", uid: str = "ab111"):
    return MailWizzOutbox.objects.create(
        tenant=tenant, kind=kind, email=email, campaign_uid=uid, status=status
    )


@pytest.mark.django_db
def test_it_lets_a_tenant_admin_configure_their_tenant_without_ever_showing_the_keys(
    login, admin_a, tenant_a, mw
):
    client = login(admin_a)
    assert client.get("/mailwizz/").url == f"/mailwizz/tenants/{tenant_a.pk}/"
    page = client.get(f"/mailwizz/tenants/{tenant_a.pk}/")
    assert page.status_code == 200 and "not set up" in page.content.decode().lower()

    response = client.post(f"/mailwizz/tenants/{tenant_a.pk}/", form_data(mw))
    assert response.status_code == 302
    config = MailWizzConfig.objects.get(tenant=tenant_a)
    assert (config.api_key, config.private_key, config.mode) == (
        "secret-api-key-123",
        "secret-private-456",
        "mw1",
    )
    event = AuditEvent.objects.get(action="mailwizz.config_create")
    assert event.tenant_id == tenant_a.pk and event.actor_id == admin_a.pk
    assert event.after["api_key_set"] is True and event.after["api_key_changed"] is True
    assert "secret" not in str(event.before) + str(event.after)

    html = client.get(f"/mailwizz/tenants/{tenant_a.pk}/").content.decode()
    assert "secret-api-key-123" not in html and "secret-private-456" not in html
    assert "set (leave empty to keep)" in html

    # Empty key fields keep the stored keys; the audit event says nothing changed in them.
    client.post(
        f"/mailwizz/tenants/{tenant_a.pk}/", form_data(mw, api_key="", private_key="", header_prefix="X-")
    )
    config.refresh_from_db()
    assert config.api_key == "secret-api-key-123" and config.header_prefix == "X-"
    update = AuditEvent.objects.get(action="mailwizz.config_update")
    assert update.before["header_prefix"] == "X-Mw-" and update.after["header_prefix"] == "X-"
    assert update.after["api_key_changed"] is False
    # Stored encrypted.
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT api_key, private_key FROM campaigns_mailwizzconfig WHERE id = %s", [config.pk])
        raw = cur.fetchone()
    assert "secret" not in raw[0] and "secret" not in raw[1]


@pytest.mark.django_db
def test_it_refuses_settings_that_cannot_work(login, admin_a, tenant_a, mw):
    client = login(admin_a)
    response = client.post(
        f"/mailwizz/tenants/{tenant_a.pk}/",
        form_data(mw, private_key="", base_url="http://169.254.169.254/api"),
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "private_key" in errors and "base_url" in errors
    response = client.post(f"/mailwizz/tenants/{tenant_a.pk}/", form_data(mw, api_key="", mode="mw2"))
    assert "api_key" in response.context["form"].errors
    assert (
        not MailWizzConfig.objects.exists()
        and not AuditEvent.objects.filter(action__startswith="mailwizz").exists()
    )


@pytest.mark.django_db
def test_it_tests_the_connection_and_syncs_now(login, admin_a, tenant_a, mw):
    client = login(admin_a)
    configure(tenant_a, mw)
    response = client.post(f"/mailwizz/tenants/{tenant_a.pk}/test/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Connected; this key sees 1 campaign." in response.content.decode()
    assert "<html" not in response.content.decode()  # the partial only

    mw.api_key = "rotated"
    response = client.post(f"/mailwizz/tenants/{tenant_a.pk}/test/", HTTP_HX_REQUEST="true")
    assert "access refused: HTTP 401: the API key" in response.content.decode()
    mw.api_key = "secret-api-key-123"

    response = client.post(
        f"/mailwizz/tenants/{tenant_a.pk}/sync/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="mw-sync-status"
    )
    html = response.content.decode()
    assert "Synced 1 campaigns" in html and "Spring sale" in html
    assert MailWizzCampaign.objects.filter(tenant=tenant_a, uid="ab111").exists()
    assert AuditEvent.objects.filter(action="mailwizz.sync", actor=admin_a).count() == 1

    mw.mode = "500"
    response = client.post(f"/mailwizz/tenants/{tenant_a.pk}/sync/", follow=True)
    assert "Sync failed: unavailable: HTTP 500" in response.content.decode()
    assert (
        "unavailable: HTTP 500: MailWizz is busy or failing"
        in client.get(f"/mailwizz/tenants/{tenant_a.pk}/").content.decode()
    )

    page = client.get(f"/mailwizz/tenants/{tenant_a.pk}/campaigns/?q=spring")
    assert [c.uid for c in page.context["page"]] == ["ab111"]


@pytest.mark.django_db
def test_it_keeps_viewers_read_only(login, viewer_a, tenant_a, mw):
    configure(tenant_a, mw)
    row = outbox(tenant_a, "gone@a.example", status="failed")
    client = login(viewer_a)
    before = AuditEvent.objects.count()
    page = client.get(f"/mailwizz/tenants/{tenant_a.pk}/")
    html = page.content.decode()
    assert page.status_code == 200 and "Test connection" not in html and "Sync now" not in html
    assert "secret-api-key-123" not in html
    assert client.get(f"/mailwizz/tenants/{tenant_a.pk}/campaigns/").status_code == 200
    assert "Retry" not in client.get("/mailwizz/outbox/").content.decode()
    for url in (
        f"/mailwizz/tenants/{tenant_a.pk}/",
        f"/mailwizz/tenants/{tenant_a.pk}/test/",
        f"/mailwizz/tenants/{tenant_a.pk}/sync/",
        f"/mailwizz/outbox/{row.pk}/retry/",
    ):
        assert client.post(url, form_data(mw, base_url="http://evil.example/api")).status_code == 403, url
    assert AuditEvent.objects.count() == before
    assert MailWizzConfig.objects.get(tenant=tenant_a).base_url == mw.url
    assert mw.requests == []


@pytest.mark.django_db
def test_it_hides_other_tenants(login, admin_a, viewer_a, tenant_b, mw):
    configure(tenant_b, mw)
    row = outbox(tenant_b, "b@b.example", status="failed")
    for user in (admin_a, viewer_a):
        client = login(user)
        assert client.get(f"/mailwizz/tenants/{tenant_b.pk}/").status_code == 404
        assert client.post(f"/mailwizz/tenants/{tenant_b.pk}/sync/").status_code == 404
        assert client.post(f"/mailwizz/outbox/{row.pk}/retry/").status_code == 404
        assert "b@b.example" not in client.get("/mailwizz/outbox/").content.decode()
    assert mw.requests == []


@pytest.mark.django_db
def test_it_shows_operators_every_tenant_and_lets_them_configure_any(login, operator, tenant_a, tenant_b, mw):
    configure(tenant_a, mw)
    outbox(tenant_a, "gone@a.example", status="failed")
    client = login(operator)
    page = client.get("/mailwizz/")
    rows = {r["tenant"].slug: r for r in page.context["rows"]}
    assert rows["tenant-a"]["config"] is not None and rows["tenant-a"]["counts"] == {"failed": 1}
    assert rows["tenant-b"]["config"] is None
    assert client.post(f"/mailwizz/tenants/{tenant_b.pk}/", form_data(mw)).status_code == 302
    assert MailWizzConfig.objects.filter(tenant=tenant_b).exists()
    assert "MailWizz" in [label for label, _ in page.context["nav_items"]]


@pytest.mark.django_db
def test_it_filters_and_pages_the_outbox_with_a_flat_query_count(
    login, admin_a, tenant_a, tenant_b, django_assert_max_num_queries
):
    client = login(admin_a)
    outbox(tenant_a, "first@a.example", status="failed")
    outbox(tenant_b, "b@b.example")
    with django_assert_max_num_queries(12) as few:
        client.get("/mailwizz/outbox/")
    for i in range(60):
        outbox(tenant_a, f"x{i}@a.example", status="sent", kind="complaint", uid="")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/mailwizz/outbox/?page=2")
    assert response.context["page"].paginator.count == 61
    counts = {s: n for s, _, n in response.context["counts"]}
    assert counts == {"pending": 0, "sent": 60, "failed": 1}
    emails = {r.email for r in client.get("/mailwizz/outbox/?status=failed").context["page"]}
    assert emails == {"first@a.example"}
    assert client.get("/mailwizz/outbox/?kind=complaint&q=x1@").context["page"].paginator.count == 1
    partial = client.get(
        "/mailwizz/outbox/?status=failed", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="mw-outbox-results"
    )
    assert "<html" not in partial.content.decode() and "first@a.example" in partial.content.decode()


@pytest.mark.django_db
def test_it_retries_a_failed_entry_from_the_outbox(login, admin_a, tenant_a):
    row = outbox(tenant_a, "gone@a.example", status="failed")
    row.attempts = 8
    row.save()
    client = login(admin_a)
    assert "Retry" in client.get("/mailwizz/outbox/").content.decode()
    assert client.post(f"/mailwizz/outbox/{row.pk}/retry/").status_code == 302
    row.refresh_from_db()
    assert row.status == "pending" and row.next_retry_at is not None and row.attempts == 8
    assert AuditEvent.objects.filter(action="mailwizz.outbox_retry", actor=admin_a).count() == 1
    # Retrying a row that is not failed changes nothing.
    response = client.post(f"/mailwizz/outbox/{row.pk}/retry/", follow=True)
    assert "Only failed entries can be retried." in response.content.decode()
    assert AuditEvent.objects.filter(action="mailwizz.outbox_retry").count() == 1


@pytest.mark.django_db
def test_it_shows_the_nav_entry_to_tenant_admins_not_viewers(login, admin_a, viewer_a):
    labels = [label for label, _ in login(admin_a).get("/mailwizz/outbox/").context["nav_items"]]
    assert "MailWizz" in labels
    labels = [label for label, _ in login(viewer_a).get("/mailwizz/outbox/").context["nav_items"]]
    assert "MailWizz" not in labels
