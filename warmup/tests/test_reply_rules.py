"""Reply-driven rules: a burst within an hour acts, the same count spread out does not; actions expire."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from campaigns.models import DeliveryEvent
from core.models import AuditEvent
from ips.models import IPStatus
from warmup.models import ReplyRule, ReplyRuleAction
from warmup.reply_rules import reply_rule_actions_expire
from warmup.tasks import reply_rules_check
from warmup.tests.conftest import make_ip

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
GMAIL_RATE = "smtp;421 4.7.28 [203.0.113.60] Our system has detected an unusual rate of unsolicited mail"


def store(ip, times, diag=GMAIL_RATE, domain="gmail.com", outcome="transient"):
    for t in times:
        DeliveryEvent.objects.create(
            time_logged=t,
            type="t",
            outcome=outcome,
            rcpt=f"u{uuid4().hex[:6]}@{domain}",
            rcpt_domain=domain,
            source_ip=ip.address,
            dsn_diag=diag,
            fingerprint=uuid4().hex,
            ip=ip,
        )


def deferrals(ip, times, diag=GMAIL_RATE, domain="gmail.com"):
    """Store the events as the importer would and run the rules over the batch, as its task does."""
    store(ip, times, diag=diag, domain=domain)
    reply_rules_check({ip.address: [min(times).isoformat(), max(times).isoformat()]})


@pytest.fixture(autouse=True)
def _only_this_modules_rules(db):
    # The shipped starter rules (warmup 0004) match these replies too; test_reply_ladder covers them.
    ReplyRule.objects.filter(preset_key__gt="").update(enabled=False)


@pytest.fixture
def ip(pool_a):
    ip = make_ip("203.0.113.60", pool_a, status=IPStatus.ACTIVE)
    ip.daily_limit, ip.hourly_limit, ip.provider_limits = (
        1000,
        100,
        {"gmail.com": {"daily": 400, "hourly": 40}},
    )
    ip.save()
    return ip


@pytest.fixture
def hold_rule(db):
    return ReplyRule.objects.create(
        name="gmail-rate",
        pattern=r"421[ -]4\.7\.28",
        provider="gmail",
        threshold=5,
        action="hold",
        duration_hours=2,
    )


def test_it_holds_an_ip_when_the_threshold_is_reached_within_the_hour(ip, hold_rule):
    deferrals(ip, [T0 + timedelta(minutes=5 * i) for i in range(5)])
    ip.refresh_from_db()
    assert ip.status == IPStatus.PAUSED and ip.status_reason.startswith("reply rule gmail-rate:")
    action = ReplyRuleAction.objects.get()
    assert action.matches == 5 and action.active
    assert AuditEvent.objects.filter(action="reply_rule.hold", object_id=str(ip.pk)).count() == 1


def test_it_ignores_the_same_count_spread_over_the_day(ip, hold_rule):
    deferrals(ip, [T0 + timedelta(hours=2 * i) for i in range(5)])
    ip.refresh_from_db()
    assert ip.status == IPStatus.ACTIVE
    assert not ReplyRuleAction.objects.exists()


def test_it_counts_across_batches_and_does_not_stack_actions(ip, hold_rule):
    deferrals(ip, [T0 + timedelta(minutes=i) for i in range(3)])
    assert not ReplyRuleAction.objects.exists()
    deferrals(ip, [T0 + timedelta(minutes=10 + i) for i in range(3)])
    deferrals(ip, [T0 + timedelta(minutes=20 + i) for i in range(3)])
    assert ReplyRuleAction.objects.count() == 1


def test_it_only_counts_the_rules_provider_and_pattern(ip, hold_rule):
    deferrals(ip, [T0 + timedelta(minutes=i) for i in range(6)], domain="yahoo.com")
    deferrals(ip, [T0 + timedelta(minutes=i) for i in range(6)], diag="smtp;421 4.7.0 try later")
    assert not ReplyRuleAction.objects.exists()


def test_hold_expires_and_resumes_the_ip(ip, hold_rule):
    deferrals(ip, [T0 + timedelta(minutes=i) for i in range(5)])
    action = ReplyRuleAction.objects.get()
    assert reply_rule_actions_expire(now=action.expires_at - timedelta(minutes=1)) == 0
    assert reply_rule_actions_expire(now=action.expires_at) == 1
    ip.refresh_from_db()
    assert ip.status == IPStatus.ACTIVE
    assert not ReplyRuleAction.objects.get().active


def test_an_operator_pause_survives_the_expiry(ip, hold_rule, operator):
    from ips.services import ip_resume, ip_set_status

    deferrals(ip, [T0 + timedelta(minutes=i) for i in range(5)])
    ip.refresh_from_db()
    ip_resume(ip=ip, by=operator)
    ip_set_status(ip=ip, to=IPStatus.PAUSED, by=operator, reason="investigating")
    reply_rule_actions_expire(now=ReplyRuleAction.objects.get().expires_at)
    ip.refresh_from_db()
    assert ip.status == IPStatus.PAUSED and ip.status_reason == "investigating"


def test_halving_halves_the_limits_and_expiry_restores_them(ip):
    ReplyRule.objects.create(
        name="yahoo-ts", pattern="TS0[1-4]", threshold=3, action="halve", duration_hours=1
    )
    deferrals(
        ip,
        [T0 + timedelta(minutes=i) for i in range(3)],
        diag="421 4.7.0 [TS03] Messages from x temporarily deferred",
        domain="yahoo.com",
    )
    ip.refresh_from_db()
    assert (ip.daily_limit, ip.hourly_limit) == (500, 50)
    assert ip.provider_limits["gmail.com"] == {"daily": 200, "hourly": 20}
    reply_rule_actions_expire(now=ReplyRuleAction.objects.get().expires_at)
    ip.refresh_from_db()
    assert (ip.daily_limit, ip.hourly_limit) == (1000, 100)
    assert ip.provider_limits["gmail.com"] == {"daily": 400, "hourly": 40}


def test_it_judges_a_late_batch_at_its_own_time(ip, hold_rule):
    """Newer failures of the IP already stored do not hide a burst that arrives late."""
    store(ip, [T0 + timedelta(hours=3)])
    deferrals(ip, [T0 + timedelta(minutes=i) for i in range(5)])
    assert ReplyRuleAction.objects.get().matches == 5


def test_it_looks_only_at_the_batch_range_and_the_window_before_it(ip, hold_rule):
    store(ip, [T0 - timedelta(hours=2) + timedelta(minutes=i) for i in range(10)])  # an old burst
    deferrals(ip, [T0 + timedelta(minutes=i) for i in range(2)])
    assert not ReplyRuleAction.objects.exists()
    store(ip, [T0 - timedelta(minutes=30 + i) for i in range(3)])  # within the hour before: counted
    deferrals(ip, [T0 + timedelta(minutes=5)])
    assert ReplyRuleAction.objects.get().matches == 6


def test_the_batch_lookup_is_an_index_scan_bounded_by_the_batch_range(ip, hold_rule):
    from django.db import connection

    from warmup.reply_rules import _batch_newest

    store(ip, [T0 + timedelta(minutes=i) for i in range(5)])
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a test table is too small to prefer an index
    plan = _batch_newest(hold_rule, {ip.address: (T0, T0 + timedelta(minutes=5))}, ("gmail.com",)).explain()
    # An index scan bounded by the batch's time range, whichever of the (..., time_logged) indexes it picks.
    assert "Seq Scan" not in plan and "Index Cond" in plan, plan
    assert "time_logged >= '2026-11-20 10:00:00+00'" in plan.split("Index Cond", 1)[1].split("\n")[0], plan


def _import(tmp_path, ip, rows=6, name="acct.csv"):
    from campaigns.accounting.importer import accounting_import_path

    header = "type,timeLogged,rcpt,dsnAction,dsnStatus,dsnDiag,bounceCat,dlvSourceIp\n"
    lines = "".join(
        f'"t","2026-11-20 10:{i:02d}:00+0000","u{i}@gmail.com","delayed","4.7.28","{GMAIL_RATE}",'
        f'"policy-related","{ip.address}"\n'
        for i in range(rows)
    )
    (tmp_path / name).write_text(header + lines)
    return accounting_import_path(path=tmp_path / name)


@pytest.fixture
def enqueued(monkeypatch):
    """reply_rules_check.delay calls, in order (the test runs them as a worker would)."""
    from warmup import tasks

    sent = []
    monkeypatch.setattr(tasks.reply_rules_check, "delay", lambda *args: sent.append(args))
    return sent


def test_it_acts_on_records_as_the_importer_commits_them(
    ip, hold_rule, tmp_path, django_capture_on_commit_callbacks, enqueued
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = _import(tmp_path, ip)
    assert result.imported == 6
    assert not enqueued  # nothing is enqueued before the batch commits
    with django_capture_on_commit_callbacks(execute=True):  # the commit: the listener enqueues on it
        for callback in callbacks:
            callback()
    assert enqueued == [
        ({ip.address: ["2026-11-20T10:00:00+00:00", "2026-11-20T10:05:00+00:00"]},),
    ]
    reply_rules_check(*enqueued[0])
    ip.refresh_from_db()
    assert ip.status == IPStatus.PAUSED
    assert ReplyRuleAction.objects.get().matches == 6


def test_a_resent_batch_enqueues_nothing(
    ip, hold_rule, tmp_path, django_capture_on_commit_callbacks, enqueued
):
    with django_capture_on_commit_callbacks(execute=True):
        _import(tmp_path, ip)
        result = _import(tmp_path, ip, name="again.csv")
    assert result.duplicates == 6 and len(enqueued) == 1


def test_a_failing_enqueue_never_fails_the_committed_import(
    ip, hold_rule, tmp_path, django_capture_on_commit_callbacks, monkeypatch
):
    from warmup import tasks

    def broker_down(*args):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.reply_rules_check, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        result = _import(tmp_path, ip)
    assert result.imported == 6 and DeliveryEvent.objects.count() == 6


def test_a_rule_that_fails_does_not_stop_the_others(ip, hold_rule, caplog):
    # Python accepts the named group; Postgres' regex engine refuses it when the query runs.
    ReplyRule.objects.create(name="broken", pattern=r"(?P<code>421)", threshold=1, action="hold")
    deferrals(ip, [T0 + timedelta(minutes=i) for i in range(5)])
    assert ReplyRuleAction.objects.get().rule == hold_rule
    assert "reply rule broken failed" in caplog.text


def test_every_action_is_recorded_the_same_way_with_its_count(ip, hold_rule):
    """Legacy holds and ladder steps start through one function: the audit event names the rule, the count,
    the provider and until when, whichever action tripped."""
    deferrals(ip, [T0 + timedelta(minutes=5 * i) for i in range(5)])
    event = AuditEvent.objects.get(action="reply_rule.hold", object_id=str(ip.pk))
    assert event.after["rule"] == "gmail-rate" and event.after["matches"] == 5
    assert event.after["provider"] == "gmail" and event.after["until"]
    action = ReplyRuleAction.objects.get()
    assert action.stage == "" and action.provider == ""  # a legacy action acts on the whole IP
