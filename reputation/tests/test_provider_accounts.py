"""Provider credentials on the dashboard (issue 16): Google Postmaster Tools v2 OAuth and Microsoft SNDS keys.

Operators manage any account, a tenant admin their own tenant's, a viewer reads; secrets are encrypted at
rest, never shown back, never in the audit log; every change is audited; bad input is a clear error; "test
connection" goes through core.outbound to strict stand-ins.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from core.models import AuditEvent
from domains.models import SendingDomain
from reputation.models import ProviderAccount
from tenants.models import Membership

pytestmark = pytest.mark.django_db
NEW = "/reputation/providers/accounts/new/"
TODAY = datetime.now(UTC).date()


def url(account, suffix=""):
    return f"/reputation/providers/accounts/{account.pk}/{suffix}"


def google_form(standin, **extra):
    return {
        "kind": "postmaster",
        "label": "A's Google",
        "client_id": standin.client_id,
        "client_secret": standin.client_secret,
        "refresh_token": standin.refresh_token,
        "enabled": "on",
        **extra,
    }


def raw_secrets(account):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT client_secret, refresh_token, snds_key FROM reputation_provideraccount WHERE id = %s",
            [account.pk],
        )
        return cursor.fetchone()


def test_an_operator_adds_a_tenants_google_account_encrypted_audited_never_shown(
    login, operator, tenant_a, standin
):
    client = login(operator)
    response = client.post(NEW, google_form(standin, tenant=tenant_a.pk))
    account = ProviderAccount.objects.get()
    assert response.status_code == 302 and response["Location"] == url(account)
    assert (account.tenant, account.client_secret, account.refresh_token) == (
        tenant_a,
        "secret-1",
        "refresh-1",
    )
    stored = " ".join(raw_secrets(account))
    assert "secret-1" not in stored and "refresh-1" not in stored
    page = client.get(url(account)).content.decode()
    assert "secret-1" not in page and "refresh-1" not in page and "set (leave empty to keep)" in page
    event = AuditEvent.objects.get(action="provider_account.create")
    assert event.after["client_secret_set"] is True and event.after["tenant_id"] == tenant_a.pk
    assert sorted(event.after["secrets_replaced"]) == ["client_secret", "refresh_token"]
    assert "secret-1" not in str(event.after) and "refresh-1" not in str(event.after)
    assert event.tenant_id == tenant_a.pk


def test_an_empty_secret_keeps_the_stored_one_and_a_new_one_is_audited_by_name(login, operator, standin):
    client = login(operator)
    client.post(NEW, google_form(standin))
    account = ProviderAccount.objects.get()
    assert account.tenant is None  # the operator's own account
    client.post(url(account), google_form(standin, client_secret="", refresh_token="", label="Ops Google"))
    account.refresh_from_db()
    assert (account.label, account.client_secret, account.refresh_token) == (
        "Ops Google",
        "secret-1",
        "refresh-1",
    )
    client.post(url(account), google_form(standin, client_secret="", refresh_token="refresh-2"))
    account.refresh_from_db()
    assert account.refresh_token == "refresh-2"
    last = AuditEvent.objects.filter(action="provider_account.update").order_by("-id").first()
    assert last.after["secrets_replaced"] == ["refresh_token"] and "refresh-2" not in str(last.after)


def test_a_tenant_admin_manages_only_their_own_tenants_accounts(login, admin_a, tenant_b, operator):
    client = login(admin_a)
    # The tenant field is not theirs to choose: a forged one is ignored.
    response = client.post(
        NEW, {"kind": "snds", "label": "A SNDS", "snds_key": "abcd-1234-efgh", "tenant": tenant_b.pk}
    )
    assert response.status_code == 302
    mine = ProviderAccount.objects.get(label="A SNDS")
    assert mine.tenant == Membership.objects.get(user=admin_a).tenant
    operators = ProviderAccount.objects.create(kind="snds", label="ops", snds_key="ops-key-123")
    theirs = ProviderAccount.objects.create(kind="snds", label="B", tenant=tenant_b, snds_key="b-key-1234")
    for other in (operators, theirs):
        assert client.get(url(other)).status_code == 404
        assert client.post(url(other, "test/")).status_code == 404
        assert client.post(url(other, "delete/")).status_code == 404
    page = client.get("/reputation/providers/").content.decode()
    assert "A SNDS" in page and ">ops<" not in page and ">B<" not in page


def test_a_viewer_reads_but_cannot_change_test_or_add(login, viewer_a, tenant_a):
    account = ProviderAccount.objects.create(
        kind="snds", label="A SNDS", tenant=tenant_a, snds_key="abcd-1234"
    )
    client = login(viewer_a)
    page = client.get(url(account))
    assert page.status_code == 200
    text = page.content.decode()
    assert "A SNDS" in text and "abcd-1234" not in text
    assert f'action="{url(account)}"' not in text and "Test connection" not in text
    assert client.post(url(account), {"kind": "snds", "label": "x"}).status_code == 403
    assert client.post(url(account, "test/")).status_code == 403
    assert client.post(url(account, "delete/")).status_code == 403
    assert client.post(NEW, {"kind": "snds", "label": "x", "snds_key": "abcd-1234"}).status_code == 403
    assert ProviderAccount.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {
                "kind": "postmaster",
                "label": "g",
                "client_id": "123",
                "client_secret": "s",
                "refresh_token": "r",
            },
            "client_id",
            "ends with .apps.googleusercontent.com",
        ),
        (
            {
                "kind": "postmaster",
                "label": "g",
                "client_id": "1-a.apps.googleusercontent.com",
                "client_secret": "s",
            },
            "refresh_token",
            "needs the refresh token",
        ),
        (
            {
                "kind": "postmaster",
                "label": "g",
                "client_id": "1-a.apps.googleusercontent.com",
                "client_secret": "s",
                "refresh_token": "two words",
            },
            "refresh_token",
            "without spaces",
        ),
        ({"kind": "snds", "label": "s", "snds_key": "k?=1&x"}, "snds_key", "letters, digits and dashes"),
        ({"kind": "snds", "label": "s"}, "snds_key", "needs the SNDS key"),
    ],
)
def test_bad_credentials_are_refused_with_a_clear_error(login, operator, data, field, message):
    response = login(operator).post(NEW, data)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert not ProviderAccount.objects.exists() and not AuditEvent.objects.exists()


def test_the_kind_of_an_account_never_changes(login, operator):
    account = ProviderAccount.objects.create(kind="snds", label="s", snds_key="abcd-1234")
    login(operator).post(url(account), {"kind": "postmaster", "label": "s2", "enabled": "on"})
    account.refresh_from_db()
    assert (account.kind, account.label) == ("snds", "s2")


def test_test_connection_google_through_the_guarded_client(login, operator, tenant_a, standin):
    SendingDomain.objects.create(tenant=tenant_a, name="a-sender.example", return_path_domain="rp.example")
    standin.compliance["a-sender.example"] = {"USER_REPORTED_SPAM_RATE": "COMPLIANT"}
    account = ProviderAccount.objects.create(
        kind="postmaster",
        tenant=tenant_a,
        label="g",
        client_id=standin.client_id,
        client_secret=standin.client_secret,
        refresh_token=standin.refresh_token,
    )
    client = login(operator)
    response = client.post(url(account, "test/"), HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert "OK" in text and "answered for a-sender.example" in text and "<html" not in text
    assert ("POST", "/token") in standin.requests
    assert ("GET", "/v2/domains/a-sender.example/complianceStatus") in standin.requests
    event = AuditEvent.objects.get(action="provider_account.test")
    assert event.after["ok"] is True
    # A revoked refresh token: Google's own error, shown; nothing stored changes.
    account.refresh_token = "revoked"
    account.save()
    text = client.post(url(account, "test/"), HTTP_HX_REQUEST="true").content.decode()
    assert "Failed" in text and "invalid_grant" in text
    account.refresh_from_db()
    assert account.last_import_at is None and account.last_error == ""


def test_test_connection_reports_a_domain_google_has_not_registered(login, operator, tenant_a, standin):
    SendingDomain.objects.create(tenant=tenant_a, name="unknown.example", return_path_domain="rp.example")
    account = ProviderAccount.objects.create(
        kind="postmaster",
        tenant=tenant_a,
        label="g",
        client_id=standin.client_id,
        client_secret=standin.client_secret,
        refresh_token=standin.refresh_token,
    )
    text = login(operator).post(url(account, "test/"), HTTP_HX_REQUEST="true").content.decode()
    assert "Failed" in text and "PERMISSION_DENIED" in text and "Register the domain" in text


def test_test_connection_snds_and_its_refusals(login, operator, standin, settings):
    standin.snds_keys["good-key-1"] = (
        "192.0.2.10,11/18/2026 5:00 PM,11/19/2026 4:00 PM,1200,1100,1150,GREEN,< 0.1%,,,0,mta1.example,"
        "bounce@a.example,\r\n"
    )
    account = ProviderAccount.objects.create(kind="snds", label="s", snds_key="good-key-1")
    client = login(operator)
    response = client.post(url(account, "test/"))
    assert response.status_code == 302
    text = client.get(url(account)).content.decode()
    assert "SNDS accepted the key: 1 rows for 1 IPs" in text
    account.snds_key = "wrong-key-1"
    account.save()
    text = client.post(url(account, "test/"), HTTP_HX_REQUEST="true").content.decode()
    assert "Failed" in text and "HTTP 401" in text
    # The test goes through core.outbound: without the stand-in's network allowed, it is refused there.
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    account.snds_key = "good-key-1"
    account.save()
    text = client.post(url(account, "test/"), HTTP_HX_REQUEST="true").content.decode()
    assert "Failed" in text
    assert ("GET", "/snds/data.aspx") in standin.requests
    assert standin.requests.count(("GET", "/snds/data.aspx")) == 2


def test_removing_an_account_is_audited_and_keeps_its_data(login, operator, tenant_a):
    account = ProviderAccount.objects.create(kind="snds", label="s", tenant=tenant_a, snds_key="abcd-1234")
    response = login(operator).post(url(account, "delete/"))
    assert response.status_code == 302 and not ProviderAccount.objects.exists()
    event = AuditEvent.objects.get(action="provider_account.delete")
    assert (
        event.before["label"] == "s"
        and event.before["snds_key_set"] is True
        and "abcd" not in str(event.before)
    )


def test_the_provider_page_links_accounts_and_offers_add_only_to_managers(
    login, operator, viewer_a, tenant_a
):
    ProviderAccount.objects.create(kind="snds", label="A SNDS", tenant=tenant_a, snds_key="abcd-1234")
    assert NEW in login(operator).get("/reputation/providers/").content.decode()
    page = login(viewer_a).get("/reputation/providers/").content.decode()
    assert "A SNDS" in page and NEW not in page


def test_the_day_window_is_relative_to_today():
    from reputation.provider_charts import day_axis

    days = day_axis(until=TODAY, days=3)
    assert days == [TODAY - timedelta(days=2), TODAY - timedelta(days=1), TODAY]


def test_the_admin_saves_and_deletes_through_the_same_audited_service(admin_client):
    response = admin_client.post(
        "/admin/reputation/provideraccount/add/",
        {"kind": "snds", "label": "via admin", "snds_key": "abcd-1234-admin", "enabled": "on"},
    )
    assert response.status_code == 302
    account = ProviderAccount.objects.get(label="via admin")
    event = AuditEvent.objects.get(action="provider_account.create")
    assert event.after["snds_key_set"] is True and "abcd-1234-admin" not in str(event.after)
    missing = admin_client.post(
        "/admin/reputation/provideraccount/add/", {"kind": "postmaster", "label": "g"}
    )
    assert missing.status_code == 200 and "Needed: the refresh token." in missing.content.decode()
    admin_client.post(
        "/admin/reputation/provideraccount/",
        {"action": "delete_selected", "_selected_action": [account.pk], "post": "yes"},
    )
    assert not ProviderAccount.objects.exists()
    assert AuditEvent.objects.filter(action="provider_account.delete").count() == 1
