"""Finding: a signed-in user with no tenant and no staff flag got 500s on several pages. Every dashboard
page now shows them one clear page (403) saying the account has no tenant yet; signing out still works."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db


def _routes(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def dashboard_pages() -> list[str]:
    """Every page without URL parameters, outside the admin, the API and the machine endpoints."""
    skip = ("admin/", "api/", "hooks/", "healthz", "readyz", "metrics", "accounts/")
    return sorted(
        {"/" + r for r in _routes(get_resolver().url_patterns) if "<" not in r and not r.startswith(skip)}
    )


@pytest.fixture
def orphan(client):
    user = get_user_model().objects.create_user(username="orphan", password="pw-orphan-2026")
    client.force_login(user)
    client.raise_request_exception = False
    return client


def test_every_page_says_the_account_has_no_tenant(orphan):
    pages = dashboard_pages()
    assert "/" in pages and "/suppression/" in pages and "/bounces/" in pages
    for url in pages:
        response = orphan.get(url)
        assert response.status_code == 403, (url, response.status_code)
        assert "Your account has no tenant yet" in response.content.decode(), url


def test_the_user_can_still_sign_out_and_machines_are_unaffected(orphan):
    assert orphan.get("/healthz").status_code == 200
    response = orphan.post("/accounts/logout/")
    assert response.status_code == 302
    assert orphan.get("/").status_code == 302  # signed out: to the login page


def test_members_and_operators_are_unaffected(login, admin_a, operator):
    assert login(admin_a).get("/").status_code == 200
    assert login(operator).get("/").status_code == 200
