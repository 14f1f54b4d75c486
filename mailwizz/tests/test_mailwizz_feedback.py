"""Feedback end to end: hard bounces and complaints in accounting reach MailWizz once each, with retries."""

import hashlib
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from campaigns.models import DeliveryEvent
from core.models import AuditEvent
from mailwizz.models import MailWizzConfig, MailWizzOutbox
from mailwizz.services import (
    mailwizz_config_save,
    mailwizz_feedback_enqueue,
    mailwizz_feedback_send,
    mailwizz_outbox_retry,
    mailwizz_sync_campaigns,
    retry_delay,
)
from mailwizz.tasks import mailwizz_feedback_task
from testsupport.mailwizz_standin import MailWizzStandin

_seq = itertools.count()


@pytest.fixture(autouse=True)
def short_timeout(settings):
    settings.MAILWIZZ_TIMEOUT = 0.4


@pytest.fixture(params=["mw2", "mw1"])
def mw(request, settings):
    # The stand-in listens on 127.0.0.1: an operator has allowed that network (core/outbound.py).
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with MailWizzStandin(api_key="pub", private_key="priv", auth=request.param, slow_seconds=1.5) as standin:
        standin.add_campaign("ab111", name="Spring sale", list_uid="lu1")
        standin.add_campaign("cd222", name="Newsletter", list_uid="lu2")
        for email in ("gone@a.example", "angry@a.example", "twice@a.example"):
            standin.add_subscriber("lu1", email)
            standin.add_subscriber("lu2", email)
        yield standin


def configure(tenant, mw, **extra) -> MailWizzConfig:
    return mailwizz_config_save(
        tenant=tenant,
        by="test",
        base_url=mw.url,
        mode=mw.auth,
        api_key="pub",
        private_key="priv" if mw.auth == "mw1" else "",
        **extra,
    )


def event(tenant, rcpt: str, outcome: str, key: str = "mailwizz-ab111", **fields) -> DeliveryEvent:
    n = next(_seq)
    return DeliveryEvent.objects.create(
        time_logged=datetime(2025, 7, 1, 12, tzinfo=UTC),
        type={"hard_bounce": "b", "complaint": "f"}.get(outcome, "d"),
        outcome=outcome,
        rcpt=rcpt,
        rcpt_domain=rcpt.rpartition("@")[2],
        campaign_key=key,
        tenant=tenant,
        fingerprint=hashlib.sha256(f"mw-{n}-{rcpt}".encode()).hexdigest()[:32],
        **fields,
    )


@pytest.mark.django_db
def test_it_tells_mailwizz_about_each_bounce_and_complaint_once(tenant_a, tenant_b, mw):
    config = configure(tenant_a, mw)
    mailwizz_sync_campaigns(tenant=tenant_a)
    event(
        tenant_a, "Gone@A.example", "hard_bounce", dsn_status="5.1.1", dsn_diag="smtp;550 5.1.1 user unknown"
    )
    event(tenant_a, "gone@a.example", "hard_bounce")  # the same bounce again (e.g. a retry by PMTA)
    event(tenant_a, "twice@a.example", "hard_bounce", key="mailwizz-ab111")
    event(tenant_a, "twice@a.example", "hard_bounce", key="cd222")  # exact uid key, another campaign
    event(tenant_a, "angry@a.example", "complaint", feedback_type="abuse")
    event(tenant_a, "angry@a.example", "complaint", key="")  # FBL record without campaign: same address
    event(tenant_a, "ok@a.example", "delivered")
    event(tenant_a, "soft@a.example", "soft_bounce")
    event(tenant_a, "other@a.example", "hard_bounce", key="job-42")  # another sender's campaign
    event(tenant_b, "b@b.example", "hard_bounce")  # tenant B has no MailWizz here

    assert mailwizz_feedback_enqueue(config=config) == 4
    rows = {(r.kind, r.email, r.campaign_uid) for r in MailWizzOutbox.objects.all()}
    assert rows == {
        ("hard_bounce", "gone@a.example", "ab111"),
        ("hard_bounce", "twice@a.example", "ab111"),
        ("hard_bounce", "twice@a.example", "cd222"),
        ("complaint", "angry@a.example", ""),  # one unsubscribe per address, from all lists
    }
    result = mailwizz_feedback_send(config=config)
    assert (result.sent, result.retrying, result.failed) == (4, 0, 0)

    bounces = sorted((b["campaign_uid"], b["subscriber_uid"], b["bounce_type"]) for b in mw.bounces)
    assert bounces == sorted(
        [
            ("ab111", mw.lists["lu1"]["gone@a.example"], "hard"),
            ("ab111", mw.lists["lu1"]["twice@a.example"], "hard"),
            ("cd222", mw.lists["lu2"]["twice@a.example"], "hard"),
        ]
    )
    gone = next(b for b in mw.bounces if b["subscriber_uid"] == mw.lists["lu1"]["gone@a.example"])
    assert gone["message"] == "5.1.1 smtp;550 5.1.1 user unknown"
    assert mw.unsubscribes == ["angry@a.example"]
    complaint = MailWizzOutbox.objects.get(kind="complaint")
    assert complaint.message == "Complaint (abuse) about campaign ab111 reported by PowerMTA"
    assert all(r["auth_ok"] for r in mw.requests)
    assert set(MailWizzOutbox.objects.values_list("status", flat=True)) == {"sent"}
    assert all(r.sent_at and r.attempts == 1 for r in MailWizzOutbox.objects.all())

    # Running again, with the same events still there (and one more duplicate), sends nothing twice.
    event(tenant_a, "gone@a.example", "hard_bounce")
    calls = len(mw.requests)
    assert mailwizz_feedback_enqueue(config=config) == 0
    assert mailwizz_feedback_send(config=config).sent == 0
    assert len(mw.requests) == calls
    assert len(mw.bounces) == 3


@pytest.mark.django_db
def test_it_looks_up_an_unsynced_campaigns_list(tenant_a, mw):
    config = configure(tenant_a, mw)  # no sync: the campaign is only known by its prefixed key
    event(tenant_a, "gone@a.example", "hard_bounce")
    mailwizz_feedback_enqueue(config=config)
    assert mailwizz_feedback_send(config=config).sent == 1
    assert len(mw.calls("GET", "/campaigns/ab111")) == 1
    assert len(mw.bounces) == 1


@pytest.mark.django_db
def test_it_retries_a_failed_post_later_then_sends_it(tenant_a, mw, settings):
    settings.MAILWIZZ_RETRY_BASE_SECONDS = 60
    config = configure(tenant_a, mw)
    mailwizz_sync_campaigns(tenant=tenant_a)
    event(tenant_a, "gone@a.example", "hard_bounce")
    event(tenant_a, "angry@a.example", "complaint")
    mailwizz_feedback_enqueue(config=config)
    now = timezone.now()
    mw.fail_next(1, status=500)

    first = mailwizz_feedback_send(config=config, now=now)

    # MailWizz is down: the first row waits for its retry, the rest is put back untouched.
    assert (first.sent, first.retrying) == (0, 1)
    assert first.stopped.startswith("unavailable")
    bounce = MailWizzOutbox.objects.get(kind="hard_bounce")
    complaint = MailWizzOutbox.objects.get(kind="complaint")
    assert bounce.status == "pending" and bounce.attempts == 1
    assert bounce.next_retry_at == now + timedelta(seconds=60)
    assert "HTTP 500" in bounce.last_error
    assert complaint.attempts == 0 and complaint.next_retry_at == bounce.next_retry_at
    assert mw.bounces == [] and mw.unsubscribes == []

    assert mailwizz_feedback_send(config=config, now=now + timedelta(seconds=30)).sent == 0  # not yet due
    later = mailwizz_feedback_send(config=config, now=now + timedelta(seconds=61))
    assert later.sent == 2
    bounce.refresh_from_db()
    assert (bounce.status, bounce.attempts, bounce.last_error, bounce.next_retry_at) == ("sent", 2, "", None)
    assert len(mw.bounces) == 1 and mw.unsubscribes == ["angry@a.example"]


@pytest.mark.django_db
def test_it_backs_off_exponentially_and_gives_up_after_the_last_attempt(tenant_a, mw, settings):
    settings.MAILWIZZ_FEEDBACK_MAX_ATTEMPTS = 3
    settings.MAILWIZZ_RETRY_BASE_SECONDS = 10
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3)] == [10, 20, 40]
    config = configure(tenant_a, mw)
    event(tenant_a, "angry@a.example", "complaint")
    mailwizz_feedback_enqueue(config=config)
    row = MailWizzOutbox.objects.get()
    now = timezone.now()
    mw.mode = "500"
    for attempt in (1, 2, 3):
        mailwizz_feedback_send(config=config, now=now)
        row.refresh_from_db()
        assert row.attempts == attempt
        now = now + timedelta(hours=1)
    assert row.status == "failed" and row.next_retry_at is None
    mw.mode = "ok"
    assert mailwizz_feedback_send(config=config, now=now).sent == 0  # failed rows are left alone

    mailwizz_outbox_retry(row=row, by="test")
    assert AuditEvent.objects.filter(action="mailwizz.outbox_retry", object_id=str(row.pk)).count() == 1
    assert mailwizz_feedback_send(config=config, now=timezone.now() + timedelta(seconds=1)).sent == 1
    assert mw.unsubscribes == ["angry@a.example"]


@pytest.mark.django_db
def test_it_fails_at_once_when_the_subscriber_is_not_in_the_list(tenant_a, mw):
    config = configure(tenant_a, mw)
    event(tenant_a, "stranger@a.example", "hard_bounce")
    event(tenant_a, "gone@a.example", "hard_bounce")
    mailwizz_feedback_enqueue(config=config)
    result = mailwizz_feedback_send(config=config)
    assert (result.sent, result.failed) == (1, 1)
    stranger = MailWizzOutbox.objects.get(email="stranger@a.example")
    assert stranger.status == "failed" and "not found" in stranger.last_error


@pytest.mark.django_db
def test_it_stops_on_a_refused_key_without_burning_the_other_rows(tenant_a, mw):
    config = configure(tenant_a, mw)
    for email in ("gone@a.example", "twice@a.example", "angry@a.example"):
        event(tenant_a, email, "complaint")
    mailwizz_feedback_enqueue(config=config)
    mw.api_key = "rotated"
    result = mailwizz_feedback_send(config=config)
    assert result.stopped.startswith("access refused")
    assert len(mw.requests) == 1
    assert sorted(MailWizzOutbox.objects.values_list("attempts", flat=True)) == [0, 0, 1]


@pytest.mark.django_db
def test_it_moves_the_watermark_and_the_task_runs_both_steps(tenant_a, mw):
    config = configure(tenant_a, mw)
    first = event(tenant_a, "gone@a.example", "hard_bounce")
    summary = mailwizz_feedback_task(config.pk)
    assert summary["queued"] == 1 and summary["sent"] == 1
    config.refresh_from_db()
    assert config.feedback_watermark == first.pk
    event(tenant_a, "angry@a.example", "complaint")
    assert mailwizz_feedback_task(config.pk)["sent"] == 1
    MailWizzConfig.objects.filter(pk=config.pk).update(enabled=False)
    event(tenant_a, "twice@a.example", "complaint")
    assert mailwizz_feedback_task(config.pk) == {"skipped": True}
    assert mw.unsubscribes == ["angry@a.example"]
