"""The tenant page an operator opens: its pools and IPs, domains, sending figures and latest campaigns (from
the apps above tenants, through tenant_blocks.py modules), not only its members; scoped to that tenant."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.tests.page_factories import make_campaign, make_stat
from core.dates import utc_today
from domains.models import SendingDomain
from ips.models import IPStatus
from ips.tests.factories import IPAddressFactory, IPPoolFactory


@pytest.fixture
def estate(tenant_a, tenant_b):
    today = utc_today()
    pool_a = IPPoolFactory(name="a-main", tenant=tenant_a)
    IPAddressFactory(address="10.0.0.1", pool=pool_a, status=IPStatus.ACTIVE)
    IPAddressFactory(address="10.0.0.2", pool=pool_a, status=IPStatus.PAUSED)
    pool_b = IPPoolFactory(name="b-secret-pool", tenant=tenant_b)
    IPAddressFactory(address="10.0.1.1", pool=pool_b)
    SendingDomain.objects.create(
        tenant=tenant_a, name="a-send.test", return_path_domain="b.a-send.test", status="invalid"
    )
    SendingDomain.objects.create(
        tenant=tenant_a, name="a-fine.test", return_path_domain="b.a-fine.test", status="ok"
    )
    SendingDomain.objects.create(tenant=tenant_b, name="b-secret.test", return_path_domain="b.b-secret.test")
    ca = make_campaign(tenant_a, "a-spring", first=today, last=today)
    cb = make_campaign(tenant_b, "b-secret-campaign", first=today, last=today)
    make_stat(ca, today, delivered=900, hard=60, soft=40, complaints=9)
    make_stat(cb, today, delivered=5, hard=5)
    return {"pool_a": pool_a, "ca": ca}


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["operator", "admin_a", "viewer_a"])
def test_it_shows_the_tenants_pools_ips_domains_and_sending(request, login, persona, tenant_a, estate):
    response = login(request.getfixturevalue(persona)).get(f"/tenants/{tenant_a.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert [b.title for b in response.context["tenant_blocks"]] == [
        "Pools and IPs",
        "Sending domains",
        "Sending",
        "Traffic trend",
    ]
    assert "a-main" in html and f"/ips/?pool={estate['pool_a'].pk}" in html
    assert "a-send.test" in html and "1 with problems" in html
    # 1,000 attempted, 100 bounced (10%), 9 complaints of 900 delivered (1.0%), as campaigns.stats says.
    sending = next(b for b in response.context["tenant_blocks"] if b.title == "Sending")
    last7 = sending.context["windows"][0][2]
    assert (last7.attempted, last7.bounce_rate, last7.complaint_rate) == (1000, 0.1, 0.01)
    assert "10%" in html and "1.0%" in html
    assert "a-spring" in html and f"/bounces/?campaign={estate['ca'].pk}" in html
    for secret in ("b-secret-pool", "10.0.1.1", "b-secret.test", "b-secret-campaign"):
        assert secret not in html


@pytest.mark.django_db
def test_another_tenants_page_is_a_404(login, admin_a, viewer_a, tenant_b, estate):
    for user in (admin_a, viewer_a):
        assert login(user).get(f"/tenants/{tenant_b.pk}/").status_code == 404


@pytest.mark.django_db
def test_its_query_count_does_not_grow_with_the_tenants_estate(login, operator, tenant_a, estate):
    client = login(operator)
    url = f"/tenants/{tenant_a.pk}/"
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    today = utc_today()
    for n in range(6):
        pool = IPPoolFactory(name=f"more-{n}", tenant=tenant_a)
        IPAddressFactory.create_batch(3, pool=pool)
        SendingDomain.objects.create(
            tenant=tenant_a, name=f"more{n}.test", return_path_domain=f"b.more{n}.test"
        )
        make_stat(make_campaign(tenant_a, f"c{n}", first=today, last=today), today, delivered=10)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many.captured_queries) == len(few.captured_queries)
