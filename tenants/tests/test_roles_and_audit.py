import pytest

from core.models import AuditEvent
from tenants.models import Membership


@pytest.mark.django_db
def test_it_lets_an_operator_create_a_tenant_and_audits_it(login, operator):
    client = login(operator)
    response = client.post("/tenants/new/", {"name": "Acme Mail", "slug": "acme"})
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="tenant.create")
    assert event.actor == operator
    assert event.after == {"name": "Acme Mail", "slug": "acme"}
    assert event.ip_address == "127.0.0.1"


@pytest.mark.django_db
def test_it_hides_operator_pages_from_tenant_users(login, admin_a, viewer_a):
    for user in (admin_a, viewer_a):
        client = login(user)
        assert client.get("/tenants/").status_code == 404
        assert client.post("/tenants/new/", {"name": "X", "slug": "x"}).status_code == 404
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db
def test_it_lets_tenant_users_read_their_own_tenant_but_not_change_it(login, admin_a, viewer_a, tenant_a):
    for user in (admin_a, viewer_a):
        client = login(user)
        assert client.get(f"/tenants/{tenant_a.pk}/").status_code == 200
        response = client.post(
            f"/tenants/{tenant_a.pk}/members/add/",
            {"username": "sneaky", "password": "a-long-password-1", "role": "admin"},
        )
        assert response.status_code == 403
    assert not Membership.objects.filter(user__username="sneaky").exists()
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db
def test_it_writes_one_audit_event_per_member_mutation(login, operator, tenant_a):
    client = login(operator)
    client.post(
        f"/tenants/{tenant_a.pk}/members/add/",
        {"username": "newbie", "email": "n@example.com", "password": "a-long-password-1", "role": "viewer"},
    )
    membership = Membership.objects.get(user__username="newbie")
    client.post(f"/members/{membership.pk}/role/", {"role": "admin"})
    client.post(f"/members/{membership.pk}/remove/")
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["member.add", "member.role", "member.remove"]
    role_event = AuditEvent.objects.get(action="member.role")
    assert role_event.before == {"role": "viewer"} and role_event.after == {"role": "admin"}
    assert role_event.tenant_id == tenant_a.pk


@pytest.mark.django_db
def test_it_shows_tenant_admins_only_their_tenants_audit_events(
    login, operator, admin_a, viewer_a, tenant_a, tenant_b
):
    from core.audit import audit_record

    audit_record(action="test.a", by=operator, obj=tenant_a)
    audit_record(action="test.b", by=operator, obj=tenant_b)
    body = login(admin_a).get("/audit/").content.decode()
    assert "test.a" in body and "test.b" not in body
    assert login(viewer_a).get("/audit/").status_code == 404
    body = login(operator).get("/audit/?action=test.b").content.decode()
    assert "test.b" in body and "test.a" not in body


@pytest.mark.django_db
def test_it_returns_only_the_results_partial_to_htmx(login, operator, tenant_a):
    from core.audit import audit_record

    audit_record(action="test.a", by=operator, obj=tenant_a)
    response = login(operator).get("/audit/", headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "test.a" in body
    assert "<html" not in body


@pytest.mark.django_db
def test_it_audits_the_real_client_address_behind_the_proxy(login, operator, settings):
    settings.BEHIND_PROXY = True
    login(operator).post(
        "/tenants/new/", {"name": "Proxied", "slug": "proxied"}, headers={"X-Real-IP": "192.0.2.7"}
    )
    assert AuditEvent.objects.get(action="tenant.create").ip_address == "192.0.2.7"


@pytest.mark.django_db
def test_it_ignores_a_client_supplied_real_ip_without_a_proxy(login, operator, settings):
    settings.BEHIND_PROXY = False
    login(operator).post(
        "/tenants/new/", {"name": "Direct", "slug": "direct"}, headers={"X-Real-IP": "192.0.2.7"}
    )
    assert AuditEvent.objects.get(action="tenant.create").ip_address == "127.0.0.1"
