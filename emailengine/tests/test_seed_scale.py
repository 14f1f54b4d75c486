"""seed_scale builds the benchmark data fast, refuses a second run, and --force rebuilds only its own data."""

import json

import pytest
from django.core.management import CommandError, call_command

from campaigns.models import Campaign, DailyStat, DeliveryEvent, Suppression
from core.models import AuditEvent
from domains.models import LIST_CHECKS, DkimKey, DomainCheck, SendingDomain
from ips.models import IPAddress, IPPool, IPStatus, MtaServer
from reputation.models import Blocklist, CheckState, Kind, Listing
from tenants.models import Membership, Tenant
from warmup.models import IPWarmup, WarmupDecision

TINY = ["--tenants", "3", "--ips", "40", "--domains", "10", "--days", "5"]


def _run(*args: str) -> dict:
    from io import StringIO

    out = StringIO()
    call_command("seed_scale", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db
def test_it_builds_the_requested_sizes():
    summary = _run(*TINY)
    counts = summary["counts"]

    assert Tenant.objects.filter(slug__startswith="scale-").count() == counts["tenants"] == 3
    assert Membership.objects.filter(tenant__slug__startswith="scale-", role="admin").count() == 3
    assert IPAddress.objects.filter(server__name__startswith="scale-").count() == counts["ips"] == 40
    assert counts["pools"] == IPPool.objects.filter(server__name__startswith="scale-").count() >= 1
    assert counts["servers"] == MtaServer.objects.filter(name__startswith="scale-").count() >= 1
    assert all(ip.address.startswith("10.") for ip in IPAddress.objects.all())
    assert SendingDomain.objects.count() == counts["domains"] == 10
    # One active key each, sharing one generated keypair.
    assert DkimKey.objects.filter(state="active").count() == 10
    assert DkimKey.objects.values("public_key_b64").distinct().count() == 1
    assert DomainCheck.objects.count() == 10 * len(LIST_CHECKS)

    live_ips = IPAddress.objects.exclude(status=IPStatus.RETIRED).count()
    ip_lists = Blocklist.objects.filter(kind=Kind.IP).count()
    domain_lists = Blocklist.objects.filter(kind=Kind.DOMAIN).count()
    assert CheckState.objects.count() == counts["check states"] == live_ips * ip_lists + 10 * domain_lists
    assert Listing.objects.count() == counts["listings"]
    assert Listing.objects.filter(cleared_at__isnull=True).count() == counts["open listings"]

    assert Campaign.objects.count() == counts["campaigns"] == 3 * 3
    # Every pooled, sending IP has 5 days x 2 recipient domains of stats.
    sending = IPAddress.objects.filter(
        pool__tenant__isnull=False, status__in=[IPStatus.ACTIVE, IPStatus.WARMING, IPStatus.PAUSED]
    ).count()
    assert DailyStat.objects.count() == counts["daily stats"] == sending * 5 * 2
    assert DailyStat.objects.filter(campaign__isnull=True).count() == 0

    warming = IPAddress.objects.filter(status=IPStatus.WARMING).count()
    assert IPWarmup.objects.count() == counts["ip warmups"] == warming
    assert WarmupDecision.objects.count() == counts["warmup decisions"] == warming * 5
    assert DeliveryEvent.objects.count() == counts["delivery events"] > 0
    assert Suppression.objects.count() == counts["suppressions"] > 0
    assert AuditEvent.objects.filter(actor_label="system: seed_scale").count() == counts["audit events"] > 0


@pytest.mark.django_db
def test_it_refuses_a_second_run_without_force():
    _run(*TINY)
    before = IPAddress.objects.count()

    with pytest.raises(CommandError, match="--force"):
        _run(*TINY)

    assert IPAddress.objects.count() == before


@pytest.mark.django_db
def test_it_rebuilds_with_force_and_leaves_other_data_alone(tenant_a, operator):
    other_server = MtaServer(name="prod-1")
    other_server.set_webhook_token(MtaServer.new_token())
    other_server.save()
    other_ip = IPAddress.objects.create(address="203.0.113.7", server=other_server, vmta_name="v7")
    AuditEvent.objects.create(actor_label="op", action="ip.status", tenant=tenant_a)
    _run(*TINY)

    summary = _run(*TINY, "--force", "--ips", "20")

    assert summary["wiped"]["ips"] == 40
    assert IPAddress.objects.filter(server__name__startswith="scale-").count() == 20
    assert Tenant.objects.filter(slug__startswith="scale-").count() == 3
    assert IPAddress.objects.filter(pk=other_ip.pk).exists()
    assert Tenant.objects.filter(pk=tenant_a.pk).exists()
    assert AuditEvent.objects.filter(actor_label="op").count() == 1
    assert operator.__class__.objects.filter(pk=operator.pk).exists()

    _run("--wipe")
    assert not Tenant.objects.filter(slug__startswith="scale-").exists()
    assert not DailyStat.objects.exists()
    assert IPAddress.objects.count() == 1
