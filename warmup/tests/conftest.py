from datetime import date

import pytest

from ips.models import IPAddress, IPPool, MtaServer
from warmup.models import WarmupPlan, WarmupStep


@pytest.fixture
def server(db):
    s = MtaServer(name="pmta-w")
    s.set_webhook_token(MtaServer.new_token())
    s.save()
    return s


@pytest.fixture
def pool_a(server, tenant_a):
    return IPPool.objects.create(name="pool-a", server=server, tenant=tenant_a)


@pytest.fixture
def pool_b(server, tenant_b):
    return IPPool.objects.create(name="pool-b", server=server, tenant=tenant_b)


def make_ip(address, pool, status="new"):
    return IPAddress.objects.create(
        address=address,
        server=pool.server,
        pool=pool,
        status=status,
        vmta_name=IPAddress.default_vmta_name(address),
    )


@pytest.fixture
def plan(db):
    plan = WarmupPlan.objects.create(name="test plan")
    for i, (daily, hourly) in enumerate([(1000, 100), (2000, 200), (4000, 400)], start=1):
        WarmupStep.objects.create(
            plan=plan, position=i, daily_limit=daily, hourly_limit=hourly, gmail_daily=daily // 4
        )
    return plan


def stat(address, day, **counts):
    from campaigns.models import DailyStat

    return DailyStat.objects.create(day=day, source_ip=address, rcpt_domain="example.com", **counts)


TODAY = date(2026, 11, 20)
