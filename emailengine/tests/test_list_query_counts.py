"""Every main list page runs the same number of SQL queries with few rows and with many (no N+1).

The data comes from the seed_scale builder at two tiny sizes; the second has several times the rows of the
first on every page (still one page of results, so the comparison is about rows shown, not pagination).
"""

from dataclasses import replace

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from emailengine.scale import PREFIX, ScaleSize, scale_build, scale_wipe
from tenants.models import Membership

OPERATOR_PAGES = [
    "/ips/",
    "/pools/",
    "/servers/",
    "/domains/",
    "/reputation/",
    "/campaigns/",
    "/suppression/",
    "/audit/",
    "/warmup/",
    "/warmup/plans/",
    "/tenants/",
    "/imports/",
]
TENANT_PAGES = [
    "/ips/",
    "/pools/",
    "/domains/",
    "/reputation/",
    "/campaigns/",
    "/suppression/",
    "/audit/",
    "/warmup/",
]

FEW = ScaleSize(
    tenants=2,
    ips=8,
    pools=2,
    servers=1,
    domains=4,
    days=2,
    campaigns_per_tenant=1,
    warmup_share=0.25,
    audit_events=5,
    delivery_events=10,
    suppressions_per_tenant=2,
)
MANY = replace(
    FEW,
    tenants=6,
    ips=45,
    pools=8,
    servers=4,
    domains=24,
    days=3,
    campaigns_per_tenant=3,
    audit_events=40,
    suppressions_per_tenant=7,
)


def _counts(pages: list[str], *, tenant_user: bool) -> dict[str, int]:
    if tenant_user:
        user = Membership.objects.filter(tenant__slug=f"{PREFIX}001").select_related("user").get().user
    else:
        user, _ = get_user_model().objects.get_or_create(username="qc-operator", defaults={"is_staff": True})
    client = Client()
    client.force_login(user)
    counts = {}
    for page in pages:
        client.get(page)  # caches (content types, sessions) warm
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(page)
        assert response.status_code == 200, page
        counts[page] = len(ctx.captured_queries)
    return counts


@pytest.mark.django_db
@pytest.mark.parametrize("tenant_user", [False, True], ids=["operator", "tenant-admin"])
def test_it_keeps_list_query_counts_flat_as_rows_grow(tenant_user):
    pages = TENANT_PAGES if tenant_user else OPERATOR_PAGES
    scale_build(FEW)
    few = _counts(pages, tenant_user=tenant_user)
    scale_wipe()
    scale_build(MANY)

    many = _counts(pages, tenant_user=tenant_user)

    assert many == few
