"""Tenants and members through the API: operators manage them; a tenant's users read their own tenant."""

import pytest

from core.models import AuditEvent
from tenants.models import Membership, Tenant
from testsupport.api import api_as

pytestmark = pytest.mark.django_db


def test_an_operator_creates_a_tenant_and_manages_its_members(operator):
    api = api_as(operator, "admin-script")
    created = api.post("tenants", {"name": "Acme Mail", "slug": "acme-mail"})
    assert created.status_code == 201, created.content
    tenant = created.json()
    assert (tenant["slug"], tenant["member_count"], tenant["is_active"]) == ("acme-mail", 0, True)
    assert api.post("tenants", {"name": "Acme Mail", "slug": "acme-2"}).status_code == 422

    added = api.post(
        f"tenants/{tenant['id']}/members",
        {
            "username": "ana",
            "email": "ana@acme.example",
            "password": "a-long-pass-phrase-9",
            "role": "viewer",
        },
    )
    assert added.status_code == 201, added.content
    member = added.json()
    assert (member["username"], member["role"], member["tenant"]) == ("ana", "viewer", "acme-mail")
    weak = api.post(
        f"tenants/{tenant['id']}/members", {"username": "bob", "password": "short", "role": "viewer"}
    )
    assert weak.status_code == 422 and weak.json()["errors"][0]["field"] == "password"

    assert api.patch(f"members/{member['id']}", {"role": "admin"}).json()["role"] == "admin"
    listed = api.get(f"tenants/{tenant['id']}/members").json()
    assert [(m["username"], m["role"]) for m in listed["items"]] == [("ana", "admin")]

    assert api.delete(f"members/{member['id']}").status_code == 204
    assert not Membership.objects.filter(pk=member["id"]).exists()
    assert api.patch(f"tenants/{tenant['id']}", {"is_active": False}).json()["is_active"] is False

    actions = list(
        AuditEvent.objects.exclude(action__startswith="api_token").order_by("pk").values_list("action", "via")
    )
    via = f"api token: {api.token_name}"
    assert actions == [
        ("tenant.create", via),
        ("member.add", via),
        ("member.role", via),
        ("member.remove", via),
        ("tenant.update", via),
    ]


def test_a_tenant_admin_reads_their_own_tenant_only(admin_a, viewer_a, tenant_a, admin_b, tenant_b):
    api = api_as(admin_a)
    assert api.get(f"tenants/{tenant_a.pk}").json()["member_count"] == 2
    members = api.get(f"tenants/{tenant_a.pk}/members").json()["items"]
    assert {m["username"] for m in members} == {"admin-a", "viewer-a"}
    assert api.get(f"tenants/{tenant_b.pk}").status_code == 404
    assert api.get(f"tenants/{tenant_b.pk}/members").status_code == 404
    assert api.get("tenants").status_code == 404


def test_tenant_users_change_nothing(admin_a, viewer_a, tenant_a):
    member = Membership.objects.get(user=viewer_a)
    for user in (admin_a, viewer_a):
        api = api_as(user)
        assert api.patch(f"tenants/{tenant_a.pk}", {"is_active": False}).status_code == 403
        body = {"username": "eve", "password": "a-long-pass-phrase-9", "role": "admin"}
        assert api.post(f"tenants/{tenant_a.pk}/members", body).status_code == 403
        assert api.patch(f"members/{member.pk}", {"role": "admin"}).status_code == 404
        assert api.delete(f"members/{member.pk}").status_code == 404
    assert Tenant.objects.get(pk=tenant_a.pk).is_active
    assert Membership.objects.get(pk=member.pk).role == "viewer"
