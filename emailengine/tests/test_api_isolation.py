"""Another tenant's object is a 404 on every API route that takes an object, for every tenant role.

The JSON API's counterpart of test_tenant_isolation.py: it walks the OpenAPI schema, so a new route with a
path parameter is crawled as soon as it exists (and fails until the parameter has a factory).
"""

import pytest

from emailengine.tests.api_routes import call, operations
from emailengine.tests.isolation_registry import OBJECT_FACTORIES
from testsupport.api import api_as

OBJECT_OPERATIONS = [op for op in operations() if op.params]


def test_it_has_a_factory_for_every_path_parameter():
    missing = {name for op in OBJECT_OPERATIONS for name in op.params if name not in OBJECT_FACTORIES}
    assert not missing, f"add these API path parameters to isolation_registry.OBJECT_FACTORIES: {missing}"


@pytest.mark.django_db
@pytest.mark.parametrize("op", OBJECT_OPERATIONS, ids=str)
def test_it_answers_404_for_another_tenants_object(op, admin_a, viewer_a, tenant_b, operator):
    url = op.url({name: OBJECT_FACTORIES[name](tenant_b) for name in op.params})
    for user in (admin_a, viewer_a):
        response = call(api_as(user), op, url)
        assert response.status_code == 404, f"{user.username} {op.method.upper()} {url}: {response.content!r}"
        assert response["Content-Type"] == "application/problem+json"
    # The same URL exists for an operator: the 404 above comes from the scope, not from a wrong URL.
    response = call(api_as(operator), op, url)
    assert response.status_code != 404, f"operator {op.method.upper()} {url}: {response.content!r}"


@pytest.mark.django_db
@pytest.mark.parametrize("op", operations(), ids=str)
def test_it_answers_401_without_a_valid_token(op, tenant_a):
    from testsupport.api import ApiClient

    values = {name: OBJECT_FACTORIES[name](tenant_a) for name in op.params}
    for client in (ApiClient(None), ApiClient("ee_api_not-a-real-token")):
        response = call(client, op, op.url(values))
        assert response.status_code == 401, f"{op}: {response.status_code}"
        assert response["WWW-Authenticate"].startswith("Bearer")
