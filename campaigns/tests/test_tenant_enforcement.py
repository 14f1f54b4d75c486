"""Tenant enforcement (issue 16): a tenant over its complaint or bounce threshold is held with the numbers;
an operator releases it (audited); other tenants never see it."""

from datetime import UTC, datetime, timedelta

import pytest

from campaigns.enforcement import EnforcementError, tenant_hold_release, tenants_enforce
from campaigns.models import DailyStat, TenantHold
from core.models import AuditEvent
from ips.models import IPAddress, IPPool, IPStatus, MtaServer

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def fleet(tenant_a, tenant_b):
    server = MtaServer(name="pmta-e")
    server.set_webhook_token(MtaServer.new_token())
    server.save()
    pools = {
        t.slug: IPPool.objects.create(name=f"pool-{t.slug}", server=server, tenant=t)
        for t in (tenant_a, tenant_b)
    }

    def ip(address, tenant, status=IPStatus.ACTIVE):
        return IPAddress.objects.create(
            address=address,
            server=server,
            pool=pools[tenant.slug],
            status=status,
            vmta_name=IPAddress.default_vmta_name(address),
        )

    return {
        "a1": ip("192.0.2.1", tenant_a),
        "a2": ip("192.0.2.2", tenant_a, IPStatus.WARMING),
        "a_paused": ip("192.0.2.3", tenant_a, IPStatus.PAUSED),
        "b1": ip("192.0.2.9", tenant_b),
    }


def traffic(tenant, day=None, **counts):
    DailyStat.objects.create(day=day or NOW.date(), source_ip="192.0.2.1", tenant=tenant, **counts)


def test_a_tenant_over_the_complaint_threshold_is_held_with_the_numbers(fleet, tenant_a, tenant_b):
    traffic(tenant_a, delivered=10_000, complaints=40)  # 0.40% >= 0.30%
    traffic(tenant_b, delivered=10_000, complaints=5)
    [hold] = tenants_enforce(now=NOW)
    assert hold.tenant == tenant_a and hold.signal == "complaint_rate"
    assert "complaints 40 of 10,000 (0.40%) delivered ≥ 0.30%" in hold.reason
    assert hold.numbers["complaints"] == 40 and hold.numbers["attempted"] == 10_000
    for key in ("a1", "a2"):
        fleet[key].refresh_from_db()
        assert fleet[key].status == IPStatus.PAUSED
        assert fleet[key].status_reason.startswith(f"tenant hold #{hold.pk}: complaints 40")
    fleet["b1"].refresh_from_db()
    assert fleet["b1"].status == IPStatus.ACTIVE
    assert sorted(hold.ip_ids) == sorted([fleet["a1"].pk, fleet["a2"].pk])
    event = AuditEvent.objects.get(action="tenant.hold")
    assert event.tenant_id == tenant_a.pk and "0.40%" in event.reason
    # Judged again within the hour: one hold, not two.
    assert tenants_enforce(now=NOW + timedelta(hours=1)) == []


def test_hard_bounces_hold_too_and_small_volumes_do_not(fleet, tenant_a, tenant_b):
    traffic(tenant_a, delivered=900, hard_bounces=100)  # 10%, 1,000 attempts
    traffic(tenant_b, delivered=90, hard_bounces=10)  # 10% of 100: too few to judge
    [hold] = tenants_enforce(now=NOW)
    assert hold.signal == "hard_bounce_rate"
    assert "hard bounces 100 of 1,000 (10%) attempted ≥ 5.0%" in hold.reason


def test_the_window_covers_yesterday(fleet, tenant_a):
    traffic(tenant_a, day=NOW.date() - timedelta(days=1), delivered=5_000, complaints=20)
    traffic(tenant_a, day=NOW.date() - timedelta(days=3), delivered=5_000, complaints=500)  # outside
    [hold] = tenants_enforce(now=NOW)
    assert "complaints 20 of 5,000 (0.40%)" in hold.reason


def test_the_thresholds_are_settings(fleet, tenant_a, settings):
    settings.TENANT_HOLD_COMPLAINT_RATE = 0.01
    traffic(tenant_a, delivered=10_000, complaints=40)
    assert tenants_enforce(now=NOW) == []


def test_an_operator_releases_the_hold_and_only_its_ips_resume(fleet, tenant_a, operator):
    traffic(tenant_a, delivered=10_000, complaints=40)
    [hold] = tenants_enforce(now=NOW)
    with pytest.raises(EnforcementError):
        tenant_hold_release(hold=hold, by=operator, reason="  ")
    tenant_hold_release(hold=hold, by=operator, reason="list cleaned, campaign stopped")
    hold.refresh_from_db()
    assert hold.released_by == "op" and hold.released_at is not None
    for key in ("a1", "a2"):
        fleet[key].refresh_from_db()
    assert fleet["a1"].status == IPStatus.ACTIVE and fleet["a2"].status == IPStatus.WARMING
    fleet["a_paused"].refresh_from_db()
    assert fleet["a_paused"].status == IPStatus.PAUSED  # paused before, for another reason
    release = AuditEvent.objects.get(action="tenant.hold_release")
    assert release.after["resumed_ips"] == ["192.0.2.1", "192.0.2.2"]
    # The same numbers do not hold it again the same day.
    assert tenants_enforce(now=NOW + timedelta(hours=1)) == []
    with pytest.raises(EnforcementError):
        tenant_hold_release(hold=hold, by=operator, reason="twice")


def test_the_pages_scope_holds_and_only_operators_release(
    fleet, tenant_a, login, operator, admin_a, admin_b, client
):
    traffic(tenant_a, delivered=10_000, complaints=40)
    [hold] = tenants_enforce(now=NOW)
    page = login(admin_a).get("/tenant-holds/").content.decode()
    assert "complaints 40 of 10,000" in page and "Release…" not in page
    assert login(admin_a).post(f"/tenant-holds/{hold.pk}/release/", {"reason": "x"}).status_code == 403
    assert login(admin_b).get(f"/tenant-holds/{hold.pk}/release/").status_code == 404
    assert "complaints 40" not in login(admin_b).get("/tenant-holds/").content.decode()
    response = login(operator).post(f"/tenant-holds/{hold.pk}/release/", {"reason": "fixed"})
    assert response.status_code == 302
    assert TenantHold.objects.get().released_at is not None


def test_an_open_hold_is_a_metric_for_the_alert(fleet, tenant_a, client):
    traffic(tenant_a, delivered=10_000, complaints=40)
    tenants_enforce(now=NOW)
    text = client.get("/metrics").content.decode()
    assert (
        'emailengine_tenant_held{signal="complaint_rate",tenant="tenant-a",threshold="0.003"} 0.004' in text
    )


def test_the_job_is_scheduled_hourly():
    from emailengine.celery import app

    entry = app.conf.beat_schedule["tenant-enforcement"]
    assert entry["task"] == "emailengine.tasks.tenants_enforce" and entry["schedule"] == 3600.0
