"""Campaign sync: MailWizz campaigns are stored, accounting campaigns get their names, errors are shown."""

from datetime import UTC, datetime

import pytest

from campaigns.models import Campaign
from core.models import AuditEvent
from mailwizz.models import MailWizzCampaign, MailWizzConfig
from mailwizz.selectors import mailwizz_campaign_names
from mailwizz.services import mailwizz_config_save, mailwizz_sync_campaigns, parse_campaign_record
from testsupport.mailwizz_standin import MailWizzStandin


@pytest.fixture(autouse=True)
def short_timeout(settings):
    settings.MAILWIZZ_TIMEOUT = 0.4
    settings.MAILWIZZ_SYNC_PER_PAGE = 2


@pytest.fixture(params=["mw2", "mw1"])
def mw(request, settings):
    # The stand-in listens on 127.0.0.1: an operator has allowed that network (core/outbound.py).
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with MailWizzStandin(api_key="pub", private_key="priv", auth=request.param, slow_seconds=1.5) as standin:
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


def accounting_campaign(tenant, key: str) -> Campaign:
    now = datetime(2025, 7, 1, tzinfo=UTC)
    return Campaign.objects.create(tenant=tenant, key=key, first_seen=now, last_seen=now)


@pytest.mark.django_db
def test_it_stores_campaigns_and_names_the_accounting_campaigns(tenant_a, tenant_b, mw):
    config = configure(tenant_a, mw)
    mw.add_campaign("ab111", name="Spring sale", list_uid="lu1", list_name="Customers", status="sent")
    mw.add_campaign("cd222", name="Newsletter", list_uid="lu2", send_at="2025-07-02 08:30:00")
    mw.add_campaign("ef333", name="Not in accounting", list_uid="lu1")
    by_prefix = accounting_campaign(tenant_a, "mailwizz-ab111")
    exact = accounting_campaign(tenant_a, "cd222")  # header_X-Mw-Campaign-Uid source: the key is the uid
    other_sender = accounting_campaign(tenant_a, "job-42")
    other_tenant = accounting_campaign(tenant_b, "mailwizz-ab111")

    result = mailwizz_sync_campaigns(tenant=tenant_a)

    assert result.ok and result.campaigns == 3 and result.renamed == 2
    stored = {c.uid: c for c in MailWizzCampaign.objects.filter(tenant=tenant_a)}
    assert set(stored) == {"ab111", "cd222", "ef333"}
    assert (stored["ab111"].list_uid, stored["ab111"].list_name, stored["ab111"].status) == (
        "lu1",
        "Customers",
        "sent",
    )
    assert stored["cd222"].send_at == datetime(2025, 7, 2, 8, 30, tzinfo=UTC)
    for campaign, name in (
        (by_prefix, "Spring sale"),
        (exact, "Newsletter"),
        (other_sender, ""),
        (other_tenant, ""),
    ):
        campaign.refresh_from_db()
        assert campaign.name == name
    config.refresh_from_db()
    assert config.last_error == "" and config.last_sync_at and config.last_sync_ok_at == config.last_sync_at
    assert config.campaigns_synced == 3
    assert len(mw.calls("GET", "/campaigns")) == 2  # two pages of two
    assert mailwizz_campaign_names(tenant_id=tenant_a.pk, keys=["mailwizz-ab111", "cd222", "job-42"]) == {
        "mailwizz-ab111": "Spring sale",
        "cd222": "Newsletter",
    }


@pytest.mark.django_db
def test_it_updates_names_on_the_next_sync(tenant_a, mw):
    configure(tenant_a, mw)
    mw.add_campaign("ab111", name="Draft name", list_uid="lu1")
    campaign = accounting_campaign(tenant_a, "mailwizz-ab111")
    mailwizz_sync_campaigns(tenant=tenant_a)
    mw.campaigns["ab111"]["name"] = "Final name"
    mw.campaigns["ab111"]["status"] = "sent"
    assert mailwizz_sync_campaigns(tenant=tenant_a).renamed == 1
    campaign.refresh_from_db()
    assert campaign.name == "Final name"
    assert MailWizzCampaign.objects.get(uid="ab111").status == "sent"


@pytest.mark.django_db
@pytest.mark.parametrize("failure", ["500", "slow", "auth"])
def test_it_records_the_error_and_keeps_what_it_had(tenant_a, mw, failure):
    config = configure(tenant_a, mw)
    mw.add_campaign("ab111", name="Spring sale", list_uid="lu1")
    assert mailwizz_sync_campaigns(tenant=tenant_a).ok
    ok_at = MailWizzConfig.objects.get(pk=config.pk).last_sync_ok_at
    if failure == "auth":
        mw.api_key = "rotated-in-mailwizz"
    else:
        mw.mode = failure

    result = mailwizz_sync_campaigns(tenant=tenant_a)

    assert not result.ok
    expected = {
        "500": "unavailable: HTTP 500",
        "slow": "unavailable: timed out",
        "auth": "access refused",
    }
    assert result.error.startswith(expected[failure])
    config.refresh_from_db()
    assert config.last_error == result.error
    assert config.last_sync_at > ok_at and config.last_sync_ok_at == ok_at
    assert MailWizzCampaign.objects.filter(tenant=tenant_a).count() == 1
    # The next good sync clears the error.
    mw.mode, mw.api_key = "ok", "pub"
    assert mailwizz_sync_campaigns(tenant=tenant_a).ok
    config.refresh_from_db()
    assert config.last_error == ""


@pytest.mark.django_db
def test_it_audits_a_manual_sync_but_not_the_schedule(tenant_a, admin_a, mw):
    configure(tenant_a, mw)
    before = AuditEvent.objects.count()
    mailwizz_sync_campaigns(tenant=tenant_a)
    assert AuditEvent.objects.count() == before
    mailwizz_sync_campaigns(tenant=tenant_a, by=admin_a)
    event = AuditEvent.objects.latest("pk")
    assert event.action == "mailwizz.sync" and event.tenant_id == tenant_a.pk and event.after["ok"] is True


def test_it_reads_campaign_records_leniently():
    assert parse_campaign_record({"name": "no uid"}) is None
    parsed = parse_campaign_record(
        {
            "campaign_uid": "x1",
            "name": "N",
            "list_uid": "l9",
            "send_at": "0000-00-00 00:00:00",
            "date_added": "2025-01-02T03:04:05Z",
        }
    )
    assert parsed["list_uid"] == "l9" and parsed["send_at"] == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_campaign_record({"campaign_uid": "x2", "send_at": "soon"})["send_at"] is None


@pytest.mark.django_db
def test_it_keeps_a_known_list_when_a_listing_omits_it(tenant_a, mw):
    configure(tenant_a, mw)
    mw.add_campaign("ab111", name="Spring sale", list_uid="lu1")
    mailwizz_sync_campaigns(tenant=tenant_a)
    del mw.campaigns["ab111"]["list"]
    mailwizz_sync_campaigns(tenant=tenant_a)
    assert MailWizzCampaign.objects.get(uid="ab111").list_uid == "lu1"
