import pytest
from django.contrib.auth import get_user_model


@pytest.mark.django_db
def test_it_redirects_anonymous_users_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_it_logs_in_with_the_right_password(client, tenant_a):
    from tenants.models import Membership

    alice = get_user_model().objects.create_user(username="alice", password="right-password-1")
    # A member of a tenant (a user without one gets the no-tenant page: test_security_no_tenant).
    Membership.objects.create(user=alice, tenant=tenant_a, role=Membership.Role.VIEWER)
    response = client.post("/accounts/login/", {"username": "alice", "password": "right-password-1"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_it_locks_an_account_out_after_repeated_failures(client, settings):
    get_user_model().objects.create_user(username="bob", password="right-password-1")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "bob", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "bob", "password": "right-password-1"})
    assert response.status_code == 429
    assert b"Too many failed logins" in response.content
    assert client.get("/").status_code == 302
