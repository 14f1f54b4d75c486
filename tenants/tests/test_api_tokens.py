"""Personal API tokens: shown once, stored hashed, expiring, revocable, dead with their user, attributable."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import AuditEvent
from tenants.models import ApiToken, hash_token
from tenants.services import TokenError, api_token_create, api_token_revoke
from testsupport.api import ApiClient


@pytest.mark.django_db
def test_it_stores_only_the_hash_and_a_hint(admin_a):
    token, raw = api_token_create(user=admin_a, name="ci", by=admin_a)
    token.refresh_from_db()
    assert raw.startswith("ee_api_") and len(raw) > 40
    assert token.token_hash == hash_token(raw) and raw not in token.hint
    assert not ApiToken.objects.filter(token_hash=raw).exists()


@pytest.mark.django_db
def test_it_authenticates_as_the_tokens_user(admin_a):
    _, raw = api_token_create(user=admin_a, name="ci", by=admin_a)
    body = ApiClient(raw).get("me").json()
    assert body["username"] == "admin-a" and body["role"] == "admin" and body["tenant"]["slug"] == "tenant-a"
    assert body["token"]["name"] == "ci"


@pytest.mark.django_db
def test_it_records_the_last_use_at_most_once_a_minute(admin_a):
    token, raw = api_token_create(user=admin_a, name="ci", by=admin_a)
    assert token.last_used_at is None
    ApiClient(raw).get("me")
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    ApiClient(raw).get("me")
    token.refresh_from_db()
    assert token.last_used_at == first


@pytest.mark.django_db
def test_it_refuses_expired_revoked_and_deactivated(admin_a, viewer_a, operator):
    soon = timezone.now() + timedelta(days=1)
    expiring, raw_expiring = api_token_create(user=admin_a, name="expiring", by=admin_a, expires_at=soon)
    revoked, raw_revoked = api_token_create(user=admin_a, name="revoked", by=admin_a)
    _, raw_viewer = api_token_create(user=viewer_a, name="viewer", by=viewer_a)
    for raw in (raw_expiring, raw_revoked, raw_viewer):
        assert ApiClient(raw).get("me").status_code == 200

    ApiToken.objects.filter(pk=expiring.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    api_token_revoke(token=revoked, by=admin_a)
    viewer_a.is_active = False
    viewer_a.save(update_fields=["is_active"])

    for raw in (raw_expiring, raw_revoked, raw_viewer):
        response = ApiClient(raw).get("me")
        assert response.status_code == 401
        assert response["Content-Type"] == "application/problem+json"


@pytest.mark.django_db
def test_it_refuses_a_duplicate_label_and_a_past_expiry(admin_a):
    api_token_create(user=admin_a, name="ci", by=admin_a)
    with pytest.raises(TokenError, match="already"):
        api_token_create(user=admin_a, name="ci", by=admin_a)
    with pytest.raises(TokenError, match="future"):
        api_token_create(user=admin_a, name="old", by=admin_a, expires_at=timezone.now() - timedelta(hours=1))


@pytest.mark.django_db
def test_it_attributes_api_changes_to_the_user_via_the_token(operator, admin_a):
    from ips.tests.factories import IPAddressFactory, IPPoolFactory

    ip = IPAddressFactory(pool=IPPoolFactory(tenant=admin_a.membership.tenant))
    _, raw = api_token_create(user=operator, name="on-call script", by=operator)
    response = ApiClient(raw).post(f"ips/{ip.address}/pause", {"reason": "spam trap hits"})
    assert response.status_code == 200, response.content
    event = AuditEvent.objects.get(action="ip.status", object_id=str(ip.pk))
    assert event.actor == operator and event.actor_label == "op"
    assert event.via == "api token: on-call script"
    assert event.reason == "spam trap hits" and event.ip_address == "127.0.0.1"


@pytest.mark.django_db
def test_it_does_not_carry_the_token_into_browser_requests(operator, client):
    _, raw = api_token_create(user=operator, name="script", by=operator)
    ApiClient(raw).get("me")
    from ips.tests.factories import MtaServerFactory

    server = MtaServerFactory()
    client.force_login(operator)
    client.post(f"/servers/{server.pk}/rotate-token/")
    event = AuditEvent.objects.get(action="server.rotate_token")
    assert event.via == ""
