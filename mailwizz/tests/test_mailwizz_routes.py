"""MailWizz 1.x: the connection test finds which write routes the instance has, and the outbox uses what
is there (1.3.8.3 lacks the bounce and unsubscribe-by-email-from-all-lists routes)."""

import hashlib
from datetime import UTC, datetime

import pytest

from campaigns.models import DeliveryEvent
from mailwizz.models import MailWizzConfig, MailWizzOutbox
from mailwizz.services import (
    mailwizz_config_save,
    mailwizz_connection_test,
    mailwizz_feedback_enqueue,
    mailwizz_feedback_send,
    mailwizz_sync_campaigns,
)
from testsupport.mailwizz_standin import MailWizzStandin

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["1.3.8.3", "2.1.13"])
def mw(request, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.MAILWIZZ_TIMEOUT = 2
    auth = "mw1" if request.param.startswith("1.") else "mw2"
    with MailWizzStandin(api_key="pub", private_key="priv", auth=auth, version=request.param) as standin:
        standin.add_campaign("ab111", name="Spring sale", list_uid="lu1")
        for email in ("gone@a.example", "angry@a.example"):
            standin.add_subscriber("lu1", email)
            standin.add_subscriber("lu2", email)
        yield standin


def _configure(tenant, mw) -> MailWizzConfig:
    return mailwizz_config_save(
        tenant=tenant,
        by="test",
        base_url=mw.url,
        mode=mw.auth,
        api_key="pub",
        private_key="priv" if mw.auth == "mw1" else "",
    )


def _event(tenant, rcpt: str, outcome: str, key: str = "mailwizz-ab111") -> None:
    DeliveryEvent.objects.create(
        time_logged=datetime(2025, 7, 1, 12, tzinfo=UTC),
        type={"hard_bounce": "b", "complaint": "f"}[outcome],
        outcome=outcome,
        rcpt=rcpt,
        rcpt_domain=rcpt.rpartition("@")[2],
        campaign_key=key,
        tenant=tenant,
        fingerprint=hashlib.sha256(rcpt.encode()).hexdigest()[:32],
    )


def test_the_connection_test_finds_the_routes_and_changes_nothing(tenant_a, mw):
    config = _configure(tenant_a, mw)
    result = mailwizz_connection_test(config=config)
    assert result.ok
    config.refresh_from_db()
    old = mw.version.startswith("1.")
    assert config.routes == {"bounce": not old, "unsubscribe_all": not old}
    assert config.routes_checked_at is not None
    if old:
        assert "no POST campaigns/{uid}/bounces route" in result.message
        assert "unsubscribe the address from each of its lists" in result.message
    else:
        assert "use MailWizz's own routes" in result.message
    assert (mw.bounces, mw.unsubscribes, mw.list_unsubscribes) == ([], [], [])


def test_the_outbox_uses_a_route_that_exists(tenant_a, mw):
    config = _configure(tenant_a, mw)  # no connection test: the first push looks itself
    mailwizz_sync_campaigns(tenant=tenant_a)
    _event(tenant_a, "gone@a.example", "hard_bounce")
    _event(tenant_a, "angry@a.example", "complaint")
    assert mailwizz_feedback_enqueue(config=config) == 2
    result = mailwizz_feedback_send(config=config)
    assert (result.sent, result.failed, result.retrying) == (2, 0, 0), result.errors
    assert set(MailWizzOutbox.objects.values_list("status", flat=True)) == {"sent"}
    if mw.version.startswith("1."):
        assert (mw.bounces, mw.unsubscribes) == ([], [])
        assert sorted(mw.list_unsubscribes) == [
            ("lu1", "angry@a.example"),
            ("lu1", "gone@a.example"),  # the bounce: from the campaign's list
            ("lu2", "angry@a.example"),  # the complaint: from every list
        ]
    else:
        assert [b["bounce_type"] for b in mw.bounces] == ["hard"]
        assert mw.unsubscribes == ["angry@a.example"] and mw.list_unsubscribes == []
