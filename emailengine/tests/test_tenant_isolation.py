"""Another tenant's object is a 404 on every URL that takes an object id, for every tenant role."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from emailengine.tests.isolation_registry import OBJECT_FACTORIES

# The JSON API has its own crawl (test_api_isolation.py): it authenticates by token, not by session.
SKIP_PREFIXES = ("admin/", "api/")


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


def object_url_patterns() -> list[tuple[str, URLPattern]]:
    found = []
    for route, pattern in _walk(get_resolver().url_patterns):
        if route.startswith(SKIP_PREFIXES):
            continue
        if pattern.pattern.converters:
            found.append((route, pattern))
    return found


def _url(route: str, kwargs: dict[str, int]) -> str:
    url = route
    for name, value in kwargs.items():
        for conv in ("int", "str", "slug"):
            url = url.replace(f"<{conv}:{name}>", str(value))
    return "/" + url


def test_it_has_a_factory_for_every_object_kwarg():
    missing = {
        name
        for _, pattern in object_url_patterns()
        for name in pattern.pattern.converters
        if name not in OBJECT_FACTORIES
    }
    assert not missing, f"add these URL kwargs to isolation_registry.OBJECT_FACTORIES: {sorted(missing)}"


@pytest.mark.django_db
@pytest.mark.parametrize("route", [r for r, _ in object_url_patterns()])
def test_it_answers_404_for_another_tenants_object(route, client, admin_a, viewer_a, tenant_b, operator):
    pattern = dict(object_url_patterns())[route]
    kwargs = {name: OBJECT_FACTORIES[name](tenant_b) for name in pattern.pattern.converters}
    url = _url(route, kwargs)
    for user in (admin_a, viewer_a):
        client.force_login(user)
        statuses = {method: getattr(client, method)(url).status_code for method in ("get", "post")}
        assert set(statuses.values()) <= {404, 405}, f"{user.username} {url}: {statuses}"
        assert 404 in statuses.values(), f"{user.username} {url}: {statuses}"
    # The same URL exists for an operator: the 404 above comes from the scope, not from a wrong URL.
    client.force_login(operator)
    statuses = {method: getattr(client, method)(url).status_code for method in ("get", "post")}
    assert any(code not in (404, 405) for code in statuses.values()), f"operator {url}: {statuses}"
