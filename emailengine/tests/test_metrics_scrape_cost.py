"""A /metrics scrape costs the same number of queries with 5 or 50 IPs, domains and stats rows."""

import ipaddress
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.models import DailyStat
from domains.models import DomainCheck, SendingDomain
from ips.models import IPStatus
from ips.tests.factories import IPAddressFactory, IPPoolFactory, MtaServerFactory
from reputation.models import Blocklist, Listing

pytestmark = pytest.mark.django_db


def _grow(tenant, pool, blocklist, start: int, stop: int) -> None:
    today = datetime.now(UTC).date()
    for n in range(start, stop):
        address = str(ipaddress.ip_address("198.51.100.0") + n)
        ip = IPAddressFactory(address=address, pool=pool, server=pool.server, status=IPStatus.ACTIVE)
        domain = SendingDomain.objects.create(
            tenant=tenant, name=f"d{n}.example.com", return_path_domain=f"bounce.d{n}.example.com"
        )
        for check in ("spf", "dkim", "dmarc"):
            DomainCheck.objects.create(domain=domain, name=check, status="ok")
        DailyStat.objects.create(
            day=today,
            source_ip=address,
            tenant=tenant,
            ip=ip,
            delivered=n,
            hard_bounces=1,
            bounce_categories={f"cat-{n % 7}": 1},
        )
        Listing.objects.create(
            target=address, target_kind="ip", ip=ip, tenant=tenant, blocklist=blocklist, code="127.0.0.2"
        )


def _scrape_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/metrics").status_code == 200
    return len(ctx.captured_queries)


def test_it_costs_a_constant_number_of_queries(client, tenant_a, settings, django_assert_max_num_queries):
    settings.CELERY_BROKER_URL = "filesystem://"  # keep Redis out of the timing; queries are what we count
    pool = IPPoolFactory(server=MtaServerFactory(health_up=True, health_queued_rcp=3), tenant=tenant_a)
    blocklist = Blocklist.objects.create(
        key="cost-bl", name="Cost", zone="cost.invalid", kind="ip", severity="major"
    )
    _grow(tenant_a, pool, blocklist, 0, 5)
    small = _scrape_queries(client)

    _grow(tenant_a, pool, blocklist, 5, 50)
    with django_assert_max_num_queries(small):
        body = client.get("/metrics").content.decode()
    assert body.count("emailengine_ip_info{") == 50
    assert body.count("emailengine_domain_check_status{") == 150
    assert small <= 20, f"a scrape should need a handful of queries, took {small}"
