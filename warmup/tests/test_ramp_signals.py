"""The ramp on the database with the signals of issue 16: delivered share, blocks per provider (from the
aggregates' categories and the events' x.7.x codes), over-limit faults, gradual provider resume."""

from datetime import UTC, datetime, time, timedelta
from uuid import uuid4

import pytest

from campaigns.models import DailyStat, DeliveryEvent
from warmup.models import WarmupDecision
from warmup.services import warmup_assign, warmup_run_ramp
from warmup.tests.conftest import TODAY, make_ip

pytestmark = pytest.mark.django_db
YESTERDAY = TODAY - timedelta(days=1)


@pytest.fixture
def warming(pool_a, plan, operator):
    ip = make_ip("203.0.113.60", pool_a)
    warmup_assign(ip=ip, plan=plan, by=operator, start_on=YESTERDAY)
    ip.refresh_from_db()
    return ip


def stat(address, domain, **counts):
    return DailyStat.objects.create(day=YESTERDAY, source_ip=address, rcpt_domain=domain, **counts)


def event(address, domain, *, outcome="soft_bounce", cat="other", status="5.7.1 (refused)", n=1):
    at = datetime.combine(YESTERDAY, time(12), UTC)
    DeliveryEvent.objects.bulk_create(
        DeliveryEvent(
            time_logged=at,
            type="b" if outcome == "soft_bounce" else "t",
            outcome=outcome,
            source_ip=address,
            rcpt=f"u{i}@{domain}",
            rcpt_domain=domain,
            bounce_cat=cat,
            dsn_status=status,
            fingerprint=uuid4(),
        )
        for i in range(n)
    )


def test_the_issue_case_holds_instead_of_advancing(warming):
    # 700 delivered, 250 spam-related refusals, 15 hard bounces out of a 1,000 cap: used to advance.
    stat(
        warming.address,
        "example.com",
        delivered=700,
        soft_bounces=250,
        hard_bounces=15,
        bounce_categories={"spam-related": 250, "bad-mailbox": 15},
    )
    [outcome] = warmup_run_ramp(day=TODAY)
    assert outcome.action in ("pause", "step_back", "hold") and outcome.action != "advance"
    assert "250 of 965" in outcome.reason
    assert outcome.numbers["blocked"] == 250 and outcome.numbers["delivered"] == 700


def test_code_only_blocks_come_from_the_events(warming):
    stat(warming.address, "example.com", delivered=940, soft_bounces=60, bounce_categories={"other": 60})
    event(warming.address, "example.com", n=60)  # 5.7.1 with category "other"
    [outcome] = warmup_run_ramp(day=TODAY)
    assert outcome.numbers["blocked"] == 60
    assert outcome.action == "step_back" or outcome.action == "hold"  # step 1: a step back holds
    assert "blocks 60 of 1,000 (6.0%)" in outcome.reason


def test_gmail_blocks_hold_gmail_only_and_it_resumes_gradually(warming, plan):
    stat(
        warming.address, "gmail.com", delivered=240, soft_bounces=10, bounce_categories={"policy-related": 10}
    )
    stat(warming.address, "yahoo.com", delivered=750)
    [outcome] = warmup_run_ramp(day=TODAY)
    assert outcome.action == "advance" and "gmail blocks 10 of 250 (4.0%)" in outcome.reason
    warming.refresh_from_db()
    w = warming.warmup
    assert w.step == 2 and w.provider_state == {"gmail": {"step": 1, "action": "hold"}}
    # Step 2 for the IP, Gmail kept at step 1's Gmail cap.
    assert warming.daily_limit == 2000
    assert warming.provider_limits["gmail"] == {"daily": 250, "hourly": 21}
    # A clean day: Gmail climbs one step, never straight to the IP's.
    DailyStat.objects.all().delete()
    day2 = TODAY + timedelta(days=1)
    DailyStat.objects.create(day=TODAY, source_ip=warming.address, rcpt_domain="gmail.com", delivered=250)
    DailyStat.objects.create(day=TODAY, source_ip=warming.address, rcpt_domain="yahoo.com", delivered=1700)
    [outcome] = warmup_run_ramp(day=day2)
    assert outcome.action == "advance"
    warming.refresh_from_db()
    assert warming.warmup.step == 3
    assert warming.warmup.provider_state == {"gmail": {"step": 2, "action": "resume"}}
    assert warming.provider_limits["gmail"] == {"daily": 500, "hourly": 42}


def test_a_paused_provider_gets_a_zero_limit(warming):
    stat(
        warming.address, "gmail.com", delivered=150, soft_bounces=100, bounce_categories={"spam-related": 100}
    )
    stat(warming.address, "yahoo.com", delivered=750)
    [outcome] = warmup_run_ramp(day=TODAY)
    assert outcome.numbers["providers"]["gmail"]["action"] == "pause"
    warming.refresh_from_db()
    assert warming.provider_limits["gmail"] == {"daily": 0, "hourly": 0}


def test_over_limit_is_a_fault_on_the_decision_board_and_metric(warming, login, operator, client):
    stat(warming.address, "example.com", delivered=5282)
    [outcome] = warmup_run_ramp(day=TODAY)
    assert outcome.action == "over_limit"
    warming.refresh_from_db()
    assert warming.warmup.over_limit is True and warming.warmup.step == 1
    assert WarmupDecision.objects.get().action == "over_limit"
    page = login(operator).get("/warmup/").content.decode()
    assert "Over limit: fault" in page
    metrics = client.get("/metrics").content.decode()
    assert f'emailengine_warmup_over_limit{{ip="{warming.address}"}} 1.0' in metrics
