"""Every API list runs the same number of SQL queries with few rows and with many (no N+1).

Same data sizes as test_list_query_counts.py (the seed_scale builder); each list asks for a page large
enough to hold every row, so the comparison is about rows serialised, not pagination.
"""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from emailengine.scale import PREFIX, scale_build, scale_wipe
from emailengine.tests.test_list_query_counts import FEW, MANY
from tenants.models import Membership
from testsupport.api import api_as

TENANT_LISTS: dict[str, dict[str, str]] = {
    "pools": {},
    "ips": {},
    "domains": {},
    "audit": {},
    "listings": {"state": "all"},
    "warmup/assignments": {"status": "all"},
    "warmup/decisions": {},
    "campaigns": {},
    "suppressions": {},
    "validation/jobs": {},
    "suppressions/imports": {},
    "mailwizz/outbox": {},
    "stats/daily?by=ip": {"by": "ip"},
    "stats/daily?by=provider": {"by": "provider"},
}
OPERATOR_LISTS = {
    **TENANT_LISTS,
    "servers": {},
    "blocklists": {},
    "sweeps": {},
    "warmup/plans": {},
    "warmup/rules": {},
    "stats/daily?by=tenant": {"by": "tenant"},
    "stats/daily?by=campaign": {"by": "campaign"},
    "tenants": {},
    "imports": {},
    "imports/records": {"status": "all"},
}


def _counts(lists: dict[str, dict[str, str]], *, tenant_user: bool) -> dict[str, int]:
    if tenant_user:
        user = Membership.objects.filter(tenant__slug=f"{PREFIX}001").select_related("user").get().user
    else:
        user, _ = get_user_model().objects.get_or_create(username="qc-operator", defaults={"is_staff": True})
    api = api_as(user)
    counts = {}
    for name, params in lists.items():
        path = name.split("?")[0]
        api.get(path, limit=500, **params)
        with CaptureQueriesContext(connection) as ctx:
            response = api.get(path, limit=500, **params)
        assert response.status_code == 200, (name, response.content[:300])
        assert response.json()["count"] == len(response.json()["items"]), name
        counts[name] = len(ctx.captured_queries)
    return counts


@pytest.mark.django_db
@pytest.mark.parametrize("tenant_user", [False, True], ids=["operator", "tenant-admin"])
def test_it_keeps_api_list_query_counts_flat_as_rows_grow(tenant_user):
    lists = TENANT_LISTS if tenant_user else OPERATOR_LISTS
    scale_build(FEW)
    few = _counts(lists, tenant_user=tenant_user)
    scale_wipe()
    scale_build(MANY)

    many = _counts(lists, tenant_user=tenant_user)

    assert many == few
