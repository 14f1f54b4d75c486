"""Importer-level counting and reporting of the awkward inputs (the parser tests cover parsing itself)."""

from __future__ import annotations

import gzip
import os
import time
from collections import Counter

import pytest
from django.db.models import Sum

from campaigns.accounting import importer
from campaigns.accounting.importer import accounting_import_path
from campaigns.models import AccountingFile, Campaign, DailyStat, DeliveryEvent, ImportRejection, Suppression
from campaigns.tests.factories import HEADER, bounce, csv_text, record, tenant_ip

pytestmark = pytest.mark.django_db


def _write(tmp_path, text: str | bytes, name: str = "acct.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def _records(n: int, **fields: str) -> list[dict[str, str]]:
    return [record(rcpt=f"user{i}@example.org", **fields) for i in range(n)]


def test_reordered_columns_give_the_same_records(tmp_path):
    recs = [*_records(3), bounce("gone@example.org")]
    normal = accounting_import_path(path=_write(tmp_path, csv_text(recs), "a.csv"))
    reordered = accounting_import_path(path=_write(tmp_path, csv_text(recs, header=HEADER[::-1]), "b.csv"))
    assert (normal.imported, normal.by_type) == (4, Counter({"d": 3, "b": 1}))
    assert (reordered.read, reordered.imported, reordered.duplicates) == (4, 0, 4)


def test_extra_header_columns_and_a_header_campaign_source(tmp_path, settings):
    settings.ACCOUNTING_CAMPAIGN_SOURCE = "header_X-Mw-Campaign-Uid"
    header = [*HEADER, "header_x-mw-campaign-uid", "header_Message-Id"]
    recs = [
        record(rcpt="a@example.org", **{"header_x-mw-campaign-uid": "ab12cd", "header_Message-Id": "<1@x>"}),
        record(rcpt="b@example.org", **{"header_x-mw-campaign-uid": "ab12cd"}),
        record(rcpt="c@example.org"),
    ]
    result = accounting_import_path(path=_write(tmp_path, csv_text(recs, header=header)))
    assert result.imported == 3
    assert list(Campaign.objects.values_list("key", flat=True)) == ["ab12cd"]
    campaign = Campaign.objects.get()
    assert DeliveryEvent.objects.filter(campaign=campaign).count() == 2
    assert DeliveryEvent.objects.get(rcpt="a@example.org").message_id == "<1@x>"
    stats = dict(DailyStat.objects.values_list("campaign_key").annotate(n=Sum("delivered")))
    assert stats == {"ab12cd": 2, "": 1}
    assert DailyStat.objects.get(campaign_key="ab12cd").campaign == campaign


def test_epoch_times(tmp_path):
    recs = [record(timeLogged="1752137937", timeQueued="1752137930")]
    result = accounting_import_path(path=_write(tmp_path, csv_text(recs)))
    assert result.imported == 1
    event = DeliveryEvent.objects.get()
    assert event.time_logged.timestamp() == 1752137937
    assert str(DailyStat.objects.get().day) == "2025-07-10"


def test_gzip_files(tmp_path):
    path = tmp_path / "acct-2025-07-10-0000.csv.gz"
    path.write_bytes(gzip.compress(csv_text(_records(5)).encode()))
    assert accounting_import_path(path=path).imported == 5
    assert AccountingFile.objects.get().compressed
    again = accounting_import_path(path=path)
    assert (again.read, again.imported) == (0, 0)


def test_crlf_line_ends(tmp_path):
    path = _write(tmp_path, csv_text(_records(4), newline="\r\n"))
    result = accounting_import_path(path=path)
    assert (result.imported, result.rejected) == (4, 0)
    assert AccountingFile.objects.get().offset == path.stat().st_size


def test_a_truncated_last_line_is_rejected_once_settled_and_final_and_waits_otherwise(tmp_path):
    text = csv_text(_records(3))
    cut = text + "d,2025-07-10 12:00:00+0300,2025-07-10"
    path = _write(tmp_path, cut)
    waiting = accounting_import_path(path=path, final=False)
    assert (waiting.read, waiting.imported, waiting.rejected) == (3, 3, 0)
    assert AccountingFile.objects.get().status == AccountingFile.Status.WAITING
    settled = time.time() - 3600  # not modified for an hour: PMTA is not writing it any more
    os.utime(path, (settled, settled))
    final = accounting_import_path(path=path, final=True)
    assert (final.read, final.imported, final.rejected) == (1, 0, 1)
    assert final.errors == [{"file": str(path), "line": 5, "reason": "expected 23 fields, got 3"}]


def test_a_row_with_too_many_fields_is_rejected_and_the_rest_imported(tmp_path):
    lines = csv_text(_records(4)).splitlines(keepends=True)
    lines[2] = lines[2].rstrip("\n") + ",surplus\n"
    result = accounting_import_path(path=_write(tmp_path, "".join(lines)))
    assert (result.read, result.imported, result.rejected) == (4, 3, 1)
    assert result.errors == [
        {"file": str(tmp_path / "acct.csv"), "line": 3, "reason": "expected 23 fields, got 24"}
    ]
    rejection = ImportRejection.objects.get()
    assert (rejection.line, rejection.reason) == (3, "expected 23 fields, got 24")
    assert rejection.raw.endswith(",surplus")
    source = AccountingFile.objects.get()
    assert (source.records_read, source.imported, source.rejected) == (4, 3, 1)


def test_invalid_utf8_is_rejected_with_its_line(tmp_path):
    raw = csv_text(_records(3)).encode().splitlines(keepends=True)
    raw[2] = raw[2].replace(b"user1", b"us\xffer1")
    result = accounting_import_path(path=_write(tmp_path, b"".join(raw)))
    assert (result.imported, result.rejected) == (2, 1)
    assert result.errors[0]["line"] == 3 and result.errors[0]["reason"] == "rcpt is not valid UTF-8"


def test_bad_values_are_rejected_with_reasons(tmp_path):
    recs = [record(timeLogged="yesterday"), record(type="zz"), record(rcpt="ok@example.org")]
    result = accounting_import_path(path=_write(tmp_path, csv_text(recs)))
    assert result.imported == 1
    assert [(e["line"], e["reason"]) for e in result.errors] == [
        (2, "bad timeLogged 'yesterday'"),
        (3, "unknown record type 'zz'"),
    ]


def test_rejections_kept_and_errors_reported_are_capped(tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "REJECTIONS_KEPT_PER_FILE", 3)
    monkeypatch.setattr(importer, "ERRORS_IN_RESULT", 2)
    recs = [record(type="zz", rcpt=f"u{i}@example.org") for i in range(5)]
    result = accounting_import_path(path=_write(tmp_path, csv_text(recs)))
    assert result.rejected == 5
    assert len(result.errors) == 2 and result.errors_truncated == 3
    assert result.as_dict()["errors_truncated"] == 3
    assert ImportRejection.objects.count() == 3
    assert AccountingFile.objects.get().rejected == 5


def test_success_category_on_a_d_row_is_not_a_bounce(tmp_path):
    recs = [record(bounceCat="success")]
    accounting_import_path(path=_write(tmp_path, csv_text(recs)))
    stat = DailyStat.objects.get()
    assert (stat.delivered, stat.bounces, stat.bounce_categories) == (1, 0, {})


def test_transient_rows_count_as_transient_with_their_categories(tmp_path):
    recs = [
        record(type="t", rcpt="slow@example.org", bounceCat="policy-related", dsnAction="delayed"),
        record(type="t", rcpt="slow@example.org", bounceCat="bad-mailbox", dsnAction="delayed"),
    ]
    accounting_import_path(path=_write(tmp_path, csv_text(recs)))
    stat = DailyStat.objects.get()
    assert (stat.transient, stat.hard_bounces, stat.soft_bounces) == (2, 0, 0)
    assert stat.transient_categories == {"policy-related": 1, "bad-mailbox": 1}
    assert not Suppression.objects.exists()


def test_hard_categories_are_configurable(tmp_path, settings, tenant_a):
    settings.ACCOUNTING_HARD_CATEGORIES = ["quota-issues"]
    tenant_ip(tenant_a, "203.0.113.10")
    recs = [bounce("full@example.org", "quota-issues"), bounce("gone@example.org", "bad-mailbox")]
    accounting_import_path(path=_write(tmp_path, csv_text(recs)))
    outcomes = dict(DeliveryEvent.objects.values_list("rcpt", "outcome"))
    # bad-mailbox is no longer hard by category, but its 5.1.1 diagnostic is not consulted for named
    # categories: only vague ones (''/other) fall back to the text.
    assert outcomes == {"full@example.org": "hard_bounce", "gone@example.org": "soft_bounce"}
    assert list(Suppression.objects.values_list("email", flat=True)) == ["full@example.org"]


def test_complaints_suppress_the_address_for_the_tenant(tmp_path, tenant_a):
    tenant_ip(tenant_a, "203.0.113.10")
    header = ["type", "timeLogged", "feedbackType", "rcpt", "dlvSourceIp", "jobId"]
    recs = [record(type="f", rcpt="Angry@Example.org", feedbackType="abuse")]
    result = accounting_import_path(path=_write(tmp_path, csv_text(recs, header=header)))
    assert result.by_type == Counter({"f": 1})
    suppression = Suppression.objects.get()
    assert (suppression.tenant, suppression.email, suppression.reason) == (
        tenant_a,
        "angry@example.org",
        "complaint",
    )
    assert suppression.source_event == DeliveryEvent.objects.get()
    assert DailyStat.objects.get().complaints == 1


def test_existing_suppressions_are_left_alone(tmp_path, tenant_a):
    from campaigns.tests.factories import SuppressionFactory

    tenant_ip(tenant_a, "203.0.113.10")
    SuppressionFactory(tenant=tenant_a, email="gone@example.org", reason="manual")
    accounting_import_path(path=_write(tmp_path, csv_text([bounce("GONE@example.org")])))
    assert list(Suppression.objects.values_list("email", "reason")) == [("gone@example.org", "manual")]


def test_nul_characters_do_not_stop_the_import(tmp_path):
    recs = [record(dsnDiag="smtp;250 ok\x00weird"), record(rcpt="b@example.org")]
    result = accounting_import_path(path=_write(tmp_path, csv_text(recs)))
    assert result.imported == 2
    assert DeliveryEvent.objects.get(rcpt="anna@example.org").dsn_diag == "smtp;250 okweird"


def test_unknown_ips_attach_to_the_given_server(tmp_path):
    from campaigns.tests.factories import MtaServerFactory

    server = MtaServerFactory()
    accounting_import_path(path=_write(tmp_path, csv_text(_records(1))), server=server)
    event = DeliveryEvent.objects.get()
    assert (event.server, event.tenant, event.ip) == (server, None, None)


def test_a_file_without_header_fails_and_says_why(tmp_path):
    result = accounting_import_path(path=_write(tmp_path, "d,1,2,3\n"))
    assert result.failed_files and "type" in result.failed_files[0]["reason"]
    assert AccountingFile.objects.get().status == AccountingFile.Status.FAILED


def test_a_missing_file_is_reported(tmp_path):
    result = accounting_import_path(path=tmp_path / "nope.csv")
    assert result.failed_files == [
        {"file": str(tmp_path / "nope.csv"), "reason": "No such file or directory"}
    ]


def test_a_category_met_as_hard_soft_and_deferral_is_summed_per_kind(tmp_path):
    # "other" is hard with a missing-mailbox diagnostic and soft without; the same key's deferral with
    # that category counts apart, and its delivered row adds no category.
    recs = [
        bounce("gone@example.org", "other", dsnStatus="5.1.1 (bad destination mailbox address)"),
        bounce(
            "full@example.org",
            "other",
            dsnStatus="5.2.2 (mailbox full)",
            dsnDiag="smtp;552 5.2.2 mailbox full",
        ),
        record(type="t", rcpt="slow@example.org", bounceCat="other", dsnAction="delayed"),
        record(rcpt="ok@example.org"),
    ]
    accounting_import_path(path=_write(tmp_path, csv_text(recs)))
    stat = DailyStat.objects.get()
    assert (stat.delivered, stat.hard_bounces, stat.soft_bounces, stat.transient) == (1, 1, 1, 1)
    assert stat.bounce_categories == {"other": 2}
    assert stat.transient_categories == {"other": 1}
