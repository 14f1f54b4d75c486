"""Provider data feeds the decisions (issue 16): Gmail's spam rate from Postmaster Tools holds a tenant, and
Microsoft's SNDS RED pauses Microsoft on that IP in the warmup ramp."""

from datetime import UTC, date, datetime, timedelta

import pytest

from campaigns.enforcement import tenants_enforce
from campaigns.models import DailyStat, TenantHold
from domains.models import SendingDomain
from emailengine.provider_signals import gmail_spam_verdicts
from ips.models import IPAddress, IPPool, MtaServer
from reputation.models import PostmasterDomainStat, SndsIpStat
from warmup.models import WarmupPlan, WarmupStep
from warmup.services import warmup_assign, warmup_run_ramp

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def test_a_gmail_spam_rate_over_the_limit_holds_the_tenant(tenant_a, tenant_b):
    a = SendingDomain.objects.create(tenant=tenant_a, name="a.example", return_path_domain="rp.a.example")
    b = SendingDomain.objects.create(tenant=tenant_b, name="b.example", return_path_domain="rp.b.example")
    PostmasterDomainStat.objects.create(domain=a, day=date(2026, 11, 19), spam_rate=0.0041)
    PostmasterDomainStat.objects.create(domain=b, day=date(2026, 11, 19), spam_rate=0.0012)
    verdicts = gmail_spam_verdicts(now=NOW)
    assert set(verdicts) == {tenant_a.pk}
    [hold] = tenants_enforce(now=NOW, provider_verdicts=verdicts)
    assert hold.tenant == tenant_a and hold.signal == "gmail_spam_rate"
    assert (
        "Gmail user-reported spam rate 0.41% for a.example on 2026-11-19 (Postmaster Tools) ≥ 0.30%"
        in hold.reason
    )
    assert TenantHold.objects.count() == 1


def test_snds_red_pauses_microsoft_only_on_that_ip(tenant_a, operator):
    server = MtaServer(name="pmta-p")
    server.set_webhook_token(MtaServer.new_token())
    server.save()
    pool = IPPool.objects.create(name="p", server=server, tenant=tenant_a)
    ip = IPAddress.objects.create(
        address="192.0.2.20", server=server, pool=pool, vmta_name=IPAddress.default_vmta_name("192.0.2.20")
    )
    plan = WarmupPlan.objects.create(name="p-plan")
    for i, daily in enumerate([1000, 2000], start=1):
        WarmupStep.objects.create(plan=plan, position=i, daily_limit=daily, hourly_limit=daily // 10)
    today = NOW.date()
    warmup_assign(ip=ip, plan=plan, by=operator, start_on=today - timedelta(days=1))
    yesterday = today - timedelta(days=1)
    DailyStat.objects.create(day=yesterday, source_ip=ip.address, rcpt_domain="hotmail.com", delivered=300)
    DailyStat.objects.create(day=yesterday, source_ip=ip.address, rcpt_domain="gmail.com", delivered=650)
    start = datetime(2026, 11, 18, 17, 0, tzinfo=UTC)
    SndsIpStat.objects.create(
        address=ip.address,
        ip=ip,
        activity_start=start,
        activity_end=start + timedelta(hours=23),
        day=yesterday,
        recipients=300,
        filter_result="RED",
        complaint_rate_text="2.5%",
        complaint_rate=0.025,
        trap_hits=12,
    )
    [outcome] = warmup_run_ramp(day=today)
    assert outcome.action == "advance"  # Gmail and the rest are fine
    assert outcome.numbers["providers"]["microsoft"]["action"] == "pause"
    assert "SNDS RED for 2026-11-19 (complaint rate 2.5%, trap hits 12, 300 recipients)" in outcome.reason
    ip.refresh_from_db()
    assert ip.provider_limits["microsoft"] == {"daily": 0, "hourly": 0}
