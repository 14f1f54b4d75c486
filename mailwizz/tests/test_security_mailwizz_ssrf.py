"""Finding (SSRF, high): a tenant admin could point the MailWizz API URL at internal addresses (only the
literal 169.254.169.254 and 0.0.0.0 were refused), and "Test connection" made the server send the tenant's
key there and echo the answer. Now the URL goes through the guarded client (core/outbound.py): refused when
saved if it is a literal internal address in any spelling, refused again at connect time (so a stored or
re-pointed URL gets nowhere), no redirects, and the page shows our words, never the remote answer."""

import json

import pytest

from mailwizz.models import MailWizzConfig
from testsupport.canned_http import CannedReply, canned_http
from testsupport.mailwizz_standin import MailWizzStandin


@pytest.fixture(autouse=True)
def short_timeout(settings):
    settings.MAILWIZZ_TIMEOUT = 1.0


def form_data(base_url: str) -> dict:
    return {
        "enabled": "on",
        "base_url": base_url,
        "mode": "mw2",
        "api_key": "tenant-api-key",
        "private_key": "",
        "header_prefix": "X-Mw-",
        "campaign_key_prefix": "mailwizz-",
    }


def stored_config(tenant, base_url: str) -> MailWizzConfig:
    """A URL already in the database (saved before this check existed, or written by the admin)."""
    return MailWizzConfig.objects.create(
        tenant=tenant, base_url=base_url, mode="mw2", api_key="tenant-api-key"
    )


def connection_test(client, tenant) -> str:
    response = client.post(f"/mailwizz/tenants/{tenant.pk}/test/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "http://2852039166/api",
        "http://0xa9fea9fe/api",
        "http://[::ffff:169.254.169.254]/api",
        "http://127.0.0.1:6379/",
        "http://localhost:8000/api",
        "http://10.1.2.3/api",
        "http://192.168.0.10/api",
    ],
)
def test_a_tenant_admin_cannot_save_an_internal_address(login, admin_a, tenant_a, url):
    response = login(admin_a).post(f"/mailwizz/tenants/{tenant_a.pk}/", form_data(url))
    assert response.status_code == 400
    assert "base_url" in response.context["form"].errors
    assert not MailWizzConfig.objects.exists()


@pytest.mark.django_db
def test_a_stored_internal_url_is_refused_when_connecting_and_the_key_never_leaves(login, admin_a, tenant_a):
    with MailWizzStandin(api_key="tenant-api-key") as internal:
        stored_config(tenant_a, internal.url)
        html = connection_test(login(admin_a), tenant_a)
        assert "Failed" in html and "loopback" in html
        assert internal.requests == []


@pytest.mark.django_db
def test_the_operator_allow_list_lets_a_private_mailwizz_through(login, admin_a, tenant_a, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    with MailWizzStandin(api_key="tenant-api-key") as lan:
        response = login(admin_a).post(f"/mailwizz/tenants/{tenant_a.pk}/", form_data(lan.url))
        assert response.status_code == 302
        assert "Connected" in connection_test(login(admin_a), tenant_a)


@pytest.mark.django_db
def test_the_page_never_shows_what_the_remote_end_answered(login, admin_a, tenant_a, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    banner = {"status": "error", "error": "redis_version:7.2.4 SECRET-INTERNAL-BANNER"}
    with canned_http(CannedReply(status=400, body=json.dumps(banner).encode())) as server:
        stored_config(tenant_a, server.url + "/api")
        html = connection_test(login(admin_a), tenant_a)
    assert "Failed" in html and "HTTP 400" in html
    assert "SECRET-INTERNAL-BANNER" not in html and "redis_version" not in html


@pytest.mark.django_db
def test_a_redirect_is_not_followed_nor_shown(login, admin_a, tenant_a, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    target = "http://169.254.169.254/latest/meta-data/"
    with canned_http(CannedReply(status=301, headers={"Location": target})) as server:
        MailWizzConfig.objects.all().delete()
        stored_config(tenant_a, server.url + "/api")
        html = connection_test(login(admin_a), tenant_a)
        assert len(server.requests) == 1
    assert "redirect" in html and "169.254" not in html
