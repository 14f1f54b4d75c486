"""The importer's fast path: COPY text, pre-reserved event ids, the writer thread and its fallbacks."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Sum

from campaigns.accounting import importer
from campaigns.accounting.importer import accounting_import_body, accounting_import_path
from campaigns.accounting.stage import STAGE_COLUMNS, copy_data
from campaigns.models import AccountingFile, Campaign, DailyStat, DailyTenantStat, DeliveryEvent
from campaigns.tests.factories import bounce, csv_text, record, server_with_token, tenant_ip


def _row(**values: str) -> tuple:
    base = dict.fromkeys(STAGE_COLUMNS, "")
    base.update(values)
    return tuple(base.values())


def test_plain_rows_are_joined_without_quoting():
    rows = [_row(rcpt="a@example.org", dsn_diag='smtp;550 5.1.1 "user unknown", sorry')]
    data = copy_data(rows, range(7, 8))
    assert data == "\t".join(rows[0]) + "\t7\n"


def test_only_rows_with_tabs_line_breaks_or_the_quote_character_are_quoted():
    plain = _row(rcpt="plain@example.org")
    awkward = _row(rcpt="odd@example.org", dsn_diag="line one\nline\ttwo\r\x01end")
    lines = copy_data([plain, awkward], [3, 9]).splitlines(keepends=True)
    assert lines[0] == "\t".join(plain) + "\t3\n"
    assert "\x01line one\nline\ttwo\r\x01\x01end\x01" in "".join(lines[1:])


@pytest.mark.django_db
def test_awkward_values_arrive_intact_and_nul_is_dropped(tmp_path):
    diag = 'smtp;550 "quoted", with\ttab\nand newline \x01 and \\ backslash'
    path = tmp_path / "acct.csv"
    path.write_text(csv_text([record(rcpt="x@example.org", dsnDiag=diag + "\x00")]))
    result = accounting_import_path(path=path)
    assert (result.imported, result.rejected) == (1, 0)
    assert DeliveryEvent.objects.get().dsn_diag == diag


@pytest.mark.django_db
def test_long_values_are_kept_and_the_diagnostic_is_cut_at_500(tmp_path):
    rcpt = "a" * 300 + "@example.org"
    path = tmp_path / "acct.csv"
    path.write_text(csv_text([record(rcpt=rcpt, dsnDiag="x" * 2000, jobId="j" * 200)]))
    assert accounting_import_path(path=path).imported == 1
    event = DeliveryEvent.objects.get()
    assert (event.rcpt, len(event.dsn_diag), len(event.campaign_key)) == (rcpt, 500, 200)
    assert Campaign.objects.get().key == "j" * 200


@pytest.mark.django_db
def test_the_same_record_twice_in_one_body_is_counted_once():
    server, _token = server_with_token()
    body = csv_text([record(rcpt="twice@example.org"), record(rcpt="twice@example.org")]).encode()
    result = accounting_import_body(server=server, body=body, content_type="text/csv")
    assert (result.read, result.imported, result.duplicates) == (2, 1, 1)
    assert DailyStat.objects.aggregate(n=Sum("delivered"))["n"] == 1


@pytest.mark.django_db
def test_rows_of_another_importer_between_our_ids_are_not_counted_as_ours(tmp_path, monkeypatch):
    """When ids are not one range (another importer took some in between), only ours are aggregated."""
    original = importer._Writer._event_ids

    def scattered(self, cursor, count):
        lo, _hi, _ = original(self, cursor, count * 2)
        ids = list(range(lo, lo + count * 2, 2))
        # Someone else's event, committed, on an id inside our range.
        DeliveryEvent.objects.create(
            id=lo + 1, time_logged="2025-07-10T08:00:00Z", type="d", outcome="delivered",
            rcpt="other@example.org", fingerprint="00000000000000000000000000000001",
        )  # fmt: skip
        return ids[0], ids[-1], ids

    monkeypatch.setattr(importer._Writer, "_event_ids", scattered)
    path = tmp_path / "acct.csv"
    path.write_text(csv_text([record(rcpt=f"u{i}@example.org") for i in range(5)]))
    result = accounting_import_path(path=path)
    assert (result.imported, result.duplicates) == (5, 0)
    assert DeliveryEvent.objects.count() == 6
    assert DailyStat.objects.aggregate(n=Sum("delivered"))["n"] == 5


@pytest.mark.django_db
def test_campaigns_first_met_in_a_batch_get_their_ids_and_times(tmp_path):
    path = tmp_path / "acct.csv"
    path.write_text(
        csv_text(
            [
                record(jobId="new-1", timeLogged="2025-07-10 10:00:00+0000"),
                record(jobId="new-1", timeLogged="2025-07-10 12:00:00+0000", rcpt="b@example.org"),
                record(jobId="new-2"),
            ]
        )
    )
    accounting_import_path(path=path, batch_size=2)
    first = Campaign.objects.get(key="new-1")
    assert (first.first_seen.hour, first.last_seen.hour) == (10, 12)
    assert set(DeliveryEvent.objects.values_list("campaign__key", flat=True)) == {"new-1", "new-2"}
    assert not DailyStat.objects.filter(campaign_key__startswith="new", campaign=None).exists()


@pytest.mark.django_db(transaction=True)
def test_a_file_imported_with_the_writer_thread_gives_the_same_totals(tmp_path):
    from tenants.models import Tenant

    tenant = Tenant.objects.create(name="T", slug="t")
    tenant_ip(tenant, "203.0.113.10")
    records = [record(rcpt=f"u{i}@example.org", jobId=f"job-{i % 3}") for i in range(20)]
    records += [bounce(f"gone{i}@example.org") for i in range(4)]
    path = tmp_path / "acct.csv"
    path.write_text(csv_text(records))
    assert not connection.in_atomic_block  # so the import runs its writer thread
    result = accounting_import_path(path=path, batch_size=5)
    assert (result.read, result.imported, result.rejected) == (24, 24, 0)
    assert result.suppressed == 4
    totals = DailyStat.objects.aggregate(d=Sum("delivered"), h=Sum("hard_bounces"))
    assert totals == {"d": 20, "h": 4}
    source = AccountingFile.objects.get()
    assert (source.imported, source.offset, source.status) == (24, path.stat().st_size, "done")
    # The rollup trigger follows the daily stats the batches wrote: same numbers.
    rollup = DailyTenantStat.objects.get(tenant_id=tenant.pk)
    assert (rollup.delivered, rollup.hard_bounces, rollup.bounce_categories) == (20, 4, {"bad-mailbox": 4})


class Crash(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_a_failure_in_the_writer_thread_reaches_the_caller_and_the_import_resumes(tmp_path, monkeypatch):
    original = importer._Writer._write_once
    calls = {"n": 0}

    def write_once(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise Crash("disk full")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(importer._Writer, "_write_once", write_once)
    path = tmp_path / "acct.csv"
    path.write_text(csv_text([record(rcpt=f"u{i}@example.org") for i in range(12)]))
    with pytest.raises(Crash):
        accounting_import_path(path=path, batch_size=4)
    assert DeliveryEvent.objects.count() == 4  # the first batch only
    monkeypatch.undo()
    result = accounting_import_path(path=path, batch_size=4)
    assert (result.read, result.imported, result.duplicates) == (8, 8, 0)
    assert DailyStat.objects.aggregate(n=Sum("delivered"))["n"] == 12


@pytest.mark.django_db
def test_campaign_times_follow_later_batches_and_other_imports(tmp_path):
    first = tmp_path / "a.csv"
    first.write_text(csv_text([record(jobId="c", timeLogged="2025-07-10 10:00:00+0000")]))
    second = tmp_path / "b.csv"
    second.write_text(
        csv_text(
            [
                record(jobId="c", timeLogged="2025-07-09 08:00:00+0000", rcpt="early@example.org"),
                record(jobId="c", timeLogged="2025-07-11 18:00:00+0000", rcpt="late@example.org"),
            ]
        )
    )
    accounting_import_path(path=first)
    accounting_import_path(path=second)
    campaign = Campaign.objects.get(key="c")
    assert (campaign.first_seen.isoformat(), campaign.last_seen.isoformat()) == (
        "2025-07-09T08:00:00+00:00",
        "2025-07-11T18:00:00+00:00",
    )


@pytest.mark.django_db
def test_a_bad_campaign_source_setting_fails_the_file_clearly_and_loses_nothing(tmp_path, settings):
    path = tmp_path / "acct.csv"
    path.write_text(csv_text([record(rcpt="a@example.org")]))
    settings.ACCOUNTING_CAMPAIGN_SOURCE = "subject"
    result = accounting_import_path(path=path)
    assert result.imported == 0
    assert "campaign source must be jobId, envId or header_<Name>" in result.failed_files[0]["reason"]
    settings.ACCOUNTING_CAMPAIGN_SOURCE = "jobId"
    assert accounting_import_path(path=path).imported == 1
