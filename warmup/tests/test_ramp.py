"""The daily ramp end to end on the database: signals in, decisions, limits and statuses out."""

from datetime import timedelta

import pytest
from django.core.management import call_command

from core.models import AuditEvent
from ips.models import IPStatus
from warmup.models import IPWarmup, WarmupDecision
from warmup.services import warmup_assign, warmup_run_ramp
from warmup.tests.conftest import TODAY, make_ip, stat

pytestmark = pytest.mark.django_db
YESTERDAY = TODAY - timedelta(days=1)


@pytest.fixture
def warming(pool_a, plan, operator):
    ip = make_ip("203.0.113.50", pool_a)
    warmup_assign(ip=ip, plan=plan, by=operator, start_on=YESTERDAY)
    ip.refresh_from_db()
    return ip


def test_it_assigns_step_one_limits_and_makes_the_ip_warming(warming):
    assert warming.status == IPStatus.WARMING
    assert (warming.daily_limit, warming.hourly_limit) == (1000, 100)
    assert warming.provider_limits["gmail"] == {"daily": 250, "hourly": 21}
    assert AuditEvent.objects.filter(action="warmup.assign", object_id=str(warming.pk)).count() == 1


def test_it_advances_writes_the_new_limits_and_audits(warming):
    stat(warming.address, YESTERDAY, delivered=950)
    [outcome] = warmup_run_ramp(day=TODAY)
    assert (outcome.action, outcome.to_step) == ("advance", 2)
    warming.refresh_from_db()
    assert warming.daily_limit == 2000
    decision = WarmupDecision.objects.get()
    assert decision.numbers["attempted"] == 950 and decision.reason.startswith(
        "delivered 950 of 1,000 (95%) cap"
    )
    assert AuditEvent.objects.filter(action="warmup.decision", object_id=str(warming.pk)).count() == 1
    assert AuditEvent.objects.filter(
        action="ip.limits", object_id=str(warming.pk), actor_label__contains="ramp"
    ).exists()


def test_running_the_same_date_twice_changes_nothing(warming):
    stat(warming.address, YESTERDAY, delivered=950)
    warmup_run_ramp(day=TODAY)
    events = AuditEvent.objects.count()
    assert warmup_run_ramp(day=TODAY) == []
    warming.refresh_from_db()
    assert warming.warmup.step == 2 and WarmupDecision.objects.count() == 1
    assert AuditEvent.objects.count() == events


def test_dry_run_writes_nothing(warming):
    stat(warming.address, YESTERDAY, delivered=950)
    events = AuditEvent.objects.count()
    [outcome] = warmup_run_ramp(day=TODAY, dry_run=True)
    assert outcome.action == "advance" and outcome.applied is False
    warming.refresh_from_db()
    assert warming.daily_limit == 1000 and warming.warmup.step == 1
    assert WarmupDecision.objects.count() == 0 and AuditEvent.objects.count() == events


def test_it_pauses_the_ip_on_complaints(warming):
    stat(warming.address, YESTERDAY, delivered=1000, complaints=3)
    [outcome] = warmup_run_ramp(day=TODAY)
    assert outcome.action == "pause"
    warming.refresh_from_db()
    assert warming.status == IPStatus.PAUSED and warming.warmup.status == IPWarmup.Status.PAUSED
    assert "complaints 3 of 1,000 (0.30%) delivered" in warming.status_reason


def test_it_pauses_on_a_critical_listing(warming):
    from reputation.models import Blocklist, Listing

    zen = Blocklist.objects.filter(severity="critical", scope="ip").first() or Blocklist.objects.create(
        key="zen-t", name="ZEN", zone="zen.test", kind="ip", severity="critical"
    )
    Listing.objects.create(target=warming.address, ip=warming, blocklist=zen, code="127.0.0.2")
    stat(warming.address, YESTERDAY, delivered=1000)
    [outcome] = warmup_run_ramp(day=TODAY)
    assert outcome.action == "pause" and zen.name in outcome.reason


def test_it_completes_the_plan_and_makes_the_ip_active_without_plan_limits(warming):
    w = warming.warmup
    w.step = 3
    w.save()
    stat(warming.address, YESTERDAY, delivered=4000)
    [outcome] = warmup_run_ramp(day=TODAY)
    assert outcome.action == "complete"
    warming.refresh_from_db()
    assert warming.status == IPStatus.ACTIVE and warming.daily_limit is None
    assert warming.warmup.status == IPWarmup.Status.COMPLETED


def test_it_reads_only_the_day_before(warming):
    stat(warming.address, YESTERDAY - timedelta(days=1), delivered=1000)
    stat(warming.address, TODAY, delivered=1000)
    [outcome] = warmup_run_ramp(day=TODAY)
    assert outcome.action == "hold" and "no sends" in outcome.reason


def test_the_ramp_uses_a_constant_number_of_queries(pool_a, plan, operator, django_assert_max_num_queries):
    for i in range(30):
        ip = make_ip(f"203.0.113.{100 + i}", pool_a)
        warmup_assign(ip=ip, plan=plan, by=operator, start_on=YESTERDAY)
        stat(ip.address, YESTERDAY, delivered=990 if i % 2 else 10)
    with django_assert_max_num_queries(20):
        outcomes = warmup_run_ramp(day=TODAY)
    assert len(outcomes) == 30


def test_the_command_prints_json_lines(warming, capsys):
    import json

    stat(warming.address, YESTERDAY, delivered=950)
    call_command("warmup_advance", "--date", TODAY.isoformat(), "--dry-run", "--json")
    [line] = capsys.readouterr().out.strip().splitlines()
    row = json.loads(line)
    assert row["ip"] == warming.address and row["action"] == "advance" and row["date"] == TODAY.isoformat()
    assert WarmupDecision.objects.count() == 0


def test_the_command_rejects_a_bad_date():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("warmup_advance", "--date", "2026-13-01")
