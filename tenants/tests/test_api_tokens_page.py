"""The API tokens page and create_api_token: a user creates and revokes their own tokens only."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from core.models import AuditEvent
from tenants.models import ApiToken, hash_token
from testsupport.api import ApiClient


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["operator", "admin_a", "viewer_a"])
def test_it_lets_every_user_create_a_token_shown_once(persona, request, client):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    response = client.post("/account/api-tokens/", {"name": "my script", "expires_in_days": "30"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(user=user)
    raw = response.context["raw"]
    assert token.token_hash == hash_token(raw) and token.expires_at is not None
    assert ApiClient(raw).get("me").json()["username"] == user.username
    page = client.get("/account/api-tokens/").content.decode()
    assert "my script" in page and raw not in page and token.hint in page


@pytest.mark.django_db
def test_it_refuses_a_duplicate_label_with_the_form_error(client, admin_a):
    client.force_login(admin_a)
    client.post("/account/api-tokens/", {"name": "ci"})
    response = client.post("/account/api-tokens/", {"name": "ci"})
    assert response.status_code == 400 and "already have a token" in response.content.decode()
    assert ApiToken.objects.filter(user=admin_a).count() == 1


@pytest.mark.django_db
def test_it_revokes_own_tokens_and_404s_anyone_elses(client, admin_a, admin_b):
    client.force_login(admin_a)
    client.post("/account/api-tokens/", {"name": "mine"})
    mine = ApiToken.objects.get(user=admin_a)
    client.force_login(admin_b)
    assert client.post(f"/account/api-tokens/{mine.pk}/revoke/").status_code == 404
    client.force_login(admin_a)
    assert client.post(f"/account/api-tokens/{mine.pk}/revoke/").status_code == 302
    mine.refresh_from_db()
    assert mine.revoked_at is not None and mine.state == "revoked"
    assert AuditEvent.objects.filter(action="api_token.revoke", actor=admin_a).count() == 1


@pytest.mark.django_db
def test_the_command_prints_a_token_once_as_json(admin_a):
    out = StringIO()
    call_command("create_api_token", "admin-a", "--name", "deploy", "--json", stdout=out)
    body = json.loads(out.getvalue())
    assert body["user"] == "admin-a" and body["name"] == "deploy"
    assert ApiToken.objects.get(user=admin_a).token_hash == hash_token(body["token"])
    assert ApiClient(body["token"]).get("me").status_code == 200
    event = AuditEvent.objects.get(action="api_token.create")
    assert event.actor_label == "system: cli" and event.tenant_id == admin_a.membership.tenant_id


@pytest.mark.django_db
def test_the_command_fails_clearly(admin_a):
    with pytest.raises(CommandError, match="no user"):
        call_command("create_api_token", "nobody")
    call_command("create_api_token", "admin-a", "--name", "x", stdout=StringIO())
    with pytest.raises(CommandError, match="already"):
        call_command("create_api_token", "admin-a", "--name", "x")
    admin_a.is_active = False
    admin_a.save()
    with pytest.raises(CommandError, match="deactivated"):
        call_command("create_api_token", "admin-a", "--name", "y")


@pytest.mark.django_db
def test_an_operator_may_revoke_anyones_token(client, admin_a, operator):
    from tenants.services import api_token_create

    token, raw = api_token_create(user=admin_a, name="leaked", by=admin_a)
    client.force_login(operator)
    assert client.post(f"/account/api-tokens/{token.pk}/revoke/").status_code == 302
    assert ApiClient(raw).get("me").status_code == 401
    event = AuditEvent.objects.get(action="api_token.revoke")
    assert event.actor == operator and event.tenant_id == admin_a.membership.tenant_id
