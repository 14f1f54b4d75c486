"""rb/rs records carry no sending IP: they are credited to the original message's tenant (and campaign)."""

from __future__ import annotations

import json

import pytest

from campaigns.accounting.importer import accounting_import_body, accounting_import_path
from campaigns.models import Campaign, DailyStat, DeliveryEvent, Suppression
from campaigns.tests.factories import csv_text, record, server_with_token, tenant_ip
from domains.models import SendingDomain

pytestmark = pytest.mark.django_db

# The rb columns of UG5 11.2.7: no dlvSourceIp, no jobId.
RB_HEADER = [
    "type",
    "timeLogged",
    "orig",
    "rcpt",
    "orcpt",
    "dsnAction",
    "dsnStatus",
    "dsnDiag",
    "dsnMta",
    "bounceCat",
    "srcType",
    "srcMta",
    "envId",
]


def _rb(rcpt: str, orig: str = "bounce@send.a.example", **fields: str) -> dict[str, str]:
    rb = {
        "type": "rb",
        "timeLogged": "2025-07-11 08:00:00+0000",
        "orig": orig,
        "rcpt": rcpt,
        "dsnAction": "failed",
        "dsnStatus": "5.1.1 (bad destination mailbox address)",
        "dsnDiag": "smtp;550 5.1.1 no such local recipient",
        "dsnMta": "mx.remote.example (192.0.2.50)",
        "bounceCat": "bad-mailbox",
        "srcType": "smtp",
    }
    rb.update(fields)
    return rb


@pytest.fixture
def sent(tenant_a, tenant_b):
    """Tenant A sent to gone@ and moved@, tenant B to moved@ too, each from their own return path."""
    server, _token = server_with_token()
    tenant_ip(tenant_a, "203.0.113.10", server=server)
    tenant_ip(tenant_b, "198.51.100.20", server=server)
    originals = [
        record(rcpt="gone@example.org", orig="bounce@send.a.example", jobId="mailwizz-ab111", envId="env-1"),
        record(rcpt="moved@example.org", orig="bounce@send.a.example", jobId="camp-a"),
        record(
            rcpt="moved@example.org", orig="bounce@send.b.example", dlvSourceIp="198.51.100.20", jobId="b1"
        ),
    ]
    header = [*csv_text([]).strip().split(","), "envId"]
    accounting_import_body(
        server=server, body=csv_text(originals, header=header).encode(), content_type="text/csv"
    )
    return server


def _import_rb(server, records: list[dict[str, str]]):
    return accounting_import_body(
        server=server, body=csv_text(records, header=RB_HEADER).encode(), content_type="text/csv"
    )


def test_a_remote_bounce_is_credited_to_the_original_deliverys_tenant_and_campaign(sent, tenant_a):
    result = _import_rb(sent, [_rb("gone@example.org")])
    assert result.imported == 1
    rb = DeliveryEvent.objects.get(type="rb")
    assert (rb.tenant, rb.outcome, rb.campaign_key) == (tenant_a, "hard_bounce", "mailwizz-ab111")
    assert rb.campaign == Campaign.objects.get(tenant=tenant_a, key="mailwizz-ab111")
    assert Suppression.objects.get(tenant=tenant_a, email="gone@example.org").reason == "hard_bounce"
    stat = DailyStat.objects.get(tenant=tenant_a, day="2025-07-11")
    assert (stat.hard_bounces, stat.campaign_key) == (1, "mailwizz-ab111")
    assert not Campaign.objects.filter(tenant=None).exists()


def test_the_same_recipient_is_told_apart_by_the_original_sender(sent, tenant_a, tenant_b):
    _import_rb(sent, [_rb("moved@example.org", orig="bounce@send.b.example")])
    assert DeliveryEvent.objects.get(type="rb").tenant == tenant_b
    assert list(Suppression.objects.values_list("tenant", flat=True)) == [tenant_b.pk]


def test_the_envelope_id_comes_first(sent, tenant_a):
    # A recipient nobody mailed, but the envelope id of tenant A's message.
    _import_rb(sent, [_rb("forwarded@elsewhere.example", orig="", envId="env-1")])
    rb = DeliveryEvent.objects.get(type="rb")
    assert (rb.tenant, rb.env_id, rb.campaign_key) == (tenant_a, "env-1", "mailwizz-ab111")


def test_without_an_orig_the_recipient_decides_only_when_one_tenant_mailed_it(sent, tenant_a):
    _import_rb(sent, [_rb("gone@example.org", orig=""), _rb("moved@example.org", orig="")])
    tenants = dict(DeliveryEvent.objects.filter(type="rb").values_list("rcpt", "tenant"))
    assert tenants == {"gone@example.org": tenant_a.pk, "moved@example.org": None}


def test_then_the_return_path_domain_a_tenant_owns(sent, tenant_b):
    SendingDomain.objects.create(tenant=tenant_b, name="b.example", return_path_domain="rp.b.example")
    _import_rb(sent, [_rb("never-mailed@example.org", orig="bounces@rp.b.example", dsnStatus="4.2.2")])
    rb = DeliveryEvent.objects.get(type="rb")
    assert (rb.tenant, rb.campaign_key) == (tenant_b, "")


def test_an_rb_nobody_can_be_credited_with_has_no_tenant_and_no_campaign(sent):
    _import_rb(sent, [_rb("stranger@example.org", orig="x@unknown.example", envId="nope")])
    rb = DeliveryEvent.objects.get(type="rb")
    assert (rb.tenant, rb.campaign) == (None, None)
    assert not Suppression.objects.filter(email="stranger@example.org").exists()
    assert not Campaign.objects.filter(tenant=None).exists()


def test_rs_and_a_file_import_are_credited_the_same_way(sent, tenant_a, tmp_path):
    path = tmp_path / "bounces.csv"
    rs = _rb("gone@example.org", type="rs", dsnAction="delayed", dsnStatus="4.4.7", bounceCat="")
    path.write_text(csv_text([rs], header=RB_HEADER))
    assert accounting_import_path(path=path).imported == 1
    event = DeliveryEvent.objects.get(type="rs")
    assert (event.tenant, event.outcome) == (tenant_a, "other")
    assert not Suppression.objects.exists()


def test_an_f_record_without_a_sending_ip_is_credited_by_its_recipient(sent, tenant_a):
    fbl = {
        "type": "f",
        "timeLogged": "2025-07-11 09:00:00+0000",
        "feedbackType": "abuse",
        "format": "arf",
        "rcpt": "gone@example.org",
        "orig": "bounce@send.a.example",
    }
    body = json.dumps([fbl]).encode()
    assert accounting_import_body(server=sent, body=body, content_type="application/json").imported == 1
    event = DeliveryEvent.objects.get(type="f")
    assert (event.tenant, event.outcome) == (tenant_a, "complaint")


def test_a_hard_rb_goes_to_mailwizz_like_a_b(sent, tenant_a, settings):
    from mailwizz.services import (
        mailwizz_config_save,
        mailwizz_feedback_enqueue,
        mailwizz_feedback_send,
        mailwizz_sync_campaigns,
    )
    from testsupport.mailwizz_standin import MailWizzStandin

    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.MAILWIZZ_TIMEOUT = 2
    with MailWizzStandin(api_key="pub", private_key="", auth="mw2") as mw:
        mw.add_campaign("ab111", name="Spring sale", list_uid="lu1")
        mw.add_subscriber("lu1", "gone@example.org")
        config = mailwizz_config_save(tenant=tenant_a, by="test", base_url=mw.url, mode="mw2", api_key="pub")
        mailwizz_sync_campaigns(tenant=tenant_a)
        _import_rb(sent, [_rb("gone@example.org")])
        assert mailwizz_feedback_enqueue(config=config) == 1
        assert mailwizz_feedback_send(config=config).sent == 1
        assert [(b["campaign_uid"], b["bounce_type"]) for b in mw.bounces] == [("ab111", "hard")]
